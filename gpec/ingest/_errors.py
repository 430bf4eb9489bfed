"""Errors, rejections and row accounting shared by the official-file readers.

Every reader accounts for each data row it reads: a row is either *kept* (its content reaches an
output table, as a row, a label or a flag) or *rejected* (reported in the ``rejected`` table with a
reason). :class:`RowLedger` collects both and checks that ``read == kept + rejected`` per file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec.exceptions import REJECTION_COLUMNS, FormatError
from gpec.ingest._tables import InputFileError, nearby_files, read_table

__all__ = [
    "FormatError",
    "RowLedger",
    "check_pattern",
    "read_source_table",
    "reader_data",
    "require_file",
]


class RowLedger:
    """Rejected rows and row counts of one reader call.

    Examples
    --------
    >>> led = RowLedger()
    >>> led.read("a.csv", 3)
    >>> led.reject("occupations", "a.csv", [4], "code_rome", ["Z"], "bad code")
    >>> led.keep("a.csv", 2)
    >>> led.accounting()["a.csv"]
    {'read': 3, 'kept': 2, 'rejected': 1}
    """

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []
        self._read: dict[str, int] = {}
        self._kept: dict[str, int] = {}
        self._rejected_rows: dict[str, set] = {}

    def read(self, file: str, n: int) -> None:
        """Record that ``n`` data rows were read from ``file``."""
        self._read[file] = self._read.get(file, 0) + int(n)
        self._kept.setdefault(file, 0)
        self._rejected_rows.setdefault(file, set())

    def keep(self, file: str, n: int) -> None:
        """Record that ``n`` rows of ``file`` reached the output."""
        self._kept[file] = self._kept.get(file, 0) + int(n)

    def reject(
        self,
        table: str,
        file: str,
        rows: Iterable,
        column: str,
        values: Iterable,
        reason: str,
    ) -> None:
        """Report rows as rejected (one rejection row each)."""
        rows = list(rows)
        if not rows:
            return
        values = ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]
        self._parts.append(
            pd.DataFrame(
                {
                    "table": table,
                    "file": file,
                    "row": rows,
                    "column": column,
                    "value": values,
                    "reason": reason,
                },
                columns=REJECTION_COLUMNS,
            )
        )
        self._rejected_rows.setdefault(file, set()).update(rows)

    def frame(self) -> pd.DataFrame:
        """All rejections, in the order they were reported."""
        if not self._parts:
            return pd.DataFrame(columns=REJECTION_COLUMNS)
        out = pd.concat(self._parts, ignore_index=True)
        out["row"] = out["row"].astype(object)
        return out

    def accounting(self) -> dict[str, dict[str, int]]:
        """Per file: rows read, kept and rejected (distinct rejected rows)."""
        return {
            f: {
                "read": n,
                "kept": self._kept.get(f, 0),
                "rejected": len(self._rejected_rows.get(f, ())),
            }
            for f, n in self._read.items()
        }

    def unbalanced(self) -> dict[str, dict[str, int]]:
        """Files where ``read != kept + rejected`` (empty when the accounting is exact)."""
        return {
            f: c for f, c in self.accounting().items() if c["read"] != c["kept"] + c["rejected"]
        }

    def checked_accounting(self) -> dict[str, dict[str, int]]:
        """:meth:`accounting`, after checking that it balances for every file.

        Raises
        ------
        RuntimeError
            When a file has ``read != kept + rejected``: a bug in the reader, never in the data.

        Examples
        --------
        >>> led = RowLedger()
        >>> led.read("a.csv", 2)
        >>> led.keep("a.csv", 2)
        >>> led.checked_accounting()
        {'a.csv': {'read': 2, 'kept': 2, 'rejected': 0}}
        """
        unbalanced = self.unbalanced()
        if unbalanced:  # pragma: no cover - a bug in a reader, never in the data
            raise RuntimeError(f"row accounting does not balance: {unbalanced}")
        return self.accounting()

    def keep_unique(
        self,
        table: str,
        file: str,
        frame: pd.DataFrame,
        key: list[str],
        column: str,
        value: str,
    ) -> pd.DataFrame:
        """Reject the rows of ``frame`` that repeat the ``key`` of an earlier row, keep the others.

        Each repeat is reported as a "duplicate key" of ``column`` with the row's ``value``
        column; the other rows are recorded as kept and returned (index unchanged).

        Examples
        --------
        >>> led = RowLedger()
        >>> led.read("a.csv", 3)
        >>> df = pd.DataFrame({"code": ["A", "B", "A"]}, index=[2, 3, 4])
        >>> led.keep_unique("occupations", "a.csv", df, ["code"], "code", "code").index.tolist()
        [2, 3]
        >>> led.accounting()["a.csv"]
        {'read': 3, 'kept': 2, 'rejected': 1}
        """
        dup = frame.duplicated(key)
        self.reject(table, file, frame.index[dup], column, frame.loc[dup, value], "duplicate key")
        kept = frame[~dup.to_numpy()]
        self.keep(file, len(kept))
        return kept

    def reject_in_turn(
        self,
        table: str,
        file: str,
        index: pd.Index,
        checks: Sequence[tuple],
    ) -> np.ndarray:
        """Run row checks in order; a row is rejected by the first check it fails.

        Each check is ``(mask, column, values, reason)``: ``mask`` marks the failing rows
        (aligned with ``index``), ``values`` (a Series aligned the same way, or None for blank
        values) gives the value reported for each. Returns the mask of the rows that pass every
        check; they are not recorded as kept (the caller keeps what reaches its output).

        Examples
        --------
        >>> led = RowLedger()
        >>> led.read("a.csv", 3)
        >>> code = pd.Series(["A", "", "9"], index=[2, 3, 4])
        >>> ok = led.reject_in_turn("occupations", "a.csv", code.index, [
        ...     (code.eq(""), "code", code, "missing code"),
        ...     (code.str.isdigit() | code.eq(""), "code", code, "not a letter"),
        ... ])
        >>> ok.tolist(), led.frame()["reason"].tolist()
        ([True, False, False], ['missing code', 'not a letter'])
        """
        keep = np.ones(len(index), dtype=bool)
        for mask, column, values, reason in checks:
            m = keep & np.asarray(mask, dtype=bool)
            if m.any():
                shown = [""] * int(m.sum()) if values is None else values[m]
                self.reject(table, file, index[m], column, shown, reason)
            keep &= ~m
        return keep


def read_source_table(path: str | os.PathLike, **options) -> pd.DataFrame:
    """:func:`~gpec.ingest.read_table` for an official file: an unreadable file is a
    :class:`FormatError` (the same message).

    Examples
    --------
    >>> read_source_table(Path("missing.csv"))
    Traceback (most recent call last):
    ...
    gpec.exceptions.FormatError: missing.csv: file not found
    """
    try:
        return read_table(path, **options)
    except InputFileError as exc:
        raise FormatError(str(exc)) from exc


def reader_data(
    path: str | os.PathLike,
    ledger: RowLedger,
    meta: dict,
    sourced: Iterable[str],
    **tables,
) -> GpecData:
    """What a reader returns: its tables (and ``extra``), each table of ``sourced`` traced to
    ``path``, the ledger's rejections, and ``meta`` ending with the checked row accounting.

    Examples
    --------
    >>> led = RowLedger()
    >>> led.read("a.csv", 1)
    >>> led.keep("a.csv", 1)
    >>> occ = pd.DataFrame({"occupation": ["A"], "label": ["a"]})
    >>> data = reader_data("a.csv", led, {"format": "x"}, ["occupations"], occupations=occ)
    >>> data.sources, data.meta["row_accounting"]
    ({'occupations': 'a.csv'}, {'a.csv': {'read': 1, 'kept': 1, 'rejected': 0}})
    """
    meta["row_accounting"] = ledger.checked_accounting()
    sources = {name: str(path) for name in sourced}
    return GpecData(**tables, sources=sources, rejected=ledger.frame(), meta=meta)


def require_file(path: Path, kind: str) -> None:
    """Raise a :class:`FormatError` unless ``path`` is a file (``kind`` names what was expected).

    Examples
    --------
    >>> require_file(Path("missing.csv"), "a crosswalk file")
    Traceback (most recent call last):
    ...
    gpec.exceptions.FormatError: missing.csv: file not found
    """
    if not path.is_file():
        raise FormatError(
            f"{path}: file not found{nearby_files(path)}"
            if not path.exists()
            else f"{path}: is a folder, not {kind}"
        )


def check_pattern(values: pd.Series, pattern: str) -> pd.Series:
    """Boolean mask of the values that fully match ``pattern`` (null never matches).

    Examples
    --------
    >>> check_pattern(pd.Series(["M1805", "m1805", None]), r"[A-N]\\d{4}").tolist()
    [True, False, False]
    """
    rx = re.compile(pattern.strip("^$"))
    return values.map(lambda v: isinstance(v, str) and rx.fullmatch(v) is not None).astype(bool)
