#!/usr/bin/env bash
# Installs Prometheus from Debian's package, for the NodeUtilization integration test
# (test/integration/nodeUtilization.test.ts starts its own server on loopback with a generated config; the
# package's service is not used). Idempotent: exits at once when a prometheus binary is on PATH.
#
# Usage: test/cluster/prometheus.sh [--print-path]
#   --print-path  print the prometheus binary's path (empty when missing) and exit (installs nothing)
set -euo pipefail

if [[ "${1:-}" == "--print-path" ]]; then
  command -v prometheus || true
  exit 0
fi
if [[ $# -gt 0 ]]; then
  echo "prometheus.sh: unknown argument: $1" >&2
  exit 2
fi

log() { echo "[berth-prometheus $(date +%H:%M:%S)] $*"; }

if command -v prometheus >/dev/null 2>&1; then
  log "present: $(command -v prometheus) ($(prometheus --version 2>&1 | head -n1))"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "prometheus.sh: Prometheus is missing and installing it needs root: run 'apt-get install -y prometheus' (or put a prometheus binary on PATH) and rerun" >&2
  exit 1
fi
# Two installs at once (CI's explicit run and the test's own) would fight over dpkg's lock: take turns.
exec 9>/tmp/berth-prometheus-install.lock
flock 9
if command -v prometheus >/dev/null 2>&1; then
  log "present: $(command -v prometheus) (installed by a concurrent run)"
  exit 0
fi
log "apt-get update"
DEBIAN_FRONTEND=noninteractive apt-get update -qq
# Without recommends: no node-exporter or alertmanager; the test serves node-exporter's metrics itself.
log "apt-get install prometheus"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
log "installed: $(command -v prometheus) ($(prometheus --version 2>&1 | head -n1))"
