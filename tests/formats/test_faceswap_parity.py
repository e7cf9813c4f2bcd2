"""Output-level parity with faceswap's own Phaze-A builds (the shared reference fixtures)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from phaze.importers.faceswap_keras import read_faceswap_model
from phaze.importers.faceswap_weights import map_weights
from phaze.model.phaze_a import build_model
from faceswap_fixtures import CASES, case_dir


def _nchw(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(0, 3, 1, 2)


def _nhwc(tensor: torch.Tensor) -> np.ndarray:
    return (tensor.permute(0, 2, 3, 1) if tensor.dim() == 4 else tensor).numpy()


def imported(case: str):
    folder = case_dir(case)
    faceswap = read_faceswap_model(folder)
    model = build_model(faceswap.options).eval()
    # faceswap's channel order at the output, to compare channel for channel
    model.load_state_dict(map_weights(model, faceswap.layers, rgb_outputs=False))
    return folder, model


def _record_submodels(model, side: str, face: torch.Tensor) -> tuple[list, dict]:
    """Run one side; return its outputs and {intermediate key: NHWC array}."""
    calls: dict[str, list] = {}
    inputs: dict[str, torch.Tensor] = {}
    handles = []
    def keep_input(name, args):
        inputs.setdefault(name, args[0])    # a pre-hook must return None

    for name, module in model.submodels().items():
        handles.append(module.register_forward_hook(
            lambda m, i, o, name=name: calls.setdefault(name, []).append(o)))
        handles.append(module.register_forward_pre_hook(
            lambda m, i, name=name: keep_input(name, i)))
    try:
        with torch.no_grad():
            outputs = model.side_forward(face, side)
    finally:
        for handle in handles:
            handle.remove()
    found = {}
    for name, results in calls.items():
        for index, result in enumerate(results):
            result = result[0] if isinstance(result, (tuple, list)) else result
            found[f"{name}/{side}" + (f"#{index}" if index else "")] = _nhwc(result)
    # inter_<side>: the concatenation that enters the G-Block, else the decoder
    route = model.route(side)
    target = route["g_block"] or route["decoder"]
    entry = inputs[target]
    found[f"inter_{side}/{side}"] = _nhwc(entry[0] if isinstance(entry, tuple) else entry)
    return outputs, found


@pytest.mark.parametrize("case", CASES)
def test_outputs_and_intermediates_match_faceswap(case, one_thread):
    folder, model = imported(case)
    inputs = np.load(folder / "inputs.npz")
    expected = np.load(folder / "outputs.npz")
    intermediates = np.load(folder / "intermediates.npz")
    names = ["face", "mask"] if model.options.learn_mask else ["face"]
    checked = set()
    for side in "ab":
        # faceswap fed fs_original BGR; Phaze takes RGB and flips it for this encoder itself
        face = _nchw(inputs[f"face_in_{side}"]).flip(1)
        outputs, found = _record_submodels(model, side, face)
        assert len(outputs) == len(names)
        for name, output in zip(names, outputs):
            np.testing.assert_allclose(_nhwc(output), expected[f"{name}_{side}"], rtol=0,
                                       atol=1e-5, err_msg=f"{case} {name}_{side}")
        for key in intermediates.files:
            if key.endswith(f"/{side}") or f"/{side}#" in key:
                assert key in found, f"{case}: no Phaze sub-model output for {key}"
                np.testing.assert_allclose(found[key], intermediates[key], rtol=0, atol=5e-5,
                                           err_msg=f"{case} {key}")
                checked.add(key)
    assert checked == set(intermediates.files)


@pytest.mark.parametrize("case", CASES)
def test_trainable_counts_per_submodel_match_faceswap(case):
    folder = case_dir(case)
    meta = json.loads((folder / "model.json").read_text())
    expected = {entry["name"]: entry["trainable"] for entry in meta["submodels"]}
    model = build_model(read_faceswap_model(folder).options, device="meta")
    counts = {name: sum(p.numel() for p in module.parameters())
              for name, module in model.submodels().items()}
    # faceswap counts batch-norm moving statistics as non-trainable; Phaze keeps them as
    # buffers, so parameters() equals faceswap's trainable count.
    assert counts == {k: v for k, v in expected.items() if k != "phaze_a"}
    assert sum(counts.values()) == expected["phaze_a"]
