"""Inference: a trained model plus its framing turns faces into swapped faces (and masks)."""
from phaze.inference.swapper import SwapResult, Swapper, check_batch_size, swap_arrays

__all__ = ["SwapResult", "Swapper", "check_batch_size", "swap_arrays"]
