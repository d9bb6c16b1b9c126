#!/usr/bin/env bash
# Runs the whole Boxwood test suite from a fresh clone: installs what it needs
# (npm packages; Debian packages when run as root), then every suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/ensure-deps.sh --with-system-packages
exec node --import tsx scripts/test-all.ts "$@"
