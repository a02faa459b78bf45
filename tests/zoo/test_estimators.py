"""The gradient estimator is a training choice of every zoo model, declared once per latent family."""

import numpy as np
import pytest
import tensorflow as tf

from keras_rt.cli.choices import estimator_help, zoo_estimators
from keras_rt.estimator_names import FAMILIES
from keras_rt.zoo import IWAE, MLPVAE, ZOO, get_zoo_entry
from tests.stats import Z
from tests.zoo.tiny import TINY

PAIRS = [(name, estimator) for name in sorted(ZOO) for estimator in ZOO[name].estimators]


def _data(entry, n=32):
    x = (np.random.default_rng(0).uniform(size=(n, 64)) > 0.5).astype("float32")
    if entry.needs_labels:
        return {"x": x, "label": np.arange(n) % 10}
    return x if entry.flat_input else x.reshape(n, 8, 8, 1)


def _train_one_batch(name, estimator):
    entry = get_zoo_entry(name)
    config = entry.config_for("digits", {**TINY[name], "estimator": estimator})
    model = entry.build(config, input_shape=(64,) if entry.flat_input else (8, 8, 1), seed=0)
    model.compile(run_eagerly=True)  # graph and XLA steps: test_zoo_beyond.py
    logs = model.train_on_batch(_data(entry), return_dict=True)
    assert np.isfinite(logs["loss"])
    return model


@pytest.mark.parametrize("name,estimator", PAIRS)
def test_every_model_trains_with_every_estimator_it_accepts(name, estimator):
    model = _train_one_batch(name, estimator)
    assert model.get_config()["estimator"] == estimator
    assert type(model).from_config(model.get_config()).get_config() == model.get_config()


@pytest.mark.parametrize("name,estimator", PAIRS)
def test_every_model_trains_with_every_estimator_under_mixed_bfloat16(
    name, estimator, mixed_bfloat16
):
    """The plan chooses mixed_bfloat16 on CPUs with bfloat16 units: no estimator may mix dtypes."""
    _train_one_batch(name, estimator)


def test_the_vocabulary_is_the_models():
    names = {e for names in FAMILIES.values() for e in names}
    for entry in ZOO.values():
        assert set(entry.estimators) <= names
        assert entry.hyperparameters()["estimator"] == entry.estimators[0]


def test_help_lists_each_models_estimators_as_the_registry_has_them():
    # --help reads them from the zoo's source without importing TensorFlow.
    assert zoo_estimators() == {name: entry.estimators for name, entry in ZOO.items()}
    text = estimator_help()
    for name, entry in ZOO.items():
        assert any(
            name in part and ", ".join(entry.estimators) in part for part in text.split("; ")
        )


@pytest.mark.parametrize("name,bad", [("mlp_vae", "dreg"), ("iwae", "qmc"), ("gumbel_vae", "stl")])
def test_an_estimator_a_model_does_not_accept_names_the_valid_ones(name, bad):
    entry = get_zoo_entry(name)
    with pytest.raises(
        ValueError, match=rf"estimator='{bad}'. Valid estimators: \['{entry.estimators[0]}'"
    ):
        entry.config_for("digits", {"estimator": bad})
    with pytest.raises(ValueError, match="Valid estimators"):
        entry.model_cls(estimator=bad)


def test_vimco_and_rloo_need_two_samples():
    from keras_rt.zoo import GumbelVAE

    with pytest.raises(
        ValueError, match="num_score_samples. must be an integer >= 2 with estimator='vimco'"
    ):
        GumbelVAE(estimator="vimco", num_score_samples=1)


def _gradients(model, x, reps):
    """`reps` independent draws of the loss gradient (fresh noise each), one row per draw."""

    @tf.function
    def draw():
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y_pred=model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        return tf.concat([tf.reshape(g, [-1]) for g in grads], 0)

    return np.stack([draw().numpy() for _ in range(reps)])


def _assert_same_mean(a, b):
    """Per coordinate, the two means agree within Z standard errors of their difference."""
    se = np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b)) + 1e-6
    z = np.abs(a.mean(0) - b.mean(0)) / se
    # Z per coordinate, Bonferroni over the coordinates: a false alarm about 1 in 10^6 each.
    assert np.max(z) < Z + np.sqrt(2 * np.log(len(se))), np.max(z)


@pytest.mark.parametrize(
    "cls,reference,other",
    # IWAE's STL is biased for k > 1 (Tucker et al., 2019): DReG is its unbiased form.
    [(MLPVAE, "pathwise", "stl"), (IWAE, "pathwise", "dreg")],
)
def test_new_estimators_are_unbiased_for_the_gradient_they_claim(cls, reference, other):
    extra = {"num_samples": 4} if cls is IWAE else {}
    base, model = (
        cls(input_shape=(8,), latent_dim=2, hidden_units=(4,), seed=1, estimator=e, **extra)
        for e in (reference, other)
    )
    model.set_weights(base.get_weights())
    x = (np.random.default_rng(1).uniform(size=(4, 8)) > 0.5).astype("float32")
    reps = 400
    _assert_same_mean(_gradients(base, x, reps), _gradients(model, x, reps))


def _score_function_of_the_bound(log_px, log_q, latent_shape):
    """The plain score-function surrogate of the IWAE-k bound: no baselines."""
    n, classes = latent_shape
    log_w = log_px - float(n) * np.log(classes) - log_q
    bound = tf.reduce_logsumexp(log_w, axis=1) - np.log(float(log_w.shape[1]))
    return bound + tf.stop_gradient(bound) * tf.reduce_sum(log_q - tf.stop_gradient(log_q), axis=1)


def test_vimco_is_unbiased_for_the_score_function_gradient_of_the_bound(monkeypatch):
    from keras_rt.zoo import GumbelVAE
    from keras_rt.zoo.gumbel_vae import model as gumbel_module

    vimco, reference = (
        GumbelVAE(
            input_shape=(8,),
            latent_dim=2,
            num_classes=3,
            hidden_units=(4,),
            estimator="vimco",
            num_score_samples=3,
            seed=2,
        )
        for _ in range(2)
    )
    reference.set_weights(vimco.get_weights())
    x = (np.random.default_rng(2).uniform(size=(4, 8)) > 0.5).astype("float32")
    reps = 400
    vimco_draws = _gradients(vimco, x, reps)
    with monkeypatch.context() as patch:
        patch.setattr(gumbel_module, "vimco_surrogate", _score_function_of_the_bound)
        reference_draws = _gradients(reference, x, reps)
    # The baselines must also lower the variance they exist for (encoder weights come first).
    assert vimco_draws.var(0).sum() < reference_draws.var(0).sum()
    _assert_same_mean(reference_draws, vimco_draws)
