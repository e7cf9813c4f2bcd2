"""`phaze score`: swap each side's faces through the model and measure the result."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from phaze.errors import DataError
from phaze.score.metrics import (identity_retrieval, identity_transfer,
                                 landmark_error_percent_iod, mean_ssim, sharpness_ratio)
from phaze.score.recognizer import FaceReading, FaceRecognizer

log = logging.getLogger(__name__)
Faces = np.ndarray  # (N, H, W, 3) uint8 RGB
SwapFn = Callable[[Faces], Faces]
# Below these the identity figures are not trusted: a swap that dlib cannot find as a face, or
# that has lost most of its targets' detail, can still sit nearer B than A in embedding space.
MIN_FOUND_SHARE = 0.5       # swaps with a detectable face
MIN_SHARPNESS_RATIO = 0.4   # swap sharpness / target sharpness
VERDICTS = ("transfer", "partial transfer", "no transfer", "too blurry to judge")


@dataclass
class DirectionScore:
    """Figures for one direction (e.g. a-to-b: A's faces shown as B)."""

    faces: int
    identity_share: float | None = None  # None: no face found, see `notes`
    identity_margin: float | None = None
    landmark_error_percent_iod: float | None = None
    swaps_without_face: int = 0
    sources_without_face: int = 0
    retrieval_top1: float | None = None     # nearest of A, B and distractors is the target
    retrieval_margin: float | None = None   # distance to best other identity − to target
    retrieval_margin_std: float | None = None
    target_distance: float | None = None    # mean descriptor distance to the target; < 0.6
    #                                         is "the same person" for dlib
    gallery_identities: int = 0
    sharpness_ratio: float | None = None    # swaps' detail / targets' detail (1.0: as sharp)
    verdict: str = "too blurry to judge"    # one of VERDICTS
    notes: list[str] = field(default_factory=list)


@dataclass
class ScoreReport:
    directions: dict[str, DirectionScore]
    reconstruction_ssim: dict[str, float]  # side → mean SSIM of its own reconstruction

    def to_dict(self) -> dict:
        return asdict(self)


def score_direction(sources: Faces, targets: Faces, swaps: Faces,
                    recognizer: FaceRecognizer,
                    distractors: Sequence[Faces] = ()) -> DirectionScore:
    """Identity transfer, retrieval among A, B and the `distractors` (each one other person's
    faces), sharpness and landmark preservation of `swaps` (one per source face)."""
    source_reads = [recognizer.read(face) for face in sources]
    target_reads = [r for r in (recognizer.read(face) for face in targets) if r is not None]
    swap_reads = [recognizer.read(face) for face in swaps]
    score = DirectionScore(faces=len(sources),
                           swaps_without_face=sum(r is None for r in swap_reads),
                           sources_without_face=sum(r is None for r in source_reads),
                           sharpness_ratio=sharpness_ratio(swaps, targets))
    found_sources = [r for r in source_reads if r is not None]
    found_swaps = [r for r in swap_reads if r is not None]
    if not found_swaps or not found_sources or not target_reads:
        missing = [name for name, reads in (("swaps", found_swaps), ("source faces", found_sources),
                                            ("target faces", target_reads)) if not reads]
        score.notes.append(f"no face found by the recognition model in any of the "
                           f"{' / '.join(missing)}: identity and landmark figures not computed")
        return score
    transfer = identity_transfer(_embeddings(found_swaps), _embeddings(found_sources),
                                 _embeddings(target_reads))
    score.identity_share, score.identity_margin = transfer.share, transfer.mean_cosine_margin
    _add_retrieval(score, found_swaps, found_sources, target_reads, distractors, recognizer)
    pairs = [(s, w) for s, w in zip(source_reads, swap_reads) if s is not None and w is not None]
    if pairs:
        score.landmark_error_percent_iod = float(np.mean(
            [landmark_error_percent_iod(s.landmarks, w.landmarks) for s, w in pairs]))
    if score.swaps_without_face or score.sources_without_face:
        score.notes.append(f"faces not found: {score.sources_without_face} sources, "
                           f"{score.swaps_without_face} swaps; figures use the rest")
    score.verdict = verdict(score)
    return score


def _add_retrieval(score: DirectionScore, swaps: Sequence[FaceReading],
                   sources: Sequence[FaceReading], targets: Sequence[FaceReading],
                   distractors: Sequence[Faces], recognizer: FaceRecognizer) -> None:
    gallery = {"source": _embeddings(sources), "target": _embeddings(targets)}
    for index, faces in enumerate(distractors):
        reads = [r for r in (recognizer.read(face) for face in faces) if r is not None]
        if reads:
            gallery[f"distractor {index + 1}"] = _embeddings(reads)
        else:
            score.notes.append(f"distractor {index + 1}: no face found, left out of the gallery")
    retrieval = identity_retrieval(_embeddings(swaps), gallery, "target")
    score.retrieval_top1, score.retrieval_margin = retrieval.top1, retrieval.margin
    score.retrieval_margin_std, score.gallery_identities = retrieval.margin_std, len(gallery)
    score.target_distance = retrieval.target_distance


def verdict(score: DirectionScore) -> str:
    """One word a user can act on; identity figures count only for swaps that are faces with
    detail (a blur can sit nearer B than A and still show nobody)."""
    found_share = 1 - score.swaps_without_face / max(score.faces, 1)
    if score.retrieval_top1 is None or found_share < MIN_FOUND_SHARE \
            or (score.sharpness_ratio or 0.0) < MIN_SHARPNESS_RATIO:
        return "too blurry to judge"
    if score.retrieval_top1 >= 0.5 and (score.retrieval_margin or 0.0) > 0:
        return "transfer"
    if score.retrieval_top1 > 0:
        return "partial transfer"
    return "no transfer"


def _embeddings(reads: Sequence[FaceReading]) -> np.ndarray:
    return np.stack([r.embedding for r in reads])


def score_faces(faces_a: Faces, faces_b: Faces, swap_to: dict[str, SwapFn],
                recognizer: FaceRecognizer | None = None,
                distractors: Sequence[Faces] = ()) -> ScoreReport:
    """Score with `swap_to[side](faces)`: the faces rendered by `side`'s decoder ("a", "b");
    `distractors` are other people's faces (one array per person) for identity retrieval."""
    recognizer = recognizer or FaceRecognizer()
    directions = {
        "a-to-b": score_direction(faces_a, faces_b, swap_to["b"](faces_a), recognizer,
                                  distractors),
        "b-to-a": score_direction(faces_b, faces_a, swap_to["a"](faces_b), recognizer,
                                  distractors),
    }
    ssim = {side: mean_ssim(faces, _resized(swap_to[side](faces), faces.shape[1]))
            for side, faces in (("a", faces_a), ("b", faces_b))}
    return ScoreReport(directions=directions, reconstruction_ssim=ssim)


def _resized(faces: Faces, size: int) -> Faces:
    import cv2

    if faces.shape[1] == size:
        return faces
    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_CUBIC) for f in faces])


