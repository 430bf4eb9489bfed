"""Benchmark of gpec.matching: accuracy on ROME 4.0 job titles, and speed.

Accuracy: the 13,120 appellations (job titles) of ROME 4.0 v460 are matched to the 1,584 fiches,
whose profiles are built from their label, definition, access text and skills only (never the
appellations). Speed: 20,000 synthetic texts against 5,000 synthetic profiles.

Run: ``python benchmarks/bench_matching.py [path/to/rome4-v460]``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from gpec.matching import OfferMatcher, build_profiles

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "rome4-v460"


def load_rome(path: Path):
    from gpec.ingest import read_rome

    data = read_rome(path)
    occ = data.occupations
    if "level" in occ.columns:
        occ = occ[occ["level"] == "fiche"]
    profiles = build_profiles(
        occ, data.occupation_skills, data.skills, texts=data.extra.get("occupation_texts")
    )
    app = data.extra["appellations"]
    return profiles, app


def topk_accuracy(result: pd.DataFrame, truth: pd.Series) -> tuple[float, float]:
    hit = result.merge(
        truth.rename("true").reset_index().rename(columns={"index": "query"}), on="query"
    )
    hit = hit[hit["occupation"] == hit["true"]]
    n = len(truth)
    return (hit["rank"] == 1).sum() / n, (hit["rank"] <= 5).sum() / n


def baseline(profiles: pd.DataFrame, queries: pd.Series) -> pd.DataFrame:
    """Plain TF-IDF (words, accents stripped) on label + text, cosine top-5."""
    vec = TfidfVectorizer(strip_accents="unicode")
    P = vec.fit_transform(profiles["label"] + " " + profiles["text"])
    S = (vec.transform(queries.tolist()) @ P.T).toarray()
    top = np.argsort(-S, axis=1, kind="stable")[:, :5]
    return pd.DataFrame(
        {
            "query": np.repeat(queries.index.to_numpy(), 5),
            "occupation": profiles["occupation"].to_numpy()[top.ravel()],
            "rank": np.tile(np.arange(1, 6), len(queries)),
        }
    )


def accuracy_table(path: Path) -> pd.DataFrame:
    profiles, app = load_rome(path)
    queries = pd.Series(app["label"].to_numpy(), index=app["appellation"].to_numpy())
    truth = pd.Series(app["occupation"].to_numpy(), index=app["appellation"].to_numpy())
    rows = []
    t = time.perf_counter()
    res = baseline(profiles, queries)
    rows.append(
        ("plain TF-IDF (words, label+text)", *topk_accuracy(res, truth), time.perf_counter() - t)
    )
    variants = {
        "gpec OfferMatcher (default)": {},
        "  word channel only": {"analyzer": "word"},
        "  char channel only": {"analyzer": "char"},
        "  no stemming / gender folding": {"stemming": False},
        "  one field (label+text pooled)": "pooled",
    }
    for name, kw in variants.items():
        t = time.perf_counter()
        if kw == "pooled":
            pooled = pd.Series(
                (profiles["label"] + "\n" + profiles["text"]).to_numpy(),
                index=profiles["occupation"].to_numpy(),
            )
            m = OfferMatcher(min_score=0.0).fit(pooled)
        else:
            m = OfferMatcher(min_score=0.0, **kw).fit(profiles)
        res = m.match(queries, top_k=5)
        rows.append((name, *topk_accuracy(res, truth), time.perf_counter() - t))
    return pd.DataFrame(rows, columns=["method", "top1", "top5", "seconds"])


def synthetic_texts(n_texts: int, n_profiles: int, seed: int = 0):
    """French-looking pseudo-words (syllables), Zipf frequencies, gendered endings."""
    rng = np.random.default_rng(seed)
    syll = np.array(
        [
            "ba",
            "co",
            "di",
            "fa",
            "ge",
            "lu",
            "ma",
            "ni",
            "po",
            "ra",
            "se",
            "ti",
            "ve",
            "mé",
            "tri",
            "pla",
            "cha",
            "que",
            "ssi",
            "on",
            "an",
            "ur",
            "el",
            "gra",
        ]
    )
    ends = np.array(
        [
            "eur",
            "euse",
            "age",
            "ier",
            "ière",
            "ique",
            "ien",
            "ienne",
            "ation",
            "iste",
            "ment",
            "",
            "",
            "",
        ]
    )
    n_vocab = 30_000
    stems = ["".join(rng.choice(syll, k)) for k in rng.integers(2, 5, n_vocab)]
    vocab = np.array([s + e for s, e in zip(stems, rng.choice(ends, n_vocab), strict=True)])
    p = 1.0 / np.arange(1, n_vocab + 1) ** 1.05
    p /= p.sum()

    def texts(n, lo, hi):
        lens = rng.integers(lo, hi, n)
        words = vocab[rng.choice(n_vocab, lens.sum(), p=p)]
        return [" ".join(w) for w in np.split(words, np.cumsum(lens)[:-1])]

    profiles = pd.DataFrame(
        {
            "occupation": [f"P{i:05d}" for i in range(n_profiles)],
            "label": texts(n_profiles, 2, 6),
            "text": texts(n_profiles, 60, 300),
        }
    )
    return profiles, texts(n_texts, 3, 20)


def speed(n_texts: int = 20_000, n_profiles: int = 5_000, seed: int = 0):
    profiles, queries = synthetic_texts(n_texts, n_profiles, seed)
    t0, c0 = time.perf_counter(), time.process_time()
    m = OfferMatcher().fit(profiles)
    t1, c1 = time.perf_counter(), time.process_time()
    res = m.match(queries, top_k=5)
    t2, c2 = time.perf_counter(), time.process_time()
    m.set_params(n_jobs=-1)
    res2 = m.match(queries, top_k=5)
    t3, c3 = time.perf_counter(), time.process_time()
    assert res2.equals(res), "n_jobs changed the result"
    table = pd.DataFrame(
        [
            ("fit 5,000 profiles", t1 - t0, c1 - c0),
            ("match 20,000 texts", t2 - t1, c2 - c1),
            ("fit + match", t2 - t0, c2 - c0),
            ("match 20,000 texts, n_jobs=-1", t3 - t2, c3 - c2),
        ],
        columns=["step", "wall_seconds", "cpu_seconds"],
    )
    return table, len(res)


def main(argv: list[str]) -> None:
    path = Path(argv[1]) if len(argv) > 1 else REAL
    pd.set_option("display.width", 120)
    if path.is_dir():
        print(f"Accuracy: ROME 4.0 appellations -> fiches ({path})")
        print(accuracy_table(path).to_string(index=False, float_format="%.3f"))
    else:
        print(f"ROME 4.0 folder not found ({path}): accuracy skipped")
    table, n = speed()
    print(f"\nSpeed: 20,000 texts x 5,000 profiles ({n} matches)")
    print(table.to_string(index=False, float_format="%.2f"))


if __name__ == "__main__":
    main(sys.argv)
