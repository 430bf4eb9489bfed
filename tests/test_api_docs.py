"""docs/api.md and the packages' ``__all__`` agree: every public name is on the API page
(a ``:::`` entry for a function or a class, a row of the Constants table for a constant), and
every entry of the page is a public name."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import gpec

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"

#: The modules whose ``__all__`` is the public API.
MODULES = [
    "gpec",
    *[f"gpec.{p}" for p in gpec.SUBPACKAGES],
    "gpec.supply.matching",
    "gpec.demand.sector_to_occupation",
]


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _page():
    text = API.read_text(encoding="utf-8")
    entries = re.findall(r"^::: (\S+)$", text, flags=re.M)
    constants = text.split("## Constants", 1)[1] if "## Constants" in text else ""
    listed = set(re.findall(r"`(gpec(?:\.\w+)*)`", constants))
    return entries, listed


def _public():
    """(dotted name, object) of every name in the ``__all__`` of the public modules."""
    out = []
    for mod in MODULES:
        module = importlib.import_module(mod)
        for name in getattr(module, "__all__", []):
            out.append((f"{mod}.{name}", getattr(module, name)))
    return out


def test_every_public_name_is_on_the_api_page():
    entries, listed = _page()
    documented = {id(_resolve(e)) for e in entries}
    missing = []
    for dotted, obj in _public():
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if id(obj) not in documented:
                missing.append(dotted)
        elif dotted not in listed:
            # a constant: a row of the Constants table names it by its public path
            missing.append(dotted)
    assert not missing, "not in docs/api.md:\n" + "\n".join(missing)


def test_every_entry_of_the_api_page_is_a_public_name():
    entries, listed = _page()
    public = {id(obj) for _, obj in _public()}
    names = {dotted for dotted, _ in _public()}
    not_public = [e for e in entries if id(_resolve(e)) not in public]
    assert not not_public, "on the API page but in no __all__: " + ", ".join(not_public)
    unknown = sorted(c for c in listed if c not in names and c != "gpec")
    assert not unknown, "constants listed but not public: " + ", ".join(unknown)


def test_each_entry_is_on_the_page_once():
    entries, _ = _page()
    ids = [id(_resolve(e)) for e in entries]
    twice = sorted({e for e, i in zip(entries, ids, strict=True) if ids.count(i) > 1})
    assert not twice, "documented twice: " + ", ".join(twice)
