"""Family evidence from known titles and the pair-wise re-ordering of the learned ranker."""

import numpy as np
import pandas as pd
import pytest

from gpec.supply._family import family_title_scores
from gpec.supply._ranker import fit_pairwise, pairwise_order
from gpec.supply.matching import OfferMatcher

# occupations 0, 1, 2 in family 0; 3 and 4 in family 1; titles t0..t3 of occupations 0, 1, 3, 1
FAMILY = np.array([0, 0, 0, 1, 1])
TITLE_OCC = np.array([0, 1, 3, 1])
CAND = np.array([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]])
S = np.array([[0.9, 0.2, 0.7, 0.4], [0.5, 0.5, 0.1, 0.0]])


def test_family_scores_by_hand_leave_the_candidate_out():
    got = family_title_scores(S, TITLE_OCC, CAND, FAMILY, knn=2)
    # text 0: candidate 0 sees occupation 1 (best 0.4) and 2 (no title); 1 and 2 see t0 (0.9);
    # candidate 3's family holds no other title: the text's smallest similarity (0.2); 4 sees 3
    np.testing.assert_allclose(got["best"][0], [0.4, 0.9, 0.9, 0.2, 0.7], atol=1e-6)
    # text 1: occupations 0 and 1 tie at 0.5, each sees the other
    np.testing.assert_allclose(got["best"][1], [0.5, 0.5, 0.5, 0.0, 0.1], atol=1e-6)
    # two nearest titles of text 0: t0 (occupation 0, family 0) and t2 (occupation 3, family 1)
    np.testing.assert_allclose(got["knn_share"][0], [0, 0.5, 0.5, 0, 0.5])
    # of text 1: t0 and t1 (occupations 0 and 1, both family 0)
    np.testing.assert_allclose(got["knn_share"][1], [0.5, 0.5, 1.0, 0, 0])


def test_family_scores_leave_the_texts_own_occupation_out():
    got = family_title_scores(S[:1], TITLE_OCC, CAND[:1], FAMILY, exclude=np.array([0]), knn=2)
    # t0 is gone: candidate 1 sees only occupation 2 (no title): the floor, 0.2
    np.testing.assert_allclose(got["best"][0], [0.4, 0.2, 0.4, 0.2, 0.7], atol=1e-6)
    # nearest titles now t2 (occupation 3) and t3 (occupation 1)
    np.testing.assert_allclose(got["knn_share"][0], [0.5, 0, 0.5, 0, 0.5])
    empty = family_title_scores(np.zeros((1, 0)), TITLE_OCC[:0], CAND[:1], FAMILY)
    assert not empty["best"].any() and not empty["knn_share"].any()


def _planted(n: int, k: int, seed: int):
    """Texts whose right candidate is among the five first but whose point-wise probabilities
    say nothing (a random one of the five first is right); feature 0 is the text's level (large,
    random) plus 1 for the right candidate: only differences within a text show it."""
    rng = np.random.default_rng(seed)
    p = np.tile(np.linspace(0.9, 0.1, k), (n, 1))
    right = rng.integers(0, 5, n)
    X = np.zeros((n, k, 2))
    X[:, :, 0] = rng.normal(0, 10, (n, 1)) + rng.uniform(0, 0.8, (n, k))
    X[np.arange(n), right, 0] += 1.0
    X[:, :, 1] = rng.normal(size=(n, k))  # noise
    y = np.zeros((n, k), dtype=np.int8)
    y[np.arange(n), right] = 1
    return X.reshape(n * k, 2), p.ravel(), y.ravel(), right


