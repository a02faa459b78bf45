"""Smoke tests of the zoo benchmarks: they run on tiny digits data and return the documented keys.

No timing is asserted (shared machines are too noisy for that).
"""

import json

import keras
import numpy as np
import pytest

from keras_rt.cli import benchmark_zoo
from keras_rt.experiments import zoo_quality, zoo_throughput
from keras_rt.experiments.reference_vae import ReferenceVAE
from keras_rt.experiments.zoo_variants import resolve_variants

THROUGHPUT_KEYS = {
    "model",
    "variant",
    "label",
    "policy",
    "jit_compile",
    "examples_per_epoch",
    "examples_per_second",
    "examples_per_second_all",
    "speedup",
    "warmup_seconds",
}
QUALITY_KEYS = {
    "model",
    "variant",
    "label",
    "epochs",
    "train_seconds",
    "final_train_loss",
    "test_neg_elbo",
    "test_neg_elbo_se",
    "test_examples",
    "test_neg_elbo_as_trained",
    "iwae_nll",
    "iwae_nll_se",
    "iwae_k",
    "iwae_examples",
    "iwae_seconds",
    "delta_neg_elbo",
    "delta_neg_elbo_se",
    "delta_iwae_nll",
    "delta_iwae_nll_se",
}


def test_throughput_rows():
    rows = zoo_throughput.benchmark_throughput(
        models=("mlp_vae", "conv_vae"),
        dataset="digits",
        batch_size=32,
        train_examples=64,
        repeats=1,
        variants=("zoo_f32",),
    )
    assert [(r["model"], r["variant"]) for r in rows] == [
        ("mlp_vae", "reference"),
        ("mlp_vae", "zoo_f32"),
        ("conv_vae", "reference"),
        ("conv_vae", "zoo_f32"),
    ]
    for row in rows:
        assert set(row) == THROUGHPUT_KEYS
        assert row["examples_per_epoch"] == 64 and row["examples_per_second"] > 0
    assert rows[0]["speedup"] == 1.0
    assert zoo_throughput.fastest_zoo_variant(rows, "mlp_vae") == "zoo_f32"
    assert "examples/s" in zoo_throughput.format_throughput_table(rows)
    assert keras.mixed_precision.global_policy().name == "float32"


def test_quality_rows_with_mixed_precision_zoo_model():
    rows = zoo_quality.benchmark_quality(
        models=("mlp_vae",),
        dataset="digits",
        batch_size=32,
        epochs=1,
        zoo_variant="zoo_bf16",
        iwae_samples=4,
        iwae_examples=8,
        max_examples=64,
    )
    assert [r["variant"] for r in rows] == ["reference", "zoo_bf16"]
    for row in rows:
        assert set(row) == QUALITY_KEYS
        assert row["iwae_examples"] == 8 and row["test_examples"] == 64 and row["iwae_k"] == 4
        assert np.isfinite([row["test_neg_elbo"], row["iwae_nll"], row["delta_iwae_nll"]]).all()
    assert rows[0]["delta_neg_elbo"] == 0.0
    assert "IWAE" in zoo_quality.format_quality_table(rows)
    assert keras.mixed_precision.global_policy().name == "float32"


def test_reference_has_the_zoo_architecture():
    from keras_rt.zoo import ConvVAE

    reference = ReferenceVAE("conv_vae", (8, 8, 1), 2, seed=0, filters=(4, 8), hidden_units=16)
    model = ConvVAE(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), hidden_units=16, seed=0)
    assert sum(np.prod(w.shape) for w in reference.trainable_weights) == sum(
        np.prod(w.shape) for w in model.trainable_weights
    )
    assert reference.elbo(np.zeros((3, 8, 8, 1), "float32")).shape == (3,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="models"):
        zoo_throughput.benchmark_throughput(models=("nope",))
    with pytest.raises(ValueError, match="variants"):
        resolve_variants(["nope"])
    with pytest.raises(ValueError, match="zoo_variant"):
        zoo_quality.benchmark_quality(
            models=("mlp_vae",), dataset="digits", zoo_variant="reference"
        )


def test_cli_writes_json(tmp_path, capsys):
    path = tmp_path / "zoo.json"
    code = benchmark_zoo.main(
        [
            "--models",
            "mlp_vae",
            "--dataset",
            "digits",
            "--batch-size",
            "32",
            "--train-examples",
            "64",
            "--repeats",
            "1",
            "--variants",
            "zoo_f32",
            "--skip-quality",
            "--json",
            str(path),
        ]
    )
    assert code == 0
    result = json.loads(path.read_text())
    assert {r["variant"] for r in result["throughput"]} == {"reference", "zoo_f32"}
    assert "examples/s" in capsys.readouterr().out
    assert benchmark_zoo.main(["--models", "nope"]) == 2
