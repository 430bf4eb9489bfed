"""The workbook's fast row writer gives the same sheets as openpyxl's cell-by-cell writer.

Not a timing test: the data rows are rendered as XML in blocks (gpec.report._excel), and these
tests check that values, number formats, types and formula-safe text are unchanged.
"""

import zipfile

import numpy as np
import pandas as pd
import pytest
from _helpers import GAPS_COLUMNS
from openpyxl import load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.xml import LXML

from gpec.pipeline import Results
from gpec.report import _excel, write_excel

FORMULA_LIKE = ["=1+1", "+33 1 23 45 67 89", "-x", "@SUM(A1)", '=HYPERLINK("http://x.invalid")']


def _results(gaps: pd.DataFrame | None = None) -> Results:
    n = 7
    if gaps is None:
        gaps = pd.DataFrame(
            {
                "territory": ["01", "01", "2A", "2A", "0051", "0051", "01"],
                "territory_label": [
                    "Ain",
                    "Ain",
                    "Corse-du-Sud",
                    "Corse-du-Sud",
                    " lead space",
                    "a & b <c>",
                    "",
                ],
                "occupation": FORMULA_LIKE + ["#N/A", None],
                "occupation_label": [
                    "x",
                    "trailing ",
                    "   ",
                    "é ü",
                    "tab\tand\nnewline",
                    "#REF!",
                    "ok",
                ],
                "period": np.array([2025, 2026, 2025, 2026, 2025, 2026, 2027], dtype="int64"),
                "openings": [0.1 + 0.2, 1 / 3, 12345.678, np.nan, 1e20, -0.0, 2.5],
                "entrants_allocated": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
                "gap": [np.inf, -np.inf, 1.0, 2.0, np.nan, 3.0, 4.0],
                "gap_share": [0.25, 0.5, np.nan, 1.0, 0.0, 0.125, 0.75],
                "flag_small": [True, False, True, False, True, False, True],
            }
        )
    empty = pd.DataFrame()
    forecast = pd.DataFrame(
        {
            "territory": ["01"] * 4 + ["2A"] * 4,
            "occupation": ["=A1"] * 8,
            "period": [2025, 2025, 2026, 2026] * 2,
            "model": ["ets"] * 8,
            "mean": np.repeat([10.0, 11.0, 12.0, 13.0], 2),  # one mean per series x year
            "lower": np.linspace(5.0, 12.0, 8),
            "upper": np.linspace(15.0, 22.0, 8),
            "level": [80, 95] * 4,
        }
    )
    return Results(
        forecast=forecast,
        backtest=empty,
        openings=empty,
        skill_needs=empty,
        entrants=empty,
        gaps=gaps,
        skill_gaps=empty,
        transitions=empty,
        surplus=empty,
        mapping_quality=empty,
        profile=empty,
        hiring_check=empty,
        scenarios=empty,
        rejected=empty,
        backtest_summary=empty,
        config={"run": {"name": "=not a formula"}, "report": {"top_n": n}},
        provenance={"seed": 0, "note": "+also text"},
    )


def _write(
    tmp_path,
    name,
    monkeypatch,
    *,
    fast: bool,
    block_rows: int = 5_000,
    results: Results | None = None,
):
    monkeypatch.setattr(_excel, "FAST_ROWS", fast)
    monkeypatch.setattr(_excel, "_BLOCK_ROWS", block_rows)
    return write_excel(results or _results(), tmp_path / name)


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("block_rows", [3, 5_000])
def test_fast_rows_identical_to_cell_by_cell(tmp_path, monkeypatch, block_rows):
    slow = _write(tmp_path, "slow.xlsx", monkeypatch, fast=False)
    rendered = []
    render = _excel._Writer._rows_xml

    def spy(self, df, fmts):
        rendered.append(len(df))
        return render(self, df, fmts)

    monkeypatch.setattr(_excel._Writer, "_rows_xml", spy)
    fast = _write(tmp_path, "fast.xlsx", monkeypatch, fast=True, block_rows=block_rows)
    if not LXML:  # with lxml installed openpyxl streams differently: cell by cell only
        assert sum(rendered) >= 7 + 4  # the gaps and the forecast went through the fast path
    a, b = _parts(slow), _parts(fast)
    assert sorted(a) == sorted(b)
    for name in a:  # sheets, styles (number formats) and workbook parts, byte for byte
        assert a[name] == b[name], name


