"""Canonical tables of gpec: their columns, types, keys and row rules, in one place.

Every stage of gpec reads and writes these long (tidy) tables. Codes are always strings, so that
"01", "0051" or "2A" survive a round trip through CSV or Excel. Each table is described by a
:class:`TableSpec`; :func:`check_table` applies the row-level rules of one table and returns the
problems it found as a tidy rejection table (table, file, row, column, value, reason). Rules that
involve several tables (references, crosswalk sums) live in :mod:`gpec._data`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gpec.exceptions import REJECTION_COLUMNS, ValidationError

__all__ = [
    "TABLES",
    "TableSpec",
    "ValidationError",
    "REJECTION_COLUMNS",
    "check_table",
    "format_report",
    "to_number",
]

#: Columns of every rejection report.

# Column kinds:
#   code   -> string identifier, non-empty
#   text   -> free string (may be empty)
#   count  -> finite float >= 0 (jobs, seats, projects...)
#   float  -> finite float (any sign)
#   rate   -> finite float in [0, 1]
#   period -> int year (or a value pandas can read as a Period)
# Numbers may be written the French way (455,0 or 1 234,5): see :func:`to_number`.
#   lat / lon -> finite float in [-90, 90] / [-180, 180]


@dataclass(frozen=True)
class TableSpec:
    """Specification of one canonical table.

    Parameters
    ----------
    name : str
        Canonical table name (as in docs/architecture.md and the ``[data]`` table of a config).
    columns : dict
        Column name -> kind (``code``, ``text``, ``count``, ``float``, ``rate``, ``period``,
        ``lat``, ``lon``).
    key : tuple of str
        Columns whose combination must be unique.
    required : tuple of str
        Columns that must be present; the others are optional.
    nullable : tuple of str
        Columns where a missing value is allowed (kept as null, never turned into 0).
    """

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]
    required: tuple[str, ...]
    nullable: tuple[str, ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def code_columns(self) -> list[str]:
        return [c for c, k in self.columns.items() if k in ("code", "text")]


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec(
            "territories",
            {
                "territory": "code",
                "label": "text",
                "level": "text",
                "parent": "code",
                "lat": "lat",
                "lon": "lon",
            },
            key=("territory",),
            required=("territory", "label", "level"),
            nullable=("parent", "lat", "lon"),
            description="Territories of every level with their parent (hierarchy) and centroid.",
        ),
        TableSpec(
            "occupations",
            {"occupation": "code", "label": "text", "system": "text", "parent": "code"},
            key=("occupation",),
            required=("occupation", "label"),
            nullable=("system", "parent"),
            description="Occupations (ROME fiches, FAP, ISCO...) with their labels.",
        ),
        TableSpec(
            "skills",
            {"skill": "code", "label": "text", "kind": "text", "system": "text"},
            key=("skill",),
            required=("skill", "label"),
            nullable=("kind", "system"),
            description="Skills (compétences, savoirs) with their labels.",
        ),
        TableSpec(
            "occupation_skills",
            {"occupation": "code", "skill": "code", "weight": "rate"},
            key=("occupation", "skill"),
            required=("occupation", "skill", "weight"),
            description="Occupation-skill matrix; weight 1 for a core skill.",
        ),
        TableSpec(
            "crosswalks",
            {
                "source_system": "text",
                "source": "code",
                "target_system": "text",
                "target": "code",
                "weight": "rate",
            },
            key=("source_system", "source", "target_system", "target"),
            required=("source_system", "source", "target_system", "target", "weight"),
            description="Correspondence between code systems; weights of one source sum to 1.",
        ),
        TableSpec(
            "employment",
            {"territory": "code", "occupation": "code", "period": "period", "value": "count"},
            key=("territory", "occupation", "period"),
            required=("territory", "occupation", "period", "value"),
            description="Jobs per territory x occupation x period.",
        ),
        TableSpec(
            "workforce_age",
            {"territory": "code", "occupation": "code", "age_band": "code", "value": "count"},
            key=("territory", "occupation", "age_band"),
            required=("territory", "occupation", "age_band", "value"),
            description="Workers per territory x occupation x 5-year age band.",
        ),
        TableSpec(
            "hiring_intentions",
            {
                "territory": "code",
                "occupation": "code",
                "period": "period",
                "projects": "count",
                "difficult": "count",
                "seasonal": "count",
            },
            key=("territory", "occupation", "period"),
            required=("territory", "occupation", "period", "projects"),
            nullable=("projects", "difficult", "seasonal"),
            description="BMO-like hiring intentions; null where masked (statistical secrecy).",
        ),
        TableSpec(
            "training_offers",
            {
                "offer": "code",
                "title": "text",
                "description": "text",
                "provider": "text",
                "site": "code",
                "seats": "count",
                "hours": "count",
                "modality": "text",
                "formacode": "text",
                "rncp": "text",
                "rome": "text",
                "completion_rate": "rate",
                "placement_rate": "rate",
            },
            key=("offer",),
            required=("offer", "title", "site", "seats"),
            nullable=(
                "description",
                "provider",
                "seats",
                "hours",
                "modality",
                "formacode",
                "rncp",
                "rome",
                "completion_rate",
                "placement_rate",
            ),
            description="Training offers at a site, with seats per year and their codes.",
        ),
    ]
}


def _is_missing(s: pd.Series) -> pd.Series:
    missing = s.isna()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        missing |= s.astype("string").str.strip().fillna("").eq("")
    return missing


def _rows(table: pd.DataFrame, mask: np.ndarray | pd.Series) -> list:
    return list(table.index[np.asarray(mask, dtype=bool)])


def _problem(spec: TableSpec, file: str, rows, column: str, values, reason: str) -> pd.DataFrame:
    values = list(values)
    return pd.DataFrame(
        {
            "table": spec.name,
            "file": file,
            "row": list(rows),
            "column": column,
            "value": ["" if pd.isna(v) else str(v) for v in values],
            "reason": reason,
        },
        columns=REJECTION_COLUMNS,
    )


def coerce_table(table: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Return a copy of ``table`` with code and text columns as Python strings (nulls kept)."""
    out = table.copy()
    for col, kind in spec.columns.items():
        if col not in out.columns or kind not in ("code", "text"):
            continue

        def to_str(v, strip=(kind == "code")):
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                return None
            v = v if isinstance(v, str) else _code_str(v)
            return v.strip() if strip else v

        out[col] = out[col].astype(object).map(to_str).astype(object)
    return out


