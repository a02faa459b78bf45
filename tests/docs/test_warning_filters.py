"""pytest.ini turns warnings issued from keras-rt's own code into errors, and only those.

The filter's module field is matched against the module a warning is attributed to: every
`keras_rt.*` module, the zoo (`keras_rt.zoo.*`, source folder `models/`) included.
"""

import warnings

import pytest


def _warn_from(module_name: str) -> None:
    """Issues a UserWarning attributed to `module_name` (as if that module called `warn`)."""
    code = compile("warnings.warn('from ' + __name__, UserWarning)", "<test>", "exec")
    exec(code, {"__name__": module_name, "warnings": warnings})


@pytest.mark.parametrize("module_name", ["keras_rt.layers.sampling", "keras_rt.zoo.vae"])
def test_keras_rt_warnings_are_errors(module_name):
    with pytest.raises(UserWarning, match=module_name):
        _warn_from(module_name)


@pytest.mark.parametrize("module_name", ["keras.src.layers.layer", "tests.test_module"])
def test_other_warnings_are_not(module_name):
    # Not `pytest.warns`: it would let every warning through, whatever the filters say.
    with warnings.catch_warnings(record=True) as caught:  # keeps pytest.ini's filters
        _warn_from(module_name)
    assert [str(w.message) for w in caught] == [f"from {module_name}"]
