"""Output files a planner opens safely: neutralised formula cells, a French CSV dialect, exact
numbers, and folders written whole or not at all."""

from __future__ import annotations

import csv
import hashlib

import pandas as pd
import pytest

from gpec.report import Results, load_results, neutralize_cells, read_output_csv, write_output_csv

RISKY = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3+cmd|x", "@SUM(A1:A9)",
         "\t=1+1", "\r=1+1"]  # fmt: skip
SAFE = ["Soudeur", "-3.5", "-", "+33 1 23", "Aide-soignant", "1e-3", ""]


def test_cells_starting_a_formula_are_quoted_others_untouched():
    t = pd.DataFrame({"title": RISKY + SAFE, "n": range(len(RISKY) + len(SAFE))})
    out = neutralize_cells(t)
    assert out["title"].tolist()[: len(RISKY)] == ["'" + v for v in RISKY]
    assert out["title"].tolist()[len(RISKY) :] == SAFE
    assert t["title"].tolist() == RISKY + SAFE  # the DataFrame itself keeps the raw values


@pytest.mark.parametrize("dialect", ["en", "fr"])
def test_written_csv_reads_back_exactly_with_the_csv_module(tmp_path, dialect):
    values = [0.1, 1 / 3, 12345678901.123456, 1e-12, -2.5e17, 2**53 + 0.0]
    t = pd.DataFrame({"occupation": ["01", "2A", "=x", "b", "c", "d"], "value": values})
    path = write_output_csv(t, tmp_path / "t.csv", dialect)
    raw = path.read_bytes()
    sep, dec = (";", ",") if dialect == "fr" else (",", ".")
    assert raw.startswith(b"\xef\xbb\xbf") == (dialect == "fr")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=sep))
    assert rows[0] == ["occupation", "value"]
    assert [r[0] for r in rows[1:]] == ["01", "2A", "'=x", "b", "c", "d"]
    back = [float(r[1].replace(dec, ".")) for r in rows[1:]]
    assert back == values  # no rounding at all
    again = read_output_csv(path, dialect, dtype={"occupation": str})
    assert again["occupation"].tolist() == t["occupation"].tolist()
    assert again["value"].tolist() == values


# ----------------------------------------------------------------------------- atomic writes
def _results(tag: str) -> Results:
    e = pd.DataFrame()
    gaps = pd.DataFrame({"territory": ["T"], "occupation": ["=evil()"], "gap": [1.5], "tag": tag})
    rej = pd.DataFrame(
        {
            "table": ["employment"],
            "file": ["e.csv"],
            "row": [3],
            "column": ["value"],
            "value": ["x"],
            "reason": ["not a number"],
        }  # fmt: skip
    )
    return Results(
        forecast=gaps, backtest=e, openings=e, skill_needs=e, entrants=e, gaps=gaps,
        skill_gaps=e, transitions=e, surplus=e, mapping_quality=e, profile=e, hiring_check=e,
        scenarios=e, rejected=rej, backtest_summary=e, config={}, provenance={"run": tag},
    )  # fmt: skip


