"""Bringing models trained by other tools into Phaze model folders: faceswap's Keras 3 `.keras`
and Keras 2 `.h5` files, read as data (nothing in them is executed)."""
