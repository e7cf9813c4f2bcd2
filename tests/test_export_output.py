"""`phaze export` never writes over the files a model folder needs to load."""
import pytest

from phaze.errors import ConfigError
from phaze.export import export_model_dir


@pytest.mark.parametrize("name", ["phaze.json", "framing.json",
                                  "checkpoint/weights.safetensors", "snapshots/x.onnx"])
def test_an_output_over_the_models_own_files_is_refused_before_work(tmp_path, name):
    (tmp_path / "phaze.json").write_text("{}")
    with pytest.raises(ConfigError, match="would overwrite the model's own"):
        export_model_dir(tmp_path, tmp_path / name, exporter="torchscript", verify=False)
    assert (tmp_path / "phaze.json").read_text() == "{}"