def test_pairwise_model_finds_what_only_differences_show():
    k = 8
    X, p, y, _ = _planted(3000, k, seed=0)
    model = fit_pairwise(X, p, y, k, random_state=0)
    Xt, pt, _, right = _planted(1000, k, seed=1)
    n = len(right)
    # the oracle: the largest feature 0 among the five first is right (the case is solvable)
    assert (Xt.reshape(n, k, 2)[:, :5, 0].argmax(axis=1) == right).mean() == 1.0
    assert (pt.reshape(n, k).argmax(axis=1) == right).mean() < 0.3  # point-wise: 1 in 5
    new = pairwise_order(model, Xt, pt, k)
    assert (new.argmax(axis=1) == right).mean() >= 0.9
    # the same values, given out again among the first five; the others untouched
    P = pt.reshape(n, k)
    np.testing.assert_allclose(np.sort(new[:, :5], axis=1), np.sort(P[:, :5], axis=1))
    np.testing.assert_array_equal(new[:, 5:], P[:, 5:])
    np.testing.assert_array_equal(pairwise_order(None, Xt, pt, k), P)


def _cluster_encoder(d: int = 8):
    """Fake encoder: a word ``f<j>`` puts a text on axis j (its family), anything else on the
    last axis."""

    def encode(texts, role="query"):
        out = np.zeros((len(texts), d))
        for i, t in enumerate(texts):
            axes = [int(w[1:]) for w in t.split() if w.startswith("f") and w[1:].isdigit()]
            out[i, axes[0] if axes else d - 1] = 1.0
        return out

    encode.name = "cluster-test-encoder"
    return encode


@pytest.mark.filterwarnings("ignore:OfferMatcher.*ranker_titles:UserWarning")
def test_learned_matcher_reads_family_evidence_and_the_pairwise_model():
    # 24 occupations in 6 families (codes A1..F4); titles carry their family's word only
    occ = [f"{c}{i}" for c in "ABCDEF" for i in range(1, 5)]
    profiles = pd.DataFrame(
        {"occupation": occ, "label": [f"metier {o}" for o in occ], "text": "travail"}
    )
    profiles["family"] = profiles["occupation"].str[0]
    titles = pd.DataFrame(
        {
            "occupation": [o for o in occ for _ in range(4)],
            "title": [f"f{'ABCDEF'.index(o[0])} metier {o} v{r}" for o in occ for r in range(4)],
        }
    )
    kw = dict(method="learned", min_score=0.0, candidates=10, max_df=1.0)
    m = OfferMatcher(encoder=_cluster_encoder(), encoder_cache=False, **kw).fit(
        profiles, ranker_titles=titles
    )
    assert m.pair_ranker_ is not None
    for name in ("family_title_best", "family_title_knn", "family_adapted_best"):
        assert name in m.ranker_features_
    res = m.match(["f2 metier C3"], top_k=1)
    assert res["occupation"].tolist() == ["C3"]
    plain = OfferMatcher(pairwise=False, **kw).fit(profiles, ranker_titles=titles)
    assert plain.pair_ranker_ is None
    assert not any(n.startswith("family_title") for n in plain.ranker_features_)


@pytest.mark.filterwarnings("ignore:OfferMatcher.*ranker_titles:UserWarning")
def test_family_evidence_finds_the_family_of_occupations_without_titles():
    # titles say only their family (the word f<j>, one encoder axis per family); the profiles say
    # nothing of it (same words, same encoder vector): the titles of sibling occupations are the
    # only evidence of a held-out occupation's family
    occ = [f"{c}{i}" for c in "ABCDEF" for i in range(1, 7)]
    profiles = pd.DataFrame({"occupation": occ, "label": "metier", "text": "travail"})
    profiles["family"] = profiles["occupation"].str[0]
    fam = {o: "ABCDEF".index(o[0]) for o in occ}
    titles = pd.DataFrame(
        {
            "occupation": [o for o in occ for _ in range(3)],
            "title": [f"f{fam[o]} metier v{r}{o[1]}" for o in occ for r in range(3)],
        }
    )
    held = titles["occupation"].str[1].astype(int) >= 5  # two occupations of each family
    train, test = titles[~held], titles[held].reset_index(drop=True)
    kw = dict(method="learned", min_score=0.0, candidates=len(occ), max_df=1.0)

    def right_family(**extra) -> float:
        m = OfferMatcher(**kw, **extra).fit(profiles, ranker_titles=train)
        res = m.match(test["title"], top_k=1)
        got = res["occupation"].str[0].to_numpy()
        return (got == test["occupation"].str[0].to_numpy()[res["query"]]).mean()

    # the oracle: the family of the nearest training title (same axis) is right for every title
    assert right_family() <= 0.4  # no encoder: no family evidence (chance is 1 in 6)
    assert right_family(encoder=_cluster_encoder(), encoder_cache=False) >= 0.9


