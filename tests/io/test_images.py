"""phaze.io: image files, tensors, devices and the face sides."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from phaze.errors import ConfigError, DataError
from phaze.io.devices import resolve_device
from phaze.io.images import decode_image, read_image, write_bytes_atomic, write_image
from phaze.io.tensors import arrays_to_tensor, tensor_to_uint8
from phaze.sides import DIRECTIONS, source_side, target_side


def test_png_round_trip_keeps_rgb_order(tmp_path):
    image = np.zeros((8, 10, 3), np.uint8)
    image[..., 0] = 200  # pure red: a BGR mix-up would show as blue
    path = write_image(tmp_path / "red.png", image)
    np.testing.assert_array_equal(read_image(path), image)


def test_grey_image_round_trips(tmp_path):
    mask = np.arange(64, dtype=np.uint8).reshape(8, 8)
    write_image(tmp_path / "mask.png", mask)
    np.testing.assert_array_equal(read_image(tmp_path / "mask.png", grayscale=True), mask)


def test_unreadable_file_is_a_data_error_naming_it(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"not a png")
    assert decode_image(path) is None
    with pytest.raises(DataError, match="broken.png"):
        read_image(path)


def test_atomic_write_leaves_no_temp_file(tmp_path):
    write_image(tmp_path / "a.jpg", np.full((16, 16, 3), 128, np.uint8))
    write_bytes_atomic(tmp_path / "b.bin", b"xyz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "b.bin"]


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(DataError, match="'.gif'"):
        write_image(tmp_path / "a.gif", np.zeros((4, 4, 3), np.uint8))


def test_arrays_to_tensor_and_back_is_lossless():
    images = np.random.default_rng(0).integers(0, 256, (2, 6, 6, 3), dtype=np.uint8)
    tensor = arrays_to_tensor(images)
    assert tensor.shape == (2, 3, 6, 6) and tensor.dtype == torch.float32
    assert float(tensor.max()) <= 1.0
    np.testing.assert_array_equal(tensor_to_uint8(tensor), images)


def test_one_channel_tensor_becomes_a_2d_mask():
    assert tensor_to_uint8(torch.ones(3, 1, 5, 5)).shape == (3, 5, 5)


def test_bad_device_names_the_value():
    with pytest.raises(ConfigError, match="'tpu'"):
        resolve_device("tpu")
    assert resolve_device("cpu") == torch.device("cpu")


def test_directions_map_to_the_other_side():
    assert [target_side(d) for d in DIRECTIONS] == ["b", "a"]
    assert source_side("a-to-b") == "a"
    with pytest.raises(ConfigError, match="sideways"):
        target_side("sideways")
