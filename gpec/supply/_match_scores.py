"""Scoring channels of :class:`gpec.supply.matching.OfferMatcher` (private).

TF-IDF channels on words or character n-grams within words, a query-likelihood model with Dirichlet
smoothing and a latent semantic (LSA) model, all on texts already normalised by
:func:`gpec.supply.matching.normalize_text`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer


class _Channel:
    """TF-IDF of normalised texts on words or on character n-grams within words.

    Character n-grams are computed once per distinct word and summed through a sparse
    word x n-gram matrix (the same counts as scikit-learn's ``char_wb`` analyzer, much faster on
    long profiles). Sublinear tf, smooth idf, l2-normalised rows; features present in more than
    ``max_df`` of the profiles are dropped (they weigh little and cost most in the products).
    """

    def __init__(self, kind: str, ngram_range: tuple[int, int], sublinear_tf: bool, max_df: float):
        self.kind = kind
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self.max_df = max_df

    def _map(self, words, fit: bool) -> sp.csr_matrix:
        """Sparse matrix sending each distinct word to its features (itself or its n-grams)."""
        if fit:
            self.vocabulary_ = {}
        vocab = self.vocabulary_
        rows, cols = [], []
        if self.kind == "word":
            for i, w in enumerate(words):
                j = vocab.get(w)
                if j is None and fit:
                    j = vocab[w] = len(vocab)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
        else:
            lo, hi = self.ngram_range
            for i, w in enumerate(words):
                padded = f" {w} "
                n = len(padded)
                grams = [
                    padded[st : st + size]
                    for size in range(lo, min(hi, n) + 1)
                    for st in range(n - size + 1)
                ] or [padded]
                for g in grams:
                    j = vocab.get(g)
                    if j is None:
                        if not fit:
                            continue
                        j = vocab[g] = len(vocab)
                    rows.append(i)
                    cols.append(j)
        return sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(words), len(vocab))
        )

    def _weight(self, X: sp.csr_matrix) -> sp.csr_matrix:
        X = X.astype(np.float32)
        if self.sublinear_tf:
            np.log(X.data, out=X.data)
            X.data += 1
        X = (X @ self.idf_).tocsr()
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel())
        norms[norms == 0] = 1.0
        return (sp.diags((1.0 / norms).astype(np.float32)) @ X).tocsr()

    def fit_transform(self, counts: sp.csr_matrix, words) -> sp.csr_matrix:
        X = (counts @ self._map(words, fit=True)).tocsr()
        n = X.shape[0]
        df = np.bincount(X.indices, minlength=X.shape[1])
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        keep = df > 0
        if self.max_df < 1.0 and n >= 20:
            keep &= df <= max(1.0, self.max_df * n)
        idf[~keep] = 0.0
        self.idf_ = sp.diags(idf.astype(np.float32)).tocsr()
        self.n_dropped_ = int((~keep).sum())
        if not keep.any():
            raise ValueError("empty vocabulary")
        return self._weight(X)

    def transform(self, counts: sp.csr_matrix, words) -> sp.csr_matrix:
        return self._weight((counts @ self._map(words, fit=False)).tocsr())


def _word_counts(docs: list[str]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Counts of the distinct words of normalised texts (texts x words), and those words."""
    cv = CountVectorizer(token_pattern=r"\S+", lowercase=False, dtype=np.float32)
    try:
        counts = cv.fit_transform(docs).tocsr()
    except ValueError:  # every text empty
        return sp.csr_matrix((len(docs), 0), dtype=np.float32), np.array([], dtype=object)
    return counts, cv.get_feature_names_out()


