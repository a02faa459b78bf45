"""keras-rt: the reparameterization trick for Keras 3 (layers, estimators, zoo, serving)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "keras_rt" / "version.py").read_text()
).group(1)

# The zoo lives in the top-level folder `models/`, but a top-level import name
# `models` would collide with other packages: it is installed as `keras_rt.zoo`.
ZOO_PACKAGES = ["keras_rt.zoo"] + ["keras_rt.zoo." + p for p in find_packages("models")]

INSTALL_REQUIRES = [
    # Ranges, not pins: the lowest versions are the ones `./scripts/test.sh --lowest` tests
    # (uv's lowest-direct resolution), the caps the next minor release nobody has tested.
    # The exact stack CI checks together is constraints.txt (README "Install and compatibility").
    "tensorflow>=2.18,<2.22",
    # Found by testing on TensorFlow 2.18: the layers and estimators pass from Keras 3.6, but the zoo's
    # MirroredStrategy training fails up to 3.14 (optimizer all-reduce inside partial XLA), and files
    # saved by Keras 3.15 (every keras-rt 0.1.0 file) load only in 3.15. README "Install and compatibility".
    "keras>=3.15,<3.16",
    # TFP 0.25 is the only release for Keras 3-era TensorFlow (it asks for TensorFlow >= 2.18)
    "tensorflow-probability[tf]>=0.25,<0.26",
    # keras-tuner crashes every trial without tensorboard, and tensorflow does not install it
    "tensorboard>=2.18,<2.22",
    "keras-tuner>=1.4.7,<1.5",
    "scikit-learn>=1.5,<2",
    "matplotlib>=3.8,<4",
    "numpy>=1.26,<3",
    "fastapi>=0.110,<1",
    "uvicorn>=0.30,<1",
    # uvicorn's fast HTTP parser and event loop (serving latency; see README "Serving")
    "httptools>=0.6,<1",
    "uvloop>=0.19,<1; sys_platform != 'win32'",
    # TF Serving's gRPC protos and stubs (grpcio comes with TensorFlow); released with TensorFlow
    "tensorflow-serving-api>=2.18,<2.22",
    "prometheus-client>=0.20,<1",
]

setup(
    name="keras-rt",
    version=VERSION,
    description="The reparameterization trick for Keras 3: sampling layers, "
    "gradient estimators, a VAE model zoo, tuning and serving.",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["keras_rt", "keras_rt.*"]) + ZOO_PACKAGES,
    package_dir={"keras_rt.zoo": "models"},
    # py.typed: keras-rt has type hints, and type checkers use them only with this marker (PEP 561)
    package_data={"keras_rt": ["py.typed"]},
    install_requires=INSTALL_REQUIRES,
    extras_require={
        "test": [
            "pytest>=8,<10",
            "pytest-cov==7.1.0",
            "pytest-xdist==3.8.0",
            "ruff==0.17.5",
            "mypy==2.4.1",
            # fresh environments for the lowest-versions run and the wheel smoke test (seconds, not minutes)
            "uv>=0.13,<0.14",
        ],
        # The layers' tests on Keras's JAX backend (CPU); keras-rt itself does not need JAX. An extra
        # of its own, so that the lowest-versions run (`.[test]`) is not pulled up by JAX's own floors
        # (jax 0.10 needs numpy 2). Tested with 0.10; 0.4.36 with TensorFlow 2.18 fails the jax2tf export.
        "jax": ["jax>=0.10,<0.11"],
        "docs": [
            "mkdocs==1.6.1",
            "mkdocstrings==1.0.8",
            "mkdocstrings-python==2.0.11",
            "mkdocs-material==9.8.1",
        ],
    },
    entry_points={"console_scripts": ["keras-rt=keras_rt.cli.main:main"]},
)
