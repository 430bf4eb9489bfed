"""The linear adapter of encoder vectors learnt from job titles (``method="learned"``)."""

import numpy as np
import pandas as pd
import pytest

from gpec.supply._adapter import adapted_scores, fit_adapter, target_moments
from gpec.supply.matching import OfferMatcher


def _rotated_titles(d: int, n_occ: int, per: int, noise: float, seed: int = 0):
    """Occupation vectors P, a hidden rotation R, and titles ``q = p R + noise`` of each."""
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n_occ, d))
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    R, _ = np.linalg.qr(rng.normal(size=(d, d)))
    groups = np.repeat(np.arange(n_occ), per)
    Q = P[groups] @ R + noise * rng.normal(size=(len(groups), d))
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    return P, R, Q, groups


def test_adapter_learns_a_hidden_rotation_and_carries_it_to_unseen_occupations():
    # titles live in a rotated copy of the profiles' space: the plain similarity q . p finds
    # no title's occupation, the oracle q R' p finds nearly all; W is learnt on the titles of
    # 50 occupations and scored on the titles of 30 others it never saw
    P, R, Q, g = _rotated_titles(d=6, n_occ=80, per=3, noise=0.05)
    train, test = g < 50, g >= 50

    def top1(W):
        return ((Q[test] @ W @ P.T).argmax(axis=1) == g[test]).mean()

    assert top1(np.eye(6)) <= 0.1  # identity: wrong
    assert top1(R.T) >= 0.95  # the hand-made oracle: the test case is solvable
    W = fit_adapter(Q[train], g[train], P, penalty=0.01, scale=20.0)
    assert top1(W) >= 0.95
    assert np.abs(W - R.T).max() < 0.5  # near the inverse rotation


def test_adapter_is_pulled_to_the_identity_and_needs_two_occupations():
    P, _, Q, g = _rotated_titles(d=5, n_occ=20, per=2, noise=0.05)
    W = fit_adapter(Q, g, P, penalty=1e6, scale=20.0)
    np.testing.assert_allclose(W, np.eye(5), atol=1e-3)
    one = fit_adapter(Q[g == 3], g[g == 3], P)
    np.testing.assert_array_equal(one, np.eye(5, dtype=np.float32))


def test_adapted_scores_match_the_full_row_computation():
    rng = np.random.default_rng(1)
    P = rng.normal(size=(40, 7)).astype(np.float32)
    A = rng.normal(size=(3, 7)).astype(np.float32)
    cand = np.array([[0, 5, 9], [39, 1, 2], [7, 7, 30]])
    got = adapted_scores(A, cand, P, target_moments(P))
    full = A.astype(np.float64) @ P.T.astype(np.float64)  # every occupation, then the z-score
    z = (full - full.mean(axis=1, keepdims=True)) / full.std(axis=1, keepdims=True)
    np.testing.assert_allclose(got["adapter"], np.take_along_axis(full, cand, 1), rtol=1e-5)
    np.testing.assert_allclose(got["adapter_z"], np.take_along_axis(z, cand, 1), atol=1e-4)


def _rotating_encoder(P: np.ndarray, R: np.ndarray, seed: int = 0):
    """Fake encoder: ``occ<j>`` in a text is occupation j's vector, as a passage; ``kw<j>`` is
    the same vector rotated by R with noise, as a query (a title); anything else is one fixed
    vector."""
    d = P.shape[1]
    other = np.ones(d) / np.sqrt(d)

    def encode(texts, role="query"):
        out = np.tile(other, (len(texts), 1))
        for i, t in enumerate(texts):
            for w in t.split():
                if w.startswith("occ"):
                    out[i] = P[int(w[3:])]
                elif w.startswith("kw"):
                    j, r = (int(x) for x in w[2:].split("v"))
                    noise = np.random.default_rng([seed, j, r]).normal(size=d)
                    v = P[j] @ R + 0.05 * noise
                    out[i] = v / np.linalg.norm(v)
        return out

    encode.name = "rotating-test-encoder"
    return encode


@pytest.mark.filterwarnings("ignore:OfferMatcher.*ranker_titles:UserWarning")
def test_learned_ranker_reads_the_adapter_on_held_out_occupations():
    # titles share only a word common to all profiles and their encoder vectors are rotated away from
    # their occupation's profile vector: only the adapter, learnt on the titles of 32
    # occupations, can tell which of the 18 others a held-out title belongs to
    n_occ, per, d = 50, 10, 12
    rng = np.random.default_rng(0)
    P = rng.normal(size=(n_occ, d))
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    R, _ = np.linalg.qr(rng.normal(size=(d, d)))
    filler = " ".join(f"mot{i}" for i in range(30))  # one long line: no skill line
    profiles = pd.DataFrame(
        {
            "occupation": [f"X{j:02d}" for j in range(n_occ)],
            "label": "metier",
            "text": [f"occ{j} {filler}" for j in range(n_occ)],
        }
    )
    titles = pd.DataFrame(
        {
            "occupation": [f"X{j:02d}" for j in range(n_occ) for _ in range(per)],
            # "metier": one word shared with every profile (a text sharing none gets no match;
            # max_df=1 keeps it)
            "title": [f"kw{j}v{r} metier" for j in range(n_occ) for r in range(per)],
        }
    )
    held = titles["occupation"].str[1:].astype(int) >= 32
    train, test = titles[~held], titles[held].reset_index(drop=True)
    enc = _rotating_encoder(P, R)

    def top1(adapter: bool) -> float:
        m = OfferMatcher(
            method="learned", min_score=0.0, candidates=n_occ, encoder=enc,
            encoder_cache=False, adapter=adapter, max_df=1.0,
        ).fit(profiles, ranker_titles=train)  # fmt: skip
        assert (m.adapter_ is not None) == adapter
        res = m.match(test["title"], top_k=1)
        return (res["occupation"].to_numpy() == test["occupation"].to_numpy()[res["query"]]).mean()

    # the oracle (inverse rotation) on the held-out titles: the case is solvable
    Qt = enc(test["title"].tolist(), "query")
    oracle = (Qt @ R.T @ P.T).argmax(axis=1) == test["occupation"].str[1:].astype(int).to_numpy()
    assert oracle.mean() >= 0.95
    assert top1(adapter=False) <= 0.1  # chance is 1 in 50
    assert top1(adapter=True) >= 0.6
