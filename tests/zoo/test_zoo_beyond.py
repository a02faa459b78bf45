"""Every zoo model through the same checks: fit/evaluate, save/load, IWAE bound, export signatures."""

import numpy as np
import pytest
import tensorflow as tf

from keras_rt.evaluation import evaluate_iwae
from keras_rt.export import SIGNATURE_NAMES, export_model
from keras_rt.testing import assert_save_load_round_trip
from keras_rt.zoo import CVAE, IWAE, ZOO, BetaVAE, FullCovVAE, GumbelVAE, get_zoo_entry

from .tiny import TINY

ALL = sorted(ZOO)


def _data(name, digits_flat, digits_images, digits_labeled):
    entry = get_zoo_entry(name)
    if entry.needs_labels:
        return digits_labeled
    return digits_flat if entry.flat_input else digits_images


def _batch(splits, n=4):
    return (
        next(iter(splits.test.unbatch().batch(n)))[0]
        if isinstance(splits.test.element_spec, tuple)
        else next(iter(splits.test.unbatch().batch(n)))
    )


def test_every_registered_model_is_covered():
    assert set(ALL) == set(TINY)


@pytest.mark.parametrize("name", ALL)
def test_fit_evaluate_and_iwae(name, tiny_model, digits_flat, digits_images, digits_labeled):
    splits = _data(name, digits_flat, digits_images, digits_labeled)
    model = tiny_model(name)
    model.compile()
    history = model.fit(
        splits.train,
        validation_data=splits.validation,
        epochs=2,
        verbose=0,
        callbacks=model.training_callbacks(),
    )
    assert {"loss", "neg_elbo", "kl", "val_loss", "val_neg_elbo"} <= set(history.history)
    assert all(np.isfinite(history.history["loss"]))
    result = model.evaluate(splits.test, verbose=0, return_dict=True)
    assert np.isfinite(result["neg_elbo"]) and result["kl"] >= 0
    iwae = evaluate_iwae(model, splits.test, num_samples=16, max_examples=32)
    assert np.isfinite(iwae["iwae_log_likelihood"]) and iwae["examples"] == 32


@pytest.mark.parametrize("name", ALL)
def test_save_load_identical_outputs(
    name, tiny_model, digits_flat, digits_images, digits_labeled, tmp_path
):
    model = tiny_model(name)
    x = _batch(_data(name, digits_flat, digits_images, digits_labeled))
    reloaded = assert_save_load_round_trip(model, x, str(tmp_path))
    assert reloaded.get_config() == model.get_config()


@pytest.mark.parametrize("name", ["iwae", "fullcov_vae", "gumbel_vae", "cvae"])
def test_export_signatures(name, tiny_model, digits_labeled, tmp_path):
    model = tiny_model(name)
    path = export_model(model, str(tmp_path), name)
    loaded = tf.saved_model.load(path)
    assert set(SIGNATURE_NAMES) <= set(loaded.signatures)
    x = np.random.RandomState(0).rand(3, 64).astype("float32")
    data = {"x": x}
    if name == "cvae":
        data["label"] = np.array([0, 1, 9], "int32")
    rec = loaded.signatures["serving_default"](**data)["reconstruction"]
    elbo = loaded.signatures["log_likelihood"](**data)["elbo"]
    assert rec.shape == (3, 64) and elbo.shape == (3,) and np.all(np.isfinite(elbo))
    z = np.zeros((2,) + model.latent_shape(), "float32")
    decode_inputs = {"z": z, "label": np.array([1, 2], "int32")} if name == "cvae" else {"z": z}
    assert loaded.signatures["decode"](**decode_inputs)["x"].shape == (2, 64)
    sample_inputs = (
        {"label": tf.constant([3, 4, 5])} if name == "cvae" else {"num_samples": tf.constant(3)}
    )
    a = loaded.signatures["sample"](**sample_inputs)["x"].numpy()
    b = loaded.signatures["sample"](**sample_inputs)["x"].numpy()
    assert a.shape == (3, 64) and not np.allclose(a, b)


def test_iwae_bound_is_at_least_the_elbo(tiny_model, digits_flat):
    model = tiny_model("iwae", num_samples=8)
    log_weights = model.predict(digits_flat.test_arrays()[0][:16], verbose=0)
    assert log_weights.shape == (16, 8)
    bound = tf.reduce_logsumexp(log_weights, axis=1) - np.log(8.0)
    assert np.all(bound.numpy() >= log_weights.mean(axis=1) - 1e-4)  # Jensen


