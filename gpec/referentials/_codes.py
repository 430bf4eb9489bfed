"""Occupation and sector code systems: code patterns, crosswalk building and application.

A crosswalk is a long table ``[source_system, source, target_system, target, weight]`` where
the weights of one source (and target system) sum to 1. :func:`apply_crosswalk` moves a count
table (employment, openings, needs...) from one system to another, splitting each count by the
weights and summing what lands on the same target, so that the mapped total is preserved; rows
whose code has no entry are returned in a rejection table, never dropped silently. A staffing
matrix (sector -> occupation shares, as in BLS projections) is a crosswalk too: build it with
:func:`make_crosswalk` and apply it in the same way to turn employment by sector (NAF) into
employment by occupation.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from gpec._checks import require_columns
from gpec._schema import REJECTION_COLUMNS

__all__ = [
    "CODE_PATTERNS",
    "check_codes",
    "make_crosswalk",
    "compose_crosswalks",
    "apply_crosswalk",
    "convert_profiles",
    "convert_code_lists",
]

#: Regular expressions of the codes of each system (formats.md §8.2), full match.
CODE_PATTERNS: dict[str, str] = {
    "ROME4": r"[A-N]\d{4}",
    "ROME3": r"[A-N]\d{4}",
    "ROME3Q": r"[A-N]\d{5}",  # ROME v3 code + qualification digit (DARES SAS table)
    "ROME_DOMAINE": r"[A-N]\d{2}",
    "ROME_GRAND_DOMAINE": r"[A-N]",
    "OGR": r"\d{1,7}",
    "FAP2009": r"[A-X]\d[A-Z]\d{2}",
    "FAP2009_87": r"[A-X]\d[A-Z]",
    "FAP2021": r"[A-X][0-9A-Z][A-Z]\d{2}",
    "PCS2003": r"\d{3}[a-z]",
    "PCS2020": r"[1-6]\d[A-Za-z]\d",
    "ISCO08": r"\d{4}",
    "ESCO": r"http://data\.europa\.eu/esco/(occupation|skill)/[0-9a-f-]{36}",
    "ONET": r"\d{2}-\d{4}\.\d{2}",
    "NAF2": r"\d{2}\.?\d{2}[A-Z]",
    "NAF2_DIVISION": r"\d{2}",
    "FORMACODE": r"\d{5}",
    "RNCP": r"RNCP\d{1,5}",
    "COMMUNE": r"\d{5}|2[AB]\d{3}",
    "DEPARTEMENT": r"0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97[1-46]",
    "REGION": r"0[1-46]|11|24|27|28|32|44|52|53|75|76|84|93|94",
    "EPCI": r"\d{9}",
    "ZE2020": r"\d{4}",
    "BMO_BASSIN": r"\d{3,4}",
}


def check_codes(codes: pd.Series, system: str) -> pd.Series:
    """Boolean mask: which codes match the pattern of ``system`` (unknown system: all True).

    Parameters
    ----------
    codes : Series
        Codes to check. Only strings can match: a null or a number is False.
    system : str
        A key of :data:`CODE_PATTERNS` (``"ROME4"``, ``"FAP2009"``, ``"DEPARTEMENT"``...); the
        whole code must match, with its case. Any other name accepts every code.

    Returns
    -------
    Series of bool
        Same index as ``codes``.

    Examples
    --------
    >>> check_codes(pd.Series(["A0Z40", "A0Z4"]), "FAP2009").tolist()
    [True, False]
    >>> check_codes(pd.Series(["01", "2A", "1", 1, None]), "DEPARTEMENT").tolist()
    [True, True, False, False, False]
    >>> check_codes(pd.Series(["anything"]), "MY_SYSTEM").tolist()
    [True]
    """
    pattern = CODE_PATTERNS.get(system)
    if pattern is None:
        return pd.Series(True, index=codes.index)
    rx = re.compile(pattern)
    return codes.map(lambda c: isinstance(c, str) and rx.fullmatch(c) is not None).astype(bool)


def make_crosswalk(
    pairs: pd.DataFrame,
    *,
    source: str = "source",
    target: str = "target",
    weight: str | None = None,
    source_system: str | None = None,
    target_system: str | None = None,
) -> pd.DataFrame:
    """Build a canonical crosswalk from a table of (source, target[, weight]) pairs.

    Without weights, a source with ``k`` distinct targets gives each one ``1/k`` (equal split).
    Given weights (shares, counts...) are normalised so that those of one source sum to 1.
    Duplicate pairs are merged (their weights added).

    Parameters
    ----------
    pairs : DataFrame
        One row per link.
    source, target : str
        Columns of the source and target codes.
    weight : str, optional
        Column of weights (>= 0); sources whose weights sum to 0 get an equal split.
    source_system, target_system : str, optional
        System names (``"ROME3"``, ``"FAP2009"``, ``"NAF2_DIVISION"``...); default the columns
        ``source_system`` / ``target_system`` of ``pairs`` when present, else the column names.

    Returns
    -------
    DataFrame
        Columns source_system, source, target_system, target, weight; sorted.

    Examples
    --------
    A staffing matrix: employment by sector -> occupations.

    >>> m = pd.DataFrame({"sector": ["62", "62", "43"], "occupation": ["M1805", "M1801", "F1703"],
    ...                   "jobs": [300.0, 100.0, 50.0]})
    >>> make_crosswalk(m, source="sector", target="occupation", weight="jobs",
    ...                source_system="NAF2_DIVISION", target_system="ROME4")["weight"].tolist()
    [1.0, 0.25, 0.75]
    """
    df = pd.DataFrame(
        {
            "source_system": (
                pairs["source_system"]
                if source_system is None and "source_system" in pairs
                else source_system or source
            ),
            "source": pairs[source].astype(object),
            "target_system": (
                pairs["target_system"]
                if target_system is None and "target_system" in pairs
                else target_system or target
            ),
            "target": pairs[target].astype(object),
        }
    )
    if weight is not None:
        w = pd.to_numeric(pairs[weight], errors="coerce").astype(float)
        if w.isna().any() or (w < 0).any():
            raise ValueError(f"crosswalk weights in column {weight!r} must be numbers >= 0")
        df["weight"] = w.to_numpy()
    else:
        df["weight"] = 1.0
    keys = ["source_system", "source", "target_system", "target"]
    if df[keys].isna().any().any():
        raise ValueError("crosswalk pairs: null codes (drop or report them first)")
    df = df.groupby(keys, sort=True, as_index=False)["weight"].sum()
    group = ["source_system", "source", "target_system"]
    total = df.groupby(group)["weight"].transform("sum")
    count = df.groupby(group)["weight"].transform("size")
    df["weight"] = np.where(total > 0, df["weight"] / total.where(total > 0, 1.0), 1.0 / count)
    return df.reset_index(drop=True)


def compose_crosswalks(
    first: pd.DataFrame, second: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chain two crosswalks A -> B and B -> C into A -> C (weights multiplied, then summed).

    Each input must hold one system pair. A link of ``first`` whose target has no entry in
    ``second`` cannot be chained: its sources are returned in the second value (and their
    weights in the result no longer sum to 1, so they are dropped from it, never half-kept).

    Parameters
    ----------
    first : DataFrame
        Crosswalk A -> B, as made by :func:`make_crosswalk` (columns source_system, source,
        target_system, target, weight).
    second : DataFrame
        Crosswalk B -> C, same columns; its source system must be the target system of
        ``first``.

    Returns
    -------
    crosswalk : DataFrame
        source_system, source, target_system, target, weight (weights of a source sum to 1).
    unchained : DataFrame
        Links of ``first`` (source, target) whose target is not a source of ``second``.

    Raises
    ------
    ValueError
        When an input holds several system pairs, or the target system of ``first`` is not
        the source system of ``second``.

    Examples
    --------
    ``M1855`` goes to ``M1805``, split equally over two FAP codes, so ``M1855`` goes half
    to each; ``K2101`` goes to ``K2102``, which has no FAP code: it is left out and reported.

    >>> a = make_crosswalk(pd.DataFrame({"source": ["M1855", "K2101"],
    ...                                  "target": ["M1805", "K2102"]}),
    ...                    source_system="ROME4", target_system="ROME3")
    >>> b = make_crosswalk(pd.DataFrame({"source": ["M1805", "M1805"],
    ...                                  "target": ["M1Z80", "M2Z90"]}),
    ...                    source_system="ROME3", target_system="FAP2009")
    >>> ab, missing = compose_crosswalks(a, b)
    >>> ab[["source", "target", "weight"]].values.tolist()
    [['M1855', 'M1Z80', 0.5], ['M1855', 'M2Z90', 0.5]]
    >>> missing.values.tolist()
    [['K2101', 'K2102']]
    >>> compose_crosswalks(b, a)
    Traceback (most recent call last):
    ...
    ValueError: cannot chain ROME3->FAP2009 with ROME4->ROME3
    """
    cols = ["source_system", "source", "target_system", "target", "weight"]
    require_columns(first, "compose_crosswalks: first", cols)
    require_columns(second, "compose_crosswalks: second", cols)
    a = _pick_pair(first, None, None)
    b = _pick_pair(second, None, None)
    a_sys = (a["source_system"].iloc[0], a["target_system"].iloc[0]) if len(a) else ("", "")
    b_sys = (b["source_system"].iloc[0], b["target_system"].iloc[0]) if len(b) else ("", "")
    if len(a) and len(b) and a_sys[1] != b_sys[0]:
        raise ValueError(f"cannot chain {a_sys[0]}->{a_sys[1]} with {b_sys[0]}->{b_sys[1]}")
    known = set(b["source"])
    lost = ~a["target"].isin(known)
    unchained = a.loc[lost, ["source", "target"]].reset_index(drop=True)
    bad_sources = set(a.loc[lost, "source"])
    a = a[~a["source"].isin(bad_sources)]
    m = a[["source", "target", "weight"]].merge(
        b[["source", "target", "weight"]].rename(
            columns={"source": "target", "target": "final", "weight": "w2"}
        ),
        on="target",
    )
    m["weight"] = m["weight"] * m["w2"]
    out = m.groupby(["source", "final"], sort=True, as_index=False)["weight"].sum()
    out = out.rename(columns={"final": "target"})
    out.insert(0, "source_system", a_sys[0])
    out.insert(2, "target_system", b_sys[1])
    return out[["source_system", "source", "target_system", "target", "weight"]], unchained


