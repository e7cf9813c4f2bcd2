"""Generic building blocks (convs, upscalers, norms, residual blocks); no Phaze-A routing here."""
