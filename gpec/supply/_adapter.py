"""A linear adapter of encoder vectors, learnt from job titles (private; used by the learned ranker).

A frozen sentence encoder places a job title and its occupation's profile near each other, but
not always nearest. Given titles whose occupation is known, a matrix ``W`` (dimension x
dimension, started at the identity and pulled back towards it) is learnt so that the adapted
similarity ``(q W) . p`` of a title ``q`` ranks its own occupation's profile vector ``p`` first:
the mean softmax cross-entropy over the occupations that have training titles, with scale
``s`` (inverse temperature), plus ``penalty * ||W - I||^2``, minimised by L-BFGS from ``W = I``.
``W`` is shared by every occupation, so it carries over to occupations without any title.
"""

from __future__ import annotations

import numpy as np

#: strength of the pull towards the identity and scale of the similarities in the softmax, chosen
#: by 3-fold cross-validation by fiche on the tuning half of the ROME 4.0 titles
#: (``benchmarks/bench_matching.py``); stronger penalties and smaller scales learn less, weaker
#: penalties over-fit the training occupations
ADAPTER_PENALTY = 1.0
ADAPTER_SCALE = 200.0
#: L-BFGS iterations at most (it stops earlier when the gradient is flat)
ADAPTER_MAX_ITER = 200
#: folds of the training occupations for the out-of-fold adapted vectors the ranker learns from
ADAPTER_FOLDS = 3


def fit_adapter(
    vectors: np.ndarray,
    groups: np.ndarray,
    targets: np.ndarray,
    *,
    penalty: float = ADAPTER_PENALTY,
    scale: float = ADAPTER_SCALE,
    max_iter: int = ADAPTER_MAX_ITER,
) -> np.ndarray:
    """The adapter matrix ``W`` learnt from title vectors and their occupations.

    Parameters
    ----------
    vectors : ndarray (n_titles, d)
        Encoder vectors of the titles.
    groups : ndarray of int (n_titles,)
        Row of ``targets`` of each title's occupation.
    targets : ndarray (n_occupations, d)
        Encoder vectors of the occupations (profiles); only the rows of occupations with a title
        take part in the softmax.
    penalty, scale, max_iter : float, float, int
        Pull towards the identity, inverse temperature, L-BFGS iterations.

    Returns
    -------
    ndarray (d, d), float32
        ``W``; the identity when the titles come from fewer than two occupations.

    Examples
    --------
    >>> P = np.eye(3)
    >>> W = fit_adapter(P[[0, 1, 2]], np.array([0, 1, 2]), P)
    >>> W.shape
    (3, 3)
    """
    from scipy.optimize import minimize

    Q = np.asarray(vectors, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    d = Q.shape[1]
    used = np.unique(groups)
    if len(used) < 2 or len(Q) == 0:
        return np.eye(d, dtype=np.float32)
    P = np.asarray(targets, dtype=np.float64)[used]
    t = np.searchsorted(used, groups)
    n = len(Q)
    rows = np.arange(n)
    s = float(scale)
    lam = float(penalty)

    def loss_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        # one (titles x occupations) array, transformed in place: logits, exp, softmax, gradient
        D = x.reshape(d, d)
        L = (Q + Q @ D) @ P.T
        L *= s
        L -= L.max(axis=1, keepdims=True)
        own = L[rows, t]
        np.exp(L, out=L)
        Z = L.sum(axis=1)
        loss = float(np.mean(np.log(Z) - own) + lam * np.sum(D * D))
        L /= Z[:, None]
        L[rows, t] -= 1.0
        grad = (s / n) * (Q.T @ (L @ P)) + 2.0 * lam * D
        return loss, grad.ravel()

    res = minimize(
        loss_grad,
        np.zeros(d * d),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": int(max_iter)},
    )
    return (np.eye(d) + res.x.reshape(d, d)).astype(np.float32)


def out_of_fold_adapted(
    vectors: np.ndarray,
    groups: np.ndarray,
    targets: np.ndarray,
    random_state: int,
    folds: int = ADAPTER_FOLDS,
    **kw,
) -> np.ndarray:
    """Adapted vectors ``q W`` of training titles, each ``W`` learnt without the title's occupation.

    The occupations of the titles are split into ``folds`` seeded parts; the titles of each part
    are adapted by a ``W`` learnt on the titles of the other parts. The ranker thus learns from
    adapted similarities as they are for an occupation the adapter never saw (the in-sample ones
    would be too good to trust).
    """
    Q = np.asarray(vectors, dtype=np.float32)
    groups = np.asarray(groups, dtype=np.int64)
    used = np.unique(groups)
    out = Q.copy()
    if len(used) < 2 * folds:
        return out
    rng = np.random.default_rng(random_state)
    part = np.empty(groups.max() + 1, dtype=np.int64)
    part[used] = rng.permutation(len(used)) % folds
    fold = part[groups]
    for f in range(folds):
        test = fold == f
        W = fit_adapter(Q[~test], groups[~test], targets, **kw)
        out[test] = Q[test] @ W
    return out


def adapted_scores(
    adapted: np.ndarray, cand: np.ndarray, targets: np.ndarray, gram: np.ndarray
) -> dict[str, np.ndarray]:
    """Adapted similarity ``a . p`` (``a = q W``) of each text to its candidates, raw and as a
    z-score over all occupations.

    The row mean and variance over all occupations come from the targets' mean and second
    moment (``gram``: first row their mean, the rest ``P' P / m``), so that only the candidates'
    similarities are computed.
    """
    a = np.asarray(adapted, dtype=np.float32)
    v = np.einsum("nd,nkd->nk", a, targets[cand])
    mean = a @ gram[0]
    second = np.einsum("nd,nd->n", a @ gram[1:], a)
    sd = np.sqrt(np.maximum(second - mean**2, 1e-12))
    z = (v - mean[:, None]) / sd[:, None]
    return {"adapter": v.astype(np.float32), "adapter_z": z.astype(np.float32)}


def target_moments(targets: np.ndarray) -> np.ndarray:
    """Mean (first row) and second moment ``P' P / m`` (other rows) of the targets, float32."""
    P = np.asarray(targets, dtype=np.float64)
    return np.vstack([P.mean(axis=0)[None, :], P.T @ P / max(len(P), 1)]).astype(np.float32)
