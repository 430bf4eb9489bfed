"""Forecast reconciliation across the levels of a territory hierarchy.

Base forecasts made separately for every territory (EPCI, département, région, nation) do not add up:
the national forecast differs from the sum of the regional ones. :func:`reconcile` replaces them by
coherent forecasts, where every aggregate equals the sum of its children, with the classic methods
(bottom-up, top-down, MinT; Hyndman et al. 2011, Wickramasuriya, Athanasopoulos & Hyndman 2019).

Each occupation (and each period) is its own hierarchy: territories are aggregated, occupations are
not. All methods are *exact* (direct solves in double precision, no iterative solver):

* ``mint_ols``, ``wls_struct`` and ``wls_var`` have a diagonal error covariance ``W``. The
  generalised least squares projection ``y = S (S' W^-1 S)^-1 S' W^-1 yhat`` is then computed by a
  two-pass recursion over the tree (the Gaussian "inside / outside" passes of belief propagation),
  vectorised over all occupations and periods at once: O(number of series), exactly the closed form.
* ``mint_shrink`` uses the full within-occupation covariance of the in-sample residuals across all
  territories, shrunk towards its diagonal (Schäfer & Strimmer 2005): ``W = (1 - lambda) X'X / T +
  diag(d)`` is kept as a rank-T matrix plus a diagonal, and the projection is solved in its constraint
  form ``y = yhat + W A' (A W A')^-1 (c - A yhat)`` (A: one row per aggregate, plus fixed and
  held-at-zero rows) with a dense Cholesky factorisation of ``A W A'``, formed through ``X A'``
  without any n x n matrix: O(n T r) per occupation, exact. Correlations between occupations are
  not used (each occupation is reconciled on its own): this is the exact MinT solution for a
  block-diagonal W.
* Fixed totals (official figures kept as given) are equality constraints solved exactly (a node with
  zero error variance in the recursion, an extra constraint row in the dense solve).
* Non-negativity is the constrained least squares problem ``min (y - yhat)' W^-1 (y - yhat)`` subject
  to coherence, fixed totals and ``y >= 0`` at the bottom level (aggregates of non-negative bottom
  series are non-negative). It is solved exactly by block principal pivoting (Kim & Park 2011): bottom
  series that come out negative are held at zero and the projection is recomputed; a held series is
  released when its Lagrange multiplier shows that the objective would decrease by letting it grow.
  The loop stops when the KKT conditions hold (to round-off), i.e. at the constrained optimum, not
  at a clipped approximation.
* A territory without a base forecast for an occupation (the occupation is absent there) is a
  structural zero: it is removed from that occupation's hierarchy (held at 0, W restricted to the
  present series), which is allowed only when no territory below it has a forecast.
* ``bottom_up`` clips negative bottom forecasts at 0 and sums them up; ``top_down`` splits the top
  total (clipped at 0) among children with non-negative proportions.
* Interval bounds are not additive: they are shifted by the adjustment made to the mean (and clipped
  at 0), keeping each interval's width around the reconciled mean.

Every returned aggregate is recomputed as the sum of its bottom series, so coherence holds to
floating point round-off.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ._reconcile_solvers import (
    _constraint_matrix,
    _dense_gls,
    _shrinkage_parts,
    _top_down,
    _Tree,
    _tree_gls,
    shrunk_covariance,
)

__all__ = ["reconcile", "summing_matrix", "shrunk_covariance", "METHODS"]

#: Reconciliation methods accepted by :func:`reconcile`.
METHODS = ("bottom_up", "top_down", "mint_ols", "wls_struct", "wls_var", "mint_shrink")

# ---------------------------------------------------------------------------------------------
# Hierarchy
# ---------------------------------------------------------------------------------------------


def _is_root_parent(parent: pd.Series) -> np.ndarray:
    missing = parent.isna().to_numpy()
    text = parent.astype("string").str.strip()
    return missing | (text == "").fillna(True).to_numpy()


def _build_tree(
    hierarchy: pd.DataFrame, *, id_col: str = "territory", levels=None, name: str = "hierarchy"
) -> _Tree:
    if not isinstance(hierarchy, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame, got {type(hierarchy).__name__}")
    for col in (id_col, "level", "parent"):
        if col not in hierarchy.columns:
            raise ValueError(f"table {name}: missing column {col!r}")
    codes = hierarchy[id_col]
    if codes.isna().any():
        row = codes.index[codes.isna().to_numpy()][0]
        raise ValueError(f"table {name}: row {row}, column {id_col!r}: missing territory code")
    codes = codes.astype(str).to_numpy()
    dup = pd.Index(codes).duplicated()
    if dup.any():
        row = hierarchy.index[dup][0]
        raise ValueError(
            f"table {name}: row {row}, column {id_col!r}: territory {codes[dup][0]!r} is duplicated"
        )
    index = pd.Index(codes)
    is_root = _is_root_parent(hierarchy["parent"])
    parent_codes = hierarchy["parent"].astype(str).to_numpy()
    parent = np.where(is_root, -1, index.get_indexer(parent_codes))
    bad = (~is_root) & (parent < 0)
    if bad.any():
        row = hierarchy.index[bad][0]
        raise ValueError(
            f"table {name}: row {row}, column 'parent': parent {parent_codes[bad][0]!r} of "
            f"{codes[bad][0]!r} is not a territory of the table"
        )
    level = hierarchy["level"].astype(str).to_numpy()
    n_all = len(codes)

    # Keep the requested levels, linking each kept node to its nearest kept ancestor.
    if levels is not None:
        levels = [levels] if isinstance(levels, str) else list(levels)
        unknown = sorted(set(levels) - set(level))
        if unknown:
            raise ValueError(f"table {name}: no territory of level {unknown[0]!r}")
        keep = np.isin(level, levels)
    else:
        keep = np.ones(n_all, dtype=bool)
    anc = parent.copy()
    for _ in range(n_all + 1):
        climb = (anc >= 0) & ~keep[np.maximum(anc, 0)]
        if not climb.any():
            break
        anc = np.where(climb, parent[np.maximum(anc, 0)], anc)
    else:
        raise ValueError(f"table {name}: the parent links contain a cycle")

    # Depth of each node (pointer jumping), detecting cycles.
    depth = np.zeros(n_all, dtype=np.int64)
    p = anc.copy()
    for _ in range(n_all + 1):
        up = p >= 0
        if not up.any():
            break
        depth += up
        p = np.where(up, anc[np.maximum(p, 0)], -1)
    else:
        cyc = np.flatnonzero(p >= 0)[0]
        raise ValueError(
            f"table {name}: row {hierarchy.index[cyc]}: the parent links of {codes[cyc]!r} form a cycle"
        )

    kept = np.flatnonzero(keep)
    order = kept[np.lexsort((codes[kept], depth[kept]))]
    new_pos = np.full(n_all, -1, dtype=np.int64)
    new_pos[order] = np.arange(len(order))
    par = anc[order]
    par = np.where(par >= 0, new_pos[np.maximum(par, 0)], -1)
    dep = depth[order]
    n = len(order)
    max_depth = int(dep.max()) if n else -1
    bounds = []
    for d in range(max_depth + 1):
        start, stop = np.searchsorted(dep, [d, d + 1])
        bounds.append((int(start), int(stop)))
    up_mats: list[sp.csr_matrix] = [sp.csr_matrix((0, 0))]
    for d in range(1, max_depth + 1):
        (ps, pe), (cs, ce) = bounds[d - 1], bounds[d]
        rows = par[cs:ce] - ps
        up_mats.append(
            sp.csr_matrix((np.ones(ce - cs), (rows, np.arange(ce - cs))), shape=(pe - ps, ce - cs))
        )
    has_child = np.zeros(n, dtype=bool)
    has_child[par[par >= 0]] = True
    leaves = np.flatnonzero(~has_child)
    # Summing matrix: each leaf counts in itself and all its ancestors.
    rows, cols = [leaves], [np.arange(len(leaves))]
    a = par[leaves]
    j = np.arange(len(leaves))
    while (a >= 0).any():
        ok = a >= 0
        rows.append(a[ok])
        cols.append(j[ok])
        a, j = par[a[ok]], j[ok]
    rows_a, cols_a = np.concatenate(rows), np.concatenate(cols)
    S = sp.csr_matrix((np.ones(len(rows_a)), (rows_a, cols_a)), shape=(n, len(leaves)))
    return _Tree(
        codes=pd.Index(codes[order], dtype=object),
        levels=level[order],
        parent=par,
        depth_bounds=bounds,
        up=up_mats,
        is_leaf=~has_child,
        leaves=leaves,
        S=S,
    )


def summing_matrix(
    hierarchy: pd.DataFrame, *, levels=None, id_col: str = "territory"
) -> tuple[sp.csr_matrix, pd.Index, pd.Index]:
    """Summing matrix of a territory hierarchy.

    Parameters
    ----------
    hierarchy : DataFrame
        Canonical territories table (``territory``, ``level``, ``parent``; roots have a null or
        empty parent).
    levels : list of str, optional
        Levels to keep; a kept territory is linked to its nearest kept ancestor. Default: all.
    id_col : str, default "territory"
        Column holding the territory codes.

    Returns
    -------
    S : scipy.sparse.csr_matrix of shape (n_nodes, n_bottom)
        ``S[i, j] = 1`` when bottom territory ``j`` is ``i`` or lies under ``i``.
    nodes : Index
        Territory codes of the rows, roots first (by depth, then code).
    bottom : Index
        Territory codes of the columns (territories without children).

    Examples
    --------
    >>> import pandas as pd
    >>> terr = pd.DataFrame({"territory": ["FR", "R1", "R2"], "level": ["nation", "region", "region"],
    ...                      "parent": [None, "FR", "FR"]})
    >>> S, nodes, bottom = summing_matrix(terr)
    >>> S.toarray().tolist(), list(nodes), list(bottom)
    ([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]], ['FR', 'R1', 'R2'], ['R1', 'R2'])
    """
    tree = _build_tree(hierarchy, id_col=id_col, levels=levels)
    return tree.S, tree.codes, tree.codes[tree.leaves]


# ---------------------------------------------------------------------------------------------
# Table plumbing
# ---------------------------------------------------------------------------------------------


def _first_row(df: pd.DataFrame, mask: np.ndarray):
    return df.index[np.flatnonzero(mask)[0]]


def _map_nodes(tree: _Tree, codes: pd.Series, table: str, df: pd.DataFrame, id_col: str):
    if codes.isna().any():
        raise ValueError(
            f"table {table}: row {_first_row(df, codes.isna().to_numpy())}, column {id_col!r}: "
            "missing territory code"
        )
    # Factorise first: a long table repeats each territory code many times.
    pos, uniques = pd.factorize(codes)
    idx = tree.codes.get_indexer(np.asarray(uniques, dtype=str).astype(object))[pos]
    if (idx < 0).any():
        bad = idx < 0
        raise ValueError(
            f"table {table}: row {_first_row(df, bad)}, column {id_col!r}: territory "
            f"{codes.to_numpy()[bad][0]!r} is not in the hierarchy (at the reconciled levels)"
        )
    return idx


def _fill(df, table, node_idx, group_idx, n, G, cols):
    """Matrix (n, G * len(cols)) from a long table; duplicated keys must agree."""
    V = len(cols)
    out = np.full((G, V, n), np.nan)
    for v, col in enumerate(cols):
        vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(vals)
        if bad.any():
            raise ValueError(
                f"table {table}: row {_first_row(df, bad)}, column {col!r}: missing or non-numeric "
                f"value {df[col].to_numpy()[bad][0]!r}"
            )
        out[group_idx, v, node_idx] = vals
        clash = out[group_idx, v, node_idx] != vals
        if clash.any():
            raise ValueError(
                f"table {table}: row {_first_row(df, clash)}, column {col!r}: the same series and "
                "period appears with different values"
            )
    return out.reshape(G * V, n).T


def _first_cell(tree, keys, mask, V) -> tuple[str, str]:
    """Territory and group (``col=value, ...``) of the first cell of ``mask`` (nodes x columns)."""
    node, col = np.argwhere(mask)[0]
    key = ", ".join(f"{k}={v!r}" for k, v in keys.iloc[col // V].items())
    return tree.codes[node], key


def _missing_error(table, tree, keys, mat, V, what="base forecast"):
    miss = np.isnan(mat)
    code, key = _first_cell(tree, keys, miss, V)
    raise ValueError(
        f"table {table}: no {what} for territory {code!r} ({key}); "
        f"{int(miss.sum())} node x group values are missing (every territory of the hierarchy at "
        "the reconciled levels needs one)"
    )


def _residual_weights(residuals, tree, keys, id_col, group_cols, residual_col, full):
    """Covariance (full) or variances per group of ``group_cols`` present in the residuals."""
    if not isinstance(residuals, pd.DataFrame):
        raise ValueError("this method needs in-sample residuals: pass residuals=DataFrame")
    for col in (id_col, residual_col):
        if col not in residuals.columns:
            raise ValueError(f"table residuals: missing column {col!r}")
    cov_cols = [c for c in group_cols if c in residuals.columns]
    sample_cols = [c for c in residuals.columns if c not in (id_col, residual_col, *cov_cols)]
    node = _map_nodes(tree, residuals[id_col], "residuals", residuals, id_col)
    res = pd.to_numeric(residuals[residual_col], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    if not np.isfinite(res).all():
        bad = ~np.isfinite(res)
        raise ValueError(
            f"table residuals: row {_first_row(residuals, bad)}, column {residual_col!r}: "
            "missing or non-numeric residual"
        )
    if cov_cols:
        grp = residuals.groupby(cov_cols, sort=True, dropna=False).ngroup().to_numpy()
        grp_keys = residuals[cov_cols].drop_duplicates().sort_values(cov_cols)
    else:
        grp = np.zeros(len(residuals), dtype=int)
        grp_keys = pd.DataFrame(index=[0])
    if sample_cols:
        smp = residuals.groupby(sample_cols, sort=True, dropna=False).ngroup().to_numpy()
    else:
        smp = residuals.groupby([id_col, *cov_cols], sort=False).cumcount().to_numpy()
    n_g, n_s = grp.max() + 1, smp.max() + 1
    X = np.full((n_g, n_s, tree.n), np.nan)
    X[grp, smp, node] = res
    if np.bincount((grp * n_s + smp) * tree.n + node, minlength=n_g * n_s * tree.n).max() > 1:
        raise ValueError(
            "table residuals: a territory has several residuals for the same sample "
            f"(samples are identified by {sample_cols or 'row order'})"
        )
    # Each covariance group: samples where it has any residual must be complete.
    weights = {}
    lambdas = {}
    no_res = {}
    for g in range(n_g):
        Xg = X[g]
        present = ~np.isnan(Xg).all(axis=1)
        Xg = Xg[present]
        # Territories without any residual in this group: allowed for absent series only
        # (checked by the caller); they get zero residuals here and are removed later.
        no_res[g] = np.isnan(Xg).all(axis=0)
        Xg = np.where(no_res[g][None, :], 0.0, Xg)
        if np.isnan(Xg).any():
            t, nd = np.argwhere(np.isnan(Xg))[0]
            raise ValueError(
                f"table residuals: territory {tree.codes[nd]!r} has no residual for one sample "
                f"({grp_keys.iloc[g].to_dict() if cov_cols else 'all'}); every territory needs a "
                "residual for every sample"
            )
        if full:
            U, d, lambdas[g] = _shrinkage_parts(Xg)
            weights[g] = (U, d)
        else:
            var = (Xg**2).mean(axis=0)
            pos = var[var > 0]
            weights[g] = np.maximum(var, 1e-8 * (pos.mean() if pos.size else 1.0))
    # Map each forecast group to its covariance group.
    if cov_cols:
        gk = pd.MultiIndex.from_frame(grp_keys.astype(keys[cov_cols].dtypes.to_dict()))
        col_group = gk.get_indexer(pd.MultiIndex.from_frame(keys[cov_cols]))
        if (col_group < 0).any():
            g = int(np.flatnonzero(col_group < 0)[0])
            raise ValueError(
                f"table residuals: no residuals for {keys[cov_cols].iloc[g].to_dict()}"
            )
    else:
        col_group = np.zeros(len(keys), dtype=int)
    return weights, col_group, lambdas, no_res


# ---------------------------------------------------------------------------------------------
# Public function
# ---------------------------------------------------------------------------------------------


def reconcile(
    forecasts: pd.DataFrame,
    hierarchy: pd.DataFrame,
    method: str = "mint_ols",
    *,
    fixed: dict[str, Any] | None = None,
    nonnegative: bool = True,
    value_cols=("mean",),
    interval_cols=("lower", "upper"),
    id_col: str = "territory",
    group_cols=("occupation",),
    period_col: str | None = "period",
    residuals: pd.DataFrame | None = None,
    residual_col: str = "residual",
    proportions: str | pd.DataFrame = "forecast",
    levels=None,
    missing_series: str = "zero",
    max_iter: int = 1000,
) -> pd.DataFrame:
    """Make forecasts coherent across the levels of a territory hierarchy.

    Parameters
    ----------
    forecasts : DataFrame
        Long table of base forecasts with ``id_col``, ``group_cols``, ``period_col`` and the
        ``value_cols`` (e.g. the output of ``Forecaster.predict()``), with a base forecast for every
        territory of the reconciled levels x occupation x period (see ``missing_series`` for
        occupations absent from some territories). Rows repeating the same series
        and period (one row per interval level) must carry the same values; other columns pass
        through unchanged.
    hierarchy : DataFrame
        Canonical territories table (``territory``, ``label``, ``level``, ``parent``). The bottom
        series are the territories without children.
    method : {"mint_ols", "wls_struct", "wls_var", "mint_shrink", "bottom_up", "top_down"}
        ``mint_ols``: W = I. ``wls_struct``: W = diag(number of bottom series under each node).
        ``wls_var``: W = diag(residual variances). ``mint_shrink``: W = residual covariance
        shrunk towards its diagonal (needs ``residuals``). ``bottom_up``: aggregates are sums of
        the bottom forecasts. ``top_down``: the top forecast split down (see ``proportions``).
    fixed : dict, optional
        ``{level: True or DataFrame}``: totals kept exactly at a level. ``True`` keeps the base
        forecasts of that level (official figures already in ``forecasts``); a DataFrame gives
        them (columns ``id_col``, the group and period columns, and the value columns, or
        ``value`` when there is a single value column) for every territory of the level.
        Kept exactly by the MinT methods (equality-constrained least squares) and by ``top_down``
        (fixed totals are split below; a node whose territories are all fixed is their sum);
        ``bottom_up`` accepts them at the bottom level only. Inconsistent fixed totals (a fixed
        aggregate different from the sum of fixed territories covering it) raise an error.
    nonnegative : bool, default True
        Constrain the reconciled bottom series (hence all series) to be >= 0 (exact constrained
        least squares for the MinT methods; clipping of the base forecasts for bottom-up and of the
        top total and proportions for top-down).
    value_cols : sequence of str, default ("mean",)
        Columns reconciled (each independently).
    interval_cols : sequence of str, default ("lower", "upper")
        Columns shifted by the adjustment made to the first value column (and clipped at 0 when
        ``nonnegative``), when present. Interval bounds are not additive, so they are not
        reconciled themselves: each interval keeps its width around the reconciled mean.
    id_col : str, default "territory"
    group_cols : sequence of str, default ("occupation",)
        Columns whose values are separate hierarchies (not aggregated). Residual covariances are
        estimated per group.
    period_col : str or None, default "period"
        Each period is reconciled separately.
    residuals : DataFrame, optional
        In-sample (or backtest) residuals for ``wls_var`` and ``mint_shrink``: ``id_col``, the
        group columns, ``residual_col`` and any columns identifying the sample (period, origin,
        horizon...); every territory needs a residual for every sample of its group.
    residual_col : str, default "residual"
    proportions : {"forecast", "bottom"} or DataFrame, default "forecast"
        For ``top_down``: ``"forecast"`` splits each total among its children in proportion to
        their base forecasts, level by level (Athanasopoulos et al. 2009); ``"bottom"`` in
        proportion to the sums of the base bottom forecasts; a DataFrame gives (historical)
        proportions of the bottom series (``id_col``, optional group columns, ``proportion``).
    levels : sequence of str, optional
        Hierarchy levels to reconcile. Default: the levels of the territories in ``forecasts``.
    missing_series : {"zero", "raise"}, default "zero"
        What a territory without a base forecast for an occupation and period means. ``"zero"``:
        the series does not exist there (no jobs): it is held at 0 exactly and gets no row,
        which is allowed only when no territory below it has a forecast either (otherwise an
        error names it). ``"raise"``: every territory of the reconciled levels needs a forecast.
    max_iter : int, default 1000
        Maximum active-set iterations of the non-negative solution.

    Returns
    -------
    DataFrame
        ``forecasts`` with the value columns replaced by the reconciled values, interval columns
        shifted, and a ``reconciliation`` column naming the method. ``attrs["reconciliation"]``
        holds details (active-set iterations, series held at zero, shrinkage intensities).

    Examples
    --------
    >>> import pandas as pd
    >>> terr = pd.DataFrame({"territory": ["FR", "R1", "R2"], "label": ["France", "Nord", "Sud"],
    ...                      "level": ["nation", "region", "region"], "parent": [None, "FR", "FR"]})
    >>> fc = pd.DataFrame({"territory": ["FR", "R1", "R2"], "occupation": "A1201",
    ...                    "period": 2030, "mean": [110.0, 60.0, 40.0]})
    >>> out = reconcile(fc, terr, method="mint_ols")
    >>> out["mean"].round(4).tolist()
    [106.6667, 63.3333, 43.3333]
    """
    _check_method(method, missing_series, forecasts)
    value_cols = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    group_cols = [group_cols] if isinstance(group_cols, str) else list(group_cols)
    key_cols = group_cols + ([period_col] if period_col is not None else [])
    for col in (id_col, *key_cols, *value_cols):
        if col not in forecasts.columns:
            raise ValueError(f"table forecasts: missing column {col!r}")
    if len(forecasts) == 0:
        raise ValueError("table forecasts: no rows")
    if levels is None:
        levels = _forecast_levels(forecasts, hierarchy, id_col)
    tree = _build_tree(hierarchy, id_col=id_col, levels=levels)
    n = tree.n
    node_idx, group_idx, keys, Y, missing = _base_matrix(
        forecasts, tree, id_col, key_cols, value_cols, missing_series
    )
    G, V = len(keys), len(value_cols)
    level_fixed, F = _fixed_totals(fixed, tree, Y, keys, id_col, key_cols, value_cols)
    if nonnegative and (F[level_fixed] < 0).any():
        raise ValueError("fixed totals must be >= 0 when nonnegative=True")
    # Series without a base forecast are structural zeros, held at 0 like a fixed total.
    F = np.where(missing & ~level_fixed[:, None], 0.0, F)
    fixed_mask = level_fixed[:, None] | missing

    details: dict[str, Any] = {
        "method": method,
        "n_series": n * G,
        "n_bottom": len(tree.leaves),
        "structural_zeros": int(missing.sum()),
    }
    if method == "bottom_up":
        if (level_fixed & ~tree.is_leaf).any():
            raise ValueError(
                "bottom_up cannot keep fixed totals above the bottom level; use mint_ols, "
                "wls_struct or top_down"
            )
        leaf = np.where(fixed_mask, F, Y)[tree.leaves]
        R = tree.bottom_up(np.maximum(leaf, 0.0) if nonnegative else leaf)
    elif method == "top_down":
        weights = _top_down_weights(proportions, tree, Y, keys, id_col, group_cols, V, nonnegative)
        R = _top_down(tree, Y, weights, fixed_mask, F, nonnegative)
    elif method in ("mint_ols", "wls_struct"):
        if method == "mint_ols":
            w = np.ones((n, 1))
        else:
            # Number of (present) bottom series under each node.
            w = np.maximum(tree.S @ (~missing[tree.leaves]).astype(float), 1.0)
        R, info = _tree_gls(tree, Y, w, fixed_mask, F, nonnegative, max_iter)
        details.update(info)
    else:
        R = _residual_reconcile(
            method, tree, Y, F, missing, fixed_mask, level_fixed, keys, residuals,
            id_col, group_cols, residual_col, V, nonnegative, max_iter, details,
        )  # fmt: skip
    return _back_to_rows(
        forecasts, R, Y, group_idx, node_idx, value_cols, interval_cols, nonnegative,
        method, details,
    )  # fmt: skip


def _check_method(method: str, missing_series: str, forecasts) -> None:
    """Check the method, the missing-series rule and the forecasts' type."""
    if method not in METHODS:
        raise ValueError(f"unknown reconciliation method {method!r}; choose one of {METHODS}")
    if missing_series not in ("zero", "raise"):
        raise ValueError(f"missing_series must be 'zero' or 'raise', got {missing_series!r}")
    if not isinstance(forecasts, pd.DataFrame):
        raise TypeError(f"forecasts must be a DataFrame, got {type(forecasts).__name__}")


