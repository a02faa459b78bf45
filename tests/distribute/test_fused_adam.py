"""Adam's update as TensorFlow's fused kernel: Keras's numbers, and the model's choice of it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rt.distribute.fused_adam import (
    fused_adam_update,
    fused_adam_update_step,
    supports_fused_adam,
)
from keras_rt.zoo import get_zoo_entry


class TwoLayerRegression(keras.Model):
    """A two-layer regression whose step runs Keras's update, or the fused one."""

    def __init__(self, fused, **kwargs):
        super().__init__(**kwargs)
        self.fused = fused
        self.hidden, self.out = keras.layers.Dense(4), keras.layers.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))

    def train_step(self, data):
        if self.fused:
            with fused_adam_update(self.optimizer):
                return super().train_step(data)
        return super().train_step(data)


def _train(fused, optimizer, epochs=4):
    keras.utils.set_random_seed(0)
    model = TwoLayerRegression(fused)
    model.compile(optimizer=optimizer, loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)).astype("float32"), rng.normal(size=(32, 2)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    assert "update_step" not in vars(model.optimizer)  # the trace-time override is gone
    return model.get_weights() + [v.numpy() for v in model.optimizer.variables]


@pytest.mark.parametrize(
    "make",
    [
        lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)),
        lambda: keras.optimizers.AdamW(0.01, weight_decay=0.1, clipnorm=1.0),
        lambda: keras.optimizers.Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
    ],
    ids=["adam-schedule", "adamw-clipped", "adam-betas"],
)
def test_the_same_weights_and_moments_as_keras(make):
    """16 steps: weights, moments and iterations agree with Keras's update to float rounding."""
    for fused, keras_ in zip(_train(True, make()), _train(False, make()), strict=True):
        np.testing.assert_allclose(fused, keras_, rtol=1e-5, atol=1e-6)


def test_which_optimizers_it_computes():
    assert supports_fused_adam(keras.optimizers.Adam())
    assert supports_fused_adam(keras.optimizers.AdamW())
    assert not supports_fused_adam(keras.optimizers.Adam(amsgrad=True))
    assert not supports_fused_adam(keras.optimizers.SGD())
    assert not supports_fused_adam(keras.optimizers.Adamax())

    class MyAdam(keras.optimizers.Adam):  # a subclass may change the update
        pass

    assert not supports_fused_adam(MyAdam())
    # Others are left alone, and run Keras's own update.
    optimizer = keras.optimizers.Adam(amsgrad=True)
    with fused_adam_update(optimizer):
        assert "update_step" not in vars(optimizer)


def test_sparse_gradients_fall_back_to_keras():
    variable = keras.Variable(np.ones((4, 2)), dtype="float32")
    optimizer = keras.optimizers.Adam(0.1)
    optimizer.build([variable])
    sparse = tf.IndexedSlices(tf.ones((1, 2)), tf.constant([2]), tf.constant([4, 2]))
    fused_adam_update_step(optimizer, sparse, variable, 0.1)
    moved = np.abs(variable.numpy() - 1) > 0
    assert moved[2].all() and not moved[[0, 1, 3]].any()


def test_the_override_is_removed_on_error():
    optimizer = keras.optimizers.Adam()
    with pytest.raises(RuntimeError, match="boom"):
        with fused_adam_update(optimizer):
            assert "update_step" in vars(optimizer)
            raise RuntimeError("boom")
    assert "update_step" not in vars(optimizer)


def _vae(**compile_kwargs):
    entry = get_zoo_entry("mlp_vae")
    model = entry.build(
        entry.config_for("digits", {"latent_dim": 2, "hidden_units": (16,)}),
        input_shape=(64,),
        seed=0,
    )
    model.compile(jit_compile=False, **compile_kwargs)
    return model


