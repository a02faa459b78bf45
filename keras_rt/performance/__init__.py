"""Fast on every machine: what this machine has, what it measured, and the training plan from both.

- `keras_rt.performance.machine`: the CPU, its matrix features, the GPUs.
- `keras_rt.performance.probe`: a few seconds of measurements, cached per machine kind.
- `keras_rt.performance.flops`: a model's multiply-adds per op kind.
- `keras_rt.performance.plan`: precision and XLA choices from the two.
- `keras_rt.performance.step_timing`: the close choices settled by timing the model's own step.
- `keras_rt.performance.kernel_time`: a model's matrix products and convolutions
  run alone, each at its fastest: what the rest of its training step costs on top.

Names are imported on first use (`keras_rt.lazy`): the machine facts need no TensorFlow.
"""

from keras_rt.lazy import lazy_exports

_EXPORTS = {
    "MachineFacts": "machine",
    "cpu_facts": "machine",
    "detect_machine": "machine",
    "cache_dir": "probe",
    "load_or_probe": "probe",
    "macs_by_kind": "flops",
    "training_flops_per_example": "flops",
    "weighted_layers": "flops",
    "kernel_time": "kernel_time",
    "TrainingPlan": "plan",
    "narrow_conv_implementation": "plan",
    "narrow_convs_prefer_xla": "plan",
    "plan_training": "plan",
    "plan_with_step_timing": "step_timing",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
