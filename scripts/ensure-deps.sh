#!/usr/bin/env bash
# Installs Boxwood's dependencies if they are missing or stale. Works offline
# except for the npm registry and Debian's apt. The Electron binary is never
# downloaded (it cannot be here); Boxwood falls back to browser mode without it.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1

stamp=node_modules/.boxwood-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "Installing npm packages (npm ci)…"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

if [ "${1:-}" = "--with-system-packages" ]; then
  # Debian packages the tests use: reference machine and image tools, the second
  # firmware, the assembler for CPU test programs, and a browser for end-to-end tests.
  need=()
  command -v qemu-system-i386 >/dev/null || need+=(qemu-system-x86)
  command -v qemu-img >/dev/null || need+=(qemu-utils)
  [ -f /usr/share/seabios/bios-256k.bin ] || need+=(seabios)
  command -v nasm >/dev/null || need+=(nasm)
  command -v bochs >/dev/null || need+=(bochs)
  command -v chromium >/dev/null || need+=(chromium)
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "Installing Debian packages: ${need[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get -o DPkg::Lock::Timeout=600 update -qq
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
    else
      echo "Missing Debian packages: ${need[*]} — install them with: sudo apt-get install -y ${need[*]}" >&2
      exit 1
    fi
  fi
fi
