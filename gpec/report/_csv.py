"""CSV outputs that spreadsheets open safely: formula-like cells neutralised, a French dialect.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (CSV
injection: ``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``), and a tab or carriage return at the start
of a cell can hide one. As the OWASP "CSV Injection" page recommends, such text cells are written
with a single quote in front (``'=HYPERLINK(...)``), which spreadsheets show as text; numbers
written as text (``-3.5``) and a lone ``-`` are left alone since they cannot run anything. Only
the CSV files are changed: the DataFrames of :class:`gpec.report.Results` keep the raw values,
and :func:`read_output_csv` takes the quote off again.

Dialects: ``"en"`` writes ``,`` between fields, a decimal point and UTF-8; ``"fr"`` writes ``;``,
a decimal comma and UTF-8 with a byte-order mark, so that French Excel opens the file in columns
with its accents. Floats are written with the shortest text that reads back to the same number
(no rounding).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["CSV_DIALECTS", "neutralize_cells", "read_output_csv", "write_output_csv"]

#: Dialects: name -> (field separator, decimal mark, encoding).
CSV_DIALECTS = {"en": (",", ".", "utf-8"), "fr": (";", ",", "utf-8-sig")}

_RISKY = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d[\d\s.,]*|\.\d+)([eE][+-]?\d+)?%?")


def _neutral(v):
    if isinstance(v, str) and v.startswith(_RISKY) and v != "-" and not _NUMBER.fullmatch(v):
        return "'" + v
    return v


def neutralize_cells(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with text cells a spreadsheet would run as a formula quoted.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"title": ["=HYPERLINK(\\"x\\")", "Soudeur", "-3.5", "@SUM(A1)"]})
    >>> neutralize_cells(t)["title"].tolist()
    ['\\'=HYPERLINK("x")', 'Soudeur', '-3.5', "'@SUM(A1)"]
    """
    out = None
    for col in table.columns:
        s = table[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        first = s.astype("string").str[:1]
        maybe = first.isin(_RISKY).fillna(False).to_numpy(dtype=bool)
        if not maybe.any():
            continue
        values = s.to_numpy(dtype=object).copy()
        idx = np.flatnonzero(maybe)
        new = [_neutral(v) for v in values[idx]]
        if any(a is not b for a, b in zip(values[idx], new, strict=True)):
            values[idx] = new
            out = table.copy() if out is None else out
            out[col] = pd.Series(values, index=table.index, dtype=object)
    return table if out is None else out


def write_output_csv(table: pd.DataFrame, path: str | os.PathLike, dialect: str = "en") -> Path:
    """Write one output table as CSV in ``dialect`` (``"en"`` or ``"fr"``), cells neutralised.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_output_csv(pd.DataFrame({"a": [0.1, 12345678.125]}), p, "fr")
    >>> p.read_bytes()
    b'\\xef\\xbb\\xbfa\\n0,1\\n12345678,125\\n'
    """
    if dialect not in CSV_DIALECTS:
        raise ValueError(f"csv dialect {dialect!r}: expected one of {sorted(CSV_DIALECTS)}")
    sep, decimal, encoding = CSV_DIALECTS[dialect]
    path = Path(path)
    neutralize_cells(table).to_csv(
        path, index=False, sep=sep, decimal=decimal, encoding=encoding, lineterminator="\n"
    )
    return path


def read_output_csv(
    path: str | os.PathLike, dialect: str = "en", dtype: dict | None = None
) -> pd.DataFrame:
    """Read an output CSV back (the quote put in front of formula-like cells taken off)."""
    sep, decimal, encoding = CSV_DIALECTS.get(dialect, CSV_DIALECTS["en"])
    try:
        table = pd.read_csv(path, sep=sep, decimal=decimal, encoding=encoding, dtype=dtype)
    except pd.errors.EmptyDataError:  # a table without columns (written as an empty line)
        return pd.DataFrame()
    for col in table.columns:
        s = table[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            quoted = s.astype("string").str.match(r"'[=+\-@\t\r]").fillna(False).astype(bool)
            if quoted.any():
                table[col] = s.astype(object).where(~quoted, s[quoted].str[1:])
    return table
