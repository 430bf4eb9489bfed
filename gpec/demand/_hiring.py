"""Cross-check of projected openings with employers' hiring intentions (BMO survey).

Private module: :func:`compare_hiring_intentions` is public as
:func:`gpec.demand.compare_hiring_intentions`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from gpec._checks import int_periods, outside_stacklevel, require_columns
from gpec.territory import aggregate, check_territories

__all__ = ["compare_hiring_intentions"]


def compare_hiring_intentions(
    openings: pd.DataFrame,
    hiring_intentions: pd.DataFrame,
    *,
    territories: pd.DataFrame | None = None,
    survey_period: int | None = None,
    openings_period: int | None = None,
    factor: float = 2.0,
    min_projects: float = 30.0,
) -> pd.DataFrame:
    """Cross-check projected openings with employers' hiring intentions (BMO survey).

    BMO *projets de recrutement* count every intended hire of the year (all contracts, including
    seasonal jobs and replacements of leavers who change employer), so their level is several
    times the structural openings; the comparison is therefore on *structure*: within each
    territory, an occupation's share of non-seasonal projects (all projects where the seasonal
    count is masked) against its share of positive openings.

    * ``share_ratio = projects_share / openings_share``;
    * ``flag``: "survey_higher" if ``share_ratio >= factor``, "projection_higher" if
      ``<= 1/factor``, "agree" otherwise, "not_comparable" when the projects are masked, below
      ``min_projects`` (BMO small-cell convention) or one side is missing;
    * ``difficult_share = difficult / projects`` (share of hires judged difficult) and
      ``seasonal_share``, missing where masked (never 0).

    Parameters
    ----------
    openings : DataFrame
        Output of :func:`openings`.
    hiring_intentions : DataFrame
        Canonical hiring_intentions table (territory, occupation, period, projects, difficult,
        seasonal). Its territories may be the openings' own, or a higher level (bassin,
        département) when ``territories`` is given: openings are then summed up to it.
    territories : DataFrame, optional
        Territories table, needed when the survey is at another level.
    survey_period : int, optional
        Survey year used; default the latest.
    openings_period : int, optional
        Openings year compared; default ``survey_period`` if projected, else the first projected
        year.
    factor : float, default 2
        Ratio of shares beyond which the two sources disagree.
    min_projects : float, default 30
        Smallest number of projects for a comparison.

    Returns
    -------
    DataFrame
        territory, occupation, survey_period, period, openings, projects, projects_nonseasonal,
        difficult_share, seasonal_share, openings_share, projects_share, share_ratio, flag.

    Examples
    --------
    >>> op = pd.DataFrame({"territory": "A", "occupation": ["X", "Y"], "period": 2025,
    ...     "openings": [50.0, 50.0]})
    >>> bmo = pd.DataFrame({"territory": "A", "occupation": ["X", "Y"], "period": 2024,
    ...     "projects": [300.0, 40.0], "difficult": [150.0, None], "seasonal": [0.0, 0.0]})
    >>> compare_hiring_intentions(op, bmo)["flag"].tolist()
    ['agree', 'projection_higher']
    """

    require_columns(openings, "openings", ["territory", "occupation", "period", "openings"])
    require_columns(
        hiring_intentions, "hiring_intentions", ["territory", "occupation", "period", "projects"]
    )
    if factor <= 1:
        raise ValueError("factor must be > 1")
    hi = hiring_intentions.copy()
    for c in ("territory", "occupation"):
        hi[c] = hi[c].astype("str")
    hi["period"] = int_periods(hi["period"], "hiring_intentions")
    hi_periods = hi["period"].to_numpy()
    for c in ("projects", "difficult", "seasonal"):
        hi[c] = pd.to_numeric(hi[c], errors="coerce") if c in hi.columns else np.nan
    op = openings[["territory", "occupation", "period", "openings"]].copy()
    for c in ("territory", "occupation"):
        op[c] = op[c].astype("str")
    op["period"] = int_periods(op["period"], "openings")
    chosen = survey_period is not None
    survey_period = int(hi["period"].max()) if survey_period is None else int(survey_period)
    other = hi["period"] != survey_period
    hi = hi[~other]
    if hi.empty:
        raise ValueError(f"hiring_intentions: no survey for period {survey_period}")
    if other.any() and not chosen:  # said, not silently left out
        years = ", ".join(str(int(y)) for y in sorted(set(hi_periods[other])))
        warnings.warn(
            f"hiring_intentions: the {survey_period} survey is compared with the projection; "
            f"{int(other.sum()):,} rows of earlier surveys ({years}) are not used "
            "(gpec run compares the latest survey; in Python, "
            "compare_hiring_intentions(survey_period=...) compares another)",
            stacklevel=outside_stacklevel(),
        )
    if openings_period is None:
        periods = set(op["period"])
        openings_period = survey_period if survey_period in periods else int(op["period"].min())
    op = op[op["period"] == int(openings_period)]
    if not set(hi["territory"]) <= set(op["territory"]):
        if territories is None:
            raise ValueError(
                "hiring_intentions: territories differ from the openings'; pass territories= to "
                "sum openings up to the survey's level"
            )
        t = check_territories(territories)
        unknown = sorted(set(hi["territory"]) - set(t.index))
        if unknown:
            raise ValueError(
                f"hiring_intentions: territories {unknown[:5]} not in table 'territories'"
            )
        levels = sorted(set(t.loc[sorted(set(hi["territory"])), "level"]))
        if len(levels) != 1:
            raise ValueError(f"hiring_intentions: several territory levels {levels}")
        op = aggregate(op, territories, levels[0], "openings")
    m = op.merge(hi, on=["territory", "occupation"], how="outer", suffixes=("", "_survey"))
    m["survey_period"] = survey_period
    m["period"] = int(openings_period)
    m["projects_nonseasonal"] = (m["projects"] - m["seasonal"]).where(
        m["seasonal"].notna(), m["projects"]
    )
    proj = m["projects"].where(m["projects"] > 0)
    m["difficult_share"] = m["difficult"] / proj
    m["seasonal_share"] = m["seasonal"] / proj
    pos = m["openings"].clip(lower=0)
    m["openings_share"] = pos / pos.groupby(m["territory"]).transform("sum").where(lambda v: v > 0)
    pn = m["projects_nonseasonal"].clip(lower=0)
    m["projects_share"] = pn / pn.groupby(m["territory"]).transform("sum").where(lambda v: v > 0)
    m["share_ratio"] = m["projects_share"] / m["openings_share"].where(m["openings_share"] > 0)
    comparable = (
        (m["projects"] >= min_projects) & m["openings"].notna() & m["projects_share"].notna()
    )
    flag = np.where(
        m["share_ratio"] >= factor,
        "survey_higher",
        np.where(m["share_ratio"] <= 1.0 / factor, "projection_higher", "agree"),
    )
    # a comparable cell with no positive openings: the survey sees hires the projection does not
    flag = np.where(m["openings_share"].fillna(0) <= 0, "survey_higher", flag)
    m["flag"] = np.where(comparable, flag, "not_comparable")
    cols = [
        "territory", "occupation", "survey_period", "period", "openings", "projects",
        "projects_nonseasonal", "difficult_share", "seasonal_share", "openings_share",
        "projects_share", "share_ratio", "flag",
    ]  # fmt: skip
    return m[cols].sort_values(["territory", "occupation"], kind="stable").reset_index(drop=True)
