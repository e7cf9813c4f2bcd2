"""A C file shipped with Phaze, compiled once per machine into a shared library that ctypes loads.

Why not torch.utils.cpp_extension: it compiles against torch's C++ headers (tens of seconds a
build) and needs ninja. These kernels are plain C on raw pointers: a build takes about a
second, with the C compiler torch.compile needs on a CPU anyway. Libraries are cached per
source, compiler, flags and CPU (they are built with -march=native), written to a temporary
name and renamed into place, so a killed build or two processes building at once never leave a
half-written library behind.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from phaze.user_cache import user_cache_dir

logger = logging.getLogger(__name__)

KERNEL_DIR_ENV = "PHAZE_KERNEL_DIR"
BUILD_TIMEOUT_S = 120.0
COMPILERS = ("cc", "gcc", "clang")
# Every build: no fused multiply-add, so results do not depend on the CPU built for; sqrtf
# without errno, so loops with it vectorise.
COMMON_FLAGS = ("-shared", "-fPIC", "-O3", "-ffp-contract=off", "-fno-math-errno")
# Tuning for this CPU. On x86 GCC otherwise keeps to 256-bit vectors where AVX-512 exists
# (4.8 against 3.9 ms for the Adam kernel on 8 M elements; torch's own kernels use 512 bits).
NATIVE = ("-march=native", "-mprefer-vector-width=512") \
    if platform.machine().lower() in ("x86_64", "amd64") else ("-march=native",)
# Tried in order, the first that builds is used: OpenMP threads are optional (Apple's clang has
# none), and so is tuning for this CPU.
FLAG_SETS = ((*NATIVE, "-fopenmp"), NATIVE, ())
# /proc/cpuinfo lines that tell CPUs apart (x86 and Arm names).
CPU_INFO_FIELDS = ("model name", "flags", "Features", "CPU implementer", "CPU part")


class KernelBuildError(RuntimeError):
    """No C compiler, or none that builds the source; callers fall back to torch ops."""


def kernel_dir() -> Path:
    """$PHAZE_KERNEL_DIR, else the user cache's `kernels` folder."""
    configured = os.environ.get(KERNEL_DIR_ENV)
    return Path(configured).expanduser() if configured else user_cache_dir("kernels")


def load_kernel(source: Path) -> ctypes.CDLL:
    """The shared library built from the C file `source` (built now if not cached)."""
    compiler = find_compiler()
    failures = []
    for flags in FLAG_SETS:
        all_flags = COMMON_FLAGS + flags
        library = kernel_dir() / f"{source.stem}-{build_key(source, compiler, all_flags)}.so"
        try:
            if not library.is_file():
                logger.info("building %s into %s (once for this machine)", source.name,
                            library.parent)
                build(compiler, source, all_flags, library)
            return ctypes.CDLL(str(library))
        except (KernelBuildError, OSError) as error:
            failures.append(f"{' '.join(flags) or 'plain'}: {error}")
    raise KernelBuildError(f"could not build {source.name}: " + "; ".join(failures))


def find_compiler() -> list[str]:
    """$CC (which may be a command line, e.g. 'ccache gcc'), else the first of COMPILERS on
    PATH."""
    if os.environ.get("CC"):
        return shlex.split(os.environ["CC"])
    for name in COMPILERS:
        path = shutil.which(name)
        if path:
            return [path]
    raise KernelBuildError("no C compiler found (set CC, or install gcc or clang)")


def build_key(source: Path, compiler: list[str], flags: tuple[str, ...]) -> str:
    """16 hex digits naming one build: source text, compiler and its version, flags, CPU."""
    digest = hashlib.sha256(source.read_bytes())
    for part in (*compiler, _compiler_version(compiler), *flags, _cpu_identity()):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:16]


def build(compiler: list[str], source: Path, flags: tuple[str, ...], library: Path) -> None:
    """Compile `source` into `library` atomically; KernelBuildError with the compiler's first
    error line if it fails or runs past BUILD_TIMEOUT_S."""
    library.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=library.parent, prefix=f".{library.stem}-",
                                         suffix=".so")
    os.close(handle)
    try:
        _run([*compiler, *flags, "-o", temporary, str(source)])
        os.replace(temporary, library)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _run(command: list[str]) -> str:
    """Run a compiler in its own process group, killing the whole group on timeout (a
    compiler driver starts cc1, as and ld)."""
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    except OSError as error:
        raise KernelBuildError(f"cannot run {command[0]}: {error}") from None
    try:
        output, _ = process.communicate(timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise KernelBuildError(f"{command[0]} ran past {BUILD_TIMEOUT_S:.0f} s") from None
    finally:
        if process.poll() is None:  # timed out, or interrupted (Ctrl-C) while compiling
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process.returncode:
        errors = [line for line in output.splitlines() if "error" in line.lower()]
        raise KernelBuildError((errors or output.splitlines() or ["failed"])[0].strip())
    return output


def _compiler_version(compiler: list[str]) -> str:
    return _cached_compiler_version(tuple(compiler))


@functools.cache
def _cached_compiler_version(compiler: tuple[str, ...]) -> str:
    # Once per process and compiler: every flag set's key needs it.
    try:
        return _run([*compiler, "--version"]).partition("\n")[0]
    except KernelBuildError:
        return "unknown"


@functools.cache
def _cpu_identity() -> str:
    """The CPU's model and feature flags (what -march=native compiles for)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            lines = [line for line in info if line.startswith(CPU_INFO_FIELDS)]
        return "".join(sorted(set(lines)))
    except OSError:
        return f"{platform.machine()} {platform.processor()}"
