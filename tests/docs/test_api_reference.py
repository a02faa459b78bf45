"""The API reference cannot fall behind the code.

- every public class and function (`__all__` of each package) has a docstring,
  and those of the layers, estimators, callbacks and zoo models an `Example:`
  section (mkdocs renders them; `mkdocs build --strict` fails on a docstring
  that names a parameter the signature does not have);
- every public package is documented on some page of `docs/api/`;
- `docs/api/cli.md` lists every `keras-rt` command with its current `--help`.

When a command's flags change, regenerate the CLI page:

    python tests/docs/test_api_reference.py --write-cli
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_DIR = ROOT / "docs" / "api"
CLI_PAGE = API_DIR / "cli.md"
HELP_COLUMNS = "100"  # argparse wraps --help at the terminal width: fix it

DOCUMENTED_PACKAGES = (
    "keras_rt.layers",
    "keras_rt.estimators",
    "keras_rt.callbacks",
    "keras_rt.datasets",
    "keras_rt.zoo",
    "keras_rt.training",
    "keras_rt.evaluation",
    "keras_rt.export",
    "keras_rt.serving",
    "keras_rt.tuning",
    "keras_rt.distribute",
    "keras_rt.performance",
    "keras_rt.testing",
)
# Packages whose every public class and function shows how it is used.
EXAMPLE_PACKAGES = ("keras_rt.layers", "keras_rt.estimators", "keras_rt.callbacks")
EXAMPLE_SECTION = re.compile(r"^\s*Examples?:\s*$", re.MULTILINE)


def _public_objects(package: str):
    """`(qualified name, object)` for the classes and functions in `package.__all__`."""
    module = importlib.import_module(package)
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield f"{package}.{name}", obj


def _own_docstring(obj) -> str:
    """The object's own docstring; dataclasses' generated `Name(field=...)` one does not count."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    doc = inspect.cleandoc(doc or "")
    if (
        inspect.isclass(obj)
        and dataclasses.is_dataclass(obj)
        and doc.startswith(f"{obj.__name__}(")
    ):
        return ""
    return doc


def _is_zoo_model(obj) -> bool:
    import keras

    return inspect.isclass(obj) and issubclass(obj, keras.Model)


def test_every_public_name_has_a_docstring():
    missing = [
        name
        for package in DOCUMENTED_PACKAGES
        for name, obj in _public_objects(package)
        if not _own_docstring(obj)
    ]
    assert not missing, "public names without a docstring:\n  " + "\n  ".join(missing)


def test_layers_estimators_callbacks_and_zoo_models_have_examples():
    objects = [item for package in EXAMPLE_PACKAGES for item in _public_objects(package)]
    objects += [(name, obj) for name, obj in _public_objects("keras_rt.zoo") if _is_zoo_model(obj)]
    missing = [name for name, obj in objects if not EXAMPLE_SECTION.search(_own_docstring(obj))]
    assert not missing, (
        "public names whose docstring has no `Example:` section (a blank line, then `>>>` "
        "lines, as in keras):\n  " + "\n  ".join(missing)
    )


def _api_pages_text() -> str:
    return "\n".join(page.read_text() for page in sorted(API_DIR.glob("*.md")))


def _public_modules() -> list[str]:
    import keras_rt
    from keras_rt.cli.main import COMMANDS

    modules = [f"keras_rt.{name}" for name in keras_rt.SUBMODULES]
    modules += ["keras_rt.cli", "keras_rt.cli.main"]
    modules += [module for module, _ in COMMANDS.values()]
    return sorted(set(modules))


def test_every_public_module_is_on_an_api_page():
    text = _api_pages_text()
    directives = set(re.findall(r"^:::\s*([\w.]+)", text, re.MULTILINE))
    for package in DOCUMENTED_PACKAGES:
        assert package in directives, f"no `::: {package}` in docs/api/*.md"
    missing = [
        module
        for module in _public_modules()
        if not any(d == module or d.startswith(module + ".") for d in directives)
        and not re.search(rf"`{re.escape(module)}(\.\w+)*`", text)
    ]
    assert not missing, "public modules that no page of docs/api/ documents:\n  " + "\n  ".join(
        missing
    )


