"""The review loop of text matching: what to check, and a planner's corrections.

* :func:`mapping_review` lists the offers mapped by text with the evidence of each match (the
  words shared with the occupation, its profile lines closest to the offer, its known title
  nearest to the offer, each channel's score) and a confidence flag, least confident first: the
  file a planner reads (``mapping_review.csv`` of ``gpec run``);
* :func:`read_overrides` reads the planner's corrections, a CSV ``offer,occupation`` (the
  occupation code, or ``none`` when the offer feeds no occupation of the study), which
  :func:`gpec.supply.entrants` applies before any code or text (reason ``override``);
* :func:`override_titles` turns the corrected offers into known job titles (their title, their
  occupation), so that the next run's text matching also knows them.

Examples
--------
>>> import pandas as pd
>>> from gpec.supply import entrants
>>> offers = pd.DataFrame({"offer": ["F1", "F2"], "site": ["76540", "76540"],
...                        "seats": [12, 20], "title": ["Soudeur TIG", "Night audit"]})
>>> ov = pd.DataFrame({"offer": ["F2"], "occupation": ["G1703"]})
>>> t = entrants(offers, overrides=ov)
>>> t[["offer", "occupation", "reason"]]
  offer occupation    reason
0    F1        NaN  unmapped
1    F2      G1703  override
>>> override_titles(ov, offers)
  occupation        title
0      G1703  Night audit
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from gpec.exceptions import InputFileError
from gpec.supply._entrants import NO_OCCUPATION

__all__ = ["REVIEW_COLUMNS", "mapping_review", "override_titles", "read_overrides"]

#: Columns of :func:`mapping_review` (then each channel's ``score_*`` column when present).
REVIEW_COLUMNS = [
    "offer",
    "text",
    "seats",
    "confidence",
    "certainty",
    "rank",
    "occupation",
    "occupation_label",
    "score",
    "share",
    "shared_words",
    "nearest_title",
    "best_lines",
]
_CONFIDENCE_ORDER = {"low": 0, "medium": 1, "high": 2}


def mapping_review(
    entrants_table: pd.DataFrame, occupations: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The offers mapped by text, with the evidence of every match, least confident first.

    Parameters
    ----------
    entrants_table : DataFrame
        Output of :func:`gpec.supply.entrants` (its ``attrs["text_matches"]`` holds the
        evidence of the text matches).
    occupations : DataFrame, optional
        ``occupation``, ``label``: adds ``occupation_label``.

    Returns
    -------
    DataFrame
        :data:`REVIEW_COLUMNS` then the channels' scores, one row per offer x occupation kept
        (``rank`` 1 first), offers ordered by confidence (``low`` first), then by seats
        (largest first), then by offer. Empty (with its columns) when no offer was mapped by
        text.
    """
    matches = entrants_table.attrs.get("text_matches")
    text_rows = entrants_table[entrants_table["reason"] == "text"]
    if matches is None or not len(matches) or not len(text_rows):
        return pd.DataFrame(columns=REVIEW_COLUMNS)
    kept = pd.DataFrame(text_rows[["offer", "occupation", "share", "seats"]].to_dict("list"))
    kept["offer"] = kept["offer"].astype(str)
    m = pd.DataFrame(matches.to_dict("list")).astype({"offer": str})  # no attrs carried over
    m = m.merge(kept, on=["offer", "occupation"], how="inner")
    if occupations is not None and {"occupation", "label"} <= set(occupations.columns):
        labels = dict(zip(occupations["occupation"], occupations["label"], strict=False))
        m["occupation_label"] = m["occupation"].map(labels)
    else:
        m["occupation_label"] = None
    for col in REVIEW_COLUMNS:
        if col not in m.columns:
            m[col] = None
    first = m[m["rank"] == m.groupby("offer")["rank"].transform("min")]
    conf = first.set_index("offer")["confidence"].map(_CONFIDENCE_ORDER)
    m["_conf"] = m["offer"].map(conf).fillna(-1)
    m["_seats"] = -pd.to_numeric(m["seats"], errors="coerce").fillna(0.0)
    m = m.sort_values(["_conf", "_seats", "offer", "rank"], kind="mergesort")
    scores = sorted(c for c in m.columns if c.startswith("score_") or c == "probability")
    return m[REVIEW_COLUMNS + scores].reset_index(drop=True)


def read_overrides(path: str | os.PathLike) -> pd.DataFrame:
    """Read a planner's corrections: a CSV ``offer,occupation`` (optional ``share``).

    ``occupation`` is an occupation code, or ``none`` when the offer feeds no occupation of the
    study. Other columns (such as those copied from ``mapping_review.csv``) are ignored.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame
        ``offer``, ``occupation`` (and ``share`` when given), as text.

    Raises
    ------
    InputFileError
        The file is missing or unreadable, lacks a column, or has a row without offer or
        occupation (the message names the file, the row and the column).
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"mapping overrides: file not found: {p}")
    try:
        table = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"mapping overrides: cannot read {p}: {exc}") from exc
    table.columns = [str(c).strip().lower() for c in table.columns]
    for col in ("offer", "occupation"):
        if col not in table.columns:
            raise InputFileError(
                f"mapping overrides {p}: no column {col!r} (columns: {list(table.columns)}); "
                "expected offer,occupation"
            )
    cols = ["offer", "occupation"] + (["share"] if "share" in table.columns else [])
    out = table[cols].apply(lambda s: s.str.strip())
    for col in ("offer", "occupation"):
        empty = out[col] == ""
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise InputFileError(
                f"mapping overrides {p}: row {i + 2}, column {col!r} is empty (an offer and an "
                f"occupation code or {NO_OCCUPATION!r} are needed)"
            )
    if "share" in out.columns:
        share = pd.to_numeric(out["share"].replace("", np.nan).str.replace(",", "."))
        bad = out["share"].ne("") & (share.isna() | (share < 0))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputFileError(
                f"mapping overrides {p}: row {i + 2}, column 'share': {out['share'].iloc[i]!r} "
                "is not a number >= 0"
            )
        out["share"] = share
    return out.reset_index(drop=True)


def override_titles(overrides: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
    """Known job titles from corrected offers: ``occupation``, ``title`` (the offer's title).

    Offers mapped to ``none``, or without a title, give none.
    """
    if overrides is None or not len(overrides) or "title" not in offers.columns:
        return pd.DataFrame(columns=["occupation", "title"])
    title = dict(zip(offers["offer"].astype(str).str.strip(), offers["title"], strict=False))
    ov = overrides[overrides["occupation"].astype(str).str.lower() != NO_OCCUPATION]
    out = pd.DataFrame(
        {
            "occupation": ov["occupation"].astype(str).to_numpy(),
            "title": ov["offer"].astype(str).str.strip().map(title).to_numpy(),
        }
    )
    keep = out["title"].map(lambda v: isinstance(v, str) and bool(v.strip()))
    return out[keep].drop_duplicates().reset_index(drop=True)