#: Column names a French file often uses for a canonical column.
_FRENCH_COLUMNS = {
    "territoire": "territory",
    "code_territoire": "territory",
    "metier": "occupation",
    "code_metier": "occupation",
    "profession": "occupation",
    "annee": "period",
    "an": "period",
    "year": "period",
    "periode": "period",
    "valeur": "value",
    "effectif": "value",
    "effectifs": "value",
    "emplois": "value",
    "nombre": "value",
    "libelle": "label",
    "intitule": "title",
    "niveau": "level",
    "tranche_age": "age_band",
    "tranche_d_age": "age_band",
    "age": "age_band",
    "places": "seats",
    "capacite": "seats",
    "lieu": "site",
    "competence": "skill",
    "poids": "weight",
    "parent_code": "parent",
}


def _plain_name(name) -> str:
    """Lower case, no accents, words joined by ``_``: ``"Tranche d'âge"`` -> ``tranche_d_age``."""
    import unicodedata

    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return "_".join(re.findall(r"[a-z0-9]+", text.lower()))


def _near_column(col: str, columns) -> str | None:
    """The file's column that is ``col`` but for case, accents, spaces or French wording."""
    for c in columns:
        plain = _plain_name(c)
        if plain == col or _FRENCH_COLUMNS.get(plain) == col:
            return str(c)
    return None


def _header_row(table: pd.DataFrame, required, max_rows: int = 20) -> object | None:
    """The row, among the first ``max_rows``, that holds every required column name (a file
    whose header sits under a title), or None."""
    want = set(required)
    for row, values in table.head(max_rows).iterrows():
        if want <= {str(v).strip() for v in values if v is not None}:
            return row
    return None


