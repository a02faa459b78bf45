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
    # The stack checked together (see README "Dependencies").
    "tensorflow==2.21.0",
    "keras==3.15.1",
    "tensorflow-probability[tf]==0.25.0",
    "tensorboard>=2.21,<2.22",
    "keras-tuner==1.4.8",
    "scikit-learn>=1.5,<2",
    "matplotlib>=3.8,<4",
    "numpy>=1.26,<3",
    "fastapi>=0.110,<1",
    "uvicorn>=0.30,<1",
    # uvicorn's fast HTTP parser and event loop (serving latency; see README "Serving")
    "httptools>=0.6,<1",
    "uvloop>=0.19,<1; sys_platform != 'win32'",
    # TF Serving's gRPC protos and stubs (grpcio comes with TensorFlow); its version is TF's
    "tensorflow-serving-api==2.21.0",
    "prometheus-client==0.26.0",
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
    install_requires=INSTALL_REQUIRES,
    extras_require={
        "test": [
            "pytest>=8,<10",
            "pytest-cov==7.1.0",
            "pytest-xdist==3.8.0",
            "ruff==0.17.5",
            "mypy==2.4.1",
        ],
        "docs": [
            "mkdocs==1.6.1",
            "mkdocstrings==1.0.8",
            "mkdocstrings-python==2.0.11",
            "mkdocs-material==9.8.1",
        ],
    },
    entry_points={"console_scripts": ["keras-rt=keras_rt.cli.main:main"]},
)
