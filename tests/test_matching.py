import numpy as np
import pandas as pd
import pytest

from gpec.matching import OfferMatcher, build_profiles, normalize_text


@pytest.mark.parametrize(
    "a, b",
    [
        ("Soudeur / Soudeuse", "soudeur"),
        ("SOUDEUSE", "Soudeur"),
        ("Infirmier(ère) de bloc", "infirmière de bloc"),
        ("Agent·e d'entretien", "agente d’entretien"),
        ("Conductrice de travaux", "Conducteur de travaux"),
        ("Technicien(ne) de maintenance", "technicienne de maintenance"),
        ("Chef d'équipe / Cheffe d'équipe", "chef d'équipe"),
        ("Salarié.e.s agricoles", "salarié agricole"),
        ("Électricienne", "electricien"),
        ("Cœur de métier", "coeur de metier"),
    ],
)
def test_normalize_folds_gender_accents_case(a, b):
    assert normalize_text(a) == normalize_text(b)
    assert normalize_text(a) != ""


def test_normalize_elisions_stop_words_punctuation():
    assert normalize_text("L’ingénieur d'études (H/F) !") == "ingenieur etud"
    assert normalize_text("de la et du") == ""
    assert normalize_text(None) == "" and normalize_text(np.nan) == ""
    # the two halves of a gendered title are kept once
    assert normalize_text("Soudeur / Soudeuse à l'arc") == normalize_text("Soudeur à l'arc")
    # options
    assert "de" in normalize_text("aide de cuisine", stop_words=False).split()
    assert normalize_text("Soudeuses", stemming=False) == "soudeuses"


@pytest.fixture
def profiles():
    return pd.DataFrame(
        {
            "occupation": ["H2913", "J1506", "G1602", "F1703"],
            "label": [
                "Soudeur / Soudeuse",
                "Infirmier / Infirmière en soins généraux",
                "Cuisinier / Cuisinière",
                "Maçon / Maçonne",
            ],
            "text": [
                "Assemble des pièces métalliques par soudage à l'arc ou TIG",
                "Réalise des soins infirmiers auprès des patients à l'hôpital",
                "Prépare et cuisine des plats en restaurant",
                "Construit des murs en parpaing, briques, béton",
            ],
        }
    )


def test_matcher_top1_and_schema(profiles):
    m = OfferMatcher(min_score=0.0).fit(profiles)
    texts = pd.Series(
        [
            "Formation soudeuse TIG",
            "Infirmière de bloc hospitalier",
            "CAP cuisine restauration",
            "Maçonne bâtiment",
        ],
        index=list("abcd"),
    )
    res = m.match(texts, top_k=2)
    assert list(res.columns) == ["query", "occupation", "score", "rank"]
    top1 = res[res["rank"] == 1].set_index("query")["occupation"]
    assert top1.to_dict() == {"a": "H2913", "b": "J1506", "c": "G1602", "d": "F1703"}
    assert res.groupby("query").size().max() <= 2
    assert ((res["score"] >= 0) & (res["score"] <= 1 + 1e-6)).all()
    # ranks are 1..n and scores decrease with rank
    for _, g in res.groupby("query"):
        assert g["rank"].tolist() == list(range(1, len(g) + 1))
        assert g["score"].is_monotonic_decreasing
    assert m.occupations_.tolist() == profiles["occupation"].tolist()
    assert set(m.fields_) == {"label", "text"}
    assert np.isclose(sum(m.weights_.values()), 1.0)


def test_matcher_threshold_and_no_match(profiles):
    m = OfferMatcher(min_score=0.2).fit(profiles)
    res = m.match(["soudeur", "xyzzy quux", ""], top_k=4)
    assert set(res["query"]) == {0}
    assert (res["score"] >= 0.2).all()
    assert res.iloc[0]["occupation"] == "H2913"
    high = m.match(["soudeur"], min_score=0.99)
    assert high.empty and list(high.columns) == ["query", "occupation", "score", "rank"]


def test_matcher_deterministic_ties():
    # two identical profiles: tie broken by profile order, whatever the chunk size
    prof = pd.Series(["agent de propreté", "agent de propreté", "jardinier"], index=["B", "A", "C"])
    m1 = OfferMatcher(min_score=0.0, chunk_size=1).fit(prof)
    m2 = OfferMatcher(min_score=0.0, chunk_size=1000).fit(prof)
    texts = ["agent propreté"] * 3
    r1, r2 = m1.match(texts, top_k=1), m2.match(texts, top_k=1)
    pd.testing.assert_frame_equal(r1, r2)
    assert (r1["occupation"] == "B").all()
    m3 = OfferMatcher(min_score=0.0, chunk_size=1, n_jobs=2).fit(prof)
    pd.testing.assert_frame_equal(m3.match(texts, top_k=1), r1)
    r = m1.match(texts, top_k=2)
    assert r[r["query"] == 0]["occupation"].tolist() == ["B", "A"]


