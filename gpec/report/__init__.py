"""Reports for planners: the Excel workbook and the self-contained HTML report."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pandas as pd

from gpec._data import GpecData
from gpec.exceptions import InputFileError
from gpec.ingest import read_table
from gpec.report._atomic import staged_output
from gpec.report._csv import (
    CSV_DIALECTS,
    neutralize_cells,
    output_dialect,
    read_output_csv,
    write_output_csv,
)
from gpec.report._excel import write_excel
from gpec.report._html import write_html
from gpec.report._results import OUTPUT_FILES, Results
from gpec.report._summary import period_totals, totals_by_period

__all__ = [
    "CSV_DIALECTS",
    "OUTPUT_FILES",
    "Results",
    "load_results",
    "neutralize_cells",
    "output_dialect",
    "read_output_csv",
    "staged_output",
    "period_totals",
    "totals_by_period",
    "write_excel",
    "write_html",
    "write_output_csv",
]


def load_results(out_dir: str | os.PathLike):
    """Read back the CSV files of a previous run, to rebuild its reports.

    Parameters
    ----------
    out_dir : path-like
        Folder written by ``gpec demo``/``gpec run`` (with ``provenance.toml``).

    Returns
    -------
    gpec.report.Results

    Raises
    ------
    InputFileError
        When the folder has no ``provenance.toml`` (not the output folder of a run).

    Examples
    --------
    >>> from gpec.report import write_html
    >>> res = load_results("demo-output")  # doctest: +SKIP
    >>> write_html(res, "demo-output/rapport.html", lang="fr")  # doctest: +SKIP
    PosixPath('demo-output/rapport.html')
    """
    out = Path(out_dir)
    prov_path = out / "provenance.toml"
    if not prov_path.is_file():
        raise InputFileError(f"{out}: no provenance.toml here; not the output folder of a run")
    provenance = tomllib.loads(prov_path.read_text(encoding="utf-8"))
    dialect = provenance.get("output", {}).get("csv_dialect", "en")
    tables = {}
    for name, attr in OUTPUT_FILES.items():
        path = out / name
        if path.is_file() and path.stat().st_size > 1:
            tables[attr] = read_output_csv(path, dialect)  # code columns as text
        else:
            tables[attr] = pd.DataFrame()
    data = None
    inputs = out / "inputs"
    if inputs.is_dir():
        parts = {}
        for name in ("territories", "occupations", "skills", "employment"):
            p = inputs / f"{name}.csv"
            if p.is_file():
                parts[name] = read_table(p)
        if parts:
            data = GpecData(**parts).validate(strict=False)
    return Results(**tables, config=provenance.get("config", {}), provenance=provenance, data=data)
