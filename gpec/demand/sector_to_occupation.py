"""Employment by territory x occupation estimated from employment by territory x sector.

Territorial employment series are often published by **sector** (URSSAF: commune x APE, EPCI x
NA38) while openings, training and skills are by **occupation** (FAP, ROME). No public table
gives the occupations of each sector of each EPCI; this module estimates them, openly:

1. **Seed** (:func:`staffing_seed`): a prior sector x occupation structure from the links
   between occupations and NAF divisions published with ROME 4.0 (``arborescence secteur
   NAF``): ``seed(sector, occupation)`` = number of ROME fiches of the occupation linked to the
   sector (through the ROME -> FAP crosswalk weights). A pair with no link is a structural zero.
2. **Iterative proportional fitting** (:func:`ipf`, the RAS method) of that seed to two margins
   of the reference area in one period: the sector totals of the panel (rows) and the
   occupational structure published for a wider area (columns: e.g. census FAP87 x région),
   rescaled to the panel's total.
3. Each territory's employment by occupation = its sector employment x the fitted
   within-sector structure ``P(occupation | sector)``, the same in every territory and every
   year (:func:`sector_to_occupation`).

Assumptions (returned in ``info["assumptions"]``, to be shown with any result): the occupational
structure of a sector is the same in every territory of the area and in every year; the column
margin's structure (all jobs of the wider area: public and self-employed included) stands for
the private salaried jobs of the panel; the ROME-NAF links say which pairs exist, not how many
jobs they hold. Check the estimates wherever an independent figure exists (see
:func:`compare_structure`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from gpec._checks import outside_stacklevel

__all__ = [
    "ipf",
    "staffing_seed",
    "sector_to_occupation",
    "sector_age_pyramids",
    "compare_structure",
    "ASSUMPTIONS",
]

#: The assumptions of the estimate, in words (for a report's Assumptions section).
ASSUMPTIONS = {
    "same_structure": "the occupational structure of a sector is the same in every territory "
    "of the area and in every year (fitted on one period)",
    "margin": "the occupation margin (all jobs of a wider area, public employment and "
    "self-employed included) is taken as the structure of the panel's jobs, rescaled to the "
    "panel's total",
    "seed": "ROME 4.0 occupation - NAF division links give which sector x occupation pairs "
    "exist (seed = number of linked ROME fiches), not their size",
    "method": "iterative proportional fitting (RAS) of the seed to the sector totals and the "
    "occupation margin",
}


def ipf(
    seed: np.ndarray,
    row_totals: np.ndarray,
    col_totals: np.ndarray,
    *,
    max_iter: int = 1000,
    tol: float = 1e-6,
) -> tuple[np.ndarray, dict]:
    """Iterative proportional fitting (RAS) of a non-negative matrix to row and column totals.

    Parameters
    ----------
    seed : ndarray (n_rows, n_cols)
        Prior matrix, >= 0; zeros stay zero (structural zeros).
    row_totals, col_totals : ndarray
        Target margins; the column totals are rescaled to the row totals' sum.
    max_iter : int, default 1000
    tol : float, default 1e-6
        Stop when the largest relative margin error is below ``tol``.

    Returns
    -------
    fitted : ndarray
    info : dict
        ``iterations``, ``converged``, ``max_row_error`` and ``max_col_error`` (relative to the
        margin, over rows / columns the seed can reach), ``unreachable_rows`` /
        ``unreachable_cols`` (indices whose seed is all zero: their margin cannot be met).

    Examples
    --------
    >>> m, info = ipf(np.ones((2, 2)), np.array([3.0, 1.0]), np.array([2.0, 2.0]))
    >>> m.round(3).tolist(), info["converged"]
    ([[1.5, 1.5], [0.5, 0.5]], True)
    """
    m = np.asarray(seed, dtype=float).copy()
    if (m < 0).any() or not np.isfinite(m).all():
        raise ValueError("ipf: the seed must be finite and >= 0")
    r = np.asarray(row_totals, dtype=float)
    c = np.asarray(col_totals, dtype=float)
    if m.shape != (len(r), len(c)):
        raise ValueError(f"ipf: seed {m.shape} does not match margins ({len(r)}, {len(c)})")
    if c.sum() > 0:
        c = c * r.sum() / c.sum()
    rows_ok, cols_ok = m.sum(1) > 0, m.sum(0) > 0
    converged, it = False, 0
    row_err = col_err = np.inf
    for it in range(1, max_iter + 1):  # noqa: B007 - reported
        rs = m.sum(1)
        m *= np.divide(r, rs, out=np.zeros_like(r), where=rs > 0)[:, None]
        cs = m.sum(0)
        m *= np.divide(c, cs, out=np.zeros_like(c), where=cs > 0)[None, :]
        rs, cs = m.sum(1), m.sum(0)
        row_err = _rel_err(rs[rows_ok], r[rows_ok])
        col_err = _rel_err(cs[cols_ok], c[cols_ok])
        if max(row_err, col_err) < tol:
            converged = True
            break
    return m, {
        "iterations": it,
        "converged": converged,
        "max_row_error": float(row_err),
        "max_col_error": float(col_err),
        "unreachable_rows": np.flatnonzero(~rows_ok & (r > 0)).tolist(),
        "unreachable_cols": np.flatnonzero(~cols_ok & (c > 0)).tolist(),
    }


def _rel_err(got: np.ndarray, want: np.ndarray) -> float:
    if not len(want):
        return 0.0
    return float(np.max(np.abs(got - want) / np.maximum(want, 1e-12)))


def staffing_seed(
    naf_links: pd.DataFrame,
    rome_to_occupation: pd.DataFrame,
    *,
    division_to_sector: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Prior sector x occupation weights from ROME - NAF division links.

    Parameters
    ----------
    naf_links : DataFrame
        Columns ``division`` (NAF 2-digit, e.g. ``"43"``) and ``rome`` (one row per link, as in
        ROME 4.0 ``arborescence_secteur_naf``).
    rome_to_occupation : DataFrame
        Columns ``source`` (ROME code), ``target`` (occupation), ``weight`` (a crosswalk;
        weights of one source sum to 1).
    division_to_sector : DataFrame, optional
        Columns ``source`` (division) and ``target`` (sector, e.g. NA38), to sum the divisions
        into coarser sectors (the ``sector_crosswalk`` of :func:`gpec.ingest.read_urssaf`).

    Returns
    -------
    DataFrame
        sector, occupation, weight (> 0 only).

    Examples
    --------
    >>> links = pd.DataFrame({"division": ["43", "43"], "rome": ["F1703", "F1602"]})
    >>> cw = pd.DataFrame({"source": ["F1703", "F1602"], "target": ["B2Z", "B4Z"],
    ...                    "weight": [1.0, 1.0]})
    >>> staffing_seed(links, cw)["weight"].tolist()
    [1.0, 1.0]
    """
    links = naf_links[["division", "rome"]].astype(str).drop_duplicates()
    cw = rome_to_occupation[["source", "target", "weight"]]
    seed = links.merge(cw, left_on="rome", right_on="source", how="inner")
    seed = seed.groupby(["division", "target"], as_index=False)["weight"].sum()
    seed = seed.rename(columns={"division": "sector", "target": "occupation"})
    if division_to_sector is not None:
        d2s = division_to_sector[["source", "target"]].drop_duplicates("source")
        seed = seed.merge(d2s, left_on="sector", right_on="source", how="inner")
        seed = seed.groupby(["target", "occupation"], as_index=False)["weight"].sum()
        seed = seed.rename(columns={"target": "sector"})
    seed = seed[seed["weight"] > 0]
    return seed.sort_values(["sector", "occupation"]).reset_index(drop=True)


