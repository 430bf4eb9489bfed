"""The documentation builds with warnings as errors (mkdocs --strict, API pages from docstrings)."""

import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import METIERS_2030_OPENINGS, national_figures

REPO = Path(__file__).resolve().parents[1]


def test_docs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-q",
            "-d",
            str(tmp_path / "site"),
            "-f",
            str(REPO / "mkdocs.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "site" / "api" / "index.html").is_file()


DOCS = REPO / "docs"


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_api_page_says_where_each_name_is_imported_from():
    import importlib
    import re

    import gpec

    text = _read("api.md")
    intro = text.split("## ", 1)[0]
    names = re.findall(r"^::: (\S+)$", text, flags=re.M)
    assert names
    for full in names:
        module, short = full.rsplit(".", 1)
        if hasattr(gpec, short):
            continue
        # not at the top level: the intro must say so, and name a module that has it
        assert f"`{short}`" in intro or (
            module.startswith("gpec.ingest") and "gpec.ingest" in intro
        ), full
        public = "gpec.ingest" if module.startswith("gpec.ingest") else module
        assert f"`{public}`" in intro, full
        assert hasattr(importlib.import_module(public), short), full


def test_configuration_example_is_valid_on_the_demo():
    import tomllib

    from gpec.config import check_against_data, resolve_config
    from gpec.datasets import load_demo

    text = _read("configuration.md")
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    cfg = resolve_config(tomllib.loads(block))
    assert check_against_data(cfg, load_demo()) == []
    assert "200043172" not in text  # a territory the demo does not have


def test_docs_say_a_config_can_keep_one_occupation_level():
    import tomllib

    for path in (DOCS / "tutorial-own-data.md", REPO / "examples" / "real_files" / "README.md"):
        text = path.read_text(encoding="utf-8")
        assert "Until the configuration can select a level" not in text
        assert "occupation_level" in text and "T2Z60" in text, path
    tutorial = _read("tutorial-own-data.md")
    dares = next(b for b in tutorial.split("```toml\n")[1:] if 'format = "dares"' in b)
    run = tomllib.loads(dares.split("```", 1)[0])["run"]
    assert run["occupation_level"] == "fap225"
    assert run["exclude_occupations"] == ["T2Z60", "ZZZZZ"]
    assert "gpec run gpec.toml --out national-run --lenient" in tutorial


def test_national_numbers_agree_and_are_plausible():
    """The two pages quote the same figures, with no stale ones; the openings are of the size
    Métiers 2030 publishes (within 20 %), and the forecast beats "no change" as the text says.
    The run itself is compared with these figures in test_config_realfiles."""
    figures = set()
    for path in (DOCS / "tutorial-own-data.md", REPO / "examples" / "real_files" / "README.md"):
        text = path.read_text(encoding="utf-8")
        for stale in ("680,000", "756,000", "MASE 2.19"):
            assert stale not in text, (path.name, stale)
        figures.add(national_figures(text))
    assert len(figures) == 1, figures
    openings, mase, mase_no_change = figures.pop()
    assert abs(openings - METIERS_2030_OPENINGS) <= 0.2 * METIERS_2030_OPENINGS
    assert 0 < mase < mase_no_change


def test_outputs_page_lists_every_output_file():
    import re

    from gpec.pipeline import OUTPUT_FILES

    listed = set(re.findall(r"^\| `([^`]+)` \|", _read("outputs.md"), flags=re.M))
    assert listed == set(OUTPUT_FILES) | {"provenance.toml", "report.xlsx", "report.html"}


def test_national_dask_extra_is_documented_and_hinted(tmp_path):
    """examples/README.md says national_dask.py needs the dask extra; without dask.distributed
    the script prints a one-line hint, not a traceback."""
    import os

    readme = (REPO / "examples" / "README.md").read_text(encoding="utf-8")
    assert 'pip install ".[dask]"' in readme
    # a `distributed` module that fails to import, first on the path
    (tmp_path / "distributed.py").write_text('raise ImportError("No module named distributed")\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    res = subprocess.run(
        [sys.executable, str(REPO / "examples" / "national_dask.py"), "--n-series", "10"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        'national_dask.py needs dask.distributed, an optional extra: pip install ".[dask]" '
        'in the gpec repository (or pip install "dask[distributed]")'
    ]


def test_configuration_page_lists_every_model_the_configuration_accepts():
    """A model the configuration accepts but the page does not name cannot be found by a user
    (drift_ses, otheta and pooled were missing)."""
    from gpec.config import _model_names

    row = next(
        line
        for line in (REPO / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| forecast | models |")
    )
    missing = [name for name in _model_names() if f"`{name}`" not in row]
    assert not missing, f"docs/configuration.md does not name the models {missing}"
