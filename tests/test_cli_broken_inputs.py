"""The CLI over a corpus of broken inputs: every case ends with its exit code and one line naming
the file (and row and column where there is one), never a traceback, and leaves no output.

Each case starts from a small valid study (two EPCI, two occupations, twelve years) and breaks
one thing: a rule of the tables, a plausibility rule, an encoding, an empty, binary or truncated
file, a broken Parquet file, a TOML error, a path.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from gpec.cli import cli

TOML = """
[run]
name = "corpus"
[data]
territories = "territories.csv"
occupations = "occupations.csv"
employment = "employment.csv"
[forecast]
models = "naive"
horizon = 3
"""


def _make_base(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "territories.csv").write_text(
        "territory,label,level,parent,lat,lon\nFR,France,nation,,46.6,1.9\n"
        "A,Alpha,epci,FR,49.1,0.1\nB,Beta,epci,FR,48.5,2.3\n",
        encoding="utf-8",
    )
    (d / "occupations.csv").write_text(
        "occupation,label\nH2913,Soudage manuel\nJ1501,Soins d'hygiène et de confort\n",
        encoding="utf-8",
    )
    rows = ["territory,occupation,period,value"]
    for t, base in (("A", 120), ("B", 300)):
        for o, k in (("H2913", 1.0), ("J1501", 1.7)):
            for i, y in enumerate(range(2010, 2022)):
                rows.append(f"{t},{o},{y},{round(base * k + 3 * i + (i % 3))}")
    (d / "employment.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (d / "gpec.toml").write_text(TOML, encoding="utf-8")
    return d / "gpec.toml"


def _lines(d: Path, name: str) -> list[str]:
    return (d / name).read_text(encoding="utf-8").splitlines()


def _set_line(d: Path, name: str, i: int, text: str) -> None:
    lines = _lines(d, name)
    lines[i] = text
    (d / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _set_cell(d: Path, name: str, i: int, col: int, value: str) -> None:
    cells = _lines(d, name)[i].split(",")
    cells[col] = value
    _set_line(d, name, i, ",".join(cells))


def _toml(d: Path, text: str) -> None:
    (d / "gpec.toml").write_text(text, encoding="utf-8")


def _xlsx_employment(d: Path) -> Path:
    import pandas as pd

    pd.read_csv(d / "employment.csv", dtype=str).to_excel(d / "employment.xlsx", index=False)
    _toml(d, TOML.replace('"employment.csv"', '"employment.xlsx"'))
    return d / "employment.xlsx"


def _truncate_xlsx(d: Path) -> None:
    p = _xlsx_employment(d)
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) // 2])


def _xlsx_without_sheet_xml(d: Path) -> None:
    p = _xlsx_employment(d)
    with zipfile.ZipFile(p) as z:
        items = {n: z.read(n) for n in z.namelist() if not n.startswith("xl/worksheets/")}
    with zipfile.ZipFile(p, "w") as z:
        for n, b in items.items():
            z.writestr(n, b)


def _parquet(d: Path, data: bytes) -> None:
    (d / "employment.parquet").write_bytes(data)
    _toml(d, TOML.replace('"employment.csv"', '"employment.parquet"'))


def _stale(d: Path) -> None:
    lines = _lines(d, "employment.csv")
    keep = [ln for ln in lines if not (ln.startswith("A,H2913,") and int(ln.split(",")[2]) > 2016)]
    (d / "employment.csv").write_text("\n".join(keep) + "\n", encoding="utf-8")


# (id, edit, extra CLI args, exit code, words the one-line message must hold)
CASES = [
    # ---- rules of the tables
    ("header typo", lambda d: _set_line(d, "employment.csv", 0, "territory,occupation,period,valeur"),
     [], 2, ["employment.csv", "header", "column value", "required column is missing"]),
    ("header typo --lenient", lambda d: _set_line(d, "employment.csv", 0, "territory,occupation,period,valeur"),
     ["--lenient"], 2, ["employment.csv", "no usable row", "column value"]),
    ("missing code", lambda d: _set_cell(d, "employment.csv", 3, 0, ""),
     [], 2, ["employment.csv", "row 4", "column territory", "missing value"]),
    ("not a number", lambda d: _set_cell(d, "employment.csv", 5, 3, "douze"),
     [], 2, ["employment.csv", "row 6", "column value", "not a number", "douze"]),
    ("negative", lambda d: _set_cell(d, "employment.csv", 5, 3, "-4"),
     [], 2, ["employment.csv", "row 6", "column value", "negative"]),
    ("infinite", lambda d: _set_cell(d, "employment.csv", 5, 3, "inf"),
     [], 2, ["employment.csv", "row 6", "column value", "inf"]),
    ("latitude", lambda d: _set_cell(d, "territories.csv", 2, 4, "149.1"),
     [], 2, ["territories.csv", "row 3", "column lat", "149.1"]),
    ("duplicate key", lambda d: _set_line(d, "employment.csv", 2, _lines(d, "employment.csv")[1]),
     [], 2, ["employment.csv", "row 3", "duplicate key"]),
    ("unknown territory", lambda d: _set_cell(d, "employment.csv", 7, 0, "Z"),
     [], 2, ["employment.csv", "row 8", "column territory", "unknown territory"]),
    ("unknown occupation", lambda d: _set_cell(d, "employment.csv", 7, 1, "X9999"),
     [], 2, ["employment.csv", "row 8", "column occupation", "X9999"]),
    ("not a period", lambda d: _set_cell(d, "employment.csv", 4, 2, "20x4"),
     [], 2, ["employment.csv", "row 5", "column period", "20x4"]),
    ("excel date", lambda d: _set_cell(d, "employment.csv", 4, 2, "27/06/1905"),
     [], 2, ["employment.csv", "row 5", "column period", "date"]),
    ("unknown parent", lambda d: _set_cell(d, "territories.csv", 2, 3, "XX"),
     [], 2, ["territories.csv", "row 3", "column parent", "XX"]),
    ("missing label", lambda d: _set_cell(d, "occupations.csv", 1, 1, ""),
     [], 2, ["occupations.csv", "row 2", "column label", "missing value"]),
    # ---- plausibility
    ("year 2042", lambda d: _set_cell(d, "employment.csv", 12, 2, "2042"),
     [], 2, ["employment.csv", "row 13", "column period", "2042"]),
    ("year 1850", lambda d: _set_cell(d, "employment.csv", 12, 2, "1850"),
     [], 2, ["employment.csv", "row 13", "column period", "1850"]),
    ("year 2200", lambda d: _set_cell(d, "employment.csv", 12, 2, "2200"),
     [], 2, ["employment.csv", "row 13", "column period", "2200"]),
    ("value 1e12", lambda d: _set_cell(d, "employment.csv", 12, 3, "1e12"),
     [], 2, ["employment.csv", "row 13", "column value", "implausible"]),
    ("stale series --strict", _stale,
     ["--strict"], 2, ["employment.csv", "column period", "stops in 2016"]),
    # ---- files: encodings, empty, binary, truncated
    ("utf-16", lambda d: (d / "occupations.csv").write_bytes(
        (d / "occupations.csv").read_text(encoding="utf-8").encode("utf-16")),
     [], 0, []),
    ("latin-1", lambda d: (d / "occupations.csv").write_bytes(
        (d / "occupations.csv").read_text(encoding="utf-8").encode("latin-1")),
     [], 0, []),
    ("empty file", lambda d: (d / "employment.csv").write_bytes(b""),
     [], 2, ["employment.csv", "empty"]),
    ("header only", lambda d: (d / "employment.csv").write_text("territory,occupation,period,value\n"),
     [], 2, ["employment", "no data rows"]),
    ("binary", lambda d: (d / "employment.csv").write_bytes(bytes(range(256)) * 40),
     [], 2, ["employment.csv"]),
    ("truncated xlsx", _truncate_xlsx, [], 2, ["employment.xlsx"]),
    ("xlsx without its sheet", _xlsx_without_sheet_xml, [], 2, ["employment.xlsx"]),
    ("csv named xlsx", lambda d: (_xlsx_employment(d).write_bytes((d / "employment.csv").read_bytes())),
     [], 2, ["employment.xlsx"]),
    ("broken parquet", lambda d: _parquet(d, b"PAR1" + os.urandom(64) + b"PAR1"),
     [], 2, ["employment.parquet", "gpec[parquet]"]),
    ("empty parquet", lambda d: _parquet(d, b""), [], 2, ["employment.parquet"]),
    # ---- configuration
    ("toml syntax", lambda d: _toml(d, TOML.replace("horizon = 3", "horizon = = 3")),
     [], 2, ["gpec.toml"]),
    ("toml unknown key", lambda d: _toml(d, TOML.replace("horizon = 3", "horizon = 3\nhorizn = 4")),
     [], 2, ["horizn"]),
    ("toml wrong type", lambda d: _toml(d, TOML.replace("horizon = 3", 'horizon = "three"')),
     [], 2, ["horizon", "three"]),
    ("toml unknown table", lambda d: _toml(d, TOML.replace('employment = "employment.csv"',
                                                          'employment = "employment.csv"\njobs = "employment.csv"')),
     [], 2, ["jobs"]),
    ("toml not utf-8", lambda d: (d / "gpec.toml").write_bytes(TOML.replace("corpus", "étude").encode("latin-1")),
     [], 2, ["gpec.toml"]),
    # ---- paths
    ("missing data file", lambda d: (d / "employment.csv").unlink(),
     [], 2, ["employment.csv"]),
    ("data path is a folder", lambda d: ((d / "employment.csv").unlink(), (d / "employment.csv").mkdir()),
     [], 2, ["employment.csv", "folder"]),
    ("missing config", lambda d: (d / "gpec.toml").unlink(), [], 2, ["gpec.toml"]),
    ("out is a file", lambda d: (d.parent / "out").write_text("not a folder"),
     [], 2, ["out"]),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "args", "code", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_broken_input(tmp_path, edit, args, code, words):
    study = tmp_path / "study"
    _make_base(study)
    edit(study)
    out = tmp_path / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    res = CliRunner().invoke(cli, ["run", str(study / "gpec.toml"), "--out", str(out), *args])
    # never a traceback: the only exception is the exit
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    assert res.exit_code == code, res.output
    if code == 0:
        assert (out / "gaps.csv").is_file()
        return
    errors = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith("gpec: error: "), res.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])
    # no partial output: nothing new beside the study (no out folder, no temporary folder)
    after = sorted(p.name for p in tmp_path.iterdir())
    assert after == before


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


LENIENT = [
    ("not a number", lambda d: _set_cell(d, "employment.csv", 5, 3, "douze"), "6", "value"),
    ("year 2042", lambda d: _set_cell(d, "employment.csv", 12, 2, "2042"), "13", "period"),
    ("value 1e12", lambda d: _set_cell(d, "employment.csv", 12, 3, "1e12"), "13", "value"),
    ("unknown territory", lambda d: _set_cell(d, "employment.csv", 7, 0, "Z"), "8", "territory"),
]


@pytest.mark.parametrize(("edit", "row", "column"), [c[1:] for c in LENIENT],
                         ids=[c[0] for c in LENIENT])  # fmt: skip
def test_lenient_goes_on_without_the_row_and_lists_it(tmp_path, edit, row, column):
    import csv

    study = tmp_path / "study"
    _make_base(study)
    edit(study)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(study / "gpec.toml"), "--out", str(out), "--lenient"])
    assert res.exit_code == 0, res.output
    with open(out / "rejected.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["severity"] == "error"]
    assert [(r["file"].endswith("employment.csv"), r["row"], r["column"]) for r in rows] == [
        (True, row, column)
    ]