def _digest(folder) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_write_is_all_or_nothing(tmp_path, monkeypatch):
    out = tmp_path / "run"
    _results("first").write(out, reports=False)
    (out / "inputs").mkdir()
    (out / "inputs" / "gpec.toml").write_text("[data]\n")
    (out / "notes.txt").write_text("mine")
    before = _digest(out)
    assert "gaps.csv" in before and "rejected.csv" in before

    import gpec.report._csv as csvmod

    calls = {"n": 0}
    real = csvmod.pd.DataFrame.to_csv

    def dies_on_the_third(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, *a, **k)

    monkeypatch.setattr(csvmod.pd.DataFrame, "to_csv", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        _results("second").write(out, reports=False)
    monkeypatch.undo()
    assert _digest(out) == before  # byte-identical, no file of the second run
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary folder left

    # a complete run replaces the outputs and keeps the other files
    _results("third").write(out, reports=False)
    after = _digest(out)
    assert after["inputs/gpec.toml"] == before["inputs/gpec.toml"]
    assert after["notes.txt"] == before["notes.txt"]
    assert after["gaps.csv"] != before["gaps.csv"]


def test_outputs_of_a_previous_run_not_rewritten_are_removed(tmp_path):
    out = tmp_path / "run"
    res = _results("a")
    res.write(out, reports=False)
    assert (out / "forecast.csv").is_file()
    res.forecast = None  # this run has no forecast table
    res.write(out, reports=False)
    assert not (out / "forecast.csv").exists()


def test_rejected_csv_holds_errors_and_warnings_and_reads_back(tmp_path):
    from gpec import GpecData
    from gpec._plausibility import FINDING_COLUMNS

    res = _results("w")
    data = GpecData()
    data.warnings = pd.DataFrame(
        [["employment", "e.csv", 7, "period", "T x A stops in 2016", "series stops", "stale_series",
          "warning"]], columns=FINDING_COLUMNS,
    )  # fmt: skip
    res.data = data
    res.write(tmp_path / "o", reports=False, csv_dialect="fr")
    with open(tmp_path / "o" / "rejected.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert [(r["severity"], r["row"]) for r in rows] == [("error", "3"), ("warning", "7")]
    back = load_results(tmp_path / "o")
    assert back.gaps["occupation"].tolist() == ["=evil()"]  # quote taken off on reading
    assert back.rejection_report()["severity"].tolist() == ["error", "warning"]


def test_write_follows_the_output_section_of_the_configuration(tmp_path):
    import tomllib

    res = _results("o")
    res.config = {"run": {"lang": "en"}, "output": {"csv_dialect": "fr", "backtest": "none"}}
    res.write(tmp_path / "cfg", reports=False)
    assert (tmp_path / "cfg" / "gaps.csv").read_bytes().startswith(b"\xef\xbb\xbfterritory;")
    prov = tomllib.loads((tmp_path / "cfg" / "provenance.toml").read_text(encoding="utf-8"))
    assert prov["output"]["backtest"] == "none"
    res.write(tmp_path / "arg", reports=False, csv_dialect="en")  # the argument wins
    assert (tmp_path / "arg" / "gaps.csv").read_bytes().startswith(b"territory,")
    res.config = {"run": {"lang": "fr"}, "output": {"csv_dialect": ""}}  # "": follows lang
    res.write(tmp_path / "lang", reports=False)
    assert (tmp_path / "lang" / "gaps.csv").read_bytes().startswith(b"\xef\xbb\xbfterritory;")


@pytest.mark.parametrize("dialect", ["en", "fr"])
def test_large_table_written_fast_reads_back_exactly(tmp_path, dialect):
    import numpy as np

    rng = np.random.default_rng(1)
    n = 25_000  # above the size where pyarrow formats the numbers (when installed)
    x = np.concatenate([rng.lognormal(0, 8, n - 6), [0.1, 1e-7, 2.0**60, np.nan, -0.0, 25.0]])
    words = np.array(["plain", 'say "hi"', "a,b;c", "line\nbreak", "=cmd()", ""], dtype=object)
    t = pd.DataFrame(
        {"code": [f"{i:05d}" for i in range(n)], "x": x, "k": np.arange(n),
         "flag": np.arange(n) % 2 == 0, "text": words[np.arange(n) % len(words)]}
    )  # fmt: skip
    path = write_output_csv(t, tmp_path / "big.csv", dialect)
    sep, dec = (";", ",") if dialect == "fr" else (",", ".")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=sep))
    assert rows[0] == ["code", "x", "k", "flag", "text"] and len(rows) == n + 1
    body = rows[1:]
    assert [r[0] for r in body] == t["code"].tolist()
    back = np.array([float(r[1].replace(dec, ".")) if r[1] else np.nan for r in body])
    assert np.array_equal(back, x, equal_nan=True)  # every float exactly
    assert [int(r[2]) for r in body] == list(range(n))
    assert {r[3] for r in body} == {"True", "False"}
    expected_text = ["'=cmd()" if v == "=cmd()" else v for v in t["text"]]
    assert [r[4] for r in body] == expected_text
    assert body[-1][1] in ("25.0", "25,0")  # integral floats keep their decimal, as pandas


@pytest.mark.parametrize("dialect", ["en", "fr"])
def test_every_code_column_of_the_outputs_reads_back_as_text(tmp_path, dialect):
    """territory_profile.csv names each territory's top occupation: a code such as the NAF
    division '01' must read back as '01', as the territory and occupation columns do."""
    t = pd.DataFrame(
        {"territory": ["01"], "top_occupation": ["01"], "top_share": [0.25], "jobs": [12.0]}
    )
    path = write_output_csv(t, tmp_path / "territory_profile.csv", dialect)
    again = read_output_csv(path, dialect)
    assert again[["territory", "top_occupation"]].values.tolist() == [["01", "01"]]
    assert again["top_share"].tolist() == [0.25]
