"""keras-rt's layers and callbacks on Keras's JAX backend: the checks of one subprocess.

Keras chooses its backend when it is first imported, so `test_backends.py`
(in the TensorFlow test run) starts this module once, as

    KERAS_BACKEND=jax python -m tests.layers.jax_backend_checks WORKDIR

from the repository root, and asserts on what it writes:
`WORKDIR/report.json` maps each name of `CHECK_NAMES` to `"ok"` or to the
traceback of its failure. Each check runs even when another fails.

`WORKDIR` holds what the TensorFlow side saved first (`tf_model.keras` and
`tf_outputs.npz` from `save_cross_backend_files`, and
`distribution_sampling.keras`); the cross-backend check writes
`jax_model.keras` and `jax_outputs.npz` for the TensorFlow side to load.
The model shared by both sides is `build_cross_backend_model` (this module
imports nothing of JAX, so the TensorFlow side imports it too).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_rt.layers import (
    CategoricalKL,
    GaussianKL,
    GumbelSoftmaxSampling,
    MultivariateNormalTriLSampling,
    Sampling,
)

SEED = 7
BATCH = 5
CROSS_OUTPUTS = ("gaussian", "fullcov", "categorical")


def build_cross_backend_model(seed: int = SEED) -> keras.Model:
    """A model with every backend-independent layer, deterministic in inference mode.

    The samplers return their mean (`Sampling`, `MultivariateNormalTriLSampling`:
    `inference="mean"`) or mode (`GumbelSoftmaxSampling`: `inference="mode"`)
    when not training, so the outputs of `model(x, training=False)` and the KL
    terms in `model.losses` are functions of the weights and inputs only, on
    any backend. (Sampled outputs are not compared across backends: the same
    seed draws different noise on TensorFlow and JAX, whose random number
    generators differ.)

    Args:
        seed: seed of the weight initializers and of the samplers.

    Returns:
        A built functional model `x (8,) -> {"gaussian", "fullcov", "categorical"}`.
    """
    seeds = iter(range(seed, seed + 100))

    def init() -> keras.initializers.Initializer:
        return keras.initializers.GlorotUniform(seed=next(seeds))

    x = keras.Input((8,), name="x")
    h = keras.layers.Dense(16, activation="tanh", kernel_initializer=init())(x)

    def dense(units: int) -> Any:
        return keras.layers.Dense(units, kernel_initializer=init(), bias_initializer="ones")(h)

    mean, log_var = GaussianKL(weight=0.5, free_bits=0.01)([dense(3), dense(3)])
    gaussian = Sampling(seed=seed, inference="mean")([mean, log_var])
    full_mean, scale_params = GaussianKL(covariance="full")([dense(3), dense(6)])
    fullcov = MultivariateNormalTriLSampling(seed=seed, inference="mean")([full_mean, scale_params])
    logits = CategoricalKL()(keras.layers.Reshape((2, 4))(dense(8)))
    categorical = GumbelSoftmaxSampling(temperature=0.7, hard=True, seed=seed, inference="mode")(
        logits
    )
    outputs = {"gaussian": gaussian, "fullcov": fullcov, "categorical": categorical}
    return keras.Model(x, outputs)


def cross_backend_values(model: keras.Model, x: np.ndarray) -> dict[str, np.ndarray]:
    """What is compared across backends: inference outputs, the KL loss terms, the weights.

    On JAX the model runs under `jax.jit` (its `stateless_call`): one XLA
    compilation rather than one per operation, as an eager call takes.
    """
    if keras.backend.backend() == "jax":
        import jax

        call = jax.jit(functools.partial(model.stateless_call, training=False, return_losses=True))
        outputs, _, losses = call(
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            x,
        )
    else:
        outputs, losses = model(x, training=False), model.losses
    values = {name: keras.ops.convert_to_numpy(outputs[name]) for name in CROSS_OUTPUTS}
    values["kl_losses"] = np.stack([keras.ops.convert_to_numpy(loss) for loss in losses])
    for i, weight in enumerate(model.weights):
        values[f"weight_{i}"] = keras.ops.convert_to_numpy(weight)
    return values


def assert_same_values(actual: dict, expected: Any, *, atol: float = 1e-5) -> None:
    """Inference outputs and KL terms agree to `atol`, weights exactly."""
    assert sorted(actual) == sorted(expected), (sorted(actual), sorted(expected))
    for key in expected:
        tolerance = 0.0 if key.startswith("weight_") else atol
        np.testing.assert_allclose(actual[key], expected[key], atol=tolerance, rtol=0, err_msg=key)


def cross_backend_inputs() -> np.ndarray:
    return np.random.default_rng(SEED).normal(size=(BATCH, 8)).astype("float32")


def save_cross_backend_files(workdir: str) -> None:
    """The TensorFlow side: `tf_model.keras`, `tf_outputs.npz` and `distribution_sampling.keras`."""
    from keras_rt.layers import DistributionSampling

    model = build_cross_backend_model()
    model.save(os.path.join(workdir, "tf_model.keras"))
    np.savez(
        os.path.join(workdir, "tf_outputs.npz"),
        **cross_backend_values(model, cross_backend_inputs()),
    )
    params = [keras.Input((2,)), keras.Input((2,))]
    tfp_model = keras.Model(params, DistributionSampling("gamma", seed=1)(params))
    tfp_model.save(os.path.join(workdir, "distribution_sampling.keras"))


# -- the checks (run on JAX) -----------------------------------------------------------------


def _zeros(*shape: int) -> np.ndarray:
    return np.zeros(shape, "float32")


def _logits(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=shape).astype("float32")


# name -> (layer class, constructor arguments, inputs, output shape, run_layer_test options).
# `model.export` (jax2tf, then `tf.saved_model.load` and serve) runs for a sampler, with
# antithetic noise over an odd batch (symbolic while exported: the hardest case of the normal
# noise), and for a KL layer (`add_loss`); the others skip it to keep the run short (~2 s of
# XLA compilation each on 2 cores). QMC noise under export is `symbolic-batch-qmc`.
NO_EXPORT = {"check_export": False}
HARNESS_CASES: dict[str, tuple] = {
    "Sampling": (Sampling, {"seed": 1}, [_zeros(4, 3)] * 2, (4, 3), NO_EXPORT),
    "Sampling-antithetic": (
        Sampling,
        {"seed": 1, "noise": "antithetic"},
        [_zeros(5, 3)] * 2,
        (5, 3),
        {},
    ),
    "Sampling-qmc": (
        Sampling,
        {"seed": 1, "num_samples": 4, "noise": "qmc"},
        [_zeros(4, 3)] * 2,
        (4, 4, 3),
        NO_EXPORT,
    ),
    "Sampling-mean": (
        Sampling,
        {"seed": 1, "inference": "mean"},
        [np.ones((4, 3), "float32"), _zeros(4, 3)],
        (4, 3),
        {"stochastic": False, **NO_EXPORT},
    ),
    "MultivariateNormalTriLSampling": (
        MultivariateNormalTriLSampling,
        {"seed": 1, "num_samples": 2},
        [_zeros(4, 3), _logits(4, 6)],
        (4, 2, 3),
        NO_EXPORT,
    ),
    "GumbelSoftmaxSampling": (
        GumbelSoftmaxSampling,
        {"seed": 1, "hard": True},
        _logits(4, 2, 3),
        (4, 2, 3),
        NO_EXPORT,
    ),
    "GaussianKL": (
        GaussianKL,
        {"free_bits": 0.1},
        [_logits(4, 3), _zeros(4, 3)],
        [(4, 3), (4, 3)],
        {"stochastic": False},
    ),
    "GaussianKL-full": (
        GaussianKL,
        {"covariance": "full"},
        [_logits(4, 3), _logits(4, 6)],
        [(4, 3), (4, 6)],
        {"stochastic": False, **NO_EXPORT},
    ),
    "CategoricalKL": (
        CategoricalKL,
        {},
        _logits(4, 2, 3),
        (4, 2, 3),
        {"stochastic": False, **NO_EXPORT},
    ),
}


def _harness_check(case: str) -> Callable[[str], None]:
    def check(workdir: str) -> None:
        from keras_rt.testing import run_layer_test

        layer_cls, kwargs, data, shape, options = HARNESS_CASES[case]
        run_layer_test(layer_cls, kwargs, data, shape, **options)

    return check


def check_backend_is_jax(workdir: str) -> None:
    assert keras.backend.backend() == "jax", keras.backend.backend()
    import keras_rt.callbacks  # noqa: F401  (imports on JAX)


def check_noise(workdir: str) -> None:
    """Normal noise's statistics and antithetic pairs, drawn by JAX."""
    from keras_rt.ops.noise import antithetic_normal

    z = keras.ops.convert_to_numpy(Sampling(seed=2)([_zeros(4000, 2)] * 2))
    assert abs(z.mean()) < 0.06 and abs(z.std() - 1) < 0.06, (z.mean(), z.std())
    eps = keras.ops.convert_to_numpy(antithetic_normal((2, 5, 3), seed=1, axis=1))
    np.testing.assert_array_equal(eps[:, 3:], -eps[:, :2])


