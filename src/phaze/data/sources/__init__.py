"""Face sources: what a training side's faces are (faceswap/DFL faces with landmarks, plain crops,
synthetic faces in memory) and what each one carries."""
from phaze.data.sources.scan import (FaceKind, FaceRecord, SourceScan, scan_folder,
                                     synthetic_source)

__all__ = ["FaceKind", "FaceRecord", "SourceScan", "scan_folder", "synthetic_source"]
