"""Deprecated import paths kept working while users move to the new ones.

A name that moved is served by the old module's ``__getattr__`` through :func:`moved`, which
imports the new home by name at the first access (so the old module never depends on it at
import time) and warns once with the path to use instead.
"""

from __future__ import annotations

import warnings
from importlib import import_module


def moved(old: str, name: str, new_module: str):
    """Return ``name`` from ``new_module``, warning that ``old.name`` is deprecated.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f = moved("gpec.old", "TABLES", "gpec._schema")
    >>> "gpec._schema.TABLES" in str(w[0].message)
    True
    """
    warnings.warn(
        f"{old}.{name} is deprecated; import it from {new_module} ({new_module}.{name})",
        DeprecationWarning,
        stacklevel=3,
    )
    return getattr(import_module(new_module), name)


def module_getattr(old: str, names: dict[str, str]):
    """A module ``__getattr__`` serving the moved ``names`` (name -> new module)."""

    def __getattr__(name: str):
        if name in names:
            return moved(old, name, names[name])
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__
