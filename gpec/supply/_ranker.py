"""Learned re-ranking of text matches (private; used by :class:`gpec.supply.matching.OfferMatcher`).

The matcher's scores (lexical channels, nearest known title, encoder similarities) and their
fusion select the ``k`` best candidate occupations of each text; a gradient-boosting classifier,
trained on job titles whose occupation is known, then estimates the probability that each
candidate is the right one from features of the (text, candidate) pair:

* every channel's raw score, its z-score over all occupations, its gap to the text's best score
  on that channel, the candidate's rank among the candidates on that channel, and the text's best
  score among the candidates (a text that matches nothing well has low maxima everywhere);
* with an encoder, the similarity of the text to the candidate's skill labels (the closest one,
  the mean of the three closest, their centroid), computed for the candidates only, each with its
  gap to the text's best candidate and its rank among the candidates;
* with an encoder and an adapter (``gpec.supply._adapter``), the adapted similarity of the text
  to the candidate's profile vector, raw and as a z-score over all occupations, each with its gap
  and rank;
* the fused score, its gap to the first candidate and the candidate's fused rank;
* agreement of the family codes: the softmax weight of the candidates of the same family, whether
  the candidate's family is the first candidate's, and how many candidates share it;
* with an encoder, family evidence from known titles (``gpec.supply._family``): the text's
  best similarity to a title of another occupation of the candidate's family and the share of its
  nearest titles in that family, raw and through the adapter;
* the occupation's prior (a fact shared by many occupations, never one telling them apart).

A second, pair-wise model then re-orders the ``PAIRWISE_TOP`` first candidates of the point-wise
ranker: for two candidates ``i`` and ``j`` of the same text it estimates the probability that
``i`` is right rather than ``j`` from the difference of their features (and their point-wise
probabilities and ranks), and each candidate is ranked by its summed wins over the others. It
learns from the training titles' pairs in which one candidate is right, ordered by point-wise
probabilities estimated without the title's own occupation (``out_of_fold_proba``), as they are
for a text of an occupation never seen.
"""

from __future__ import annotations

import numpy as np

from gpec.supply._match_scores import _row_moments

#: parameters of the gradient-boosting classifier (deterministic: no early stopping, fixed seed);
#: small trees, chosen on ROME titles by splitting the tuning half of the fiches again (larger
#: trees learn the training titles, not the ranking: ``benchmarks/bench_matching.py``); 50 trees
#: at rate 0.2 rank as well as 100 at 0.1 (3-fold cross-validation by fiche on the tuning half,
#: within 0.5 point) for half the prediction time
RANKER_PARAMS = dict(
    max_iter=50,
    learning_rate=0.2,
    max_leaf_nodes=7,
    min_samples_leaf=200,
    l2_regularization=1.0,
    early_stopping=False,
)


#: candidates of each text re-ordered by the pair-wise model (the point-wise ranker's first ones)
PAIRWISE_TOP = 5
#: folds of the training occupations for the out-of-fold point-wise probabilities
PAIRWISE_FOLDS = 3


