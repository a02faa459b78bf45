"""Names that CLI flags offer, found without importing TensorFlow (so `--help` is fast).

Each sub-folder of the zoo (`models/`, installed as `keras_rt.zoo`) with a
`model.py` is one registered model of the same name; a test checks that
these names are `sorted(keras_rt.zoo.ZOO)`. The estimators each model
accepts are its class attribute `estimators` (a name from
`keras_rt.estimator_names`), read from the zoo's source without running it;
a test checks them against the registry too.
"""

from __future__ import annotations

import ast
import glob
import importlib.util
import os
import pkgutil

from keras_rt import estimator_names


def _zoo_locations() -> list[str]:
    spec = importlib.util.find_spec("keras_rt.zoo")
    return list(spec.submodule_search_locations or []) if spec else []


def zoo_model_names() -> list[str]:
    """Sorted names of the zoo's model folders (no TensorFlow import).

    Example:

    >>> "mlp_vae" in zoo_model_names()
    True
    """
    locations = _zoo_locations()
    return sorted(
        module.name
        for module in pkgutil.iter_modules(locations)
        if module.ispkg
        and any(os.path.isfile(os.path.join(path, module.name, "model.py")) for path in locations)
    )


def _parse(path: str) -> ast.Module:
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), filename=path)


def _registered_class(init_path: str) -> str | None:
    """The class name passed to `register_model(name, Class, ...)` in a model folder's `__init__`."""
    for node in ast.walk(_parse(init_path)):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "register_model"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Name)
        ):
            return node.args[1].id
    return None


def zoo_estimators() -> dict[str, tuple[str, ...]]:
    """The estimators each zoo model accepts, read from the zoo's source (no TensorFlow import).

    Returns:
        `{model name: estimators}`, the first being the model's default.

    Example:

    >>> zoo_estimators()["iwae"]
    ('pathwise', 'dreg', 'stl')
    """
    classes: dict[str, tuple[list[str], str | None]] = {}  # name -> (bases, `estimators` value)
    for location in _zoo_locations():
        for path in glob.glob(os.path.join(location, "*.py")) + glob.glob(
            os.path.join(location, "*", "*.py")
        ):
            for node in _parse(path).body:
                if isinstance(node, ast.ClassDef):
                    declared = None
                    for statement in node.body:
                        targets = (
                            statement.targets
                            if isinstance(statement, ast.Assign)
                            else [statement.target]
                            if isinstance(statement, ast.AnnAssign)
                            else []
                        )
                        if any(getattr(t, "id", None) == "estimators" for t in targets):
                            value = getattr(statement, "value", None)
                            declared = value.id if isinstance(value, ast.Name) else None
                    bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
                    classes[node.name] = (bases, declared)

    def lookup(name: str) -> str | None:
        bases, declared = classes.get(name, ([], None))
        if declared is not None:
            return declared
        for base in bases:
            found = lookup(base)
            if found is not None:
                return found
        return None

    result = {}
    for model in zoo_model_names():
        inits = [os.path.join(p, model, "__init__.py") for p in _zoo_locations()]
        cls = next((_registered_class(i) for i in inits if os.path.isfile(i)), None)
        declared = lookup(cls) if cls else None
        if declared is not None:
            result[model] = tuple(getattr(estimator_names, declared))
    return result


def estimator_help(separator: str = "; ") -> str:
    """The estimators each zoo model accepts, models with the same ones together, for `--help`.

    Example:

    >>> estimator_help(separator=" | ").split(" | ")[1]
    'gumbel_vae: gumbel_softmax, st_gumbel, score_function, vimco'
    """
    by_estimators: dict[tuple[str, ...], list[str]] = {}
    for model, names in zoo_estimators().items():
        by_estimators.setdefault(names, []).append(model)
    return separator.join(
        f"{', '.join(models)}: {', '.join(names)}" for names, models in by_estimators.items()
    )


def dataset_names() -> list[str]:
    """Sorted names of the registered datasets (the dataset registry imports no TensorFlow).

    Example:

    >>> "digits" in dataset_names()
    True
    """
    from keras_rt.datasets import DATASETS

    return sorted(DATASETS)


__all__ = ["dataset_names", "estimator_help", "zoo_estimators", "zoo_model_names"]
