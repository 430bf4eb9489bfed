"""The :class:`GpecData` bundle: the canonical tables of one study, validated together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from gpec._checks import require_frame
from gpec._plausibility import FINDING_COLUMNS, PlausibilityRules, check_plausibility
from gpec._schema import (
    REJECTION_COLUMNS,
    TABLES,
    ValidationError,
    check_table,
    coerce_table,
    format_report,
    normalize_period,
    to_number,
)

__all__ = ["GpecData", "meta_to_toml"]

#: Tables that must hold at least one data row when they are given (the pipeline needs them).
NON_EMPTY = ("territories", "occupations", "employment")

#: Problems named in the message of a strict validation failure.
_SHOWN_IN_ERROR = 3

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
        Canonical tables (see docs/architecture.md). The index of each table is reported as the row number in
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
        for name in self.TABLE_NAMES:
            if (table := getattr(self, name)) is not None:
                require_frame(table, name, advice=True)
        self.sources = dict(sources or {})
        self.rejected = rejected if rejected is not None else _empty_report()
        self.meta = dict(meta or {})
        self.extra = dict(extra or {})
        #: Plausibility warnings of the last validation (rows kept; see :meth:`validate`).
        self.warnings = pd.DataFrame(columns=FINDING_COLUMNS)

    # ------------------------------------------------------------------ access
    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Canonical tables present in the bundle, by name."""
        return {n: getattr(self, n) for n in self.TABLE_NAMES if getattr(self, n) is not None}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if not isinstance(name, str):
            raise TypeError(
                f"GpecData[...] takes a table name such as 'employment', got {name!r}; "
                f"the tables are {list(self.tables)}"
            )
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
        out = GpecData(
            **kwargs, sources=self.sources, rejected=self.rejected, meta=self.meta, extra=self.extra
        )
        out.warnings = self.warnings
        return out

    def merge(self, other: GpecData) -> GpecData:
        """Combine two bundles; tables present in both are concatenated (keys must not clash).

        The metadata of each bundle is kept whole in ``meta["inputs"]``, keyed by the tables
        the bundle gives (``"employment"``, ``"occupations+skills+occupation_skills"``...).
        The top level keeps the keys on which the inputs agree (or that only one gives), so
        that one reader's ``meta["row_accounting"]`` is never mistaken for another's.
        """
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
            meta=_merge_meta(self, other),
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

    def validate(
        self,
        strict: bool = True,
        *,
        plausibility: PlausibilityRules | dict | bool | None = None,
        warnings_as_errors: bool = False,
    ):
        """Validate every table, the references between tables and the plausibility of the data.

        Parameters
        ----------
        strict : bool, default True
            If True, raise :class:`gpec.ValidationError` when any row is rejected, by this
            validation or earlier by a reader (``self.rejected``): the one-line message names
            the first problems (table, file, row, column, value, reason) and their count; the
            exception's ``report`` lists them all. If False, drop the offending rows and list
            them in the returned bundle's ``rejected`` table.
        plausibility : PlausibilityRules, dict or bool, optional
            Thresholds of the plausibility checks (:class:`gpec._plausibility.PlausibilityRules`:
            years outside a window or far from the others, stale series and holes, values
            implausible for their series, jumping totals, age pyramids and seats that disagree
            with employment); a dict of its fields; False switches them off. Their errors are
            rejected rows like the others; their warnings are kept in ``.warnings`` of the
            returned bundle.
        warnings_as_errors : bool, default False
            Treat plausibility warnings as rejected rows (the CLI's ``--strict``).

        Returns
        -------
        GpecData
            The clean bundle (codes as strings, periods as int years or Periods, numbers as
            floats), with its ``warnings`` table (columns table, file, row, column, value,
            reason, check, severity) and, in ``rejected``, every row left out (table, file,
            row, column, value, reason), those rejected earlier by readers included. The same
            type whatever ``strict`` is.

        Examples
        --------
        >>> import pandas as pd
        >>> from gpec import GpecData
        >>> terr = pd.DataFrame({"territory": ["T"], "label": ["T"], "level": ["epci"]})
        >>> occ = pd.DataFrame({"occupation": ["O"], "label": ["O"]})
        >>> emp = pd.DataFrame({"territory": "T", "occupation": "O",
        ...                     "period": [2020, 2021, 2022, 2042], "value": 10.0})
        >>> clean = GpecData(terr, occ, employment=emp).validate(strict=False)
        >>> clean.rejected[["row", "value"]].values.tolist()
        [[3, '2042']]
        """
        if plausibility is None or plausibility is True:
            rules = PlausibilityRules()
        elif plausibility is False:
            rules = PlausibilityRules(enabled=False)
        elif isinstance(plausibility, PlausibilityRules):
            rules = plausibility
        else:
            rules = PlausibilityRules.from_mapping(dict(plausibility))
        clean, report, warnings = self._validate(rules)
        found = clean.warnings
        if warnings_as_errors and len(found):
            report = pd.concat(
                [r for r in (report, found[REJECTION_COLUMNS]) if len(r)], ignore_index=True
            )
            clean = clean.replace(
                **{
                    name: t[~t.index.isin(set(found.loc[found["table"] == name, "row"]))]
                    for name, t in clean.tables.items()
                    if (found["table"] == name).any()
                }
            )
            clean.warnings = found.iloc[0:0]
        all_rejected = pd.concat(
            [r for r in (self.rejected, report) if len(r)] or [_empty_report()], ignore_index=True
        )
        if strict and len(all_rejected):
            from gpec._hints import code_hints

            hints = code_hints(all_rejected, self)
            raise ValidationError(_strict_message(all_rejected), all_rejected, hints)
        clean.meta["warnings"] = warnings
        clean.rejected = all_rejected
        return clean

    def _validate(
        self, rules: PlausibilityRules | None = None
    ) -> tuple[GpecData, pd.DataFrame, pd.DataFrame]:
        problems: list[pd.DataFrame] = []
        clean: dict[str, pd.DataFrame] = {}
        unusable: dict[str, str] = {}  # table -> why it failed as a whole
        for name, table in self.tables.items():
            if table is not None:
                require_frame(table, name, advice=True)
            spec = TABLES[name]
            table = coerce_table(table, spec)
            rep = check_table(table, spec, self._file(name))
            if len(rep):
                problems.append(rep)
                if (rep["row"] == "header").any():
                    # A required column is missing: the whole table is unusable.
                    clean[name] = table.iloc[0:0]
                    unusable[name] = "a required column is missing"
                    continue
                bad = set(rep["row"])
                table = table[~table.index.isin(bad)]
                if not len(table):
                    unusable[name] = "none of its rows is usable"
            elif not len(table):
                unusable[name] = "it has no data rows"
                if name in NON_EMPTY:
                    problems.append(
                        pd.DataFrame(
                            [[name, self._file(name), "-", "-", "", "the table has no data rows"]],
                            columns=REJECTION_COLUMNS,
                        )
                    )
            clean[name] = self._cast(table, spec)

        # references between tables; none against a table that failed as a whole (its rows
        # are reported already: one note instead of one 'unknown' per dependent row)
        skipped: dict[str, list[str]] = {}
        for name, col, ref, ref_col in REFERENCES:
            if name not in clean or ref not in clean or col not in clean[name].columns:
                continue
            if ref in unusable:
                if name != ref:
                    skipped.setdefault(ref, []).append(f"{name}.{col}")
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
        for ref, uses in skipped.items():
            problems.append(
                pd.DataFrame(
                    [
                        [
                            ref,
                            self._file(ref),
                            "-",
                            "-",
                            "",
                            f"references to this table not checked ({', '.join(uses)}): "
                            f"{unusable[ref]}",
                        ]
                    ],
                    columns=REJECTION_COLUMNS,
                )
            )

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

        # plausibility: errors are rejected rows, warnings keep their rows
        found = check_plausibility(clean, self.sources, rules)
        errors = found[found["severity"] == "error"]
        for name in dict.fromkeys(errors["table"]):
            rows = set(errors.loc[errors["table"] == name, "row"])
            clean[name] = clean[name][~clean[name].index.isin(rows)]
        if len(errors):
            problems.append(errors[REJECTION_COLUMNS])
        warnings = self._series_gaps(clean.get("employment"))
        report = pd.concat(problems, ignore_index=True) if problems else _empty_report()
        out = GpecData(**clean, sources=self.sources, meta=self.meta, extra=self.extra)
        out.warnings = found[found["severity"] == "warning"].reset_index(drop=True)
        return out, report, warnings

    @staticmethod
    def _cast(table: pd.DataFrame, spec) -> pd.DataFrame:
        table = table.copy()
        for col, kind in spec.columns.items():
            if col not in table.columns:
                continue
            if kind in ("count", "float", "rate", "lat", "lon"):
                table[col] = to_number(table[col])
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
        keys = ["territory", "occupation"]
        # one pass over the rows of the gappy series (not one scan of the table per series)
        rows = emp[keys + ["period"]].merge(gaps.reset_index()[keys], on=keys)
        out = []
        for (t, o), periods in rows.groupby(keys, sort=True)["period"]:
            have = set(periods)
            missing = [p for p in range(min(have), max(have) + 1) if p not in have]
            out.append((t, o, ";".join(map(str, missing))))
        return pd.DataFrame(out, columns=cols)


