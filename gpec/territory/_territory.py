"""Territory hierarchy: ancestors, aggregation, catchments and specialisation profiles.

Territories form a tree through the ``parent`` column of the canonical ``territories`` table
(docs/architecture.md): commune -> EPCI (or zone d'emploi, bassin d'emploi) -> département -> région ->
nation. Levels are free strings; the functions here only follow ``parent`` links, so a hierarchy
with a skipped level (an EPCI attached directly to its région, say) works as well.

* :func:`ancestors` maps every territory to its ancestor at a level;
* :func:`aggregate` sums a long table up to a level (exact totals);
* :func:`catchment` lists, for each training site, the territories it serves, with the
  great-circle distance between centroids and a decaying weight;
* :func:`profile` measures how specialised each territory's employment is (Herfindahl and
  Krugman indices, exposure to declining occupations, largest single-occupation share).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from gpec._checks import outside_stacklevel

__all__ = [
    "LEVELS",
    "EARTH_RADIUS_KM",
    "TerritoryHierarchy",
    "ancestors",
    "aggregate",
    "catchment",
    "haversine_km",
    "profile",
]

#: Usual French levels, from the top. Other level names are accepted everywhere.
LEVELS: tuple[str, ...] = ("nation", "region", "departement", "epci", "commune")

#: Mean Earth radius (km), IUGG.
EARTH_RADIUS_KM = 6371.0088

#: Columns kept as group keys by :func:`aggregate` when ``by`` is not given.
_KEY_COLUMNS = (
    "occupation",
    "skill",
    "period",
    "model",
    "level",
    "scenario",
    "age_band",
    "offer",
    "site",
)


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------
def check_territories(territories: pd.DataFrame, need_coords: bool = False) -> pd.DataFrame:
    """Return a clean copy of the territories table indexed by code (codes as strings).

    Parameters
    ----------
    territories : DataFrame
        Canonical territories table: ``territory``, ``level`` and optionally ``parent`` (null,
        empty, ``"nan"`` or ``"None"`` for a root), ``lat``, ``lon`` and other columns (kept).
    need_coords : bool, default False
        Require the ``lat`` and ``lon`` columns (centroids, degrees) and convert them to
        numbers (a value that is not a number becomes null).

    Returns
    -------
    DataFrame
        A copy indexed by territory code; ``territory``, ``level`` and ``parent`` as strings
        (a missing parent is null; whole numbers lose a float's ``.0``).

    Raises
    ------
    TypeError
        When ``territories`` is not a DataFrame.
    ValueError
        On a missing column, a duplicate territory or a parent that is not a territory of the
        table, naming the row; with ``need_coords``, on a missing ``lat`` or ``lon`` column.

    Examples
    --------
    >>> t = pd.DataFrame({"territory": ["FR", "R28"], "level": ["nation", "region"],
    ...                   "parent": [None, "FR"]})
    >>> check_territories(t)["parent"].tolist()
    [nan, 'FR']
    >>> check_territories(t.assign(parent=[None, "R11"]))
    Traceback (most recent call last):
    ...
    ValueError: table 'territories': parent 'R11' of territory 'R28' is not a known territory (row 1, column 'parent')
    """
    if not isinstance(territories, pd.DataFrame):
        raise TypeError("territories must be a DataFrame with columns territory, level, parent")
    missing = [c for c in ("territory", "level") if c not in territories.columns]
    if missing:
        raise ValueError(f"table 'territories': missing column(s) {missing}")
    t = territories.copy()
    t["territory"] = _code_strings(t["territory"])
    t["level"] = t["level"].astype("str")
    if "parent" not in t.columns:
        t["parent"] = np.nan
    t["parent"] = _code_strings(t["parent"])
    t.loc[t["parent"].isin(["", "nan", "None"]), "parent"] = np.nan
    dup = t["territory"].duplicated(keep="first")
    if dup.any():
        row = t.index[dup.to_numpy()][0]
        raise ValueError(
            f"table 'territories': duplicate territory {t.loc[row, 'territory']!r} "
            f"(row {row}, column 'territory')"
        )
    bad_parent = t["parent"].notna() & ~t["parent"].isin(t["territory"])
    if bad_parent.any():
        row = t.index[bad_parent.to_numpy()][0]
        raise ValueError(
            f"table 'territories': parent {t.loc[row, 'parent']!r} of territory "
            f"{t.loc[row, 'territory']!r} is not a known territory (row {row}, column 'parent')"
        )
    if need_coords:
        for col in ("lat", "lon"):
            if col not in t.columns:
                raise ValueError(f"table 'territories': column {col!r} is needed for distances")
            t[col] = pd.to_numeric(t[col], errors="coerce")
    return t.set_index("territory", drop=False)


def _code_strings(codes: pd.Series) -> pd.Series:
    """Codes as strings; whole numbers stored as floats (integer codes beside a null, which
    pandas keeps as float) lose their ``.0``, so that parent 11.0 still names territory 11."""
    if pd.api.types.is_float_dtype(codes):
        whole = np.isfinite(codes) & (codes == np.floor(codes))
        out = codes.astype("str").astype(object)
        out[whole] = codes[whole].astype("int64").astype("str")
        return out
    return codes.astype("str")


def _as_codes(values, name: str) -> pd.Index:
    """A unique, ordered index of codes (strings) from a list, Series or DataFrame column."""
    if isinstance(values, pd.DataFrame):
        if name not in values.columns:
            raise ValueError(f"{name}s: a DataFrame needs a {name!r} column")
        values = values[name]
    if isinstance(values, str):
        values = [values]
    s = pd.Series(list(values), dtype="str")
    if s.isna().any():
        raise ValueError(f"{name}s: missing code at position {int(np.flatnonzero(s.isna())[0])}")
    return pd.Index(pd.unique(s), dtype="str")


# --------------------------------------------------------------------------------------
# hierarchy
# --------------------------------------------------------------------------------------
def ancestors(territories: pd.DataFrame, level: str) -> pd.Series:
    """Map each territory to its ancestor at ``level``.

    A territory at ``level`` is its own ancestor. Territories above ``level``, or whose chain of
    parents never meets ``level`` (a skipped level), map to a missing value.

    Parameters
    ----------
    territories : DataFrame
        Canonical territories table (``territory``, ``level``, ``parent``).
    level : str
        Target level, e.g. ``"departement"`` or ``"region"``.

    Returns
    -------
    Series
        Indexed by territory code (name ``territory``), values are codes at ``level`` (name
        ``ancestor``), dtype str.

    Examples
    --------
    >>> t = pd.DataFrame({"territory": ["FR", "28", "76", "E1"], "label": ["France", "Normandie",
    ...     "Seine-Maritime", "Métropole Rouen"], "level": ["nation", "region", "departement", "epci"],
    ...     "parent": [None, "FR", "28", "76"]})
    >>> ancestors(t, "region").tolist()
    [nan, '28', '28', '28']
    """
    t = check_territories(territories)
    if level not in set(t["level"]):
        raise ValueError(
            f"level {level!r} not found in table 'territories' (levels: {sorted(set(t['level']))})"
        )
    parent = t["parent"]
    lvl = t["level"]
    cur = pd.Series(t.index.to_numpy(), index=t.index, dtype="str")
    out = pd.Series(np.nan, index=t.index, dtype="str")
    for _ in range(len(t) + 1):
        alive = cur.notna()
        if not alive.any():
            break
        hit = alive & (lvl.reindex(cur.to_numpy()).to_numpy() == level)
        out[hit.to_numpy()] = cur[hit.to_numpy()]
        cur = cur.where(alive & ~hit)
        cur = pd.Series(parent.reindex(cur.to_numpy()).to_numpy(), index=t.index, dtype="str")
    else:  # pragma: no cover - only reached with a cycle
        raise ValueError("table 'territories': the parent links contain a cycle")
    out.index.name = "territory"
    out.name = "ancestor"
    return out


def _leaves(t: pd.DataFrame) -> pd.Index:
    return t.index[~t.index.isin(t["parent"].dropna())]


def _bottom(t: pd.DataFrame, bottom_level: str | None) -> pd.Index:
    if bottom_level is None:
        return _leaves(t)
    if bottom_level not in set(t["level"]):
        raise ValueError(f"bottom_level {bottom_level!r} not found in table 'territories'")
    return t.index[(t["level"] == bottom_level).to_numpy()]


def aggregate(
    table: pd.DataFrame,
    territories: pd.DataFrame,
    level: str,
    value_cols: str | Sequence[str],
    *,
    territory_col: str = "territory",
    by: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sum a long table up to a level of the hierarchy.

    Each row is attributed to its territory's ancestor at ``level`` and the value columns are
    summed within (ancestor, ``by``...). Totals are exact: the sum of every value column is the
    same before and after (missing values stay missing when a whole group is missing).

    Parameters
    ----------
    table : DataFrame
        Long table with a territory column and numeric value columns.
    territories : DataFrame
        Canonical territories table.
    level : str
        Level to aggregate to.
    value_cols : str or list of str
        Columns to sum.
    territory_col : str, default "territory"
        Column holding territory codes.
    by : list of str, optional
        Other grouping columns. By default the key columns found in ``table`` among
        occupation, skill, period, model, level, scenario, age_band, offer, site; other
        non-value columns (labels, sources) are dropped.

    Returns
    -------
    DataFrame
        ``[territory_col, *by, *value_cols]`` sorted by keys.

    Raises
    ------
    ValueError
        If a territory of ``table`` is unknown or has no ancestor at ``level`` (the first bad row is
        named).

    Examples
    --------
    >>> t = pd.DataFrame({"territory": ["R", "A", "B"], "label": ["R", "A", "B"],
    ...     "level": ["region", "epci", "epci"], "parent": [None, "R", "R"]})
    >>> emp = pd.DataFrame({"territory": ["A", "B"], "occupation": ["X", "X"],
    ...     "period": [2020, 2020], "value": [10.0, 5.0]})
    >>> aggregate(emp, t, "region", "value")["value"].tolist()
    [15.0]
    """
    if isinstance(value_cols, str):
        value_cols = [value_cols]
    value_cols = list(value_cols)
    missing = [c for c in [territory_col, *value_cols] if c not in table.columns]
    if missing:
        raise ValueError(f"aggregate: table has no column(s) {missing}")
    anc = ancestors(territories, level)
    codes = table[territory_col].astype("str")
    unknown = ~codes.isin(anc.index)
    if unknown.any():
        row = table.index[unknown.to_numpy()][0]
        raise ValueError(
            f"aggregate: territory {codes.loc[row]!r} is not in table 'territories' "
            f"(row {row}, column {territory_col!r})"
        )
    target = anc.reindex(codes.to_numpy())
    orphan = target.isna().to_numpy()
    if orphan.any():
        row = table.index[orphan][0]
        raise ValueError(
            f"aggregate: territory {codes.loc[row]!r} has no ancestor at level {level!r} "
            f"(row {row}, column {territory_col!r})"
        )
    t = check_territories(territories)
    used_levels = set(t.loc[codes.unique(), "level"])
    if len(used_levels) > 1:
        warnings.warn(
            f"aggregate: the table mixes territory levels {sorted(used_levels)}; "
            "values may be counted twice",
            stacklevel=outside_stacklevel(),
        )
    if by is None:
        by = [c for c in _KEY_COLUMNS if c in table.columns and c not in value_cols]
    by = [c for c in by if c != territory_col]
    work = table[by + value_cols].copy()
    work.insert(0, territory_col, target.to_numpy())
    out = (
        work.groupby([territory_col, *by], sort=True, dropna=False)[value_cols]
        .sum(min_count=1)
        .reset_index()
    )
    return out


class TerritoryHierarchy:
    """A territory tree with cached ancestor look-ups.

    Parameters
    ----------
    territories : DataFrame
        Canonical territories table.

    Attributes
    ----------
    levels_ : list of str
        Levels present, from the top (nation) down, ordered by depth in the tree.

    Examples
    --------
    >>> t = pd.DataFrame({"territory": ["R", "A"], "label": ["R", "A"],
    ...     "level": ["region", "epci"], "parent": [None, "R"]})
    >>> h = TerritoryHierarchy(t)
    >>> h.levels_
    ['region', 'epci']
    >>> h.ancestors("region").tolist()
    ['R', 'R']
    """

    def __init__(self, territories: pd.DataFrame):
        self.territories = territories
        self._table = check_territories(territories)
        self._cache: dict[str, pd.Series] = {}
        depth = self._depth()
        order = depth.groupby(self._table["level"]).median().sort_values(kind="stable")
        self.levels_ = list(order.index)

    def _depth(self) -> pd.Series:
        t = self._table
        depth = pd.Series(0, index=t.index)
        cur = t["parent"]
        for _ in range(len(t) + 1):
            alive = cur.notna()
            if not alive.any():
                break
            depth = depth + alive.astype(int)
            cur = pd.Series(
                t["parent"].reindex(cur.to_numpy()).to_numpy(), index=t.index, dtype="str"
            )
        return depth

    def ancestors(self, level: str) -> pd.Series:
        """Ancestor at ``level`` of every territory (see :func:`ancestors`)."""
        if level not in self._cache:
            self._cache[level] = ancestors(self.territories, level)
        return self._cache[level]

    def aggregate(self, table: pd.DataFrame, level: str, value_cols, **kwargs) -> pd.DataFrame:
        """Sum ``table`` up to ``level`` (see :func:`aggregate`)."""
        return aggregate(table, self.territories, level, value_cols, **kwargs)

    def bottom(self, level: str | None = None) -> list[str]:
        """Codes at ``level``, or of the leaves of the tree when ``level`` is None."""
        return list(_bottom(self._table, level))


# --------------------------------------------------------------------------------------
# catchments
# --------------------------------------------------------------------------------------
def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance (km) between points given in degrees (broadcasting).

    The haversine formula on a sphere of radius :data:`EARTH_RADIUS_KM` (the Earth's
    flattening makes it err by up to about 0.5 %).

    Parameters
    ----------
    lat1, lon1 : float or array_like
        Latitude and longitude of the first points, in degrees.
    lat2, lon2 : float or array_like
        Those of the second points; all four broadcast together (NumPy rules).

    Returns
    -------
    ndarray or float
        Distances in km, of the broadcast shape (a NumPy float for scalar inputs).

    Examples
    --------
    One degree of latitude is 2 pi R / 360, about 111.2 km:

    >>> round(float(haversine_km(0.0, 0.0, 1.0, 0.0)), 1)
    111.2
    >>> round(float(haversine_km(49.44, 1.10, 48.86, 2.35)), 0)  # Rouen - Paris
    111.0
    >>> haversine_km(0.0, 0.0, [0.0, 0.0], [0.0, 180.0]).round(0).tolist()  # 0 and pi R
    [0.0, 20015.0]
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _own_pairs(t: pd.DataFrame, site_pos: np.ndarray, bottom_pos: np.ndarray) -> np.ndarray:
    """Keys ``site * n + territory`` (positions in ``t``) of the pairs a site always serves:
    itself if at the bottom level, its first bottom-level ancestor when below, its bottom-level
    descendants when above."""
    n = len(t)
    parent = t.index.get_indexer(t["parent"])  # -1 for roots
    is_bottom = np.zeros(n, dtype=bool)
    is_bottom[bottom_pos] = True
    keys = [site_pos[is_bottom[site_pos]].astype(np.int64) * (n + 1)]
    rest = site_pos[~is_bottom[site_pos]]
    if len(rest):
        is_rest = np.zeros(n, dtype=bool)
        is_rest[rest] = True
        # descendants: walk up from every bottom territory
        cur = bottom_pos.copy()
        for _ in range(n + 1):
            cur = np.where(cur >= 0, parent[np.maximum(cur, 0)], -1)
            if (cur < 0).all():
                break
            hit = (cur >= 0) & is_rest[np.maximum(cur, 0)]
            keys.append(cur[hit].astype(np.int64) * n + bottom_pos[hit])
        # ancestors: first bottom territory above a site below the bottom level
        cur = rest.copy()
        found = np.full(len(rest), -1)
        for _ in range(n + 1):
            cur = np.where(cur >= 0, parent[np.maximum(cur, 0)], -1)
            if (cur < 0).all():
                break
            hit = (cur >= 0) & (found < 0) & is_bottom[np.maximum(cur, 0)]
            found[hit] = cur[hit]
        ok = found >= 0
        keys.append(rest[ok].astype(np.int64) * n + found[ok])
    return np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)


