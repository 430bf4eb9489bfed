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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

__all__ = ["reconcile", "summing_matrix", "shrunk_covariance", "METHODS"]

#: Reconciliation methods accepted by :func:`reconcile`.
METHODS = ("bottom_up", "top_down", "mint_ols", "wls_struct", "wls_var", "mint_shrink")

# ---------------------------------------------------------------------------------------------
# Hierarchy
# ---------------------------------------------------------------------------------------------


@dataclass
class _Tree:
    """A territory tree with nodes ordered by depth (roots first), then by code."""

    codes: pd.Index  # node codes in node order
    levels: np.ndarray  # level name of each node
    parent: np.ndarray  # parent node index, -1 for a root
    depth_bounds: list[tuple[int, int]]  # [start, stop) of the nodes at each depth
    up: list[sp.csr_matrix]  # up[d]: (nodes at depth d-1) x (nodes at depth d) child -> parent
    is_leaf: np.ndarray
    leaves: np.ndarray  # node indices of the bottom series
    S: sp.csr_matrix  # summing matrix, n x m

    @property
    def n(self) -> int:
        return len(self.codes)

    def bottom_up(self, leaf_values: np.ndarray) -> np.ndarray:
        """All node values (n, K) from bottom values (m, K)."""
        return np.asarray(self.S @ leaf_values)


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
# Exact GLS on a tree with diagonal W (inside / outside recursion)
# ---------------------------------------------------------------------------------------------


