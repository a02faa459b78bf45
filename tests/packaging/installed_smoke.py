"""What a user gets from `pip install keras-rt`: a smoke check run inside a fresh venv.

`scripts/wheel_smoke.sh` builds the sdist and the wheel, installs the wheel into a new virtual
environment (with the locked stack, constraints.txt) and runs this file there, from an empty folder,
so no source tree is on the path. Checked: the package imports from site-packages with the wheel's
version; the zoo (the source folder `models/`, installed as `keras_rt.zoo`) has every model and its
presets; the `py.typed` marker is shipped; the `keras-rt` command answers `--help` and trains a zoo
model for one step; the SavedModel it exported loads and answers its `encode` signature.

Usage: python tests/packaging/installed_smoke.py VERSION WORK_DIR
"""

from __future__ import annotations

import glob
import importlib.resources
import os
import shutil
import subprocess
import sys

EXPECTED_MODELS = {"beta_vae", "conv_vae", "cvae", "fullcov_vae", "gumbel_vae", "iwae", "mlp_vae"}


def check(condition: bool, message: str) -> None:
    """Exits with one line naming the problem when `condition` is false."""
    if not condition:
        print(f"installed smoke: FAILED: {message}")
        sys.exit(1)


def main(version: str, work_dir: str) -> None:
    import keras_rt
    from keras_rt.zoo import ZOO

    location = os.path.dirname(keras_rt.__file__)
    check("site-packages" in location, f"keras_rt imported from {location}, not site-packages")
    check(keras_rt.__version__ == version, f"version {keras_rt.__version__} != wheel's {version}")
    check(EXPECTED_MODELS <= set(ZOO), f"zoo models missing: {sorted(EXPECTED_MODELS - set(ZOO))}")
    check(bool(ZOO["conv_vae"].presets), "the zoo's presets are missing (conv_vae has none)")
    check(
        importlib.resources.files("keras_rt").joinpath("py.typed").is_file(),
        "py.typed is not in the wheel",
    )
    print(f"installed smoke: keras_rt {version} from {location}; zoo: {', '.join(sorted(ZOO))}")

    command = shutil.which("keras-rt")
    check(command is not None, "the keras-rt command is not on PATH")
    assert command is not None
    help_text = subprocess.run([command, "--help"], capture_output=True, text=True, check=False)
    check(help_text.returncode == 0 and "train" in help_text.stdout, "keras-rt --help failed")

    run_dir, export_dir = os.path.join(work_dir, "run"), os.path.join(work_dir, "exports")
    train = [
        command, "train", "--model", "mlp_vae", "--dataset", "digits", "--epochs", "1",
        "--max-examples", "128", "--iwae-samples", "0", "--no-plots", "--no-tensorboard",
        "--verbose", "0", "--output-dir", run_dir, "--export-dir", export_dir,
    ]  # fmt: skip
    trained = subprocess.run(train, capture_output=True, text=True, check=False)
    check(trained.returncode == 0, f"keras-rt train failed: {trained.stderr.strip()[-400:]}")
    check(os.path.isfile(os.path.join(run_dir, "model.keras")), "train wrote no model.keras")
    print("installed smoke: keras-rt train ran one step of mlp_vae on digits and exported it")

    import numpy as np
    import tensorflow as tf

    versions = sorted(glob.glob(os.path.join(export_dir, "mlp_vae", "*")))
    check(bool(versions), f"no SavedModel under {export_dir}/mlp_vae")
    loaded = tf.saved_model.load(versions[-1])
    check("encode" in loaded.signatures, f"signatures {sorted(loaded.signatures)} lack encode")
    encode = loaded.signatures["encode"]
    ((name, spec),) = encode.structured_input_signature[1].items()
    batch = np.zeros([2, *spec.shape[1:]], spec.dtype.as_numpy_dtype)
    outputs = encode(**{name: tf.constant(batch)})
    check(all(v.shape[0] == 2 for v in outputs.values()), "encode returned the wrong batch size")
    print(f"installed smoke: the export loads; encode -> {sorted(outputs)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
