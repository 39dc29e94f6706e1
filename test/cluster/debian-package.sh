#!/usr/bin/env bash
# Installs one Debian package that an integration test starts as a real component (Prometheus, Chromium), without
# its recommends. Idempotent: exits at once when the binary is on PATH. Sourced by the per-tool scripts beside it,
# which set BINARY, PACKAGE and WHY, and handle --print-path.
set -euo pipefail

install_debian_package() {
  local binary=$1 package=$2 why=$3
  log() { echo "[berth-$binary $(date +%H:%M:%S)] $*"; }
  if command -v "$binary" >/dev/null 2>&1; then
    log "present: $(command -v "$binary")"
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "$binary: missing, and installing it needs root: run 'apt-get install -y $package' (or put a $binary binary on PATH) and rerun" >&2
    return 1
  fi
  # Two installs at once (CI's explicit run and the test's own) would fight over dpkg's lock: take turns.
  exec 9>"/tmp/berth-$binary-install.lock"
  flock 9
  if command -v "$binary" >/dev/null 2>&1; then
    log "present: $(command -v "$binary") (installed by a concurrent run)"
    return 0
  fi
  log "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  log "apt-get install $package ($why)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$package"
  log "installed: $(command -v "$binary")"
}

# Usage from a per-tool script: debian_package_main BINARY PACKAGE WHY "$@"
debian_package_main() {
  local binary=$1 package=$2 why=$3
  shift 3
  if [[ "${1:-}" == "--print-path" ]]; then
    command -v "$binary" || true
    return 0
  fi
  if [[ $# -gt 0 ]]; then
    echo "$binary.sh: unknown argument: $1" >&2
    return 2
  fi
  install_debian_package "$binary" "$package" "$why"
}
