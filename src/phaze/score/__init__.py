"""Swap-quality score: identity transfer, expression/pose preservation, reconstruction SSIM."""
