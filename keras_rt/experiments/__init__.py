"""Experiments apart from the API: the variance studies and the benchmarks, as library functions.

Each experiment is a function that returns JSON-ready results and a function
that formats them; the command line (`keras-rt estimator-variance`,
`benchmark-estimators`, `benchmark-zoo`, `benchmark-sampling`, `zoo-results`) and the scripts in
`benchmarks/` only parse flags and call them. Nothing here is imported by
the rest of `keras_rt`, and the modules are not imported by this package:
import the one you need.

Variance studies (the gradient estimators of `keras_rt.estimators`):

- `variance_study` — score function vs pathwise on `x ~ N(theta, 1)`,
  `f = x^2`, against the closed-form variances; `variance_report` — its
  table and log-log plot;
- `vae_variance_study` — the same comparison on the ELBO gradient of a small
  VAE encoder (`digits_vae`, written as pure functions of its weights);
- `iwae_snr_study` — encoder and decoder gradient SNR of the IWAE and DReG
  estimators as the number of importance samples k grows.

Benchmarks:

- `estimators_training` — the shoot-out: every zoo model with every gradient
  estimator it accepts, at equal epochs and at equal wall-clock time;
- `zoo_throughput`, `zoo_quality` — the zoo VAEs under `fit` against a VAE
  written the common way (`reference_vae`); `zoo_variants` names what is
  compared, `zoo_harness` builds, feeds and times it;
- `zoo_results` — every zoo model trained on the same budget, tabulated;
- `sampling_benchmark` — the `Sampling` layer against the inline expression;
- `serving_benchmark` — predict over HTTP against the in-process SavedModel.
"""
