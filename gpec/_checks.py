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

import re
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd

from gpec.exceptions import ValidationError

__all__ = [
    "as_codes",
    "check_unique",
    "fail_rows",
    "int_periods",
    "numeric_column",
    "parse_age_band",
    "plain",
    "require_columns",
    "require_frame",
]


def plain(value):
    """A value as a message shows it: a numpy scalar as the Python number it holds.

    Examples
    --------
    >>> import numpy as np
    >>> repr(plain(np.float64(34.06))), repr(plain("34,06"))
    ('34.06', "'34,06'")
    """
    return value.item() if isinstance(value, np.generic) else value


def require_frame(df: Any, table: str, *, advice: bool = False) -> None:
    """Fail unless ``df`` is a DataFrame, naming what it is instead.

    With ``advice``, the message says how to make a table of a Series, a dict or a list.

    Examples
    --------
    >>> require_frame(pd.Series([1.0], name="value"), "employment", advice=True)
    Traceback (most recent call last):
    ...
    TypeError: employment: expected a pandas DataFrame, got Series (series.reset_index() ...
    """
    if isinstance(df, pd.DataFrame):
        return
    how = ""
    if advice and isinstance(df, pd.Series):
        how = " (series.reset_index() turns a Series indexed by its keys into a table)"
    elif advice and isinstance(df, (dict, list)):
        how = " (pd.DataFrame(...) makes one)"
    raise TypeError(f"{table}: expected a pandas DataFrame, got {type(df).__name__}{how}")


def outside_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside gpec.

    A check reached through several layers of gpec (``Forecaster.fit`` -> the panel reader ->
    the check) is warned at the user's line, whatever the depth. Call it as the argument of
    ``warnings.warn`` in the function that warns.

    Examples
    --------
    >>> outside_stacklevel() >= 1
    True
    """
    frame = sys._getframe(1)  # the function that warns
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "gpec":
        frame = frame.f_back
        level += 1
    return level


def require_columns(df: pd.DataFrame, table: str, columns) -> None:
    """Fail unless ``df`` is a DataFrame with every column of ``columns``."""
    require_frame(df, table)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValidationError(f"{table}: missing column(s) {missing}; has {list(df.columns)}")


def fail_rows(table: str, df: pd.DataFrame, mask: np.ndarray, column: str, reason: str) -> None:
    """Fail on the first row where ``mask`` holds, naming its row, column and value."""
    if np.any(mask):
        pos = int(np.flatnonzero(mask)[0])
        row = df.index[pos]
        value = plain(df[column].iloc[pos]) if column in df.columns else None
        raise ValidationError(
            f"{table}: row {row}, column {column!r}: {reason} (value {value!r}; "
            f"{int(np.sum(mask))} row(s) in all)"
        )


def as_codes(s: pd.Series) -> pd.Series:
    """Codes as pandas strings (dtype ``str``), nulls kept as null."""
    return s if s.dtype == "str" else s.astype("str")


def numeric_column(
    df: pd.DataFrame, table: str, column: str, *, nonneg: bool, values: np.ndarray | None = None
) -> np.ndarray:
    """The column as floats; fail on text, missing values and (with ``nonneg``) negatives.

    ``values`` is the column already read as floats, NaN where a value is not a number (numbers
    written the French way read by :func:`gpec._schema.to_number`, say); by default the column
    is read by :func:`pandas.to_numeric`.
    """
    if values is None:
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
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _date_years(s, table)
    v = pd.to_numeric(s, errors="coerce")
    bad = v.isna() | (v != np.round(v))
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])  # by position: row labels may repeat
        value = plain(s.iloc[pos])
        raise ValidationError(
            f"table {table!r}: period {value!r} is not a year (row {s.index[pos]}, column 'period')"
        )
    return v.astype("int64")


def _date_years(s: pd.Series, table: str) -> pd.Series:
    """Dates as years when every one falls on 1 January at midnight (years a spreadsheet turned
    into dates, as validation reads them); fail on the first other date."""
    missing = s.isna().to_numpy()
    if missing.any():
        row = s.index[np.flatnonzero(missing)[0]]
        raise ValidationError(f"table {table!r}: missing period (row {row}, column 'period')")
    jan1 = (s.dt.month.eq(1) & s.dt.day.eq(1) & s.dt.normalize().eq(s)).to_numpy()
    if not jan1.all():
        pos = int(np.flatnonzero(~jan1)[0])  # by position: row labels may repeat
        row = s.index[pos]
        raise ValidationError(
            f"table {table!r}: period {str(s.iloc[pos])!r} is a date, not a year (row {row}, "
            "column 'period'): a year such as 2025 is expected"
        )
    warnings.warn(
        f"{table}: column 'period' holds dates on 1 January; read as years ({s.iloc[0].year}, ...)",
        UserWarning,
        stacklevel=outside_stacklevel(),
    )
    return s.dt.year.astype("int64")


# ----------------------------------------------------------------------------- age bands
_RANGE = re.compile(r"^\s*(\d{1,3})\s*(?:-|–|à|a|to)\s*(\d{1,3})\s*(?:ans?|years?)?\s*$", re.I)
_OPEN = re.compile(
    r"^\s*(\d{1,3})\s*(?:\+|ans?\s*(?:ou|et)\s*plus|(?:years?\s*)?(?:and|or)\s*(?:over|more|older)"
    r"|et\s*plus|ou\s*plus)\s*$",
    re.I,
)
_BELOW = re.compile(
    r"^\s*(?:<|moins\s*de|under|less\s*than)\s*(\d{1,3})\s*(?:ans?|years?)?\s*$", re.I
)
_SINGLE = re.compile(r"^\s*(\d{1,3})\s*(?:ans?|years?)?\s*$", re.I)


def parse_age_band(band: str) -> tuple[int, float]:
    """Parse an age band label into ``(lowest age, highest age)`` (inclusive; ``inf`` if open).

    Accepts "20-24", "15-24 ans", "65+", "60 ans ou plus", "50 and over", "<25", "moins de 25 ans"
    and single ages ("17"). Ages below 15 are clipped to 15 (the model starts at 15).

    Parameters
    ----------
    band : str
        The label of an age band.

    Returns
    -------
    tuple of (int, int or float)
        The lowest and the highest age of the band, both included; ``inf`` for an open band.

    Raises
    ------
    ValueError
        A label it cannot read, an upper age below the lower one, or a band below 15.

    Examples
    --------
    >>> parse_age_band("60 ans ou plus")
    (60, inf)
    >>> parse_age_band("15-24 ans")
    (15, 24)
    """
    s = str(band)
    if m := _RANGE.match(s):
        lo, hi = int(m.group(1)), float(m.group(2))
    elif m := _OPEN.match(s):
        lo, hi = int(m.group(1)), np.inf
    elif m := _BELOW.match(s):
        lo, hi = 15, float(int(m.group(1)) - 1)
    elif m := _SINGLE.match(s):
        lo, hi = int(m.group(1)), float(m.group(1))
    else:
        raise ValueError(f"unreadable age band {band!r} (expected e.g. '20-24', '65+')")
    if hi < lo:
        raise ValueError(f"age band {band!r}: upper age below lower age")
    if hi < 15:
        raise ValueError(f"age band {band!r} lies below 15, the youngest age of the model")
    lo = max(lo, 15)
    return lo, (int(hi) if np.isfinite(hi) else np.inf)
