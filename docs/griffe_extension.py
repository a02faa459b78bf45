"""Griffe extension for the keras-rt API reference (`mkdocs.yml` loads it).

It does three things, so that the library's docstrings can stay in Keras's house style:

1. **The zoo.** setup.py installs the folder `models/` as the sub-package
   `keras_rt.zoo` (`package_dir={"keras_rt.zoo": "models"}`). Griffe finds
   packages by walking folders, so it sees `keras_rt/` without a `zoo/` in it.
   When `keras_rt` has been visited, the extension loads `models/` and grafts it
   onto `keras_rt` as the member `zoo`: `::: keras_rt.zoo` and the zoo's own
   `from keras_rt.zoo... import ...` statements then resolve.
2. **Keras-style docstrings.** Keras writes `Example:` followed by a blank line
   and `>>>` lines at the section's own indentation; Google style (Griffe's
   parser) wants the section's content indented, and reads only `Examples:`
   (plural) as code. The extension indents the block and renames the title. It
   also splits a grouped argument line (`f, dist_fn, params: as for pathwise.`)
   into one entry per name, so each name is still checked against the signature.
3. **Missing docstrings.** Every class and function in the `__all__` of a
   `keras_rt` package must have a docstring; one that has none is a warning,
   which `mkdocs build --strict` turns into a failed build.
"""

from __future__ import annotations

import re
from pathlib import Path

import griffe

ZOO_FOLDER = Path(__file__).resolve().parent.parent / "models"

_SECTION = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")
_EXAMPLE_TITLES = ("Example:", "Examples:")
_ARGS_TITLES = ("Args:", "Arguments:", "Parameters:")
_GROUPED = re.compile(r"^(\s+)(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)+):(.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def adapt_docstring(text: str) -> str:
    """Indents unindented `Example:` blocks and splits grouped argument lines."""
    lines = text.splitlines()
    out: list[str] = []
    i, in_args = 0, False
    while i < len(lines):
        line = lines[i]
        if _SECTION.match(line):
            title = line.strip()
            in_args = title in _ARGS_TITLES
            # Griffe reads `Example:` as an admonition (Markdown), `Examples:` as code.
            out.append("Examples:" if title == "Example:" and _indent(line) == 0 else line)
            i += 1
            if title in _EXAMPLE_TITLES:
                j = i
                while j < len(lines) and not lines[j].strip():
                    j += 1
                if j < len(lines) and _indent(lines[j]) == 0:
                    i = j
                    while i < len(lines) and not _SECTION.match(lines[i]):
                        out.append("    " + lines[i] if lines[i].strip() else "")
                        i += 1
            continue
        if line.strip() and _indent(line) == 0:
            in_args = False
        grouped = _GROUPED.match(line) if in_args else None
        if grouped:
            indent, names, rest = grouped.groups()
            i += 1
            more = []
            while i < len(lines) and lines[i].strip() and _indent(lines[i]) > len(indent):
                more.append(lines[i])
                i += 1
            for name in re.split(r"\s*,\s*", names):
                out.append(f"{indent}{name}:{rest}")
                out.extend(more)
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _use_parent_collection(module) -> None:
    module._modules_collection = None  # noqa: SLF001
    for member in module.members.values():
        if not member.is_alias and member.is_module:
            _use_parent_collection(member)


def _check_docstrings(package) -> None:
    """Warns about public (exported) classes and functions of `package`'s sub-packages with no docstring."""
    for module in package.members.values():
        if module.is_alias or not module.is_module or module.exports is None:
            continue
        for name in module.exports:
            if not isinstance(name, str) or name not in module.members:
                continue
            obj = module.members[name]
            try:
                target = obj.final_target if obj.is_alias else obj
            except griffe.AliasResolutionError:
                griffe.logger.warning("%s.%s: cannot find what it refers to", module.path, name)
                continue
            if (target.is_class or target.is_function) and not target.docstring:
                griffe.logger.warning(
                    "%s.%s is public (in __all__) but has no docstring", module.path, name
                )


class KerasRTDocs(griffe.Extension):
    """Grafts `models/` onto `keras_rt` as `keras_rt.zoo`; adapts Keras-style docstrings."""

    def on_package(self, *, pkg, loader, **kwargs) -> None:
        if pkg.path == "keras_rt":
            _check_docstrings(pkg)

    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = adapt_docstring(obj.docstring.value)

    def on_module_members(self, *, node, mod, agent, **kwargs) -> None:
        if mod.path != "keras_rt" or "zoo" in mod.members:
            return
        zoo = griffe.load(
            "models",
            search_paths=[str(ZOO_FOLDER.parent)],
            extensions=agent.extensions,
            docstring_parser=agent.docstring_parser,
            docstring_options=agent.docstring_options,
            allow_inspection=False,
        )
        zoo.name = "zoo"
        # Look names up in the main collection (through `keras_rt`), not in the
        # throwaway loader's, so `keras_rt.zoo.*` aliases resolve.
        _use_parent_collection(zoo)
        mod.set_member("zoo", zoo)