def test_values_formats_and_formula_safe_text(tmp_path, monkeypatch):
    path = _write(tmp_path, "fast.xlsx", monkeypatch, fast=True, block_rows=4)
    ws = load_workbook(path)["Gaps"]
    header = [c.value for c in ws[1]]
    assert header[:6] == GAPS_COLUMNS[:6]
    col = {name: i + 1 for i, name in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2, max_row=8))
    assert [r[col["territory"] - 1].value for r in rows] == [
        "01",
        "01",
        "2A",
        "2A",
        "0051",
        "0051",
        "01",
    ]
    # formula-like text stays a string cell, never a formula
    occ = [r[col["occupation"] - 1] for r in rows]
    assert [c.value for c in occ[:5]] == FORMULA_LIKE
    assert all(c.data_type == "s" for c in occ[:6])
    assert occ[5].value == "#N/A" and occ[6].value is None
    labels = [r[col["territory_label"] - 1].value for r in rows]
    assert labels[4:6] == [" lead space", "a & b <c>"]
    assert [r[col["occupation_label"] - 1].value for r in rows][1:5] == [
        "trailing ",
        "   ",
        "é ü",
        "tab\tand\nnewline",
    ]
    # numbers: values and formats
    period = ws.cell(row=2, column=col["period"])
    assert period.value == 2025 and period.number_format == "0"
    op = [r[col["openings"] - 1] for r in rows]
    assert op[0].value == pytest.approx(0.3) and op[0].number_format == "#,##0.0"
    assert op[1].value == pytest.approx(1 / 3, rel=1e-15)
    assert op[3].value is None and op[4].value == 1e20
    assert op[5].value == 0 and op[5].data_type == "n"
    share = ws.cell(row=2, column=col["gap_share"])
    assert share.value == 0.25 and share.number_format == "0.0%"  # a share: a percentage
    ent = [r[col["entrants_allocated"] - 1].value for r in rows]
    assert ent[:3] == [1, None, 3]
    assert [r[col["flag_small"] - 1].value for r in rows][:2] == [True, False]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:J8"
    summary = load_workbook(path)["Summary"]
    assert summary["A1"].value == "=not a formula" and summary["A1"].data_type == "s"


def test_many_rows_several_blocks(tmp_path, monkeypatch):
    n = 2_500
    rng = np.random.default_rng(0)
    gaps = pd.DataFrame(
        {
            "territory": [f"{i % 97:02d}" for i in range(n)],
            "occupation": ["=A1" if i % 10 == 0 else f"K{i:04d}" for i in range(n)],
            "period": 2025 + np.arange(n) % 5,
            "openings": rng.gamma(2.0, 50.0, n),
            "entrants_allocated": rng.gamma(1.0, 10.0, n),
            "gap": rng.normal(0, 10, n),
        }
    )
    res = _results(gaps)
    slow = _write(tmp_path, "slow.xlsx", monkeypatch, fast=False, results=res)
    fast = _write(tmp_path, "fast.xlsx", monkeypatch, fast=True, block_rows=1_000, results=res)
    assert _parts(slow) == _parts(fast)
    ws = load_workbook(fast, read_only=True)["Gaps"]
    last = next(ws.iter_rows(min_row=n + 1, max_row=n + 1, values_only=True))
    assert last[0] == gaps["territory"].iloc[-1]
    value = gaps["openings"].iloc[-1]
    assert last[3] == float(f"{value:.16g}")  # 16 significant digits, as openpyxl writes
    assert last[3] == pytest.approx(value, rel=1e-15)


def test_control_character_names_sheet_column_and_row(tmp_path, monkeypatch):
    gaps = pd.DataFrame(
        {
            "territory": ["01", "02"],
            "territory_label": ["ok", "bad\x01"],
            "period": [2025, 2025],
            "openings": [1.0, 2.0],
            "entrants_allocated": [0.0, 0.0],
            "gap": [1.0, 2.0],
        }
    )
    with pytest.raises(
        IllegalCharacterError, match=r"sheet '\w+', column 'territory_label', row \d+: 'bad"
    ):
        _write(tmp_path, "bad.xlsx", monkeypatch, fast=True, results=_results(gaps))


def test_forecast_sheet_wide_values(tmp_path, monkeypatch):
    path = _write(tmp_path, "fast.xlsx", monkeypatch, fast=True)
    ws = load_workbook(path)["Forecast"]
    header = [c.value for c in ws[2]]  # row 1 holds the note
    # territory labels found in the other result tables (no occupation has one here)
    assert header == [
        "territory",
        "territory_label",
        "occupation",
        "period",
        "model",
        "mean",
        "lower_80",
        "lower_95",
        "upper_80",
        "upper_95",
    ]
    first = [c.value for c in ws[3]]
    assert first[:5] == ["01", "Ain", "=A1", 2025, "ets"]
    assert ws["C3"].data_type == "s"
    assert [c.value for c in ws[5]][:2] == ["2A", "Corse-du-Sud"]
    assert first[6:] == [5.0, 6.0, 15.0, 16.0]
    assert ws["G3"].number_format == "#,##0.0" and ws["D3"].number_format == "0"
