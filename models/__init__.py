"""The keras-rt model zoo, installed as `keras_rt.zoo` (source folder: `models/`)."""