def _code_str(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def check_table(table: pd.DataFrame, spec: TableSpec, file: str = "") -> pd.DataFrame:
    """Check the row rules of one table.

    Parameters
    ----------
    table : DataFrame
        The table; its index is taken as the row number reported (row as numbered in the file
        when the table was read with :func:`gpec.ingest.read_table`).
    spec : TableSpec
        Its specification.
    file : str, default ""
        File the table came from, for the report.

    Returns
    -------
    DataFrame
        One row per problem: table, file, row, column, value, reason. Empty when the table is clean.

    Examples
    --------
    >>> import pandas as pd
    >>> from gpec._schema import TABLES, check_table
    >>> emp = pd.DataFrame({"territory": ["01"], "occupation": ["H2913"], "period": [2020],
    ...                     "value": [-3.0]})
    >>> check_table(emp, TABLES["employment"])["reason"].tolist()
    ['negative value']
    """
    problems: list[pd.DataFrame] = []
    missing_cols = [c for c in spec.required if c not in table.columns]
    header = ", ".join(str(c) for c in table.columns)
    header_row = _header_row(table, spec.required) if missing_cols else None
    for col in missing_cols:
        reason = "required column is missing"
        near = _near_column(col, table.columns)
        if col in [n for n in table.index.names if n is not None]:
            reason += " (it is in the index: call .reset_index() first)"
        elif header_row is not None:
            reason += (
                f" (the header is on row {header_row}: delete the rows above it, such as a title)"
            )
        elif near is not None:
            reason += f" (the file's column {near!r} may be it: rename it {col!r})"
        problems.append(
            pd.DataFrame(
                [[spec.name, file, "header", col, header, reason]],
                columns=REJECTION_COLUMNS,
            )
        )
    if missing_cols:
        return pd.concat(problems, ignore_index=True)

    # a row of empty cells (";;;", the formatted but empty rows a spreadsheet writes): one
    # problem for the row, not one per column
    empty = pd.concat([_is_missing(table[c]) for c in table.columns], axis=1).all(axis=1)
    if len(table.columns) and empty.any():
        problems.append(
            _problem(spec, file, _rows(table, empty), "-", [""] * int(empty.sum()), EMPTY_ROW)
        )
        table = table[~empty.to_numpy()]

    for col, kind in spec.columns.items():
        if col not in table.columns:
            continue
        s = table[col]
        missing = _is_missing(s)
        if col not in spec.nullable and missing.any():
            problems.append(
                _problem(spec, file, _rows(table, missing), col, s[missing], "missing value")
            )
        present = ~missing
        if kind in ("count", "float", "rate", "lat", "lon"):
            num = to_number(s.where(present))
            not_number = present & num.isna()
            plain = not_number
            if kind == "rate" and "rate" in col and not_number.any():  # "78 %": how to write it
                pct = not_number & s.astype("string").str.fullmatch(r"\s*-?[\d.,\s]+%\s*")
                pct = pct.fillna(False).astype(bool)
                if pct.any():
                    problems.append(
                        _problem(spec, file, _rows(table, pct), col, s[pct], RATE_PERCENT_SIGN)
                    )
                    plain = not_number & ~pct
            if plain.any():
                problems.append(
                    _problem(spec, file, _rows(table, plain), col, s[plain], "not a number")
                )
            vals = num.to_numpy(dtype=float, na_value=np.nan)
            ok = present.to_numpy() & ~not_number.to_numpy()
            inf = ok & ~np.isfinite(np.where(ok, vals, 0.0))
            if inf.any():
                problems.append(
                    _problem(spec, file, _rows(table, inf), col, s[inf], "not a finite number")
                )
            fin = ok & ~inf
            if kind == "count":
                bad = fin & (np.where(fin, vals, 0.0) < 0)
                reason = "negative value"
            elif kind == "rate":
                v = np.where(fin, vals, 0.5)
                bad = fin & ((v < 0) | (v > 1))
                reason = "outside [0, 1]"
                percent = bad & (v > 1) & (v <= 100) & ("rate" in col)
                if percent.any():  # 84 for 84 %: one line saying how to write it
                    problems.append(
                        _problem(spec, file, _rows(table, percent), col, s[percent], RATE_PERCENT)
                    )
                    bad &= ~percent
            elif kind == "lat":
                bad = fin & (np.abs(np.where(fin, vals, 0.0)) > 90)
                reason = "latitude outside [-90, 90]"
            elif kind == "lon":
                bad = fin & (np.abs(np.where(fin, vals, 0.0)) > 180)
                reason = "longitude outside [-180, 180]"
            else:
                bad = np.zeros(len(s), dtype=bool)
                reason = ""
            if bad.any():
                problems.append(_problem(spec, file, _rows(table, bad), col, s[bad], reason))
        elif kind == "period":
            _, reasons = parse_periods(s.where(present))
            bad = present & reasons.notna()
            for reason in dict.fromkeys(reasons[bad]):
                hit = bad & reasons.eq(reason)
                problems.append(_problem(spec, file, _rows(table, hit), col, s[hit], reason))

    if spec.name == "workforce_age" and "age_band" in table.columns:
        problems += _age_band_problems(table, spec, file)
    key = [c for c in spec.key if c in table.columns]
    if key:
        dup = table.duplicated(subset=key, keep="first").to_numpy()
        if dup.any():
            cells = table.loc[dup, key].astype(object)
            keyvals = cells.where(cells.notna(), "").map(str).agg("|".join, axis=1)
            problems.append(
                _problem(spec, file, _rows(table, dup), "+".join(key), keyvals, "duplicate key")
            )
    if not problems:
        return pd.DataFrame(columns=REJECTION_COLUMNS)
    return pd.concat(problems, ignore_index=True)


def _age_band_problems(table: pd.DataFrame, spec: TableSpec, file: str) -> list[pd.DataFrame]:
    """The rows whose age band the demand stage cannot read ("seniors"), one problem per
    reason, so that validation names file, row, column and value instead of the run failing
    later."""
    from gpec._checks import parse_age_band

    bands = table["age_band"]
    present = bands.notna() & bands.astype("string").str.strip().ne("").fillna(False)
    reasons: dict[str, str] = {}
    for band in dict.fromkeys(bands[present].tolist()):
        try:
            parse_age_band(band)
        except ValueError as exc:
            reasons[band] = str(exc).replace(f" {band!r}", "", 1)
    out = []
    for reason in dict.fromkeys(reasons.values()):
        hit = (present & bands.isin([b for b, r in reasons.items() if r == reason])).to_numpy()
        out.append(_problem(spec, file, _rows(table, hit), "age_band", bands[hit], reason))
    return out


# ---------------------------------------------------------------------------- numbers
# French forms, as written by French Excel or LibreOffice: decimal comma, and thousands groups
# separated by a space, a no-break space (U+00A0), a narrow no-break space (U+202F) or a thin
# space (U+2009). Only unambiguous forms are accepted: "1 234,5", "1 234", "455,0", "-0,25".
_GROUP_SEPARATORS = " \u00a0\u202f\u2009"
_FRENCH_NUMBER = re.compile(
    rf"-?\d{{1,3}}(?:[{_GROUP_SEPARATORS}]\d{{3}})+(?:[.,]\d+)?|-?\d+,\d+",
)


def to_number(s: pd.Series) -> pd.Series:
    """Convert a column to floats, reading French decimal commas and grouped thousands.

    Values pandas reads as numbers are kept; text such as ``"455,0"``, ``"1 234,5"`` (space,
    U+00A0 or U+202F between the thousands) or ``"-0,25"`` is read the French way. Anything
    else (``"1.234,5"``, ``"1,234,567"``, ``"douze"``) becomes NaN, to be reported as
    "not a number".

    Parameters
    ----------
    s : Series
        Text or numbers.

    Returns
    -------
    Series
        float64, same index.

    Examples
    --------
    >>> import pandas as pd
    >>> to_number(pd.Series(["455,0", "1\\u00a0234,5", "12", "1.234,5"])).tolist()
    [455.0, 1234.5, 12.0, nan]
    """
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return pd.Series(
            s.to_numpy(dtype=float, na_value=np.nan), index=s.index, name=s.name, dtype=float
        )
    num = pd.to_numeric(s, errors="coerce")
    values = np.asarray(num.to_numpy(dtype=float, na_value=np.nan), dtype=float).copy()
    raw = s.to_numpy(dtype=object)
    failed = np.isnan(values) & ~pd.isna(raw)
    for i in np.flatnonzero(failed):
        v = raw[i]
        if not isinstance(v, str):
            continue
        text = v.strip()
        if _FRENCH_NUMBER.fullmatch(text):
            for sep in _GROUP_SEPARATORS:
                text = text.replace(sep, "")
            values[i] = float(text.replace(",", "."))
    return pd.Series(values, index=s.index, name=s.name, dtype=float)


# ---------------------------------------------------------------------------- periods
_YEAR = re.compile(r"(\d{4})(?:[.,]0+)?")  # 2019, 2019.0 or, from French Excel, 2019,0
_DATE_DMY = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_DATE_YMD = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
)
_MIDNIGHT = re.compile(r".*[ T]0?0:00(?::00(?:\.0+)?)?|[^ T]*")

