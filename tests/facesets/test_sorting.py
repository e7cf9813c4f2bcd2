"""Blur ranking, near-duplicates, identity outliers, and moving rejects (never deleting)."""
import cv2
import numpy as np

from phaze.cli.main import main
from phaze.facesets.duplicates import duplicate_groups
from phaze.facesets.folder import read_face_set
from phaze.facesets.sorting import ranked, rename_ranked
from phaze.formats.faceswap_png import add_metadata, read_metadata
from phaze.io.images import decode_image, encode_image

from faceset_helpers import copy_faces


def write_variant(source, target, change) -> None:
    """`source` face PNG changed by `change(image)`, keeping its faceswap metadata."""
    image = change(decode_image(source))
    target.write_bytes(add_metadata(encode_image(image, ".png"), read_metadata(source)))


def test_blurred_copies_rank_last(woman_faces, tmp_path):
    folder = copy_faces(woman_faces, into=tmp_path / "faces")
    originals = sorted(folder.glob("*.png"))
    for sigma, source in zip((1.5, 2.5, 4.0), originals):
        write_variant(source, folder / f"zz_blur{sigma}.png",
                      lambda image, s=sigma: cv2.GaussianBlur(image, (0, 0), s))
    names = [face.path.name for face, _ in ranked(read_face_set(folder), "blur")]
    assert names[-3:] == ["zz_blur1.5.png", "zz_blur2.5.png", "zz_blur4.0.png"]


def test_a_noisy_copy_is_a_near_duplicate_and_distinct_frames_are_not(woman_faces, tmp_path):
    folder = copy_faces(woman_faces, into=tmp_path / "faces")
    source = sorted(folder.glob("*.png"))[3]
    rng = np.random.default_rng(0)
    write_variant(source, folder / "copy.png", lambda image: np.clip(
        image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8))
    face_set = read_face_set(folder)
    groups = duplicate_groups(np.stack([face.thumb for face in face_set.faces]))
    assert [sorted(face_set.faces[i].path.name for i in group) for group in groups] == [
        sorted([source.name, "copy.png"])]


def test_other_people_sort_last_and_are_moved_not_deleted(woman_faces, astronaut_faces,
                                                          tmp_path, capsys):
    folder = copy_faces(woman_faces, astronaut_faces, into=tmp_path / "mixed")
    strangers = sorted(path.name for path in astronaut_faces.glob("*.png"))
    ranking = ranked(read_face_set(folder, with_identity=True), "identity")
    assert sorted(face.path.name for face, _ in ranking[-len(strangers):]) == strangers
    assert all(score < 0.4 for _, score in ranking[-len(strangers):])
    assert all(score > 0.4 for _, score in ranking[:-len(strangers)])

    code = main(["faces", "filter", "--input", str(folder), "--remove-below", "identity=0.4"])
    assert code == 0
    assert sorted(path.name for path in (folder / "rejected").iterdir()) == strangers
    assert len(list(folder.glob("*.png"))) == len(list(woman_faces.glob("*.png")))
    assert f"{len(strangers)} of" in capsys.readouterr().out


def test_percent_limit_and_dry_run_move_nothing(woman_faces, tmp_path, capsys):
    folder = copy_faces(woman_faces, into=tmp_path / "faces")
    before = sorted(folder.glob("*.png"))
    assert main(["faces", "filter", "--input", str(folder), "--remove-below", "blur=25%",
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("would move") == 3 and sorted(folder.glob("*.png")) == before
    assert not (folder / "rejected").exists()


def test_rename_prefixes_the_rank_and_a_resort_replaces_it(woman_faces, tmp_path):
    folder = copy_faces(woman_faces, into=tmp_path / "faces")
    count = len(list(folder.glob("*.png")))
    rename_ranked(ranked(read_face_set(folder), "blur"))
    rename_ranked(ranked(read_face_set(folder), "yaw"))
    names = sorted(path.name for path in folder.glob("*.png"))
    assert len(names) == count
    assert [name[:6] for name in names] == [f"{rank:05d}_" for rank in range(count)]
    assert all(name[6:].startswith("woman_") for name in names)