def _forecast_levels(forecasts: pd.DataFrame, hierarchy: pd.DataFrame, id_col: str):
    """The levels of the territories that have forecasts (unknown codes are reported later)."""
    if id_col in hierarchy.columns and "level" in hierarchy.columns:
        present = pd.unique(forecasts[id_col].dropna().astype(str))
        known = hierarchy[hierarchy[id_col].astype(str).isin(present)]
        return sorted(known["level"].astype(str).unique()) if len(known) else None
    return None


def _base_matrix(forecasts, tree, id_col, key_cols, value_cols, missing_series):
    """Base forecasts as a node x (group x value) matrix, structural zeros at 0.

    Returns the node and group index of each forecast row, the group keys, the matrix and the
    mask of the series without a base forecast (allowed only where no territory below has one).
    """
    n = tree.n
    node_idx = _map_nodes(tree, forecasts[id_col], "forecasts", forecasts, id_col)
    if key_cols:
        group_idx = forecasts.groupby(key_cols, sort=True, dropna=False).ngroup().to_numpy()
        keys = forecasts[key_cols].drop_duplicates().sort_values(key_cols).reset_index(drop=True)
    else:
        group_idx = np.zeros(len(forecasts), dtype=int)
        keys = pd.DataFrame(index=[0])
    G, V = len(keys), len(value_cols)
    Y = _fill(forecasts, "forecasts", node_idx, group_idx, n, G, value_cols)
    missing = np.isnan(Y)
    if missing.any():
        if missing_series == "raise":
            _missing_error("forecasts", tree, keys, Y, V)
        # Structural zeros: allowed only where no territory below has a forecast.
        below = tree.S @ (~missing[tree.leaves]).astype(float)
        bad = missing & (below > 0)
        if bad.any():
            code, key = _first_cell(tree, keys, bad, V)
            raise ValueError(
                f"table forecasts: no base forecast for territory {code!r} ({key}) "
                "although territories below it have one; give a forecast for every aggregate"
            )
        Y = np.where(missing, 0.0, Y)
    return node_idx, group_idx, keys, Y, missing


