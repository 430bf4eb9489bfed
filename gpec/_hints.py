"""Hints for rows rejected as unknown codes that are known codes written another way.

A spreadsheet drops leading zeros ("1053" for "01053"), writes codes as numbers ("76.0") or a
user types another case ("h2913"); a study without communes gets offers placed at their
commune. These hints name the value, the table, the column and the fix, once per value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by the callers; `gpec --help` stays light
    import pandas as pd

__all__ = ["code_hints", "zeros_lookup"]


def zeros_lookup(codes: Iterable[str]) -> dict[str, str]:
    """The codes made of digits by their form without leading zeros (``"1053"`` for
    ``"01053"``); of several codes with one such form, the first in sort order.

    Examples
    --------
    >>> zeros_lookup(["01053", "76", "2A004"])
    {'76': '76', '1053': '01053'}
    """
    return {c.lstrip("0"): c for c in sorted(codes, reverse=True) if c.isdigit()}


def code_hints(report: pd.DataFrame | None, data: Any) -> list[str]:
    """Hints for rows rejected as unknown codes that are known codes written another way by
    a spreadsheet: without their leading zeros (``"1053"`` for ``"01053"``), as a number
    (``"76.0"`` for ``"76"``) or in another case (``"h2913"`` for ``"H2913"``).

    One hint per table, column and value, with the number of rows.

    Parameters
    ----------
    report : DataFrame or None
        Rejected rows (:data:`gpec.exceptions.REJECTION_COLUMNS`).
    data : GpecData or None
        The tables as read, whose reference tables hold the known codes.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> from gpec._data import GpecData
    >>> terr = pd.DataFrame({"territory": ["01053"], "label": ["Bourg"], "level": ["commune"]})
    >>> report = pd.DataFrame({"table": ["employment"], "file": [""], "row": [2],
    ...     "column": ["territory"], "value": ["1053"],
    ...     "reason": ["unknown territory (not in table territories)"]})
    >>> print(code_hints(report, GpecData(territories=terr))[0])  # doctest: +ELLIPSIS
    '1053' in column territory of table employment (1 row(s)) is '01053' of table territories...
    """
    if report is None or not len(report) or data is None:
        return []
    hints: list[str] = []
    lookups: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    found = report[report["reason"].astype(str).str.startswith("unknown ")]
    for (table, column, reason, value), rows in found.groupby(
        ["table", "column", "reason", "value"], sort=False
    ).groups.items():
        m = re.fullmatch(r"unknown (\w+) \(not in table (\w+)\)", str(reason))
        value = str(value).strip()
        if m is None or not value:
            continue
        ref_col, ref = m.groups()
        if (ref, ref_col) not in lookups:
            ref_table = data.tables.get(ref)
            if ref_table is None or ref_col not in ref_table.columns:
                lookups[(ref, ref_col)] = {}
            else:
                known = sorted({str(c).strip() for c in ref_table[ref_col].dropna()})
                lookups[(ref, ref_col)] = {
                    "zeros": zeros_lookup(known),
                    "case": {c.casefold(): c for c in reversed(known)},
                }
        lookup = lookups[(ref, ref_col)]
        if not lookup:
            continue
        number = re.fullmatch(r"(\d+)\.0+", value)
        code = None
        if number and number.group(1) in lookup["case"]:
            code = lookup["case"][number.group(1)]
            how = (
                f"is {code!r} of table {ref} written as a number: format the code columns "
                "as Text, or export the file again"
            )
        elif value.isdigit() and lookup["zeros"].get(value.lstrip("0"), value) != value:
            code = lookup["zeros"][value.lstrip("0")]
            lost = (
                "without its leading zero(s)"
                if len(code) > len(value)
                else "with the leading zero(s) that table lost"
            )
            how = (
                f"is {code!r} of table {ref} {lost}: a file opened and saved in a spreadsheet "
                "loses them; format the code columns as Text, or export the file again"
            )
        elif lookup["case"].get(value.casefold(), value) != value:
            code = lookup["case"][value.casefold()]
            how = f"is {code!r} of table {ref} in another case: codes are case-sensitive"
        if code is not None:
            hints.append(
                f"{value!r} in column {column} of table {table} ({len(rows)} row(s)) {how}"
            )
    return hints + _commune_hints(found, data)


def _commune_hints(found, data) -> list[str]:
    """One hint per table and column whose unknown territories look like INSEE commune codes
    while the territories table has no commune (offers placed at their commune, say)."""
    terr = data.tables.get("territories")
    if terr is None or "level" not in terr.columns or terr["level"].eq("commune").any():
        return []
    unknown = found[found["reason"].astype(str).eq("unknown territory (not in table territories)")]
    commune = unknown["value"].astype(str).str.strip().str.fullmatch(r"\d{5}|2[AB]\d{3}")
    hints = []
    for (table, column), part in unknown[commune.to_numpy()].groupby(["table", "column"]):
        values = list(dict.fromkeys(part["value"].astype(str)))
        more = f" and {len(values) - 1} other value(s)" if len(values) > 1 else ""
        site = (
            ' and set [supply] site_level = "epci" to count each offer at its EPCI'
            if column == "site"
            else ""
        )
        hints.append(
            f"{values[0]!r}{more} in column {column} of table {table} ({len(part)} row(s)) look "
            "like INSEE commune codes, and table territories has no commune: add the communes "
            f"(level commune, parent = their EPCI){site}"
        )
    return hints