def _combine(m1, v1, m2, v2, tol):
    """Combine two independent estimates (mean, variance); variance 0 means exact."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tot = v1 + v2
        m = (m1 * v2 + m2 * v1) / tot
        v = v1 * v2 / tot
    e1, e2 = v1 == 0, v2 == 0
    m = np.where(e1, m1, np.where(e2, m2, m))
    v = np.where(e1 | e2, 0.0, v)
    conflict = e1 & e2 & (np.abs(m1 - m2) > tol)
    return m, v, conflict


def _tree_pass(tree: _Tree, yhat: np.ndarray, w: np.ndarray, tol: np.ndarray):
    """One exact GLS projection. Returns bottom values, outside messages of the leaves, conflicts.

    ``yhat`` and ``w`` have shape (n, K); ``w == 0`` marks a node held at ``yhat`` exactly.
    """
    n, K = yhat.shape
    U = np.empty_like(yhat)  # inside estimate of each node total from its subtree
    V = np.empty_like(yhat)
    SU = np.zeros_like(yhat)  # sums of the children's inside estimates
    SV = np.zeros_like(yhat)
    conflict = np.zeros(K, dtype=bool)
    leaf = tree.is_leaf
    nd = len(tree.depth_bounds)
    for d in range(nd - 1, -1, -1):
        s, e = tree.depth_bounds[d]
        lf = leaf[s:e]
        U[s:e] = np.where(lf[:, None], yhat[s:e], 0.0)
        V[s:e] = np.where(lf[:, None], w[s:e], 0.0)
        if not lf.all():
            a = np.flatnonzero(~lf) + s
            U[a], V[a], c = _combine(yhat[a], w[a], SU[a], SV[a], tol)
            conflict |= c.any(axis=0)
        if d > 0:
            ps, pe = tree.depth_bounds[d - 1]
            SU[ps:pe] += tree.up[d] @ U[s:e]
            SV[ps:pe] += tree.up[d] @ V[s:e]
    # Outside pass: information on each node total from everything outside its subtree.
    Om = np.zeros_like(yhat)
    Qv = np.full_like(yhat, np.inf)
    for d in range(nd - 1):
        s, e = tree.depth_bounds[d]
        cs, ce = tree.depth_bounds[d + 1]
        if d == 0:
            P, Pv = yhat[s:e], w[s:e]
        else:
            P, Pv, c = _combine(Om[s:e], Qv[s:e], yhat[s:e], w[s:e], tol)
            conflict |= (c & ~leaf[s:e, None]).any(axis=0)
        par = tree.parent[cs:ce] - s
        Om[cs:ce] = P[par] - (SU[s:e][par] - U[cs:ce])
        Qv[cs:ce] = Pv[par] + (SV[s:e][par] - V[cs:ce])
    lv = tree.leaves
    y_leaf, _, c = _combine(U[lv], V[lv], Om[lv], Qv[lv], tol)
    # A leaf that is also a root has no outside information (Qv = inf): keep its inside value.
    y_leaf = np.where(np.isinf(Qv[lv]), U[lv], y_leaf)
    conflict |= (c & ~np.isinf(Qv[lv])).any(axis=0)
    return y_leaf, Om[lv], Qv[lv], conflict


class _PivotingState:
    """Block principal pivoting rule (Kim & Park 2011, after Judice & Pires 1994) per column.

    All infeasible variables are exchanged at once while their number decreases (or for up to 3
    steps without decrease); otherwise only the one with the largest index (Murty's rule), which
    guarantees termination.
    """

    def __init__(self, K: int, m: int):
        self.ninf = np.full(K, m + 1)
        self.budget = np.full(K, 3)

    def exchange(self, infeasible: np.ndarray) -> np.ndarray:
        cnt = infeasible.sum(axis=0)
        better = cnt < self.ninf
        self.ninf = np.where(better, cnt, self.ninf)
        self.budget = np.where(better, 3, self.budget)
        full = better | (self.budget > 0)
        self.budget = np.where(~better & full, self.budget - 1, self.budget)
        swap = infeasible & full[None, :]
        single = np.flatnonzero(~full & (cnt > 0))
        if single.size:
            last = infeasible.shape[0] - 1 - np.argmax(infeasible[::-1, single], axis=0)
            swap[last, single] = True
        return swap


def _tree_gls(
    tree: _Tree,
    yhat: np.ndarray,
    w: np.ndarray,
    fixed_mask: np.ndarray,
    fixed_vals: np.ndarray,
    nonnegative: bool,
    max_iter: int,
) -> tuple[np.ndarray, dict]:
    n, K = yhat.shape
    w = np.broadcast_to(w, (n, K)).astype(float)
    y0 = np.where(fixed_mask, fixed_vals, yhat)
    w0 = np.where(fixed_mask, 0.0, w)
    scale = np.maximum(np.abs(y0).max(axis=0), 1.0)
    tol = 1e-9 * scale
    lv = tree.leaves
    y_leaf, Om, Qv, conflict = _tree_pass(tree, y0, w0, tol)
    if conflict.any():
        raise ValueError(
            "fixed totals are inconsistent: some fixed aggregate differs from the sum of the fixed "
            "territories below it"
        )
    info = {"iterations": 0, "pinned": 0}
    if nonnegative:
        free_leaf = ~fixed_mask[lv]
        pinned = np.zeros((len(lv), K), dtype=bool)
        ntol = 1e-10 * scale
        bpp = _PivotingState(K, len(lv))
        n_iter = 0
        while True:
            # KKT check: a free leaf must be >= 0; a held leaf must not want to grow (the value it
            # would take if released alone, combining its base forecast with everything else,
            # is <= 0, i.e. its Lagrange multiplier is >= 0).
            t_star, _, _ = _combine(yhat[lv], w[lv], Om, Qv, tol)
            t_star = np.where(np.isinf(Qv), yhat[lv], t_star)
            infeasible = (free_leaf & ~pinned & (y_leaf < -ntol)) | (pinned & (t_star > ntol))
            if not infeasible.any():
                break
            n_iter += 1
            if n_iter > max_iter:
                raise RuntimeError(
                    f"non-negative reconciliation did not converge in {max_iter} iterations"
                )
            pinned ^= bpp.exchange(infeasible)
            yp = y0.copy()
            wp = w0.copy()
            yp[lv] = np.where(pinned, 0.0, y0[lv])
            wp[lv] = np.where(pinned, 0.0, w0[lv])
            y_leaf, Om, Qv, conflict = _tree_pass(tree, yp, wp, tol)
            if conflict.any():
                raise ValueError(
                    "no non-negative coherent solution keeps the fixed totals: a fixed total is "
                    "smaller than the fixed totals below it"
                )
        info = {"iterations": n_iter, "pinned": int(pinned.sum())}
        y_leaf = np.where(pinned, 0.0, np.maximum(y_leaf, 0.0))
    return tree.bottom_up(y_leaf), info


# ---------------------------------------------------------------------------------------------
# Dense MinT with a full covariance (constraint form)
# ---------------------------------------------------------------------------------------------


def _shrinkage_parts(residuals: np.ndarray, var_floor: float = 1e-8):
    """Shrunk covariance as ``U'U + diag(d)`` (U of shape (T, n)) and the intensity lambda.

    The intensity only needs sums over the correlation matrix, computed through the T x T Gram
    matrix of the standardised residuals, so no n x n matrix is formed.
    """
    X = np.asarray(residuals, dtype=float)
    T, n = X.shape
    if T < 2:
        raise ValueError(f"mint_shrink needs at least 2 residuals per series, got {T}")
    if not np.isfinite(X).all():
        raise ValueError("residuals contain missing or infinite values")
    var = (X**2).mean(axis=0)
    pos = var[var > 0]
    floor = var_floor * (pos.mean() if pos.size else 1.0)
    sd = np.sqrt(var)
    Xs = np.divide(X, sd, out=np.zeros_like(X), where=sd > 0)
    sq = Xs**2
    row_tot = sq.sum(axis=1)  # sum_i xs_ti^2, per t
    col_tot = sq.sum(axis=0)  # sum_t xs_ti^2, per i (= T or 0)
    gram = Xs @ Xs.T  # (T, T); ||Xs' Xs||_F = ||Xs Xs'||_F
    fro2 = float((gram**2).sum())
    # sum_{i != j} Var(r_ij), Var(r_ij) = sum_t (w_ijt - mean_t w_ij)^2 / (T (T - 1)),
    # w_ijt = xs_ti xs_tj, and sum_{i != j} r_ij^2 with r = Xs' Xs / T.
    sum_w2 = float((row_tot**2).sum() - (sq**2).sum())
    sum_wbar = fro2 - float((col_tot**2).sum())
    var_r = (sum_w2 - sum_wbar / T) / (T * (T - 1))
    r2 = sum_wbar / T**2
    lam = 1.0 if r2 <= 0 else float(np.clip(var_r / r2, 0.0, 1.0))
    U = np.sqrt((1.0 - lam) / T) * X
    d = np.maximum(var, floor) - (1.0 - lam) * var
    return U, d, lam


def shrunk_covariance(
    residuals: np.ndarray, *, var_floor: float = 1e-8
) -> tuple[np.ndarray, float]:
    """Covariance of residuals shrunk towards its diagonal (Schäfer & Strimmer 2005).

    As in MinT-shrink (Wickramasuriya, Athanasopoulos & Hyndman 2019): with the (uncentred, the
    residuals are assumed unbiased) sample covariance ``Sigma = X'X / T`` and the sample
    correlations ``r_ij``, the shrinkage intensity is
    ``lambda = sum_{i != j} Var(r_ij) / sum_{i != j} r_ij**2`` (clipped to [0, 1]), with
    ``Var(r_ij) = sum_t (w_ijt - mean_t w_ij)**2 / (T (T - 1))`` and ``w_ijt`` the products of
    the standardised residuals, and the result is ``lambda * diag(Sigma) + (1 - lambda) * Sigma``.

    Parameters
    ----------
    residuals : ndarray of shape (T, n)
        In-sample residuals, one row per time point, one column per series (no missing values).
    var_floor : float, default 1e-8
        Variances below ``var_floor`` times the mean variance are raised to it, so that a series
        with zero residuals is not treated as known exactly.

    Returns
    -------
    W : ndarray of shape (n, n)
    lam : float
        The shrinkage intensity.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> W, lam = shrunk_covariance(X)
    >>> W.shape, 0 <= lam <= 1
    ((3, 3), True)
    """
    U, d, lam = _shrinkage_parts(residuals, var_floor)
    W = U.T @ U
    W[np.diag_indices_from(W)] += d
    return W, lam


def _constraint_matrix(tree: _Tree) -> sp.csr_matrix:
    """C with one row per aggregate: +1 on the aggregate, -1 on each child (C y = 0 <=> coherent)."""
    agg = np.flatnonzero(~tree.is_leaf)
    row_of = np.full(tree.n, -1)
    row_of[agg] = np.arange(len(agg))
    child = np.flatnonzero(tree.parent >= 0)
    rows = np.concatenate([np.arange(len(agg)), row_of[tree.parent[child]]])
    cols = np.concatenate([agg, child])
    vals = np.concatenate([np.ones(len(agg)), -np.ones(len(child))])
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(agg), tree.n))


def _cho_solve(M, rhs):
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(M), rhs)
    except np.linalg.LinAlgError:  # redundant constraints (checked by the caller)
        return scipy.linalg.lstsq(M, rhs)[0]


def _dense_gls(tree, C, U, d, yhat, level_fixed, absent, fixed_vals, nonnegative, max_iter):
    """Exact MinT with a full covariance, columns grouped by their set of absent series.

    Absent series (structural zeros, mask (n, K)) are removed from the problem: their rows and
    columns of W are set to zero (so they stay at 0 and their residuals play no part: the solution
    is MinT on the hierarchy of the present series, with W restricted to them) and the
    aggregation rows of absent aggregates (whose subtree is all absent) are dropped.
    """
    # Group the columns by their pattern of absent series (in order of first appearance).
    by_pattern: dict[bytes, list[int]] = {}
    if absent.any():
        for k, key in enumerate(np.packbits(absent, axis=0).T):
            by_pattern.setdefault(key.tobytes(), []).append(k)
    else:
        by_pattern[b""] = list(range(yhat.shape[1]))
    out = np.empty_like(yhat)
    info = {"iterations": 0, "pinned": 0}
    agg = np.flatnonzero(~tree.is_leaf)  # node of each row of C
    for cols_list in by_pattern.values():
        cols = np.asarray(cols_list)
        miss = absent[:, cols[0]]
        Up = U * ~miss[None, :] if miss.any() else U
        dp = np.where(miss, 0.0, d)
        Cp = C[np.flatnonzero(~miss[agg])] if miss.any() else C
        out[:, cols], inf_p = _dense_gls_fixed(
            tree,
            Cp,
            Up,
            dp,
            yhat[:, cols],
            level_fixed & ~miss,
            fixed_vals[:, cols],
            nonnegative,
            max_iter,
            absent=miss,
        )
        info["iterations"] = max(info["iterations"], inf_p["iterations"])
        info["pinned"] += inf_p["pinned"]
    return out, info


def _dense_gls_fixed(
    tree, C, U, d, yhat, fixed_mask, fixed_vals, nonnegative, max_iter, absent=None
):
    """Exact MinT with a full covariance W = U'U + diag(d) for the columns of yhat (n, K).

    Solves ``min (y - yhat)' W^-1 (y - yhat)`` subject to ``A y = c`` by
    ``y = yhat + W A' mu``, ``(A W A') mu = c - A yhat``, where A stacks the aggregation rows C,
    the fixed rows and the rows of the bottom series held at zero. ``A0 W`` (aggregation and fixed
    rows) is formed once as a dense (r0, n) matrix through ``U A0'``; rows held at zero only add
    columns of W, so each active-set step costs O((r0 + z) (n + T (r0 + z))) plus a Cholesky of
    size r0 + z.
    """
    n, K = yhat.shape
    fixed_idx = np.flatnonzero(fixed_mask)
    lv = tree.leaves
    m = len(lv)
    free_leaf = ~fixed_mask[lv] if absent is None else ~(fixed_mask | absent)[lv]
    A0 = sp.vstack([C, sp.eye(n, format="csr")[fixed_idx]], format="csr")
    r0 = A0.shape[0]
    c0 = np.zeros((r0, K))
    c0[C.shape[0] :] = fixed_vals[fixed_idx]
    A0W = np.asarray(A0 @ U.T) @ U + np.asarray(A0.multiply(d[None, :]).todense())  # (r0, n)
    M00 = np.asarray(A0 @ A0W.T).T
    scale = np.maximum(np.abs(yhat).max(axis=0), 1.0)

    def check(y, c, cols, zn):
        bad = (np.abs(A0 @ y - c) > 1e-6 * scale[cols]).any()
        if bad or (len(zn) and (np.abs(y[zn]) > 1e-6 * scale[cols]).any()):
            raise ValueError(
                "fixed totals are inconsistent (or leave no non-negative coherent solution): some "
                "fixed aggregate differs from the sum of the fixed territories below it"
            )

    mu0 = _cho_solve(M00, c0 - A0 @ yhat) if r0 else np.zeros((0, K))
    Y = yhat + A0W.T @ mu0
    check(Y, c0, np.arange(K), [])
    out = Y[lv].copy()
    iters = pinned_total = 0
    if nonnegative:
        for k in range(K):
            y, mu_z = Y[:, k], np.zeros(0)
            pinned = np.zeros(m, dtype=bool)
            bpp = _PivotingState(1, m)
            n_iter = 0
            while True:
                mult = np.zeros(m)
                mult[pinned] = mu_z  # multipliers of the held leaves (in leaf order)
                mtol = 1e-9 * max(np.abs(mu_z).max(initial=0.0), 1e-300)
                infeasible = (free_leaf & ~pinned & (y[lv] < -1e-10 * scale[k])) | (
                    pinned & (mult < -mtol)
                )
                if not infeasible.any():
                    break
                n_iter += 1
                if n_iter > max_iter:
                    raise RuntimeError(
                        f"non-negative reconciliation did not converge in {max_iter} iterations"
                    )
                pinned ^= bpp.exchange(infeasible[:, None])[:, 0]
                zn = lv[pinned]
                Uz = U[:, zn]
                M0Z = A0W[:, zn]
                MZZ = Uz.T @ Uz
                MZZ[np.diag_indices_from(MZZ)] += d[zn]
                M = np.block([[M00, M0Z], [M0Z.T, MZZ]])
                rhs = np.concatenate([c0[:, k] - A0 @ yhat[:, k], -yhat[zn, k]])
                mu = _cho_solve(M, rhs)
                mu_z = mu[r0:]
                y = yhat[:, k] + A0W.T @ mu[:r0] + U.T @ (Uz @ mu_z)
                y[zn] += d[zn] * mu_z
                check(y[:, None], c0[:, [k]], [k], zn)
            out[:, k] = np.where(pinned, 0.0, np.maximum(y[lv], 0.0))
            iters = max(iters, n_iter)
            pinned_total += int(pinned.sum())
    return tree.bottom_up(out), {"iterations": iters, "pinned": pinned_total}


# ---------------------------------------------------------------------------------------------
# Bottom-up and top-down
# ---------------------------------------------------------------------------------------------


def _top_down(tree, yhat, weights, fixed_mask, fixed_vals, nonnegative):
    """Level by level split of each total among its children in proportion to ``weights``.

    Fixed nodes keep their value; a node whose whole subtree is covered by fixed nodes takes the sum
    of them; the remainder of a parent after its fixed children is split among the other children.
    """
    n, K = yhat.shape
    # Covered nodes (fixed, or all children covered) get their value bottom-up.
    covered = fixed_mask.copy()  # (n, K)
    cov_val = np.where(fixed_mask, fixed_vals, 0.0)
    for d in range(len(tree.depth_bounds) - 1, 0, -1):
        s, e = tree.depth_bounds[d]
        ps, pe = tree.depth_bounds[d - 1]
        n_child = np.asarray(tree.up[d].sum(axis=1)).ravel()[:, None]
        n_cov = tree.up[d] @ covered[s:e].astype(float)
        sums = tree.up[d] @ cov_val[s:e]
        newly = (n_child > 0) & (n_cov == n_child) & ~covered[ps:pe]
        cov_val[ps:pe] = np.where(newly, sums, cov_val[ps:pe])
        clash = (n_child > 0) & (n_cov == n_child) & covered[ps:pe]
        if clash.any():
            bad = np.abs(cov_val[ps:pe][clash] - sums[clash]) > 1e-9 * np.maximum(
                np.abs(sums[clash]), 1.0
            )
            if bad.any():
                raise ValueError(
                    "fixed totals are inconsistent: some fixed aggregate differs from the sum of "
                    "the fixed territories below it"
                )
        covered[ps:pe] |= newly
    y = np.zeros((n, K))
    s, e = tree.depth_bounds[0]
    root_val = np.maximum(yhat[s:e], 0.0) if nonnegative else yhat[s:e]
    y[s:e] = np.where(covered[s:e], cov_val[s:e], root_val)
    wts = np.maximum(weights, 0.0) if nonnegative else weights
    for d in range(1, len(tree.depth_bounds)):
        s, e = tree.depth_bounds[d]
        ps, pe = tree.depth_bounds[d - 1]
        G = tree.up[d]
        par = tree.parent[s:e]
        cov = covered[s:e]
        fixed_sum = G @ np.where(cov, cov_val[s:e], 0.0)
        remainder = y[ps:pe] - fixed_sum
        free_w = np.where(cov, 0.0, wts[s:e])
        free_n = G @ (~cov).astype(float)
        tot_w = G @ free_w
        # Equal split when the free children's weights sum to zero.
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(
                tot_w[par - ps] != 0, free_w / tot_w[par - ps], (~cov) / free_n[par - ps]
            )
        y[s:e] = np.where(cov, cov_val[s:e], remainder[par - ps] * share)
        no_free = (free_n == 0) & (np.asarray(G.sum(axis=1)).ravel() > 0)[:, None]
        scale = np.maximum(np.abs(y[ps:pe]), 1.0)
        if (no_free & (np.abs(remainder) > 1e-9 * scale)).any():
            raise ValueError("fixed totals are inconsistent with the totals above them")
        if nonnegative and (remainder < -1e-9 * scale).any():
            raise ValueError(
                "no non-negative coherent solution keeps the fixed totals: a total is smaller "
                "than the fixed totals below it"
            )
    y_leaf = y[tree.leaves]
    if nonnegative:
        y_leaf = np.maximum(y_leaf, 0.0)
    return tree.bottom_up(y_leaf)


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


def _missing_error(table, tree, keys, mat, V, what="base forecast"):
    miss = np.argwhere(np.isnan(mat))
    node, col = miss[0]
    g = col // V
    key = ", ".join(f"{k}={v!r}" for k, v in keys.iloc[g].items())
    raise ValueError(
        f"table {table}: no {what} for territory {tree.codes[node]!r} ({key}); "
        f"{len(miss)} node x group values are missing (every territory of the hierarchy at the "
        "reconciled levels needs one)"
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
    if method not in METHODS:
        raise ValueError(f"unknown reconciliation method {method!r}; choose one of {METHODS}")
    if missing_series not in ("zero", "raise"):
        raise ValueError(f"missing_series must be 'zero' or 'raise', got {missing_series!r}")
    if not isinstance(forecasts, pd.DataFrame):
        raise TypeError(f"forecasts must be a DataFrame, got {type(forecasts).__name__}")
    value_cols = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    group_cols = [group_cols] if isinstance(group_cols, str) else list(group_cols)
    key_cols = group_cols + ([period_col] if period_col is not None else [])
    for col in (id_col, *key_cols, *value_cols):
        if col not in forecasts.columns:
            raise ValueError(f"table forecasts: missing column {col!r}")
    if len(forecasts) == 0:
        raise ValueError("table forecasts: no rows")
    if levels is None:
        # The levels of the territories that have forecasts (unknown codes are reported later).
        if id_col in hierarchy.columns and "level" in hierarchy.columns:
            present = pd.unique(forecasts[id_col].dropna().astype(str))
            known = hierarchy[hierarchy[id_col].astype(str).isin(present)]
            levels = sorted(known["level"].astype(str).unique()) if len(known) else None
    tree = _build_tree(hierarchy, id_col=id_col, levels=levels)
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
            node, col = np.argwhere(bad)[0]
            key = ", ".join(f"{k}={v!r}" for k, v in keys.iloc[col // V].items())
            raise ValueError(
                f"table forecasts: no base forecast for territory {tree.codes[node]!r} ({key}) "
                "although territories below it have one; give a forecast for every aggregate"
            )
        Y = np.where(missing, 0.0, Y)

    # Fixed totals.
    fixed_mask = np.zeros(n, dtype=bool)
    F = np.zeros_like(Y)
    for level, spec in (fixed or {}).items():
        in_level = tree.levels == str(level)
        if not in_level.any():
            raise ValueError(f"fixed: no territory of level {level!r} in the reconciled hierarchy")
        fixed_mask |= in_level
        if spec is True:
            F[in_level] = Y[in_level]
            continue
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
        Fl = _fill(spec, f"fixed[{level!r}]", f_node, f_grp, n, G, fcols)
        if np.isnan(Fl[in_level]).any():
            sub = np.where(in_level[:, None], Fl, 0.0)
            _missing_error(f"fixed[{level!r}]", tree, keys, sub, V, what="fixed total")
        F[in_level] = Fl[in_level]
    if nonnegative and (F[fixed_mask] < 0).any():
        raise ValueError("fixed totals must be >= 0 when nonnegative=True")
    level_fixed = fixed_mask
    # Series without a base forecast are structural zeros, held at 0 like a fixed total.
    F = np.where(missing & ~fixed_mask[:, None], 0.0, F)
    fixed_mask = fixed_mask[:, None] | missing

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
        if isinstance(proportions, pd.DataFrame):
            P = _proportion_matrix(proportions, tree, keys, id_col, group_cols, V)
            weights = tree.bottom_up(P[tree.leaves])
        elif proportions == "forecast":
            weights = Y
        elif proportions == "bottom":
            leaf = Y[tree.leaves]
            weights = tree.bottom_up(np.maximum(leaf, 0.0) if nonnegative else leaf)
        else:
            raise ValueError(
                f"proportions must be 'forecast', 'bottom' or a DataFrame, got {proportions!r}"
            )
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
        full = method == "mint_shrink"
        weights, col_group, lambdas, no_res = _residual_weights(
            residuals, tree, keys, id_col, group_cols, residual_col, full
        )
        cgroup = np.repeat(col_group, V)  # column g * V + v belongs to forecast group g
        lacking = np.stack([no_res[g] for g in cgroup], axis=1) & ~missing
        if lacking.any():
            node, col = np.argwhere(lacking)[0]
            key = ", ".join(f"{k}={v!r}" for k, v in keys.iloc[col // V].items())
            raise ValueError(
                f"table residuals: no residuals for territory {tree.codes[node]!r} ({key}), "
                "which has a base forecast"
            )
        if not full:
            w = np.stack([weights[g] for g in cgroup], axis=1)
            R, info = _tree_gls(tree, Y, w, fixed_mask, F, nonnegative, max_iter)
        else:
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
                        tree,
                        C,
                        U,
                        d,
                        Y[:, cols],
                        level_fixed,
                        missing[:, cols],
                        F[:, cols],
                        nonnegative,
                        max_iter,
                    )
                    info["iterations"] = max(info["iterations"], inf_g["iterations"])
                    info["pinned"] += inf_g["pinned"]
                    first = np.flatnonzero(col_group == g)[0]
                    label = "/".join(str(keys[c].iloc[first]) for c in cov_cols) or "all"
                    details["shrinkage"][label] = lambdas[g]
        details.update(info)

    # Back to the long table.
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