def read_faces(folder: str | Path, limit: int, framing=None, size_px: int | None = None) -> Faces:
    """Up to `limit` face images of a folder as (N, S, S, 3), all resized to the first's size;
    with `framing` and `size_px`, framed as training frames them (`phaze.inference.folder_swap.framed_image`)."""
    from phaze.inference.folder_swap import framed_image, list_images

    paths = list_images(folder)[:limit]
    if framing is not None and size_px is not None:
        decoded = (framed_image(p, framing, size_px) for p in paths)
    else:
        decoded = (_decoded_or_none(p) for p in paths)
    images = [img for img in decoded if img is not None]
    if not images:
        raise DataError(f"face folder {folder}: no readable face images.")
    return _resized_list(images, images[0].shape[0])


def _decoded_or_none(path: Path) -> np.ndarray | None:
    """The image, or None (with a warning naming it) when it is over the image-area budget."""
    from phaze.io.images import decode_image

    try:
        return decode_image(path)
    except DataError as error:
        log.warning("%s: skipped: %s", path.name, error)
        return None


def _resized_list(images: list[np.ndarray], size: int) -> Faces:
    import cv2

    return np.stack([img if img.shape[:2] == (size, size) else
                     cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA) for img in images])


def score_model(model_dir: str | Path, faces_a: str | Path, faces_b: str | Path,
                device: str = "auto", limit: int = 64,
                recognizer: FaceRecognizer | None = None,
                distractors: Sequence[str | Path] = ()) -> ScoreReport:
    """Load the model folder and score it on up to `limit` faces of each folder; each of
    `distractors` is a folder of one other person's faces for the retrieval gallery."""
    from phaze.storage.checkpoint import load_model_dir
    from phaze.inference import Swapper
    from phaze.io.devices import resolve_device
    from phaze.storage.framing_file import read_model_framing

    model, _ = load_model_dir(model_dir, resolve_device(device))
    # Faces are framed as in training first, so the swapper crops nothing more.
    framing = read_model_framing(model_dir)
    working = max(model.input_size, model.output_size)
    swappers = {"b": Swapper(model, "a-to-b"), "a": Swapper(model, "b-to-a")}
    swap_to = {side: (lambda faces, s=swapper: s.swap_arrays(faces).faces)
               for side, swapper in swappers.items()}
    others = [read_faces(folder, limit, framing, working) for folder in distractors]
    return score_faces(read_faces(faces_a, limit, framing, working),
                       read_faces(faces_b, limit, framing, working), swap_to, recognizer,
                       others)
