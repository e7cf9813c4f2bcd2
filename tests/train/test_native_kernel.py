"""Tests for building shipped C files into cached shared libraries (native_kernel.py)."""
import time
from pathlib import Path

import pytest

from phaze.train.optim import native_kernel
from phaze.train.optim.native_kernel import KernelBuildError, load_kernel

ADD_ONE = "int phaze_add_one(int value) { return value + 1; }\n"
CHILD_SLEEP = "3600.4242"   # an argument no other process has


@pytest.fixture
def source(tmp_path, monkeypatch):
    monkeypatch.setenv(native_kernel.KERNEL_DIR_ENV, str(tmp_path / "kernels"))
    path = tmp_path / "add_one.c"
    path.write_text(ADD_ONE)
    return path


def _libraries(source):
    return sorted((source.parent / "kernels").iterdir())


def test_a_kernel_is_built_once_and_loaded_from_the_cache(source, monkeypatch):
    library = load_kernel(source)

    assert library.phaze_add_one(41) == 42
    built = _libraries(source)
    assert len(built) == 1 and built[0].name.startswith("add_one-") and built[0].suffix == ".so"
    builds = []
    monkeypatch.setattr(native_kernel, "build", lambda *args: builds.append(args))
    assert load_kernel(source).phaze_add_one(1) == 2
    assert builds == []   # cached


def test_a_changed_source_is_built_again_under_a_new_name(source):
    load_kernel(source)
    source.write_text(ADD_ONE.replace("value + 1", "value + 2"))

    assert load_kernel(source).phaze_add_one(1) == 3
    assert len(_libraries(source)) == 2


def test_a_source_that_does_not_compile_names_the_error_and_leaves_no_file(source):
    source.write_text("int broken( {\n")

    with pytest.raises(KernelBuildError, match=r"^could not build add_one\.c: .*error"):
        load_kernel(source)
    assert _libraries(source) == []   # no library and no temporary file


def test_no_compiler_is_a_build_error(source, monkeypatch):
    monkeypatch.setenv("CC", str(source.parent / "no-such-compiler"))

    with pytest.raises(KernelBuildError, match="cannot run .*no-such-compiler"):
        load_kernel(source)


def test_a_compiler_past_its_time_is_killed_with_its_children(source, monkeypatch, tmp_path):
    # A "compiler" that starts a child and hangs: the whole process group must end.
    script = tmp_path / "slow-cc"
    pid_file = tmp_path / "children.pid"
    script.write_text(f"#!/bin/sh\nsleep {CHILD_SLEEP} &\necho $! >> {pid_file}\nwait\n")
    script.chmod(0o755)
    monkeypatch.setenv("CC", str(script))
    monkeypatch.setattr(native_kernel, "BUILD_TIMEOUT_S", 1.0)
    monkeypatch.setattr(native_kernel, "_compiler_version", lambda compiler: "slow")

    with pytest.raises(KernelBuildError, match="ran past 1 s"):
        load_kernel(source)
    children = [int(pid) for pid in pid_file.read_text().split()]
    assert len(children) == len(native_kernel.FLAG_SETS)   # one try per flag set
    deadline = time.monotonic() + 10   # SIGKILL is delivered, not waited for
    while [pid for pid in children if _running(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if _running(pid)]


def _running(pid: int) -> bool:
    """Our sleeping child (not a later process given the same pid), alive and not a zombie."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            ours = cmdline.read().split(b"\0")[1:2] == [CHILD_SLEEP.encode()]
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return ours and stat.read().rpartition(")")[2].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_the_build_key_follows_flags_and_compiler(source):
    compiler = native_kernel.find_compiler()
    key = native_kernel.build_key(source, compiler, ("-O3",))

    assert key == native_kernel.build_key(source, compiler, ("-O3",))
    assert key != native_kernel.build_key(source, compiler, ("-O2",))
    assert key != native_kernel.build_key(source, [*compiler, "-m64"], ("-O3",))


def test_the_shipped_adam_kernel_builds_and_exports_its_entry_point(source):
    library = load_kernel(Path(native_kernel.__file__).with_name("bf16_adam_kernel.c"))

    assert library.phaze_bf16_adam_step is not None