def test_matcher_validation(profiles):
    with pytest.raises(ValueError, match="appears"):
        OfferMatcher().fit(pd.concat([profiles, profiles]))
    with pytest.raises(ValueError, match="occupation"):
        OfferMatcher().fit(profiles.drop(columns="occupation"))
    with pytest.raises(ValueError, match="analyzer"):
        OfferMatcher(analyzer="bogus").fit(profiles)
    with pytest.raises(ValueError, match="top_k"):
        OfferMatcher().fit(profiles).match(["soudeur"], top_k=0)
    for analyzer in ("word", "char"):
        res = OfferMatcher(analyzer=analyzer, min_score=0).fit(profiles).match(["soudeuse"])
        assert res.iloc[0]["occupation"] == "H2913"


def test_build_profiles():
    occ = pd.DataFrame(
        {
            "occupation": ["H2913", "J1506"],
            "label": ["Soudeur / Soudeuse", "Infirmier / Infirmière"],
        }
    )
    skills = pd.DataFrame(
        {
            "skill": ["1", "2", "3"],
            "label": ["Souder à l'arc", "Lire un plan", "Réaliser un pansement"],
        }
    )
    links = pd.DataFrame(
        {
            "occupation": ["H2913", "H2913", "J1506"],
            "skill": ["2", "1", "3"],
            "weight": [0.5, 1.0, 1.0],
        }
    )
    texts = pd.DataFrame(
        {
            "occupation": ["J1506", "H2913"],
            "label": ["x", "y"],
            "definition": ["Soigne les patients", "Assemble des pièces"],
        }
    )
    p = build_profiles(occ, links, skills, texts=texts)
    assert p["occupation"].tolist() == ["H2913", "J1506"]
    assert p["label"].tolist() == occ["label"].tolist()
    assert p.loc[0, "text"] == "Assemble des pièces\nSouder à l'arc\nLire un plan"
    assert p.loc[1, "text"] == "Soigne les patients\nRéaliser un pansement"
    assert build_profiles(occ, links, skills, max_skills=1).loc[0, "text"] == "Souder à l'arc"
    with pytest.raises(ValueError, match="skills"):
        build_profiles(occ, links)


@pytest.fixture(scope="module")
def rome_accuracy():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "rome4-v460"
    if not path.is_dir():
        pytest.skip(f"ROME 4.0 v460 files absent: {path}")
    from gpec.ingest import read_rome

    data = read_rome(path)
    occ = data.occupations[data.occupations["level"] == "fiche"]
    profiles = build_profiles(
        occ, data.occupation_skills, data.skills, texts=data.extra["occupation_texts"]
    )
    app = data.extra["appellations"]  # the job titles: queries only, never in the profiles
    res = (
        OfferMatcher(min_score=0.0)
        .fit(profiles)
        .match(pd.Series(app["label"].to_numpy(), index=app["appellation"].to_numpy()), top_k=5)
    )
    truth = dict(zip(app["appellation"], app["occupation"], strict=True))
    hit = res[res["occupation"] == res["query"].map(truth)]
    return (hit["rank"] == 1).sum() / len(app), len(hit) / len(app)


def test_rome_appellations_accuracy_floor(real_data, rome_accuracy):
    # measured 0.432 / 0.668 (plain TF-IDF: 0.317 / 0.579): guard against regressions
    top1, top5 = rome_accuracy
    assert top1 >= 0.42 and top5 >= 0.65, (top1, top5)


@pytest.mark.xfail(
    reason="target of issue 5 (top-1 0.55, top-5 0.80) not reached yet", strict=False
)
def test_rome_appellations_accuracy_target(real_data, rome_accuracy):
    top1, top5 = rome_accuracy
    assert top1 >= 0.55 and top5 >= 0.80, (top1, top5)


def test_kth_largest_with_ties(rng):
    from gpec.matching import _kth_largest

    S = rng.integers(0, 4, size=(50, 40)).astype(np.float32)  # many ties
    for k in (1, 3, 5, 17, 40, 60):
        kk = min(k, 40)
        expected = -np.sort(-S, axis=1)[:, kk - 1]
        np.testing.assert_array_equal(_kth_largest(S, k), expected)
