"""Input handling found by a new-user audit: strict runs stop on the readers' rejections, French
numbers, per-reader metadata, one note instead of thousands of repeated lines, periods."""

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpec import GpecData, ValidationError
from gpec._data import meta_to_toml
from gpec._schema import REJECTION_COLUMNS, format_report, parse_periods, to_number
from gpec.ingest import read_table

REPO = Path(__file__).resolve().parents[1]


def tables(n_years: int = 3) -> dict[str, pd.DataFrame]:
    terr = pd.DataFrame(
        {
            "territory": ["FR", "14", "50"],
            "label": ["France", "Calvados", "Manche"],
            "level": ["nation", "departement", "departement"],
            "parent": [None, "FR", "FR"],
        }
    )
    occ = pd.DataFrame({"occupation": ["H2913", "J1501"], "label": ["Soudage", "Aide-soignant"]})
    rows = [
        (t, o, 2018 + y, 100.0 * (i + 1) + y)
        for i, (t, o) in enumerate([("14", "H2913"), ("14", "J1501"), ("50", "H2913")])
        for y in range(n_years)
    ]
    emp = pd.DataFrame(rows, columns=["territory", "occupation", "period", "value"])
    return {"territories": terr, "occupations": occ, "employment": emp}


def reader_rejection(n: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": "workforce_age",
            "file": "age_2017_2019_3niv.csv",
            "row": list(range(857, 857 + n)),
            "column": "annee_2017_2019",
            "value": "NA",
            "reason": "missing or negative count",
        },
        columns=REJECTION_COLUMNS,
    )


# ----------------------------------------------------------------- 1. strict and the readers
def test_strict_validation_stops_on_reader_rejections():
    data = GpecData(**tables(), rejected=reader_rejection(5))
    with pytest.raises(ValidationError) as err:
        data.validate()
    msg = str(err.value)
    assert "\n" not in msg  # the CLI prints the first line only
    assert "table workforce_age (age_2017_2019_3niv.csv), rows 857-861 (5 rows)" in msg
    assert "column annee_2017_2019: missing or negative count (value 'NA')" in msg
    assert msg.count("value 'NA'") == 1  # the five rows of one value and problem: one line
    assert "5 problem(s) in all" in msg
    assert "--lenient" in msg and "strict=False" in msg
    assert len(err.value.report) == 5
    # lenient: the clean bundle and every rejected row
    clean = data.validate(strict=False)
    rejected = clean.rejected
    assert len(clean.employment) == 9
    assert rejected["row"].tolist() == [857, 858, 859, 860, 861]


def test_strict_validation_passes_without_rejections():
    clean = GpecData(**tables()).validate()
    assert len(clean.rejected) == 0 and len(clean.employment) == 9


def test_reader_rejections_come_first_then_validation_problems():
    t = tables()
    t["employment"].loc[0, "value"] = -1.0
    data = GpecData(**t, rejected=reader_rejection(1), sources={"employment": "emp.csv"})
    with pytest.raises(ValidationError) as err:
        data.validate()
    report = err.value.report
    assert report["table"].tolist() == ["workforce_age", "employment"]
    assert "table employment (emp.csv), row 0, column value: negative value" in str(err.value)


# ----------------------------------------------------------------- 2. French numbers
def test_to_number_reads_french_forms():
    s = pd.Series(
        ["455,0", "1 234,5", "1\u00a0234", "1\u202f234\u202f567,25", "-0,25", "12", "3.5", None]
    )
    got = to_number(s).tolist()
    assert got[:7] == [455.0, 1234.5, 1234.0, 1234567.25, -0.25, 12.0, 3.5]
    assert np.isnan(got[7])
    # ambiguous or wrong forms stay "not a number"
    bad = to_number(pd.Series(["1.234,5", "1,234,567", "12 34", "1 2345", "douze", "1,"]))
    assert bad.isna().all()


def _write_employment(path: Path, values: list[str], sep: str, encoding: str) -> None:
    lines = [sep.join(["territory", "occupation", "period", "value"])]
    keys = [("14", "H2913"), ("14", "J1501"), ("50", "H2913")]
    i = 0
    for t, o in keys:
        for year in (2018, 2019, 2020):
            v = values[i % len(values)]
            lines.append(sep.join([t, o, str(year), f'"{v}"' if sep in v else v]))
            i += 1
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def test_french_excel_csv_equals_dot_decimal_version(tmp_path):
    french = ["455,0", "1\u00a0234,5", "12,25", "0,5", "2 000", "7"]
    dot = ["455.0", "1234.5", "12.25", "0.5", "2000", "7"]
    _write_employment(tmp_path / "fr.csv", french, ";", "cp1252")
    _write_employment(tmp_path / "en.csv", dot, ",", "utf-8")
    fr, en = read_table(tmp_path / "fr.csv"), read_table(tmp_path / "en.csv")
    assert fr.attrs["encoding"] == "cp1252" and fr.attrs["sep"] == ";"
    base = tables()
    got = GpecData(**{**base, "employment": fr}).validate().employment
    want = GpecData(**{**base, "employment": en}).validate().employment
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    assert got["value"].tolist()[:6] == [455.0, 1234.5, 12.25, 0.5, 2000.0, 7.0]


