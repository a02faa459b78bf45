"""Every `>>>` example in a docstring of `keras_rt` and of the zoo (`keras_rt.zoo`) runs.

`doctest` runs each docstring with the module's globals plus `np`, `tf`, `keras` and `ops`
(`keras.ops`) in scope, so an example can use them without importing them. Examples use tiny
models and inline data; a line that would download data, start a server or train for more than
a few seconds is marked `# doctest: +SKIP`. Output is compared with `ELLIPSIS` and
`NORMALIZE_WHITESPACE`; float output is best shown rounded (`round(x, 3)`, `np.round`).

The zoo is collected through its installed name, `keras_rt.zoo`, not the `models/` folder: a
second import of the same files as `models.*` would register every model twice.

Run only these: `pytest tests/docs/test_docstring_examples.py`.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import keras
import numpy as np
import pytest
import tensorflow as tf

PACKAGES = ("keras_rt", "keras_rt.zoo")
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names() -> list[str]:
    names: set[str] = set()
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names.add(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
            names.add(info.name)
    return sorted(names)


def _docstring_examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = []
    for name in _module_names():
        module = importlib.import_module(name)
        tests.extend(t for t in finder.find(module) if t.examples)
    return sorted(tests, key=lambda t: t.name)


EXAMPLES = _docstring_examples()


def test_examples_are_collected():
    """Both the library and the zoo have examples, so a broken finder cannot pass silently."""
    names = [t.name for t in EXAMPLES]
    assert any(n.startswith("keras_rt.zoo.") for n in names)
    assert any(not n.startswith("keras_rt.zoo.") for n in names)


@pytest.mark.parametrize("example", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_example(example: doctest.DocTest, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    example.globs = {**example.globs, "np": np, "tf": tf, "keras": keras, "ops": keras.ops}
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    output: list[str] = []
    runner.run(example, out=output.append, clear_globs=False)
    failed = runner.summarize(verbose=False).failed
    assert not failed, "".join(output)
