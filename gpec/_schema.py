"""Canonical tables of gpec: their columns, types, keys and row rules, in one place.

Every stage of gpec reads and writes these long (tidy) tables. Codes are always strings, so that
"01", "0051" or "2A" survive a round trip through CSV or Excel. Each table is described by a
:class:`TableSpec`; :func:`check_table` applies the row-level rules of one table and returns the
problems it found as a tidy rejection table (table, file, row, column, value, reason). Rules that
involve several tables (references, crosswalk sums) live in :mod:`gpec._data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["TABLES", "TableSpec", "ValidationError", "REJECTION_COLUMNS", "check_table"]

#: Columns of every rejection report.
REJECTION_COLUMNS = ["table", "file", "row", "column", "value", "reason"]

# Column kinds:
#   code   -> string identifier, non-empty
#   text   -> free string (may be empty)
#   count  -> finite float >= 0 (jobs, seats, projects...)
#   float  -> finite float (any sign)
#   rate   -> finite float in [0, 1]
#   period -> int year (or a value pandas can read as a Period)
#   lat / lon -> finite float in [-90, 90] / [-180, 180]


class ValidationError(ValueError):
    """Raised when an input table breaks a rule of the canonical data model.

    The message names the table, the file, the row (as numbered in the file: header = row 1)
    and the column of the first problem; ``report`` holds every problem found.
    """

    def __init__(self, message: str, report: pd.DataFrame | None = None):
        super().__init__(message)
        self.report = report if report is not None else pd.DataFrame(columns=REJECTION_COLUMNS)


@dataclass(frozen=True)
class TableSpec:
    """Specification of one canonical table.

    Parameters
    ----------
    name : str
        Canonical table name (as in DESIGN §3 and the ``[data]`` table of a config).
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
    for col in missing_cols:
        problems.append(
            pd.DataFrame(
                [[spec.name, file, "header", col, "", "required column is missing"]],
                columns=REJECTION_COLUMNS,
            )
        )
    if missing_cols:
        return pd.concat(problems, ignore_index=True)

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
            num = pd.to_numeric(s.where(present), errors="coerce")
            not_number = present & num.isna()
            if not_number.any():
                problems.append(
                    _problem(
                        spec, file, _rows(table, not_number), col, s[not_number], "not a number"
                    )
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
            bad = present & ~s.where(present).map(_is_period_like).astype(bool)
            if bad.any():
                problems.append(
                    _problem(
                        spec,
                        file,
                        _rows(table, bad),
                        col,
                        s[bad],
                        "not a period (year such as 2024, or 2024Q1)",
                    )
                )

    key = [c for c in spec.key if c in table.columns]
    if key:
        dup = table.duplicated(subset=key, keep="first").to_numpy()
        if dup.any():
            keyvals = table.loc[dup, key].astype(str).agg("|".join, axis=1)
            problems.append(
                _problem(spec, file, _rows(table, dup), "+".join(key), keyvals, "duplicate key")
            )
    if not problems:
        return pd.DataFrame(columns=REJECTION_COLUMNS)
    return pd.concat(problems, ignore_index=True)


def _is_period_like(v) -> bool:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return True
    if isinstance(v, pd.Period):
        return True
    if isinstance(v, (int, np.integer)):
        return 1000 <= int(v) <= 3000
    if isinstance(v, (float, np.floating)):
        return float(v).is_integer() and 1000 <= v <= 3000
    text = str(v).strip()
    if text.isdigit():
        return 1000 <= int(text) <= 3000
    try:
        pd.Period(text)
    except (ValueError, TypeError):
        return False
    return True


def normalize_period(s: pd.Series) -> pd.Series:
    """Turn a period column into int years when every value is a year, else pandas Periods."""
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("int64")
    text = s.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    if text.str.fullmatch(r"\d{4}").all():
        return text.astype("int64")
    return text.map(pd.Period)