def test_unreadable_number_still_rejected_with_its_row(tmp_path):
    _write_employment(tmp_path / "fr.csv", ["455,0", "1.234,5", "3"], ";", "cp1252")
    data = GpecData(
        **{**tables(), "employment": read_table(tmp_path / "fr.csv")},
        sources={"employment": "fr.csv"},
    )
    clean = data.validate(strict=False)
    rejected = clean.rejected
    assert set(rejected["reason"]) == {"not a number"}
    assert rejected["row"].tolist() == [3, 6, 9] and set(rejected["value"]) == {"1.234,5"}
    assert len(clean.employment) == 6


def test_french_rates_and_coordinates():
    t = tables()
    t["territories"]["lat"] = ["46,5", "49,1", "49,0"]
    t["territories"]["lon"] = ["2,0", "-0,4", "-1,3"]
    clean = GpecData(**t).validate()
    assert clean.territories["lat"].tolist() == [46.5, 49.1, 49.0]
    assert clean.territories["lon"].tolist() == [2.0, -0.4, -1.3]


# ----------------------------------------------------------------- 3. metadata of each reader
def test_merge_keeps_every_readers_meta():
    t = tables()
    a = GpecData(
        employment=t["employment"],
        meta={"row_accounting": {"emp.csv": {"read": 9}}, "unit": "jobs", "moving_average": 3},
    )
    b = GpecData(
        territories=t["territories"],
        meta={"row_accounting": {"terr.csv": {"read": 3}}, "unit": "jobs"},
    )
    c = GpecData(occupations=t["occupations"], meta={"row_accounting": {"occ.csv": {"read": 2}}})
    merged = GpecData().merge(a).merge(b).merge(c)
    inputs = merged.meta["inputs"]
    assert set(inputs) == {"employment", "territories", "occupations"}
    assert inputs["employment"]["row_accounting"] == {"emp.csv": {"read": 9}}
    assert inputs["territories"]["row_accounting"] == {"terr.csv": {"read": 3}}
    assert inputs["occupations"]["row_accounting"] == {"occ.csv": {"read": 2}}
    # top level: agreed or single keys stay; a clash is only in "inputs" (no last-wins)
    assert merged.meta["unit"] == "jobs" and merged.meta["moving_average"] == 3
    assert "row_accounting" not in merged.meta
    # keys set on the merged bundle (harmonise, validate) stay at the top level
    merged.meta["harmonised"] = {"employment": {}}
    clean = merged.validate()
    assert clean.meta["harmonised"] == {"employment": {}} and "warnings" in clean.meta
    assert clean.meta["inputs"]["employment"]["moving_average"] == 3


def test_merge_same_tables_twice_keeps_both():
    t = tables()
    a = GpecData(employment=t["employment"].iloc[:3], meta={"file": "a.csv"})
    b = GpecData(employment=t["employment"].iloc[3:], meta={"file": "b.csv"})
    merged = a.merge(b)
    assert merged.meta["inputs"] == {
        "employment": {"file": "a.csv"},
        "employment (2)": {"file": "b.csv"},
    }


def test_meta_to_toml_writes_nested_tables():
    import tomli_w

    meta = {
        "inputs": {
            "employment": {
                "moving_average": np.int64(3),
                "unit": None,
                "row_accounting": {"e.csv": {"read": np.int64(9), "kept": 8}},
                "unreadable_cells": pd.DataFrame({"row": [2], "raw": ["x"]}),
                "files": ["a", None],
                "ratio": np.float64(0.5),
            }
        },
        "split": {"b", "a"},
    }
    text = tomli_w.dumps(meta_to_toml(meta))
    back = tomllib.loads(text)
    emp = back["inputs"]["employment"]
    assert emp["row_accounting"]["e.csv"] == {"read": 9, "kept": 8}
    assert emp["moving_average"] == 3 and emp["ratio"] == 0.5 and "unit" not in emp
    assert emp["unreadable_cells"] == {"rows": 1, "columns": ["row", "raw"]}
    assert emp["files"] == ["a", ""] and back["split"] == ["a", "b"]
    # long mappings are summarised
    assert meta_to_toml({"m": {str(i): i for i in range(5)}}, max_items=3) == {"m": {"entries": 5}}


