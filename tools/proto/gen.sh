#!/usr/bin/env bash
# Regenerates berth's protobuf code for the Kubernetes wire format (npm run gen:proto). Needs Go and the pinned
# k8s.io/api and k8s.io/apimachinery modules (go.mod in tools/proto/jsonrules); the output is committed, so neither
# a build nor `npm ci` runs this.
#   1. copies the pinned .proto files from the Go module cache into proto/ (K8S_API_VERSION, default v0.37.2);
#   2. protoc-gen-es (through buf) writes message types and descriptors into src/adapters/live/proto/gen;
#   3. tools/proto/jsonrules writes src/adapters/live/proto/jsonRules.ts from the Go types' json tags.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${K8S_API_VERSION:-v0.37.2}"
export GOFLAGS=-mod=mod GOSUMDB=off
mod="$(go env GOMODCACHE)/k8s.io"
if [[ -d "$mod/api@$version" ]]; then
  for p in core/v1 events/v1; do
    install -D -m 644 "$mod/api@$version/$p/generated.proto" "proto/k8s.io/api/$p/generated.proto"
  done
  for p in pkg/apis/meta/v1 pkg/api/resource pkg/runtime pkg/runtime/schema pkg/util/intstr; do
    install -D -m 644 "$mod/apimachinery@$version/$p/generated.proto" "proto/k8s.io/apimachinery/$p/generated.proto"
  done
else
  echo "k8s.io/api@$version is not in the Go module cache: keeping the .proto files in proto/" >&2
fi
npx buf generate
(cd tools/proto/jsonrules && go run .) > src/adapters/live/proto/jsonRules.ts
echo "generated src/adapters/live/proto/gen and src/adapters/live/proto/jsonRules.ts from k8s.io/api $version"