@pytest.mark.parametrize(
    ("timed", "compile_kwargs", "expected"),
    [
        ({"xla": 2.0, "fused": 1.0}, {}, "fused"),
        ({"xla": 1.0, "fused": 2.0}, {}, "xla"),
        ({"xla": 2.0, "fused": 1.0}, {"partial_jit_compile": True}, "xla"),
        ({"xla": 2.0, "fused": 1.0}, {"optimizer": "sgd"}, "xla"),
        ({"xla": 2.0, "fused": 1.0}, {"run_eagerly": True}, "xla"),
    ],
)
def test_a_zoo_model_uses_it_where_measured_faster(monkeypatch, timed, compile_kwargs, expected):
    from keras_rt.performance import probe as probe_module

    measured = probe_module.load_or_probe(notify=None) | {"optimizer_update_ms": timed}
    monkeypatch.setattr(probe_module, "load_or_probe", lambda **_: measured)
    model = _vae(**compile_kwargs)
    assert model._optimizer_update == expected
    x = (np.random.default_rng(0).random((32, 64)) < 0.5).astype("float32")
    history = model.fit(x, batch_size=16, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert "update_step" not in vars(model.optimizer) and "apply" not in vars(model.optimizer)


def test_a_zoo_model_trains_the_same_either_way(monkeypatch):
    """Two epochs from the same weights and noise: fused or XLA, the weights agree to rounding."""
    from keras_rt.performance import probe as probe_module

    x = (np.random.default_rng(0).random((64, 64)) < 0.5).astype("float32")
    weights = {}
    for way, timed in (("fused", {"xla": 2.0, "fused": 1.0}), ("xla", {"xla": 1.0, "fused": 2.0})):
        measured = probe_module.load_or_probe(notify=None) | {"optimizer_update_ms": timed}
        monkeypatch.setattr(probe_module, "load_or_probe", lambda measured=measured, **_: measured)
        keras.utils.set_random_seed(0)
        model = _vae()
        assert model._optimizer_update == way
        model.fit(x, batch_size=16, epochs=2, shuffle=False, verbose=0)
        weights[way] = model.get_weights()
    for fused, xla in zip(weights["fused"], weights["xla"], strict=True):
        np.testing.assert_allclose(fused, xla, rtol=1e-4, atol=1e-5)


def test_nested_blocks_restore_what_was_there():
    optimizer = keras.optimizers.Adam()
    with fused_adam_update(optimizer):
        outer = optimizer.update_step
        with fused_adam_update(optimizer):
            assert optimizer.update_step is not outer
        assert optimizer.update_step is outer
    assert "update_step" not in vars(optimizer)


def test_16_bit_variables_keep_keras_update():
    """The kernel forms `1 - beta_2` in the variable's dtype: 0 in bfloat16."""
    variable = keras.Variable(np.ones((3,)), dtype="bfloat16")
    optimizer = keras.optimizers.Adam(0.1)
    optimizer.build([variable])
    fused_adam_update_step(optimizer, tf.ones((3,), "bfloat16"), variable, 0.1)
    velocity = optimizer._velocities[0].numpy().astype("float32")
    np.testing.assert_allclose(velocity, 0.001, rtol=0.01)  # Keras's (1 - 0.999) * g^2


def test_the_zoo_step_runs_the_fused_kernel_and_the_likelihood_as_chosen(monkeypatch):
    """The compile-time choices are what the traced step does: the fused update is called for
    every variable, and the likelihood is XLA-compiled only where chosen."""
    import keras_rt.distribute.fused_adam as fused_module
    import keras_rt.zoo.vae as vae_module
    from keras_rt.performance import probe as probe_module

    x = (np.random.default_rng(0).random((32, 64)) < 0.5).astype("float32")
    calls = {"update": 0, "jit": 0}
    real_step, real_jit = fused_module.fused_adam_update_step, vae_module.jit_compiled

    def counted_step(*args):
        calls["update"] += 1
        return real_step(*args)

    def counted_jit(fn):
        calls["jit"] += 1
        return real_jit(fn)

    monkeypatch.setattr(fused_module, "fused_adam_update_step", counted_step)
    monkeypatch.setattr(vae_module, "jit_compiled", counted_jit)
    for likelihood, compiled in (
        ({"native": 0.6, "xla": 0.62}, 0),
        ({"native": 1.0, "xla": 0.5}, 1),
    ):
        measured = probe_module.load_or_probe(notify=None) | {
            "optimizer_update_ms": {"xla": 1.0, "fused": 1.1},
            "likelihood_ms": likelihood,
        }
        monkeypatch.setattr(probe_module, "load_or_probe", lambda measured=measured, **_: measured)
        calls.update(update=0, jit=0)
        model = _vae()
        model.fit(x, batch_size=16, epochs=1, verbose=0)
        # Each trace of the training step (Keras may trace it more than once) makes one fused
        # update per trainable variable and, where chosen, one compiled likelihood.
        traces = calls["update"] // len(model.trainable_variables)
        assert traces >= 1 and calls["update"] == traces * len(model.trainable_variables)
        assert calls["jit"] == compiled * traces
