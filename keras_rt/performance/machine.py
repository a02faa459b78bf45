"""What this machine has that training speed depends on: the CPU, its matrix features, the GPUs.

Read, not measured (`keras_rt.performance.probe` measures): the CPU's model
name and flags from `/proc/cpuinfo` where there is one (Linux), else from
`platform`; the GPUs TensorFlow sees. `MachineFacts.key()` names the machine
in the probe's cache, so a new CPU kind, core count, GPU or TensorFlow
version is measured again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform

# The CPU flags that decide how fast 32- and 16-bit matrix products can run.
MATRIX_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16")


@dataclasses.dataclass(frozen=True)
class MachineFacts:
    """The facts of one machine.

    Attributes:
        cpu: the CPU's model name.
        cores: CPU cores this process may use.
        cpu_flags: the `MATRIX_FLAGS` the CPU has, sorted.
        gpus: names of the GPUs TensorFlow sees (empty on a CPU-only machine).
        tensorflow: TensorFlow's version (kernels change between versions).

    Example:

    >>> facts = MachineFacts("Intel Xeon", 2, ("amx_bf16", "amx_tile", "avx512_bf16"), ())
    >>> facts.describe()
    'Intel Xeon (2 cores; amx_bf16, amx_tile, avx512_bf16)'
    >>> facts.has_bfloat16_units
    True
    """

    cpu: str
    cores: int
    cpu_flags: tuple[str, ...]
    gpus: tuple[str, ...] = ()
    tensorflow: str = ""

    @property
    def has_bfloat16_units(self) -> bool:
        """Whether the CPU has bfloat16 matrix instructions (AMX or AVX-512 BF16)."""
        return bool({"amx_bf16", "avx512_bf16"} & set(self.cpu_flags))

    def describe(self) -> str:
        """One line: CPU model, cores, matrix features (and GPUs) — printed with every benchmark."""
        flags = [f for f in self.cpu_flags if f.startswith(("avx512", "amx"))] or [
            f for f in self.cpu_flags if f == "avx2"
        ]
        if self.cpu_flags and not any(f.startswith("amx") for f in self.cpu_flags):
            flags.append("no AMX")
        text = f"{self.cpu} ({self.cores} cores{'; ' + ', '.join(flags) if flags else ''})"
        return text + (f"; GPU: {', '.join(self.gpus)}" if self.gpus else "")

    def key(self) -> str:
        """A short hash naming this machine kind in the probe's cache."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "description": self.describe()}


def parse_cpuinfo(text: str) -> tuple[str | None, tuple[str, ...]]:
    """`(model name, sorted MATRIX_FLAGS present)` from the text of `/proc/cpuinfo`.

    Example:

    >>> parse_cpuinfo("model name : AMD EPYC\\nflags : fpu avx2 fma sse2\\n")
    ('AMD EPYC', ('avx2', 'fma'))
    """
    name: str | None = None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip() and name is None:
            name = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return name, tuple(sorted(f for f in MATRIX_FLAGS if f in flags))


def available_cores() -> int:
    """CPU cores this process may run on (its affinity where the platform says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_facts() -> MachineFacts:
    """The CPU's facts, without importing TensorFlow (`gpus` and `tensorflow` left empty)."""
    name: str | None = None
    flags: tuple[str, ...] = ()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            name, flags = parse_cpuinfo(f.read())
    except OSError:
        pass
    name = name or platform.processor() or platform.machine() or "unknown CPU"
    return MachineFacts(cpu=name, cores=available_cores(), cpu_flags=flags)


def detect_machine() -> MachineFacts:
    """This machine's facts, the GPUs and TensorFlow's version included (imports TensorFlow)."""
    import tensorflow as tf

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append(str(details.get("device_name", device.name)))
    return dataclasses.replace(cpu_facts(), gpus=tuple(gpus), tensorflow=tf.__version__)


__all__ = [
    "MATRIX_FLAGS",
    "MachineFacts",
    "available_cores",
    "cpu_facts",
    "detect_machine",
    "parse_cpuinfo",
]
