"""Ranked summaries shared by the Excel and HTML reports, each row with a one-line reason."""

from __future__ import annotations

import pandas as pd

__all__ = ["summary_blocks", "assumptions_table", "totals_by_period", "horizon_period"]


def horizon_period(results):
    """Last forecast year (the horizon the summaries speak about)."""
    if results.gaps is not None and len(results.gaps):
        return results.gaps["period"].max()
    if results.openings is not None and len(results.openings):
        return results.openings["period"].max()
    return None


def totals_by_period(results) -> pd.DataFrame:
    """Openings, expansion, replacement, allocated entrants and gap per year (all territories)."""
    op = results.openings
    if op is None or not len(op):
        return pd.DataFrame()
    cols = [
        c
        for c in ("employment", "expansion", "replacement", "turnover", "openings")
        if c in op.columns
    ]
    t = op.groupby("period", as_index=False)[cols].sum()
    g = results.gaps
    if g is not None and len(g):
        gg = g.groupby("period", as_index=False)[["entrants_allocated", "gap"]].sum()
        t = t.merge(gg, on="period", how="left")
    return t


def _opening_reason(row) -> str:
    exp, rep = row.get("expansion", 0.0), row.get("replacement", 0.0)
    total = row.get("openings", 0.0) or 1.0
    if exp > rep:
        return f"growth: net job creation is {exp / total:.0%} of openings"
    return f"retirements: end-of-career departures are {rep / total:.0%} of openings"


def _gap_reason(row) -> str:
    openings = row.get("openings", 0.0)
    alloc = row.get("entrants_allocated", 0.0)
    if openings <= 0:
        return ""
    if alloc <= 0:
        return "too few trainees: no training offer in the catchment supplies it"
    return f"too few trainees: local training covers {alloc / openings:.0%} of openings"


def summary_blocks(results, top_n: int | None = None) -> list[tuple[str, pd.DataFrame]]:
    """Ranked lists for the Summary sheet and the report's first section.

    Returns
    -------
    list of (title, DataFrame)
        Totals per year; largest gaps per territory; occupations with the most openings; fastest
        growing occupations — over the whole horizon, each row with a one-line ``reason``.
    """
    top_n = top_n or int(results.config.get("report", {}).get("top_n", 15))
    blocks: list[tuple[str, pd.DataFrame]] = [("Totals per year", totals_by_period(results))]
    g, op = results.gaps, results.openings
    if g is not None and len(g):
        keys = [c for c in ("territory", "territory_label") if c in g.columns]
        by_terr = g.groupby(keys, as_index=False)[["openings", "entrants_allocated", "gap"]].sum()
        by_terr["gap_share"] = by_terr["gap"] / by_terr["openings"].where(by_terr["openings"] > 0)
        blocks.append(
            (
                "Largest gaps per territory (whole horizon)",
                by_terr.sort_values(["gap", "territory"], ascending=[False, True]).head(top_n),
            )
        )
        okeys = keys + [c for c in ("occupation", "occupation_label") if c in g.columns]
        cell = g.groupby(okeys, as_index=False)[["openings", "entrants_allocated", "gap"]].sum()
        cell = cell.sort_values(["gap"] + okeys, ascending=[False] + [True] * len(okeys))
        cell = cell.head(top_n).copy()
        cell["reason"] = [_gap_reason(r) for r in cell.to_dict("records")]
        blocks.append(("Largest gaps per territory and occupation (whole horizon)", cell))
    if op is not None and len(op):
        keys = [c for c in ("occupation", "occupation_label") if c in op.columns]
        cols = [c for c in ("expansion", "replacement", "openings") if c in op.columns]
        occ = op.groupby(keys, as_index=False)[cols].sum()
        occ = occ.sort_values(["openings", "occupation"], ascending=[False, True]).head(top_n)
        occ["reason"] = [_opening_reason(r) for r in occ.to_dict("records")]
        blocks.append(("Occupations with the most openings (whole horizon)", occ))
        first, last = op["period"].min(), op["period"].max()
        e0 = op[op["period"] == first].groupby(keys)["employment"].sum()
        e1 = op[op["period"] == last].groupby(keys)["employment"].sum()
        exp0 = op[op["period"] == first].groupby(keys)["expansion"].sum()
        start = e0 - exp0  # employment in the last observed year
        growth = pd.DataFrame({"employment_start": start, "employment_end": e1})
        growth = growth[growth["employment_start"] > 0]
        growth["growth"] = growth["employment_end"] / growth["employment_start"] - 1
        growth = (
            growth.reset_index()
            .sort_values(["growth", "occupation"], ascending=[False, True])
            .head(top_n)
        )
        growth["reason"] = [f"growth: {v:+.1%} employment by {last}" for v in growth["growth"]]
        blocks.append(("Fastest growing occupations", growth))
    return blocks


def _flatten(prefix: str, obj, rows: list) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, rows)
    else:
        rows.append((prefix, obj if isinstance(obj, str) else repr(obj)))


def assumptions_table(results) -> pd.DataFrame:
    """Key/value table of the run's configuration, versions, sources, date and seed."""
    rows: list = []
    prov = dict(results.provenance or {})
    if isinstance(prov.get("config"), dict):  # the sources list the files already
        prov["config"] = {k: v for k, v in prov["config"].items() if k != "data"}
    _flatten("", prov, rows)
    return pd.DataFrame(rows, columns=["key", "value"])