def check_symbolic_batch_qmc(workdir: str) -> None:
    """QMC noise over a batch that is symbolic while `jax.export` traces it (as `model.export`).

    Called on a batch of 256, the exported function gives a Sobol net: one
    point in each 1/256 slice of every coordinate.
    """
    import jax
    from scipy.stats import norm

    from keras_rt.ops.noise import standard_normal_noise

    def noise(x, seed):
        return standard_normal_noise("qmc", x.shape, seed, axis=0)

    (batch,) = jax.export.symbolic_shape("b")
    exported = jax.export.export(jax.jit(noise))(
        jax.ShapeDtypeStruct((batch, 3), "float32"), jax.ShapeDtypeStruct((2,), "uint32")
    )
    eps = np.asarray(exported.call(np.zeros((256, 3), "float32"), np.array([3, 4], "uint32")))
    steps = np.arange(256) / 256
    for values in np.sort(norm.cdf(eps), axis=0).T:
        assert np.all(values >= steps - 1e-6) and np.all(values <= steps + 1 / 256 + 1e-6)


def check_callbacks_drive_training(workdir: str) -> None:
    """`KLWarmup` and `GumbelTemperatureAnnealing` set the values the JAX train step uses.

    One model trains twice from the same state (one compiled step): with KL
    weights and temperature at 1 that the callbacks hold at 0 and 0.5, then
    with those values set by hand and no callback. The losses must agree.
    """
    from keras_rt.callbacks import GumbelTemperatureAnnealing, KLWarmup
    from keras_rt.layers import BaseKL

    data = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
    x = keras.Input((6,))
    mean, log_var = GaussianKL()([keras.layers.Dense(2)(x)] * 2)
    z = Sampling(seed=0)([mean, log_var])
    logits = CategoricalKL()(keras.layers.Reshape((2, 3))(keras.layers.Dense(6)(x)))
    gumbel = GumbelSoftmaxSampling(temperature=1.0, seed=0)
    y = keras.layers.Flatten()(gumbel(logits))
    model = keras.Model(x, keras.layers.Dense(6)(keras.layers.Concatenate()([z, y])))
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_variables)
    state = model.variables + model.optimizer.variables
    initial = [keras.ops.convert_to_numpy(v) for v in state]

    def fit(values: list, callbacks: list) -> dict:
        for variable, value in zip(state, values):
            variable.assign(value)
        history = model.fit(
            data, data, epochs=1, batch_size=16, shuffle=False, verbose=0, callbacks=callbacks
        )
        return history.history

    callbacks = [
        KLWarmup("linear", warmup_epochs=1, max_weight=0.0),
        GumbelTemperatureAnnealing(initial=0.5, rate=0.0, minimum=0.5),
    ]
    driven = fit(initial, callbacks)
    kl_layers = [layer for layer in model.layers if isinstance(layer, BaseKL)]
    assert len(kl_layers) == 2 and all(float(layer.kl_weight.numpy()) == 0 for layer in kl_layers)
    assert float(gumbel.temperature.numpy()) == 0.5
    assert driven["kl_weight"] == [0.0] and driven["temperature"] == [0.5], driven
    # On JAX the KL layers track no metric (Keras cannot update one inside `fit`): no "kl" key.
    assert "kl" not in driven, sorted(driven)

    position = {id(variable): i for i, variable in enumerate(state)}
    by_hand = list(initial)
    by_hand[position[id(gumbel.temperature)]] = np.float32(0.5)
    for layer in kl_layers:
        by_hand[position[id(layer.kl_weight)]] = np.float32(0.0)
    np.testing.assert_allclose(driven["loss"], fit(by_hand, [])["loss"], rtol=1e-6)
    # ... and those values matter: left at 1, the losses differ.
    assert not np.allclose(driven["loss"], fit(initial, [])["loss"], rtol=1e-3)