# ----------------------------------------------------------------------------- helpers
def _strict_message(report: pd.DataFrame) -> str:
    """One line naming the first problems, their count and the way to go on without them."""
    n = len(report)
    # rows of one value and one problem on one line ("rows 2-1091 (1090 rows) ... value '8105'")
    lines = format_report(report, max_per_reason=_SHOWN_IN_ERROR)
    msg = "; ".join(lines[:_SHOWN_IN_ERROR])
    if len(lines) > _SHOWN_IN_ERROR:
        msg += "; and more"
    return (
        f"{msg} [{n} problem(s) in all; to go on without the rejected rows (then listed in "
        "rejected.csv), use --lenient, or strict=False in Python]"
    )


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # DataFrames, arrays: never equal here
        return False


def _meta_key(data: GpecData) -> str:
    names = list(data.tables) or sorted(data.extra) or sorted(set(map(str, data.sources.values())))
    return "+".join(names) or "meta"


def _meta_inputs(data: GpecData) -> dict[str, dict]:
    """The per-input metadata of a bundle: its own ``meta`` unless it already holds inputs."""
    if "inputs" in data.meta:
        return dict(data.meta["inputs"])
    own = dict(data.meta)
    return {_meta_key(data): own} if own else {}


def _merge_meta(a: GpecData, b: GpecData) -> dict[str, Any]:
    """Metadata of ``a.merge(b)``: every input whole under "inputs", agreed keys at the top."""
    ia, ib = _meta_inputs(a), _meta_inputs(b)
    inputs = dict(ia)
    for key, meta in ib.items():
        k, i = key, 2
        while k in inputs:
            k, i = f"{key} ({i})", i + 1
        inputs[k] = meta
    top: dict[str, Any] = {}
    clash: set[str] = set()
    for meta in inputs.values():
        for k, v in meta.items():
            if k in clash:
                continue
            if k not in top:
                top[k] = v
            elif not _same(top[k], v):
                clash.add(k)
                del top[k]
    # keys set on a merged bundle itself (harmonised, warnings...): the second bundle wins
    for data, ins in ((a, ia), (b, ib)):
        top.update(
            {
                k: v
                for k, v in data.meta.items()
                if k != "inputs" and not any(k in m for m in ins.values())
            }
        )
    if inputs:
        top["inputs"] = inputs
    return top


