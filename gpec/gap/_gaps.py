"""Skill gaps and reconversion paths, from the gaps the allocation leaves.

The gap stage has three steps, each a tidy table in and out (:func:`allocate` lives in
:mod:`gpec.gap._allocation`, the two others here):

* :func:`allocate` sends the yearly qualified entrants of each training offer to the openings of the
  occupations it prepares for, in the territories of the offer site's catchment, nearer first
  (an exact min-cost flow solved with HiGHS), and returns the gap per territory x occupation x
  period, the flows and the surplus of each offer;
* :func:`skill_gaps` carries the openings, the allocated entrants and the gap to skills through the
  occupation -> skill weights;
* :func:`transitions` proposes reconversion paths: for an occupation in gap, the occupations of the
  same territory that lose jobs and share most skills with it, with the skills still to acquire.

Conventions
-----------
* Allocation objective, lexicographic and exact: (1) the most entrants placed; (2) among those
  placements, the least total distance (entrants x km, compared to the metre); (3) among equally
  near placements, territories in code order. Levels (1)-(2) make the result a min-cost maximum
  flow; level (3) makes the entrants allocated to each territory x occupation unique, which is what
  guarantees that adding entrants never raises a gap. One HiGHS solve per block of occupations x
  period gives all three levels at once (see :func:`gpec.gap._allocation.solve_transport`).
* A site only serves the territories its catchment lists; unmapped offers (no occupation) and
  entrants that no opening within reach can take stay in ``surplus``.
* ``gap = openings - entrants_allocated`` with ``0 <= gap <= openings``; negative openings (net job
  losses larger than the departures) are demand of 0: nothing can be allocated to them.
* ``gap_share = gap / openings``: the *déséquilibre potentiel* of France Stratégie - Dares,
  *Les métiers en 2030* (postes à pourvoir minus jeunes débutants, as a share of the postes à
  pourvoir). It is NaN where openings are 0 (no need, no share).
* ``gap_lower = max(0, lower - entrants_allocated)`` and ``gap_upper = max(0, upper -
  entrants_allocated)``: the demand interval of the forecast carried through with the central
  allocation held fixed, so ``gap_lower <= gap <= gap_upper`` always holds (re-solving at the
  bounds would not keep that order cell by cell).
* With a supply interval (``entrants_low``, ``entrants_high`` from
  :func:`gpec.supply.entrants_interval`: ranges of the completion and placement rates that took
  their default), the allocation is also solved with the low and the high entrants; as fewer
  entrants never lower any gap and more never raise one, ``entrants_allocated_low <=
  entrants_allocated <= entrants_allocated_high`` in every cell, and ``gap_lower = max(0, lower -
  entrants_allocated_high)``, ``gap_upper = max(0, upper - entrants_allocated_low)``: both
  uncertainties at once, the order still guaranteed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gpec._checks import (
    as_codes,
    check_unique,
    fail_rows,
    numeric_column,
    outside_stacklevel,
    require_columns,
)
from gpec.exceptions import ValidationError
from gpec.gap._allocation import Allocation

__all__ = ["skill_gaps", "transitions", "weighted_jaccard"]


TRANSITIONS_COLUMNS = [
    "territory", "occupation", "from_occupation", "overlap", "mobility_link", "score", "rank",
    "jobs_lost", "gap", "skills_to_acquire", "n_skills_to_acquire",
]  # fmt: skip

# ---------------------------------------------------------------------------------------------
# skill gaps


def _prepare_occupation_skills(occupation_skills: pd.DataFrame) -> pd.DataFrame:
    require_columns(occupation_skills, "occupation_skills", ["occupation", "skill"])
    os_ = pd.DataFrame(
        {
            "occupation": as_codes(occupation_skills["occupation"]),
            "skill": as_codes(occupation_skills["skill"]),
        },
        index=occupation_skills.index,
    )
    for col in ("occupation", "skill"):
        fail_rows("occupation_skills", os_, os_[col].isna().to_numpy(), col, "missing code")
    if "weight" in occupation_skills.columns:
        os_["weight"] = numeric_column(
            occupation_skills, "occupation_skills", "weight", nonneg=True
        )
        fail_rows(
            "occupation_skills",
            occupation_skills,
            os_["weight"].to_numpy() > 1.0,
            "weight",
            "weight above 1 (a weight is in [0, 1], 1 for a core skill)",
        )
    else:
        os_["weight"] = 1.0
    check_unique(os_, "occupation_skills", ["occupation", "skill"])
    return os_.reset_index(drop=True)


def skill_gaps(
    allocation: Allocation | pd.DataFrame,
    occupation_skills: pd.DataFrame,
    *,
    skills: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Needs, allocated supply and gaps per territory x skill x period.

    Every column of the gap table is carried to skills through the occupation -> skill weights:
    ``need = sum openings x weight``, ``supply_allocated = sum entrants_allocated x weight``,
    ``gap = sum gap x weight`` (so ``need = supply_allocated + gap``), and likewise the bounds.

    Parameters
    ----------
    allocation : Allocation or DataFrame
        The result of :func:`allocate`, or its ``gaps`` table.
    occupation_skills : DataFrame
        occupation, skill, weight (weight in [0, 1]; 1 when the column is absent).
    skills : DataFrame, optional
        skill, label: adds ``skill_label``.

    Returns
    -------
    DataFrame
        territory, skill, (skill_label,) period, need, supply_allocated, gap, gap_lower,
        gap_upper, n_occupations; sorted. The occupations of the gap table that have no skill
        add to no row; a warning names them.

    Examples
    --------
    >>> import pandas as pd
    >>> gaps = pd.DataFrame({"territory": ["01"], "occupation": ["A"], "period": [2030],
    ...     "openings": [10.0], "entrants_allocated": [4.0], "gap": [6.0],
    ...     "gap_lower": [5.0], "gap_upper": [8.0]})
    >>> osk = pd.DataFrame({"occupation": ["A", "A"], "skill": ["s1", "s2"], "weight": [1, 0.5]})
    >>> skill_gaps(gaps, osk)[["skill", "need", "supply_allocated", "gap"]].to_dict("list")
    {'skill': ['s1', 's2'], 'need': [10.0, 5.0], 'supply_allocated': [4.0, 2.0], 'gap': [6.0, 3.0]}
    """
    gaps = allocation.gaps if isinstance(allocation, Allocation) else allocation
    require_columns(
        gaps, "gaps", ["territory", "occupation", "period", "openings", "entrants_allocated", "gap"]
    )
    os_ = _prepare_occupation_skills(occupation_skills)
    g = gaps[["territory", "occupation", "period"]].copy()
    g["occupation"] = as_codes(g["occupation"])
    g["territory"] = as_codes(g["territory"])
    values = {
        "need": "openings",
        "supply_allocated": "entrants_allocated",
        "gap": "gap",
        "gap_lower": "gap_lower",
        "gap_upper": "gap_upper",
    }
    for out, col in values.items():
        g[out] = (
            pd.to_numeric(gaps[col], errors="coerce").to_numpy(float)
            if col in gaps
            else (pd.to_numeric(gaps["gap"], errors="coerce").to_numpy(float))
        )
    m = g.merge(os_, on="occupation", how="inner", sort=False)
    w = m["weight"].to_numpy(float)
    for out in values:
        m[out] = m[out].to_numpy(float) * w
    m["_nan_lo"] = m["gap_lower"].isna()
    m["_nan_hi"] = m["gap_upper"].isna()
    key = ["territory", "skill", "period"]
    out = m.groupby(key, as_index=False, sort=True).agg(
        need=("need", "sum"),
        supply_allocated=("supply_allocated", "sum"),
        gap=("gap", "sum"),
        gap_lower=("gap_lower", "sum"),
        gap_upper=("gap_upper", "sum"),
        n_occupations=("occupation", "nunique"),
        _nan_lo=("_nan_lo", "any"),
        _nan_hi=("_nan_hi", "any"),
    )
    out.loc[out["_nan_lo"], "gap_lower"] = np.nan  # an unknown bound stays unknown
    out.loc[out["_nan_hi"], "gap_upper"] = np.nan
    out = out.drop(columns=["_nan_lo", "_nan_hi"])
    cols = ["territory", "skill", "period", "need", "supply_allocated", "gap", "gap_lower",
            "gap_upper", "n_occupations"]  # fmt: skip
    if skills is not None:
        require_columns(skills, "skills", ["skill", "label"])
        lab = pd.DataFrame({"skill": as_codes(skills["skill"]), "skill_label": skills["label"]})
        out = out.merge(lab.drop_duplicates("skill"), on="skill", how="left")
        cols.insert(2, "skill_label")
    out = out[cols].sort_values(["period", "territory", "skill"]).reset_index(drop=True)
    without = sorted(set(g["occupation"]) - set(os_["occupation"]))
    if without:
        warnings.warn(
            f"skill_gaps: {len(without)} occupation(s) without skills add to no skill gap "
            f"(e.g. {without[:5]})",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
    return out


# ---------------------------------------------------------------------------------------------
# reconversion paths


def weighted_jaccard(occupation_skills: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Weighted Jaccard similarity ``sum min(a, b) / sum max(a, b)`` of occupation skill weights.

    Parameters
    ----------
    occupation_skills : DataFrame
        occupation, skill, weight.
    pairs : DataFrame
        Two columns of occupation codes (target, source), one pair per row.

    Returns
    -------
    ndarray
        One value in [0, 1] per pair (0 when either occupation has no skill).

    Notes
    -----
    Exact and vectorised: with the distinct positive weights ``t_1 < ... < t_L``,
    ``min(a, b) = sum_k (t_k - t_{k-1}) [a >= t_k] [b >= t_k]``, so the numerator is a sum of
    ``L`` sparse binary matrix products (``L`` is 1 or 2 for ROME-style core / non-core weights).

    Examples
    --------
    >>> import pandas as pd
    >>> osk = pd.DataFrame({"occupation": ["A", "A", "B"], "skill": ["x", "y", "x"],
    ...                     "weight": [1.0, 0.5, 0.5]})
    >>> weighted_jaccard(osk, pd.DataFrame({"t": ["A"], "s": ["B"]})).tolist()
    [0.3333333333333333]
    """
    os_ = _prepare_occupation_skills(occupation_skills)
    os_ = os_[os_["weight"] > 0]
    t_codes = as_codes(pairs.iloc[:, 0]).to_numpy()
    s_codes = as_codes(pairs.iloc[:, 1]).to_numpy()
    if len(pairs) == 0:
        return np.zeros(0)
    occ = pd.Index(np.unique(np.concatenate([os_["occupation"], t_codes, s_codes]).astype(str)))
    ski = pd.Index(np.unique(os_["skill"].to_numpy().astype(str)))
    r = occ.get_indexer(os_["occupation"])
    c = ski.get_indexer(os_["skill"])
    w = os_["weight"].to_numpy(float)
    ti, si = occ.get_indexer(t_codes), occ.get_indexer(s_codes)
    tu, t_loc = np.unique(ti, return_inverse=True)
    su, s_loc = np.unique(si, return_inverse=True)
    total = np.bincount(r, weights=w, minlength=len(occ))
    levels = np.unique(w)
    num = np.zeros(len(pairs))
    prev = 0.0
    for lev in levels:
        keep = w >= lev
        b = sp.csr_array((np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(len(occ), len(ski)))
        prod = (b[tu] @ b[su].T).tocoo()  # shared skills at this level, per (target, source)
        if prod.nnz:
            key = pd.Index(prod.row.astype(np.int64) * len(su) + prod.col)
            pos = key.get_indexer(t_loc.astype(np.int64) * len(su) + s_loc)
            vals_ = np.where(pos >= 0, prod.data[np.maximum(pos, 0)], 0.0)
        else:
            vals_ = np.zeros(len(pairs))
        num += (lev - prev) * vals_
        prev = lev
    den = total[ti] + total[si] - num
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def _in_period(table: pd.DataFrame, period, name: str = "gaps") -> pd.DataFrame:
    """The rows of ``period`` (all rows when it is None or the table has no period); fail when
    no row has it (a period the table does not cover, or periods of another type)."""
    if period is not None and "period" in table.columns:
        rows = table[table["period"] == period]
        if len(table) and not len(rows):
            have = ", ".join(str(p) for p in sorted(pd.unique(table["period"]), key=str)[:10])
            raise ValidationError(f"{name}: no row of period {period!r} (periods: {have})")
        return rows
    return table


def _cell_sums(table: pd.DataFrame, name: str, values) -> pd.DataFrame:
    """``values`` (aligned with ``table``) summed per territory x occupation, as column ``name``."""
    out = pd.DataFrame(
        {
            "territory": as_codes(table["territory"]),
            "occupation": as_codes(table["occupation"]),
            name: values,
        }
    )
    return out.groupby(["territory", "occupation"], as_index=False, sort=True)[name].sum()


def _change_table(employment_change: pd.DataFrame, period) -> pd.DataFrame:
    require_columns(employment_change, "employment_change", ["territory", "occupation"])
    if "change" in employment_change.columns:
        col = "change"
    elif "expansion" in employment_change.columns:
        col = "expansion"
    else:
        raise ValidationError(
            "employment_change: needs a 'change' column (or 'expansion', as in openings)"
        )
    ch = _in_period(employment_change, period, "employment_change")
    return _cell_sums(ch, "change", numeric_column(ch, "employment_change", col, nonneg=False))


def transitions(
    gaps: Allocation | pd.DataFrame,
    employment_change: pd.DataFrame,
    occupation_skills: pd.DataFrame,
    *,
    mobility: pd.DataFrame | None = None,
    top_n: int = 5,
    min_overlap: float = 0.1,
    mobility_bonus: float = 0.1,
    period=None,
    min_jobs_lost: float = 0.0,
) -> pd.DataFrame:
    """Reconversion paths from occupations losing jobs to occupations in gap, same territory.

    For each territory x occupation with a gap, the occupations of that territory with a negative
    employment change are ranked by ``score = overlap + mobility_bonus x mobility_link``, where
    ``overlap`` is the weighted Jaccard similarity of their skill weights (:func:`weighted_jaccard`)
    and ``mobility_link`` says whether a ROME mobility (source -> target) is listed. Candidates with
    ``overlap >= min_overlap``, or with a mobility link, are kept, the ``top_n`` best per target
    (ties: more jobs lost first, then code order). ``skills_to_acquire`` lists the target's skills
    that the source lacks or has with a lower weight, most important first.

    Parameters
    ----------
    gaps : Allocation or DataFrame
        Gap table (territory, occupation, gap, optional period). With a period column, the gap is
        summed over periods, or taken at ``period`` when given.
    employment_change : DataFrame
        territory, occupation, change (negative = jobs lost); or an openings table, whose
        ``expansion`` is summed over periods (or taken at ``period``).
    occupation_skills : DataFrame
        occupation, skill, weight.
    mobility : DataFrame, optional
        ROME mobility links: source (or occupation, as in ``read_rome(...).extra["mobility"]``),
        target: occupation codes, a move from source to target.
    top_n : int, default 5
    min_overlap : float, default 0.1
        Skill overlap below which a candidate without a mobility link is left out. On ROME 4.0
        (v460, compétences, savoirs and macro-compétences), 18% of the pairs listed in ROME's own
        mobility table reach 0.1 (5% reach 0.2, median 0.04) against 0.4% of random pairs of
        fiches: 0.1 keeps the plausible moves and leaves out chance overlaps.
    mobility_bonus : float, default 0.1
    period : optional
        The period to use; all periods summed when None.
    min_jobs_lost : float, default 0
        An occupation is a source only when it loses at least this many jobs (and some) in the
        territory, over the periods summed or in ``period``: the loss of a fraction of a job is
        noise, not a pool of workers to retrain.

    Returns
    -------
    DataFrame
        territory, occupation, from_occupation, overlap, mobility_link, score, rank, jobs_lost,
        gap, skills_to_acquire ('; '-joined skill codes), n_skills_to_acquire.

    Examples
    --------
    >>> import pandas as pd
    >>> gaps = pd.DataFrame({"territory": ["01"], "occupation": ["A"], "gap": [5.0]})
    >>> change = pd.DataFrame({"territory": ["01", "01"], "occupation": ["A", "B"],
    ...                        "change": [3.0, -8.0]})
    >>> osk = pd.DataFrame({"occupation": ["A", "A", "B"], "skill": ["x", "y", "x"]})
    >>> transitions(gaps, change, osk)[["from_occupation", "overlap", "skills_to_acquire"]]
      from_occupation  overlap skills_to_acquire
    0               B      0.5                 y
    """
    gaps = gaps.gaps if isinstance(gaps, Allocation) else gaps
    require_columns(gaps, "gaps", ["territory", "occupation", "gap"])
    if top_n < 1:
        raise ValueError(f"top_n must be >= 1, got {top_n}")
    if not np.isfinite(min_jobs_lost) or min_jobs_lost < 0:
        raise ValueError(f"min_jobs_lost must be a number >= 0, got {min_jobs_lost!r}")
    g = _in_period(gaps, period)
    g = _cell_sums(g, "gap", numeric_column(g, "gaps", "gap", nonneg=False))
    g = g[g["gap"] > 0]
    ch = _change_table(employment_change, period)
    losing = (ch["change"] < 0) & (ch["change"] <= -min_jobs_lost)
    lose = ch[losing].rename(columns={"occupation": "from_occupation"})
    lose = lose.assign(jobs_lost=-lose["change"]).drop(columns="change")
    cand = g.merge(lose, on="territory", how="inner")
    cand = cand[cand["occupation"] != cand["from_occupation"]].reset_index(drop=True)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in TRANSITIONS_COLUMNS})
    if cand.empty:
        return empty
    os_ = _prepare_occupation_skills(occupation_skills)
    pairs = cand[["occupation", "from_occupation"]].drop_duplicates().reset_index(drop=True)
    pairs["overlap"] = weighted_jaccard(os_, pairs)
    cand = cand.merge(pairs, on=["occupation", "from_occupation"], how="left")
    if mobility is not None:
        src = "source" if "source" in mobility.columns else "occupation"
        require_columns(mobility, "mobility", [src, "target"])
        links = pd.DataFrame(
            {
                "from_occupation": as_codes(mobility[src]),
                "occupation": as_codes(mobility["target"]),
            }
        ).drop_duplicates()
        links["mobility_link"] = True
        cand = cand.merge(links, on=["occupation", "from_occupation"], how="left")
        cand["mobility_link"] = cand["mobility_link"].fillna(False).astype(bool)
    else:
        cand["mobility_link"] = False
    cand["score"] = cand["overlap"] + mobility_bonus * cand["mobility_link"]
    cand = cand[(cand["overlap"] >= min_overlap) | cand["mobility_link"]]
    if cand.empty:
        return empty
    cand = cand.sort_values(
        ["territory", "occupation", "score", "jobs_lost", "from_occupation"],
        ascending=[True, True, False, False, True],
    )
    cand["rank"] = cand.groupby(["territory", "occupation"]).cumcount() + 1
    cand = cand[cand["rank"] <= top_n].reset_index(drop=True)

    # skills of the target missing or weaker in the source
    kept = cand[["occupation", "from_occupation"]].drop_duplicates()
    tgt = kept.merge(os_.rename(columns={"weight": "w_target"}), on="occupation")
    src = os_.rename(columns={"occupation": "from_occupation", "weight": "w_source"})
    miss = tgt.merge(src, on=["from_occupation", "skill"], how="left")
    miss = miss[miss["w_source"].fillna(0.0) < miss["w_target"]]
    miss = miss.sort_values(
        ["occupation", "from_occupation", "w_target", "skill"], ascending=[True, True, False, True]
    )
    agg = miss.groupby(["occupation", "from_occupation"], sort=False).agg(
        skills_to_acquire=("skill", "; ".join), n_skills_to_acquire=("skill", "size")
    )
    cand = cand.merge(agg.reset_index(), on=["occupation", "from_occupation"], how="left")
    cand["skills_to_acquire"] = cand["skills_to_acquire"].fillna("")
    cand["n_skills_to_acquire"] = cand["n_skills_to_acquire"].fillna(0).astype(int)
    return cand[TRANSITIONS_COLUMNS].reset_index(drop=True)
