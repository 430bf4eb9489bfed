"""The planners' Excel workbook (``report.xlsx``), streamed with openpyxl's write-only mode.

Data rows are the bulk of the workbook (hundreds of thousands of cells on a region). Building an
openpyxl cell object per value and serialising it through ElementTree costs ~20 µs a cell, so the
data rows of each table are rendered column by column into the very XML openpyxl would write
(inline strings, ``%.16g`` numbers, the same style ids) and streamed into the write-only sheet
in blocks. Headers, titles, column widths, frozen panes, filters and styles still go through
openpyxl. When the streaming backend is not the one this relies on (lxml installed, old
et_xmlfile), the cell-by-cell path is used instead; both give the same sheets.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from gpec.report._format import excel_format
from gpec.report._heldout import HELDOUT_TITLE, READING, heldout_lines, heldout_view
from gpec.report._labels import (
    NO_OFFERS,
    NO_PATHS,
    NO_PATHS_WITHOUT_SKILLS,
    NO_SKILLS,
    header,
    tr,
    translate_values,
)
from gpec.report._summary import (
    assumptions_table,
    block_note,
    scenario_totals,
    summary_blocks,
    transitions_labelled,
    with_labels,
)

__all__ = ["write_excel", "MAX_ROWS"]

#: Rows written per sheet at most (Excel's limit is 1,048,576): a planner reads the first rows
#: of a sheet, the CSV files hold everything (and writing a national run's million rows into
#: the workbook would take longer than the run itself).
MAX_ROWS = 50_000

#: Render data rows as XML in blocks (False: one openpyxl cell per value, the slow reference).
FAST_ROWS = True

_BLOCK_ROWS = 5_000  # rows rendered and streamed at a time (bounds the memory used)
_MAX_TEXT = 32_767  # Excel's cell text limit (openpyxl truncates to it as well)


class _Writer:
    """Append titled tables to a write-only worksheet, with styles and safe strings."""

    def __init__(self, wb, name: str, lang: str | None):
        from openpyxl.styles import Font, PatternFill

        self.ws = _fast_sheet_class()(parent=wb, title=tr(name, lang)[:31])
        wb._add_sheet(self.ws)  # what Workbook.create_sheet does, with the streaming subclass
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
        self.ws.append(
            [
                self._cell(header(c, self.lang), font=self.bold, fill=self.fill, text=True)
                for c in df.columns
            ]
        )
        self.rows += 1
        df = translate_values(df, self.lang)
        fmts = [
            excel_format(str(c), integer=pd.api.types.is_integer_dtype(df[c].dtype))
            for c in df.columns
        ]
        if FAST_ROWS and self.ws.raw_write is not None:
            self._rows_xml(df, fmts)
        else:
            self._rows_cells(df, fmts)
        self.rows += len(df)
        return header_row

    def _rows_cells(self, df: pd.DataFrame, fmts: list[str]) -> None:
        """Reference path: one openpyxl cell per value."""
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
                    row.append(None if v is pd.NA else bool(v))
                elif v is None or (isinstance(v, float) and np.isnan(v)):
                    row.append(None)
                else:
                    row.append(self._cell(str(v), text=True))
            self.ws.append(row)

    def _rows_xml(self, df: pd.DataFrame, fmts: list[str]) -> None:
        """Fast path: the rows' XML, built column by column and streamed in blocks."""
        from openpyxl.utils import get_column_letter

        first = self.rows + 1
        kinds, columns = [], []
        for c in df.columns:
            s = df[c]
            if pd.api.types.is_bool_dtype(s.dtype):
                kinds.append("bool")
                columns.append(s.to_numpy(dtype=object))
            elif pd.api.types.is_numeric_dtype(s.dtype):
                kinds.append("num")
                columns.append(s.to_numpy(dtype=float, na_value=np.nan))
            else:
                kinds.append("text")
                columns.append(s.astype(object).to_numpy())
        # style ids registered in the order the cell-by-cell path meets them (row by row)
        order = []
        for j, (kind, values) in enumerate(zip(kinds, columns, strict=True)):
            if kind == "num":
                present = np.flatnonzero(~np.isnan(values))
                if len(present):
                    order.append((int(present[0]), j))
        style = {j: self._cell(0.0, number_format=fmts[j]).style_id for _, j in sorted(order)}
        letters = [get_column_letter(j + 1) for j in range(len(kinds))]
        for start in range(0, len(df), _BLOCK_ROWS):
            stop = min(start + _BLOCK_ROWS, len(df))
            numbers = [str(r) for r in range(first + start, first + stop)]
            cells = []
            for j, (kind, values) in enumerate(zip(kinds, columns, strict=True)):
                block = values[start:stop]
                if kind == "num":
                    cells.append(_num_cells(letters[j], style.get(j), block, numbers))
                elif kind == "bool":
                    cells.append(_bool_cells(letters[j], block, numbers))
                else:
                    cells.append(self._text_cells(letters[j], str(df.columns[j]), block, numbers))
            xml = "".join(
                [
                    f'<row r="{r}">{"".join(row)}</row>'
                    for r, row in zip(numbers, zip(*cells, strict=True), strict=True)
                ]
            )
            self.ws.append_xml(xml, first + start, stop - start)

    def _text_cells(self, letter: str, column: str, values, numbers: list[str]) -> list[str]:
        from openpyxl.utils.exceptions import IllegalCharacterError

        texts = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]
        body = {}
        for t in set(texts):
            if t is not None:
                body[t] = _inline(t)
                if body[t] is None:
                    raise IllegalCharacterError(
                        f"sheet {self.ws.title!r}, column {column!r}, row "
                        f"{numbers[texts.index(t)]}: {t!r} holds a control character that "
                        "cannot be written to a worksheet."
                    )
        pre = f'<c r="{letter}'
        return [
            "" if t is None else f"{pre}{r}{body[t]}" for r, t in zip(numbers, texts, strict=True)
        ]


