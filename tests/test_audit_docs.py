"""What the README and the tutorials tell a new user matches what gpec writes and prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from gpec.pipeline import OUTPUT_FILES

REPO = Path(__file__).resolve().parents[1]


def _readme_outputs_table() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("## Outputs", 1)[1].split("\n\n", 2)[1]
    names: set[str] = set()
    for line in table.splitlines():
        first = line.split("|")[1] if line.startswith("|") else ""
        names |= set(re.findall(r"`([^`]+)`", first))
    return names


def test_readme_outputs_table_lists_every_output_file():
    listed = _readme_outputs_table()
    assert listed == set(OUTPUT_FILES) | {"provenance.toml", "report.xlsx", "report.html"}


def test_tutorial_national_run_prints_what_the_run_prints(real_data, tmp_path):
    """The two lines the tutorial shows after `gpec run` on the national configuration: the
    count of files as printed, the openings within 2 % (a better forecast may move them)."""
    tutorial = (REPO / "docs" / "tutorial-own-data.md").read_text(encoding="utf-8")
    quoted = re.search(
        r"gpec: wrote (\d+) files into national-run\n((?:gpec: warning: .*\n)*)"
        r"gpec: 2024: openings (\d+), ",
        tutorial,
    )
    assert quoted, "the tutorial no longer shows the run's summary"
    res = subprocess.run(
        [sys.executable, "-m", "gpec.cli", "run", "examples/real_files/gpec.toml"]
        + ["--out", str(tmp_path / "national-run"), "--lenient"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert res.returncode == 0, res.stderr
    wrote = re.search(r"gpec: wrote (\d+) files into ", res.stdout)
    printed = re.search(r"gpec: 2024: openings (\d+), ", res.stdout)
    assert wrote and printed, res.stdout
    assert wrote.group(1) == quoted.group(1)
    assert abs(int(printed.group(1)) - int(quoted.group(3))) <= 0.02 * int(quoted.group(3))
    # the warnings shown are those printed (the output folder's path aside)
    shown = quoted.group(2).replace("national-run/", "").splitlines()
    printed_warnings = [
        ln.replace(f"{tmp_path / 'national-run'}/", "")
        for ln in res.stdout.splitlines()
        if ln.startswith("gpec: warning: ")
    ]
    assert shown == printed_warnings


def test_configuration_page_lists_every_key():
    """Every key a configuration accepts has its row in the table of configuration.md."""
    from gpec._defaults import DEFAULTS

    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = text.split("## Keys and defaults", 1)[1]
    rows = {
        (section, key.strip())
        for section, keys in re.findall(r"^\| (\w+) \| ([\w, ]+) \|", table, flags=re.M)
        for key in keys.split(",")
    }
    missing = [
        (section, key)
        for section, keys in DEFAULTS.items()
        for key in keys
        if section != "data" and (section, key) not in rows
    ]
    assert not missing, missing


def test_pages_running_lang_fr_say_the_csv_files_change():
    """The quick start and the tutorial run `--lang fr`: they say the CSV files then use ';'
    and a decimal comma (pandas' default reader splits them wrongly), and how to read them."""

    for name in ("quickstart.md", "tutorial-own-data.md"):
        text = " ".join((REPO / "docs" / name).read_text(encoding="utf-8").split())
        assert "--lang fr" in text
        assert "decimal comma" in text and 'read_output_csv(path, "fr")' in text, name
        assert 'csv_dialect = "en"' in text, name


def test_read_output_csv_reads_the_french_dialect(tmp_path):
    import pandas as pd

    from gpec.report import read_output_csv, write_output_csv

    df = pd.DataFrame({"territory": ["01"], "gap": [12.5]})
    write_output_csv(df, tmp_path / "g.csv", "fr")
    assert ";" in (tmp_path / "g.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    back = read_output_csv(tmp_path / "g.csv", "fr", dtype={"territory": str})
    assert back["gap"].tolist() == [12.5] and back["territory"].tolist() == ["01"]


def test_install_page_names_every_user_extra():
    """Each optional extra of pyproject.toml a user installs is on the install page."""
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    text = (REPO / "docs" / "install.md").read_text(encoding="utf-8")
    for extra in set(extras) - {"bench"}:
        assert f'".[{extra}]"' in text, extra
