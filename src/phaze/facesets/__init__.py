"""Sort, filter and report on aligned face folders (blur, identity, duplicates, pose, coverage)."""
