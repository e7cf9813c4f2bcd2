"""Crafted hostile inputs (zlib bombs, huge-image headers) and a memory-measuring runner.

Memory bounds are measured in a subprocess, so pytest's own heap and earlier tests do not
count; the child runs in its own process group, which is ended on timeout or failure.
"""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import zlib
from dataclasses import dataclass
from pathlib import Path

_REPORT = """
import resource as _resource
print("PEAK_RSS_KB", _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss)
"""


@dataclass
class ChildResult:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float


def run_python(code: str, cwd: Path, timeout_s: float = 120,
               env: dict[str, str] | None = None) -> ChildResult:
    """Run `code`, then print the process's peak RSS; the snippet's exceptions propagate."""
    source = textwrap.dedent(code) + _REPORT
    child_env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})}
    process = subprocess.Popen([sys.executable, "-c", source], cwd=cwd, env=child_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    peak_kb = [int(line.split()[1]) for line in stdout.splitlines()
               if line.startswith("PEAK_RSS_KB")]
    return ChildResult(process.returncode, stdout, stderr, peak_kb[0] / 1024 if peak_kb else -1)


def run_phaze(args: list[str], cwd: Path, timeout_s: float = 120,
              env: dict[str, str] | None = None) -> ChildResult:
    """`python -m phaze ARGS` in a fresh process: its output and peak memory (via RUSAGE of a
    wrapper that waits for it)."""
    code = f"""
    import subprocess, sys, resource
    done = subprocess.run([sys.executable, "-m", "phaze", *{args!r}], capture_output=True,
                          text=True)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    print("CHILD_RC", done.returncode)
    print("CHILD_PEAK_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    """
    result = run_python(code, cwd, timeout_s, env)
    lines = result.stdout.splitlines()
    rc = [int(line.split()[1]) for line in lines if line.startswith("CHILD_RC")]
    peak = [int(line.split()[1]) for line in lines if line.startswith("CHILD_PEAK_KB")]
    return ChildResult(rc[0] if rc else result.returncode, result.stdout, result.stderr,
                       peak[0] / 1024 if peak else -1)


def zero_bomb(total_bytes: int, chunk_bytes: int = 1 << 24) -> bytes:
    """A valid zlib stream of `total_bytes` zeros, about 1/1000 of that on disk, made fast:
    one fully flushed deflate block of `chunk_bytes` zeros repeated (a full flush makes each
    copy independent of the others)."""
    compressor = zlib.compressobj(9)
    block = compressor.compress(bytes(chunk_bytes)) + compressor.flush(zlib.Z_FULL_FLUSH)
    header, body = block[:2], block[2:]
    count, zeros, adler = total_bytes // chunk_bytes, bytes(chunk_bytes), 1
    for _ in range(count):
        adler = zlib.adler32(zeros, adler)
    return header + body * count + b"\x03\x00" + struct.pack(">I", adler)   # empty final block


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_grey_png(width: int, height: int) -> bytes:
    """A real, decodable all-black 8-bit grey PNG of width × height px, a few hundred KB for
    20000²: a decoder asked for RGB would need width × height × 3 bytes."""
    row = bytes(width + 1)   # filter byte 0 + zeros
    rows_per_block = max(1, (1 << 24) // len(row))
    compressor = zlib.compressobj(9)
    block = compressor.compress(row * rows_per_block) + compressor.flush(zlib.Z_FULL_FLUSH)
    header, body = block[:2], block[2:]
    count = height // rows_per_block
    tail_rows = height - count * rows_per_block
    adler = 1
    for _ in range(count):
        adler = zlib.adler32(row * rows_per_block, adler)
    adler = zlib.adler32(row * tail_rows, adler)
    raw_tail = zlib.compressobj(9, zlib.DEFLATED, -15)   # the last rows, as the final block
    tail = raw_tail.compress(row * tail_rows) + raw_tail.flush()
    idat = header + body * count + tail + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def full_disk_from_write(monkeypatch, count: int = 2) -> list[str]:
    """Make Phaze's atomic file writer run out of space at its `count`-th write, after half
    the bytes reached the disk (a real full disk leaves such a partial temp file). Returns the
    list the failed writes' data lengths are appended to."""
    import errno

    import phaze.io.images as images

    real, calls, failed = images._write_file, [], []

    def write(handle: int, data: bytes) -> None:
        calls.append(1)
        if len(calls) < count:
            return real(handle, data)
        with os.fdopen(handle, "wb") as file:
            file.write(data[:len(data) // 2])
        failed.append(len(data))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(images, "_write_file", write)
    return failed
