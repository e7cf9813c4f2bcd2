"""Keep a share of each face set out of training, so the comparison scores unseen faces."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from phaze.data.sources import SourceScan, scan_folder
from phaze.errors import DataError


@dataclass(frozen=True)
class FaceSplit:
    """One side's faces: those trained on and those only ever scored."""

    train: SourceScan
    held_out: tuple[Path, ...]


def split_faces(folder: str | Path, side: str, share: float) -> FaceSplit:
    """Hold out the last `share` of the folder's faces in name order (at least one).

    The tail, not every k-th face: faces extracted from a video are named by frame, and a
    frame's neighbours look almost the same, so interleaving would score near-copies of
    training faces. Both sides always split the same way for the same folder.
    """
    scan = scan_folder(folder, side, report=False)
    records = sorted(scan.records, key=lambda record: record.path.name)
    held = max(1, math.ceil(len(records) * share))
    if held >= len(records):
        raise DataError(f"side {side.upper()} face folder {folder}: {len(records)} face(s) "
                        f"cannot be split by holdout {share}: at least one face must be left "
                        "to train on (use more faces or a smaller --holdout)")
    train = SourceScan(side=side, records=records[:-held], broken=scan.broken)
    return FaceSplit(train=train, held_out=tuple(r.path for r in records[-held:]))
