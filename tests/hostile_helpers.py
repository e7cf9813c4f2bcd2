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


@dataclass
class Deflated:
    """A raw deflate stream and what a container needs to say about its content."""

    raw: bytes
    size: int      # bytes it inflates to
    crc32: int
    adler32: int

    def zlib(self) -> bytes:
        return b"\x78\xda" + self.raw + struct.pack(">I", self.adler32)


def _segment(data: bytes, final: bool) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)   # raw deflate, no header
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if final
                                                        else zlib.Z_FULL_FLUSH)


def deflate_bomb(total_bytes: int, fill: bytes = b"\0", prefix: bytes = b"",
                 suffix: bytes = b"", chunk_bytes: int = 1 << 24) -> Deflated:
    """prefix + `total_bytes` of `fill` + suffix as deflate, about 1/1000 of that, made fast:
    one fully flushed block of `chunk_bytes` repeated (a full flush makes each copy
    independent of the others)."""
    chunk = fill * (chunk_bytes // len(fill))
    count = total_bytes // len(chunk)
    crc, adler = zlib.crc32(prefix), zlib.adler32(prefix)
    for _ in range(count):
        crc, adler = zlib.crc32(chunk, crc), zlib.adler32(chunk, adler)
    crc, adler = zlib.crc32(suffix, crc), zlib.adler32(suffix, adler)
    raw = _segment(prefix, False) + _segment(chunk, False) * count + _segment(suffix, True)
    return Deflated(raw, len(prefix) + count * len(chunk) + len(suffix), crc, adler)


def zero_bomb(total_bytes: int) -> bytes:
    """A valid zlib stream of `total_bytes` zeros, about 1/1000 of that on disk."""
    return deflate_bomb(total_bytes).zlib()


def write_zip(path: Path, members: dict[str, bytes | Deflated]) -> Path:
    """A zip archive whose members are plain bytes (deflated here) or ready-made deflate
    streams (a bomb), written by hand: zipfile would have to inflate a bomb to write it."""
    local, central = b"", b""
    for name, content in members.items():
        if isinstance(content, bytes):
            content = Deflated(_segment(content, True), len(content), zlib.crc32(content), 0)
        encoded = name.encode()
        fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0x21, content.crc32,
                             len(content.raw), content.size, len(encoded), 0)
        central += (struct.pack("<IH", 0x02014B50, 20) + fields
                    + struct.pack("<HHHII", 0, 0, 0, 0, len(local)) + encoded)
        local += struct.pack("<I", 0x04034B50) + fields + encoded + content.raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                      len(central), len(local), 0)
    path.write_bytes(local + central + end)
    return path


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

    import phaze.io.atomic as atomic

    real, calls, failed = atomic._write_file, [], []

    def write(handle: int, data: bytes) -> None:
        calls.append(1)
        if len(calls) < count:
            return real(handle, data)
        with os.fdopen(handle, "wb") as file:
            file.write(data[:len(data) // 2])
        failed.append(len(data))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_file", write)
    return failed