def test_gumbel_score_function_mode_trains(tiny_model, digits_flat):
    model = tiny_model("gumbel_vae", estimator="score_function", num_score_samples=3)
    model.compile()
    history = model.fit(digits_flat.train, epochs=2, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert model.training_callbacks() == []  # no temperature to anneal


def test_gumbel_evaluation_uses_the_discrete_latent(tiny_model, digits_flat):
    model = tiny_model("gumbel_vae", hard=False)
    logits = np.zeros((5, 3, 4), "float32")
    y = model.get_layer("sampling")(logits, training=False).numpy()
    assert set(np.unique(y)) <= {0.0, 1.0}
    annealing = model.training_callbacks()[0]
    assert annealing.initial == model.temperature


def test_beta_vae_warms_up_to_beta(tiny_model, digits_flat):
    model = tiny_model("beta_vae", beta=3.0, warmup="linear", warmup_epochs=2.0)
    model.compile()
    history = model.fit(
        digits_flat.train, epochs=3, verbose=0, callbacks=model.training_callbacks()
    )
    assert history.history["kl_weight"][0] < history.history["kl_weight"][-1] == pytest.approx(3.0)
    assert float(model.kl_layer.kl_weight.numpy()) == pytest.approx(3.0)


def test_cvae_samples_follow_labels_and_reject_bad_ones(tiny_model):
    model = tiny_model("cvae")
    assert model.sample(tf.constant([0, 5])).shape == (2, 64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes=10"):
        model.sample(tf.constant([10]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=">= 0"):
        model.reconstruct({"x": np.zeros((1, 64), "float32"), "label": np.array([-1], "int32")})
    with pytest.raises(ValueError, match="'label'"):
        model.elbo(np.zeros((1, 64), "float32"))


@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: IWAE(num_samples=0), "num_samples"),
        (lambda: IWAE(beta=2.0), r"IWAE does not take \[.beta.\]"),
        (lambda: GumbelVAE(temperature=0.0), "temperature"),
        (lambda: GumbelVAE(min_temperature=-1.0), "temperature"),
        (lambda: GumbelVAE(num_classes=1), "num_classes"),
        (
            lambda: GumbelVAE(estimator="score_function", num_score_samples=1),
            "num_score_samples. must be an integer >= 2 with estimator=.score_function.",
        ),
        (lambda: GumbelVAE(estimator="reinforce"), "estimator"),
        (lambda: BetaVAE(warmup="sigmoid"), "warmup"),
        (lambda: FullCovVAE(free_bits=0.5), r"FullCovVAE does not take \[.free_bits.\]"),
        (lambda: CVAE(num_classes=0), "num_classes"),
    ],
)
def test_bad_configs(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("name", ALL)
def test_training_step_compiles_under_xla(
    name, tiny_model, digits_flat, digits_images, digits_labeled
):
    """On GPUs Keras turns XLA on: every model's train and test steps must compile."""
    splits = _data(name, digits_flat, digits_images, digits_labeled)
    model = tiny_model(name)
    model.compile(jit_compile=True)
    history = model.fit(splits.train.take(2), validation_data=splits.validation.take(1), verbose=0)
    assert np.isfinite(history.history["loss"][0]) and np.isfinite(history.history["val_loss"][0])


def test_jit_compile_resolution():
    from keras_rt.performance.plan import TrainingPlan
    from keras_rt.training.run import resolve_jit_compile

    default = tf.distribute.get_strategy()
    plans = {jit: TrainingPlan("off", jit, False, {}) for jit in (True, False)}
    assert resolve_jit_compile("auto", plans[True], default) is True  # CPU: the measured plan
    assert resolve_jit_compile("auto", plans[False], default) is False
    assert resolve_jit_compile("off", plans[True], default) is False
    assert resolve_jit_compile("on", plans[False], default) is True


def test_cvae_fit_rejects_out_of_range_labels(tiny_model):
    model = tiny_model("cvae")
    model.compile()
    data = {"x": np.zeros((8, 64), "float32"), "label": np.full((8,), 12, "int32")}
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes=10"):
        model.fit(data, epochs=1, batch_size=4, verbose=0)


@pytest.mark.parametrize("name", ["mlp_vae", "iwae"])
def test_sample_weight_is_refused(name, tiny_model):
    model = tiny_model(name)
    model.compile()
    with pytest.raises(ValueError, match="sample_weight"):
        x = np.zeros((8, 64), "float32")
        model.fit(x, x, sample_weight=np.ones(8), epochs=1, verbose=0)
