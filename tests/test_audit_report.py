"""The workbook says why a sheet is empty, in the report's language."""

from __future__ import annotations

from click.testing import CliRunner
from openpyxl import load_workbook
from test_audit_inputs import _study

from gpec.cli import cli


def _first_lines(path) -> dict[str, str]:
    wb = load_workbook(path, read_only=True)
    out = {}
    for ws in wb.worksheets:
        row = next(ws.iter_rows(values_only=True), ())
        out[ws.title] = " ".join(str(c) for c in row if c is not None)
    wb.close()
    return out


def test_empty_sheets_say_which_input_is_missing(tmp_path):
    config = _study(tmp_path, extra='training_offers = "offers.csv"')
    (tmp_path / "offers.csv").write_text("offer,title,site,seats\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["run", str(config), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    first = _first_lines(tmp_path / "out" / "report.xlsx")
    assert first["Skill gaps"].startswith("(no rows: no occupation-skill links (occupation_skills)")
    assert first["Training supply"].startswith("(no rows: no training offers in this run")
    assert "every opening to fill is a gap" in first["Training supply"]
    assert first["Transitions"] == (
        "(no rows: reconversion paths need the occupations' skills (occupation_skills))"
    )
    # in French too (gpec report rebuilds the workbook from the CSV files)
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "out"), "--lang", "fr"])
    assert res.exit_code == 0, res.output
    first = _first_lines(tmp_path / "out" / "report.xlsx")
    assert first["Offre de formation"].startswith("(aucune ligne : pas d'offre de formation")
    assert first["Reconversions"].startswith("(aucune ligne : les parcours de reconversion")


def test_assumptions_show_scenarios_and_lists_as_a_planner_reads_them():
    """No Python repr such as "[{'name': ...}]" in the Assumptions table."""
    from types import SimpleNamespace

    from gpec.report._summary import assumptions_table

    prov = {
        "seed": 0,
        "config": {
            "data": {"employment": "employment.csv"},
            "forecast": {"level": [80, 95]},
            "run": {"exclude_occupations": []},
            "scenarios": [
                {"name": "foundry closure 2027", "territories": ["200041630"], "absolute": -250},
                {"name": "30 seats", "site": "200065597", "new_seats": 30},
            ],
        },
    }
    table = assumptions_table(SimpleNamespace(provenance=prov))
    rows = dict(zip(table["key"], table["value"], strict=True))
    assert rows["config.forecast.level"] == "80, 95"
    assert rows["config.scenarios[1].name"] == "foundry closure 2027"
    assert rows["config.scenarios[1].territories"] == "200041630"
    assert rows["config.scenarios[2].new_seats"] == "30"
    assert rows["config.run.exclude_occupations"] == "[]"
    assert not any(str(v).startswith("[{") for v in rows.values())
    assert "config.data.employment" not in rows  # the sources list the files
