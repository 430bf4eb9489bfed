"""Exact numerical solvers behind :func:`gpec.forecast.reconcile` (private).

* :func:`_tree_gls`: the generalised least squares projection for a diagonal error covariance,
  computed by a two-pass (inside / outside) recursion over the territory tree, vectorised over
  all columns, with fixed totals and exact non-negativity by block principal pivoting.
* :func:`_dense_gls`: MinT with the full within-occupation shrunk covariance
  (:func:`shrunk_covariance`), solved in its constraint form with a dense Cholesky
  factorisation, columns grouped by their pattern of structural zeros; fixed totals are extra
  constraint rows (:func:`_dense_gls_fixed`).
* :func:`_top_down`: level by level proportional split of the top totals.

They work on plain arrays laid out by a :class:`_Tree`; the table handling, validation and
hierarchy building live in :mod:`gpec.forecast._reconcile`. See that module for the methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp

# ---------------------------------------------------------------------------------------------
# Tree layout
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
    guarantees termination. Each exchange is an iteration; more than ``max_iter`` raise.
    """

    def __init__(self, K: int, m: int, max_iter: int):
        self.ninf = np.full(K, m + 1)
        self.budget = np.full(K, 3)
        self.max_iter = max_iter
        self.n_iter = 0

    def exchange(self, infeasible: np.ndarray) -> np.ndarray:
        self.n_iter += 1
        if self.n_iter > self.max_iter:
            raise RuntimeError(
                f"non-negative reconciliation did not converge in {self.max_iter} iterations"
            )
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
        bpp = _PivotingState(K, len(lv), max_iter)
        while True:
            # KKT check: a free leaf must be >= 0; a held leaf must not want to grow (the value it
            # would take if released alone, combining its base forecast with everything else,
            # is <= 0, i.e. its Lagrange multiplier is >= 0).
            t_star, _, _ = _combine(yhat[lv], w[lv], Om, Qv, tol)
            t_star = np.where(np.isinf(Qv), yhat[lv], t_star)
            infeasible = (free_leaf & ~pinned & (y_leaf < -ntol)) | (pinned & (t_star > ntol))
            if not infeasible.any():
                break
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
        info = {"iterations": bpp.n_iter, "pinned": int(pinned.sum())}
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
            bpp = _PivotingState(1, m, max_iter)
            while True:
                mult = np.zeros(m)
                mult[pinned] = mu_z  # multipliers of the held leaves (in leaf order)
                mtol = 1e-9 * max(np.abs(mu_z).max(initial=0.0), 1e-300)
                infeasible = (free_leaf & ~pinned & (y[lv] < -1e-10 * scale[k])) | (
                    pinned & (mult < -mtol)
                )
                if not infeasible.any():
                    break
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
            iters = max(iters, bpp.n_iter)
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