def check_cross_backend(workdir: str) -> None:
    """The TensorFlow-saved model loads with the same values; a JAX-saved one is written."""
    x = cross_backend_inputs()
    reloaded = keras.models.load_model(os.path.join(workdir, "tf_model.keras"), safe_mode=True)
    expected = np.load(os.path.join(workdir, "tf_outputs.npz"))
    assert_same_values(cross_backend_values(reloaded, x), expected)

    model = build_cross_backend_model()
    model.save(os.path.join(workdir, "jax_model.keras"))
    np.savez(os.path.join(workdir, "jax_outputs.npz"), **cross_backend_values(model, x))


def _expect_backend_error(make: Callable[[], Any], what: str) -> None:
    try:
        make()
    except Exception as error:  # noqa: BLE001  (Keras wraps a loading error in a TypeError)
        message = str(error).splitlines()[-1]
        for piece in (what, "needs the TensorFlow backend", "runs on 'jax'", "KERAS_BACKEND"):
            assert piece in message, f"{piece!r} not in {message!r}"
    else:
        raise AssertionError(f"{what} did not refuse the JAX backend")


def check_tensorflow_only_errors(workdir: str) -> None:
    """The TensorFlow-only parts refuse JAX with a message naming both backends."""
    from keras_rt.callbacks import GradientVarianceMonitor
    from keras_rt.layers import DistributionSampling

    _expect_backend_error(lambda: DistributionSampling("normal"), "`DistributionSampling`")
    _expect_backend_error(
        lambda: keras.models.load_model(os.path.join(workdir, "distribution_sampling.keras")),
        "`DistributionSampling`",
    )
    _expect_backend_error(lambda: GradientVarianceMonitor(_zeros(2, 2)), "GradientVarianceMonitor")


CHECKS: dict[str, Callable[[str], None]] = {
    "backend-is-jax": check_backend_is_jax,
    **{f"harness[{case}]": _harness_check(case) for case in HARNESS_CASES},
    "noise": check_noise,
    "symbolic-batch-qmc": check_symbolic_batch_qmc,
    "callbacks-drive-training": check_callbacks_drive_training,
    "cross-backend": check_cross_backend,
    "tensorflow-only-errors": check_tensorflow_only_errors,
}
CHECK_NAMES = tuple(CHECKS)


def main(argv: list[str] | None = None) -> int:
    """Runs every check; writes `WORKDIR/report.json`. Returns 0 (the report says what failed)."""
    (workdir,) = sys.argv[1:] if argv is None else argv
    report = {}
    for name, check in CHECKS.items():
        start = time.perf_counter()
        try:
            check(workdir)
            report[name] = "ok"
        except Exception:  # noqa: BLE001  (reported, the other checks still run)
            report[name] = traceback.format_exc()
        verdict = "ok" if report[name] == "ok" else "FAILED"
        print(f"{name}: {verdict} ({time.perf_counter() - start:.1f} s)", flush=True)
    with open(os.path.join(workdir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