def test_nav_lists_every_api_page():
    config = (ROOT / "mkdocs.yml").read_text()
    missing = [
        page.name for page in sorted(API_DIR.glob("*.md")) if f"api/{page.name}" not in config
    ]
    assert not missing, f"docs/api pages missing from mkdocs.yml's nav: {missing}"


def test_mkdocs_strict_build(tmp_path):
    """The site builds with `--strict` (runs where the docs extra is installed)."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    import subprocess

    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = "\n".join(
        line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log or proc.stderr[-4000:]}"


# -- the command line page -----------------------------------------------------------------


def command_help(command: str | None) -> str:
    """`keras-rt [COMMAND] --help`, as printed at a 100-column terminal."""
    from keras_rt.cli.main import main

    argv = ["--help"] if command is None else [command, "--help"]
    out = io.StringIO()
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
            main(argv)
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    assert exit_info.value.code in (0, None), (
        f"keras-rt {command} --help exited {exit_info.value.code}"
    )
    return out.getvalue().rstrip() + "\n"


def render_cli_page() -> str:
    """The whole of docs/api/cli.md, from `keras_rt.cli.main.COMMANDS` and each `--help`."""
    from keras_rt.cli.main import COMMANDS

    parts = [
        "# Command line\n",
        "`keras-rt` (`keras_rt.cli`) is one console command over the library: each subcommand parses its flags "
        "and calls the library functions documented on the other pages. Each is also a thin "
        "script in `scripts/` (`python scripts/train.py` is `keras-rt train`). User errors (bad "
        "flag values, missing files, no network for a download) print one line and exit with "
        "status 2; set `KERAS_RT_DEBUG=1` for the traceback.\n",
        "This page is generated from `keras_rt.cli.main.COMMANDS` and each command's `--help`; "
        "`tests/docs/test_api_reference.py` fails when it falls behind "
        "(`python tests/docs/test_api_reference.py --write-cli` rewrites it).\n",
        "| command | module | what it does |\n|---|---|---|",
    ]
    parts += [
        f"| [`{name}`](#keras-rt-{name}) | `{module}` | {summary} |"
        for name, (module, summary) in COMMANDS.items()
    ]
    parts.append("")
    parts.append("## `keras-rt`\n")
    parts.append(f"```text\n$ keras-rt --help\n{command_help(None)}```\n")
    for name, (module, summary) in COMMANDS.items():
        parts.append(f"## `keras-rt {name}`\n")
        parts.append(f"{summary[0].upper()}{summary[1:]} (`{module}`).\n")
        parts.append(f"```text\n$ keras-rt {name} --help\n{command_help(name)}```\n")
    parts.append("## Entry point\n")
    parts.append("::: keras_rt.cli.main.main\n")
    return "\n".join(parts)


def test_cli_page_lists_every_command():
    from keras_rt.cli.main import COMMANDS

    text = CLI_PAGE.read_text()
    listed = re.findall(r"^## `keras-rt (\S+)`$", text, re.MULTILINE)
    assert listed == list(COMMANDS), (
        f"docs/api/cli.md lists {listed}, keras_rt.cli.main.COMMANDS has {list(COMMANDS)}; "
        "run: python tests/docs/test_api_reference.py --write-cli"
    )


def test_cli_page_shows_the_current_help():
    text = CLI_PAGE.read_text()
    expected = render_cli_page()
    if text != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                text.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                "docs/api/cli.md",
                "generated",
                n=1,
            )
        )
        pytest.fail(
            "docs/api/cli.md differs from the commands' --help; run: "
            f"python tests/docs/test_api_reference.py --write-cli\n{diff[:4000]}"
        )


if __name__ == "__main__":
    if sys.argv[1:] != ["--write-cli"]:
        sys.exit(f"usage: python {sys.argv[0]} --write-cli")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    CLI_PAGE.write_text(render_cli_page())
    print(f"wrote {CLI_PAGE.relative_to(ROOT)}")