def _pick_pair(crosswalk: pd.DataFrame, source_system, target_system) -> pd.DataFrame:
    cw = crosswalk
    if "source_system" in cw and source_system is not None:
        cw = cw[cw["source_system"] == source_system]
    if "target_system" in cw and target_system is not None:
        cw = cw[cw["target_system"] == target_system]
    if "source_system" in cw and "target_system" in cw:
        pairs = sorted(set(zip(cw["source_system"], cw["target_system"], strict=True)))
        if len(pairs) > 1:
            raise ValueError(
                f"the crosswalk holds several system pairs {pairs}: choose one with "
                "source_system= and target_system="
            )
        if not pairs:
            raise ValueError(f"no crosswalk rows from {source_system!r} to {target_system!r}")
    return cw


def apply_crosswalk(
    table: pd.DataFrame,
    crosswalk: pd.DataFrame,
    *,
    code_col: str = "occupation",
    value_cols: tuple[str, ...] | list[str] = ("value",),
    source_system: str | None = None,
    target_system: str | None = None,
    integer: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert a count table from one code system to another through a weighted crosswalk.

    Each row is split over the targets of its code (value x weight); pieces landing on the same
    target (and the same other keys: territory, period...) are summed. The residual of floating
    point splitting is put on the largest piece, so the pieces of a row add up to its value.
    A null value stays null (unknown) in every target it reaches.

    Parameters
    ----------
    table : DataFrame
        Long table with ``code_col``, ``value_cols`` and any other key columns.
    crosswalk : DataFrame
        Columns source, target, weight (and source_system, target_system: then pick a pair
        with ``source_system``/``target_system`` when several are present). Weights of one
        source must sum to 1 (use :func:`make_crosswalk`). A staffing matrix built with
        :func:`make_crosswalk` (sector -> occupation shares) works the same way.
    code_col : str, default "occupation"
        Column holding the source codes; the output holds the target codes in it.
    value_cols : sequence of str, default ("value",)
        Additive columns to split (jobs, openings, needs...).
    source_system, target_system : str, optional
        Select the crosswalk rows of one system pair.
    integer : bool, default False
        Split integer counts into integers (largest remainder per row), totals still exact.

    Returns
    -------
    converted : DataFrame
        Same columns as ``table`` with target codes, one row per target x other keys, sorted.
    rejected : DataFrame
        Rows of ``table`` whose code has no crosswalk entry (columns table, file, row, column,
        value, reason; ``row`` is the index label of ``table``). Their values are not in
        ``converted``: mapped total + rejected total = input total.

    Raises
    ------
    ValueError
        When weights of a source do not sum to 1, or a column is missing.

    Examples
    --------
    >>> emp = pd.DataFrame({"territory": ["28", "28"], "occupation": ["A1101", "Z9999"],
    ...                     "period": [2020, 2020], "value": [10.0, 5.0]})
    >>> cw = make_crosswalk(pd.DataFrame({"source": ["A1101", "A1101"],
    ...                                   "target": ["A0Z40", "A0Z43"]}),
    ...                     source_system="ROME3", target_system="FAP2009")
    >>> out, rejected = apply_crosswalk(emp, cw)
    >>> out["value"].tolist(), rejected["value"].tolist()
    ([5.0, 5.0], ['Z9999'])
    """
    value_cols = list(value_cols)
    missing = [c for c in [code_col, *value_cols] if c not in table.columns]
    if missing:
        raise ValueError(f"table: missing column(s) {missing}")
    for c in ("source", "target", "weight"):
        if c not in crosswalk.columns:
            raise ValueError(f"crosswalk: missing column {c!r}")
    cw = _pick_pair(crosswalk, source_system, target_system)
    cw = cw[["source", "target", "weight"]].copy()
    cw["weight"] = pd.to_numeric(cw["weight"], errors="coerce").astype(float)
    sums = cw.groupby("source")["weight"].sum()
    bad = sums[~np.isclose(sums.to_numpy(), 1.0, atol=1e-9)]
    if len(bad):
        raise ValueError(
            f"crosswalk weights of source {bad.index[0]!r} sum to {bad.iloc[0]:g}, "
            f"not 1 ({len(bad)} source(s)); build it with make_crosswalk()"
        )

    codes = table[code_col]
    mapped = codes.isin(set(cw["source"]))
    unmapped = table[~mapped.to_numpy()]
    rejected = pd.DataFrame(
        {
            "table": "",
            "file": table.attrs.get("source", ""),
            "row": list(unmapped.index),
            "column": code_col,
            "value": unmapped[code_col].astype(str).tolist(),
            "reason": "no crosswalk entry for this code",
        },
        columns=REJECTION_COLUMNS,
    )

    keys = [c for c in table.columns if c not in (code_col, *value_cols)]
    src = table[mapped.to_numpy()].copy()
    src["_row"] = np.arange(len(src))
    long = src.merge(cw.rename(columns={"source": code_col}), on=code_col, how="inner", sort=False)
    long = long.sort_values(
        ["_row", "weight", "target"], ascending=[True, True, True], kind="mergesort"
    ).reset_index(drop=True)
    last = ~long["_row"].duplicated(keep="last").to_numpy()  # largest weight of each row
    for col in value_cols:
        v = pd.to_numeric(long[col], errors="coerce").astype(float).to_numpy()
        w = long["weight"].to_numpy()
        if integer:
            pieces = _largest_remainder(v, w, long["_row"].to_numpy())
        else:
            pieces = v * w
            piece_sum = pd.Series(pieces).groupby(long["_row"].to_numpy()).transform("sum")
            residual = v - piece_sum.to_numpy()
            pieces = np.where(last, pieces + residual, pieces)
        long[col] = pieces
    long[code_col] = long["target"]
    group = [*keys, code_col]
    agg = long.groupby(group, sort=True, dropna=False)[value_cols]
    out = agg.sum()
    has_nan = (
        long[value_cols].isna().groupby([long[k] for k in group], sort=True, dropna=False).any()
    )
    out = out.mask(has_nan.to_numpy())
    out = out.reset_index()[[c for c in table.columns]]
    return out, rejected


def _largest_remainder(v: np.ndarray, w: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Integer split of each row's value by weights (Hamilton method), nulls kept."""
    raw = v * w
    base = np.floor(raw)
    frac = raw - base
    out = base.copy()
    df = pd.DataFrame({"row": row, "frac": frac, "v": v, "base": base})
    short = (df["v"] - df.groupby("row")["base"].transform("sum")).round().to_numpy()
    order = df.sort_values(["row", "frac"], ascending=[True, False], kind="mergesort")
    rank = order.groupby("row").cumcount().reindex(df.index).to_numpy()
    out = np.where(rank < short, base + 1, base)
    out[np.isnan(v)] = np.nan
    return out


def convert_profiles(
    profiles: pd.DataFrame,
    crosswalk: pd.DataFrame,
    *,
    code_col: str = "occupation",
    item_col: str = "skill",
    weight_col: str = "weight",
) -> pd.DataFrame:
    """Convert occupation profiles (occupation x skill weights) to another occupation system.

    The weight of skill ``s`` in target ``f`` is the mean of the source weights over the sources
    ``r`` of ``f``, weighted by the crosswalk: ``sum_r a(r, f) w(r, s) / sum_r a(r, f)`` (0 when
    ``r`` does not list ``s``). Weights stay in [0, 1]; a target with one source gets its
    profile. Sources without a crosswalk entry are left out (the caller reports them).

    Parameters
    ----------
    profiles : DataFrame
        One row per occupation x item, with the columns ``code_col``, ``item_col`` and
        ``weight_col`` (weights in [0, 1]).
    crosswalk : DataFrame
        source, target, weight (one source and one target system; system columns not needed).
    code_col, item_col, weight_col : str
        Columns of ``profiles``: occupation code, item (skill...) and weight.

    Returns
    -------
    DataFrame
        ``code_col`` (now target codes), ``item_col``, ``weight_col``; sorted by target and
        item. An item no source of a target lists is absent (weight 0).

    Examples
    --------
    ``F`` gathers ``R1`` and ``R2`` with equal links: skill ``s`` weighs (1 + 0.5) / 2 and
    skill ``t``, listed by ``R2`` only, (0 + 1) / 2.

    >>> prof = pd.DataFrame({"occupation": ["R1", "R2", "R2"], "skill": ["s", "s", "t"],
    ...                      "weight": [1.0, 0.5, 1.0]})
    >>> cw = pd.DataFrame({"source": ["R1", "R2"], "target": ["F", "F"], "weight": [1.0, 1.0]})
    >>> convert_profiles(prof, cw).values.tolist()
    [['F', 's', 0.75], ['F', 't', 0.5]]
    """
    cw = crosswalk[["source", "target", "weight"]].rename(
        columns={"source": code_col, "weight": "_link"}
    )
    cw = cw[cw[code_col].isin(set(profiles[code_col]))]
    mass = cw.groupby("target")["_link"].sum()
    m = profiles[[code_col, item_col, weight_col]].merge(cw, on=code_col)
    m[weight_col] = m[weight_col] * m["_link"]
    out = m.groupby(["target", item_col], as_index=False, sort=True)[weight_col].sum()
    out[weight_col] = (out[weight_col] / out["target"].map(mass)).clip(upper=1.0)
    return out.rename(columns={"target": code_col})[[code_col, item_col, weight_col]]


def convert_code_lists(codes: pd.Series, crosswalk: pd.DataFrame) -> pd.Series:
    """Translate ';'-separated code lists (an offer's ROME codes) into ``code:share`` lists.

    Each source code of a list counts equally; its share is split by the crosswalk weights.
    Codes without a crosswalk entry are left out; a list with none gives null (the offer is then
    matched by text, or reported unmapped by :func:`gpec.supply.entrants`).

    Parameters
    ----------
    codes : Series
        ';'-separated codes of the source system (null allowed).
    crosswalk : DataFrame
        source, target, weight (one source and one target system).

    Returns
    -------
    Series
        ``"target:share;..."`` strings, sorted by target code, or null.

    Examples
    --------
    >>> cw = pd.DataFrame({"source": ["A", "A", "B"], "target": ["F1", "F2", "F1"],
    ...                    "weight": [0.5, 0.5, 1.0]})
    >>> convert_code_lists(pd.Series(["A;B", "Z"]), cw).tolist()
    ['F1:0.75;F2:0.25', None]
    """
    links: dict[str, list[tuple[str, float]]] = {}
    for s, t, w in zip(crosswalk["source"], crosswalk["target"], crosswalk["weight"], strict=True):
        links.setdefault(s, []).append((t, float(w)))

    def convert(value):
        if not isinstance(value, str) or not value.strip():
            return None
        found = [links[c] for c in dict.fromkeys(value.split(";")) if c in links]
        shares: dict[str, float] = {}
        for targets in found:
            for t, w in targets:
                shares[t] = shares.get(t, 0.0) + w / len(found)
        return ";".join(f"{t}:{v:.6g}" for t, v in sorted(shares.items())) or None

    return pd.Series([convert(v) for v in codes], index=codes.index, dtype=object)