def _num_cells(letter: str, style_id, values: np.ndarray, numbers: list[str]) -> list[str]:
    pre = f'<c r="{letter}'
    mid = f'" s="{style_id}" t="n"><v>'
    # 16 significant digits ("%.16g"), as openpyxl writes numbers (compat.safe_string)
    out = [f"{pre}{r}{mid}{v:.16g}</v></c>" for r, v in zip(numbers, values.tolist(), strict=True)]
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        # NaN: no cell; infinite: the empty value openpyxl writes
        out[i] = "" if np.isnan(values[i]) else f'{pre}{numbers[i]}" s="{style_id}" t="n"><v /></c>'
    return out


def _bool_cells(letter: str, values, numbers: list[str]) -> list[str]:
    pre = f'<c r="{letter}'
    return [
        "" if v is pd.NA or v is None else f'{pre}{r}" t="b"><v>{int(bool(v))}</v></c>'
        for r, v in zip(numbers, values, strict=True)
    ]


def _inline(text: str) -> str | None:
    """The rest of an inline-string cell after its row number, as openpyxl writes it.

    None when the text holds a control character a worksheet cannot hold.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = text[:_MAX_TEXT]
    if not text:
        return '" t="inlineStr" />'
    if ILLEGAL_CHARACTERS_RE.search(text):
        return None
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    return f'" t="inlineStr"><is><t{space}>{escaped}</t></is></c>'


class _RawRows:
    """Rows already rendered as ``<row>`` XML, numbered from ``first``."""

    __slots__ = ("xml", "first", "n")

    def __init__(self, xml: str, first: int, n: int):
        self.xml, self.first, self.n = xml, first, n


@functools.cache
def _fast_sheet_class() -> type:
    """The write-only worksheet class that also streams rendered rows (openpyxl imported late)."""
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    class _FastSheet(WriteOnlyWorksheet):
        """Write-only worksheet that also streams rows already rendered as XML."""

        #: The stream's raw text writer once rows have started (None: cell-by-cell only).
        raw_write = None

        def append_xml(self, xml: str, first: int, n: int) -> None:
            """Stream ``n`` rendered rows numbered from ``first`` (after at least one ``append``)."""
            self._rows.send(_RawRows(xml, first, n))

        def _write_rows(self):
            # WriteOnlyWorksheet._write_rows, plus the rendered blocks
            from openpyxl.xml import LXML

            try:
                xf = self._writer.xf.send(True)
            except StopIteration:
                self._already_saved()
            raw = getattr(xf, "_file", None)
            if not LXML and type(xf).__name__ == "_IncrementalFileWriter" and callable(raw):
                self.raw_write = raw  # et_xmlfile >= 2: the text writer of the sheet's stream
            with xf.element("sheetData"):
                row_idx = 1
                try:
                    while True:
                        row = yield
                        if isinstance(row, _RawRows):
                            if row.first != row_idx:
                                raise RuntimeError(
                                    f"rows out of step in sheet {self.title!r}: "
                                    f"block starts at {row.first}, not {row_idx}"
                                )
                            self.raw_write(row.xml)
                            row_idx += row.n
                            continue
                        row = self._values_to_row(row, row_idx)
                        self._writer.write_row(xf, row, row_idx)
                        row_idx += 1
                except GeneratorExit:
                    pass
            self._writer.xf.send(None)

    return _FastSheet


def _widths(ws, frames: list[pd.DataFrame], lang: str | None = None) -> None:
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for df in frames:
        for j, c in enumerate(df.columns, start=1):
            sample = df[c].head(200).astype(str).str.len().max() if len(df) else 0
            w = max(len(header(c, lang)), int(sample) if pd.notna(sample) else 0)
            widths[j] = max(widths.get(j, 0), w)
    for j, w in widths.items():
        ws.column_dimensions[get_column_letter(j)].width = min(max(8, w + 2), 60)


def _sheet(
    wb, name: str, df: pd.DataFrame | None, lang: str | None, note: str = "", empty: str = ""
) -> None:
    """A sheet with one table under ``note``; ``empty`` says why when the table has no rows."""
    w = _Writer(wb, name, lang)
    if df is None or not len(df):
        w.line(tr(empty or note or "(no rows)", lang))
        return
    note = tr(note, lang) if note else ""
    if len(df) > MAX_ROWS:
        note = tr(
            "{n} rows: the first {max} are shown here; the CSV file holds them all.", lang
        ).format(n=f"{len(df):,}", max=f"{MAX_ROWS:,}")
        df = df.iloc[:MAX_ROWS]
    _widths(w.ws, [df], lang)
    if note:
        w.line(note)
    header = 2 if note else 1
    w.ws.freeze_panes = f"A{header + 1}"
    from openpyxl.utils import get_column_letter

    w.ws.auto_filter.ref = f"A{header}:{get_column_letter(df.shape[1])}{header + len(df)}"
    w.table(df)


def _empty(df: pd.DataFrame | None) -> bool:
    return df is None or not len(df)


def _no_offers(results) -> bool:
    """True when the run counted no training offer at all (none given, or a file of none)."""
    mq = results.mapping_quality
    return _empty(mq) or "offers" not in mq.columns or not mq["offers"].sum()


def _blocks_sheet(
    wb, name: str, blocks, lang: str | None, title: str | None = None, empty: str = "(no rows)"
) -> None:
    """A sheet holding several titled tables one under the other (``empty``: the line of a
    sheet whose every table is empty)."""
    w = _Writer(wb, name, lang)
    frames = [df.iloc[:MAX_ROWS] for _, df in blocks if df is not None and len(df)]
    _widths(w.ws, frames, lang)
    if title:
        w.line(title, title=True)
        w.blank()
    if not frames:
        w.line(tr(empty, lang))
    for block_title, df in blocks:
        if df is None or not len(df):
            continue
        w.line(tr(block_title, lang), title=True)
        w.table(df.iloc[:MAX_ROWS])
        note = block_note(block_title, lang)
        if note:
            w.line(note)
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
    >>> from gpec.datasets import load_demo  # doctest: +SKIP
    >>> from gpec.pipeline import run_pipeline  # doctest: +SKIP
    >>> write_excel(run_pipeline(load_demo()), "report.xlsx", lang="fr")  # doctest: +SKIP
    PosixPath('report.xlsx')
    """
    from openpyxl import Workbook

    lang = lang or results.config.get("run", {}).get("lang", "en")
    wb = Workbook(write_only=True)
    try:
        _fill(wb, results, lang)
    except BaseException:
        _abandon(wb)
        raise
    path = Path(path)
    wb.save(path)
    return path


