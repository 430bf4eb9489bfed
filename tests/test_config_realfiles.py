"""examples/real_files/gpec.toml on the real DARES files: one FAP level (FAP225, without the
aggregate T2Z60 and ZZZZZ), so that no job is counted several times; the same openings as
examples/real_files/national_fap.py."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import METIERS_2030_OPENINGS, national_figures

from gpec.config import check_against_data, load_config
from gpec.report._csv import read_output_csv

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "examples" / "real_files" / "gpec.toml"


def test_config_keeps_one_fap_level():
    cfg = load_config(CONFIG)
    assert cfg["run"]["occupation_level"] == "fap225"
    assert set(cfg["run"]["exclude_occupations"]) == {"T2Z60", "ZZZZZ"}
    # the paths point at the real-data folder beside the repository
    emp = Path(cfg["data"]["employment"]["path"])
    assert emp.parts[-3:-1] == ("real", "dares-portrait-stat-metiers")


def test_real_files_load_one_level(real_data):
    from gpec.pipeline import load_data

    cfg = load_config(CONFIG)
    data = load_data(cfg)
    assert check_against_data(cfg, data) == []
    # each table names its own file (four entries read by the same DARES reader)
    files = {t: Path(data.sources[t]).name for t in data.tables}
    assert files == {
        "employment": "effectifs_3niv.csv",
        "workforce_age": "age_2017_2019_3niv.csv",
        "occupations": "effectifsalarie_hors_app_3niv.csv",
        "territories": "tensions.csv",
        "crosswalks": "passage_fap2009_romev3.txt",
    }
    emp = data.employment
    assert len(emp) == 3375  # 225 FAP x 15 years (2004-2018)
    assert emp["occupation"].nunique() == 225
    assert emp["occupation"].str.len().eq(5).all()
    assert not emp["occupation"].isin(["ENS", "T2Z60", "ZZZZZ", "T2Z"]).any()
    # 225 FAP x 9 age bands, less the row whose count is NA (rejected by the reader)
    assert len(data.workforce_age) == 2024
    assert data.rejected["table"].tolist() == ["workforce_age"]
    # France 2018: millions of jobs, not the 4-fold count of every level summed
    total_2018 = emp.loc[emp["period"] == 2018, "value"].sum()
    assert 25e6 < total_2018 < 28e6


@pytest.mark.slow
def test_real_files_run_matches_national_fap(real_data, tmp_path):
    out = tmp_path / "national-run"
    res = subprocess.run(
        [sys.executable, "-m", "gpec.cli", "run", CONFIG, "--out", out, "--lenient"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )
    assert res.returncode == 0, res.stderr
    printed = re.search(r"2024: openings (\d+),", res.stdout)
    assert printed, res.stdout
    # the tutorial shows the run's summary lines: the count of files as printed
    tutorial = (REPO / "docs" / "tutorial-own-data.md").read_text(encoding="utf-8")
    quoted = re.search(r"gpec: wrote (\d+) files into national-run\n", tutorial)
    wrote = re.search(r"gpec: wrote (\d+) files into ", res.stdout)
    assert quoted and wrote, res.stdout
    assert wrote.group(1) == quoted.group(1)
    # the config asks for French reports: its CSV files are in the French dialect (; and 0,5)
    g = read_output_csv(out / "gaps.csv", "fr", dtype={"territory": str, "occupation": str})
    assert g["occupation"].nunique() == 225
    total = g.loc[g["period"] == 2024, "openings"].sum()
    # the one-line summary is the file's total
    assert abs(int(printed.group(1)) - total) <= 1
    # the size Métiers 2030 publishes for France (760,000 a year, within 20 %), and the figure
    # the docs quote (within 2 %: a change beyond that must update the docs)
    assert abs(total - METIERS_2030_OPENINGS) <= 0.2 * METIERS_2030_OPENINGS
    quoted, _, _ = national_figures((REPO / "docs" / "tutorial-own-data.md").read_text("utf-8"))
    assert total == pytest.approx(quoted, rel=0.02)
    rejected = read_output_csv(out / "rejected.csv", "fr")
    assert len(rejected) == 1 and rejected["table"].iloc[0] == "workforce_age"
