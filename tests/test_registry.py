"""The generic registry: lookups, decorated registration and the did-you-mean error."""
import pytest

from phaze.errors import ConfigError
from phaze.registry import Registry


def test_decorated_entries_are_found_by_name_in_registration_order():
    registry: Registry = Registry("widget")

    @registry.register("round")
    def round_widget():
        return "round"

    registry.add("square", lambda: "square")
    assert registry.names() == ("round", "square")
    assert registry.get_entry("round") is round_widget
    assert "square" in registry and len(registry) == 2


def test_a_name_registered_twice_is_a_bug():
    registry: Registry = Registry("widget")
    registry.add("round", 1)
    with pytest.raises(ValueError, match="registered twice"):
        registry.add("round", 2)


def test_an_unknown_name_suggests_the_closest_and_lists_all():
    registry: Registry = Registry("widget")
    for name in ("round", "square", "triangle"):
        registry.add(name, name)
    with pytest.raises(ConfigError, match=r"widget 'sqare' is invalid: expected one of: round, square, "
                                          r"triangle \(did you mean 'square'\?\)"):
        registry.get_entry("sqare")
    with pytest.raises(ConfigError, match=r"widget 'zzz' is invalid: expected one of: round, square"):
        registry.check("zzz")


def test_trainer_registries_report_typos_with_suggestions():
    from phaze.train.loss_config import LossSpec
    from phaze.train.optim.config import OptimizerConfig

    with pytest.raises(ConfigError, match="loss function 'msse'.*did you mean 'mse'"):
        LossSpec("msse")
    with pytest.raises(ConfigError, match="optimizer 'adamm'.*did you mean 'adam'"):
        OptimizerConfig(name="adamm")
    with pytest.raises(ConfigError, match="clipping method 'autoclp'.*'autoclip'"):
        OptimizerConfig(clipping="autoclp")
