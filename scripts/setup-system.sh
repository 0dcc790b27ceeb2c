#!/usr/bin/env bash
# System packages the product and its tests need, installed only when missing (Debian).
set -euo pipefail
needed=()
command -v python3 >/dev/null || needed+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || needed+=(python3-venv)
# The frontend is built with Node.js (Vite 8 needs 20.19 or newer).
command -v npm >/dev/null || needed+=(nodejs npm)
# End-to-end tests drive Debian's Chromium (Playwright never downloads a browser here).
command -v chromium >/dev/null || needed+=(chromium)
# Validates docker-compose.yml in the tests (`docker-compose config` needs no engine).
command -v docker-compose >/dev/null || needed+=(docker-compose)
if [ ${#needed[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; else SUDO=; fi
  echo "installing system packages: ${needed[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${needed[@]}"
fi
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' || {
  echo "Node.js $(node --version) is too old: the frontend needs 20.19 or newer" >&2
  exit 1
}
