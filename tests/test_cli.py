"""End to end: `gpec demo` -> DIR/inputs -> `gpec run` reproduces; `gpec validate` on bad inputs."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from _helpers import (
    FORECAST_COLUMNS,
    GAPS_COLUMNS,
    OPENINGS_COLUMNS,
    SKILL_GAPS_COLUMNS,
    check_gaps_against_openings,
)

REPO = Path(__file__).resolve().parents[1]


def gpec(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "gpec.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    res = gpec("--quiet", "demo", "--out", out)
    assert res.returncode == 0, res.stderr
    return out


CONTRACT = {
    "gaps.csv": GAPS_COLUMNS,
    "forecast.csv": FORECAST_COLUMNS,
    "openings.csv": OPENINGS_COLUMNS,
    "skill_gaps.csv": SKILL_GAPS_COLUMNS,
    "transitions.csv": [],
    "backtest.csv": [],
    "report.xlsx": None,
    "report.html": None,
}


def test_demo_writes_contract_files(demo_dir):
    for name, cols in CONTRACT.items():
        path = demo_dir / name
        assert path.is_file(), name
        if cols:
            df = pd.read_csv(path, dtype=str)
            assert set(cols) <= set(df.columns), (name, set(cols) - set(df.columns))
            assert len(df) > 0, name
    inputs = demo_dir / "inputs"
    assert (inputs / "gpec.toml").is_file()
    for table in ("territories", "occupations", "employment", "training_offers"):
        assert (inputs / f"{table}.csv").is_file()


def test_gaps_file_agrees_with_openings_file(demo_dir):
    """gaps.csv against openings.csv (not against itself): the openings of the demand stage
    (negative ones count as 0), entrants placed within them, bounds from their interval."""
    codes = {"territory": str, "occupation": str}
    g = pd.read_csv(demo_dir / "gaps.csv", dtype=codes)
    op = pd.read_csv(demo_dir / "openings.csv", dtype=codes)
    check_gaps_against_openings(g, op, atol=1e-6)


def test_run_reproduces_demo(demo_dir, tmp_path):
    out = tmp_path / "again"
    res = gpec("--quiet", "run", demo_dir / "inputs" / "gpec.toml", "--out", out)
    assert res.returncode == 0, res.stderr
    for name in ("gaps.csv", "forecast.csv", "openings.csv", "skill_gaps.csv"):
        assert (out / name).read_bytes() == (demo_dir / name).read_bytes(), name


def test_report_rebuilds(demo_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(demo_dir, copy)
    (copy / "report.html").unlink()
    res = gpec("--quiet", "report", copy)
    assert res.returncode == 0, res.stderr
    assert (copy / "report.html").stat().st_size > 10_000


def _corrupt(inputs: Path, tmp_path: Path, table: str, column: str, value, dup=False) -> Path:
    work = tmp_path / "inputs"
    shutil.copytree(inputs, work)
    path = work / f"{table}.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if dup:  # the copy of row 6 becomes row 7 of the file
        df = pd.concat([df.iloc[:5], df.iloc[[4]], df.iloc[5:]], ignore_index=True)
    else:
        df.loc[4, column] = value
    df.to_csv(path, index=False)
    return work / "gpec.toml"


@pytest.mark.parametrize(
    "table,column,value,dup,reason",
    [
        ("employment", "value", "-12", False, "negative value"),
        ("employment", "value", "douze", False, "not a number"),
        ("employment", "period", None, True, "duplicate key"),
        ("employment", "territory", "999999999", False, "unknown territory"),
        ("training_offers", "seats", "-3", False, "negative value"),
        ("workforce_age", "value", "n/a", False, "not a number"),
    ],
)
def test_validate_names_table_and_row(demo_dir, tmp_path, table, column, value, dup, reason):
    config = _corrupt(demo_dir / "inputs", tmp_path, table, column, value, dup)
    res = gpec("validate", config)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    row = "row 7" if dup else "row 6"
    assert f"table {table}" in res.stdout and row in res.stdout and reason in res.stdout
    # `gpec run` stops with a one-line message naming file, row and column, exit 2
    run = gpec("run", config, "--out", tmp_path / "out")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    line = run.stderr.strip()
    assert len(line.splitlines()) == 1 and f"{table}.csv" in line and row in line


def test_validate_clean_exits_zero(demo_dir):
    res = gpec("validate", demo_dir / "inputs" / "gpec.toml")
    assert res.returncode == 0, res.stdout
    assert "no problem found" in res.stdout


@pytest.mark.parametrize(
    "content,message",
    [
        ('[data]\nemployment = "nope.csv"\n', "file not found"),
        ("[forecast]\nhorizn = 3\n", "did you mean 'horizon'"),
        ("[data\n", "not a valid TOML"),
    ],
)
def test_user_errors_exit_2_one_line(tmp_path, content, message):
    cfg = tmp_path / "gpec.toml"
    cfg.write_text(content)
    res = gpec("run", cfg, "--out", tmp_path / "o")
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_missing_config_exit_2(tmp_path):
    res = gpec("validate", tmp_path / "missing.toml")
    assert res.returncode == 2 and "not found" in res.stderr


@pytest.mark.parametrize("cmd", ["demo", "run", "validate", "forecast", "report"])
def test_help_has_examples(cmd):
    res = gpec(cmd, "--help")
    assert res.returncode == 0 and "Example" in res.stdout


def test_wheel_contains_demo_data(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if res.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {res.stderr[-300:]}")
    wheel = next(tmp_path.glob("gpec-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for table in ("territories", "employment", "training_offers", "occupation_skills"):
        assert f"gpec/datasets/data/{table}.csv" in names


# ----------------------------------------------------------------- -q after the sub-command
@pytest.mark.parametrize("cmd", ["demo", "run", "validate", "forecast", "report"])
def test_every_subcommand_takes_quiet(cmd):
    res = gpec(cmd, "--help")
    assert "-q, --quiet" in res.stdout


def test_quiet_after_subcommand(demo_dir):
    res = gpec("validate", demo_dir / "inputs" / "gpec.toml", "-q")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""
    loud = gpec("validate", demo_dir / "inputs" / "gpec.toml")
    assert "no problem found" in loud.stdout
    # the group-level option still works
    assert gpec("-q", "validate", demo_dir / "inputs" / "gpec.toml").stdout == ""


# ------------------------------------------------ configuration checked against the data
def _edit_config(demo_dir: Path, tmp_path: Path, old: str, new: str) -> Path:
    work = tmp_path / "inputs"
    shutil.copytree(demo_dir / "inputs", work)
    path = work / "gpec.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "old,new,message",
    [
        (
            'level = "epci"\n',
            'level = "EPCI"\n',
            "[run] level = 'EPCI' is not a level of the territories table (territories.csv); "
            "its levels are: departement, epci, nation, region (did you mean 'epci'?)",
        ),
        (
            'method = "distance"',
            'method = "distnace"',
            "[catchment] method must be one of 'distance', 'parent'; got 'distnace'",
        ),
        (
            '"200041630"',
            '"200043172"',
            "[[scenarios]] 'foundry closure 2027': territories 200043172 not in the "
            "territories table (territories.csv)",
        ),
        (
            'site = "200065597"',
            'site = "200065598"',
            "[[scenarios]] '30 seats aide-soignant Caen': site 200065598 not in the "
            "territories table",
        ),
    ],
)
def test_config_errors_caught_by_validate_and_before_the_run(demo_dir, tmp_path, old, new, message):
    config = _edit_config(demo_dir, tmp_path, old, new)
    for args in (["validate", config], ["run", config, "--out", tmp_path / "out"]):
        res = gpec(*args)
        assert res.returncode == 2, res.stdout + res.stderr
        assert "Traceback" not in res.stderr
        assert res.stderr.startswith("gpec: error: ") and message in res.stderr
        assert "gpec.toml" in res.stderr.splitlines()[0]
    assert not (tmp_path / "out").exists()  # stopped before forecasting


def test_scenario_after_the_horizon_is_a_note(demo_dir, tmp_path):
    config = _edit_config(demo_dir, tmp_path, "from_year = 2027", "from_year = 2040")
    res = gpec("validate", config)
    assert res.returncode == 0, res.stderr
    assert (
        "gpec: note: [[scenarios]] 'foundry closure 2027': from_year 2040 is after the last "
        "forecast year 2030 (last observed year 2024 + [forecast] horizon 6)"
    ) in res.stdout


def test_outputs_page_describes_every_column(demo_dir):
    """docs/outputs.md names every file `gpec demo` writes, every column of its CSV files and
    every sheet of the workbook."""
    import re

    import openpyxl

    rows = {}
    for line in (REPO / "docs" / "outputs.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([^`]+)` \|(.*)$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    written = {p.name for p in demo_dir.iterdir() if p.is_file()}
    assert written <= set(rows), written - set(rows)
    for name in sorted(written):
        if not name.endswith(".csv"):
            continue
        header = (demo_dir / name).read_text(encoding="utf-8").splitlines()[0].split(",")
        missing = [
            c for c in header if not re.search(rf"(?<![\w`]){re.escape(c)}(?!\w)", rows[name])
        ]
        assert not missing, (name, missing)
    sheets = openpyxl.load_workbook(demo_dir / "report.xlsx", read_only=True).sheetnames
    assert all(s in rows["report.xlsx"] for s in sheets), sheets


def test_forecast_command_writes_the_configured_csv_dialect(demo_dir, tmp_path):
    """`gpec forecast` writes forecast.csv in the dialect `gpec run` would use."""
    config = _edit_config(demo_dir, tmp_path, 'lang = "en"\n', 'lang = "fr"\n')
    emp = pd.read_csv(config.parent / "employment.csv", dtype={"territory": str})
    emp = emp[emp["territory"] == emp["territory"].iloc[0]]  # one EPCI: a quick forecast
    emp.to_csv(config.parent / "employment.csv", index=False)
    res = gpec("--quiet", "forecast", config, "--out", tmp_path / "fc")
    assert res.returncode == 0, res.stderr
    raw = (tmp_path / "fc" / "forecast.csv").read_text(encoding="utf-8-sig")
    assert raw.splitlines()[0].startswith("territory;")
    fr = pd.read_csv(tmp_path / "fc" / "forecast.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert fr["mean"].dtype.kind == "f" and fr["territory"].nunique() == 1
    assert len(fr) == emp["occupation"].nunique() * 6 * 2  # 6 years x levels 80 and 95