def meta_to_toml(meta: Mapping[str, Any], *, max_items: int | None = 1000) -> dict[str, Any]:
    """Return ``meta`` as nested plain values that TOML can hold (for ``provenance.toml``).

    Dicts stay tables (keys as strings), lists/tuples/sets become arrays, numpy scalars become
    Python numbers, None is left out (TOML has no null), DataFrames become a short summary
    (``{"rows": n, "columns": [...]}``) and anything else its string. A dict or list longer
    than ``max_items`` (a commune -> parent mapping...) becomes ``{"entries": n}``. Top-level
    keys that only repeat an input's key (see :meth:`GpecData.merge`) are written once, under
    ``inputs``.

    Examples
    --------
    >>> import numpy as np
    >>> meta_to_toml({"inputs": {"employment": {"moving_average": np.int64(3), "unit": None}}})
    {'inputs': {'employment': {'moving_average': 3}}}
    """
    inputs = meta.get("inputs")
    inputs = list(inputs.values()) if isinstance(inputs, Mapping) else []

    def repeated(k, x) -> bool:
        return any(isinstance(m, Mapping) and k in m and _same(m[k], x) for m in inputs)

    return {
        str(k): _toml_value(x, max_items)
        for k, x in meta.items()
        if x is not None and (k == "inputs" or not repeated(k, x))
    }


def _toml_value(v: Any, max_items: int | None) -> Any:
    if isinstance(v, (Mapping, pd.Series, list, tuple, set, frozenset)):
        if max_items is not None and len(v) > max_items:
            return {"entries": len(v)}
    if isinstance(v, Mapping):
        return {str(k): _toml_value(x, max_items) for k, x in v.items() if x is not None}
    if isinstance(v, pd.DataFrame):
        return {"rows": len(v), "columns": [str(c) for c in v.columns]}
    if isinstance(v, pd.Series):
        v = v.tolist()
    if isinstance(v, (list, tuple, set, frozenset)):
        items = sorted(v, key=str) if isinstance(v, (set, frozenset)) else list(v)
        return [_toml_value(x, max_items) if x is not None else "" for x in items]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if np.isfinite(f) else str(f)
    if isinstance(v, str):
        return v
    return str(v)
