"""The planners' Excel workbook (``report.xlsx``), streamed with openpyxl's write-only mode."""

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


def _fmt(col: str) -> str:
    if col in ("period", "level", "horizon", "rank", "n_series", "row", "offers"):
        return "0"
    if col.endswith("share") or col in ("overlap", "coverage", "score", "completion_rate",
                                        "placement_rate", "weight", "growth", "hhi", "krugman"):
        return "0.00"
    return "#,##0.0"


class _Writer:
    """Append titled tables to a write-only worksheet, with styles and safe strings."""

    def __init__(self, wb, name: str, lang: str | None):
        from openpyxl.styles import Font, PatternFill

        self.ws = wb.create_sheet(tr(name, lang)[:31])
        self.lang = lang
        self.bold = Font(bold=True)
        self.title_font = Font(bold=True, size=12)
        self.fill = PatternFill("solid", fgColor="DDE6F0")
        self.rows = 0

    def _cell(self, value, *, font=None, fill=None, number_format=None, text=False):
        from openpyxl.cell import WriteOnlyCell

        c = WriteOnlyCell(self.ws, value=value)
        if text:
            # text from inputs stays text: "=1+1", "+33..." or "@x" never become formulas
            c.data_type = "s"
        if font is not None:
            c.font = font
        if fill is not None:
            c.fill = fill
        if number_format:
            c.number_format = number_format
        return c

    def line(self, text: str, *, title: bool = False) -> None:
        self.ws.append([self._cell(text, font=self.title_font if title else None, text=True)])
        self.rows += 1

    def blank(self) -> None:
        self.ws.append([])
        self.rows += 1

    def table(self, df: pd.DataFrame) -> int:
        """Write a header and the rows of ``df``; return the header's row number."""
        header_row = self.rows + 1
        self.ws.append([self._cell(tr(str(c), self.lang), font=self.bold, fill=self.fill,
                                   text=True) for c in df.columns])
        self.rows += 1
        fmts = [_fmt(str(c)) for c in df.columns]
        columns = []
        for c in df.columns:
            s = df[c]
            if pd.api.types.is_bool_dtype(s.dtype):
                columns.append(("bool", s.to_numpy()))
            elif pd.api.types.is_numeric_dtype(s.dtype):
                columns.append(("num", s.to_numpy(dtype=float, na_value=np.nan)))
            else:
                columns.append(("text", s.astype(object).to_numpy()))
        for i in range(len(df)):
            row = []
            for (kind, values), fmt in zip(columns, fmts, strict=True):
                v = values[i]
                if kind == "num":
                    row.append(None if np.isnan(v) else self._cell(float(v), number_format=fmt))
                elif kind == "bool":
                    row.append(bool(v))
                elif v is None or (isinstance(v, float) and np.isnan(v)):
                    row.append(None)
                else:
                    row.append(self._cell(str(v), text=True))
            self.ws.append(row)
        self.rows += len(df)
        return header_row


def _widths(ws, frames: list[pd.DataFrame]) -> None:
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for df in frames:
        for j, c in enumerate(df.columns, start=1):
            sample = df[c].head(200).astype(str).str.len().max() if len(df) else 0
            w = max(len(str(c)), int(sample) if pd.notna(sample) else 0)
            widths[j] = max(widths.get(j, 0), w)
    for j, w in widths.items():
        ws.column_dimensions[get_column_letter(j)].width = min(max(8, w + 2), 60)


def _sheet(wb, name: str, df: pd.DataFrame | None, lang: str | None, note: str = "") -> None:
    w = _Writer(wb, name, lang)
    if df is None or not len(df):
        w.line(note or "(no rows)")
        return
    if len(df) > MAX_ROWS:
        note = (f"{len(df):,} rows: the first {MAX_ROWS:,} are shown here; the CSV file holds "
                "them all.")
        df = df.iloc[:MAX_ROWS]
    _widths(w.ws, [df])
    if note:
        w.line(note)
    header = (2 if note else 1)
    w.ws.freeze_panes = f"A{header + 1}"
    from openpyxl.utils import get_column_letter

    w.ws.auto_filter.ref = f"A{header}:{get_column_letter(df.shape[1])}{header + len(df)}"
    w.table(df)


