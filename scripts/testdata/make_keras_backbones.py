"""Build the Keras ground truth for importing faceswap models with Keras-application encoders.

Not run by CI. Needs a separate virtualenv with Keras 3 on its PyTorch backend:

    python3 -m venv /work/keras-venv
    /work/keras-venv/bin/pip install torch==2.13.0      # first: the CPU wheel
    /work/keras-venv/bin/pip install keras==3.14.1 h5py numpy
    KERAS_BACKEND=torch /work/keras-venv/bin/python scripts/testdata/make_keras_backbones.py \
        --fixtures ../shared/fixtures/faceswap --out tests/formats/keras_backbones

What it writes (float32 throughout, all small):

* `<case>_<format>/`: a whole Phaze-A model in faceswap's layout, `phaze_a.keras` (or the
  legacy `phaze_a.h5`) + `phaze_a_state.json` + `inputs.npz` / `outputs.npz`. The non-encoder
  sub-models (fc_both, decoder_a, decoder_b) are fixture c01's, loaded from its `.keras` file;
  the encoder is rebuilt the way faceswap's Phaze-A builds it: Input → faceswap's scaling op
  (×255 or ×2−1) → the Keras application (`include_top=False, weights=None`) → Flatten → Dense
  (c01's dense bottleneck in the encoder).

Constant weights (biases, batch-norm statistics, γ, Normalization mean/variance) are replaced
with random values as `shared/fixtures/faceswap/README.md` step 4 describes, so a mistake in any
of them shows in the outputs. Inputs are uint8 images / 255 (README step 5).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from keras import layers, ops  # noqa: E402

APPS = keras.applications


@keras.saving.register_keras_serializable(package="faceswap_standin")
class PixelShuffler(keras.layers.Layer):
    """Stand-in for faceswap's PixelShuffler (TensorFlow depth-to-space order), to load c01."""

    def __init__(self, size=(2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
        self.data_format = data_format

    def call(self, x):
        n, h, w, c = ops.shape(x)
        ry, rx = self.size
        out_c = c // (ry * rx)
        x = ops.reshape(x, (-1, h, w, ry, rx, out_c))     # channel (i·rx + j)·F + c
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, h * ry, w * rx, out_c))

    def compute_output_shape(self, shape):
        n, h, w, c = shape
        ry, rx = self.size
        return (n, None if h is None else h * ry, None if w is None else w * rx,
                c // (ry * rx))

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


def deflate(keras_file: Path) -> None:
    """Rewrite a `.keras` zip with its members deflated (Keras stores them): the configs of the
    Inception / NASNet graphs shrink ~45×, the HDF5 files ~3×. Readers see the same bytes."""
    import zipfile

    with zipfile.ZipFile(keras_file) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(keras_file, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info, payload in members:
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, payload)


def randomise(model: keras.Model, seed: int) -> None:
    """Replace every constant float weight: variances U(0.5, 2), γ U(0.75, 1.25), else ±0.1."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if "float" not in str(weight.dtype):
            continue
        value = np.asarray(keras.ops.convert_to_numpy(weight))
        if value.size and not np.all(value == value.flat[0]):
            continue
        name = weight.path.rsplit("/", 1)[-1]
        if name.endswith("variance"):
            new = rng.uniform(0.5, 2.0, value.shape)
        elif name in ("gamma", "scale"):
            new = rng.uniform(0.75, 1.25, value.shape)
        else:
            new = rng.uniform(-0.1, 0.1, value.shape)
        weight.assign(new.astype(np.float32))


def calibrate(model: keras.Model, size: int, seed: int) -> None:
    """Set batch-norm moving statistics near the real ones, then perturb them.

    With step 4's rule alone (mean ±0.1, variance 0.5–2) a deep random backbone's activations
    shrink block by block until its output no longer depends on the input, and a wrong padding
    or kernel layout would not show. So every BatchNormalization first takes the statistics of
    one training-mode pass over a calibration batch (momentum 0), then mean += U(−0.1, 0.1)·σ
    and variance ×= U(0.5, 2).
    """
    norms = [layer for layer in _all_layers(model)
             if isinstance(layer, layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0
    with torch.no_grad():
        model(images(size, seed=seed, count=4), training=True)
    rng = np.random.default_rng(seed)
    for layer, momentum in zip(norms, momenta):
        layer.momentum = momentum
        mean = np.asarray(keras.ops.convert_to_numpy(layer.moving_mean))
        var = np.asarray(keras.ops.convert_to_numpy(layer.moving_variance))
        layer.moving_mean.assign((mean + rng.uniform(-0.1, 0.1, mean.shape) * np.sqrt(var))
                                 .astype(np.float32))
        layer.moving_variance.assign((var * rng.uniform(0.5, 2.0, var.shape))
                                     .astype(np.float32))


def _all_layers(model: keras.Model) -> list:
    found = []
    for layer in model.layers:
        found += _all_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return found


def images(size: int, seed: int = 7, count: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    u8 = np.round(rng.random((count, size, size, 3), dtype=np.float32) * 255)
    return u8.astype(np.float32) / 255


def run(model: keras.Model, inputs):
    with torch.no_grad():
        out = model(inputs, training=False)
    out = keras.tree.flatten(out)   # c01's decoders return one-element lists
    return [np.asarray(keras.ops.convert_to_numpy(o), dtype=np.float32) for o in out]


# --- whole Phaze-A models -----------------------------------------------------------------
# case → (enc_architecture, Keras application builder, faceswap's scaling, extra options)
WHOLE = {
    "efficientnet_b0": ("efficientnet_b0", lambda s: APPS.EfficientNetB0(
        input_shape=(s, s, 3), include_top=False, weights=None), "byte", {}),
    "mobilenet_v2_a035": ("mobilenet_v2", lambda s: APPS.MobileNetV2(
        input_shape=(s, s, 3), alpha=0.35, include_top=False, weights=None), "signed",
        {"mobilenet_width": 0.35}),
    "mobilenet_a025": ("mobilenet", lambda s: APPS.MobileNet(
        input_shape=(s, s, 3), alpha=0.25, include_top=False, weights=None), "signed",
        {"mobilenet_width": 0.25}),
    # faceswap passes MobileNetV3 none of its options (defect 12): Keras' defaults apply, so
    # the application keeps its own Rescaling(1/127.5, −1) after faceswap's ×2−1, and the
    # state file's mobilenet_width / mobilenet_minimalistic are ignored. faceswap's V3 is
    # α 1; α 0.25 here keeps the file small (the importer reads the width from the file).
    "mobilenet_v3_small_a025": ("mobilenet_v3_small", lambda s: APPS.MobileNetV3Small(
        input_shape=(s, s, 3), alpha=0.25, include_top=False, weights=None), "signed",
        {"mobilenet_width": 1.0, "mobilenet_minimalistic": True}),
}


def faceswap_encoder(app: keras.Model, size: int, scaling: str, bottleneck: int) -> keras.Model:
    """faceswap's Phaze-A encoder: scaling op, the application, then the dense bottleneck."""
    inputs = keras.Input((size, size, 3))
    x = inputs * 255.0 if scaling == "byte" else inputs * 2.0 - 1.0
    x = app(x)
    x = layers.Flatten()(x)
    x = layers.Dense(bottleneck)(x)
    return keras.Model(inputs, x, name="encoder")


def make_whole(case: str, fixtures: Path, out: Path, fmt: str) -> None:
    arch, build, scaling, extra = WHOLE[case]
    source = fixtures / "c01"
    c01 = keras.saving.load_model(source / "phaze_a.keras", compile=False,
                                  custom_objects={"PixelShuffler": PixelShuffler})
    keras.utils.set_random_seed(1234)
    size = 64
    encoder = faceswap_encoder(build(size), size, scaling, 32)
    randomise(encoder, 4321)
    calibrate(encoder, size, 99)
    face_a = keras.Input((size, size, 3), name="face_in_a")
    face_b = keras.Input((size, size, 3), name="face_in_b")
    fc_both = c01.get_layer("fc_both")
    outputs = [c01.get_layer("decoder_a")(fc_both(encoder(face_a))),
               c01.get_layer("decoder_b")(fc_both(encoder(face_b)))]
    model = keras.Model([face_a, face_b], outputs, name="phaze_a")
    a, b = images(size, seed=7), images(size, seed=8)
    face_out_a, face_out_b = run(model, [a, b])
    # the encoder's own outputs: the faces alone barely depend on it (c01's decoders squash)
    encoded_a, encoded_b = run(encoder, a)[0], run(encoder, b)[0]
    folder = out / f"{case}_{fmt}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    model.save(folder / f"phaze_a.{fmt}")
    if fmt == "keras":
        deflate(folder / "phaze_a.keras")
    state = json.loads((source / "phaze_a_state.json").read_text())
    # enc_scaling 29 %: 16·floor(224·0.29/16) = 64 px, the fixture's input size
    state["config"].update(enc_architecture=arch, enc_scaling=29, **extra)
    (folder / "phaze_a_state.json").write_text(json.dumps(state, indent=1))
    np.savez(folder / "inputs.npz", face_in_a=a, face_in_b=b)
    np.savez(folder / "outputs.npz", face_a=face_out_a, face_b=face_out_b,
             encoder_a=encoded_a, encoder_b=encoded_b)
    print(case, fmt, "params", model.count_params())


# --- backbone-level cases: applications too large to store at full width --------------------
VGG_SMALL_WIDTHS = (4, 8, 8, 16, 16)


def vgg_replica(depth: int, size: int) -> keras.Model:
    """keras.applications VGG16/19 (include_top=False) with narrow widths, same layer names.

    Keras' VGG has no width option; this repeats its code (3×3 'same' ReLU convolutions named
    block<b>_conv<c>, then a 2×2 max-pool per block) with VGG_SMALL_WIDTHS channels.
    """
    convs = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}[depth]
    inputs = keras.Input((size, size, 3))
    x = inputs
    for block, (count, width) in enumerate(zip(convs, VGG_SMALL_WIDTHS), start=1):
        for conv in range(1, count + 1):
            x = layers.Conv2D(width, 3, activation="relu", padding="same",
                              name=f"block{block}_conv{conv}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    return keras.Model(inputs, x, name=f"vgg{depth}")


# CLIP: faceswap builds its own Keras layers (no keras.applications model). This replica uses
# the layer classes and names of faceswap's Keras CLIP port as published: `<name>.conv1`, custom
# ClassEmbedding / PositionalEmbedding / Projection layers (one variable each), `<name>.ln_pre`,
# `<name>.transformer.resblocks.<n>.{ln_1,attn,ln_2,mlp.c_fc,mlp.c_proj}` (Keras
# MultiHeadAttention, heads = width / 64), `<name>.ln_post`; QuickGELU is x·σ(1.702x). Keras on
# torch refuses '.' in layer names (torch parameter names), so SEP joins the parts here; the
# importer accepts '.', '/' or '_' between them.
SEP = "_"
class _Embedding(keras.layers.Layer):
    def __init__(self, input_shape, scale, **kwargs):
        super().__init__(**kwargs)
        self._shape, self._scale = tuple(input_shape), scale

    def build(self, _):
        self._var = self.add_weight(shape=self._shape, initializer=keras.initializers.RandomNormal(
            stddev=self._scale))

    def get_config(self):
        return {**super().get_config(), "input_shape": self._shape, "scale": self._scale}


@keras.saving.register_keras_serializable(package="faceswap_standin")
class ClassEmbedding(_Embedding):
    def call(self, x):        # (N, 1, w)
        return ops.tile(self._var[None, None], [ops.shape(x)[0], 1, 1])


@keras.saving.register_keras_serializable(package="faceswap_standin")
class PositionalEmbedding(_Embedding):
    def call(self, x):        # (N, g² + 1, w)
        return ops.tile(self._var[None], [ops.shape(x)[0], 1, 1])


@keras.saving.register_keras_serializable(package="faceswap_standin")
class Projection(_Embedding):
    def call(self, x):        # (N, E, w)
        return ops.tile(ops.transpose(self._var)[None], [ops.shape(x)[0], 1, 1])


@keras.saving.register_keras_serializable(package="faceswap_standin")
class QuickGELU(keras.layers.Layer):
    def call(self, x):
        return x * ops.sigmoid(1.702 * x)


def clip_replica(size: int, width: int, depth: int, patch: int, embed: int,
                 name: str = "visual") -> keras.Model:
    inputs = keras.Input((size, size, 3))
    def n(*parts):
        return SEP.join((name,) + parts)

    x = layers.Conv2D(width, patch, strides=patch, use_bias=False, name=n("conv1"))(inputs)
    x = layers.Reshape((-1, width))(x)
    x = layers.Concatenate(axis=1)([ClassEmbedding((width,), width ** -0.5,
                                                   name=n("class_embedding"))(x), x])
    x = layers.Add()([x, PositionalEmbedding(((size // patch) ** 2 + 1, width), width ** -0.5,
                                             name=n("positional_embedding"))(x)])
    x = layers.LayerNormalization(epsilon=1e-5, name=n("ln_pre"))(x)
    for index in range(depth):
        block = ("transformer", "resblocks", str(index))
        y = layers.LayerNormalization(epsilon=1e-5, name=n(*block, "ln_1"))(x)
        y = layers.MultiHeadAttention(width // 64, 64, name=n(*block, "attn"))(y, y, y)
        x = layers.Add()([x, y])
        y = layers.LayerNormalization(epsilon=1e-5, name=n(*block, "ln_2"))(x)
        y = layers.Dense(width * 4, name=n(*block, "mlp", "c_fc"))(y)
        y = QuickGELU(name=n(*block, "mlp", "gelu"))(y)
        x = layers.Add()([x, layers.Dense(width, name=n(*block, "mlp", "c_proj"))(y)])
    x = layers.LayerNormalization(epsilon=1e-5, name=n("ln_post"))(x[:, 0, :])
    proj = Projection((width, embed), width ** -0.5, name=n("proj"))(x)
    return keras.Model(inputs, layers.Dot(axes=-1)([x, proj]), name=name)


XCEPTION_SMALL_WIDTHS = (4, 8, 8, 16, 16, 24, 24, 32)   # Keras: 32 64 128 256 728 1024 1536 2048


def xception_replica(size: int, widths=XCEPTION_SMALL_WIDTHS) -> keras.Model:
    """keras.applications.Xception (include_top=False) with narrow widths: the same layers,
    names and order (its shortcut convolutions and norms unnamed), 8 middle blocks."""
    w1, w2, w3, w4, w5, w6, w7, w8 = widths
    inputs = keras.Input((size, size, 3))

    def sep(x, filters, name):
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
        return layers.BatchNormalization(name=f"{name}_bn")(x)

    def shortcut(x, filters):
        x = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False)(x)
        return layers.BatchNormalization()(x)

    x = layers.Conv2D(w1, 3, strides=2, use_bias=False, name="block1_conv1")(inputs)
    x = layers.Activation("relu")(layers.BatchNormalization(name="block1_conv1_bn")(x))
    x = layers.Conv2D(w2, 3, use_bias=False, name="block1_conv2")(x)
    x = layers.Activation("relu")(layers.BatchNormalization(name="block1_conv2_bn")(x))
    for block, filters in ((2, w3), (3, w4), (4, w5)):
        residual = shortcut(x, filters)
        if block > 2:
            x = layers.Activation("relu")(x)
        x = sep(x, filters, f"block{block}_sepconv1")
        x = sep(layers.Activation("relu")(x), filters, f"block{block}_sepconv2")
        x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"block{block}_pool")(x)
        x = layers.add([x, residual])
    for block in range(5, 13):
        residual = x
        for conv in (1, 2, 3):
            x = sep(layers.Activation("relu")(x), w5, f"block{block}_sepconv{conv}")
        x = layers.add([x, residual])
    residual = shortcut(x, w6)
    x = sep(layers.Activation("relu")(x), w5, "block13_sepconv1")
    x = sep(layers.Activation("relu")(x), w6, "block13_sepconv2")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="block13_pool")(x)
    x = layers.add([x, residual])
    x = layers.Activation("relu")(sep(x, w7, "block14_sepconv1"))
    x = layers.Activation("relu")(sep(x, w8, "block14_sepconv2"))
    return keras.Model(inputs, x, name="xception")


def narrow_inception_v3(divisor: int = 16) -> keras.Model:
    """keras.applications.InceptionV3 itself, every conv2d_bn unit 1/16 as wide (all of
    InceptionV3's widths are multiples of 16): its module-level helper is wrapped while the
    model is built, so layers, order and names are Keras' own."""
    from keras.src.applications import inception_v3

    original = inception_v3.conv2d_bn

    def narrow(x, filters, *args, **kwargs):
        return original(x, filters // divisor, *args, **kwargs)

    inception_v3.conv2d_bn = narrow
    try:
        return APPS.InceptionV3(include_top=False, weights=None, input_shape=(75, 75, 3))
    finally:
        inception_v3.conv2d_bn = original


def narrow_inception_resnet_v2(divisor: int = 16) -> keras.Model:
    """keras.applications.InceptionResNetV2 itself, 1/16 as wide, built like
    narrow_inception_v3; a block's `*_conv` up-projection already takes its (narrow) input's
    width, so it is left alone."""
    from keras.src.applications import inception_resnet_v2

    original = inception_resnet_v2.conv2d_bn

    def narrow(x, filters, *args, **kwargs):
        up_projection = str(kwargs.get("name") or "").endswith("_conv")
        return original(x, filters if up_projection else filters // divisor, *args, **kwargs)

    inception_resnet_v2.conv2d_bn = narrow
    try:
        return APPS.InceptionResNetV2(include_top=False, weights=None, input_shape=(75, 75, 3))
    finally:
        inception_resnet_v2.conv2d_bn = original


def make_backbone(case: str, app: keras.Model, size: int, scaling: str, out: Path) -> None:
    """`<case>.keras`: faceswap's encoder around `app` (no bottleneck); `<case>.npz`: its
    input (NHWC, in the order the encoder is fed) and output."""
    keras.utils.set_random_seed(1234)
    inputs = keras.Input((size, size, 3))
    x = {"byte": lambda: inputs * 255.0, "signed": lambda: inputs * 2.0 - 1.0,
         "unit": lambda: inputs}[scaling]()
    encoder = keras.Model(inputs, app(x), name="encoder")
    randomise(encoder, 4321)
    calibrate(encoder, size, 99)
    face = images(size, seed=7)
    folder = out / "backbones"
    folder.mkdir(parents=True, exist_ok=True)
    encoder.save(folder / f"{case}.keras")
    deflate(folder / f"{case}.keras")
    np.savez(folder / f"{case}.npz", input=face, output=run(encoder, face)[0])
    print(case, "params", encoder.count_params())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    # EfficientNet-B0 cannot be narrowed (4 M parameters, 17 MB): one copy, as .keras
    jobs = [("efficientnet_b0", "keras"), ("mobilenet_v2_a035", "keras"),
            ("mobilenet_v2_a035", "h5"), ("mobilenet_a025", "h5"),
            ("mobilenet_v3_small_a025", "keras")]
    for case, fmt in jobs:
        if args.only and case not in args.only:
            continue
        make_whole(case, args.fixtures, args.out, fmt)
    from keras.src.applications import convnext, densenet, efficientnet_v2, resnet

    def resnet_v1_stacks(x):   # ResNet50's stack function, one block per stage, 4…16 filters
        x = resnet.stack_residual_blocks_v1(x, 4, 1, stride1=1, name="conv2")
        for stage, filters in ((3, 8), (4, 8), (5, 16)):
            x = resnet.stack_residual_blocks_v1(x, filters, 1, name=f"conv{stage}")
        return x

    def resnet_v2_stacks(x):   # ResNet50V2's stack function, two blocks per stage
        # (filters multiples of 8: timm rounds a bottleneck's width to them)
        x = resnet.stack_residual_blocks_v2(x, 8, 2, name="conv2")
        x = resnet.stack_residual_blocks_v2(x, 8, 2, name="conv3")
        x = resnet.stack_residual_blocks_v2(x, 16, 2, name="conv4")
        return resnet.stack_residual_blocks_v2(x, 16, 2, stride1=1, name="conv5")

    small = {
        "resnet_v2_small": (lambda: resnet.ResNet(resnet_v2_stacks, True, True,
                                                  include_top=False, weights=None,
                                                  input_shape=(64, 64, 3), name="resnet50v2"),
                            "signed"),
        # keras.applications' ConvNeXt builder (with its ImageNet pre-stem) at widths 8…32
        "convnext_small_width": (lambda: convnext.ConvNeXt(
            depths=[1, 1, 1, 1], projection_dims=[8, 16, 16, 32], name="convnext_tiny",
            include_top=False, weights=None, input_shape=(64, 64, 3)), "byte"),
        # keras.applications' EfficientNetV2 builder with B0's blocks at width 0.25 and one
        # block per stage, without its preprocessing (faceswap switches it off)
        "efficientnet_v2_small": (lambda: efficientnet_v2.EfficientNetV2(
            0.25, 0.1, 224, blocks_args=efficientnet_v2.DEFAULT_BLOCKS_ARGS["efficientnetv2-b0"],
            name="efficientnetv2-b0",
            include_top=False, weights=None, input_shape=(64, 64, 3),
            include_preprocessing=False), "signed"),
        # keras.applications' own ResNet builder, as ResNet50 calls it, with small stacks
        "resnet_v1_small": (lambda: resnet.ResNet(resnet_v1_stacks, False, True,
                                                  include_top=False, weights=None,
                                                  input_shape=(64, 64, 3), name="resnet50"),
                            "signed"),
        # keras.applications' own DenseNet builder with one layer per dense block
        "densenet_small": (lambda: densenet.DenseNet([1, 1, 1, 1], include_top=False,
                                                     weights=None, input_shape=(64, 64, 3),
                                                     name="densenet121"), "unit"),
    }
    for case, (build, scaling) in small.items():   # scaling: faceswap's for that encoder
        if not args.only or case in args.only:
            make_backbone(case, build(), 64, scaling, args.out)
    if not args.only or "inception_v3_small" in args.only:
        make_backbone("inception_v3_small", narrow_inception_v3(), 75, "signed", args.out)
    if not args.only or "inception_resnet_v2_small" in args.only:
        make_backbone("inception_resnet_v2_small", narrow_inception_resnet_v2(), 75, "signed",
                      args.out)
    if not args.only or "nasnet_large_small" in args.only:
        from keras.src.applications import nasnet   # NASNetLarge's builder, 1/21 as wide
        app = nasnet.NASNet(input_shape=(64, 64, 3), penultimate_filters=192, num_blocks=6,
                            stem_block_filters=16, skip_reduction=True, filter_multiplier=2,
                            include_top=False, weights=None, default_size=64,
                            name="nasnet_large")
        make_backbone("nasnet_large_small", app, 64, "signed", args.out)
    # MobileNetV3 as faceswap builds it (its Rescaling kept), 48 px so a 3 px map is strided
    mobilenet_v3 = {
        "mobilenet_v3_large_a015": lambda: APPS.MobileNetV3Large(
            input_shape=(48, 48, 3), alpha=0.15, include_top=False, weights=None),
        "mobilenet_v3_small_minimal_a025": lambda: APPS.MobileNetV3Small(
            input_shape=(48, 48, 3), alpha=0.25, minimalistic=True, include_top=False,
            weights=None),
    }
    for case, build in mobilenet_v3.items():
        if not args.only or case in args.only:
            make_backbone(case, build(), 48, "signed", args.out)
    if not args.only or "xception_small" in args.only:
        make_backbone("xception_small", xception_replica(80), 80, "signed", args.out)
    if not args.only or "clip_small" in args.only:   # faceswap feeds CLIP [0, 1]
        make_backbone("clip_small", clip_replica(64, 128, 2, 16, 32), 64, "unit", args.out)
    for depth in (16, 19):
        if not args.only or f"vgg{depth}_small" in args.only:
            make_backbone(f"vgg{depth}_small", vgg_replica(depth, 64), 64, "byte", args.out)


if __name__ == "__main__":
    main()