class _QueryLikelihood:
    """Query likelihood of a text under each profile's language model (Dirichlet smoothing).

    ``log p(q | d) = sum_{t in q} log((tf(t, d) + mu p(t | C)) / (|d| + mu))``; up to a term that
    does not depend on the profile, this is ``sum_t log(1 + tf(t, d) / (mu p(t | C))) +
    |q| log(mu / (|d| + mu))``: one sparse product and one rank-one correction. Features are
    words or character n-grams within words; each distinct feature of the text counts once, and
    features unseen in the profiles are ignored.
    """

    def __init__(self, kind: str, ngram_range: tuple[int, int], mu: float, max_df: float):
        self.kind = kind
        self.ngram_range = ngram_range
        self.mu = mu
        self.max_df = max_df

    def fit(self, counts: sp.csr_matrix, words) -> _QueryLikelihood:
        self.mapper_ = _Channel(self.kind, self.ngram_range, False, 1.0)
        C = (counts @ self.mapper_._map(words, fit=True)).tocsr().astype(np.float64)
        total = C.sum()
        if total <= 0:
            raise ValueError("empty vocabulary")
        p = np.asarray(C.sum(axis=0)).ravel() / total
        doc_len = np.asarray(C.sum(axis=1)).ravel()
        C.data = np.log1p(C.data / (self.mu * p[C.indices]))
        n = C.shape[0]
        if self.max_df < 1.0 and n >= 20:
            # frequent features weigh little and make most of the cost: dropped (as in _Channel)
            df = np.bincount(C.indices, minlength=C.shape[1])
            C.data[df[C.indices] > max(1.0, self.max_df * n)] = 0.0
            C.eliminate_zeros()
        self.weights_ = C.T.tocsr().astype(np.float32)  # features x profiles
        self.background_ = np.log(self.mu / (doc_len + self.mu)).astype(np.float32)
        return self

    def score(self, counts: sp.csr_matrix, words) -> sp.csr_matrix:
        """Presence matrix of the texts' features (texts x features)."""
        Q = (counts @ self.mapper_._map(words, fit=False)).tocsr()
        Q.eliminate_zeros()
        Q.data[:] = 1.0
        return Q.astype(np.float32)

    def dense(self, Q: sp.csr_matrix) -> np.ndarray:
        n_terms = np.diff(Q.indptr).astype(np.float32)
        return (Q @ self.weights_).toarray() + n_terms[:, None] * self.background_[None, :]


class _LatentSemantic:
    """Latent semantic analysis of the profiles: word associations learnt from their own texts.

    TF-IDF (words, sublinear tf) of the pooled profiles, truncated SVD (randomised, seeded): a
    text and a profile are compared by the cosine of their projections on the first
    ``n_components`` singular vectors, so that words that occur in the same profiles ("propreté"
    and "nettoyage") bring each other's profiles closer even when the text shares no word with
    the profile.
    """

    def __init__(self, n_components: int, random_state: int):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, counts: sp.csr_matrix, words) -> _LatentSemantic | None:
        self.tfidf_ = _Channel("word", (1, 1), True, 1.0)
        X = self.tfidf_.fit_transform(counts, words)
        k = min(int(self.n_components), min(X.shape) - 1)
        if k < 1:
            return None
        from sklearn.utils.extmath import randomized_svd
        from threadpoolctl import threadpool_limits

        # one BLAS thread: on a shared machine, threads fighting for cores make it much slower
        with threadpool_limits(1):
            _, _, vt = randomized_svd(
                X.astype(np.float32), k, n_iter=2, random_state=self.random_state
            )
        self.components_ = np.ascontiguousarray(vt.T, dtype=np.float32)  # words x k
        self.profiles_ = np.ascontiguousarray(_unit_rows(X @ self.components_).T)  # k x profiles
        return self

    def embed(self, counts: sp.csr_matrix, words) -> np.ndarray:
        return _unit_rows(self.tfidf_.transform(counts, words) @ self.components_)


def _unit_rows(A) -> np.ndarray:
    A = np.asarray(A, dtype=np.float32)
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return A / norms