def _fixed_totals(fixed, tree, Y, keys, id_col, key_cols, value_cols):
    """The nodes whose totals are fixed (per level) and the matrix of those totals."""
    fixed_mask = np.zeros(tree.n, dtype=bool)
    F = np.zeros_like(Y)
    for level, spec in (fixed or {}).items():
        in_level = tree.levels == str(level)
        if not in_level.any():
            raise ValueError(f"fixed: no territory of level {level!r} in the reconciled hierarchy")
        fixed_mask |= in_level
        if spec is True:
            F[in_level] = Y[in_level]
            continue
        Fl = _fixed_level(spec, level, in_level, tree, keys, id_col, key_cols, value_cols)
        F[in_level] = Fl[in_level]
    return fixed_mask, F


def _fixed_level(spec, level, in_level, tree, keys, id_col, key_cols, value_cols):
    """The fixed totals of one level, given as a table, checked and put in matrix form."""
    V = len(value_cols)
    if not isinstance(spec, pd.DataFrame):
        raise ValueError(f"fixed[{level!r}] must be True or a DataFrame")
    fcols = value_cols if all(c in spec.columns for c in value_cols) else None
    if fcols is None and V == 1 and "value" in spec.columns:
        fcols = ["value"]
    if fcols is None:
        raise ValueError(f"table fixed[{level!r}]: missing column(s) {value_cols}")
    for col in (id_col, *key_cols):
        if col not in spec.columns:
            raise ValueError(f"table fixed[{level!r}]: missing column {col!r}")
    f_node = _map_nodes(tree, spec[id_col], f"fixed[{level!r}]", spec, id_col)
    wrong = ~in_level[f_node]
    if wrong.any():
        raise ValueError(
            f"table fixed[{level!r}]: row {_first_row(spec, wrong)}, column {id_col!r}: "
            f"territory {tree.codes[f_node[wrong][0]]!r} is not of level {level!r}"
        )
    if key_cols:
        kidx = pd.MultiIndex.from_frame(keys)
        f_grp = kidx.get_indexer(
            pd.MultiIndex.from_frame(spec[key_cols].astype(keys.dtypes.to_dict()))
        )
        if (f_grp < 0).any():
            bad = f_grp < 0
            raise ValueError(
                f"table fixed[{level!r}]: row {_first_row(spec, bad)}: "
                f"{spec[key_cols].iloc[np.flatnonzero(bad)[0]].to_dict()} has no forecasts"
            )
    else:
        f_grp = np.zeros(len(spec), dtype=int)
    Fl = _fill(spec, f"fixed[{level!r}]", f_node, f_grp, tree.n, len(keys), fcols)
    if np.isnan(Fl[in_level]).any():
        sub = np.where(in_level[:, None], Fl, 0.0)
        _missing_error(f"fixed[{level!r}]", tree, keys, sub, V, what="fixed total")
    return Fl