def _fill(wb, results, lang: str | None) -> None:
    _blocks_sheet(
        wb,
        "Summary",
        summary_blocks(results, lang=lang),
        lang,
        title=str(results.config.get("run", {}).get("name", "gpec")),
    )
    _sheet(wb, "Gaps", results.gaps, lang)
    no_skills = _empty(results.skill_needs)
    sg, sg_note = _skill_gaps_total(results.skill_gaps, lang)
    _sheet(wb, "Skill gaps", sg, lang, note=sg_note, empty=NO_SKILLS if no_skills else "")
    op = results.openings
    if op is not None and "openings" in op.columns:  # named apart from the openings to fill
        op = op.rename(columns={"openings": "net_openings"})
    _sheet(
        wb,
        "Openings",
        op,
        lang,
        note="net_openings = expansion + replacement + turnover, negative where job losses "
        "exceed departures (openings.csv calls it openings); the Gaps sheet counts negative "
        "openings as 0 (openings to fill).",
    )
    _sheet(
        wb,
        "Forecast",
        with_labels(_forecast_wide(results.forecast), results),
        lang,
        note="One row per series and year: the mean and the bounds of each interval level.",
    )
    bt = results.backtest_summary
    if bt is None or not len(bt):
        bt = results.backtest
    _sheet(
        wb,
        "Backtest",
        bt,
        lang,
        note="Rolling-origin backtest: accuracy of each model against the baselines "
        "(MASE < 1 beats the naive forecast).",
    )
    _blocks_sheet(
        wb,
        "Training supply",
        [
            (
                "Mapping quality (seats mapped by override, code, text, unmapped; text "
                "matches to review: see mapping_review.csv)",
                results.mapping_quality,
            ),
            ("Surplus: trained entrants not allocated to any opening", results.surplus),
            ("Offers mapped to occupations (score and reason)", results.entrants),
        ],
        lang,
        empty=NO_OFFERS if _empty(results.entrants) and _no_offers(results) else "(no rows)",
    )
    _heldout_sheet(wb, results, lang)
    paths_note = NO_PATHS_WITHOUT_SKILLS if no_skills else NO_PATHS
    _sheet(wb, "Transitions", transitions_labelled(results, lang=lang), lang, empty=paths_note)
    if results.scenarios is not None and len(results.scenarios):
        _blocks_sheet(
            wb,
            "Scenarios",
            [
                (
                    "Totals over the horizon, all territories and occupations",
                    scenario_totals(results),
                ),
                ("Per territory, occupation and year", results.scenarios),
            ],
            lang,
        )
    _sheet(wb, "Assumptions", assumptions_table(results), lang)