def test_provenance_of_merged_meta_written_once():
    import tomli_w

    t = tables()
    a = GpecData(employment=t["employment"], meta={"unit": "jobs", "period": "2018"})
    b = GpecData(territories=t["territories"], meta={"unit": "jobs"})
    merged = a.merge(b)
    merged.meta["harmonised"] = {"employment": {"excluded": 3}}
    out = tomllib.loads(tomli_w.dumps({"data_meta": meta_to_toml(merged.meta)}))["data_meta"]
    assert set(out) == {"inputs", "harmonised"}  # copies at the top level are not repeated
    assert out["inputs"]["employment"] == {"unit": "jobs", "period": "2018"}
    assert out["harmonised"]["employment"]["excluded"] == 3


# ----------------------------------------------------------------- 4. one note, not 70,000 lines
def test_unusable_referenced_table_skips_reference_checks():
    t = tables()
    t["territories"] = t["territories"].drop(columns="level")
    data = GpecData(**t, sources={"territories": "territories.csv"})
    clean = data.validate(strict=False)
    rejected = clean.rejected
    assert len(rejected) == 2, rejected
    assert rejected["reason"].iloc[0] == "required column is missing"
    note = rejected.iloc[1]
    assert note["table"] == "territories" and note["file"] == "territories.csv"
    assert "not checked (employment.territory)" in note["reason"]
    assert "a required column is missing" in note["reason"]
    assert not rejected["reason"].str.contains("unknown territory").any()
    assert len(clean.employment) == 9  # not checked, not dropped


def test_all_rows_rejected_skips_reference_checks():
    t = tables()
    t["territories"]["lat"] = 500.0  # every territory row is out of range
    clean = GpecData(**t).validate(strict=False)
    rejected = clean.rejected
    assert (rejected["reason"] == "latitude outside [-90, 90]").sum() == 3
    assert rejected["reason"].str.contains("none of its rows is usable").sum() == 1
    assert not rejected["reason"].str.contains("unknown territory").any()


def test_format_report_caps_repeated_reasons():
    t = tables()
    emp = pd.DataFrame(
        {"territory": [f"X{i}" for i in range(45)], "occupation": "H2913", "period": 2020}
    ).assign(value=1.0)
    emp.loc[45] = ["14", "Z0000", 2020, 1.0]
    data = GpecData(**{**t, "employment": emp}, sources={"employment": "emp.csv"})
    rejected = data.validate(strict=False).rejected
    assert len(rejected) == 46  # every row stays in the report (rejected.csv)
    lines = format_report(rejected, max_per_reason=20)
    assert len(lines) == 20 + 1 + 1
    assert lines[0] == (
        "table employment (emp.csv), row 0, column territory: unknown territory "
        "(not in table territories) (value 'X0')"
    )
    assert lines[20] == (
        "... and 25 more row(s) of table employment (emp.csv), column territory: unknown "
        "territory (not in table territories)"
    )
    assert "unknown occupation" in lines[21]
    assert len(format_report(rejected, max_per_reason=None)) == 46


# ----------------------------------------------------------------- 5. periods and empty tables
def test_year_with_decimal_point_is_a_year():
    t = tables()
    t["employment"]["period"] = t["employment"]["period"].map(lambda y: f"{y}.0")
    clean = GpecData(**t).validate()
    assert clean.employment["period"].dtype == "int64"
    assert clean.employment["period"].tolist()[:3] == [2018, 2019, 2020]


@pytest.mark.parametrize("fmt", ["01/01/{y}", "{y}-01-01", "{y}-01-01 00:00:00", "1/1/{y}"])
def test_years_saved_as_first_january_dates_are_years(fmt):
    t = tables()
    t["employment"]["period"] = t["employment"]["period"].map(lambda y: fmt.format(y=y))
    clean = GpecData(**t).validate()
    assert clean.employment["period"].dtype == "int64"
    assert sorted(set(clean.employment["period"])) == [2018, 2019, 2020]


def test_real_dates_are_rejected_naming_file_row_column():
    t = tables()
    emp = t["employment"].astype({"period": object})
    emp["period"] = [f"{d:02d}/03/2019" for d in range(1, 10)]
    emp.loc[0, "period"] = "01/01/2018"
    data = GpecData(**{**t, "employment": emp}, sources={"employment": "emp.csv"})
    with pytest.raises(ValidationError) as err:
        data.validate()
    msg = str(err.value)
    assert "table employment (emp.csv), row 0, column period" in msg
    assert "a year such as 2005 is expected" in msg and "'01/01/2018'" in msg
    rejected = data.validate(strict=False).rejected
    assert len(rejected) == 9  # 01/01/2018 too: the column holds real dates