def _top_down_weights(proportions, tree, Y, keys, id_col, group_cols, V, nonnegative):
    """The weights that split each total down the tree for ``method="top_down"``."""
    if isinstance(proportions, pd.DataFrame):
        P = _proportion_matrix(proportions, tree, keys, id_col, group_cols, V)
        return tree.bottom_up(P[tree.leaves])
    if proportions == "forecast":
        return Y
    if proportions == "bottom":
        leaf = Y[tree.leaves]
        return tree.bottom_up(np.maximum(leaf, 0.0) if nonnegative else leaf)
    raise ValueError(
        f"proportions must be 'forecast', 'bottom' or a DataFrame, got {proportions!r}"
    )


def _residual_reconcile(
    method, tree, Y, F, missing, fixed_mask, level_fixed, keys, residuals,
    id_col, group_cols, residual_col, V, nonnegative, max_iter, details,
):  # fmt: skip
    """Reconcile with weights from the backtest residuals (``mint_wls`` / ``mint_shrink``).

    Records the iterations, pinned series and (``mint_shrink``) the shrinkage per covariance
    group in ``details``; returns the reconciled matrix.
    """
    full = method == "mint_shrink"
    weights, col_group, lambdas, no_res = _residual_weights(
        residuals, tree, keys, id_col, group_cols, residual_col, full
    )
    cgroup = np.repeat(col_group, V)  # column g * V + v belongs to forecast group g
    lacking = np.stack([no_res[g] for g in cgroup], axis=1) & ~missing
    if lacking.any():
        code, key = _first_cell(tree, keys, lacking, V)
        raise ValueError(
            f"table residuals: no residuals for territory {code!r} ({key}), "
            "which has a base forecast"
        )
    if not full:
        w = np.stack([weights[g] for g in cgroup], axis=1)
        R, info = _tree_gls(tree, Y, w, fixed_mask, F, nonnegative, max_iter)
        details.update(info)
        return R
    C = _constraint_matrix(tree)
    R = np.empty_like(Y)
    info = {"iterations": 0, "pinned": 0}
    cov_cols = [c for c in group_cols if c in residuals.columns]
    details["shrinkage"] = {}
    # Many small dense solves: one BLAS thread is fastest (and fair on shared cores).
    with threadpool_limits(1, user_api="blas"):
        for g, (U, d) in weights.items():
            cols = np.flatnonzero(cgroup == g)
            if cols.size == 0:
                continue
            R[:, cols], inf_g = _dense_gls(
                tree, C, U, d, Y[:, cols], level_fixed, missing[:, cols], F[:, cols],
                nonnegative, max_iter,
            )  # fmt: skip
            info["iterations"] = max(info["iterations"], inf_g["iterations"])
            info["pinned"] += inf_g["pinned"]
            first = np.flatnonzero(col_group == g)[0]
            label = "/".join(str(keys[c].iloc[first]) for c in cov_cols) or "all"
            details["shrinkage"][label] = lambdas[g]
    details.update(info)
    return R


