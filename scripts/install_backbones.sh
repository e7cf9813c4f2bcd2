#!/usr/bin/env bash
# Install timm (+ the torchvision release paired with the installed torch) for Phaze's ImageNet
# backbones, without letting pip resolve a different torch (which would pull CUDA packages).
#
# Usage: scripts/install_backbones.sh [path/to/python]   (default: <repo>/.venv/bin/python)
# See docs/backbones.md ("Installing timm") for why each step is needed.
set -euo pipefail

source "$(dirname "$0")/python_to_use.sh"
TIMM_VERSION="${PHAZE_TIMM_VERSION:-1.0.31}"

# torchvision 0.N pairs with torch 2.(N-15): torch 2.13 -> torchvision 0.28.
TORCHVISION_VERSION="$("$PYTHON" - <<'PY'
import torch
major, minor = (int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
assert major == 2, f"unsupported torch {torch.__version__}"
print(f"0.{minor + 15}.*")
PY
)"

# --no-deps: both packages declare a torch dependency that pip could otherwise satisfy by
# downloading another (CUDA) torch. timm's other requirements (huggingface_hub, pyyaml) are only
# used for downloading weights and reading datasets, which Phaze never does; safetensors is
# already a Phaze dependency. Idempotent: pip leaves matching versions alone.
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps \
    "timm==${TIMM_VERSION}" "torchvision==${TORCHVISION_VERSION}"

# Check: phaze.model.encoders.timm_compat makes a CPU-only torch accept a CUDA torchvision build.
"$PYTHON" -c "from phaze.model.encoders.timm_compat import import_timm
print('timm', import_timm().__version__, 'ready')"
