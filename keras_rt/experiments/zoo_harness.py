"""How the zoo benchmarks build, feed and time each `Variant`.

Both the zoo model and the reference are fed from the same `tf.data`
pipeline (`keras_rt.datasets.load_dataset` with dynamic binarization:
cached, shuffled, batched, prefetched). The zoo model is compiled as
`keras-rt train` compiles it: `steps_per_execution` from `TrainConfig`, and,
when the step is not XLA-compiled, its element-wise parts compiled with XLA
(`keras_rt.distribute.partial_xla`); the reference is compiled as tutorials
compile it (`compile(optimizer)` only).

The zoo's registry gives a model's constructor arguments for a dataset as a
mapping (`entry.config_for(dataset)`: the preset; other arguments keep the
constructor's defaults) and builds the model from it
(`entry.build(config, input_shape=..., seed=...)`). The reference copies its
architecture from the built zoo model's `get_config()`, which holds every
constructor argument, defaults included.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import keras

from keras_rt.distribute.precision import dtype_policy
from keras_rt.experiments.reference_vae import ReferenceVAE
from keras_rt.experiments.zoo_variants import Variant

if TYPE_CHECKING:
    from keras_rt.performance.plan import TrainingPlan

# The constructor arguments the reference copies from the zoo model.
REFERENCE_ARGUMENTS = ("latent_dim", "hidden_units", "filters")


def build_zoo_model(model: str, dataset: str, input_shape, *, seed: int = 0) -> keras.Model:
    """The zoo model `model` with its preset for `dataset`, under the current dtype policy."""
    from keras_rt.zoo import get_zoo_entry

    entry = get_zoo_entry(model)
    return entry.build(entry.config_for(dataset), input_shape=input_shape, seed=seed)


def reference_architecture(model: str, dataset: str, input_shape) -> dict[str, Any]:
    """`latent_dim`, `hidden_units` (and `filters`) of the zoo model, as `ReferenceVAE` takes them.

    Example:

    >>> reference_architecture("mlp_vae", "digits", (64,))
    {'latent_dim': 2, 'hidden_units': [128, 64]}
    """
    config = build_zoo_model(model, dataset, input_shape).get_config()
    return {k: config[k] for k in REFERENCE_ARGUMENTS if k in config}


def default_plan(model: str, dataset: str, input_shape, batch=None, *, notify=None) -> TrainingPlan:
    """The training plan of `model` for `dataset` on this machine, as `keras-rt train` makes it.

    From this machine's cached probe (`keras_rt.performance.plan`); with a
    `batch` (`keras_rt.performance.step_timing.synthetic_batch`), the close
    options are settled by timing the model's step, as `train` does
    (`keras_rt.performance.step_timing`; cached, shared with `train`).
    """
    from keras_rt.performance import load_or_probe, macs_by_kind
    from keras_rt.performance.step_timing import StepTimingRequest, plan_with_step_timing
    from keras_rt.zoo import get_zoo_entry

    with dtype_policy("float32"):
        macs = macs_by_kind(build_zoo_model(model, dataset, input_shape))
    request = None
    if batch is not None:
        request = StepTimingRequest(
            model=model,
            model_config=get_zoo_entry(model).config_for(dataset),
            input_shape=tuple(input_shape),
            batch=batch,
            steps_per_execution=_zoo_steps(),
        )
    return plan_with_step_timing(macs, load_or_probe(notify=None), request, notify=notify)


def concrete_variant(
    variant: Variant, model: str, dataset: str, input_shape, *, batch=None
) -> Variant:
    """`variant` with the training plan's policy and XLA where it says `"auto"` / None.

    The plan is `keras-rt train`'s (`default_plan`, with `batch` to time
    the step on): the zoo's default path.
    """
    if variant.policy != "auto" and variant.jit_compile is not None:
        return variant
    plan = default_plan(model, dataset, input_shape, batch)
    policy = variant.policy
    if policy == "auto":
        policy = "float32" if plan.mixed_precision == "off" else plan.mixed_precision
    jit = variant.jit_compile if variant.jit_compile is not None else plan.jit_compile
    short = {"float32": "f32", "mixed_bfloat16": "bf16", "mixed_float16": "f16"}[policy]
    if not isinstance(jit, bool):  # GPUs: Keras's own choice (XLA on)
        jit = True
    label = f"zoo fit, default: {short}, {'XLA' if jit else 'partial XLA'}"
    return dataclasses.replace(variant, policy=policy, jit_compile=jit, label=label)


def build_model(
    variant: Variant,
    model: str,
    dataset: str,
    input_shape,
    *,
    seed: int = 0,
    learning_rate: float = 1e-3,
) -> keras.Model:
    """Builds and compiles `model` (a zoo name) as `variant` trains it.

    The zoo model is compiled as `keras-rt train` compiles it (its default
    `steps_per_execution`, partial XLA when the step is not compiled), the
    reference as a tutorial would (`steps_per_execution=1`). Weights are
    initialized from `keras.utils.set_random_seed(seed)`, so the reference
    and the zoo model start from the same global seed (their layers are
    created in the same order).
    """
    if variant.kind == "reference":
        architecture = reference_architecture(model, dataset, input_shape)
    keras.utils.set_random_seed(seed)
    with dtype_policy(variant.policy):
        if variant.kind == "reference":
            net = ReferenceVAE(model, input_shape, seed=seed, **architecture)
            options = {}
        else:
            net = build_zoo_model(model, dataset, input_shape, seed=seed)
            options = {"steps_per_execution": _zoo_steps()}
        net.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            jit_compile=variant.jit_compile,
            **options,
        )
    return net


def _zoo_steps() -> int:
    from keras_rt.training.config import TrainConfig

    return TrainConfig().steps_per_execution


def load_splits(model: str, dataset: str, batch_size: int, seed: int, max_examples: int | None):
    """`dataset`, dynamically binarized and shaped for `model`'s input."""
    from keras_rt.datasets import load_dataset
    from keras_rt.zoo import get_zoo_entry

    return load_dataset(
        dataset,
        batch_size=batch_size,
        binarized=True,
        flatten=get_zoo_entry(model).flat_input,
        seed=seed,
        max_examples=max_examples,
    )


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of each epoch (`on_epoch_begin` to `on_epoch_end`).

    Example:

    >>> timer = EpochTimer()
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> _ = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0, callbacks=[timer])
    >>> len(timer.seconds)
    2
    """

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def fit_timed(net: keras.Model, variant: Variant, data, epochs: int) -> tuple[list[float], dict]:
    """`(seconds of each epoch, history)` of `net.fit(data)` under `variant`'s dtype policy."""
    timer = EpochTimer()
    with dtype_policy(variant.policy):
        history = net.fit(data, epochs=epochs, verbose=0, shuffle=False, callbacks=[timer])
    return timer.seconds, history.history
