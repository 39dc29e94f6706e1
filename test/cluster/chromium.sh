#!/usr/bin/env bash
# Installs Chromium from Debian's package, for the HTML report test (test/integration/simulateHtml.test.ts renders
# `berth simulate --output html` headless: --dump-dom and --screenshot). Idempotent: exits at once when a chromium
# binary is on PATH.
#
# Usage: test/cluster/chromium.sh [--print-path]
#   --print-path  print the chromium binary's path (empty when missing) and exit (installs nothing)
set -euo pipefail

if [[ "${1:-}" == "--print-path" ]]; then
  command -v chromium || true
  exit 0
fi
if [[ $# -gt 0 ]]; then
  echo "chromium.sh: unknown argument: $1" >&2
  exit 2
fi

log() { echo "[berth-chromium $(date +%H:%M:%S)] $*"; }

if command -v chromium >/dev/null 2>&1; then
  log "present: $(command -v chromium)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "chromium.sh: Chromium is missing and installing it needs root: run 'apt-get install -y chromium' (or put a chromium binary on PATH) and rerun" >&2
  exit 1
fi
# Two installs at once (CI's explicit run and the test's own) would fight over dpkg's lock: take turns.
exec 9>/tmp/berth-chromium-install.lock
flock 9
if command -v chromium >/dev/null 2>&1; then
  log "present: $(command -v chromium) (installed by a concurrent run)"
  exit 0
fi
log "apt-get update"
DEBIAN_FRONTEND=noninteractive apt-get update -qq
# Without recommends: no fonts beyond the minimum, no extra locales; the page uses the default sans-serif font.
log "apt-get install chromium"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 chromium
log "installed: $(command -v chromium)"
