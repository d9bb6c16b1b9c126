#!/usr/bin/env bash
# Starts Boxwood: the Electron desktop app, or — where the Electron binary is not
# installed — the same UI in a browser via `boxwood serve`.
set -euo pipefail
cd "$(dirname "$0")"
scripts/ensure-deps.sh
node --import tsx scripts/build.ts all >/dev/null
electron_bin=$(node -e "try{const p=require('electron');process.stdout.write(typeof p==='string'?p:'')}catch{}" 2>/dev/null || true)
if [ -n "$electron_bin" ] && [ -x "$electron_bin" ]; then
  exec "$electron_bin" dist/electron/main.cjs "$@"
fi
echo "The Electron binary is not installed here (its download is not available), so Boxwood starts in browser mode."
echo "Open the URL below in a browser on this machine."
exec bin/boxwood serve "$@"
