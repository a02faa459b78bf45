"""Tiny constructor arguments of each zoo model, for fast tests."""

TINY = {
    "mlp_vae": {"latent_dim": 2, "hidden_units": (16,)},
    "conv_vae": {"latent_dim": 2, "filters": (4, 8), "hidden_units": 16},
    "beta_vae": {"latent_dim": 2, "hidden_units": (16,), "warmup_epochs": 1.0},
    "iwae": {"latent_dim": 2, "hidden_units": (16,), "num_samples": 4},
    "fullcov_vae": {"latent_dim": 3, "hidden_units": (16,)},
    "gumbel_vae": {"latent_dim": 3, "num_classes": 4, "hidden_units": (16,)},
    "cvae": {"latent_dim": 2, "hidden_units": (16,)},
}
