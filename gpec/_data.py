"""The :class:`GpecData` bundle: the canonical tables of one study, validated together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from gpec._schema import (
    REJECTION_COLUMNS,
    TABLES,
    ValidationError,
    check_table,
    coerce_table,
    normalize_period,
)

__all__ = ["GpecData"]

# (table, column) -> (referenced table, referenced key column)
REFERENCES: list[tuple[str, str, str, str]] = [
    ("territories", "parent", "territories", "territory"),
    ("occupation_skills", "occupation", "occupations", "occupation"),
    ("occupation_skills", "skill", "skills", "skill"),
    ("employment", "territory", "territories", "territory"),
    ("employment", "occupation", "occupations", "occupation"),
    ("workforce_age", "territory", "territories", "territory"),
    ("workforce_age", "occupation", "occupations", "occupation"),
    ("hiring_intentions", "territory", "territories", "territory"),
    ("hiring_intentions", "occupation", "occupations", "occupation"),
    ("training_offers", "site", "territories", "territory"),
]


def _empty_report() -> pd.DataFrame:
    return pd.DataFrame(columns=REJECTION_COLUMNS)


class GpecData:
    """Bundle of the canonical gpec tables of one study.

    Parameters
    ----------
    territories, occupations, skills, occupation_skills, crosswalks, employment, workforce_age, \