def test_excel_serial_dates_get_a_hint():
    values, reasons = parse_periods(pd.Series(["27/06/1905", "28/06/1905", "2007-03-01"]))
    assert values.isna().all()
    assert "Excel shows the number 2005 formatted as a date as 27/06/1905" in reasons.iloc[0]
    assert reasons.iloc[0] == reasons.iloc[1]  # one reason, so the report groups them
    assert reasons.iloc[2] == "a date, not a period: a year such as 2005 is expected"


def test_parse_periods_rules():
    values, reasons = parse_periods(pd.Series(["2024Q1", "2024Q2", "2024", None, "l'an 2000"]))
    assert values.iloc[0] == pd.Period("2024Q1") and values.iloc[3] is None
    assert reasons.iloc[2].startswith("period of another frequency")
    assert reasons.iloc[4].startswith("not a period") and reasons.iloc[3] is None
    values, reasons = parse_periods(pd.Series([2019, 2020.0, "0999", "2021.0"]))
    assert values.tolist() == [2019, 2020, None, 2021]
    assert reasons.iloc[2] == "year outside 1000-3000"


def test_quarterly_employment_still_valid():
    t = tables()
    t["employment"]["period"] = ["2019Q1", "2019Q2", "2019Q3"] * 3
    clean = GpecData(**t).validate()
    assert clean.employment["period"].iloc[0] == pd.Period("2019Q1")


def test_employment_with_header_only_fails():
    t = tables()
    t["employment"] = t["employment"].iloc[0:0]
    data = GpecData(**t, sources={"employment": "emp.csv"})
    with pytest.raises(ValidationError, match=r"table employment \(emp.csv\): the table has no"):
        data.validate()
    # and no reference check is run against an empty table
    t = tables()
    t["territories"] = t["territories"].iloc[0:0]
    rejected = GpecData(**t).validate(strict=False).rejected
    assert rejected["reason"].tolist()[0] == "the table has no data rows"
    assert rejected["reason"].str.contains("not checked").sum() == 1


# ----------------------------------------------------------------- the gpec command
class _Proc:
    def __init__(self, result):
        self.returncode = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr


def _gpec(*args):
    """Run the gpec command in this process (faster than a subprocess)."""
    from click.testing import CliRunner

    from gpec.cli import cli

    return _Proc(CliRunner().invoke(cli, list(args), catch_exceptions=False))


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory) -> Path:
    from gpec.datasets import load_demo
    from gpec.pipeline import write_inputs

    return write_inputs(load_demo(), tmp_path_factory.mktemp("demo") / "inputs").parent


def _broken_copy(src: Path, dst: Path, name: str, edit) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    df = pd.read_csv(dst / name, dtype=str, keep_default_na=False)
    edit(df).to_csv(dst / name, index=False)
    return dst / "gpec.toml"


def test_cli_validate_without_level_column_is_short(demo_inputs, tmp_path):
    config = _broken_copy(
        demo_inputs, tmp_path / "in", "territories.csv", lambda d: d.drop(columns="level")
    )
    proc = _gpec("validate", str(config))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) < 20, proc.stdout[:2000]
    assert "column level: required column is missing" in proc.stdout
    assert "references to this table not checked" in proc.stdout
    assert "unknown territory" not in proc.stdout


def test_cli_run_stops_on_bad_row_without_lenient(demo_inputs, tmp_path):
    def edit(d):
        d.loc[4, "period"] = "01/03/2019"
        return d

    config = _broken_copy(demo_inputs, tmp_path / "in", "employment.csv", edit)
    proc = _gpec("run", str(config), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert err.startswith("gpec: error: table employment (") and "employment.csv" in err
    assert "row 6, column period" in err and "--lenient" in err
    assert not (tmp_path / "out" / "gaps.csv").exists()


def test_cli_run_stops_on_reader_rejection(real_data, tmp_path):
    """The DARES 'NA' age cell rejected by the reader stops `gpec run` without --lenient."""
    text = (REPO / "examples" / "real_files" / "gpec.toml").read_text(encoding="utf-8")
    config = tmp_path / "gpec.toml"
    config.write_text(text.replace("../../../shared/data/real", real_data.as_posix()))
    proc = _gpec("--quiet", "run", str(config), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert "age_2017_2019_3niv.csv), row 857, column annee_2017_2019" in err
    assert "(value 'NA')" in err and "--lenient" in err