#: Reasons of a rate written as a percentage.
RATE_PERCENT = "outside [0, 1] (a percentage? a rate is written as a fraction: 0.84 for 84 %)"
RATE_PERCENT_SIGN = "not a number (a rate is written as a fraction: 0.78 for 78 %)"

#: Reason of a row whose every cell is empty.
EMPTY_ROW = "empty row (every cell is empty)"

#: Reasons a period is rejected.
NOT_A_PERIOD = "not a period (year such as 2024, or 2024Q1)"
DATE_NOT_YEAR = "a date, not a period: a year such as 2005 is expected"
YEAR_RANGE = "year outside 1000-3000"
DATE_EXCEL_YEAR = (
    f"{DATE_NOT_YEAR} (Excel shows the number 2005 formatted as a date as 27/06/1905: "
    "format the column as a number)"
)


def _excel_number(year: int, month: int, day: int) -> int | None:
    """The number Excel shows as this date, when it is a plausible year (1900-2100)."""
    try:
        n = (pd.Timestamp(year, month, day) - pd.Timestamp(1899, 12, 30)).days
    except ValueError:
        return None
    return n if 1900 <= n <= 2100 else None


def _period_token(v) -> tuple[str, object]:
    """Classify one cell: ('year', int), ('period', Period), ('date', (year, jan1, excel_n)),
    ('bad', None); ``excel_n`` is the year Excel would show as this date, if any."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return "missing", None
    if isinstance(v, pd.Period):  # an annual Period is a year; quarters and months stay Periods
        return ("year", v.year) if v.freqstr[0] in ("Y", "A") else ("period", v)
    if isinstance(v, (bool, np.bool_)):
        return "bad", None
    if isinstance(v, (int, np.integer)):
        return "year", int(v)
    if isinstance(v, (float, np.floating)):
        return ("year", int(v)) if float(v).is_integer() else ("bad", None)
    if isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year") and hasattr(v, "month"):
        ts = pd.Timestamp(v)
        jan1 = ts == pd.Timestamp(ts.year, 1, 1)
        return "date", (ts.year, jan1, _excel_number(ts.year, ts.month, ts.day))
    text = str(v).strip()
    m = _YEAR.fullmatch(text)
    if m:
        return "year", int(m.group(1))
    m = _DATE_DMY.fullmatch(text)
    if m:
        day, month, year = (int(g) for g in m.groups())
        jan1 = day == 1 and month == 1 and bool(_MIDNIGHT.fullmatch(text))
        n = _excel_number(year, month, day) or _excel_number(year, day, month)
        return "date", (year, jan1, n)
    m = _DATE_YMD.fullmatch(text)
    if m:
        year, month, day = (int(g) for g in m.groups()[:3])
        jan1 = day == 1 and month == 1 and bool(_MIDNIGHT.fullmatch(text))
        return "date", (year, jan1, _excel_number(year, month, day))
    try:
        p = pd.Period(text)
    except (ValueError, TypeError, OverflowError):
        return "bad", None
    freq = p.freqstr[0]
    if freq in ("Y", "A"):
        return "year", p.year
    if freq in ("Q", "M"):
        return "period", p
    start = p.start_time
    jan1 = start == pd.Timestamp(p.year, 1, 1) and p.freqstr == "D"
    return "date", (p.year, jan1, _excel_number(start.year, start.month, start.day))


def _freq(v) -> str:
    return "Y" if isinstance(v, int) else v.freqstr[0]


def parse_periods(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read a period column: years as ints, other periods as pandas Periods.

    Rules: ``2024``, ``"2024"``, ``"2024.0"`` and ``"2024,0"`` are the year 2024; ``"2024Q1"`` or
    ``"2024-03"`` are quarterly or monthly Periods. Dates are not periods: when every date of the
    column falls on 1 January (years that Excel turned into dates, ``01/01/2005``) they are read
    as years; otherwise each date is rejected ("a year such as 2005 is expected"). All values of
    a column must share one frequency: the rows of a minority frequency are rejected.

    Parameters
    ----------
    s : Series
        Period cells (text, numbers, Periods; nulls allowed).

    Returns
    -------
    values : Series
        object Series with int years, Periods or None (None where missing or rejected).
    reasons : Series
        object Series: None where the value is usable (or missing), else the reason.

    Examples
    --------
    >>> import pandas as pd
    >>> values, reasons = parse_periods(pd.Series(["2005.0", "01/01/2006", "2007"]))
    >>> values.tolist(), reasons.isna().all()
    ([2005, 2006, 2007], np.True_)
    """
    years = _plain_years(s)
    if years is not None:  # the common case, vectorised: every cell a year such as 2024
        return (
            pd.Series(years.tolist(), index=s.index, name=s.name, dtype=object),
            pd.Series([None] * len(s), index=s.index, name=s.name, dtype=object),
        )
    n = len(s)
    raw = s.to_numpy(dtype=object)
    values: list = [None] * n
    reasons: list = [None] * n
    kinds: list = [None] * n
    all_jan1 = True
    excel: set[int] = set()
    for i, v in enumerate(raw):
        kind, val = _period_token(v)
        kinds[i] = kind
        if kind == "date":
            year, jan1, n = val  # type: ignore[misc]
            all_jan1 &= bool(jan1)
            values[i] = year
            if n is not None and not jan1:
                excel.add(i)
        elif kind == "bad":
            reasons[i] = NOT_A_PERIOD
        elif kind != "missing":
            values[i] = val
    for i, kind in enumerate(kinds):
        if kind == "date" and not all_jan1:
            values[i], reasons[i] = None, DATE_NOT_YEAR
            if i in excel:
                reasons[i] = DATE_EXCEL_YEAR
    for i, v in enumerate(values):
        if isinstance(v, int) and not 1000 <= v <= 3000:
            values[i], reasons[i] = None, YEAR_RANGE
    freqs = [_freq(v) if v is not None else None for v in values]
    present = [f for f in freqs if f is not None]
    if len(set(present)) > 1:
        counts = pd.Series(present).value_counts(sort=False)
        order = {"Y": 0, "Q": 1, "M": 2}
        main = max(counts.index, key=lambda f: (counts[f], -order.get(f, 9)))
        name = {"Y": "years", "Q": "quarters", "M": "months"}.get(main, main)
        for i, f in enumerate(freqs):
            if f is not None and f != main:
                values[i] = None
                reasons[i] = f"period of another frequency than the rest of the column ({name})"
    return (
        pd.Series(values, index=s.index, name=s.name, dtype=object),
        pd.Series(reasons, index=s.index, name=s.name, dtype=object),
    )


