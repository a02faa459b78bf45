"""README.md's complete VAE runs as written: built, fitted, saved, and reloaded without `custom_objects`.

The block is the first ```python block after the marker comment
`<!-- readme-example: complete-vae ... -->` in README.md. It runs in a
temporary folder (it writes `vae.keras` there); the test then checks, beyond
what the block asserts itself, that the reloaded model gives the original's
outputs once both sampling-noise states are reset.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = "<!-- readme-example: complete-vae"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def readme_example() -> tuple[int, str]:
    """`(line number, code)` of the first ```python block after the marker."""
    text = README.read_text()
    start = text.index(MARKER)
    match = FENCE.search(text, start)
    assert match is not None, f"no ```python block after {MARKER!r} in README.md"
    return text.count("\n", 0, match.start()) + 2, match.group(1)


def test_readme_example_trains_saves_and_reloads(tmp_path):
    import keras

    from keras_rt.testing import reset_seed_generators

    line, code = readme_example()
    for needed in ("GaussianKL(", "Sampling(", ".compile(", ".fit(", ".save(", "load_model("):
        assert needed in code, f"the README example lost {needed!r}"
    assert "custom_objects" not in code.replace("No custom_objects", "")

    namespace: dict = {"__name__": "__readme__"}
    previous = os.getcwd()
    os.chdir(tmp_path)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"README.md:{line}", "exec"), namespace)  # noqa: S102 (the README's code)
    finally:
        os.chdir(previous)

    assert (tmp_path / "vae.keras").is_file()
    assert "validation -ELBO" in out.getvalue()
    history = namespace["history"].history
    assert {"loss", "kl", "val_loss", "val_kl"} <= set(history)
    # The loss is reconstruction + KL in nats per image: a 64-pixel digit costs tens of nats.
    assert 10.0 < history["val_loss"][-1] < 45.0 and history["val_kl"][-1] > 0.0

    vae, reloaded, images = namespace["vae"], namespace["reloaded"], namespace["images"]
    assert isinstance(reloaded, keras.Model) and reloaded is not vae
    reset_seed_generators(vae)
    reset_seed_generators(reloaded)
    np.testing.assert_array_equal(
        vae.predict(images, verbose=0), reloaded.predict(images, verbose=0)
    )
