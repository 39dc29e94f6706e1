#!/usr/bin/env bash
# Builds the control-plane binaries berth's integration tests run, from Go modules, with the machine's Go:
#   kube-apiserver, kube-scheduler (upstream baseline), kube-controller-manager (PV controller), kubectl, etcd, kwok, helm.
# Versions come from test/cluster/versions.env (the one place they are pinned).
# Binaries land in ${BERTH_CACHE_DIR:-$HOME/.cache/berth}/control-plane/<k8s-version>-<hash of versions.env>/bin/.
# Idempotent: a run with every binary present exits at once.
#
# Usage: test/cluster/build.sh [--print-bin-dir] [--regen]
#   --print-bin-dir  print the binary directory and exit (builds nothing)
#   --regen          regenerate test/cluster/go/go.mod and go/etcd/go.mod from versions.env (also done
#                    automatically when the Kubernetes / etcd versions in them differ from versions.env)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSIONS_FILE="$HERE/versions.env"
set -a
# shellcheck source=versions.env
. "$VERSIONS_FILE"
set +a
: "${KUBERNETES_VERSION:?missing in versions.env}" "${ETCD_VERSION:?missing in versions.env}"
: "${KWOK_VERSION:?missing in versions.env}" "${HELM_VERSION:?missing in versions.env}"

VERSIONS_HASH="$(sha256sum "$VERSIONS_FILE" | cut -c1-12)"
CACHE_ROOT="${BERTH_CACHE_DIR:-$HOME/.cache/berth}/control-plane"
OUT_DIR="$CACHE_ROOT/${KUBERNETES_VERSION}-${VERSIONS_HASH}"
BIN_DIR="$OUT_DIR/bin"
BINARIES=(kube-apiserver kube-scheduler kube-controller-manager kubectl etcd kwok helm)
# kwok's Stage manifests (node-initialize, node heartbeat with lease, pod ready/complete/delete) from the same tag,
# which kwok run out of cluster needs as --config.
KWOK_STAGES_DIR="$OUT_DIR/kwok-stages"

REGEN=0
for arg in "$@"; do
  case "$arg" in
    --print-bin-dir) echo "$BIN_DIR"; exit 0 ;;
    --regen) REGEN=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

START_ALL=$SECONDS
log() { echo "[berth-cluster-build $(date +%H:%M:%S) +$((SECONDS - START_ALL))s] $*"; }

missing_binaries() {
  local b
  for b in "${BINARIES[@]}"; do
    [[ -x "$BIN_DIR/$b" ]] || echo "$b"
  done
  [[ -f "$KWOK_STAGES_DIR/pod-ready.yaml" ]] || echo kwok-stages
}

if [[ $REGEN -eq 0 && -z "$(missing_binaries)" ]]; then
  log "all control-plane binaries present in $BIN_DIR"
  exit 0
fi

mkdir -p "$BIN_DIR"
# One build at a time per cache (CI's explicit run and the vitest global setup may race).
exec 9>"$CACHE_ROOT/.build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE_ROOT/.build.lock; waiting"
  flock 9
fi
if [[ $REGEN -eq 0 && -z "$(missing_binaries)" ]]; then
  log "all control-plane binaries present in $BIN_DIR (built by a concurrent run)"
  exit 0
fi

# ---------- prerequisites ----------
apt_updated=0
apt_install() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "build.sh: need apt packages ($*) but not root; install them and rerun" >&2
    exit 1
  fi
  if [[ $apt_updated -eq 0 ]]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}
