#!/usr/bin/env bash
# Set up (if needed) and train the demo model on built-in synthetic faces (no data needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/phaze train --demo --model-dir "${1:-runs/demo}"