def _heldout_sheet(wb, results, lang: str | None) -> None:
    """The held-out check of the plan totals in words and its table; when it did not run, a
    sheet saying why only if it was asked for (``on``; under ``auto`` the Assumptions sheet and
    the HTML report say it)."""
    lines = heldout_lines(results, lang)
    view = heldout_view(results)
    asked = (results.provenance or {}).get("plan_totals_heldout", {}).get("setting") == "on"
    if not lines or (view is None and not asked):
        return
    w = _Writer(wb, "Held-out check", lang)
    _widths(w.ws, [view] if view is not None else [], lang)
    w.line(tr(HELDOUT_TITLE, lang), title=True)
    for line in lines:
        w.line(line)
    if view is not None:
        w.blank()
        w.table(view)
        w.line(tr(READING, lang))


def _abandon(wb) -> None:
    """Close the half-written sheet streams of a failed workbook and remove their temp files.

    Left to the garbage collector, the streams would be finalised in any order (writing to
    already closed files).
    """
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        for stream in (getattr(ws, "_rows", None), getattr(writer, "xf", None)):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
        out = getattr(writer, "out", None)
        if isinstance(out, str):
            with contextlib.suppress(OSError):
                os.remove(out)


def _forecast_wide(fc: pd.DataFrame | None) -> pd.DataFrame | None:
    """One row per series x period with lower_<level>/upper_<level> columns (fewer cells)."""
    if fc is None or not len(fc) or "level" not in fc.columns:
        return fc
    keys = [c for c in fc.columns if c not in ("level", "lower", "upper")]
    wide = fc.pivot_table(
        index=keys, columns="level", values=["lower", "upper"], aggfunc="first", sort=False
    )
    wide.columns = [f"{a}_{int(b)}" for a, b in wide.columns]
    return wide.reset_index()


def _skill_gaps_total(
    sg: pd.DataFrame | None, lang: str | None = None
) -> tuple[pd.DataFrame | None, str]:
    """Skill gaps summed over the horizon per territory x skill (per year in the CSV file)."""
    if sg is None or not len(sg) or "period" not in sg.columns:
        return sg, ""
    keys = [c for c in ("territory", "territory_label", "skill", "skill_label") if c in sg.columns]
    values = [
        c for c in ("need", "supply_allocated", "gap", "gap_lower", "gap_upper") if c in sg.columns
    ]
    total = sg.groupby(keys, as_index=False, sort=True)[values].sum()
    total = total[total["need"] > 0].sort_values(["territory", "gap"], ascending=[True, False])
    first, last = sg["period"].min(), sg["period"].max()
    note = tr(
        "Sums over {first}-{last} per territory and skill (skills with a need); "
        "skill_gaps.csv has every year.",
        lang,
    )
    return total, note.format(first=first, last=last)
