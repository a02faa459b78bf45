"""Partial XLA: the optimizer update and the likelihood compiled inside a non-XLA step."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rt.distribute.partial_xla import (
    check_partial_jit_compile,
    partial_jit_active,
    xla_optimizer_update,
)
from keras_rt.zoo import get_zoo_entry

TINY = {"latent_dim": 2, "hidden_units": (16,)}


def _model(name="mlp_vae", **compile_kwargs):
    entry = get_zoo_entry(name)
    config = entry.config_for("digits", dict(TINY) if name == "mlp_vae" else {})
    shape = (64,) if entry.flat_input else (8, 8, 1)
    keras.utils.set_random_seed(0)
    model = entry.build(config, input_shape=shape, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), **compile_kwargs)
    return model


def _data():
    rng = np.random.default_rng(0)
    return (rng.random((64, 64)) < 0.5).astype("float32")


@pytest.mark.parametrize("value", ["yes", 1, 0, None, "on"])
def test_bad_choice_is_named(value):
    with pytest.raises(ValueError, match="partial_jit_compile"):
        check_partial_jit_compile(value)
    with pytest.raises(ValueError, match="partial_jit_compile"):
        _model(partial_jit_compile=value)


def test_active_only_when_the_step_is_not_compiled():
    assert partial_jit_active(_model(jit_compile=False), "auto")
    assert partial_jit_active(_model(jit_compile=False), True)
    assert not partial_jit_active(_model(jit_compile=False), False)
    assert not partial_jit_active(_model(jit_compile=True), "auto")
    assert not partial_jit_active(_model(run_eagerly=True), "auto")


def test_off_under_a_distribution_strategy():
    """MirroredStrategy merges the update across replicas, even with one: XLA cannot hold it."""
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    assert strategy.num_replicas_in_sync == 1
    with strategy.scope():
        model = _model(jit_compile=False)
        assert not partial_jit_active(model, "auto")
        assert not partial_jit_active(model, True)
        history = model.fit(_data(), batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert partial_jit_active(_model(jit_compile=False), "auto")  # the default strategy again


def test_same_training_as_without_it():
    """One epoch from the same weights and noise: the weights and logs agree to rounding."""
    x = _data()
    results = {}
    for choice in (True, False):
        model = _model(jit_compile=False, partial_jit_compile=choice)
        history = model.fit(x, batch_size=16, epochs=1, shuffle=False, verbose=0)
        results[choice] = (model.get_weights(), history.history)
        assert "apply" not in vars(model.optimizer)  # the trace-time override is gone
    (w_on, h_on), (w_off, h_off) = results[True], results[False]
    for a, b in zip(w_on, w_off, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for key in ("loss", "neg_elbo", "reconstruction", "kl"):
        assert h_on[key] == pytest.approx(h_off[key], rel=1e-5), key


def test_setting_survives_save_and_load(tmp_path):
    model = _model(jit_compile=False, partial_jit_compile=False)
    model.fit(_data(), batch_size=32, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.partial_jit_compile is False
    assert loaded.get_compile_config()["partial_jit_compile"] is False


def test_optimizer_override_is_removed_on_error():
    model = _model(jit_compile=False)
    model.fit(_data(), batch_size=32, epochs=1, verbose=0)
    optimizer = model.optimizer
    with pytest.raises(RuntimeError, match="boom"):
        with xla_optimizer_update(optimizer, model.trainable_weights):
            assert "apply" in vars(optimizer)
            raise RuntimeError("boom")
    assert "apply" not in vars(optimizer)


def test_convolutional_model_under_mixed_bfloat16(mixed_bfloat16):
    model = _model("conv_vae", jit_compile=False, steps_per_execution=2)
    x = _data().reshape(-1, 8, 8, 1)
    history = model.fit(x, batch_size=16, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][1] < history.history["loss"][0]


@pytest.mark.parametrize(
    ("timed", "compile_kwargs", "expected"),
    [
        ({"native": 0.6, "xla": 0.62}, {}, False),
        ({"native": 1.0, "xla": 0.5}, {}, True),
        ({"native": 0.6, "xla": 0.62}, {"partial_jit_compile": True}, True),
    ],
)
def test_the_likelihood_is_compiled_where_the_probe_says(
    monkeypatch, timed, compile_kwargs, expected
):
    from keras_rt.performance import probe as probe_module

    measured = probe_module.load_or_probe(notify=None) | {"likelihood_ms": timed}
    monkeypatch.setattr(probe_module, "load_or_probe", lambda **_: measured)
    model = _model(jit_compile=False, **compile_kwargs)
    assert model._likelihood_xla is expected
    history = model.fit(_data(), batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