def catchment(
    territories: pd.DataFrame,
    sites=None,
    *,
    method: str = "distance",
    max_km: float = 50.0,
    decay_km: float | None = 25.0,
    level: str | None = None,
    bottom_level: str | None = None,
    within: str | None = None,
) -> pd.DataFrame:
    """Territories served by each training site.

    Destinations are the territories of the bottom level (``bottom_level``, e.g. ``"epci"``; by
    default the leaves of the tree). A site is a territory code of any level. Every site serves
    at least its own territory (itself if at the bottom level, its bottom-level ancestor if
    below, its bottom-level descendants if above), whatever the distance.

    * ``method="distance"``: every bottom territory whose centroid lies within ``max_km`` of the
      site's centroid (great-circle distance, haversine); ``level`` is not used. With ``within``
      given, only territories sharing the site's ancestor at ``within`` are kept (e.g. same
      région).
    * ``method="parent"``: every bottom territory sharing the site's ancestor at ``level``
      (e.g. same département), whatever the distance; the distance is still reported (missing
      when a centroid is missing).

    The weight is ``exp(-distance_km / decay_km)``: 1 at 0 km, 0.37 at ``decay_km``
    (``decay_km=None`` gives weight 1 everywhere; a missing distance gives weight 1).

    Parameters
    ----------
    territories : DataFrame
        Canonical territories table with ``lat`` and ``lon`` centroids (degrees).
    sites : list of str, Series or DataFrame with a ``site`` column, optional
        Site territory codes; by default every bottom territory.
    method : {"distance", "parent"}
    max_km : float, default 50
    decay_km : float or None, default 25
    level : str, optional
        Common-ancestor level of ``method="parent"`` (required there, ignored otherwise).
    bottom_level : str, optional
        Level of the destination territories.
    within : str, optional
        Extra restriction of either method to the site's ancestor at this level.

    Returns
    -------
    DataFrame
        ``[site, territory, distance_km, weight]`` sorted by site, distance, territory.

    Examples
    --------
    >>> t = pd.DataFrame({"territory": ["A", "B", "C"], "label": ["A", "B", "C"],
    ...     "level": "epci", "parent": None, "lat": [49.0, 49.1, 50.0], "lon": [1.0, 1.0, 1.0]})
    >>> catchment(t, ["A"], max_km=50)[["site", "territory"]].values.tolist()
    [['A', 'A'], ['A', 'B']]
    """
    if method not in ("distance", "parent"):
        raise ValueError(f"method must be 'distance' or 'parent', got {method!r}")
    if method == "parent" and level is None:
        raise ValueError("method='parent' needs a level (e.g. level='departement')")
    if not (np.isfinite(max_km) and max_km > 0):
        raise ValueError(f"max_km must be a positive number, got {max_km!r}")
    if decay_km is not None and not decay_km > 0:
        raise ValueError(f"decay_km must be positive or None, got {decay_km!r}")
    t = check_territories(territories, need_coords=(method == "distance"))
    for col in ("lat", "lon"):
        if col not in t.columns:
            t[col] = np.nan
        t[col] = pd.to_numeric(t[col], errors="coerce")
    bottom = _bottom(t, bottom_level)
    site_idx = bottom.copy() if sites is None else _as_codes(sites, "site")
    unknown = ~site_idx.isin(t.index)
    if unknown.any():
        raise ValueError(f"catchment: site {site_idx[unknown][0]!r} is not in table 'territories'")
    if method == "distance":
        no_xy = t.loc[site_idx, ["lat", "lon"]].isna().any(axis=1)
        no_xy_b = t.loc[bottom, ["lat", "lon"]].isna().any(axis=1)
        for codes in (no_xy, no_xy_b):
            if codes.any():
                code = codes.index[codes.to_numpy()][0]
                raise ValueError(
                    f"table 'territories': territory {code!r} has no centroid "
                    "(column 'lat'/'lon'), needed for method='distance'"
                )

    # work on integer positions in the territories table; strings only at the end
    codes = t.index
    n_t = len(codes)
    site_pos = codes.get_indexer(site_idx)
    bottom_pos = codes.get_indexer(bottom)
    own_key = _own_pairs(t, site_pos, bottom_pos)
    lat = t["lat"].to_numpy(dtype=float)
    lon = t["lon"].to_numpy(dtype=float)
    if method == "distance":
        from scipy.spatial import cKDTree

        bxyz = _unit_vectors(lat[bottom_pos], lon[bottom_pos])
        sxyz = _unit_vectors(lat[site_pos], lon[site_pos])
        # chord length for max_km on the unit sphere, with a tiny margin (exact filter below)
        chord = 2 * np.sin(min(max_km / EARTH_RADIUS_KM, np.pi) / 2) * (1 + 1e-9) + 1e-12
        hits = cKDTree(bxyz).query_ball_point(sxyz, r=chord)
        lens = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        flat = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits]) if len(hits) else []
        s_pos = np.repeat(site_pos, lens)
        b_pos = bottom_pos[np.asarray(flat, dtype=np.int64)]
    else:
        anc = ancestors(territories, level)
        sa = pd.DataFrame({"s": site_pos, "key": anc.reindex(site_idx).to_numpy()}).dropna()
        ba = pd.DataFrame({"b": bottom_pos, "key": anc.reindex(bottom).to_numpy()}).dropna()
        m = sa.merge(ba, on="key", how="inner")
        s_pos, b_pos = m["s"].to_numpy(np.int64), m["b"].to_numpy(np.int64)
    if within is not None:
        anc = ancestors(territories, within).reindex(codes)
        anc_pos = codes.get_indexer(anc.to_numpy())  # -1 when missing
        same = (anc_pos[s_pos] == anc_pos[b_pos]) & (anc_pos[s_pos] >= 0)
        s_pos, b_pos = s_pos[same], b_pos[same]
    key = np.sort(np.concatenate([s_pos.astype(np.int64) * n_t + b_pos, own_key]))
    key = key[np.concatenate([[True], key[1:] != key[:-1]])] if len(key) else key
    s_pos, b_pos = key // n_t, key % n_t
    dist = haversine_km(lat[s_pos], lon[s_pos], lat[b_pos], lon[b_pos])
    dist = np.where(s_pos == b_pos, 0.0, dist)
    keep = np.ones(len(key), dtype=bool)
    if method == "distance":
        own_sorted = np.sort(own_key)
        at = np.clip(np.searchsorted(own_sorted, key), 0, max(len(own_sorted) - 1, 0))
        is_own = own_sorted[at] == key if len(own_sorted) else np.zeros(len(key), dtype=bool)
        keep = (dist <= max_km) | is_own
    s_pos, b_pos, dist = s_pos[keep], b_pos[keep], dist[keep]
    if decay_km is None:
        weight = np.ones(len(dist))
    else:
        weight = np.exp(-dist / decay_km)
        weight = np.where(np.isnan(weight), 1.0, weight)
    code_arr = codes.to_numpy(dtype=object)
    rank = np.empty(n_t, dtype=np.int64)
    rank[np.argsort(code_arr, kind="stable")] = np.arange(n_t)
    order = np.lexsort((rank[b_pos], np.nan_to_num(dist, nan=np.inf), rank[s_pos]))
    return pd.DataFrame(
        {
            "site": pd.array(code_arr[s_pos[order]], dtype="str"),
            "territory": pd.array(code_arr[b_pos[order]], dtype="str"),
            "distance_km": dist[order],
            "weight": weight[order],
        }
    )


