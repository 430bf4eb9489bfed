"""End to end: `gpec demo` -> DIR/inputs -> `gpec run` reproduces; `gpec validate` on bad inputs."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

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
    "gaps.csv": [
        "territory",
        "territory_label",
        "occupation",
        "occupation_label",
        "period",
        "openings",
        "entrants_allocated",
        "gap",
        "gap_lower",
        "gap_upper",
    ],
    "forecast.csv": [
        "territory",
        "occupation",
        "period",
        "model",
        "mean",
        "lower",
        "upper",
        "level",
    ],
    "openings.csv": [
        "territory",
        "occupation",
        "period",
        "employment",
        "expansion",
        "replacement",
        "openings",
    ],
    "skill_gaps.csv": [
        "territory",
        "skill",
        "skill_label",
        "period",
        "need",
        "supply_allocated",
        "gap",
    ],
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


def test_gap_identities(demo_dir):
    g = pd.read_csv(demo_dir / "gaps.csv", dtype={"territory": str})
    assert (g["gap"] >= -1e-9).all()
    tol = 1e-6 * g["openings"].abs().clip(lower=1)
    assert ((g["gap"] + g["entrants_allocated"] - g["openings"]).abs() <= tol).all()
    assert (g["gap_lower"] <= g["gap"] + 1e-6).all() and (g["gap"] <= g["gap_upper"] + 1e-6).all()


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