def _back_to_rows(
    forecasts, R, Y, group_idx, node_idx, value_cols, interval_cols, nonnegative, method, details
) -> pd.DataFrame:
    """The forecasts table with reconciled values; bounds move with the first value column."""
    n = R.shape[0]
    V = len(value_cols)
    G = R.shape[1] // V
    R3 = R.T.reshape(G, V, n)
    Y3 = Y.T.reshape(G, V, n)
    out = forecasts.copy()
    for v, col in enumerate(value_cols):
        out[col] = R3[group_idx, v, node_idx]
    shift = R3[group_idx, 0, node_idx] - Y3[group_idx, 0, node_idx]
    for col in interval_cols:
        if col in out.columns and col not in value_cols:
            b = (
                pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                + shift
            )
            out[col] = np.maximum(b, 0.0) if nonnegative else b
    out["reconciliation"] = method
    out.attrs["reconciliation"] = details
    return out


def _proportion_matrix(props, tree, keys, id_col, group_cols, V):
    """Bottom proportions (n, G * V) from a table of id_col, [group cols], proportion."""
    if "proportion" not in props.columns or id_col not in props.columns:
        raise ValueError(f"table proportions: needs columns {id_col!r} and 'proportion'")
    node = _map_nodes(tree, props[id_col], "proportions", props, id_col)
    not_leaf = ~tree.is_leaf[node]
    if not_leaf.any():
        raise ValueError(
            f"table proportions: row {_first_row(props, not_leaf)}: territory "
            f"{tree.codes[node[not_leaf][0]]!r} is not a bottom territory"
        )
    pcols = [c for c in group_cols if c in props.columns]
    vals = pd.to_numeric(props["proportion"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    bad = ~np.isfinite(vals) | (vals < 0)
    if bad.any():
        raise ValueError(
            f"table proportions: row {_first_row(props, bad)}, column 'proportion': "
            "missing or negative proportion"
        )
    if pcols:
        pk = props[pcols].drop_duplicates().sort_values(pcols).reset_index(drop=True)
        pg = props.groupby(pcols, sort=True, dropna=False).ngroup().to_numpy()
    else:
        pk, pg = pd.DataFrame(index=[0]), np.zeros(len(props), dtype=int)
    base = np.full((len(pk), tree.n), np.nan)
    base[pg, node] = vals
    if pcols:
        col_g = pd.MultiIndex.from_frame(pk.astype(keys[pcols].dtypes.to_dict())).get_indexer(
            pd.MultiIndex.from_frame(keys[pcols])
        )
    else:
        col_g = np.zeros(len(keys), dtype=int)
    if (col_g < 0).any():
        raise ValueError(
            f"table proportions: no proportions for {keys[pcols].iloc[np.flatnonzero(col_g < 0)[0]].to_dict()}"
        )
    P = base[np.repeat(col_g, V)].T
    missing = np.isnan(P[tree.leaves])
    if missing.any():
        node_m = tree.leaves[np.argwhere(missing)[0][0]]
        raise ValueError(
            f"table proportions: no proportion for bottom territory {tree.codes[node_m]!r}"
        )
    return np.nan_to_num(P)