# --------------------------------------------------------------------------------------
# profiles
# --------------------------------------------------------------------------------------
def _declining_from_trend(employment: pd.DataFrame, by: str, period) -> pd.Series:
    """Occupations whose total employment (all territories) has a negative least-squares slope
    over the periods up to ``period``; missing when only one period is available."""
    e = employment[employment["period"] <= period]
    tot = e.groupby([by, "period"], sort=True)["value"].sum().reset_index()
    x = tot["period"].astype(float)
    xm = x.groupby(tot[by]).transform("mean")
    ym = tot["value"].groupby(tot[by]).transform("mean")
    cov = ((x - xm) * (tot["value"] - ym)).groupby(tot[by]).sum()
    var = ((x - xm) ** 2).groupby(tot[by]).sum()
    slope = cov / var.where(var > 0)
    return (slope < 0).where(slope.notna())


def profile(
    employment: pd.DataFrame,
    territories: pd.DataFrame | None = None,
    *,
    period=None,
    declining: Iterable[str] | pd.Series | None = None,
    by: str = "occupation",
) -> pd.DataFrame:
    """Specialisation and fragility profile of each territory.

    For territory *r* with employment shares ``s[r, o]`` over occupations *o* (or the column
    ``by``, e.g. a sector) and the shares ``S[o]`` of the whole set of territories in the table:

    * ``hhi = Σ_o s[r, o]²`` (Herfindahl-Hirschman index, 1/n for an even spread, 1 for a single
      occupation); ``n_effective = 1 / hhi``;
    * ``krugman = Σ_o |s[r, o] − S[o]|`` (Krugman specialisation index, 0 = same structure as
      the whole set, up to 2);
    * ``declining_share`` = share of jobs in declining occupations: those listed in ``declining``,
      else those whose total employment over all territories has a negative least-squares
      trend over the periods up to ``period`` (missing if only one period is given);
    * ``top_occupation`` and ``top_share``: the largest single-occupation exposure (ties go to
      the smallest code).

    Hyper-specialised territories (high HHI, high top share, high declining share) are the
    fragile ones: one closure hits a large part of their jobs.

    Parameters
    ----------
    employment : DataFrame
        Canonical employment table (territory, occupation, period, value); pass one territory
        level only (the reference structure is the sum of all rows).
    territories : DataFrame, optional
        When given, ``label`` and ``level`` are added.
    period : int, optional
        Period profiled; default the latest period of the table.
    declining : list of codes or boolean Series indexed by code, optional
        Declining occupations; default from the trend.
    by : str, default "occupation"
        Column holding the activity breakdown (e.g. "sector").

    Returns
    -------
    DataFrame
        One row per territory: territory, period, jobs, n_occupations, hhi, n_effective,
        krugman, declining_share, top_occupation, top_share (+ label, level).

    Examples
    --------
    >>> emp = pd.DataFrame({"territory": ["A", "A", "B"], "occupation": ["X", "Y", "X"],
    ...     "period": 2020, "value": [50.0, 50.0, 100.0]})
    >>> profile(emp)[["territory", "hhi", "krugman"]].values.tolist()
    [['A', 0.5, 0.5], ['B', 1.0, 0.5]]
    """
    need = ["territory", by, "period", "value"]
    missing = [c for c in need if c not in employment.columns]
    if missing:
        raise ValueError(f"profile: table 'employment' has no column(s) {missing}")
    emp = employment[need].copy()
    emp["territory"] = emp["territory"].astype("str")
    emp[by] = emp[by].astype("str")
    emp["value"] = pd.to_numeric(emp["value"], errors="coerce")
    bad = emp["value"].isna() | (emp["value"] < 0)
    if bad.any():
        row = emp.index[bad.to_numpy()][0]
        raise ValueError(
            f"profile: table 'employment' has a missing or negative value (row {row}, column 'value')"
        )
    if period is None:
        period = emp["period"].max()
    cur = emp[emp["period"] == period]
    if cur.empty:
        raise ValueError(f"profile: no employment at period {period!r}")
    cur = cur.groupby(["territory", by], sort=True)["value"].sum().reset_index()
    tot = cur.groupby("territory")["value"].transform("sum")
    cur["share"] = (cur["value"] / tot.where(tot > 0)).fillna(0.0)
    ref = cur.groupby(by)["value"].sum()
    ref_share = ref / ref.sum() if ref.sum() > 0 else ref * 0.0
    # Krugman needs every occupation of the reference, including those absent in a territory:
    # Σ|s - S| = Σ_{present} |s - S| + Σ_{absent} S = Σ_{present}(|s - S| - S) + 1
    cur["S"] = ref_share.reindex(cur[by]).to_numpy()
    cur["kdiff"] = (cur["share"] - cur["S"]).abs() - cur["S"]
    g = cur.groupby("territory", sort=True)
    out = pd.DataFrame(
        {
            "jobs": g["value"].sum(),
            "n_occupations": (cur["value"] > 0).groupby(cur["territory"], sort=True).sum(),
            "hhi": (cur["share"] ** 2).groupby(cur["territory"], sort=True).sum(),
        }
    )
    out["krugman"] = g["kdiff"].sum() + 1.0
    out.loc[out["jobs"] <= 0, ["hhi", "krugman"]] = np.nan
    out["n_effective"] = 1.0 / out["hhi"]
    if declining is None:
        dec = _declining_from_trend(emp, by, period)
    elif isinstance(declining, pd.Series) and declining.dtype == bool:
        dec = declining.copy()
        dec.index = dec.index.astype("str")
    else:
        codes = set(pd.Series(list(declining), dtype="str"))
        dec = pd.Series(True, index=sorted(codes)).reindex(ref.index, fill_value=False)
    flag = dec.reindex(cur[by]).to_numpy()
    known = pd.notna(flag)
    dshare = np.where(known, np.where(flag == True, cur["share"], 0.0), np.nan)  # noqa: E712
    cur["dshare"] = dshare
    out["declining_share"] = cur.groupby("territory", sort=True)["dshare"].sum(min_count=1)
    top = cur.sort_values(["territory", "share", by], ascending=[True, False, True], kind="stable")
    top = top.drop_duplicates("territory").set_index("territory")
    out["top_occupation"] = top[by].astype("str")
    out["top_share"] = top["share"]
    out.insert(0, "period", period)
    out = out.reset_index()
    cols = [
        "territory",
        "period",
        "jobs",
        "n_occupations",
        "hhi",
        "n_effective",
        "krugman",
        "declining_share",
        "top_occupation",
        "top_share",
    ]
    out = out[cols]
    if by != "occupation":
        out = out.rename(columns={"n_occupations": f"n_{by}", "top_occupation": f"top_{by}"})
    if territories is not None:
        t = check_territories(territories)
        out.insert(
            1, "label", t["label"].reindex(out["territory"]).to_numpy() if "label" in t else np.nan
        )
        out.insert(2, "level", t["level"].reindex(out["territory"]).to_numpy())
    return out
