"""The demo's inputs with one edit each, through the CLI: a clear message or a correct result.

Replays what a planner's files can hold (a year typed 2042, a header typo, series that stop
early, formula-like titles, a French run) on copies of ``gpec demo``'s ``inputs/`` folder.
"""

from __future__ import annotations

import csv
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from gpec.cli import DEMO_SCENARIOS, WARNINGS_SHOWN, cli


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory):
    from gpec.datasets import load_demo
    from gpec.pipeline import write_inputs

    folder = tmp_path_factory.mktemp("demo") / "inputs"
    write_inputs(load_demo(), folder, {"scenarios": DEMO_SCENARIOS})
    return folder


@pytest.fixture
def inputs(demo_inputs, tmp_path):
    shutil.copytree(demo_inputs, tmp_path / "inputs")
    return tmp_path / "inputs"


def _edit(folder, name, fn):
    path = folder / f"{name}.csv"
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = fn(t)
    (t if out is None else out).to_csv(path, index=False)


def _stop_early(t: pd.DataFrame, n_series: int) -> pd.DataFrame:
    keys = t[["territory", "occupation"]].drop_duplicates().head(n_series)
    hit = t.merge(keys, how="left", indicator=True)["_merge"].eq("both").to_numpy()
    return t[~(hit & (t["period"].astype(int) > 2016).to_numpy())]


def _invoke(*args):
    res = CliRunner().invoke(cli, [str(a) for a in args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    return res


def test_year_2042_stops_validate_and_run_on_one_line(inputs, tmp_path):
    def typo(t):
        t.loc[19, "period"] = "2042"  # file row 21 (header = row 1)

    _edit(inputs, "employment", typo)
    res = _invoke("validate", inputs / "gpec.toml")
    assert res.exit_code == 1
    assert "row 21, column period" in res.stdout and "(value '2042')" in res.stdout
    res = _invoke("run", inputs / "gpec.toml", "--out", tmp_path / "out")
    errors = res.stderr.strip().splitlines()
    assert res.exit_code == 2 and len(errors) == 1
    assert "employment.csv" in errors[0] and "row 21" in errors[0] and "2042" in errors[0]
    assert not (tmp_path / "out").exists()


def test_header_typo_strict_and_lenient_one_line(inputs, tmp_path):
    path = inputs / "employment.csv"
    path.write_text(path.read_text().replace("period,value", "period,valeur", 1))
    for extra in ([], ["--lenient"]):
        res = _invoke("run", inputs / "gpec.toml", "--out", tmp_path / "out", *extra)
        errors = res.stderr.strip().splitlines()
        assert res.exit_code == 2 and len(errors) == 1, res.stderr
        assert "employment.csv" in errors[0] and "column value" in errors[0]
    assert not (tmp_path / "out").exists()


def test_stale_series_are_shown_grouped_and_counted(inputs, tmp_path):
    _edit(inputs, "employment", lambda t: _stop_early(t, 40))
    report = tmp_path / "all.csv"
    res = _invoke("validate", inputs / "gpec.toml", "--report", report)
    assert res.exit_code == 0  # warnings do not reject rows
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("gpec: warning:")]
    # the 40 series are the first territory's: its total drops in 2017 too
    assert "41 plausibility warning(s) (40 stale_series, 1 total_jump)" in lines[0]
    shown = [ln for ln in lines if "stops in 2016" in ln]
    assert len(shown) == WARNINGS_SHOWN  # a few lines per kind ...
    assert any("... and 37 more row(s)" in ln for ln in lines)  # ... and the others counted
    assert any("in 2017" in ln and "total" in ln for ln in lines)
    with open(report, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 41 and {r["severity"] for r in rows} == {"warning"}
    # --strict: the same warnings reject the rows
    res = _invoke("validate", inputs / "gpec.toml", "--strict")
    assert res.exit_code == 1 and "41 problem(s)" in res.stdout


@pytest.mark.slow
def test_french_run_with_formula_titles_and_stage_times(inputs, tmp_path):
    def titles(t):
        t.loc[0, "title"] = '=HYPERLINK("http://example.org","clic")'
        t.loc[1, "title"] = "+cmd|' /C calc'!A0"

    _edit(inputs, "training_offers", titles)
    _edit(inputs, "employment", lambda t: _stop_early(t, 2))
    out = tmp_path / "out"
    res = _invoke("run", inputs / "gpec.toml", "--out", out, "--lang", "fr", "-v")
    assert res.exit_code == 0, res.output
    assert "gpec: time: reading" in res.stdout and "writing" in res.stdout
    assert "2 plausibility warning(s) (2 stale_series)" in res.stdout
    raw = (out / "entrants.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(out / "entrants.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    got = {r["title"] for r in rows if r["offer"] in ("OF0001", "OF0002")}
    assert got == {'\'=HYPERLINK("http://example.org","clic")', "'+cmd|' /C calc'!A0"}
    assert any("," in r["entrants"] for r in rows)  # decimal comma
    with open(out / "rejected.csv", encoding="utf-8-sig", newline="") as fh:
        rej = list(csv.DictReader(fh, delimiter=";"))
    assert [r["check"] for r in rej] == ["stale_series", "stale_series"]
