"""One-line help for every option, and the page's groups (as Phaze-A's guide groups them)."""
from __future__ import annotations

# The options schema's own groups, folded into the guide's seven sections.
PAGE_GROUPS = {
    "general": "general", "global": "general", "encoder": "encoder", "fs_original": "encoder",
    "mobilenet": "encoder", "bottleneck": "bottleneck", "hidden": "fully connected",
    "gblock": "G-Block", "decoder": "decoder", "weights": "weights",
}
GROUP_ORDER = ("general", "encoder", "bottleneck", "fully connected", "G-Block", "decoder",
               "weights")

OPTION_HELP = {
    "output_size": "Size of the swapped face the decoders produce, in pixels (a multiple of 16).",
    "shared_fc": "An extra FC model whose output is joined to each side's: none, a separate "
                 "one (full) or side A's (half).",
    "enable_gblock": "Add the G-Block: a style-modulated block between FC and decoder "
                     "(AdaIN from its own FC).",
    "split_fc": "One FC model per side (fc_a, fc_b) instead of one shared fc_both.",
    "split_gblock": "One G-Block per side instead of one shared g_block_both.",
    "split_decoders": "One decoder per side (decoder_a, decoder_b) instead of decoder_both.",
    "enc_architecture": "The encoder backbone (see `phaze encoders`).",
    "enc_scaling": "Encoder input size as a percentage of the backbone's default size.",
    "enc_load_weights": "Start the backbone from its pretrained weights (when it has some).",
    "bottleneck_type": "How the encoder's feature map becomes a vector.",
    "bottleneck_norm": "Normalisation applied before the bottleneck.",
    "bottleneck_size": "Width of the dense bottleneck.",
    "bottleneck_in_encoder": "Put the bottleneck inside the encoder (else at the start of each "
                             "FC model).",
    "fc_depth": "Number of dense layers in each FC model (0: straight to the reshape).",
    "fc_min_filters": "Filters of the first dense layer (per reshape cell).",
    "fc_max_filters": "Filters of the last dense layer, i.e. the channels of the reshape.",
    "fc_dimensions": "Width and height the last dense layer is reshaped to.",
    "fc_filter_slope": "Curve of the dense widths from min to max (negative: rise early).",
    "fc_dropout": "Dropout between the dense layers (changeable on resume).",
    "fc_upsampler": "How the FC output is upscaled before the decoder.",
    "fc_upsamples": "Number of upscales inside the FC models.",
    "fc_upsample_filters": "Filters of the FC upscalers.",
    "fc_gblock_depth": "Dense layers of the G-Block's style FC model.",
    "fc_gblock_min_nodes": "Width of the style FC's first layer.",
    "fc_gblock_max_nodes": "Width of the style FC's last layer.",
    "fc_gblock_filter_slope": "Curve of the style FC's widths.",
    "fc_gblock_dropout": "Dropout in the style FC (changeable on resume).",
    "dec_upscale_method": "The decoder's upscaling layer.",
    "dec_upscales_in_fc": "How many of the decoder's upscales run inside the FC models.",
    "dec_norm": "Normalisation inside the decoder's upscalers.",
    "dec_min_filters": "Filters of the decoder's last upscaler.",
    "dec_max_filters": "Filters of the decoder's first upscaler.",
    "dec_slope_mode": "full: a smooth curve; cap_max / cap_min: fixed steps padded at one end.",
    "dec_filter_slope": "Curve of the decoder's filters from max to min.",
    "dec_res_blocks": "Residual blocks after each decoder upscale.",
    "dec_output_kernel": "Kernel size of the decoder's output convolution.",
    "dec_gaussian": "Gaussian noise at the decoder's input while training.",
    "dec_skip_last_residual": "Leave out the residual blocks after the last upscale.",
    "freeze_layers": "Sub-models frozen when training with --freeze-layers.",
    "load_layers": "Sub-models copied from another model with --load-weights.",
    "fs_original_depth": "fs_original encoder: number of downscaling convolutions.",
    "fs_original_min_filters": "fs_original encoder: filters of the first convolution.",
    "fs_original_max_filters": "fs_original encoder: the cap filters double up to.",
    "fs_original_use_alt": "fs_original encoder: the alternative layer layout.",
    "mobilenet_width": "MobileNet encoders: width multiplier (alpha).",
    "mobilenet_depth": "MobileNet encoders: depth multiplier.",
    "mobilenet_dropout": "MobileNet encoders: dropout.",
    "mobilenet_minimalistic": "MobileNet v3 encoders: the minimalistic variant.",
    "mobilenet_v3_double_rescale": "MobileNet v3 encoders: rescale the input a second time, "
                                   "as faceswap did (imported models).",
    "icnr_init": "ICNR initialisation of subpixel upscalers (fewer checkerboard artefacts).",
    "conv_aware_init": "Convolution-aware initialisation of convolutions.",
    "reflect_padding": "Reflect padding instead of zeros on the decoder's convolutions.",
    "learn_mask": "Also learn a mask output (the face folders need masks/).",
}
