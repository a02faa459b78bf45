"""Mixed precision by name: compute in float16/bfloat16, keep variables and losses in float32."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import keras

POLICIES = {"off": "float32", "mixed_float16": "mixed_float16", "mixed_bfloat16": "mixed_bfloat16"}


def set_mixed_precision(name: str = "off") -> str:
    """Sets Keras's global dtype policy; returns the policy name.

    keras-rt's samplers draw noise in the compute dtype, and the KL,
    likelihoods and losses are computed in float32, so the zoo trains under
    either mixed policy. `mixed_float16` needs loss scaling, which
    `compile` adds to the optimizer automatically.

    Args:
        name: "off", "mixed_float16" or "mixed_bfloat16".
    """
    if name not in POLICIES:
        raise ValueError(
            f"Unknown mixed precision mode. Received: {name!r}. Valid: {sorted(POLICIES)}"
        )
    keras.mixed_precision.set_global_policy(POLICIES[name])
    return POLICIES[name]


@contextlib.contextmanager
def dtype_policy(policy: Any) -> Iterator[None]:
    """Sets Keras's global dtype policy inside the block, restores it after.

    Args:
        policy: a policy name (e.g. `"mixed_bfloat16"`) or a `keras.DTypePolicy`.

    Example:

    >>> with dtype_policy("mixed_bfloat16"):
    ...     keras.layers.Dense(2).compute_dtype
    'bfloat16'
    >>> keras.mixed_precision.global_policy().name
    'float32'
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
