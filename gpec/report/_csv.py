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

__all__ = [
    "CSV_DIALECTS",
    "neutralize_cells",
    "output_dialect",
    "read_output_csv",
    "write_output_csv",
]

#: Dialects: name -> (field separator, decimal mark, encoding).
CSV_DIALECTS = {"en": (",", ".", "utf-8"), "fr": (";", ",", "utf-8-sig")}


def output_dialect(csv_dialect: str | None = None, lang: str | None = None) -> str:
    """The CSV dialect of a run's outputs: ``csv_dialect`` (``[output] csv_dialect``) when set,
    else ``"fr"`` for French reports (``[run] lang``), else ``"en"``.

    Examples
    --------
    >>> output_dialect("", "fr"), output_dialect("en", "fr"), output_dialect(None, None)
    ('fr', 'en', 'en')
    """
    dialect = csv_dialect or ("fr" if lang == "fr" else "en")
    if dialect not in CSV_DIALECTS:
        raise ValueError(f"csv_dialect {dialect!r}: expected one of {sorted(CSV_DIALECTS)}")
    return dialect


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
    table = neutralize_cells(table)
    fast = _arrow_csv(table, sep, decimal) if len(table) >= _FAST_ROWS else None
    if fast is None:
        table.to_csv(
            path, index=False, sep=sep, decimal=decimal, encoding=encoding, lineterminator="\n"
        )
    else:
        with open(path, "wb") as fh:
            if encoding == "utf-8-sig":
                fh.write(b"\xef\xbb\xbf")
            for chunk in fast:
                fh.write(chunk)
    return path


#: Tables with at least this many rows are formatted by pyarrow when it is installed.
_FAST_ROWS = 20_000
_CHUNK_ROWS = 200_000


def _arrow_csv(table: pd.DataFrame, sep: str, decimal: str):
    """The CSV bytes of ``table`` formatted by pyarrow, as pandas would write them, or None.

    pandas formats floats one by one (the shortest text that reads back the same number),
    which dominates the writing of a national run; pyarrow's cast gives the same shortest
    round-trip text in C++. Integral floats keep their ``.0`` (``25.0``) and booleans are
    ``True``/``False``, as with pandas; text is quoted only when it holds the separator, a
    quote or a line break. Columns of any other kind (dates, mixed objects) give None: the
    caller falls back to pandas.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    if not table.columns.is_unique:
        return None

    def text(col: pd.Series):
        dt = col.dtype
        if pd.api.types.is_bool_dtype(dt) and not col.isna().any():
            return pc.if_else(pa.array(col.to_numpy(dtype=bool)), "True", "False")
        if pd.api.types.is_float_dtype(dt):
            arr = pa.array(col.to_numpy(dtype=float), from_pandas=True)  # NaN -> empty
            out = pc.cast(arr, pa.string())
            integral = pc.match_substring_regex(out, r"^-?[0-9]+$")
            out = pc.if_else(integral, pc.binary_join_element_wise(out, ".0", ""), out)
            if decimal != ".":
                out = pc.replace_substring(out, ".", decimal)
            return out
        if pd.api.types.is_integer_dtype(dt) and not isinstance(dt, pd.CategoricalDtype):
            return pc.cast(pa.array(col, from_pandas=True), pa.string())
        if pd.api.types.is_object_dtype(dt) or pd.api.types.is_string_dtype(dt):
            try:
                arr = pa.array(col.astype(object), type=pa.string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return None
            special = pc.match_substring_regex(arr, f'[{re.escape(sep)}"\r\n]')
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
            return pc.if_else(special, quoted, arr)
        return None

    def quote_name(name) -> str:
        name = str(name)
        return (
            f'"{name.replace(chr(34), 2 * chr(34))}"'
            if re.search(f'[{re.escape(sep)}"\r\n]', name)
            else name
        )

    header = (sep.join(quote_name(c) for c in table.columns) + "\n").encode("utf-8")
    chunks = [header]
    for start in range(0, len(table), _CHUNK_ROWS):
        part = table.iloc[start : start + _CHUNK_ROWS]
        cols = []
        for c in part.columns:
            col = text(part[c])
            if col is None:
                return None
            cols.append(pc.fill_null(col, ""))
        cols.append(pa.array([""] * len(part), type=pa.string()))  # the line end
        lines = pc.binary_join_element_wise(*cols, sep)
        # each line ends with the separator before the empty last column: make it a newline
        lines = pc.replace_substring_regex(lines, f"{re.escape(sep)}$", "\n")
        lines = lines.combine_chunks() if hasattr(lines, "combine_chunks") else lines
        if lines.null_count:
            return None
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
            lines.offset : lines.offset + len(lines) + 1
        ]
        data = lines.buffers()[2]
        chunks.append(data.to_pybytes()[offsets[0] : offsets[-1]])
    return chunks


#: Columns of the output tables that hold codes: read back as text, so that ``"01"`` stays
#: ``"01"`` (not the number 1).
CODE_COLUMNS = (
    "territory",
    "occupation",
    "skill",
    "from_occupation",
    "top_occupation",
    "site",
    "offer",
)


def read_output_csv(
    path: str | os.PathLike, dialect: str = "en", dtype: dict | None = None
) -> pd.DataFrame:
    """Read an output CSV back (the quote put in front of formula-like cells taken off).

    Parameters
    ----------
    path : path-like
        A CSV file written by ``Results.write``.
    dialect : {"en", "fr"}, default "en"
        The file's dialect (``[output] csv_dialect``; ``fr``: ``;`` and decimal comma).
    dtype : dict, optional
        Column types; by default the code columns (:data:`CODE_COLUMNS`) are read as text.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "gaps.csv"
    >>> _ = path.write_text("territory,occupation,gap\\n01,A1101,2.5\\n", encoding="utf-8")
    >>> read_output_csv(path)["territory"].tolist()  # the code keeps its leading zero
    ['01']
    """
    if dtype is None:
        dtype = dict.fromkeys(CODE_COLUMNS, str)
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
