"""Checks shared by the stages: required columns, codes, numbers, unique keys, years.

Each raises :class:`gpec.exceptions.ValidationError` with one line naming the table, the row,
the column and the value at fault.

Examples
--------
>>> import pandas as pd
>>> from gpec._checks import require_columns
>>> require_columns(pd.DataFrame({"a": [1]}), "openings", ["a", "b"])
Traceback (most recent call last):
...
gpec.exceptions.ValidationError: openings: missing column(s) ['b']; has ['a']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gpec.exceptions import ValidationError

__all__ = [
    "as_codes",
    "check_unique",
    "fail_rows",
    "int_periods",
    "numeric_column",
    "require_columns",
]


def require_columns(df: pd.DataFrame, table: str, columns) -> None:
    """Fail unless ``df`` is a DataFrame with every column of ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{table}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValidationError(f"{table}: missing column(s) {missing}; has {list(df.columns)}")


def fail_rows(table: str, df: pd.DataFrame, mask: np.ndarray, column: str, reason: str) -> None:
    """Fail on the first row where ``mask`` holds, naming its row, column and value."""
    if np.any(mask):
        pos = int(np.flatnonzero(mask)[0])
        row = df.index[pos]
        value = df[column].iloc[pos] if column in df.columns else None
        if isinstance(value, np.generic):  # 34.06, not np.float64(34.06)
            value = value.item()
        raise ValidationError(
            f"{table}: row {row}, column {column!r}: {reason} (value {value!r}; "
            f"{int(np.sum(mask))} row(s) in all)"
        )


def as_codes(s: pd.Series) -> pd.Series:
    """Codes as pandas strings (dtype ``str``), nulls kept as null."""
    return s if s.dtype == "str" else s.astype("str")


def numeric_column(df: pd.DataFrame, table: str, column: str, *, nonneg: bool) -> np.ndarray:
    """The column as floats; fail on text, missing values and (with ``nonneg``) negatives."""
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    fail_rows(
        table, df, ~np.isfinite(values) & df[column].notna().to_numpy(), column, "not a number"
    )
    fail_rows(table, df, np.isnan(values), column, "missing value")
    if nonneg:
        fail_rows(table, df, values < 0, column, "negative value")
    return values


def check_unique(df: pd.DataFrame, table: str, key: list[str]) -> None:
    """Fail on the first row whose ``key`` repeats an earlier row's."""
    dup = df.duplicated(key, keep="first").to_numpy()
    fail_rows(table, df, dup, key[-1], f"duplicate key {key}")


def int_periods(s: pd.Series, table: str) -> pd.Series:
    """Periods as integer years (annual ``Period`` values or whole numbers); fail otherwise."""
    if isinstance(s.dtype, pd.PeriodDtype):
        freq = s.dtype.freq.freqstr
        if not freq.startswith(("Y", "A")):
            raise ValidationError(f"table {table!r}: openings need annual periods, got {freq!r}")
        return s.dt.year.astype("int64")
    v = pd.to_numeric(s, errors="coerce")
    bad = v.isna() | (v != np.round(v))
    if bad.any():
        row = s.index[bad.to_numpy()][0]
        raise ValidationError(
            f"table {table!r}: period {s.loc[row]!r} is not a year (row {row}, column 'period')"
        )
    return v.astype("int64")
