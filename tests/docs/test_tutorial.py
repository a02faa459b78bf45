"""docs/tutorial.md runs: its ```python blocks, in order, in one namespace, in a temporary folder.

To see each block's output (to refresh the page's ```text blocks after a change):

    python tests/docs/test_tutorial.py
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks(path: Path = TUTORIAL) -> list[tuple[int, str]]:
    """`(line number, code)` of every ```python block of the page, in order."""
    text = path.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in FENCE.finditer(text)]


def run_blocks(workdir: Path, echo: bool = False) -> dict:
    """Executes the blocks in one namespace with `workdir` as the working folder."""
    namespace: dict = {"__name__": "__tutorial__"}
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        for line, code in python_blocks():
            compiled = compile(code, f"{TUTORIAL.relative_to(ROOT)}:{line}", "exec")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compiled, namespace)  # noqa: S102 (the page's own code)
            if echo:
                print(f"--- block at line {line}\n{out.getvalue()}", end="")
    finally:
        os.chdir(previous)
    return namespace


def test_tutorial_has_the_whole_story():
    blocks = python_blocks()
    code = "".join("\n".join(block for _, block in blocks).split())  # formatting-independent
    assert len(blocks) >= 8, f"only {len(blocks)} python blocks in {TUTORIAL}"
    for needed in (
        "score_function(",
        "pathwise(",
        "Sampling(",
        "MultivariateNormalTriLSampling(",
        "run_toy_study(",
        "GumbelSoftmaxSampling(",
        "train(TrainConfig(",
        "start_server(",
    ):
        assert "".join(needed.split()) in code, f"the tutorial no longer runs {needed}"


@pytest.mark.slow
def test_tutorial_code_runs(tmp_path):
    namespace = run_blocks(tmp_path)
    # What the page claims, checked on this run.
    assert (tmp_path / "variance.png").stat().st_size > 0
    assert namespace["result"].export_path == os.path.join("saved_models", "mlp_vae", "1")
    assert (tmp_path / "saved_models" / "mlp_vae" / "1" / "saved_model.pb").exists()
    with pytest.raises(OSError):  # the page stops its server
        urllib.request.urlopen(f"{namespace['server'].url}/v1/models/mlp_vae", timeout=5)


if __name__ == "__main__":
    import tempfile

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory() as tmp:
        run_blocks(Path(tmp), echo=True)
    sys.exit(0)
