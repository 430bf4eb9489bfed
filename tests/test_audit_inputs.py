"""A planner's usual input mistakes, as a new user meets them on the command line: each message
says what is wrong and how to put it right.

Each case starts from a small valid study (two EPCI, two occupations, twelve years) and makes
one mistake: a code without its leading zero (a file saved by a spreadsheet), a header in
French or with a capital, a data path that does not exist, a table exported without rows, no
age pyramid.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gpec._schema import TABLES, check_table, format_report
from gpec.cli import cli, code_hints
from gpec.config import load_config
from gpec.exceptions import InputFileError, ValidationError
from gpec.ingest import read_table
from gpec.pipeline import load_data, run_pipeline

TOML = """
[run]
name = "audit"
level = "commune"
[data]
territories = "territories.csv"
occupations = "occupations.csv"
employment = "employment.csv"
{extra}
[forecast]
models = "naive"
horizon = 2
"""


def _study(d: Path, *, commune: str = "01053", employment_code: str | None = None, extra=""):
    """Two communes under a département; ``employment_code`` replaces the first commune's code
    in employment.csv (as a spreadsheet would write it)."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "territories.csv").write_text(
        "territory,label,level,parent,lat,lon\n"
        "01,Ain,departement,,46.1,5.3\n"
        f"{commune},Bourg-en-Bresse,commune,01,46.2,5.2\n"
        "01004,Ambérieu-en-Bugey,commune,01,45.9,5.4\n",
        encoding="utf-8",
    )
    (d / "occupations.csv").write_text(
        "occupation,label\nH2913,Soudage manuel\nJ1501,Soins d'hygiène et de confort\n",
        encoding="utf-8",
    )
    rows = ["territory,occupation,period,value"]
    for t, base in ((employment_code or commune, 120), ("01004", 300)):
        for o, k in (("H2913", 1.0), ("J1501", 1.7)):
            for i, y in enumerate(range(2010, 2022)):
                rows.append(f"{t},{o},{y},{round(base * k + 3 * i + (i % 3))}")
    (d / "employment.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (d / "gpec.toml").write_text(TOML.format(extra=extra), encoding="utf-8")
    return d / "gpec.toml"


def _gpec(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------- codes without leading zero
def test_validate_says_a_code_lost_its_leading_zero(tmp_path):
    config = _study(tmp_path, employment_code="1053")
    res = _gpec("validate", config)
    assert res.exit_code == 1
    hints = [ln for ln in res.output.splitlines() if ln.startswith("hint:")]
    # one hint for the 24 rows of the commune, not one per row
    assert len(hints) == 1, res.output
    assert "'1053' in column territory of table employment (24 row(s))" in hints[0]
    assert "'01053' of table territories without its leading zero" in hints[0]
    assert "Text" in hints[0]


def test_run_error_ends_with_the_leading_zero_hint(tmp_path):
    config = _study(tmp_path, employment_code="1053")
    res = _gpec("run", config, "--out", tmp_path / "out")
    assert res.exit_code == 2
    lines = res.output.splitlines()
    assert lines[0].startswith("gpec: error: table employment")
    assert any(ln.startswith("gpec: hint: '1053'") and "'01053'" in ln for ln in lines), lines
    assert not (tmp_path / "out").exists()


def test_hint_when_the_territories_table_lost_the_zero():
    """The reference table saved by a spreadsheet: the other file's code is the right one."""
    report = pd.DataFrame(
        {
            "table": "training_offers",
            "file": "offers.csv",
            "row": [2],
            "column": "site",
            "value": ["08"],
            "reason": "unknown territory (not in table territories)",
        }
    )

    class Data:
        tables = {"territories": pd.DataFrame({"territory": ["8", "200041630"]})}

    (hint,) = code_hints(report, Data())
    assert "'08' in column site of table training_offers (1 row(s))" in hint
    assert "'8' of table territories with the leading zero(s) that table lost" in hint


def test_no_hint_for_a_code_that_is_simply_unknown(tmp_path):
    config = _study(tmp_path, employment_code="99999")
    res = _gpec("validate", config)
    assert res.exit_code == 1
    assert "unknown territory" in res.output and "hint:" not in res.output


# --------------------------------------------------------------------------- missing columns
def test_missing_column_names_the_columns_of_the_file():
    emp = pd.DataFrame({"territory": ["01"], "occupation": ["A"], "period": [2020], "qty": [3]})
    rep = check_table(emp, TABLES["employment"], "emp.csv")
    (line,) = format_report(rep)
    assert "row header, column value: required column is missing" in line
    assert "columns of the file: territory, occupation, period, qty" in line
    assert "rename" not in line  # nothing in the file looks like it


def test_missing_column_points_at_a_french_or_capitalised_header():
    emp = pd.DataFrame(
        {"Territoire": ["01"], "Occupation": ["A"], "Année": [2020], "effectif": [3.0]}
    )
    rep = check_table(emp, TABLES["employment"], "emp.csv")
    reasons = dict(zip(rep["column"], rep["reason"], strict=True))
    assert "'Territoire' may be it: rename it 'territory'" in reasons["territory"]
    assert "'Occupation' may be it: rename it 'occupation'" in reasons["occupation"]
    assert "'Année' may be it: rename it 'period'" in reasons["period"]
    assert "'effectif' may be it: rename it 'value'" in reasons["value"]


def test_cli_missing_column_message_names_the_header(tmp_path):
    config = _study(tmp_path)
    emp = tmp_path / "employment.csv"
    emp.write_text(emp.read_text().replace(",value\n", ",valeur\n", 1), encoding="utf-8")
    res = _gpec("run", config, "--out", tmp_path / "out")
    assert res.exit_code == 2
    assert "rename it 'value'" in res.output and "valeur" in res.output


# --------------------------------------------------------------------------- wrong data paths
def test_file_not_found_lists_the_files_that_look_like_it(tmp_path):
    _study(tmp_path)
    try:
        read_table(tmp_path / "emploi.csv")
    except InputFileError as exc:
        msg = str(exc)
    assert msg.startswith(f"{tmp_path / 'emploi.csv'}: file not found")
    assert f"the folder {tmp_path} has: employment.csv" in msg


def test_file_not_found_in_a_missing_folder_names_the_folder(tmp_path):
    try:
        read_table(tmp_path / "data" / "2024" / "employment.csv")
    except InputFileError as exc:
        msg = str(exc)
    assert msg.endswith(f"(no folder {tmp_path / 'data'})")


def test_run_on_a_wrong_data_path_suggests_the_file(tmp_path):
    config = _study(tmp_path)
    config.write_text(
        config.read_text().replace('"employment.csv"', '"Employment.csv"'), encoding="utf-8"
    )
    res = _gpec("run", config, "--out", tmp_path / "out")
    assert res.exit_code == 2
    assert "Employment.csv: file not found" in res.output
    assert "has: employment.csv" in res.output


# ------------------------------------------------------------------ tables without data rows
def test_header_only_training_offers_is_said(tmp_path):
    config = _study(tmp_path, extra='training_offers = "offers.csv"')
    (tmp_path / "offers.csv").write_text("offer,title,site,seats\n", encoding="utf-8")
    res = _gpec("validate", config)
    assert res.exit_code == 0
    assert (
        f"gpec: note: training_offers ({tmp_path / 'offers.csv'}): the table has no data rows: "
        "no trained entrants, so every opening counts as a gap"
    ) in res.output


def test_no_note_for_tables_with_rows(tmp_path):
    config = _study(tmp_path)
    res = _gpec("validate", config)
    assert res.exit_code == 0
    assert "no data rows" not in res.output


def test_python_users_are_told_of_the_default_pyramid_and_empty_tables(tmp_path):
    """The notes the command line prints are warnings of run_pipeline, not CLI-only."""
    config = _study(tmp_path, extra='training_offers = "offers.csv"')
    (tmp_path / "offers.csv").write_text("offer,title,site,seats\n", encoding="utf-8")
    cfg = load_config(config)
    with pytest.warns(UserWarning) as caught:
        run_pipeline(load_data(cfg), cfg, verbose=0)
    said = [str(w.message) for w in caught]
    assert any(
        m.startswith("openings: 4 of 4 territory x occupation series have no age pyramid")
        for m in said
    ), said
    assert any("training_offers" in m and "the table has no data rows" in m for m in said), said


def test_no_pyramid_note_when_every_series_has_its_pyramid(tmp_path):
    cfg = load_config(_study_with_pyramid(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_pipeline(load_data(cfg), cfg, verbose=0)
    assert set(res.openings["replacement_source"]) != {"default"}
    assert not [w for w in caught if "no age pyramid" in str(w.message)]


def test_run_without_age_pyramid_says_so(tmp_path):
    config = _study(tmp_path)
    res = _gpec("run", config, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert "gpec: note: openings: 4 of 4 territory x occupation series have no age pyramid" in (
        res.output
    )


# --------------------------------------------------------------------------------- -q / --quiet
def test_quiet_keeps_the_warnings_as_the_quickstart_says(tmp_path):
    """A series that stops early is a plausibility warning: -q prints it, and nothing else."""
    config = _study(tmp_path)
    emp = tmp_path / "employment.csv"
    lines = emp.read_text(encoding="utf-8").splitlines()
    stale = [
        ln for ln in lines if not (ln.startswith("01004,H2913,") and ln.split(",")[2] > "2017")
    ]
    emp.write_text("\n".join(stale) + "\n", encoding="utf-8")
    res = _gpec("-q", "validate", config)
    assert res.exit_code == 0, res.output
    out = res.output.splitlines()
    assert out and all(ln.startswith("gpec: warning: ") for ln in out), out
    assert any("stops before most of the panel" in ln for ln in out), out
    quickstart = (Path(__file__).resolve().parents[1] / "docs" / "quickstart.md").read_text()
    said = " ".join(quickstart.split("`-q` / `--quiet`", 1)[1].split("\n\n", 1)[0].split())
    assert "errors and the warnings: rows left out by `--lenient` and plausibility warnings" in said


# ------------------------------------------------------------------- one line per repeated value
def test_validate_prints_one_line_per_repeated_value(tmp_path):
    """A code wrong on every row of its series is one line with the rows, not 20 lines."""
    config = _study(tmp_path, employment_code="99999")
    res = _gpec("validate", config)
    assert res.exit_code == 1
    problems = [ln for ln in res.output.splitlines() if ln.startswith("  table employment")]
    assert problems == [
        f"  table employment ({tmp_path / 'employment.csv'}), rows 2-25 (24 rows), column "
        "territory: unknown territory (not in table territories) (value '99999')"
    ]


def test_format_report_groups_rows_of_one_value_and_counts_the_rest():
    rep = pd.DataFrame(
        {
            "table": "employment",
            "file": "emp.csv",
            "row": [2, 3, 4, 9, 5, 6],
            "column": "territory",
            "value": ["8105", "8105", "8105", "8105", "77", "78"],
            "reason": "unknown territory (not in table territories)",
        }
    )
    lines = format_report(rep, max_per_reason=2)
    assert lines == [
        "table employment (emp.csv), rows 2-4, 9 (4 rows), column territory: unknown territory "
        "(not in table territories) (value '8105')",
        "table employment (emp.csv), row 5, column territory: unknown territory "
        "(not in table territories) (value '77')",
        "... and 1 more row(s) of table employment (emp.csv), column territory: unknown "
        "territory (not in table territories)",
    ]


# ------------------------------------------------------------- spreadsheet artefacts: empty rows
def test_rows_of_empty_cells_are_one_problem_each_not_a_crash(tmp_path):
    """French Excel ends a CSV with rows of separators (";;;;"): each is one 'empty row'
    problem (it used to crash the duplicate-key check with an internal error)."""
    config = _study(tmp_path)
    emp = tmp_path / "employment.csv"
    text = emp.read_text(encoding="utf-8").replace(",", ";").replace("\n", "\r\n")
    emp.write_bytes((text + ";;;\r\n" * 3).encode("cp1252"))
    res = _gpec("validate", config)
    assert res.exit_code == 1, res.output
    assert (
        f"table employment ({emp}), rows 50-52 (3 rows): empty row (every cell is empty)"
        in res.output
    )
    assert "missing value" not in res.output and "duplicate" not in res.output
    lenient = _gpec("run", config, "--out", tmp_path / "out", "--lenient")
    assert lenient.exit_code == 0, lenient.output
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv")
    assert rejected["row"].tolist() == [50, 51, 52]


def test_duplicate_keys_with_an_empty_cell_are_reported():
    emp = pd.DataFrame(
        {
            "territory": [None, None],
            "occupation": ["A", "A"],
            "period": ["2020", "2020"],
            "value": ["1", "2"],
        },
        index=pd.Index([2, 3], name="row"),
    )
    rep = check_table(emp, TABLES["employment"], "emp.csv")
    dup = rep[rep["reason"] == "duplicate key"]
    assert dup["row"].tolist() == [3] and dup["value"].tolist() == ["|A|2020"]


def test_rome_dedupe_with_an_empty_cell():
    from gpec.ingest._errors import RowLedger
    from gpec.ingest._rome_csv import _dedupe

    ledger = RowLedger()
    df = pd.DataFrame({"code": ["A1101", "A1101"], "label": [None, None]}, index=[2, 3])
    ledger.read("f.csv", 2)
    kept = _dedupe((ledger, "occupations", "f.csv"), df, ["code", "label"])
    assert list(kept.index) == [2]
    assert ledger.frame()["value"].tolist() == ["A1101|"]


def test_blank_lines_keep_the_row_numbers_a_spreadsheet_shows(tmp_path):
    """A blank line is a row of the file: the rows after it keep their numbers."""
    p = tmp_path / "t.csv"
    p.write_text('a;b\n1;"x\n\ny"\n\n\n5;z\n;\n', encoding="utf-8")
    df = read_table(p)
    assert list(df.index) == [2, 5, 6]  # the quoted line break is one row; ";" stays a row
    assert df.loc[5].tolist() == ["5", "z"] and df.loc[6].isna().all()
    assert df.attrs["blank_lines"] == [3, 4]


# ------------------------------------------------------------------------ rates as percentages
def test_a_rate_written_as_a_percentage_says_how_to_write_it():
    offers = pd.DataFrame(
        {
            "offer": ["O1", "O2", "O3", "O4"],
            "title": "Soudeur",
            "site": "A",
            "seats": ["12", "12", "12", "12"],
            "completion_rate": ["78%", "84", "0,8", "douze"],
        },
        index=pd.Index([2, 3, 4, 5], name="row"),
    )
    rep = check_table(offers, TABLES["training_offers"], "offers.csv")
    by_row = dict(zip(rep["row"], rep["reason"], strict=True))
    assert by_row == {
        2: "not a number (a rate is written as a fraction: 0.78 for 78 %)",
        3: "outside [0, 1] (a percentage? a rate is written as a fraction: 0.84 for 84 %)",
        5: "not a number",
    }


def test_a_weight_above_one_gets_no_percentage_hint():
    links = pd.DataFrame({"occupation": ["A"], "skill": ["S"], "weight": ["1.5"]})
    rep = check_table(links, TABLES["occupation_skills"], "links.csv")
    assert rep["reason"].tolist() == ["outside [0, 1]"]


def test_official_readers_on_a_wrong_path_list_the_files_like_it(tmp_path):
    """A path typo under [data.NAME] with a format: the reader's message names the folder's
    files (or sub-folders, for the ROME export) whose names are close."""
    from gpec.exceptions import FormatError
    from gpec.ingest import read_lheo, read_rome

    (tmp_path / "offres-2024.xml").write_text("<lheo/>", encoding="utf-8")
    (tmp_path / "rome4-v460").mkdir()
    messages = []
    for reader, name in ((read_lheo, "offres-2042.xml"), (read_rome, "rome4-v46")):
        try:
            reader(tmp_path / name)
        except FormatError as exc:
            messages.append(str(exc))
    assert messages[0] == (
        f"{tmp_path / 'offres-2042.xml'}: file not found "
        f"(the folder {tmp_path} has: offres-2024.xml)"
    )
    assert messages[1] == (
        f"{tmp_path / 'rome4-v46'}: file or folder not found (the folder {tmp_path} has: "
        "rome4-v460)"
    )


# ------------------------------------------------------------------------------- --lenient
def test_lenient_run_says_which_rows_it_left_out(tmp_path):
    config = _study(tmp_path, employment_code="1053")
    res = _gpec("run", config, "--out", tmp_path / "out", "--lenient")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert (
        "gpec: warning: 24 row(s) left out (--lenient: 24 employment); "
        f"all in {tmp_path / 'out' / 'rejected.csv'}"
    ) in lines
    assert any("rows 2-25 (24 rows), column territory: unknown territory" in ln for ln in lines)
    assert any(ln.startswith("gpec: hint: '1053'") for ln in lines)


def test_lenient_forecast_lists_the_rows_it_left_out(tmp_path):
    """`gpec forecast --lenient` dropped rows without a word and wrote no rejected.csv."""
    config = _study(tmp_path, employment_code="1053")
    out = tmp_path / "fc"
    res = _gpec("forecast", config, "--out", out, "--lenient")
    assert res.exit_code == 0, res.output
    assert "24 row(s) left out (--lenient: 24 employment)" in res.output
    rejected = pd.read_csv(out / "rejected.csv", dtype=str)
    assert rejected["row"].astype(int).tolist() == list(range(2, 26))
    assert set(rejected["value"]) == {"1053"}
    # a clean run into the same folder removes the previous run's rejected.csv
    clean = _study(tmp_path / "clean")
    assert _gpec("forecast", clean, "--out", out).exit_code == 0
    assert not (out / "rejected.csv").exists()


def test_a_header_under_a_title_row_is_found(tmp_path):
    """A workbook with a title above the header: the message says on which row the header is."""
    from openpyxl import Workbook

    config = _study(tmp_path)
    rows = (tmp_path / "employment.csv").read_text(encoding="utf-8").splitlines()
    wb = Workbook()
    ws = wb.active
    ws.append(["Effectifs salariés par commune et métier"])
    ws.append([])
    for line in rows:
        ws.append(line.split(","))
    wb.save(tmp_path / "employment.xlsx")
    config.write_text(config.read_text().replace("employment.csv", "employment.xlsx"))
    res = _gpec("validate", config)
    assert res.exit_code == 1
    assert (
        "row header, column territory: required column is missing (the header is on row 3: "
        "delete the rows above it, such as a title)"
    ) in res.output


def test_hints_for_a_code_written_as_a_number_or_in_another_case():
    report = pd.DataFrame(
        {
            "table": ["employment", "employment", "employment"],
            "file": "emp.csv",
            "row": [2, 3, 4],
            "column": ["territory", "occupation", "occupation"],
            "value": ["200065597.0", "h2913", "Z9999"],
            "reason": [
                "unknown territory (not in table territories)",
                "unknown occupation (not in table occupations)",
                "unknown occupation (not in table occupations)",
            ],
        }
    )

    class Data:
        tables = {
            "territories": pd.DataFrame({"territory": ["200065597", "14"]}),
            "occupations": pd.DataFrame({"occupation": ["H2913", "J1501"]}),
        }

    hints = code_hints(report, Data())
    assert hints == [
        "'200065597.0' in column territory of table employment (1 row(s)) is '200065597' of "
        "table territories written as a number: format the code columns as Text, or export "
        "the file again",
        "'h2913' in column occupation of table employment (1 row(s)) is 'H2913' of table "
        "occupations in another case: codes are case-sensitive",
    ]


def test_a_year_written_by_french_excel_as_2019_comma_0_is_a_year():
    from gpec._schema import normalize_period, parse_periods

    s = pd.Series(["2019,0", "2020.0", "2021"])
    values, reasons = parse_periods(s)
    assert values.tolist() == [2019, 2020, 2021] and reasons.isna().all()
    assert normalize_period(s).tolist() == [2019, 2020, 2021]
    assert parse_periods(pd.Series(["2019,5"]))[1].notna().all()  # not a whole year


def test_hint_for_offers_placed_at_communes_the_study_does_not_have():
    report = pd.DataFrame(
        {
            "table": "training_offers",
            "file": "offers.csv",
            "row": [2, 3, 4],
            "column": "site",
            "value": ["14118", "14118", "2A004"],
            "reason": "unknown territory (not in table territories)",
        }
    )

    class Data:
        tables = {
            "territories": pd.DataFrame(
                {"territory": ["FR", "200065597"], "level": ["nation", "epci"]}
            )
        }

    assert code_hints(report, Data()) == [
        "'14118' and 1 other value(s) in column site of table training_offers (3 row(s)) look "
        "like INSEE commune codes, and table territories has no commune: add the communes "
        '(level commune, parent = their EPCI) and set [supply] site_level = "epci" to count '
        "each offer at its EPCI"
    ]
    Data.tables["territories"].loc[2] = ["14118", "commune"]
    assert code_hints(report, Data()) == []


def test_a_utf8_file_with_rows_added_in_windows_1252_is_not_garbled(tmp_path):
    """Two exports pasted together: the UTF-8 labels are not read as 'Ã©' mojibake."""
    p = tmp_path / "territories.csv"
    p.write_bytes(
        "territory;label\n14;Calvados\n61;Orne é\n".encode()
        + "76;Seine-Maritime è\n08;Ardennes ô\n".encode("cp1252")
    )
    df = read_table(p)
    assert df["label"].tolist() == ["Calvados", "Orne é", "Seine-Maritime è", "Ardennes ô"]
    assert df.attrs["encoding"] == "utf-8+cp1252"
    # a plain Windows-1252 file is read as before
    p.write_bytes("territory;label\n14;Calvados é\n".encode("cp1252"))
    df = read_table(p)
    assert df["label"].tolist() == ["Calvados é"] and df.attrs["encoding"] == "cp1252"


# ---------------------------------------------------------------------------------- age bands
def _with_pyramid(d: Path, bands: list[str]) -> Path:
    config = _study(d, extra='workforce_age = "workforce_age.csv"')
    rows = ["territory,occupation,age_band,value"]
    for t in ("01053", "01004"):
        for o in ("H2913", "J1501"):
            rows += [f"{t},{o},{b},{10 + i}" for i, b in enumerate(bands)]
    (d / "workforce_age.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return config


def test_validate_lists_an_unreadable_age_band_that_the_run_would_stop_on(tmp_path):
    """`gpec validate` said 'no problem found' and `gpec run` then failed naming the row
    only; both now name file, row, column and value."""
    config = _with_pyramid(tmp_path, ["15-29 ans", "30-49 ans", "seniors"])
    res = _gpec("validate", config)
    assert res.exit_code == 1, res.output
    where = f"table workforce_age ({tmp_path / 'workforce_age.csv'})"
    assert (
        f"{where}, rows 4, 7, 10, 13 (4 rows), column age_band: unreadable age band "
        "(expected e.g. '20-24', '65+') (value 'seniors')"
    ) in res.output
    run = _gpec("run", config, "--out", tmp_path / "out")
    assert run.exit_code == 2
    # the same grouped line as validate's (the value once, not once per row)
    assert run.output.startswith(
        f"gpec: error: {where}, rows 4, 7, 10, 13 (4 rows), column age_band"
    )
    lenient = _gpec("run", config, "--out", tmp_path / "out", "--lenient")
    assert lenient.exit_code == 0, lenient.output
    assert "4 row(s) left out (--lenient: 4 workforce_age)" in lenient.output


def test_readable_french_age_bands_pass(tmp_path):
    config = _with_pyramid(tmp_path, ["moins de 25 ans", "25 à 49 ans", "50 ans ou plus"])
    res = _gpec("validate", config)
    assert res.exit_code == 0, res.output


def test_validate_warns_that_quarterly_employment_cannot_run(tmp_path):
    config = _study(tmp_path)
    emp = tmp_path / "employment.csv"
    lines = emp.read_text(encoding="utf-8").splitlines()
    quarterly = [lines[0]] + [
        ",".join([*ln.split(",")[:2], ln.split(",")[2] + "Q1", ln.split(",")[3]])
        for ln in lines[1:]
    ]
    emp.write_text("\n".join(quarterly) + "\n", encoding="utf-8")
    res = _gpec("validate", config)
    assert res.exit_code == 0, res.output  # every row is usable by gpec forecast
    assert (
        f"gpec: warning: table employment ({emp}): periods such as 2010Q1 are not years: "
        "gpec run needs annual employment"
    ) in res.output
    assert res.output.rstrip().endswith("no row rejected")
    assert _gpec("run", config, "--out", tmp_path / "out").exit_code == 2


def test_python_users_get_the_leading_zero_hint_too():
    """GpecData.validate's error carries the hint, not only the command line."""
    from gpec import GpecData
    from gpec.exceptions import ValidationError

    terr = pd.DataFrame({"territory": ["01053"], "label": ["Bourg"], "level": ["commune"]})
    occ = pd.DataFrame({"occupation": ["O"], "label": ["O"]})
    emp = pd.DataFrame(
        {"territory": "1053", "occupation": "O", "period": [2020, 2021, 2022], "value": 10.0}
    )
    try:
        GpecData(terr, occ, employment=emp).validate()
    except ValidationError as exc:
        assert len(exc.hints) == 1, exc.hints
        assert "'1053' in column territory of table employment (3 row(s))" in exc.hints[0]
        assert "is '01053' of table territories without its leading zero" in exc.hints[0]
        assert f"\nhint: {exc.hints[0]}" in str(exc)
        # the three rows of one value and one problem are one line of the message
        assert str(exc).splitlines()[0].count("value '1053'") == 1, str(exc)
    else:
        raise AssertionError("no ValidationError")


def test_python_users_get_the_unreadable_age_band_at_validation():
    """GpecData.validate (not only the command line) rejects an age band the demand stage
    cannot read, naming row, column and value; readable French bands pass."""
    from gpec import GpecData
    from gpec.exceptions import ValidationError

    terr = pd.DataFrame({"territory": ["T"], "label": ["T"], "level": ["epci"]})
    occ = pd.DataFrame({"occupation": ["O"], "label": ["O"]})
    emp = pd.DataFrame({"territory": "T", "occupation": "O", "period": [2020, 2021], "value": 9.0})
    age = pd.DataFrame(
        {
            "territory": "T",
            "occupation": "O",
            "age_band": ["moins de 25 ans", "25 à 49 ans", "seniors"],
            "value": 3.0,
        }
    )
    try:
        GpecData(terr, occ, employment=emp, workforce_age=age).validate()
    except ValidationError as exc:
        bad = exc.report
        assert bad[["table", "column", "value"]].values.tolist() == [
            ["workforce_age", "age_band", "seniors"]
        ]
        assert bad["reason"].iloc[0].startswith("unreadable age band")
    else:
        raise AssertionError("no ValidationError")
    ok = GpecData(terr, occ, employment=emp, workforce_age=age.iloc[:2]).validate()
    assert len(ok.workforce_age) == 2


def test_lenient_run_left_without_employment_gives_the_hint(tmp_path):
    """--lenient drops every employment row (each commune lost its leading zero): the error
    says why and carries the hint, for Python users as on the command line."""
    config = _study(tmp_path)
    emp = tmp_path / "employment.csv"
    emp.write_text(emp.read_text(encoding="utf-8").replace("\n01", "\n1"), encoding="utf-8")
    cfg = load_config(config)
    with pytest.raises(ValidationError, match="employment .* has no usable row left") as exc:
        run_pipeline(load_data(cfg), cfg, verbose=0, strict=False)
    assert any("without its leading zero" in h for h in exc.value.hints), exc.value.hints
    res = _gpec("run", config, "--lenient", "--out", tmp_path / "out")
    assert res.exit_code != 0
    assert "hint:" in res.output and "leading zero" in res.output, res.output
    res = _gpec("validate", config)
    assert res.exit_code == 1
    assert "unknown territory (not in table territories) (value '1053')" in res.output
    assert "without its leading zero" in res.output, res.output


def test_report_without_training_offers_says_not_provided(tmp_path):
    """No training offer in the inputs: the report must not say that no local training
    prepares for an occupation, nor show 0 covered as if the offer had been counted."""
    config = _study(tmp_path)
    res = _gpec("run", config, "--out", tmp_path / "out", "--lang", "fr")
    assert res.exit_code == 0, res.output
    assert "gpec: note: training_offers: no table in the inputs" in res.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "aucune formation de la zone n'y prépare" not in html
    assert (
        "<b>—</b>couverts par la formation locale<br><small>offre de formation non fournie" in html
    )
    assert "aucune offre de formation fournie : tout poste à pourvoir compte comme écart" in html
    assert "<b>—</b>écart (non couvert)<br><small>offre de formation non fournie" in html


def test_report_with_training_offers_counts_them(tmp_path):
    config = _study(tmp_path, extra='training_offers = "offers.csv"')
    (tmp_path / "offers.csv").write_text(
        "offer,title,site,seats,occupation\nF1,Soudeur,01053,12,H2913\n", encoding="utf-8"
    )
    res = _gpec("run", config, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert "training_offers: no table" not in res.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "training offers not provided" not in html


def _study_with_pyramid(tmp_path, pyramid_period=None):
    config = _study(tmp_path, extra='workforce_age = "age.csv"')
    rows = ["territory,occupation,age_band,value"]
    for t in ("01053", "01004"):
        for o in ("H2913", "J1501"):
            for band, v in (("15-29", 30), ("30-49", 30), ("50-54", 10), ("55-59", 30)):
                rows.append(f"{t},{o},{band},{v}")
    (tmp_path / "age.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    if pyramid_period is not None:
        with config.open("a", encoding="utf-8") as fh:
            fh.write(f"[demand]\npyramid_period = {pyramid_period}\n")
    return config


def test_pyramid_period_reaches_the_openings(tmp_path):
    """[demand] pyramid_period = 2015 ages the pyramids six years to the 2021 base: many of
    the 55-59 year-olds are 60-64 by then, so the first year's departures are higher."""
    runs = {}
    for period in (None, 2015):
        cfg = load_config(_study_with_pyramid(tmp_path / str(period), period))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            op = run_pipeline(load_data(cfg), cfg, verbose=0).openings
        runs[period] = op[op["period"] == 2022].set_index(["territory", "occupation"])
    ratio = runs[2015]["replacement"] / runs[None]["replacement"]
    assert (ratio > 1.5).all(), ratio


def test_pyramid_period_must_be_a_year(tmp_path):
    res = _gpec("validate", _study_with_pyramid(tmp_path, 18))
    assert res.exit_code == 2
    assert "[demand] pyramid_period must be the year the workforce_age pyramids describe" in (
        res.output
    )


def test_a_dated_pyramid_read_as_the_base_year_is_warned(tmp_path):
    """A reader that dates its pyramids (DARES: "2017-2019") three years before the last
    employment year (2021): the run says so and names the key that ages them."""
    for period, warned in ((None, True), (2018, False)):
        cfg = load_config(_study_with_pyramid(tmp_path / str(period), period))
        data = load_data(cfg)
        data.meta["workforce_age_period"] = "2017-2019"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run_pipeline(data, cfg, verbose=0)
        said = [str(w.message) for w in caught if "describes 2017-2019" in str(w.message)]
        assert bool(said) == warned, said
        if warned:
            assert "set [demand] pyramid_period = 2018 to age its pyramids to 2021" in said[0]


def test_dares_pyramid_period_is_kept_by_load_data(real_data):
    root = Path(__file__).resolve().parents[1]
    data = load_data(load_config(root / "examples" / "real_files" / "gpec.toml"))
    assert data.meta["workforce_age_period"] == "2017-2019"


def test_python_users_hear_of_left_out_rows_and_plausibility_findings(tmp_path):
    """run_pipeline sums up once what the command prints row by row: the rows a lenient
    validation left out (24 employment rows of a commune that lost its leading zero) and the
    plausibility findings (a series that stops in 2017)."""
    from gpec.exceptions import DataQualityWarning

    config = _study(tmp_path, employment_code="1053")
    emp = tmp_path / "employment.csv"
    lines = emp.read_text(encoding="utf-8").splitlines()
    keep = [ln for ln in lines if not (ln.startswith("01004,H2913,") and ln.split(",")[2] > "2017")]
    emp.write_text("\n".join(keep) + "\n", encoding="utf-8")
    cfg = load_config(config)
    with pytest.warns(DataQualityWarning) as caught:
        run_pipeline(load_data(cfg), cfg, verbose=0, strict=False)
    said = [str(w.message) for w in caught if w.category is DataQualityWarning]
    assert any(m.startswith("24 rows left out (not valid) by table: employment 24") for m in said)
    assert any("plausibility warnings by check" in m for m in said), said
    res = _gpec("run", config, "--lenient", "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert "rows left out (not valid) by table" not in res.output  # printed row by row instead
    assert "plausibility warnings by check" not in res.output


def test_run_pipeline_asks_for_gpec_data():
    with pytest.raises(TypeError, match="data must be a GpecData"):
        run_pipeline({"employment": pd.DataFrame()})


def test_pyramid_period_without_pyramids_is_noted(tmp_path):
    config = _study(tmp_path)
    with config.open("a", encoding="utf-8") as fh:
        fh.write("[demand]\npyramid_period = 2018\n")
    res = _gpec("validate", config)
    assert res.exit_code == 0, res.output
    assert "[demand] pyramid_period = 2018: no workforce_age table in the inputs" in res.output


def test_pyramid_period_is_kept_whatever_the_entry_is_named(real_data, tmp_path):
    age = real_data / "dares-portrait-stat-metiers" / "age_2017_2019_3niv.csv"
    (tmp_path / "gpec.toml").write_text(
        f'[data.pyramids]\npath = "{age}"\nformat = "dares"\n', encoding="utf-8"
    )
    data = load_data(load_config(tmp_path / "gpec.toml"))
    assert data.workforce_age is not None
    assert data.meta["workforce_age_period"] == "2017-2019"
