"""French text normalisation for matching (private; public through :mod:`gpec.supply.matching`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import pandas as pd

__all__ = ["FRENCH_STOP_WORDS", "normalize_text"]

#: French stop words (accents removed, as after :func:`normalize_text`), with the "H/F" marks.
FRENCH_STOP_WORDS = frozenset(
    """
    a au aux avec ce ces cet cette d dans de des du en et est il ils l la le les leur leurs lui
    m ma mais me meme mes n ne ni nos notre nous on ou par pas pour qu que qui s sa se ses son
    sont sur t ta te tes ton tu un une vos votre vous y c j afin ainsi autre autres chez comme
    dont elle elles entre etre hors lors etc selon sous tout tous toute toutes tres vers via
    plus moins h f hf fh
    """.split()
)

_TRANSLATE = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
        "\u0153": "oe",
        "\u00e6": "ae",
        "\u0152": "oe",
        "\u00c6": "ae",
        "\u00ab": " ",
        "\u00bb": " ",
        "\u2013": " ",
        "\u2014": " ",
    }
)
_LETTERS = "a-zàâäçéèêëîïôöûùüÿ"
# "infirmier(ère)", "technicien(ne)", "salarié(e)s": a parenthesised ending glued to a word.
_INCLUSIVE_PAREN = re.compile(rf"(?<=\w)\([{_LETTERS}]{{1,6}}\)")
# "agent·e", "salarié·e·s" (middle dot and its look-alikes).
_INCLUSIVE_DOT = re.compile(rf"(?<=\w\w)[·•∙⋅]([{_LETTERS}]{{1,6}})(?:[·•∙⋅]s)?\b")
# "salarié.e.s", "conseiller.ère": only with a feminine ending after the dot.
_INCLUSIVE_POINT = re.compile(
    r"(?<=\w\w\w)\.(?:e|fe|ne|le|se|te|euse|rice|trice|ere|ère|iere|ière|eure)(?:\.s)?\b"
)
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)'")
_NON_WORD = re.compile(r"[^a-z0-9/]+")
_TOKEN = re.compile(r"[a-z0-9]+")

# Feminine (and feminine plural) endings -> masculine, tried in this order.
_FEMININE = (
    ("trices", "teur"),
    ("trice", "teur"),
    ("euses", "eur"),
    ("euse", "eur"),
    ("ieres", "ier"),
    ("iere", "ier"),
    ("eures", "eur"),
    ("eure", "eur"),
    ("ennes", "en"),
    ("enne", "en"),
    ("elles", "el"),
    ("elle", "el"),
    ("onnes", "on"),
    ("onne", "on"),
    ("ettes", "et"),
    ("ette", "et"),
    ("ffes", "f"),
    ("ffe", "f"),
    ("eres", "er"),
    ("ere", "er"),
    ("ees", "e"),
    ("ee", "e"),
    ("ives", "if"),
    ("ive", "if"),
    ("esses", "e"),
    ("esse", "e"),
)


@lru_cache(maxsize=500_000)
def _stem(token: str) -> str:
    """Light French stemmer: plural, feminine and final-e folding (same stem for both genders)."""
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("eaux"):
        return token[:-1]
    if token.endswith("aux") and len(token) > 4:
        return token[:-3] + "al"
    for suffix, repl in _FEMININE:
        if token.endswith(suffix) and len(token) - len(suffix) >= 2:
            token = token[: -len(suffix)] + repl
            break
    if len(token) > 3 and token[-1] in "sx" and not token.endswith("ss"):
        token = token[:-1]
    if len(token) > 3 and token.endswith("e"):
        token = token[:-1]
    if len(token) > 3 and token[-1] == "s" and not token.endswith("ss"):
        token = token[:-1]
    return token


def _accent_table() -> dict[int, str]:
    table = {}
    for code in range(0xC0, 0x250):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base != ch:
            table[code] = base
    return table


_ACCENTS = _accent_table()


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    text = text.translate(_ACCENTS)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _tokens(segment: str, stop_words: frozenset, stemming: bool) -> list[str]:
    out = []
    for tok in _TOKEN.findall(segment):
        if (len(tok) < 2 and not tok.isdigit()) or tok in stop_words:
            continue
        out.append(_stem(tok) if stemming else tok)
    return out


def normalize_text(
    text,
    *,
    stop_words: bool | Iterable[str] = True,
    stemming: bool = True,
    fold_gender: bool = True,
) -> str:
    """Normalise a French text for matching: one string of space-separated tokens.

    Steps: lower case; typographic apostrophes; inclusive endings removed ("infirmier(ère)",
    "agent·e", "salarié.e.s"); accents removed (``œ`` -> ``oe``); elisions removed (``l'``,
    ``d'``, ``qu'``...); punctuation and hyphens become spaces; stop words and one-letter tokens
    removed; light stemming (plural, feminine endings, final ``e``), so that the masculine and
    feminine forms of a job title give the same tokens; finally the doubled gendered form of a
    title ("Soudeur / Soudeuse à l'arc", "Chef d'équipe / Cheffe d'équipe") is kept once.

    Parameters
    ----------
    text : str or None
        The text (``None`` and NaN give ``""``).
    stop_words : bool or iterable of str, default True
        ``True`` removes :data:`FRENCH_STOP_WORDS`; an iterable gives another list (compared
        after accent removal); ``False`` keeps every word.
    stemming : bool, default True
        Apply the light stemmer.
    fold_gender : bool, default True
        Keep once the two gendered halves of an ``X / Y`` title when they give the same tokens.

    Returns
    -------
    str

    Examples
    --------
    >>> normalize_text("Soudeur / Soudeuse à l'arc électrique")
    'soudeur arc electriqu'
    >>> normalize_text("Infirmier(ère) de bloc") == normalize_text("Infirmière de bloc")
    True
    >>> normalize_text("Agent·e d’entretien (H/F)")
    'agent entretien'
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    if stop_words is True:
        stops = FRENCH_STOP_WORDS
    elif stop_words is False or stop_words is None:
        stops = frozenset()
    else:
        stops = frozenset(_strip_accents(str(w).lower()) for w in stop_words)
    text = str(text).lower().translate(_TRANSLATE)
    text = _INCLUSIVE_PAREN.sub("", text)
    text = _INCLUSIVE_DOT.sub("", text)
    text = _INCLUSIVE_POINT.sub("", text)
    text = _strip_accents(text)
    text = _ELISION.sub(" ", text)
    text = _NON_WORD.sub(" ", text)
    parts = [_tokens(seg, stops, stemming) for seg in text.split("/")]
    if fold_gender and len(parts) > 1:
        merged = [parts[0]]
        for toks in parts[1:]:
            prev = merged[-1]
            if prev and toks[: len(prev)] == prev:
                merged[-1] = toks  # "Chargé / Chargée d'études": the right half extends the left
            elif toks and prev[-len(toks) :] == toks:
                continue  # "Maître d'hôtel / Maîtresse d'hôtel" already said
            else:
                merged.append(toks)
        parts = merged
    return " ".join(t for toks in parts for t in toks)


def _normalize_many(texts: Iterable, **kw) -> list[str]:
    return [normalize_text(t, **kw) for t in texts]