hiring_intentions, training_offers : DataFrame, optional
        Canonical tables (DESIGN §3). The index of each table is reported as the row number in
        validation messages; :func:`gpec.ingest.read_table` sets it to the row as numbered in
        the file (header = row 1).
    sources : dict, optional
        Table name -> file the table was read from, named in error messages.
    rejected : DataFrame, optional
        Rows already rejected by a reader (table, file, row, column, value, reason).
    meta : dict, optional
        Free metadata: referential versions, encodings, separators, parameters.
    extra : dict, optional
        Non-canonical tables (ROME appellations, mobility links, texts...).

    Examples
    --------
    >>> import pandas as pd
    >>> from gpec import GpecData
    >>> terr = pd.DataFrame({"territory": ["FR", "28"], "label": ["France", "Normandie"],
    ...                      "level": ["nation", "region"], "parent": [None, "FR"]})
    >>> data = GpecData(territories=terr).validate()
    >>> sorted(data.tables)
    ['territories']
    """

    TABLE_NAMES = tuple(TABLES)

    def __init__(
        self,
        territories: pd.DataFrame | None = None,
        occupations: pd.DataFrame | None = None,
        skills: pd.DataFrame | None = None,
        occupation_skills: pd.DataFrame | None = None,
        crosswalks: pd.DataFrame | None = None,
        employment: pd.DataFrame | None = None,
        workforce_age: pd.DataFrame | None = None,
        hiring_intentions: pd.DataFrame | None = None,
        training_offers: pd.DataFrame | None = None,
        *,
        sources: Mapping[str, str] | None = None,
        rejected: pd.DataFrame | None = None,
        meta: Mapping[str, Any] | None = None,
        extra: Mapping[str, pd.DataFrame] | None = None,
    ):
        self.territories = territories
        self.occupations = occupations
        self.skills = skills
        self.occupation_skills = occupation_skills
        self.crosswalks = crosswalks
        self.employment = employment
        self.workforce_age = workforce_age
        self.hiring_intentions = hiring_intentions
        self.training_offers = training_offers
        self.sources = dict(sources or {})
        self.rejected = rejected if rejected is not None else _empty_report()
        self.meta = dict(meta or {})
        self.extra = dict(extra or {})

    # ------------------------------------------------------------------ access
    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Canonical tables present in the bundle, by name."""
        return {n: getattr(self, n) for n in self.TABLE_NAMES if getattr(self, n) is not None}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in self.TABLE_NAMES:
            table = getattr(self, name)
        else:
            table = self.extra.get(name)
        if table is None:
            raise KeyError(f"no table {name!r} in this GpecData")
        return table

    def __repr__(self) -> str:
        parts = [f"{n}={len(t)} rows" for n, t in self.tables.items()]
        if len(self.rejected):
            parts.append(f"rejected={len(self.rejected)}")
        return "GpecData(" + ", ".join(parts) + ")"

    def replace(self, **tables: pd.DataFrame | None) -> GpecData:
        """Return a new bundle with some tables replaced (the others shared)."""
        kwargs = {n: getattr(self, n) for n in self.TABLE_NAMES}
        kwargs.update(tables)
        return GpecData(
            **kwargs, sources=self.sources, rejected=self.rejected, meta=self.meta, extra=self.extra
        )

    def merge(self, other: GpecData) -> GpecData:
        """Combine two bundles; tables present in both are concatenated (keys must not clash)."""
        kwargs: dict[str, pd.DataFrame | None] = {}
        for n in self.TABLE_NAMES:
            a, b = getattr(self, n), getattr(other, n)
            kwargs[n] = a if b is None else b if a is None else pd.concat([a, b])
        rejected = pd.concat(
            [r for r in (self.rejected, other.rejected) if len(r)] or [_empty_report()],
            ignore_index=True,
        )
        return GpecData(
            **kwargs,
            sources={**self.sources, **other.sources},
            rejected=rejected,
            meta={**self.meta, **other.meta},
            extra={**self.extra, **other.extra},
        )

    # -------------------------------------------------------------- validation
    def _file(self, name: str) -> str:
        return str(self.sources.get(name, ""))

    def check(self) -> pd.DataFrame:
        """Return every problem found in the bundle, without changing it.

        Returns
        -------
        DataFrame
            Columns table, file, row, column, value, reason; empty when the data is clean.
        """
        return self._validate()[1]

    def validate(self, strict: bool = True):
        """Validate every table and the references between tables.

        Parameters
        ----------
        strict : bool, default True
            If True, raise :class:`gpec.ValidationError` on the first problem (the message names
            the table, file, row and column; the exception's ``report`` lists all problems).
            If False, drop the offending rows and return them in a rejection report.

        Returns
        -------
        GpecData or (GpecData, DataFrame)
            The clean bundle (codes as strings, periods as int years or Periods, numbers as
            floats); with ``strict=False`` also the rejection table
            (table, file, row, column, value, reason), which includes rows rejected earlier by
            readers.
        """
        clean, report, warnings = self._validate()
        if strict and len(report):
            first = report.iloc[0]
            where = f" ({first['file']})" if first["file"] else ""
            msg = (
                f"table {first['table']}{where}, row {first['row']}, column "
                f"{first['column']}: {first['reason']}"
            )
            if first["value"] != "":
                msg += f" (value {first['value']!r})"
            if len(report) > 1:
                msg += f"; and {len(report) - 1} more problem(s)"
            raise ValidationError(msg, report)
        clean.meta["warnings"] = warnings
        all_rejected = pd.concat(
            [r for r in (self.rejected, report) if len(r)] or [_empty_report()], ignore_index=True
        )
        clean.rejected = all_rejected
        if strict:
            return clean
        return clean, all_rejected

    def _validate(self) -> tuple[GpecData, pd.DataFrame, pd.DataFrame]:
        problems: list[pd.DataFrame] = []
        clean: dict[str, pd.DataFrame] = {}
        for name, table in self.tables.items():
            spec = TABLES[name]
            table = coerce_table(table, spec)
            rep = check_table(table, spec, self._file(name))
            if len(rep):
                problems.append(rep)
                if (rep["row"] == "header").any():
                    # A required column is missing: the whole table is unusable.
                    clean[name] = table.iloc[0:0]
                    continue
                bad = set(rep["row"])
                table = table[~table.index.isin(bad)]
            clean[name] = self._cast(table, spec)

        # references between tables
        for name, col, ref, ref_col in REFERENCES:
            if name not in clean or ref not in clean or col not in clean[name].columns:
                continue
            table = clean[name]
            known = set(clean[ref][ref_col])
            values = table[col]
            unknown = values.notna() & ~values.isin(known)
            if name == "territories" and col == "parent":
                unknown &= values.astype(str).str.strip().ne("")
            if unknown.any():
                problems.append(
                    pd.DataFrame(
                        {
                            "table": name,
                            "file": self._file(name),
                            "row": list(table.index[unknown]),
                            "column": col,
                            "value": values[unknown].astype(str).tolist(),
                            "reason": f"unknown {ref_col} (not in table {ref})",
                        },
                        columns=REJECTION_COLUMNS,
                    )
                )
                clean[name] = table[~unknown.to_numpy()]

        # crosswalk weights of one source must sum to 1
        cw = clean.get("crosswalks")
        if cw is not None and len(cw):
            keys = ["source_system", "source", "target_system"]
            sums = cw.groupby(keys)["weight"].transform("sum")
            bad = ~np.isclose(sums.to_numpy(dtype=float), 1.0, atol=1e-6)
            if bad.any():
                problems.append(
                    pd.DataFrame(
                        {
                            "table": "crosswalks",
                            "file": self._file("crosswalks"),
                            "row": list(cw.index[bad]),
                            "column": "weight",
                            "value": [f"{v:g}" for v in sums[bad]],
                            "reason": "weights of this source do not sum to 1",
                        },
                        columns=REJECTION_COLUMNS,
                    )
                )
                clean["crosswalks"] = cw[~bad]

        warnings = self._series_gaps(clean.get("employment"))
        report = pd.concat(problems, ignore_index=True) if problems else _empty_report()
        out = GpecData(**clean, sources=self.sources, meta=self.meta, extra=self.extra)
        return out, report, warnings

    @staticmethod
    def _cast(table: pd.DataFrame, spec) -> pd.DataFrame:
        table = table.copy()
        for col, kind in spec.columns.items():
            if col not in table.columns:
                continue
            if kind in ("count", "float", "rate", "lat", "lon"):
                table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
            elif kind == "period" and len(table):
                table[col] = normalize_period(table[col])
        return table

    @staticmethod
    def _series_gaps(emp: pd.DataFrame | None) -> pd.DataFrame:
        """Report series with missing periods between their first and last (a warning)."""
        cols = ["territory", "occupation", "missing_periods"]
        if emp is None or not len(emp) or not pd.api.types.is_integer_dtype(emp["period"]):
            return pd.DataFrame(columns=cols)
        g = emp.groupby(["territory", "occupation"], sort=True)["period"]
        stats = g.agg(["min", "max", "nunique"])
        gaps = stats[(stats["max"] - stats["min"] + 1) > stats["nunique"]]
        if not len(gaps):
            return pd.DataFrame(columns=cols)
        out = []
        for (t, o), row in gaps.iterrows():
            have = set(emp.loc[(emp["territory"] == t) & (emp["occupation"] == o), "period"])
            missing = [p for p in range(row["min"], row["max"] + 1) if p not in have]
            out.append((t, o, ";".join(map(str, missing))))
        return pd.DataFrame(out, columns=cols)