# openssl: certificates in tools/devcluster; flock/sha256sum: this script; ca-certificates: module downloads.
need_pkgs=()
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v flock >/dev/null 2>&1 || need_pkgs+=(util-linux)
[[ -e /etc/ssl/certs/ca-certificates.crt ]] || need_pkgs+=(ca-certificates)
if [[ ${#need_pkgs[@]} -gt 0 ]]; then apt_install "${need_pkgs[@]}"; fi

if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin /usr/lib/go/bin; do [[ -x "$d/go" ]] && export PATH="$d:$PATH" && break; done
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go toolchain not found (need Go >= the 'go' line of k8s.io/kubernetes $KUBERNETES_VERSION)" >&2
  exit 1
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
GO_VERSION="$(go env GOVERSION)"
log "using $GO_VERSION ($(command -v go)), GOMODCACHE=$(go env GOMODCACHE)"

# version_ge A B: true when Go version A >= B (both like 1.26.0 / go1.26.8).
version_ge() {
  local a="${1#go}" b="${2#go}"
  [[ "$(printf '%s\n%s\n' "$a" "$b" | sort -V | head -n1)" == "$b" ]]
}

module_gomod() { # module@version -> path of its go.mod in the module cache (downloads it)
  go mod download -json "$1" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p'
}

require_go_line() { # module@version gomod-path
  local need
  need="$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$2" | head -n1)"
  if ! version_ge "$GO_VERSION" "$need"; then
    echo "build.sh: $1 needs go $need but the machine has $GO_VERSION (GOTOOLCHAIN=local); pick an older tag in versions.env" >&2
    exit 1
  fi
}

# ---------- go.mod generation from versions.env ----------
GO_DIR="$HERE/go"
K8S_GOMOD="$(module_gomod "k8s.io/kubernetes@$KUBERNETES_VERSION")"
require_go_line "k8s.io/kubernetes@$KUBERNETES_VERSION" "$K8S_GOMOD"

k8s_etcd="$(sed -n 's/^\s*go.etcd.io\/etcd\/server\/v3 \(v[^ ]*\).*/\1/p' "$K8S_GOMOD" | head -n1)"
if [[ "$k8s_etcd" != "$ETCD_VERSION" ]]; then
  echo "build.sh: versions.env ETCD_VERSION=$ETCD_VERSION but k8s.io/kubernetes $KUBERNETES_VERSION requires go.etcd.io/etcd/server/v3 $k8s_etcd" >&2
  exit 1
fi

# The version our module requires (a require line, not a replace line).
required_version() { # go.mod-path module
  sed -n "s|^\\(require \\)\\?\\s*$2 \\(v[^ ]*\\)\\( // indirect\\)\\?\$|\\2|p" "$1" 2>/dev/null | head -n1 || true
}
current_k8s="$(required_version "$GO_DIR/go.mod" k8s.io/kubernetes)"
current_etcd="$(required_version "$GO_DIR/etcd/go.mod" go.etcd.io/etcd/server/v3)"

# etcd first: its go.mod must exist before the parent module is tidied, or tidy would take
# go/etcd/main.go as part of the parent module.
if [[ $REGEN -eq 1 || "$current_etcd" != "$ETCD_VERSION" ]]; then
  log "generating $GO_DIR/etcd/go.mod for go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  ETCD_GOMOD="$(module_gomod "go.etcd.io/etcd/server/v3@$ETCD_VERSION")"
  require_go_line "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$ETCD_GOMOD"
  {
    echo "// Generated by test/cluster/build.sh from test/cluster/versions.env; do not edit by hand."
    echo "module berth.local/testcluster/etcd"
    echo
    sed -n 's/^go \(.*\)/go \1/p' "$ETCD_GOMOD" | head -n1
    echo
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  } > "$GO_DIR/etcd/go.mod"
  rm -f "$GO_DIR/etcd/go.sum"
  (cd "$GO_DIR/etcd" && go mod tidy)
fi

if [[ $REGEN -eq 1 || "$current_k8s" != "$KUBERNETES_VERSION" ]]; then
  log "generating $GO_DIR/go.mod for k8s.io/kubernetes $KUBERNETES_VERSION"
  staging_version="v0.${KUBERNETES_VERSION#v1.}"
  mapfile -t staging < <(sed -n '/^replace (/,/^)/p' "$K8S_GOMOD" | sed -n 's|^\s*\(k8s.io/[^ ]*\) => ./staging/.*|\1|p')
  if [[ ${#staging[@]} -eq 0 ]]; then
    echo "build.sh: found no staging replace block in $K8S_GOMOD" >&2
    exit 1
  fi
  {
    echo "// Generated by test/cluster/build.sh from test/cluster/versions.env; do not edit by hand."
    echo "// Every staging module k8s.io/<name> is replaced by its published k8s.io/<name> $staging_version,"
    echo "// taken from the replace block of k8s.io/kubernetes $KUBERNETES_VERSION's own go.mod."
    echo "module berth.local/testcluster"
    echo
    sed -n 's/^go \(.*\)/go \1/p' "$K8S_GOMOD" | head -n1
    echo
    grep '^godebug ' "$K8S_GOMOD" || true
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    for m in "${staging[@]}"; do printf '\t%s => %s %s\n' "$m" "$m" "$staging_version"; done
    echo ")"
  } > "$GO_DIR/go.mod"
  rm -f "$GO_DIR/go.sum"
  (cd "$GO_DIR" && go mod tidy)
fi

# ---------- builds ----------
TMP_BIN="$OUT_DIR/tmp-bin"
rm -rf "$TMP_BIN"
mkdir -p "$TMP_BIN"
ticker_pid=""
stop_ticker() { if [[ -n "$ticker_pid" ]]; then kill "$ticker_pid" 2>/dev/null || true; wait "$ticker_pid" 2>/dev/null || true; ticker_pid=""; fi; }
trap 'stop_ticker; rm -rf "$TMP_BIN"' EXIT

# build_one NAME DIR CMD...: runs CMD in DIR (it must write $TMP_BIN/NAME), prints progress, installs atomically.
build_one() {
  local name="$1" dir="$2"
  shift 2
  if [[ -x "$BIN_DIR/$name" ]]; then
    log "$name: present, skipping"
    return 0
  fi
  local start=$SECONDS
  log "$name: building"
  ( while sleep 30; do log "$name: still building ($((SECONDS - start))s)"; done ) &
  ticker_pid=$!
  if ! (cd "$dir" && "$@"); then
    stop_ticker
    log "$name: FAILED after $((SECONDS - start))s"
    exit 1
  fi
  stop_ticker
  mv -f "$TMP_BIN/$name" "$BIN_DIR/$name"
  log "$name: built in $((SECONDS - start))s ($(du -h "$BIN_DIR/$name" | cut -f1))"
}

K8S_MINOR="${KUBERNETES_VERSION#v1.}"
K8S_MINOR="${K8S_MINOR%%.*}"
BUILD_DATE="$(date -u +'%Y-%m-%dT%H:%M:%SZ')"
k8s_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ldflags+=" -X '$pkg.gitVersion=$KUBERNETES_VERSION' -X '$pkg.gitMajor=1' -X '$pkg.gitMinor=$K8S_MINOR'"
  k8s_ldflags+=" -X '$pkg.gitTreeState=clean' -X '$pkg.buildDate=$BUILD_DATE'"
done

GO_BUILD=(go build -p 2 -trimpath -mod=readonly)

log "downloading Go modules for k8s.io/kubernetes $KUBERNETES_VERSION"
(cd "$GO_DIR" && go mod download)
log "modules downloaded"

build_one kube-apiserver "$GO_DIR" "${GO_BUILD[@]}" -ldflags "$k8s_ldflags" -o "$TMP_BIN/kube-apiserver" ./cmd/kube-apiserver
build_one kube-scheduler "$GO_DIR" "${GO_BUILD[@]}" -ldflags "$k8s_ldflags" -o "$TMP_BIN/kube-scheduler" ./cmd/kube-scheduler
build_one kube-controller-manager "$GO_DIR" "${GO_BUILD[@]}" -ldflags "$k8s_ldflags" -o "$TMP_BIN/kube-controller-manager" ./cmd/kube-controller-manager
build_one kubectl "$GO_DIR" "${GO_BUILD[@]}" -ldflags "$k8s_ldflags" -o "$TMP_BIN/kubectl" ./cmd/kubectl
build_one etcd "$GO_DIR/etcd" "${GO_BUILD[@]}" -ldflags "-s -w" -o "$TMP_BIN/etcd" .

KWOK_GOMOD="$(module_gomod "sigs.k8s.io/kwok@$KWOK_VERSION")"
require_go_line "sigs.k8s.io/kwok@$KWOK_VERSION" "$KWOK_GOMOD"
build_one kwok "$HERE" env GOBIN="$TMP_BIN" go install -p 2 -trimpath \
  -ldflags "-s -w -X 'sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}'" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

if [[ ! -f "$KWOK_STAGES_DIR/pod-ready.yaml" ]]; then
  kwok_src="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$KWOK_STAGES_DIR.tmp"
  cp "$kwok_src/kustomize/stage/node/fast/node-initialize.yaml" \
     "$kwok_src/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
     "$kwok_src"/kustomize/stage/pod/fast/pod-*.yaml "$KWOK_STAGES_DIR.tmp/"
  chmod 644 "$KWOK_STAGES_DIR.tmp"/*.yaml
  rm -rf "$KWOK_STAGES_DIR"
  mv "$KWOK_STAGES_DIR.tmp" "$KWOK_STAGES_DIR"
  log "kwok stages copied to $KWOK_STAGES_DIR ($(ls "$KWOK_STAGES_DIR" | tr '\n' ' '))"
fi

HELM_GOMOD="$(module_gomod "helm.sh/helm/v3@$HELM_VERSION")"
require_go_line "helm.sh/helm/v3@$HELM_VERSION" "$HELM_GOMOD"
helm_k8s="$(sed -n 's/^\s*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$HELM_GOMOD" | head -n1)"
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
if [[ -n "$helm_k8s" ]]; then
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$helm_k8s"
  done
fi
build_one helm "$HERE" env GOBIN="$TMP_BIN" go install -p 2 -trimpath -ldflags "$helm_ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"

{
  echo "KUBERNETES_VERSION=$KUBERNETES_VERSION"
  echo "ETCD_VERSION=$ETCD_VERSION"
  echo "KWOK_VERSION=$KWOK_VERSION"
  echo "HELM_VERSION=$HELM_VERSION"
  echo "GO_VERSION=$GO_VERSION"
} > "$OUT_DIR/versions.txt"
log "$("$BIN_DIR/kube-apiserver" --version 2>&1 | head -n1); all binaries in $BIN_DIR (total $((SECONDS - START_ALL))s)"
