// Reads quantities (one JSON string per line) and prints how k8s.io/apimachinery parses each, as the API server
// decodes a JSON quantity (Quantity.UnmarshalJSON: strings.TrimSpace, then ParseQuantity):
//
//	err                      ParseQuantity failed
//	ok <mantissa> <exp10>    the value is mantissa × 10^exp10 (Quantity.AsCanonicalBytes)
//
// Built by test/kube/quantityGo.test.ts against the module cache; not part of berth.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		var s string
		if err := json.Unmarshal(in.Bytes(), &s); err != nil {
			fmt.Fprintln(os.Stderr, "bad input line:", err)
			os.Exit(2)
		}
		q, err := resource.ParseQuantity(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintln(out, "err")
			continue
		}
		mantissa, exp := q.AsCanonicalBytes(nil)
		fmt.Fprintf(out, "ok %s %d\n", mantissa, exp)
	}
}
