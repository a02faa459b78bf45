"""The VAE variance study runs end to end on a tiny budget; its ratios and tables read the cells."""

import numpy as np
import tensorflow as tf

from keras_rt.experiments import digits_vae, vae_variance_study


def test_vae_study_small():
    result = vae_variance_study.run_vae_study(
        sizes=[8],
        reps=4,
        train_steps=5,
        batch_size=4,
        estimators=["pathwise", "pathwise_qmc", "score_function_rloo"],
    )
    assert result["latent_dim"] == 2
    assert {r["estimator"] for r in result["results"]} == {
        "pathwise",
        "pathwise_qmc",
        "score_function_rloo",
    }
    assert all(r["total_variance"] > 0 for r in result["results"])
    assert "variance / pathwise" in vae_variance_study.format_vae_table(result)
    [row] = vae_variance_study.vae_variance_ratios(result)
    assert row["n"] == 8 and row["score_function/pathwise"] is None
    assert row["pathwise/pathwise_qmc"] > 0
    assert "| 8 | - |" in vae_variance_study.format_vae_ratios([row])


def test_elbo_problem_shapes():
    encoder, decoder = digits_vae.init_vae_params(latent_dim=2, hidden=8, seed=0)
    x = tf.constant(digits_vae.load_digits_pixels()[:3])
    f, f_local, dist_fn, params = digits_vae.elbo_problem(x, encoder, decoder)
    z = dist_fn(*params).sample(5, seed=[0, 1])
    assert z.shape == (5, 3, 2)
    assert f(z).shape == (5,) and f_local(z).shape == (5, 3, 2)
    assert np.isfinite(f(z).numpy()).all()
