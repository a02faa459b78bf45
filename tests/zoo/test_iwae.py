import numpy as np
import pytest

from keras_rt.evaluation import evaluate_iwae, importance_weighted_log_likelihood


@pytest.fixture(scope="module")
def trained(digits_flat):
    from keras_rt.zoo import MLPVAE

    model = MLPVAE(input_shape=(64,), latent_dim=2, hidden_units=(16,), seed=0)
    model.compile()
    model.fit(digits_flat.train, epochs=3, verbose=0)
    return model


def test_bound_tightens_with_k(trained, digits_flat):
    x = digits_flat.test_arrays()[0][:32]
    # 200 independent ELBO draws per example, in one call: each row of the batch draws its own z.
    elbos = np.asarray(trained.elbo(np.tile(x, (200, 1)))).reshape(200, len(x))
    iwae_1 = np.asarray(importance_weighted_log_likelihood(trained, x, num_samples=1, seed=1))
    iwae_500 = np.asarray(importance_weighted_log_likelihood(trained, x, num_samples=500, seed=1))
    # IWAE-1 is one ELBO draw: within a few standard deviations of the ELBO mean
    sd = elbos.std(0) + 1e-6
    assert np.mean(np.abs(iwae_1 - elbos.mean(0)) / sd) < 3
    # IWAE-500 >= E[ELBO] for every example (Jensen), beyond Monte Carlo noise
    se = elbos.std(0) / np.sqrt(elbos.shape[0])
    assert np.all(iwae_500 > elbos.mean(0) - 5 * se)
    assert iwae_500.mean() > elbos.mean()


def test_chunking_does_not_change_the_estimate(trained, digits_flat):
    x = digits_flat.test_arrays()[0][:8]
    a = importance_weighted_log_likelihood(trained, x, num_samples=64, chunk_size=64, seed=3)
    b = importance_weighted_log_likelihood(trained, x, num_samples=64, chunk_size=7, seed=3)
    assert np.all(np.abs(np.asarray(a) - np.asarray(b)) < 1.0)  # different draws, same target
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(b))


def test_evaluate_iwae_over_a_dataset(trained, digits_flat):
    result = evaluate_iwae(trained, digits_flat.test, num_samples=20, max_examples=40)
    assert result["examples"] == 40 and result["iwae_k"] == 20
    assert result["iwae_log_likelihood"] < 0 and result["iwae_std_error"] > 0


@pytest.mark.parametrize("k", [0, -5, 2.5])
def test_bad_sample_count(trained, digits_flat, k):
    with pytest.raises(ValueError, match="num_samples"):
        evaluate_iwae(trained, digits_flat.test, num_samples=k)
