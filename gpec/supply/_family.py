"""Family-level evidence from known job titles (private; used by the learned ranker).

A text whose own occupation has no known title still resembles the titles of its *sibling*
occupations, those of the same family (the first three characters of a ROME code, such as
"M18"). For each (text, candidate) pair, two scores read the known titles of the candidate's
family, leaving out the candidate's own titles (so that a candidate with titles and one without
are scored from the same kind of evidence):

* ``best``: the largest similarity of the text to a title of another occupation of the
  candidate's family (the text's smallest similarity to any title when there is none);
* ``knn_share``: the share of the text's ``knn`` nearest titles that belong to another
  occupation of the candidate's family.

``exclude`` (one occupation per text, or -1) leaves a text's own occupation out of the titles,
as when the ranker learns from titles whose occupation must look unseen.
"""

from __future__ import annotations

import numpy as np

#: nearest known titles whose families vote in ``knn_share``
FAMILY_KNN = 10


def family_title_scores(
    S: np.ndarray,
    title_groups: np.ndarray,
    cand: np.ndarray,
    family: np.ndarray,
    *,
    exclude: np.ndarray | None = None,
    knn: int = FAMILY_KNN,
    title_best: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Family evidence of each (text, candidate) pair from the text's similarities to titles.

    Parameters
    ----------
    S : ndarray (n_texts, n_titles)
        Similarity of each text to each known title.
    title_groups : ndarray of int (n_titles,)
        Occupation (position) of each title.
    cand : ndarray of int (n_texts, k)
        Candidate occupations of each text.
    family : ndarray of int (n_occupations,)
        Family of each occupation (codes 0..n_families-1).
    exclude : ndarray of int (n_texts,), optional
        An occupation whose titles are left out for that text (-1: none).
    knn : int
        Nearest titles voting in ``knn_share``.
    title_best : ndarray (n_texts, n_title_occupations), optional
        The largest value of ``S`` over the titles of each occupation having titles (columns in
        increasing occupation order), when already computed (without ``exclude``); computed here
        otherwise.

    Returns
    -------
    dict with ``best`` and ``knn_share``, each ndarray (n_texts, k), float32.

    Examples
    --------
    >>> S = np.array([[0.9, 0.1, 0.5]])
    >>> out = family_title_scores(S, np.array([1, 2, 3]), np.array([[0, 2]]),
    ...                           np.array([0, 0, 1, 1]), knn=1)
    >>> out["best"].astype(float).round(2).tolist(), out["knn_share"].tolist()
    ([[0.9, 0.5]], [[1.0, 0.0]])
    """
    S = np.asarray(S, dtype=np.float32)
    title_groups = np.asarray(title_groups, dtype=np.int64)
    family = np.asarray(family, dtype=np.int64)
    n, k = cand.shape
    n_occ = len(family)
    if S.shape[1] == 0 or n == 0:
        zeros = np.zeros((n, k), dtype=np.float32)
        return {"best": zeros, "knn_share": zeros.copy()}
    if exclude is not None:
        S = S.copy()
        S[title_groups[None, :] == np.asarray(exclude)[:, None]] = -np.inf
        title_best = None
    # the best title of each occupation (-inf without a title)
    order = np.argsort(title_groups, kind="stable")
    g = title_groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    if title_best is None:
        sorted_titles = bool(np.all(g == title_groups))
        title_best = np.maximum.reduceat(S if sorted_titles else S[:, order], starts, axis=1)
    occ_best = np.full((n, n_occ), -np.inf, dtype=np.float32)
    occ_best[:, g[starts]] = title_best
    # best and second best occupation of each family: the candidate's own occupation left out
    by_family = np.argsort(family, kind="stable")
    fam_sorted = family[by_family]
    fstarts = np.flatnonzero(np.r_[True, fam_sorted[1:] != fam_sorted[:-1]])
    n_fam = int(family.max()) + 1
    cols = occ_best if np.all(fam_sorted == family) else occ_best[:, by_family]
    best1 = np.full((n, n_fam), -np.inf, dtype=np.float32)
    best1[:, fam_sorted[fstarts]] = np.maximum.reduceat(cols, fstarts, axis=1)
    first = cols >= best1[:, fam_sorted]  # the best occupation(s) of each family
    n_first = np.zeros((n, n_fam), dtype=np.int32)
    n_first[:, fam_sorted[fstarts]] = np.add.reduceat(first, fstarts, axis=1, dtype=np.int32)
    best2 = np.full((n, n_fam), -np.inf, dtype=np.float32)
    best2[:, fam_sorted[fstarts]] = np.maximum.reduceat(
        np.where(first, np.float32(-np.inf), cols), fstarts, axis=1
    )
    fc = family[cand]
    b1 = np.take_along_axis(best1, fc, axis=1)
    b2 = np.take_along_axis(best2, fc, axis=1)
    own = np.take_along_axis(occ_best, cand, axis=1)
    # the candidate is its family's only best: the second best is the best of the others
    alone = (own >= b1) & (np.take_along_axis(n_first, fc, axis=1) == 1)
    best = np.where(alone, b2, b1)
    floor = _finite_min(S)
    best = np.where(np.isfinite(best), best, floor)
    # the families of the nearest titles (other than the candidate's own)
    m = min(int(knn), S.shape[1])
    near = _nearest(S, m)
    near_occ = title_groups[near]
    valid = np.isfinite(np.take_along_axis(S, near, axis=1))
    share = np.zeros((n, k), dtype=np.float32)
    for j in range(m):
        o = near_occ[:, j : j + 1]
        share += ((family[o] == fc) & (o != cand) & valid[:, j : j + 1]).astype(np.float32)
    return {"best": best.astype(np.float32), "knn_share": share / np.float32(m)}


def _finite_min(S: np.ndarray) -> np.ndarray:
    """Smallest finite value of each row (column vector; 0 for a row with none)."""
    low = S.min(axis=1, keepdims=True)
    if not np.all(np.isfinite(low)):  # -inf (left-out titles) or NaN in some row
        low = np.where(np.isfinite(S), S, np.inf).min(axis=1, keepdims=True)
    return np.where(np.isfinite(low), low, 0.0)


def _nearest(S: np.ndarray, m: int, block: int = 64) -> np.ndarray:
    """Columns of the ``m`` largest values of each row (in no particular order): the same set as
    ``np.argpartition(-S, m - 1, axis=1)[:, :m]``.

    The ``m``-th largest block maximum (blocks of ``block`` columns) is a lower bound of the
    ``m``-th largest value, so the nearest columns are among the few at or above it; a row whose
    ``m``-th and ``m + 1``-th largest values tie (where the set is not unique) is handed to
    ``np.argpartition`` itself, as are rows with NaN.
    """
    n, t = S.shape
    blocks = -(-t // block)
    if blocks <= 2 * m or n == 0:
        return np.argpartition(-S, m - 1, axis=1)[:, :m]
    bmax = np.maximum.reduceat(S, np.arange(0, t, block), axis=1)
    low = -np.partition(-bmax, m - 1, axis=1)[:, m - 1]
    # NaN somewhere, or fewer than m blocks with a value above -inf
    bad = ~(low > -np.inf) | np.isnan(bmax).any(axis=1)
    low[bad] = np.inf
    rows, cols = np.nonzero(S >= low[:, None])
    if rows.size > 32 * m * n:
        return np.argpartition(-S, m - 1, axis=1)[:, :m]
    vals = S[rows, cols]
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.searchsorted(rows, np.arange(n))
    count = np.diff(np.r_[first, rows.size])
    bad |= count < m
    take = first[:, None] + np.arange(m)[None, :]
    ok = ~bad
    out = np.empty((n, m), dtype=np.intp)
    out[ok] = cols[take[ok]]
    # ties at the boundary: the set depends on how argpartition breaks them
    more = ok & (count > m)
    idx = first[more] + m
    tie = np.zeros(n, dtype=bool)
    tie[more] = vals[idx] == vals[idx - 1]
    redo = bad | tie
    if redo.any():
        out[redo] = np.argpartition(-S[redo], m - 1, axis=1)[:, :m]
    return out
