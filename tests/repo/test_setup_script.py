"""scripts/setup.sh picks the torch build: CUDA where nvidia-smi answers, CPU otherwise,
PHAZE_TORCH deciding instead; and never lets a CPU install take PyPI's CUDA packages."""
from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _module():
    spec = importlib.util.spec_from_file_location("torch_build", SCRIPTS / "torch_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


torch_build = _module()


def _fake_nvidia_smi(folder: Path, output: str, code: int = 0) -> Path:
    folder.mkdir(exist_ok=True)
    program = folder / "nvidia-smi"
    program.write_text(f"#!/bin/sh\nprintf '{output}'\nexit {code}\n")
    program.chmod(0o755)
    return folder


@pytest.mark.parametrize("environment, detected, expected", [
    ({}, "NVIDIA H200", "cuda"), ({}, None, "cpu"),
    ({"PHAZE_TORCH": "cpu"}, "NVIDIA H200", "cpu"), ({"PHAZE_TORCH": "CUDA"}, None, "cuda")])
def test_the_build_follows_the_driver_unless_phaze_torch_says(environment, detected, expected):
    build, why = torch_build.choose(environment, lambda: detected)

    assert build == expected
    assert why.startswith("PHAZE_TORCH=") == bool(environment)


def test_a_bad_phaze_torch_names_the_choices():
    with pytest.raises(ValueError, match="PHAZE_TORCH='rocm' is invalid: expected cpu or cuda"):
        torch_build.choose({"PHAZE_TORCH": "rocm"}, lambda: None)


def test_nvidia_smi_is_asked_for_the_gpus(tmp_path):
    answering = _fake_nvidia_smi(tmp_path / "ok", "NVIDIA H200\\nNVIDIA H200\\n")
    failing = _fake_nvidia_smi(tmp_path / "bad", "NVIDIA-SMI has failed: no driver\\n", 9)

    assert torch_build.nvidia_smi_answers(lambda _: str(answering / "nvidia-smi")) == \
        "NVIDIA H200, NVIDIA H200"
    assert torch_build.nvidia_smi_answers(lambda _: str(failing / "nvidia-smi")) is None
    assert torch_build.nvidia_smi_answers(lambda _: None) is None


def test_a_plan_with_cuda_packages_is_recognised():
    cuda = {"install": [{"metadata": {"name": "torch"}}, {"metadata": {"name": "triton"}},
                        {"metadata": {"name": "nvidia-cublas-cu12"}}]}
    cpu = {"install": [{"metadata": {"name": "torch"}}, {"metadata": {"name": "sympy"}}]}

    assert torch_build.plan_pulls_cuda(cuda) == ["nvidia-cublas-cu12", "triton"]
    assert torch_build.plan_pulls_cuda(cpu) == []


def _plan(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PHAZE_TORCH"}
    return subprocess.run(["bash", str(SCRIPTS / "setup.sh"), "--plan"], capture_output=True,
                          text=True, env=dict(env, **environment), timeout=60, check=False)


def test_setup_plans_cuda_where_nvidia_smi_answers(tmp_path):
    folder = _fake_nvidia_smi(tmp_path / "bin", "NVIDIA H200\\n")
    result = _plan(tmp_path, PATH=f"{folder}{os.pathsep}{os.environ['PATH']}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "setup: torch 2.13.0, cuda build (nvidia-smi lists NVIDIA H200)"


def test_setup_plans_cpu_when_asked_even_with_a_gpu(tmp_path):
    folder = _fake_nvidia_smi(tmp_path / "bin", "NVIDIA H200\\n")
    result = _plan(tmp_path, PATH=f"{folder}{os.pathsep}{os.environ['PATH']}", PHAZE_TORCH="cpu")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "setup: torch 2.13.0, cpu build (PHAZE_TORCH=cpu)"


def test_setup_refuses_an_unknown_build_in_one_line(tmp_path):
    result = _plan(tmp_path, PHAZE_TORCH="rocm")

    assert result.returncode == 2
    assert result.stderr.strip() == ("setup: error: PHAZE_TORCH='rocm' is invalid: expected "
                                      "cpu or cuda")


def _repo_with(tmp_path: Path, files: dict[str, int], allowed: str = "") -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for name, size in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(b"\0" * size)
    if allowed:
        (repo / ".ci").mkdir()
        (repo / ".ci" / "large-test-data.txt").write_text(allowed)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    return repo


def _check(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["python3", str(SCRIPTS / "check_tracked_sizes.py"), str(repo)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_tracked_file_over_2_mb_is_refused_in_one_line(tmp_path):
    repo = _repo_with(tmp_path, {"tool.whl": 3_000_000, "small.py": 100})

    result = _check(repo)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "check: tracked file 'tool.whl' is 3.0 MB, over the 2 MB limit: remove it (git rm), "
        "or list it in .ci/large-test-data.txt if it is test data"]


def test_listed_test_data_may_be_large(tmp_path):
    repo = _repo_with(tmp_path, {"tests/data/model.h5": 3_000_000},
                      allowed="# test data\ntests/data/*.h5\n")

    assert _check(repo).returncode == 0