def sector_to_occupation(
    employment: pd.DataFrame,
    seed: pd.DataFrame,
    occupation_margin: pd.DataFrame,
    *,
    period: int | None = None,
    max_iter: int = 1000,
    tol: float = 1e-6,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Estimate employment by territory x occupation from employment by territory x sector.

    Parameters
    ----------
    employment : DataFrame
        territory, occupation (the **sector** code), period, value: published cells only
        (unknown cells absent, never 0).
    seed : DataFrame
        sector, occupation, weight (see :func:`staffing_seed`).
    occupation_margin : DataFrame
        occupation, value: the occupational structure of the reference area (its level is
        rescaled to the panel's total in ``period``).
    period : int, optional
        Period of the fit (default: the latest period of ``employment``).
    max_iter, tol
        Passed to :func:`ipf`.

    Returns
    -------
    estimate : DataFrame
        territory, occupation, period, value: every period of ``employment``; jobs of sectors
        the seed cannot place are left out and counted in ``info["unallocated"]``.
    structure : DataFrame
        sector, occupation, share (``P(occupation | sector)``, summing to 1 per sector), jobs
        (fitted jobs of the fit period).
    info : dict
        The :func:`ipf` diagnostics, ``period``, ``unallocated`` (sector -> jobs of the fit
        period without any seed), ``margin_share_unreachable`` (share of the occupation
        margin no sector of the panel can hold), ``margin_above_reachable`` (occupation ->
        ``{"margin", "reachable"}`` in jobs of the fit period, for the occupations whose
        rescaled margin exceeds all the jobs of the sectors linked to them: they take every
        job of those sectors) and ``assumptions``.

    Examples
    --------
    >>> emp = pd.DataFrame({"territory": ["a", "a", "b"], "occupation": ["FZ", "GZ", "FZ"],
    ...                     "period": 2019, "value": [60.0, 40.0, 100.0]})
    >>> seed = pd.DataFrame({"sector": ["FZ", "FZ", "GZ"], "occupation": ["B2Z", "L0Z", "R1Z"],
    ...                      "weight": 1.0})
    >>> margin = pd.DataFrame({"occupation": ["B2Z", "L0Z", "R1Z"], "value": [5, 3, 2]})
    >>> est, structure, info = sector_to_occupation(emp, seed, margin)
    >>> est.groupby("occupation")["value"].sum().round(1).to_dict()
    {'B2Z': 100.0, 'L0Z': 60.0, 'R1Z': 40.0}
    >>> est["value"].sum() == emp["value"].sum()  # the sector totals are kept
    np.True_
    """
    emp = employment[["territory", "occupation", "period", "value"]]
    emp = emp[emp["value"].notna()]
    period = int(emp["period"].max()) if period is None else int(period)
    base = emp[emp["period"] == period]
    if not len(base):
        raise ValueError(f"sector_to_occupation: no employment in period {period}")
    rows = base.groupby("occupation")["value"].sum()
    rows = rows[rows > 0]
    sectors = rows.index.tolist()
    sd = seed[seed["sector"].isin(sectors) & (seed["weight"] > 0)]
    margin = occupation_margin.groupby("occupation")["value"].sum()
    margin = margin[margin > 0]
    occs = sorted(set(margin.index))
    reachable = sorted(set(sd["occupation"]) & set(occs))
    lost_share = float(margin.drop(reachable).sum() / margin.sum()) if len(margin) else 1.0
    mat = (
        sd[sd["occupation"].isin(reachable)]
        .pivot_table(index="sector", columns="occupation", values="weight", aggfunc="sum")
        .reindex(index=sectors, columns=reachable)
        .fillna(0.0)
    )
    fitted, info = ipf(
        mat.to_numpy(),
        rows.reindex(sectors).to_numpy(),
        margin.reindex(reachable).to_numpy(),
        max_iter=max_iter,
        tol=tol,
    )
    # the sector totals are the observed data: end on a row scaling so that the estimate adds
    # up to them exactly; the occupation margin is then met only approximately (reported)
    rs = fitted.sum(axis=1)
    target = rows.reindex(sectors).to_numpy()
    fitted = fitted * np.divide(target, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
    col_target = margin.reindex(reachable).to_numpy()
    col_target = col_target * fitted.sum() / col_target.sum()
    info["col_error_after_row_scaling"] = _rel_err(fitted.sum(axis=0), col_target)
    # an occupation whose margin exceeds every job of the sectors linked to it takes all of
    # them (share 1): say so, with both figures
    reach = (mat.to_numpy() > 0).T.astype(float) @ target
    above = np.flatnonzero(col_target > reach * (1 + 1e-9))
    info["margin_above_reachable"] = {
        str(reachable[j]): {"margin": float(col_target[j]), "reachable": float(reach[j])}
        for j in above
    }
    fit = pd.DataFrame(fitted, index=sectors, columns=reachable)
    tot = fit.sum(axis=1)
    unallocated = rows[tot.reindex(rows.index).fillna(0) <= 0]
    share = fit.div(tot.where(tot > 0), axis=0).dropna(how="all")
    structure = share.stack().rename("share").reset_index()
    structure.columns = ["sector", "occupation", "share"]
    structure = structure[structure["share"] > 0].reset_index(drop=True)
    structure["jobs"] = structure["share"] * structure["sector"].map(rows)
    est = emp.merge(
        structure[["sector", "occupation", "share"]].rename(
            columns={"occupation": "target", "sector": "occupation"}
        ),
        on="occupation",
        how="inner",
    )
    est["value"] = est["value"] * est["share"]
    est = (
        est.groupby(["territory", "target", "period"], as_index=False)["value"]
        .sum()
        .rename(columns={"target": "occupation"})
        .sort_values(["territory", "occupation", "period"])
        .reset_index(drop=True)
    )
    info.update(
        period=period,
        unallocated={str(k): float(v) for k, v in unallocated.items()},
        margin_share_unreachable=lost_share,
        assumptions=dict(ASSUMPTIONS),
    )
    return est, structure, info


def sector_age_pyramids(
    structure: pd.DataFrame, workforce_age: pd.DataFrame, *, territory: str = "FR"
) -> pd.DataFrame:
    """Age pyramid of each sector as the mix of its occupations' pyramids.

    ``pyramid(sector) = Σ_occupation P(occupation | sector) x age shares(occupation)``, in jobs of
    the fit period (``structure.jobs``).

    Parameters
    ----------
    structure : DataFrame
        sector, occupation, share, jobs (from :func:`sector_to_occupation`).
    workforce_age : DataFrame
        occupation, age_band, value (summed over territories when there are several).
    territory : str, default "FR"
        Territory code written in the output.

    Returns
    -------
    DataFrame
        territory, occupation (the sector), age_band, value.

    Warns
    -----
    UserWarning
        Naming the occupations of ``structure`` without a pyramid (or with one of zero
        jobs), whose jobs are left out of their sectors' pyramids.

    Examples
    --------
    Sector 62 holds 75 jobs of occupation A (a quarter under 30) and 25 of B (all under 30):
    75 / 4 + 25 = 43.75 jobs under 30 and 75 x 3 / 4 = 56.25 over.

    >>> structure = pd.DataFrame({"sector": ["62", "62"], "occupation": ["A", "B"],
    ...                           "share": [0.75, 0.25], "jobs": [75.0, 25.0]})
    >>> ages = pd.DataFrame({"occupation": ["A", "A", "B"],
    ...                      "age_band": ["15-29", "30+", "15-29"], "value": [10.0, 30.0, 8.0]})
    >>> sector_age_pyramids(structure, ages).values.tolist()
    [['FR', '62', '15-29', 43.75], ['FR', '62', '30+', 56.25]]
    """
    age = workforce_age.groupby(["occupation", "age_band"], as_index=False)["value"].sum()
    total = age.groupby("occupation")["value"].transform("sum")
    age = age[total > 0]
    age["age_share"] = age["value"] / total[total > 0]
    no_ages = structure[~structure["occupation"].isin(set(age["occupation"]))]
    if no_ages["jobs"].sum() > 0:
        lost = no_ages.groupby("occupation")["jobs"].sum()
        lost = lost[lost > 0]
        warnings.warn(
            f"sector_age_pyramids: no age pyramid (or one of zero jobs) for occupation(s) "
            f"{sorted(map(str, lost.index))}: their {lost.sum():,.6g} of "
            f"{structure['jobs'].sum():,.6g} jobs are left out of the sector pyramids",
            stacklevel=outside_stacklevel(),
        )
    mix = structure.merge(age[["occupation", "age_band", "age_share"]], on="occupation")
    mix["value"] = mix["jobs"] * mix["age_share"]
    out = mix.groupby(["sector", "age_band"], as_index=False)["value"].sum()
    out = out.rename(columns={"sector": "occupation"})
    out.insert(0, "territory", territory)
    return out


def compare_structure(
    estimate: pd.DataFrame,
    published: pd.DataFrame,
    *,
    key: str = "occupation",
    common_only: bool = True,
) -> tuple[pd.DataFrame, float]:
    """Shares of an estimated and a published structure side by side, with their differences.

    Parameters
    ----------
    estimate, published : DataFrame
        ``key`` and value columns (summed by ``key``).
    key : str, default "occupation"
        Column of the codes compared.
    common_only : bool, default True
        Compare the shares within the codes the published table gives (> 0) only: a source
        that leaves some codes out (DARES tension tables omit most public-sector FAP) is then
        compared on what it covers.

    Returns
    -------
    table : DataFrame
        key, estimate, published (jobs), estimate_share, published_share, difference
        (percentage points), sorted by the absolute difference, largest first.
    dissimilarity : float
        Half the sum of the absolute share differences (0: same structure, 1: disjoint).

    Examples
    --------
    Shares 50/30/20 % against 20/40/40 %: differences +30, -10 and -20 points,
    dissimilarity (30 + 10 + 20) / 2 = 30 %. The 100 jobs of D, which the published table
    leaves out, count only with ``common_only=False``.

    >>> est = pd.DataFrame({"occupation": ["A", "B", "C", "D"], "value": [50, 30, 20, 100]})
    >>> pub = pd.DataFrame({"occupation": ["A", "B", "C"], "value": [20, 40, 40]})
    >>> table, dis = compare_structure(est, pub)
    >>> table["occupation"].tolist(), table["difference"].round(6).tolist(), round(dis, 6)
    (['A', 'C', 'B'], [30.0, -20.0, -10.0], 0.3)
    >>> round(compare_structure(est, pub, common_only=False)[1], 6)  # (5 + 25 + 30 + 50) / 200
    0.55
    """
    a = estimate.groupby(key)["value"].sum()
    b = published.groupby(key)["value"].sum()
    t = pd.concat({"estimate": a, "published": b}, axis=1).fillna(0.0)
    if common_only:
        t = t[t["published"] > 0]
    t["estimate_share"] = t["estimate"] / t["estimate"].sum()
    t["published_share"] = t["published"] / t["published"].sum()
    t["difference"] = 100 * (t["estimate_share"] - t["published_share"])
    dis = 0.5 * float((t["estimate_share"] - t["published_share"]).abs().sum())
    t = t.reindex(t["difference"].abs().sort_values(ascending=False).index)
    return t.reset_index().rename(columns={"index": key}), dis
