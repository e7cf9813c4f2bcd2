"""`phaze export` never writes over the files a model folder needs to load."""
import pytest

from phaze.errors import ConfigError
from phaze.export.run import export_model_dir


@pytest.mark.parametrize("name", ["phaze.json", "framing.json",
                                  "checkpoint/weights.safetensors", "snapshots/x.onnx"])
def test_an_output_over_the_models_own_files_is_refused_before_work(tmp_path, name):
    (tmp_path / "phaze.json").write_text("{}")
    with pytest.raises(ConfigError, match="would overwrite the model's own"):
        export_model_dir(tmp_path, tmp_path / name, exporter="torchscript", verify=False)
    assert (tmp_path / "phaze.json").read_text() == "{}"


def test_a_full_disk_during_export_is_one_line_and_leaves_no_partial_graph(tmp_path,
                                                                            monkeypatch):
    import errno

    import phaze.export.onnx as export_module
    from phaze.storage.checkpoint import save_checkpoint, TrainingState, write_marker
    from phaze.config.options import PhazeAOptions
    from phaze.errors import SaveError
    from phaze.model.phaze_a import build_model

    options = PhazeAOptions(output_size=64, enc_scaling=3, enc_load_weights=False,
                            enable_gblock=False, fs_original_max_filters=64,
                            dec_max_filters=64, fc_max_filters=64, fc_min_filters=64,
                            bottleneck_size=32, fc_upsample_filters=64)
    write_marker(tmp_path, options)
    save_checkpoint(tmp_path, build_model(options).state_dict(), TrainingState())
    output = tmp_path / "exports" / "b.onnx"
    real = export_module._run_exporter

    def fill_disk(graph, example, path, *args):
        real(graph, example, path, *args)        # the graph is on disk ...
        raise OSError(errno.ENOSPC, "No space left on device")   # ... when the disk fills

    monkeypatch.setattr(export_module, "_run_exporter", fill_disk)
    with pytest.raises(SaveError) as caught:
        export_model_dir(tmp_path, output, exporter="torchscript", verify=False)
    assert str(caught.value) == f"could not write '{output}': No space left on device"
    assert list(output.parent.iterdir()) == []
