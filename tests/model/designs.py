"""Small option sets the model tests build: real structure, seconds on a 2-core CPU."""

TINY = {
    "output_size": 64, "fs_original_depth": 4, "fs_original_min_filters": 16,
    "fs_original_max_filters": 256, "bottleneck_size": 128, "fc_min_filters": 128,
    "fc_max_filters": 128, "fc_upsample_filters": 128, "fc_gblock_min_nodes": 128,
    "fc_gblock_max_nodes": 128, "dec_max_filters": 256, "dec_min_filters": 16,
    "enc_load_weights": False,
}
