"""A small shared test harness: every keras-rt layer and zoo model goes through it."""

from keras_rt.testing.layer_test import jit_compile, run_layer_test
from keras_rt.testing.round_trip import (
    assert_export_round_trip,
    assert_save_load_round_trip,
    reset_seed_generators,
)

__all__ = [
    "assert_export_round_trip",
    "assert_save_load_round_trip",
    "jit_compile",
    "reset_seed_generators",
    "run_layer_test",
]