def _plain_years(s: pd.Series) -> np.ndarray | None:
    """int64 years when every cell is a year in 1000-3000 (``2024``, ``"2024"``, ``"2024.0"``)."""
    if not len(s) or s.isna().any():
        return None
    if pd.api.types.is_integer_dtype(s.dtype):
        years = s.to_numpy(dtype="int64")
    elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        if not s.map(lambda v: isinstance(v, str)).all():
            return None
        text = s.astype(str).str.strip()
        if not text.str.fullmatch(r"\d{4}(?:[.,]0+)?").all():
            return None
        years = text.str.slice(0, 4).astype("int64").to_numpy()
    else:
        return None
    return years if ((years >= 1000) & (years <= 3000)).all() else None


def normalize_period(s: pd.Series) -> pd.Series:
    """Turn a period column into int years when every value is a year, else pandas Periods.

    Values that :func:`parse_periods` rejects become None (validation reports them first).
    """
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("int64")
    years = _plain_years(s)
    if years is not None:
        return pd.Series(years, index=s.index, name=s.name, dtype="int64")
    values, _ = parse_periods(s)
    if len(values) and values.map(lambda v: isinstance(v, int)).all():
        return values.astype("int64")
    return values


# ---------------------------------------------------------------------------- reports
def _where(r) -> str:
    table, file = r["table"], r["file"]
    return f"table {table} ({file})" if file else f"table {table}"


