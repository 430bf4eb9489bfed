"""Conversion between a long employment table and a (series x period) matrix."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpec._checks import int_periods, outside_stacklevel, plain, require_frame
from gpec._schema import to_number

__all__ = ["PanelMatrix", "to_matrix", "future_periods"]

_SEASON = {"Y": 1, "A": 1, "Q": 4, "M": 12}


@dataclass
class PanelMatrix:
    """A panel as a dense matrix.

    Attributes
    ----------
    ids : DataFrame
        One row per series (id columns), sorted; row ``i`` is matrix row ``i``.
    Y : ndarray of shape (n_series, T)
        Values, NaN where the long table has no (or a missing) value.
    periods : list
        The ``T`` consecutive periods (ints or pandas Periods).
    kind : {"int", "period"}
        Type of the period column.
    freq : str or None
        pandas frequency string for Period panels.
    season_length : int
        1 for yearly data, 4 for quarterly, 12 for monthly.
    """

    ids: pd.DataFrame
    Y: np.ndarray
    periods: list
    kind: str
    freq: str | None
    season_length: int


def _reject(table: str, rows, column: str, reason: str, values=None) -> ValueError:
    """The error naming ``rows`` (labels) and the first of ``values``, the values of those
    rows in the same order (taken by position: row labels may repeat)."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
    value = ""
    if values is not None and rows:
        first = values.iloc[0]
        value = f" (value {plain(first)!r})"
    return ValueError(f"{table}: column {column!r}, row(s) {shown}: {reason}{value}")


def to_matrix(
    panel: pd.DataFrame,
    id_cols: tuple[str, ...],
    value_col: str = "value",
    period_col: str = "period",
    *,
    table: str = "employment",
) -> PanelMatrix:
    """Pivot a long table into a dense (series x period) matrix.

    Parameters
    ----------
    panel : DataFrame
        Long table with the id columns, ``period_col`` and ``value_col``.
    id_cols : tuple of str
        Columns identifying a series (e.g. territory, occupation).
    value_col, period_col : str
        Value and period columns. Periods are int years (or strings of
        digits) or pandas Periods of one frequency.
    table : str, default="employment"
        Name used in error messages.

    Returns
    -------
    PanelMatrix

    Raises
    ------
    ValueError
        Missing columns, non-numeric or negative values, bad periods, or
        duplicated (series, period) rows; the message names column and rows.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"territory": ["01"] * 3, "occupation": ["A"] * 3,
    ...                    "period": [2019, 2021, 2020], "value": [1.0, 3.0, 2.0]})
    >>> pm = to_matrix(df, ("territory", "occupation"))
    >>> pm.Y.tolist(), pm.periods
    ([[1.0, 2.0, 3.0]], [2019, 2020, 2021])
    """
    require_frame(panel, table)
    missing = [c for c in (*id_cols, period_col, value_col) if c not in panel.columns]
    if missing:
        in_index = [c for c in missing if c in panel.index.names]
        hint = f" ({in_index} in the index: call .reset_index() first)" if in_index else ""
        raise ValueError(
            f"{table}: missing column(s) {missing}; columns are {list(panel.columns)}{hint}"
        )
    if len(panel) == 0:
        raise ValueError(f"{table}: the table is empty")
    df = panel[[*id_cols, period_col, value_col]]
    for c in id_cols:
        bad = df.index[df[c].isna()]
        if len(bad):
            raise _reject(table, bad, c, "missing series identifier")
    raw = df[value_col]
    values = pd.to_numeric(raw, errors="coerce")
    if not pd.api.types.is_numeric_dtype(raw.dtype):
        # numbers written the French way ("1 234,5", "455,0"), as GpecData.validate reads them
        french = to_number(raw)
        read = values.isna() & french.notna()
        if read.any():
            first = raw[read].iloc[0]
            warnings.warn(
                f"{table}: column {value_col!r} holds numbers written as text; "
                f"{int(read.sum())} read the French way ({first!r} -> {french[read].iloc[0]:g})",
                UserWarning,
                stacklevel=outside_stacklevel(),
            )
            values = values.where(~read, french)
    mask = (values.isna() & raw.notna()).to_numpy()
    if mask.any():
        raise _reject(table, df.index[mask], value_col, "value is not a number", raw[mask])
    empty = df.index[raw.isna()]
    if len(empty):
        shown = ", ".join(str(r) for r in empty[:5]) + (" ..." if len(empty) > 5 else "")
        warnings.warn(
            f"{table}: {len(empty)} row(s) without a value in column {value_col!r} (row(s) "
            f"{shown}): counted as missing periods (a hole between observed ones is interpolated)",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
    values = values.to_numpy(dtype=float)
    for mask, reason in ((values < 0, "negative value"), (np.isinf(values), "infinite value")):
        if mask.any():
            raise _reject(table, df.index[mask], value_col, reason, raw[mask])

    per = df[period_col]
    if pd.api.types.is_datetime64_any_dtype(per.dtype):
        # dates on 1 January are years (as GpecData.validate reads them); others fail
        per = int_periods(per, table)
    if isinstance(per.dtype, pd.PeriodDtype):
        kind, freq = "period", per.dtype.freq.freqstr
        if per.isna().any():
            raise _reject(table, df.index[per.isna()], period_col, "missing period")
        ordinals = per.array.asi8
        season = _SEASON.get(freq[0].upper(), 1)
    else:
        kind, freq, season = "int", None, 1
        num = pd.to_numeric(per, errors="coerce")
        mask = (num.isna() | (num.notna() & (num % 1 != 0))).to_numpy()
        if mask.any():
            raise _reject(
                table,
                df.index[mask],
                period_col,
                "period must be an integer year or a pandas Period",
                per[mask],
            )
        ordinals = num.to_numpy().astype(np.int64)

    keys = df[list(id_cols)]
    codes_df = keys.drop_duplicates().sort_values(list(id_cols), kind="stable")
    codes_df = codes_df.reset_index(drop=True)
    idx = pd.MultiIndex.from_frame(codes_df)
    row = idx.get_indexer(pd.MultiIndex.from_frame(keys))
    lo, hi = int(ordinals.min()), int(ordinals.max())
    T = hi - lo + 1
    if T > 100_000:
        raise _reject(table, [], period_col, f"periods span {T} steps; check the period column")
    col = ordinals - lo
    flat = row.astype(np.int64) * T + col
    dup = pd.Series(flat).duplicated(keep=False).to_numpy()
    if dup.any():
        cells = df[[*id_cols, period_col]].astype(str).agg("|".join, axis=1)
        raise _reject(table, df.index[dup], period_col, "duplicated series x period", cells[dup])
    Y = np.full((len(codes_df), T), np.nan)
    Y.ravel()[flat] = values
    if kind == "period":
        first = per.iloc[int(np.argmin(ordinals))]
        periods = [first + k for k in range(T)]
    else:
        periods = list(range(lo, hi + 1))
    return PanelMatrix(codes_df, Y, periods, kind, freq, season)


def future_periods(pm: PanelMatrix, h: int) -> list:
    """The ``h`` periods after the panel's last period."""
    last = pm.periods[-1]
    return [last + k for k in range(1, h + 1)]
