"""Each trial trains as `train` would on this machine: the probe faked, the trials' choices checked."""

import json

import keras

from keras_rt.tuning import TuneConfig, run_search
from keras_rt.tuning.hypermodel import ZooHyperModel

AMX = (("amx_bf16", "amx_tile"), {"float32": (2.0, 1.9), "bfloat16": (0.8, 3.0)})
XLA_TWICE_AS_FAST = (("avx2",), {"float32": (4.0, 2.0), "bfloat16": (8.0, 8.0)})


def _hypermodel(**choices):
    return ZooHyperModel("mlp_vae", "digits", input_shape=(64,), latent_dims=[2], seed=0, **choices)


def test_auto_trains_each_trial_in_the_plans_precision_and_compilation(faked_machine):
    faked_machine(*AMX)
    model = _hypermodel().build_from_values({"hidden_units": [16], "latent_dim": 2}, 1e-3)
    assert model.dtype_policy.name == "mixed_bfloat16" and model.jit_compile is False
    assert keras.mixed_precision.global_policy().name == "float32"  # restored

    faked_machine(*XLA_TWICE_AS_FAST)
    model = _hypermodel().build_from_values({"hidden_units": [16], "latent_dim": 2}, 1e-3)
    assert model.dtype_policy.name == "float32" and model.jit_compile is True

    # The same machine, XLA's compile time measured: a trial of a few examples skips it.
    faked_machine(*XLA_TWICE_AS_FAST, compile_s=0.2)
    hypermodel = _hypermodel(run_examples=300)
    model = hypermodel.build_from_values({"hidden_units": [16], "latent_dim": 2}, 1e-3)
    assert model.jit_compile is False and hypermodel.plan.examples == 300


def test_forced_choices_are_kept(faked_machine):
    faked_machine(*AMX)
    hypermodel = _hypermodel(mixed_precision="off", jit_compile="on")
    model = hypermodel.build_from_values({"hidden_units": [16], "latent_dim": 2}, 1e-3)
    assert model.dtype_policy.name == "float32" and model.jit_compile is True
    assert hypermodel.plan.mixed_precision == "off"


def test_the_search_records_the_plan_and_warns_of_a_slower_forced_choice(
    faked_machine, quick_config, capsys
):
    faked_machine(*XLA_TWICE_AS_FAST)
    config = quick_config(latent_dims=[2], jit_compile="off")
    result = run_search(config)
    assert [t["latent_dim"] for t in result.results["trials"]] == [2]
    warnings = [line for line in capsys.readouterr().out.splitlines() if "Warning" in line]
    assert len(warnings) == 1  # once per search, not once per model built
    assert warnings[0].startswith("Warning: --jit-compile off: estimated 0.50x the speed")
    saved = json.load(open(f"{config.search_dir}/config.json"))
    assert saved["performance"]["plan"]["jit_compile"] is False
    assert saved["performance"]["plan"]["examples"] == config.epochs * 64  # x the train split
    assert saved["performance"]["machine"]["description"] == "fake CPU"
    assert saved["tune_config"]["jit_compile"] == "off"


def test_a_search_saved_before_these_settings_resumes(quick_config):
    config = quick_config(latent_dims=[2], jit_compile="auto")  # both at their defaults
    saved = json.loads(json.dumps(config.to_dict()))
    del saved["mixed_precision"], saved["jit_compile"]  # as keras-rt 0.1.0 wrote it
    assert config.differences(saved) == []
    assert TuneConfig.from_dict({**saved, "jit_compile": "on"}).differences(saved) == [
        "jit_compile"
    ]
