"""The planners' workbook: sheets, frozen headers, French labels, text never becomes a formula."""

import warnings

import pytest
from openpyxl import load_workbook

from gpec.datasets import load_demo
from gpec.pipeline import run_pipeline
from gpec.report import load_results, write_excel


@pytest.fixture(scope="module")
def results():
    data = load_demo()
    offers = data.training_offers.copy()
    # an offer title that a spreadsheet would take for a formula
    offers.loc[offers.index[0], "title"] = '=HYPERLINK("http://example.invalid","x")'
    data = data.replace(training_offers=offers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_pipeline(data, {"forecast": {"horizon": 2}})


SHEETS_EN = [
    "Summary",
    "Gaps",
    "Skill gaps",
    "Openings",
    "Forecast",
    "Backtest",
    "Training supply",
    "Transitions",
    "Assumptions",
]


def test_sheets_headers_and_safe_text(results, tmp_path):
    path = write_excel(results, tmp_path / "report.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == SHEETS_EN
    gaps = wb["Gaps"]
    assert gaps.freeze_panes == "A2"
    header = [c.value for c in gaps[1]]
    assert header[:4] == ["territory", "territory_label", "occupation", "occupation_label"]
    assert isinstance(gaps["F2"].value, int | float)  # openings stay numbers (0 reads as int)
    supply = wb["Training supply"]
    cells = [
        c
        for row in supply.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")
    ]
    assert cells, "the offer title should appear in the Training supply sheet"
    assert all(c.data_type == "s" for c in cells)  # text, not a formula
    summary = [c.value for c in wb["Summary"]["A"] if c.value]
    assert "Largest gaps per territory (whole horizon)" in summary
    reasons = [
        c.value
        for row in wb["Summary"].iter_rows()
        for c in row
        if isinstance(c.value, str)
        and c.value.startswith(("growth", "retirements", "too few trainees"))
    ]
    assert reasons


def test_french_labels(results, tmp_path):
    wb = load_workbook(write_excel(results, tmp_path / "rapport.xlsx", lang="fr"))
    assert wb.sheetnames[:3] == ["Synthèse", "Écarts", "Écarts compétences"]
    header = [c.value for c in wb["Écarts"][1]]
    assert "postes à pourvoir" in header and "écart" in header


def test_reports_rebuild_from_saved_results(results, tmp_path):
    results.write(tmp_path, reports=False)
    again = load_results(tmp_path)
    assert len(again.gaps) == len(results.gaps)
    path = write_excel(again, tmp_path / "report.xlsx")
    assert load_workbook(path).sheetnames == SHEETS_EN