def test_ranker_titles_without_known_titles_warn():
    """Ranker titles read as family evidence but not known as titles: a text of one of their
    occupations would find its own titles as evidence for its siblings; the fit says so, and
    says nothing once the same titles are also given as known titles."""
    import warnings

    occ = [f"{c}{i}" for c in "AB" for i in range(1, 4)]
    profiles = pd.DataFrame({"occupation": occ, "label": [f"metier {o}" for o in occ]})
    titles = pd.DataFrame(
        {"occupation": [o for o in occ for _ in range(3)],
         "title": [f"f{'AB'.index(o[0])} metier {o} v{r}" for o in occ for r in range(3)]}
    )  # fmt: skip
    kw = dict(method="learned", min_score=0.0, candidates=4, max_df=1.0, encoder_cache=False)
    with pytest.warns(UserWarning, match=r"18 ranker_titles of 6 occupations .* fit\(titles="):
        OfferMatcher(encoder=_cluster_encoder(), **kw).fit(profiles, ranker_titles=titles)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="OfferMatcher.*ranker_titles")
        OfferMatcher(encoder=_cluster_encoder(), **kw).fit(
            profiles, titles=titles, ranker_titles=titles
        )
        OfferMatcher(**kw).fit(profiles, ranker_titles=titles)  # no encoder: no family evidence


def test_nearest_titles_are_the_set_argpartition_picks():
    from gpec.supply._family import _nearest

    rng = np.random.default_rng(0)
    S = rng.normal(size=(300, 2000)).astype(np.float32)
    S[:100] = np.round(S[:100], 1)  # many ties at the boundary of the ten nearest
    S[100, :] = -np.inf  # every title left out
    S[101, 5:] = -np.inf  # fewer finite titles than neighbours
    S[102, 7] = np.nan
    S[103, :64] = 3.0  # one block holds every nearest title
    for m in (1, 3, 10):
        want = np.sort(np.argpartition(-S, m - 1, axis=1)[:, :m], axis=1)
        np.testing.assert_array_equal(np.sort(_nearest(S, m), axis=1), want)


def test_family_scores_do_not_depend_on_the_title_order_or_a_given_title_best():
    rng = np.random.default_rng(1)
    n_occ, n_titles = 40, 300
    groups = np.sort(rng.integers(0, n_occ, n_titles))
    family = np.sort(rng.integers(0, 6, n_occ))
    S = np.round(rng.normal(size=(50, n_titles)), 2).astype(np.float32)
    cand = np.stack([rng.choice(n_occ, 8, replace=False) for _ in range(50)])
    ref = family_title_scores(S, groups, cand, family)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    given = family_title_scores(
        S, groups, cand, family, title_best=np.maximum.reduceat(S, starts, axis=1)
    )
    # titles in another order (no tie: which of tied titles are nearest depends on the order)
    perm = rng.permutation(n_titles)
    S = S + rng.uniform(0, 1e-3, S.shape).astype(np.float32)
    ref_s = family_title_scores(S, groups, cand, family)
    shuffled = family_title_scores(S[:, perm], groups[perm], cand, family)
    # families numbered out of occupation order (the same scores)
    fperm = rng.permutation(6)
    renamed = family_title_scores(S, groups, cand, fperm[family])
    for got, want in ((given, ref), (renamed, ref_s), (shuffled, ref_s)):
        for key in ("best", "knn_share"):
            np.testing.assert_array_equal(got[key], want[key])
