"""The planners' Excel workbook (``report.xlsx``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from gpec.report._labels import tr
from gpec.report._summary import assumptions_table, summary_blocks

__all__ = ["write_excel", "MAX_ROWS"]

#: Rows written per sheet at most (Excel's limit is 1,048,576); the CSV files hold everything.
MAX_ROWS = 200_000
_FORMULA_START = ("=", "+", "-", "@")


def _fmt(col: str) -> str | None:
    if col in ("period", "level", "horizon", "rank", "n_series", "row"):
        return "0"
    if col.endswith("share") or col in ("overlap", "coverage", "score", "completion_rate",
                                        "placement_rate", "weight"):
        return "0.00"
    return "#,##0.0"


def _write_frame(ws, df: pd.DataFrame, lang: str | None, start_row: int = 1,
                 title: str | None = None) -> int:
    """Write ``df`` at ``start_row``; returns the next free row. Strings are never formulas."""
    from openpyxl.styles import Font, PatternFill

    r = start_row
    if title:
        ws.cell(row=r, column=1, value=title).font = Font(bold=True, size=12)
        r += 1
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    for j, col in enumerate(df.columns, start=1):
        c = ws.cell(row=r, column=j, value=tr(str(col), lang))
        c.font = Font(bold=True)
        c.fill = header_fill
    r += 1
    formats = [_fmt(str(c)) for c in df.columns]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
               for c in df.columns]
    for row in df.itertuples(index=False, name=None):
        for j, v in enumerate(row, start=1):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            if isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (np.floating,)):
                v = float(v)
            elif isinstance(v, (np.bool_,)):
                v = bool(v)
            elif not isinstance(v, (int, float, bool, str)):
                v = str(v)
            c = ws.cell(row=r, column=j, value=v)
            if isinstance(v, str):
                # text from inputs stays text: "=1+1", "+33..." or "@x" never become formulas
                c.data_type = "s"
            elif numeric[j - 1] and formats[j - 1]:
                c.number_format = formats[j - 1]
        r += 1
    return r


def _autowidth(ws, df: pd.DataFrame | None = None) -> None:
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 300)):
        for c in row:
            if c.value is not None:
                widths[c.column] = max(widths.get(c.column, 0), len(str(c.value)))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(8, w + 2), 60)


def _sheet(wb, name: str, df: pd.DataFrame | None, lang: str | None, note: str = "") -> None:
    ws = wb.create_sheet(tr(name, lang)[:31])
    if df is None or not len(df):
        ws.cell(row=1, column=1, value=note or "(no rows)")
        return
    if len(df) > MAX_ROWS:
        note = (f"{len(df):,} rows: the first {MAX_ROWS:,} are shown here; "
                "the CSV file holds them all.")
        df = df.iloc[:MAX_ROWS]
    start = 1
    if note:
        ws.cell(row=1, column=1, value=note)
        start = 2
    _write_frame(ws, df, lang, start_row=start)
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    ws.auto_filter.ref = f"A{start}:{ws.cell(row=start, column=df.shape[1]).column_letter}" \
                         f"{start + len(df)}"
    _autowidth(ws)


def write_excel(results, path: str | os.PathLike, *, lang: str | None = None) -> Path:
    """Write the planners' workbook.

    Sheets: Summary, Gaps, Skill gaps, Openings, Forecast, Backtest, Training supply,
    Transitions, (Scenarios), Assumptions. Headers are frozen, columns sized, numbers formatted;
    ``lang="fr"`` gives French labels.

    Parameters
    ----------
    results : gpec.pipeline.Results
        The run's results (or what :func:`gpec.report.load_results` read back).
    path : path-like
        Where to write the ``.xlsx`` file.
    lang : {"en", "fr"}, optional
        Language of the labels (default: the config's ``[run] lang``).

    Returns
    -------
    Path
    """
    from openpyxl import Workbook

    lang = lang or results.config.get("run", {}).get("lang", "en")
    wb = Workbook()
    ws = wb.active
    ws.title = tr("Summary", lang)
    r = 1
    from openpyxl.styles import Font

    ws.cell(row=r, column=1, value=results.config.get("run", {}).get("name", "gpec")).font = \
        Font(bold=True, size=14)
    r += 2
    for title, block in summary_blocks(results):
        if block is None or not len(block):
            continue
        r = _write_frame(ws, block, lang, start_row=r, title=tr(title, lang)) + 1
    _autowidth(ws)

    _sheet(wb, "Gaps", results.gaps, lang)
    _sheet(wb, "Skill gaps", results.skill_gaps, lang)
    _sheet(wb, "Openings", results.openings, lang)
    _sheet(wb, "Forecast", results.forecast, lang)
    bt = results.backtest_summary if results.backtest_summary is not None and len(
        results.backtest_summary) else results.backtest
    _sheet(wb, "Backtest", bt, lang,
           note="Rolling-origin backtest: accuracy of each model against the baselines.")
    _blocks_sheet(wb, "Training supply", [
        ("Mapping quality (share of seats mapped by code, by text, unmapped)",
         results.mapping_quality),
        ("Surplus: trained entrants not allocated to any opening", results.surplus),
        ("Offers mapped to occupations (score and reason)", results.entrants),
    ], lang)
    _sheet(wb, "Transitions", results.transitions, lang)
    if results.scenarios is not None and len(results.scenarios):
        _sheet(wb, "Scenarios", results.scenarios, lang)
    _sheet(wb, "Assumptions", assumptions_table(results), lang)
    path = Path(path)
    wb.save(path)
    return path


def _blocks_sheet(wb, name: str, blocks, lang: str | None) -> None:
    """A sheet holding several titled tables one under the other."""
    ws = wb.create_sheet(tr(name, lang)[:31])
    r = 1
    for title, df in blocks:
        if df is None or not len(df):
            continue
        r = _write_frame(ws, df.iloc[:MAX_ROWS], lang, start_row=r, title=title) + 1
    if r == 1:
        ws.cell(row=1, column=1, value="(no rows)")
    _autowidth(ws)
