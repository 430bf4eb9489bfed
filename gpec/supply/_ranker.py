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
* the occupation's prior (a fact shared by many occupations, never one telling them apart).
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
