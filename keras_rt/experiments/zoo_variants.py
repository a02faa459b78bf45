"""What the zoo benchmarks compare: the models, the training variants and the default budgets.

The zoo benchmarks (`keras_rt.experiments.zoo_throughput`,
`keras_rt.experiments.zoo_quality`) measure the zoo VAEs under `fit` against
a VAE written "the common way" (`keras_rt.experiments.reference_vae.ReferenceVAE`):
the same encoder/decoder layers and objective, a hand-written `train_step`
with `tf.GradientTape`, inline sampling, float32 and no XLA. Each way of
training is a `Variant`; `VARIANTS` holds them all by name.

This module imports neither TensorFlow nor Keras, so that the command line
(`keras-rt benchmark-zoo`) can offer these names without loading them.

Example:

>>> sorted(MODELS)
['conv_vae', 'mlp_vae']
>>> VARIANTS["zoo_bf16_xla"].policy, VARIANTS["zoo_bf16_xla"].jit_compile
('mixed_bfloat16', True)
>>> VARIANTS["zoo_default"].policy  # the training plan decides, as `keras-rt train` does
'auto'
>>> resolve_variants(["zoo_f32"])[0].name  # the reference is always added first
'reference'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from keras_rt.ops.validation import check_int

MODELS = ("mlp_vae", "conv_vae")


@dataclasses.dataclass(frozen=True)
class Variant:
    """One way of training a model.

    Attributes:
        name: key in `VARIANTS` and in results.
        kind: `"reference"` or `"zoo"`.
        policy: Keras dtype policy (`"float32"`, `"mixed_bfloat16"`,
            `"mixed_float16"`), or `"auto"`: the training plan's choice.
        jit_compile: XLA on or off, or None: the training plan's choice
            (`keras_rt.experiments.zoo_harness.concrete_variant` resolves both).
        label: what the tables print.
    """

    name: str
    kind: str
    policy: str
    jit_compile: bool | None
    label: str


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("reference", "reference", "float32", False, "reference: GradientTape, f32"),
        Variant("zoo_default", "zoo", "auto", None, "zoo fit, default (measured plan)"),
        Variant("zoo_f32", "zoo", "float32", False, "zoo fit, f32, partial XLA"),
        Variant("zoo_bf16", "zoo", "mixed_bfloat16", False, "zoo fit, bf16, partial XLA"),
        Variant("zoo_f32_xla", "zoo", "float32", True, "zoo fit, f32, XLA"),
        Variant("zoo_bf16_xla", "zoo", "mixed_bfloat16", True, "zoo fit, bf16, XLA"),
        Variant("zoo_f16_xla", "zoo", "mixed_float16", True, "zoo fit, f16, XLA"),
    )
}
# What each device compares by default (float16 only pays off on GPUs).
DEVICE_VARIANTS = {
    "cpu": ("zoo_default", "zoo_f32", "zoo_bf16", "zoo_f32_xla", "zoo_bf16_xla"),
    "gpu": ("zoo_default", "zoo_f32_xla", "zoo_bf16_xla", "zoo_f16_xla"),
}
ZOO_VARIANTS = tuple(name for name, v in VARIANTS.items() if v.kind == "zoo")

# Examples per timed epoch (a prefix of the training split): about 1-3 s per
# epoch on 2 CPU cores.
DEFAULT_TRAIN_EXAMPLES = {"mlp_vae": 25600, "conv_vae": 3840}
# Quality budget: epochs on the full 55,000-example training split.
DEFAULT_QUALITY_EPOCHS = {"mlp_vae": 10, "conv_vae": 3}
# Test examples scored with IWAE-5000 (its cost: see `keras_rt.experiments.zoo_quality`).
DEFAULT_IWAE_EXAMPLES = {"mlp_vae": 500, "conv_vae": 64}


def check_models(models: Sequence[str]) -> tuple[str, ...]:
    """`models` as a tuple, or a `ValueError` unless it is a non-empty subset of `MODELS`."""
    models = tuple(models)
    unknown = [m for m in models if m not in MODELS]
    if not models or unknown:
        raise ValueError(
            f"`models` must be a non-empty subset of {list(MODELS)}. Received: models={list(models)}"
        )
    return models


def per_model(name: str, value, defaults: Mapping[str, int], model: str) -> int:
    """`value` if an int, `value[model]` if a mapping, else `defaults[model]`."""
    if value is None:
        return defaults[model]
    if isinstance(value, Mapping):
        return check_int(f"{name}[{model!r}]", value.get(model, defaults[model]))
    return check_int(name, value)


def resolve_variants(variants: Iterable[str]) -> tuple[Variant, ...]:
    """The named `VARIANTS`, the reference first (speed-ups are relative to it)."""
    names = tuple(variants)
    unknown = [v for v in names if v not in VARIANTS]
    if not names or unknown:
        raise ValueError(
            f"`variants` must be a non-empty subset of {list(VARIANTS)}. Received: {list(names)}"
        )
    if "reference" not in names:
        names = ("reference",) + names
    return tuple(VARIANTS[v] for v in names)
