#!/usr/bin/env bash
# Installs Chromium from Debian's package, for the HTML report test (test/integration/simulateHtml.test.ts renders
# `berth simulate --output html` headless: --dump-dom and --screenshot). Idempotent.
#
# Usage: test/cluster/chromium.sh [--print-path]
#   --print-path  print the chromium binary's path (empty when missing) and exit (installs nothing)
set -euo pipefail
source "$(dirname "$0")/debian-package.sh"
# Without recommends: no fonts beyond the minimum, no extra locales; the page uses the default sans-serif font.
debian_package_main chromium chromium "minimal fonts, no extra locales" "$@"
