"""Training data: face folders, synthetic faces, augmentation and the A/B batch loader."""
