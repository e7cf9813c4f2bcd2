"""DeepFaceLive `.dfm` export: names, NHWC layouts, static shapes, equal to PyTorch in ORT."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from phaze.export.run import export_model_dir
from phaze.export.dfm import DFM_INPUT, DFM_OUTPUTS, DFMGraph
from phaze.importers.faceswap import import_faceswap
from faceswap_fixtures import case_dir

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")


def _static_shape(value) -> list[int]:
    dims = value.type.tensor_type.shape.dim
    assert all(d.HasField("dim_value") for d in dims), f"{value.name} has a dynamic axis"
    return [d.dim_value for d in dims]


@pytest.mark.parametrize("case", ["c10", "c01"])   # with and without learn_mask
def test_dfm_export_matches_pytorch_and_faceswap(case, tmp_path, one_thread):
    folder = case_dir(case)
    import_faceswap(folder, tmp_path / "model")
    out = tmp_path / "model.dfm"
    report = export_model_dir(tmp_path / "model", out, "a-to-b", "dfm")
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-5
    graph = onnx.load(str(out))
    assert [i.name for i in graph.graph.input] == [DFM_INPUT]
    assert _static_shape(graph.graph.input[0]) == [1, 64, 64, 3]
    assert [o.name for o in graph.graph.output] == list(DFM_OUTPUTS)
    assert [_static_shape(o) for o in graph.graph.output] == [[1, 64, 64, 1], [1, 64, 64, 3],
                                                             [1, 64, 64, 1]]
    # The .dfm is fed BGR, as DeepFaceLive does, and must give the imported model's swap in
    # BGR: for a faceswap fixture that is faceswap's own decoder_b output for that face.
    from phaze.storage.checkpoint import load_model_dir

    model, _ = load_model_dir(tmp_path / "model")
    face_bgr = np.load(folder / "inputs.npz")["face_in_a"][:1]
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    dst_mask, celeb, celeb_mask = session.run(None, {DFM_INPUT: face_bgr})
    with torch.no_grad():
        rgb = torch.from_numpy(face_bgr).permute(0, 3, 1, 2).flip(1)
        reference = model.side_forward(rgb, "b")
    np.testing.assert_allclose(celeb, reference[0].flip(1).permute(0, 2, 3, 1).numpy(),
                               rtol=0, atol=1e-5)
    if case == "c10":
        # fixture c10's faceswap outputs were made for side B's inputs only; check the
        # swap's BGR face against faceswap for B's own face through B (same decoder)
        face_b = np.load(folder / "inputs.npz")["face_in_b"][:1]
        celeb_b = session.run(None, {DFM_INPUT: face_b})[1]
        np.testing.assert_allclose(celeb_b, np.load(folder / "outputs.npz")["face_b"][:1],
                                   rtol=0, atol=1e-5)
    if model.options.learn_mask:
        with torch.no_grad():
            own = model.side_forward(rgb, "a")[1].permute(0, 2, 3, 1).numpy()
        np.testing.assert_allclose(dst_mask, own, rtol=0, atol=1e-5)
        np.testing.assert_allclose(celeb_mask, reference[1].permute(0, 2, 3, 1).numpy(),
                                   rtol=0, atol=1e-5)
    else:
        assert (dst_mask == 1).all() and (celeb_mask == 1).all()


def test_dfm_graph_takes_bgr_nhwc():
    class Echo(torch.nn.Module):   # a stand-in model that returns its input as the face
        options = type("O", (), {"learn_mask": False})()

        def side_forward(self, x, side):
            return [x]

    graph = DFMGraph(Echo(), "a-to-b")
    bgr = torch.rand(1, 8, 8, 3)
    dst_mask, face, mask = graph(bgr)
    # Phaze sees RGB (channel 0 = red = BGR channel 2); the face comes back as BGR again
    assert torch.equal(face, bgr)
    assert dst_mask.shape == mask.shape == (1, 8, 8, 1)
