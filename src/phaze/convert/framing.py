"""What convert checks of a model's framing beyond `phaze.storage.framing_file`: its input size."""
from __future__ import annotations

from phaze.errors import ModelDirError

MIN_INPUT_PX = 16


def check_input_size(size_px: int, where: str) -> int:
    if size_px < MIN_INPUT_PX:
        raise ModelDirError(f"model '{where}' takes {size_px} px faces: convert needs at least "
                            f"{MIN_INPUT_PX} px")
    return size_px
