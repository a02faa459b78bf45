"""The package metadata: ranges in setup.py, the exact stack in constraints.txt, the README in step."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("tensorflow", "keras", "tensorflow-probability", "keras-tuner")


def _setup_lists() -> tuple[list[str], dict[str, list[str]]]:
    """INSTALL_REQUIRES and extras_require, read from setup.py without running it."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    install = extras = None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and getattr(node.targets[0], "id", "") == "INSTALL_REQUIRES"
        ):
            install = ast.literal_eval(node.value)
        if isinstance(node, ast.keyword) and node.arg == "extras_require":
            extras = ast.literal_eval(node.value)
    assert install is not None and extras is not None, "setup.py lost INSTALL_REQUIRES or extras"
    return install, extras


def _locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


INSTALL_REQUIRES, EXTRAS = _setup_lists()


@pytest.mark.parametrize("requirement", INSTALL_REQUIRES)
def test_every_dependency_is_a_range_with_a_cap(requirement):
    parsed = Requirement(requirement)
    operators = {spec.operator for spec in parsed.specifier}
    assert "==" not in operators, f"{requirement}: an exact pin belongs in constraints.txt"
    assert ">=" in operators and "<" in operators, (
        f"{requirement}: needs a lowest version and a cap"
    )


def test_the_lock_satisfies_every_range():
    pins = _locked()
    requirements = INSTALL_REQUIRES + [r for extra in EXTRAS.values() for r in extra]
    for requirement in map(Requirement, requirements):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"constraints.txt does not lock {name}: run ./scripts/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt locks {name}=={pins[name]}, outside setup.py's {requirement}"
        )


def test_the_readme_states_the_ranges_and_the_locked_versions():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Install and compatibility") :]
    end = section.find("\n## ", 1)
    section = section if end == -1 else section[:end]
    pins = _locked()
    for requirement in map(Requirement, INSTALL_REQUIRES):
        if requirement.name.split("[")[0] not in FRAMEWORKS:
            continue
        lowest = min(str(s.version) for s in requirement.specifier if s.operator == ">=")
        cap = min(str(s.version) for s in requirement.specifier if s.operator == "<")
        row = f"| {requirement.name} | {lowest} | < {cap} | {pins[canonicalize_name(requirement.name)]} |"
        assert row in section, f"README's compatibility table lacks the row {row!r}"
