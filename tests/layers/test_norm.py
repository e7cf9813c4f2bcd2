"""Norm layers by option value: every name builds its layer, a wrong name is one clear error."""
import pytest
import torch
from torch import nn

from phaze.errors import ConfigError
from phaze.layers.norm import NORMS, ChannelLayerNorm, ChannelRMSNorm, InstanceNormAll, create_norm


@pytest.mark.parametrize("name, kind", [("none", nn.Identity), ("instance", InstanceNormAll),
                                        ("layer", ChannelLayerNorm), ("rms", ChannelRMSNorm),
                                        ("batch", nn.BatchNorm2d), ("group", nn.GroupNorm)])
def test_every_norm_name_builds_its_layer_and_keeps_the_shape(name, kind):
    layer = create_norm(name, 64)
    assert type(layer) is kind
    x = torch.randn(2, 64, 4, 4)
    assert layer(x).shape == x.shape


def test_keras_settings_of_batch_and_group_norm():
    batch, group = create_norm("batch", 8), create_norm("group", 64)
    assert (batch.eps, batch.momentum) == (1e-3, 0.01)
    assert (group.num_groups, group.eps) == (32, 1e-6)


def test_layer_and_rms_norm_normalise_over_channels():
    x = torch.randn(3, 16, 5, 5) * 4 + 2
    layer = create_norm("layer", 16)(x)
    torch.testing.assert_close(layer.mean(dim=1), torch.zeros(3, 5, 5), atol=1e-5, rtol=0)
    rms = create_norm("rms", 16)(x)
    torch.testing.assert_close(rms.pow(2).mean(dim=1), torch.ones(3, 5, 5), atol=1e-3, rtol=0)


def test_a_wrong_norm_name_lists_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"norm 'rsm' is invalid: expected one of: none, "
                                          r"instance, layer, rms, batch, group \(did you mean "):
        create_norm("rsm", 8)
    assert len(NORMS) == 6
