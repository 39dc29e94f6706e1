#!/usr/bin/env bash
# Installs Prometheus from Debian's package, for the NodeUtilization and dashboards integration tests (they start
# their own server on loopback with a generated config; the package's service is not used). Idempotent.
#
# Usage: test/cluster/prometheus.sh [--print-path]
#   --print-path  print the prometheus binary's path (empty when missing) and exit (installs nothing)
set -euo pipefail
source "$(dirname "$0")/debian-package.sh"
# Without recommends: no node-exporter or alertmanager; the tests serve node-exporter's metrics themselves.
debian_package_main prometheus prometheus "without node-exporter or alertmanager" "$@"
