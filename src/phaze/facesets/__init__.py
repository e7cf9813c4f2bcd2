"""Sort, filter and report on folders of aligned faces (blur, identity, duplicates, pose, coverage)."""
