#!/usr/bin/env bash
# System packages the product and its tests need, installed only when missing (Debian).
set -euo pipefail
needed=()
command -v python3 >/dev/null || needed+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || needed+=(python3-venv)
# Validates docker-compose.yml in the tests (`docker-compose config` needs no engine).
command -v docker-compose >/dev/null || needed+=(docker-compose)
if [ ${#needed[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${needed[@]}"
fi