def _row_moments(S: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and standard deviation (float64) of each row of ``S``, and whether the row is not
    constant (its sd above float noise)."""
    n = S.shape[1]
    mean = S.mean(axis=1, dtype=np.float64)
    var = np.einsum("ij,ij->i", S, S, dtype=np.float64) / n - mean**2
    sd = np.sqrt(np.maximum(var, 0.0))
    return mean, sd, sd > 1e-12 * (1 + np.abs(mean))


def _add_standardized(
    F: np.ndarray, S: np.ndarray, weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``F += weight * S / sd(S)`` row by row (0 for constant rows); ``S`` is overwritten.

    This is ``weight`` times the per-row z-score of ``S`` up to a per-row constant, which changes
    neither the ranking nor ``F - max(F)``: the mean is not subtracted (two passes fewer).
    Returns the row moments of ``S`` (see :func:`_row_moments`), for the z-scores of a few entries.
    """
    mean, sd, ok = _row_moments(S)
    scale = np.divide(weight, sd, out=np.zeros_like(sd), where=ok)
    S *= scale.astype(np.float32)[:, None]
    F += S
    return mean, sd, ok


class _NearestTitle:
    """Similarity of a text to the nearest known title of each occupation.

    Titles (job titles already attached to an occupation, such as the ROME appellations) are
    vectorised like the profiles' label (words and character n-grams within words, idf learnt on
    the titles); the score of a text for an occupation is the largest weighted cosine between
    the text and one of that occupation's titles (0 for an occupation without title).
    """

    def __init__(
        self, channels: dict[str, float], ngram_range: tuple[int, int], sublinear_tf: bool
    ):
        self.channels = channels
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf

    def fit(self, docs: list[str], groups: np.ndarray, n_occupations: int) -> _NearestTitle:
        """``docs``: normalised titles sorted by ``groups`` (occupation positions)."""
        counts, words = _word_counts(docs)
        self.vectorizers_, blocks = [], []
        for kind, weight in self.channels.items():
            if weight <= 0:
                continue
            vec = _Channel(kind, self.ngram_range, self.sublinear_tf, 1.0)
            try:
                X = vec.fit_transform(counts, words)
            except ValueError:  # empty vocabulary
                continue
            self.vectorizers_.append((vec, np.float32(weight)))
            blocks.append(X)
        if not blocks:
            raise ValueError("titles: every title is empty after normalisation")
        total = sum(w for _, w in self.vectorizers_)
        self.vectorizers_ = [(v, np.float32(w / total)) for v, w in self.vectorizers_]
        self.matrix_ = sp.hstack(blocks, format="csr", dtype=np.float32).T.tocsr()
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        self.starts_ = starts
        self.occupations_ = groups[starts]
        self.n_occupations_ = n_occupations
        return self

    def query(self, counts: sp.csr_matrix, words) -> sp.csr_matrix:
        blocks = [vec.transform(counts, words) * w for vec, w in self.vectorizers_]
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def dense(self, Q: sp.csr_matrix) -> np.ndarray:
        """(texts x occupations) nearest-title scores of the query rows ``Q``."""
        out = np.zeros((Q.shape[0], self.n_occupations_), dtype=np.float32)
        if self.matrix_.shape[1] and Q.shape[0]:
            _grouped_max_product(Q, self.matrix_, self.starts_, self.occupations_, out)
        return out


#: titles per block of the nearest-title product (a few MB of dense title columns at a time)
_TITLE_BLOCK = 256


def _grouped_max_product(
    Q: sp.csr_matrix,
    M: sp.csr_matrix,
    starts: np.ndarray,
    groups: np.ndarray,
    out: np.ndarray,
    block: int = _TITLE_BLOCK,
) -> None:
    """``out[:, groups] = max over each group of columns of (Q @ M)``, groups starting at
    ``starts``.

    Text-title products are nearly dense (short character n-grams are shared by most titles):
    rather than a sparse product, each block of title columns of ``M`` is made dense (rows of the
    features the texts use only) and multiplied by ``Q``, whose rows are summed in the same
    order as by the sparse product (the same float sums, to the last bit), then reduced to the
    groups at once. Blocks end at group boundaries.
    """
    used = np.unique(Q.indices)
    remap = np.zeros(Q.shape[1], dtype=Q.indices.dtype)
    remap[used] = np.arange(len(used), dtype=Q.indices.dtype)
    # the same rows in the same stored order: only the column numbers change
    Qu = sp.csr_matrix((Q.data, remap[Q.indices], Q.indptr), shape=(Q.shape[0], len(used)))
    Mu = M[used].tocsc()
    n_titles = M.shape[1]
    bounds = np.r_[starts, n_titles]
    edges = np.unique(bounds[np.searchsorted(starts, np.arange(0, n_titles, block))])
    edges = np.unique(np.r_[0, edges, n_titles])
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        if hi <= lo:
            continue
        S = Qu @ Mu[:, lo:hi].tocsr().toarray()  # C order: no copy in the product
        g = np.searchsorted(starts, lo), np.searchsorted(starts, hi)
        out[:, groups[g[0] : g[1]]] = np.maximum.reduceat(S, starts[g[0] : g[1]] - lo, axis=1)
