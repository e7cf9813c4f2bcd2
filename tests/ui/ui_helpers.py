"""Helpers shared by the UI tests (a plain module: conftest.py is not importable by name)."""
from __future__ import annotations

from pathlib import Path


def tiny_run(model_dir: Path, faces: tuple[Path, Path], **changes) -> dict:
    """The train form's fields for a fast run of the tiny design on the synthetic faces."""
    return dict({"model_dir": str(model_dir), "faces_a": str(faces[0]), "faces_b": str(faces[1]),
                 "config": "tiny.toml", "batch_size": 4, "save_interval": 1000,
                 "preview_interval": 2, "threads": 1, "workers": 0}, **changes)


def wait_for(check, timeout_s: float = 120.0, every_s: float = 0.25):
    """Poll `check()` until it returns something truthy (a generous limit: CI is slow)."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"still waiting after {timeout_s} s")


def sortable_faces(root: Path) -> Path:
    """Five extracted astronaut faces (128 px, with faceswap metadata) under `root`/faces: plain,
    mirrored, shrunk, turned by 12 degrees, and a blurred copy of the plain one."""
    import cv2
    import skimage.data

    from phaze.extract.find import FaceFinder, FindConfig
    from phaze.extract.pipeline import ExtractConfig, extract_faces
    from phaze.formats.faceswap_png import add_metadata, read_metadata
    from phaze.io.images import decode_image, encode_image, write_image

    photos = root / "photos"
    photos.mkdir(parents=True)
    image = skimage.data.astronaut()
    turned = cv2.warpAffine(image, cv2.getRotationMatrix2D((256, 256), 12, 1.0), (512, 512))
    for name, frame in {"a_plain": image, "b_mirrored": image[:, ::-1].copy(),
                        "c_small": cv2.resize(image, (400, 400)), "d_turned": turned}.items():
        write_image(photos / f"{name}.png", frame)
    faces = root / "faces"
    extract_faces(photos, faces, ExtractConfig(size_px=128),
                  finder=FaceFinder(FindConfig(refeed=1)))
    (faces / "alignments.json").unlink()
    source = faces / "a_plain_0.png"
    blurred = cv2.GaussianBlur(decode_image(source), (0, 0), 3.0)
    (faces / "e_blurred_0.png").write_bytes(add_metadata(encode_image(blurred, ".png"),
                                                         read_metadata(source)))
    return faces


def cli_sort_order(folder: Path, key: str, capsys) -> list[str]:
    """The face names `phaze faces sort --input folder --by key` prints, best first."""
    from phaze.cli.main import main

    capsys.readouterr()
    assert main(["faces", "sort", "--input", str(folder), "--by", key]) == 0
    return [line.split()[-1] for line in capsys.readouterr().out.splitlines()]