def top_candidates(base: np.ndarray, k: int, block: int = 64) -> np.ndarray:
    """Column indices of the ``k`` best scores of each row, best first (ties: lower index).

    The ``k``-th largest of the block maxima (blocks of ``block`` columns) is a lower bound of
    the ``k``-th largest score, so the candidates are among the few scores above it: one pass of
    maxima and one comparison instead of a partition of every row.
    """
    n, m = base.shape
    k = min(int(k), m)
    if n == 0:
        return np.zeros((0, k), dtype=np.intp)
    if -(-m // block) > k:
        bmax = np.maximum.reduceat(base, np.arange(0, m, block), axis=1)
        low = -np.partition(-bmax, k - 1, axis=1)[:, k - 1]
        rows, cols = np.nonzero(base >= low[:, None])
        if rows.size <= 16 * k * n:  # rows full of ties would make the sort below large
            order = np.lexsort((cols, -base[rows, cols], rows))
            rows, cols = rows[order], cols[order]
            first = np.searchsorted(rows, np.arange(n))
            return cols[first[:, None] + np.arange(k)[None, :]]
    order = np.lexsort((np.broadcast_to(np.arange(m), base.shape), -base), axis=-1)
    return np.ascontiguousarray(order[:, :k])


def _within_rank(v: np.ndarray) -> np.ndarray:
    """Rank (0 = best) of each candidate among the text's candidates."""
    order = np.argsort(-v, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(v.shape[1])[None, :], axis=1)
    return rank.astype(np.float32)


def pair_features(
    channels: dict[str, np.ndarray],
    base: np.ndarray,
    cand: np.ndarray,
    occupation_features: dict[str, np.ndarray],
    family: np.ndarray,
    *,
    moments: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
    pair_scores: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Features of every (text, candidate) pair, rows in (text, candidate rank) order.

    Parameters
    ----------
    channels : dict of name -> ndarray (n_texts, n_occupations)
        Raw scores of each channel.
    base : ndarray (n_texts, n_occupations)
        The fused score that chose the candidates.
    cand : ndarray of int (n_texts, k)
        Candidate occupations of each text, best fused score first.
    occupation_features : dict of name -> ndarray (n_occupations,)
    family : ndarray of int (n_occupations,)
        Family code of each occupation.
    moments : dict of name -> (mean, sd, not constant), optional
        Row moments of channels already computed by the fusion (see ``_row_moments``).
    pair_scores : dict of name -> ndarray (n_texts, k), optional
        Scores computed for the candidates only (such as the similarity to the best skill
        label of the candidate): raw score, gap to the text's best candidate and rank.

    Returns
    -------
    X : ndarray (n_texts * k, n_features), float64, column-major (as the trees read it)
    names : list of str
    """
    n, k = cand.shape
    moments = moments or {}
    cols: list[np.ndarray] = []
    names: list[str] = []
    for name, S in channels.items():
        v = np.take_along_axis(S, cand, axis=1)
        mean, sd, ok = moments[name] if name in moments else _row_moments(S)
        # the z-scores of the candidates only, no full matrix made (sd 1 on constant rows)
        sd = np.where(ok, sd, 1.0).astype(np.float32)[:, None]
        z = (v - mean.astype(np.float32)[:, None]) / sd
        best = v.max(axis=1, keepdims=True)
        cols += [v, z, best - v, _within_rank(v), np.broadcast_to(best, (n, k))]
        names += [name, f"{name}_z", f"{name}_gap", f"{name}_rank", f"{name}_best"]
    for name, v in (pair_scores or {}).items():
        best = v.max(axis=1, keepdims=True)
        cols += [v, best - v, _within_rank(v)]
        names += [name, f"{name}_gap", f"{name}_rank"]
    b = np.take_along_axis(base, cand, axis=1)
    cols += [b, b[:, :1] - b, np.broadcast_to(np.arange(k, dtype=np.float32), (n, k))]
    names += ["fused", "fused_gap", "fused_rank"]
    p = np.exp(b - b.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    fam = family[cand]
    same = fam[:, :, None] == fam[:, None, :]
    cols += [
        p,
        np.einsum("ijk,ik->ij", same.astype(np.float32), p),
        (fam == fam[:, :1]).astype(np.float32),
        same.sum(axis=2).astype(np.float32),
    ]
    names += ["fused_softmax", "family_weight", "family_of_first", "family_count"]
    for name, f in occupation_features.items():
        cols.append(np.asarray(f, dtype=np.float32)[cand])
        names.append(name)
    X = np.empty((n * k, len(cols)), dtype=np.float64, order="F")
    for j, c in enumerate(cols):
        X[:, j] = np.reshape(c, -1)
    return X, names


def predict_ranker(ranker, X: np.ndarray) -> np.ndarray:
    """Probability that each candidate is right, on one thread.

    The trees are read row by row on one core: OpenMP threads waiting for each other at every
    tree cost more CPU than they save on a shared machine.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="openmp"):
        return ranker.predict_proba(X)[:, 1]


def fit_ranker(X: np.ndarray, y: np.ndarray, random_state: int):
    """A point-wise gradient-boosting ranker (probability that a candidate is right)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if y.min() == y.max():
        raise ValueError(
            "learned ranker: the known titles give no right candidate among the top candidates "
            "(or only right ones); give more titles or raise `candidates`"
        )
    clf = HistGradientBoostingClassifier(random_state=random_state, **RANKER_PARAMS)
    return clf.fit(X, y)


def out_of_fold_proba(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    k: int,
    random_state: int,
    folds: int = PAIRWISE_FOLDS,
) -> np.ndarray:
    """Point-wise probabilities of the training pairs, each from a ranker fitted without the
    occupation of the pair's text (``groups``: one occupation per text, rows of ``X`` in
    (text, candidate) order, ``k`` candidates per text)."""
    groups = np.asarray(groups)
    used = np.unique(groups)
    p = np.zeros(len(y), dtype=np.float64)
    rng = np.random.default_rng(random_state)
    part = dict(zip(used.tolist(), (rng.permutation(len(used)) % folds).tolist(), strict=True))
    rows = np.repeat(np.array([part[g] for g in groups.tolist()], dtype=np.int64), k)
    for f in range(folds):
        test = rows == f
        if not test.any() or y[~test].min() == y[~test].max():
            p[test] = 0.5
            continue
        p[test] = predict_ranker(fit_ranker(X[~test], y[~test], random_state), X[test])
    return p


def _pair_index(t: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(t, 1)
    return i, j


def pairwise_features(
    X: np.ndarray, p: np.ndarray, k: int, top: int = PAIRWISE_TOP, *, both: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features of the pairs of the ``top`` first candidates of each text (by ``p``).

    Returns ``D`` (one row per pair: the feature difference ``x_i - x_j``, then ``p_i``,
    ``p_j`` and the ranks ``i``, ``j`` by ``p``), ``order`` (n_texts, top: candidate positions
    by ``p``, best first) and the pair ranks ``i``, ``j`` (``i < j``; with ``both``, each pair
    in both orders).
    """
    n = len(p) // k
    t = min(int(top), k)
    P = np.reshape(p, (n, k))
    order = np.argsort(-P, axis=1, kind="stable")[:, :t]
    rows = np.arange(n)[:, None] * k + order  # rows of X of the first candidates
    i, j = _pair_index(t)
    if both:
        i, j = np.r_[i, j], np.r_[j, i]
    m, f = len(i), X.shape[1]
    D = np.empty((n, m, f + 4), dtype=np.float64)
    D[:, :, :f] = X[rows[:, i].ravel()].reshape(n, m, f)
    D[:, :, :f] -= X[rows[:, j].ravel()].reshape(n, m, f)
    D[:, :, f] = p[rows[:, i]]
    D[:, :, f + 1] = p[rows[:, j]]
    D[:, :, f + 2] = i
    D[:, :, f + 3] = j
    return D.reshape(n * m, f + 4), order, i, j


