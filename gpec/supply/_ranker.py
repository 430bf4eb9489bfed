"""Learned re-ranking of text matches (private; used by :class:`gpec.supply.matching.OfferMatcher`).

The matcher's scores (lexical channels, nearest known title, encoder similarities) and their
fusion select the ``k`` best candidate occupations of each text; a gradient-boosting classifier,
trained on job titles whose occupation is known, then estimates the probability that each
candidate is the right one from features of the (text, candidate) pair:

* every channel's raw score, its z-score over all occupations, its gap to the text's best score
  on that channel, the candidate's rank among the candidates on that channel, and the text's best
  score (a text that matches nothing well has low maxima everywhere);
* the fused score, its gap to the first candidate and the candidate's fused rank;
* agreement of the family codes: the softmax weight of the candidates of the same family, whether
  the candidate's family is the first candidate's, and how many candidates share it;
* the occupation's prior (a fact shared by many occupations, never one telling them apart).
"""

from __future__ import annotations

import numpy as np

#: parameters of the gradient-boosting classifier (deterministic: no early stopping, fixed seed);
#: small trees, chosen on ROME titles by splitting the tuning half of the fiches again (larger
#: trees learn the training titles, not the ranking: ``benchmarks/bench_matching.py``)
RANKER_PARAMS = dict(
    max_iter=100,
    learning_rate=0.1,
    max_leaf_nodes=7,
    min_samples_leaf=200,
    l2_regularization=1.0,
    early_stopping=False,
)


def _row_moments(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each row (sd 1 on constant rows), as float32 columns."""
    n = S.shape[1]
    mean = S.mean(axis=1, dtype=np.float64)
    var = np.einsum("ij,ij->i", S, S, dtype=np.float64) / n - mean**2
    sd = np.sqrt(np.maximum(var, 0.0))
    sd[sd < 1e-9] = 1.0
    return mean.astype(np.float32)[:, None], sd.astype(np.float32)[:, None]


def top_candidates(base: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` best scores of each row, best first (ties: lower index)."""
    k = min(int(k), base.shape[1])
    idx = np.argpartition(-base, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(base, idx, axis=1)
    order = np.lexsort((idx, -vals), axis=-1)
    return np.take_along_axis(idx, order, axis=1)


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

    Returns
    -------
    X : ndarray (n_texts * k, n_features)
    names : list of str
    """
    n, k = cand.shape
    cols: list[np.ndarray] = []
    names: list[str] = []
    for name, S in channels.items():
        v = np.take_along_axis(S, cand, axis=1)
        mean, sd = _row_moments(S)
        z = (v - mean) / sd  # the z-scores of the candidates only: no full matrix made
        best = S.max(axis=1, keepdims=True)
        cols += [v, z, best - v, _within_rank(v), np.broadcast_to(best, (n, k))]
        names += [name, f"{name}_z", f"{name}_gap", f"{name}_rank", f"{name}_best"]
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
    X = np.stack([np.asarray(c, dtype=np.float32) for c in cols], axis=2)
    return X.reshape(n * k, len(names)), names


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