def _blocks_sheet(wb, name: str, blocks, lang: str | None, title: str | None = None) -> None:
    """A sheet holding several titled tables one under the other."""
    w = _Writer(wb, name, lang)
    frames = [df.iloc[:MAX_ROWS] for _, df in blocks if df is not None and len(df)]
    _widths(w.ws, frames)
    if title:
        w.line(title, title=True)
        w.blank()
    if not frames:
        w.line("(no rows)")
    for block_title, df in blocks:
        if df is None or not len(df):
            continue
        w.line(tr(block_title, lang), title=True)
        w.table(df.iloc[:MAX_ROWS])
        w.blank()


def write_excel(results, path: str | os.PathLike, *, lang: str | None = None) -> Path:
    """Write the planners' workbook.

    Sheets: Summary, Gaps, Skill gaps, Openings, Forecast, Backtest, Training supply,
    Transitions, (Scenarios), Assumptions. Headers are frozen, columns sized, numbers formatted;
    ``lang="fr"`` gives French labels. Text cells coming from the inputs are always written as
    text, never as formulas.

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

    Examples
    --------
    >>> from gpec.pipeline import run_pipeline  # doctest: +SKIP
    >>> write_excel(run_pipeline(load_demo()), "report.xlsx", lang="fr")  # doctest: +SKIP
    """
    from openpyxl import Workbook

    lang = lang or results.config.get("run", {}).get("lang", "en")
    wb = Workbook(write_only=True)
    _blocks_sheet(wb, "Summary", summary_blocks(results), lang,
                  title=str(results.config.get("run", {}).get("name", "gpec")))
    _sheet(wb, "Gaps", results.gaps, lang)
    sg, sg_note = _skill_gaps_total(results.skill_gaps)
    _sheet(wb, "Skill gaps", sg, lang, note=sg_note)
    _sheet(wb, "Openings", results.openings, lang)
    _sheet(wb, "Forecast", _forecast_wide(results.forecast), lang,
           note="One row per series and year: the mean and the bounds of each interval level.")
    bt = results.backtest_summary
    if bt is None or not len(bt):
        bt = results.backtest
    _sheet(wb, "Backtest", bt, lang,
           note="Rolling-origin backtest: accuracy of each model against the baselines "
                "(MASE < 1 beats the naive forecast).")
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


def _forecast_wide(fc: pd.DataFrame | None) -> pd.DataFrame | None:
    """One row per series x period with lower_<level>/upper_<level> columns (fewer cells)."""
    if fc is None or not len(fc) or "level" not in fc.columns:
        return fc
    keys = [c for c in fc.columns if c not in ("level", "lower", "upper")]
    wide = fc.pivot_table(index=keys, columns="level", values=["lower", "upper"],
                          aggfunc="first", sort=False)
    wide.columns = [f"{a}_{int(b)}" for a, b in wide.columns]
    return wide.reset_index()


def _skill_gaps_total(sg: pd.DataFrame | None) -> tuple[pd.DataFrame | None, str]:
    """Skill gaps summed over the horizon per territory x skill (per year in the CSV file)."""
    if sg is None or not len(sg) or "period" not in sg.columns:
        return sg, ""
    keys = [c for c in ("territory", "territory_label", "skill", "skill_label") if c in sg.columns]
    values = [c for c in ("need", "supply_allocated", "gap", "gap_lower", "gap_upper")
              if c in sg.columns]
    total = sg.groupby(keys, as_index=False, sort=True)[values].sum()
    total = total[total["need"] > 0].sort_values(["territory", "gap"], ascending=[True, False])
    first, last = sg["period"].min(), sg["period"].max()
    return total, (f"Sums over {first}-{last} per territory and skill (skills with a need); "
                   "skill_gaps.csv has every year.")
