"""depth_to_space keeps a channels-last input channels-last, with the same values."""
import torch

from phaze.layers.upscale import depth_to_space


def _nchw_depth_to_space(x: torch.Tensor) -> torch.Tensor:
    return depth_to_space(x.contiguous())


def test_channels_last_depth_to_space_equals_the_nchw_one_with_gradients():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 12, 5, 7, generator=generator)
    x_nhwc = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    x_nchw = x.clone().requires_grad_()
    upstream = torch.randn(2, 3, 10, 14, generator=generator)

    out_nhwc, out_nchw = depth_to_space(x_nhwc), _nchw_depth_to_space(x_nchw)
    (out_nhwc * upstream).sum().backward()
    (out_nchw * upstream).sum().backward()

    assert out_nhwc.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out_nhwc, out_nchw)
    assert torch.equal(x_nhwc.grad, x_nchw.grad)


def test_depth_to_space_puts_the_sub_pixel_position_major():
    # TensorFlow's order: channel (i·2 + j)·F + c lands on pixel (2h + i, 2w + j), channel c.
    x = torch.arange(8.0).reshape(1, 8, 1, 1)   # F = 2
    for layout in (torch.contiguous_format, torch.channels_last):
        out = depth_to_space(x.contiguous(memory_format=layout))
        assert out[0, 0].tolist() == [[0.0, 2.0], [4.0, 6.0]]
        assert out[0, 1].tolist() == [[1.0, 3.0], [5.0, 7.0]]