def fit_pairwise(X: np.ndarray, p: np.ndarray, y: np.ndarray, k: int, random_state: int):
    """The pair-wise model: learns from the pairs (in both orders) of the first candidates in
    which exactly one is right; ``None`` when there is no such pair."""
    D, order, i, j = pairwise_features(X, p, k, both=True)
    n = len(order)
    right = np.take_along_axis(np.reshape(y, (n, k)), order, axis=1).astype(bool)
    yi, yj = right[:, i].ravel(), right[:, j].ravel()
    keep = yi != yj
    if not keep.any():
        return None
    return fit_ranker(D[keep], yi[keep].astype(np.int8), random_state)


def pairwise_order(model, X: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Scores of the candidates (n_texts, k) whose order is the pair-wise model's on the first
    candidates and the point-wise one after them: each first candidate keeps one of the first
    point-wise probabilities, given out in the order of its wins over the other first ones."""
    n = len(p) // k
    P = np.reshape(np.asarray(p, dtype=np.float64), (n, k)).copy()
    if model is None or n == 0:
        return P
    D, order, i, j = pairwise_features(X, p, k)
    t = order.shape[1]
    q = np.reshape(predict_ranker(model, D), (n, len(i)))
    wins = np.zeros((n, t))
    np.add.at(wins.T, i, q.T)
    np.add.at(wins.T, j, 1.0 - q.T)
    # best wins first; ties keep the point-wise order
    new = np.lexsort((np.broadcast_to(np.arange(t), (n, t)), -wins), axis=-1)
    values = np.take_along_axis(P, order, axis=1)  # point-wise probabilities, best first
    np.put_along_axis(P, np.take_along_axis(order, new, axis=1), values, axis=1)
    return P
