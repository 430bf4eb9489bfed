"""The bundled demo: a synthetic Normandie + Grand Est region shipped as package data."""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

from gpec._data import GpecData
from gpec.ingest import read_table

__all__ = ["load_demo", "demo_files", "DEMO_TABLES"]

#: Canonical tables shipped with the demo, in pipeline order.
DEMO_TABLES = (
    "territories",
    "occupations",
    "skills",
    "occupation_skills",
    "employment",
    "workforce_age",
    "hiring_intentions",
    "training_offers",
)

_files_stack = contextlib.ExitStack()
atexit.register(_files_stack.close)


def _data_dir() -> Path:
    root = resources.files("gpec.datasets") / "data"
    if isinstance(root, Path):
        return root
    # package imported from a zip: extract the folder once for the life of the process
    return Path(_files_stack.enter_context(resources.as_file(root)))  # pragma: no cover


def demo_files() -> dict[str, Path]:
    """Paths of the demo CSV files, by canonical table name.

    Returns
    -------
    dict of str to Path
        ``territories``, ``occupations``, ``skills``, ``occupation_skills``, ``employment``,
        ``workforce_age``, ``hiring_intentions`` and ``training_offers`` -> CSV file (UTF-8,
        comma separated, canonical column names).

    Examples
    --------
    >>> from gpec.datasets import demo_files
    >>> files = demo_files()
    >>> files["employment"].name
    'employment.csv'
    """
    folder = _data_dir()
    files = {name: folder / f"{name}.csv" for name in DEMO_TABLES}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            "demo files missing from the gpec installation: "
            + ", ".join(missing)
            + " (regenerate them with `python datasets/make_demo.py`)"
        )
    return files


def load_demo(tables: list[str] | tuple[str, ...] | None = None) -> GpecData:
    """Load the bundled synthetic demo (Normandie + Grand Est) as a validated bundle.

    The territories (2 régions, 11 départements, 41 EPCI), occupations (65 ROME 4.0 fiches) and
    skills (ROME 4.0 savoir-faire and savoirs) are real codes and labels; employment 2005-2024,
    age pyramids, hiring intentions 2022-2024 and training offers are SYNTHETIC numbers, made
    by ``datasets/make_demo.py`` (see ``datasets/README.md``).

    Parameters
    ----------
    tables : list of str, optional
        Load only these tables (default: all eight). Tables referenced by the chosen ones are
        not added automatically.

    Returns
    -------
    GpecData
        Validated bundle; ``sources`` maps each table to its CSV path, ``meta["demo"]`` is
        True.

    Examples
    --------
    >>> from gpec.datasets import load_demo
    >>> data = load_demo()
    >>> sorted(data.territories["level"].unique())
    ['departement', 'epci', 'nation', 'region']
    >>> int(data.employment["period"].min()), int(data.employment["period"].max())
    (2005, 2024)
    """
    files = demo_files()
    names = DEMO_TABLES if tables is None else tuple(tables)
    unknown = [n for n in names if n not in files]
    if unknown:
        raise ValueError(f"unknown demo table(s) {unknown}; choose among {list(DEMO_TABLES)}")
    frames = {n: read_table(files[n], encoding="utf-8", sep=",") for n in names}
    data = GpecData(
        **frames,
        sources={n: str(files[n]) for n in names},
        meta={
            "demo": True,
            "synthetic": True,
            "name": "gpec demo (Normandie + Grand Est)",
            "referentials": "ROME 4.0 v460 (France Travail, Licence Ouverte)",
        },
    )
    return data.validate()