def format_problem(r, rows: str | None = None) -> str:
    """One line for one problem: table (file), row, column: reason (value); ``rows`` names
    several rows of the same problem and value instead (``"2-4, 9 (4 rows)"``)."""
    value = "" if r["value"] is None or str(r["value"]) == "" else f" (value {r['value']!r})"
    if str(r["row"]) == "header" and value:  # the value of a header problem is the header
        value = f" (columns of the file: {r['value']})"
    row = "" if str(r["row"]) in ("", "-") else f", row {r['row']}"
    if rows is not None:
        row = f", rows {rows}"
    column = "" if str(r["column"]) in ("", "-") else f", column {r['column']}"
    return f"{_where(r)}{row}{column}: {r['reason']}{value}"


def _row_ranges(rows: list, max_parts: int = 4) -> str:
    """``[2, 3, 4, 9]`` -> ``"2-4, 9 (4 rows)"``: the rows of one value, in a short form."""
    parts: list[str] = []
    nums = [int(r) for r in rows if str(r).lstrip("-").isdigit()]
    if len(nums) != len(rows):  # not row numbers: list them as they are
        more = ", ..." if len(rows) > max_parts else ""
        return ", ".join(str(r) for r in rows[:max_parts]) + more + f" ({len(rows)} rows)"
    start = prev = nums[0]
    for n in [*nums[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    more = ", ..." if len(parts) > max_parts else ""
    return ", ".join(parts[:max_parts]) + more + f" ({len(rows)} rows)"


def format_report(report: pd.DataFrame, *, max_per_reason: int | None = 20) -> list[str]:
    """Lines describing a rejection report, at most ``max_per_reason`` per repeated reason.

    Problems of the same table, column and reason are printed together; beyond
    ``max_per_reason`` rows one summary line gives how many more there are (every row stays in
    the report itself, e.g. ``rejected.csv``).

    Parameters
    ----------
    report : DataFrame
        Columns table, file, row, column, value, reason.
    max_per_reason : int or None, default 20
        Rows printed per (table, column, reason); None prints every row.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> rep = pd.DataFrame({"table": "employment", "file": "emp.csv", "row": [2, 3, 4],
    ...                     "column": "territory", "value": ["99", "98", "97"],
    ...                     "reason": "unknown territory (not in table territories)"})
    >>> for line in format_report(rep, max_per_reason=1):
    ...     print(line)
    table employment (emp.csv), row 2, column territory: unknown territory (not in table territories) (value '99')
    ... and 2 more row(s) of table employment (emp.csv), column territory: unknown territory (not in table territories)
    """  # noqa: E501
    lines: list[str] = []
    if not len(report):
        return lines
    keys = list(zip(report["table"], report["column"], report["reason"], strict=True))
    groups: dict[tuple, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    for idx in groups.values():
        # rows of one value (a code repeated on 1,000 rows) on one line, with their row numbers
        by_value: dict[str, list[int]] = {}
        for i in idx:
            by_value.setdefault(str(report["value"].iloc[i]), []).append(i)
        runs = list(by_value.values())
        shown = runs if max_per_reason is None else runs[:max_per_reason]
        for same in shown:
            rows = _row_ranges([report["row"].iloc[i] for i in same]) if len(same) > 1 else None
            lines.append(format_problem(report.iloc[same[0]], rows=rows))
        rest = sum(len(same) for same in runs[len(shown) :])
        if rest:
            r = report.iloc[idx[0]]
            lines.append(
                f"... and {rest} more row(s) of {_where(r)}, column {r['column']}: {r['reason']}"
            )
    return lines
