"""Multiply-adds of a Keras model's matrix products and convolutions, per example and per op kind.

Used twice: the training plan weighs the probe's measured time per
multiply-add of each op kind by how many the model does
(`keras_rt.performance.plan`), and the zoo benchmark turns examples/s into
achieved GFLOP/s (the roofline column of `benchmarks/zoo.py`).

Counted: `Dense` (inputs x units for every position), convolutions
(output positions x kernel taps x input channels x filters; transposed
convolutions: input positions x kernel taps x input channels x filters).
Element-wise work (activations, the likelihood, the optimizer) is not
counted: it is small next to these and memory-bound. A training step costs
about 3x the forward multiply-adds (forward, gradient of the inputs, of the
weights) and 2 FLOPs per multiply-add.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import keras

# A conv layer with at most this many output channels is "narrow" (e.g. a decoder's output
# layer): its kernels behave unlike wide convolutions' (see `keras_rt.performance.probe`).
NARROW_FILTERS = 4
TRAINING_FLOPS_PER_MAC = 6


def op_kind(layer: keras.layers.Layer) -> str | None:
    """`"dense"`, `"conv"`, `"transposed_conv"`, `"narrow_conv"` or None (not counted).

    Example:

    >>> op_kind(keras.layers.Dense(3)), op_kind(keras.layers.Conv2D(1, 3))
    ('dense', 'narrow_conv')
    """
    if isinstance(layer, keras.layers.Dense):
        return "dense"
    if isinstance(layer, (keras.layers.Conv2DTranspose, keras.layers.Conv1DTranspose)):
        return "transposed_conv"
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)):
        return "narrow_conv" if layer.filters <= NARROW_FILTERS else "conv"
    return None


def layer_macs(layer: keras.layers.Layer) -> int:
    """Forward multiply-adds of one call of `layer` on one example (0 if not counted or unknown)."""
    kind = op_kind(layer)
    if kind is None:
        return 0
    try:
        in_shape, out_shape = tuple(layer.input.shape), tuple(layer.output.shape)
    except (AttributeError, ValueError):  # a layer called several times, or never
        return 0
    if any(d is None for d in in_shape[1:] + out_shape[1:]):
        return 0
    if kind == "dense":
        return math.prod(in_shape[1:]) * layer.units
    taps = math.prod(layer.kernel_size) * (in_shape[-1] // getattr(layer, "groups", 1))
    positions = math.prod((in_shape if kind == "transposed_conv" else out_shape)[1:-1])
    return positions * taps * layer.filters


def leaf_layers(model: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    """The layers of `model` that hold no layers (nested models opened up; input layers too).

    Example:

    >>> inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    >>> outer = keras.Sequential([keras.Input((2,)), inner, keras.layers.Dense(1)])
    >>> [type(layer).__name__ for layer in leaf_layers(outer)]
    ['InputLayer', 'Dense', 'InputLayer', 'Dense']
    """
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if not getattr(layer, "_layers", None) and not isinstance(layer, keras.Model):
            yield layer


def macs_by_kind(model: keras.Model) -> dict[str, int]:
    """Forward multiply-adds per example of `model`, summed per `op_kind`.

    Example:

    >>> inputs = keras.Input((784,))
    >>> model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Dense(512)(inputs)))
    >>> macs_by_kind(model)
    {'dense': 406528}
    """
    totals: Counter = Counter()
    for layer in leaf_layers(model):
        macs = layer_macs(layer)
        if macs:
            totals[op_kind(layer)] += macs
    return dict(totals)


def weighted_layers(model: keras.Model) -> int:
    """How many leaf layers of `model` hold weights: what the training plan scales XLA's
    compile time by (`keras_rt.performance.plan`).

    Example:

    >>> inputs = keras.Input((784,))
    >>> weighted_layers(keras.Model(inputs, keras.layers.Dense(10)(keras.layers.ReLU()(inputs))))
    1
    """
    return sum(1 for layer in leaf_layers(model) if layer.weights)


def training_flops_per_example(model: keras.Model) -> int:
    """About `TRAINING_FLOPS_PER_MAC` x the forward multiply-adds: one example's training step."""
    return TRAINING_FLOPS_PER_MAC * sum(macs_by_kind(model).values())


__all__ = [
    "NARROW_FILTERS",
    "layer_macs",
    "leaf_layers",
    "macs_by_kind",
    "op_kind",
    "training_flops_per_example",
    "weighted_layers",
]
