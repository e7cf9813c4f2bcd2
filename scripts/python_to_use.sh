# Sourced by the install scripts: PYTHON is their first argument, else the repository's .venv
# Python, else python3; ROOT is the repository.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${1:-}"
if [[ -z "$PYTHON" ]]; then
    PYTHON=python3
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; fi
fi
