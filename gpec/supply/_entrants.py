"""Training supply: qualified entrants per year of each training offer, mapped to occupations.

For every offer (a row of the canonical ``training_offers`` table):

* qualified entrants per year = ``seats x completion_rate x placement_rate``; a missing rate
  takes the default (``completion_default`` = 0.8, ``placement_default`` = 0.7, orders of
  magnitude of the completion and six-month employment rates published for French vocational
  training, InserJeunes / InserSup), and the ``defaulted`` column says which rates were defaulted;
* the offer is mapped to one or several occupations, with shares summing to 1, by the first
  method that gives an answer, in this order:

  0. ``override``: a planner's corrections ``[offer, occupation]`` (``occupation = "none"``: the
     offer feeds no occupation of the study), which win over everything below;
  1. ``user``: the user's flexibility matrix ``[offer, occupation, share]`` (share of the trainees
     of the offer that end up in each occupation; shares rescaled to sum to 1);
  2. ``code``: the ROME codes written on the offer (``rome``, ';'-separated, optionally
     ``code:weight``); else its RNCP codes, else its Formacode codes, translated to ROME through
     the ``crosswalks`` rows with ``source_system`` ``RNCP`` / ``FORMACODE`` and a ROME
     ``target_system`` (crosswalk weights; several codes count equally);
  3. ``text``: title + description matched by :class:`gpec.supply.matching.OfferMatcher` against the
     occupation profiles, the ``top_k`` matches above ``min_score`` with shares proportional to
     their score;
  4. ``unmapped``: kept with a null occupation (never dropped).

Codes that are not in the ``occupations`` table are not used; they are listed in the ``warning``
column of the offer and in ``result.attrs["rejected"]`` (offer, column, value, reason).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from gpec._checks import outside_stacklevel, plain, require_frame
from gpec._defaults import DEFAULTS
from gpec._schema import to_number

__all__ = [
    "ENTRANTS_COLUMNS",
    "entrants",
    "entrants_interval",
    "mapping_quality",
]

#: Columns of the :func:`entrants` table (the first seven are the contract of the gap stage).
ENTRANTS_COLUMNS = [
    "offer",
    "site",
    "occupation",
    "share",
    "entrants",
    "score",
    "reason",
    "seats",
    "completion_rate",
    "placement_rate",
    "defaulted",
    "source",
    "warning",
]
REASONS = ("override", "user", "code", "text", "unmapped")
#: value of ``occupation`` in the overrides that maps an offer to no occupation
NO_OCCUPATION = "none"
_SPLIT = re.compile(r"[;,|\s]+")


def _is_missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    if isinstance(v, (list, tuple, set, np.ndarray)):
        return len(v) == 0
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _parse_codes(value) -> list[tuple[str, float]]:
    """``"H2913; H2914:2"`` or a list -> [(code, weight)] (weight 1 when not given)."""
    if _is_missing(value):
        return []
    items = value if isinstance(value, (list, tuple, set, np.ndarray)) else _SPLIT.split(str(value))
    out: list[tuple[str, float]] = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        code, _, weight = item.partition(":")
        code = code.strip()
        try:
            w = float(weight) if weight.strip() else 1.0
        except ValueError as exc:
            raise ValueError(f"code {item!r}: weight after ':' is not a number") from exc
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"code {item!r}: weight must be a finite number >= 0")
        if code and all(c != code for c, _ in out):
            out.append((code, w))
    return out


def _rate(
    offers: pd.DataFrame, col: str, default: float, name: str, rows: pd.Index | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The rates of ``col`` (French decimal commas read), the default where missing, and
    where the default was taken; ``rows`` are the row numbers named in messages."""
    if not 0 <= default <= 1:
        raise ValueError(f"{name} must be in [0, 1], got {default}")
    if col not in offers.columns:
        return np.full(len(offers), float(default)), np.ones(len(offers), dtype=bool)
    raw = to_number(offers[col]).to_numpy(dtype=float, na_value=np.nan)  # "0,8" too
    given = offers[col].map(lambda v: not _is_missing(v)).to_numpy(dtype=bool)
    bad = given & (np.isnan(raw) | (raw < 0) | (raw > 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = (offers.index if rows is None else rows)[i]
        hint = ""
        if 1 < raw[i] <= 100:
            hint = f" (a percentage? a rate is written as a fraction: {raw[i] / 100:g} for {raw[i]:g} %)"
        raise ValueError(
            f"training_offers: row {row}, column {col!r}: "
            f"{plain(offers[col].iloc[i])!r} is not a rate in [0, 1]{hint}"
        )
    missing = np.isnan(raw)
    return np.where(missing, float(default), raw), missing


def _crosswalk_maps(
    crosswalks: pd.DataFrame | None, target_system: str | None
) -> dict[str, dict[str, list[tuple[str, float]]]]:
    maps: dict[str, dict[str, list[tuple[str, float]]]] = {"RNCP": {}, "FORMACODE": {}}
    if crosswalks is None or len(crosswalks) == 0:
        return maps
    need = ["source_system", "source", "target_system", "target"]
    missing = [c for c in need if c not in crosswalks.columns]
    if missing:
        raise ValueError(f"crosswalks table has no column {missing[0]!r}")
    cw = crosswalks
    src = cw["source_system"].astype(str).str.strip().str.upper()
    tgt = cw["target_system"].astype(str).str.strip().str.upper()
    ok_t = tgt.eq(target_system.upper()) if target_system else tgt.str.startswith("ROME")
    weight = (
        pd.to_numeric(cw["weight"], errors="coerce").fillna(1.0)
        if "weight" in cw.columns
        else pd.Series(1.0, index=cw.index)
    )
    for system in maps:
        sel = src.eq(system) & ok_t
        for s, t, w in zip(
            cw.loc[sel, "source"].astype(str).str.strip(),
            cw.loc[sel, "target"].astype(str).str.strip(),
            weight[sel],
            strict=True,
        ):
            maps[system].setdefault(s, []).append((t, float(w)))
    return maps


def _normalize(pairs: list[tuple[str, float]]) -> list[tuple[str, float]]:
    agg: dict[str, float] = {}
    for code, w in pairs:
        agg[code] = agg.get(code, 0.0) + w
    total = sum(agg.values())
    if total <= 0:
        n = len(agg)
        return [(c, 1.0 / n) for c in agg] if n else []
    return [(c, w / total) for c, w in agg.items()]


def _offer_ids(offers: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The offers table with a plain index, and its stripped offer ids (present and unique)."""
    require_frame(offers, "training_offers")
    for col in ("offer", "site", "seats"):
        if col not in offers.columns:
            raise ValueError(f"training_offers: required column {col!r} is missing")
    off = offers.reset_index(drop=False) if offers.index.name else offers.reset_index(drop=True)
    if off["offer"].map(_is_missing).any():
        i = int(np.flatnonzero(off["offer"].map(_is_missing).to_numpy())[0])
        raise ValueError(f"training_offers: row {offers.index[i]}, column 'offer': missing value")
    ids = off["offer"].astype(str).str.strip()
    if ids.duplicated().any():
        i = int(np.flatnonzero(ids.duplicated().to_numpy())[0])
        raise ValueError(
            f"training_offers: row {offers.index[i]}, column 'offer': duplicate "
            f"offer {ids.iloc[i]!r}"
        )
    return off, ids


def _offer_volumes(
    off: pd.DataFrame, offers: pd.DataFrame, completion_default: float, placement_default: float
) -> dict[str, np.ndarray]:
    """Per offer: seats (unknown as NaN), rates, defaulted rates, site and yearly entrants."""
    seats = to_number(off["seats"]).to_numpy(dtype=float, na_value=np.nan)  # "1 234" too
    # an unknown seat count (empty cell, as in many LHEO feeds) is allowed: the offer is kept,
    # supplies no entrant and is flagged; text or a negative number is an error
    unknown_seats = off["seats"].map(_is_missing).to_numpy(dtype=bool)
    bad = ~unknown_seats & (~np.isfinite(seats) | (seats < 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"training_offers: row {offers.index[i]}, column 'seats': "
            f"{plain(offers['seats'].iloc[i])!r} is not a number >= 0"
        )
    completion, c_def = _rate(
        off, "completion_rate", completion_default, "completion_default", offers.index
    )
    placement, p_def = _rate(
        off, "placement_rate", placement_default, "placement_default", offers.index
    )
    seats_out = np.where(unknown_seats, np.nan, seats)  # unknown is empty, never 0
    seats = np.where(unknown_seats, 0.0, seats)
    defaulted = np.array(
        [
            ";".join(n for n, d in (("completion", cd), ("placement", pd_)) if d)
            for cd, pd_ in zip(c_def, p_def, strict=True)
        ],
        dtype=object,
    )
    return {
        "unknown_seats": unknown_seats,
        "seats": seats_out,
        "completion": completion,
        "placement": placement,
        "defaulted": defaulted,
        "total": seats * completion * placement,
        "site": off["site"].map(lambda v: None if _is_missing(v) else str(v).strip()).to_numpy(),
    }


def _known_codes(occupations: pd.DataFrame | None) -> set[str] | None:
    """The occupation codes of the occupations table, or None without one."""
    if occupations is None:
        return None
    if "occupation" not in occupations.columns:
        raise ValueError("occupations table has no column 'occupation'")
    return set(occupations["occupation"].astype(str).str.strip())


def _keep_known(offer: str, column: str, pairs, known, rejected: list, warn: dict):
    """``pairs`` whose code is in ``known`` (all without it); the others are reported."""
    if known is None:
        return pairs
    good = []
    for code, w in pairs:
        if code in known:
            good.append((code, w))
        else:
            rejected.append((offer, column, code, "occupation not in the occupations table"))
            warn[offer].append(f"{column} {code}: unknown occupation")
    return good


def _flexibility_mappings(
    flexibility: pd.DataFrame, ids, mapping: dict, known, rejected: list, warn: dict
) -> None:
    """Add the user flexibility matrix's mappings of the offers not mapped yet to ``mapping``."""
    for col in ("offer", "occupation", "share"):
        if col not in flexibility.columns:
            raise ValueError(f"flexibility table has no column {col!r}")
    share = pd.to_numeric(flexibility["share"], errors="coerce")
    badf = share.isna() | (share < 0)
    if badf.any():
        i = flexibility.index[np.flatnonzero(badf.to_numpy())[0]]
        raise ValueError(f"flexibility: row {i}, column 'share': not a number >= 0")
    fl = pd.DataFrame(
        {
            "offer": flexibility["offer"].astype(str).str.strip(),
            "occupation": flexibility["occupation"].astype(str).str.strip(),
            "share": share.to_numpy(dtype=float),
        }
    )
    unknown_offers = sorted(set(fl["offer"]) - set(ids))
    for o in unknown_offers:
        rejected.append((o, "flexibility", o, "offer not in training_offers"))
    for offer, grp in fl.groupby("offer", sort=False):
        if offer not in warn or offer in mapping:
            continue
        pairs = _keep_known(
            offer,
            "flexibility",
            list(zip(grp["occupation"], grp["share"], strict=True)),
            known,
            rejected,
            warn,
        )
        pairs = [(c, w) for c, w in pairs if w > 0]
        if pairs:
            mapping[offer] = ("user", "flexibility", [(c, s, 1.0) for c, s in _normalize(pairs)])


def _crosswalked(offer: str, col: str, parsed, table: dict, rejected: list, warn: dict):
    """RNCP or Formacode ``parsed`` codes carried to ROME through ``table``, weights multiplied;
    codes without a crosswalk are reported."""
    pairs = []
    for code, w in parsed:
        key = code.upper() if col == "rncp" else code
        targets = table.get(key) or table.get(code)
        if not targets and col == "rncp" and not key.startswith("RNCP"):
            targets = table.get("RNCP" + key)
        if not targets and col == "rncp" and key.startswith("RNCP"):
            targets = table.get(key[4:])
        if not targets:
            rejected.append((offer, col, code, "no crosswalk to ROME"))
            warn[offer].append(f"{col} {code}: no crosswalk to ROME")
            continue
        pairs.extend((t, w * tw) for t, tw in _normalize(targets))
    return pairs


def _code_mappings(
    off: pd.DataFrame, ids, mapping: dict, maps: dict, known, rejected: list, warn: dict
) -> None:
    """Add the mappings from the first usable code column (rome, rncp, formacode) of the
    offers not mapped yet to ``mapping``."""
    code_cols = [c for c in ("rome", "rncp", "formacode") if c in off.columns]
    for i, offer in enumerate(ids):
        if offer in mapping:
            continue
        for col in code_cols:
            parsed = _parse_codes(off[col].iloc[i])
            if not parsed:
                continue
            if col == "rome":
                pairs = [(c.upper(), w) for c, w in parsed]
            else:
                table = maps["RNCP" if col == "rncp" else "FORMACODE"]
                pairs = _crosswalked(offer, col, parsed, table, rejected, warn)
            pairs = _keep_known(offer, col, pairs, known, rejected, warn)
            if pairs:
                mapping[offer] = ("code", col, [(c, s, 1.0) for c, s in _normalize(pairs)])
                break


def _fitted_matcher(matcher, profiles, titles):
    """``matcher`` (a new OfferMatcher when None), fitted on ``profiles`` if not fitted yet."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if matcher is None:
        from gpec.supply.matching import OfferMatcher

        matcher = OfferMatcher()
    try:
        check_is_fitted(matcher, "profile_matrix_")
    except NotFittedError:
        if profiles is None:
            raise ValueError("entrants: the matcher is not fitted and no profiles given") from None
        matcher.fit(profiles, titles=titles)
    return matcher


def _offer_texts(off: pd.DataFrame, ids, todo: list) -> dict[str, str]:
    """Title and description of each offer of ``todo``, joined; offers without text left out."""
    pos = {o: i for i, o in enumerate(ids)}
    title = off["title"] if "title" in off.columns else pd.Series("", index=off.index)
    desc = off["description"] if "description" in off.columns else None
    texts = {}
    for o in todo:
        i = pos[o]
        parts = [title.iloc[i], desc.iloc[i] if desc is not None else None]
        text = " ".join(str(p) for p in parts if not _is_missing(p))
        if text:
            texts[o] = text
    return texts


def _text_mappings(
    off, ids, mapping: dict, known, *, matcher, profiles, titles, top_k, min_score
) -> pd.DataFrame:
    """Add the text matcher's mappings of the offers not mapped yet to ``mapping``; return the
    text matches (with their evidence)."""
    text_matches = pd.DataFrame(columns=["offer", "text", "occupation", "score", "rank"])
    todo = [o for o in ids if o not in mapping]
    if not todo or (matcher is None and profiles is None):
        return text_matches
    matcher = _fitted_matcher(matcher, profiles, titles)
    texts = _offer_texts(off, ids, todo)
    if texts:
        res = matcher.match(texts, top_k=top_k, min_score=min_score, evidence=True)
        if known is not None and len(res):
            res = res[res["occupation"].astype(str).isin(known)]
        text_matches = res.rename(columns={"query": "offer"}).reset_index(drop=True)
        text_matches.insert(1, "text", text_matches["offer"].map(texts))
        for offer, grp in res.groupby("query", sort=False):
            sc = grp["score"].to_numpy(dtype=float)
            occ = grp["occupation"].astype(str).to_numpy()
            mapping[offer] = (
                "text",
                "title+description",
                [(c, s / sc.sum(), s) for c, s in zip(occ, sc, strict=True)],
            )
    return text_matches


def _entrants_rows(ids, mapping: dict, warn: dict, vol: dict) -> pd.DataFrame:
    """One row per offer x mapped occupation (one unmapped row per offer without a mapping)."""
    rows = []
    for i, offer in enumerate(ids):
        reason, source, pairs = mapping.get(offer, ("unmapped", None, [(None, 1.0, np.nan)]))
        note = "; ".join(warn[offer]) or None
        for occ, share, score in pairs:
            rows.append(
                (
                    offer,
                    vol["site"][i],
                    occ,
                    share,
                    vol["total"][i] * share,
                    score,
                    reason,
                    vol["seats"][i],
                    vol["completion"][i],
                    vol["placement"][i],
                    vol["defaulted"][i],
                    source,
                    note,
                )
            )
    out = pd.DataFrame(rows, columns=ENTRANTS_COLUMNS)
    out["occupation"] = out["occupation"].astype(object)
    return out


def _warn_unused(ids, unknown_seats: np.ndarray, rejected: list) -> None:
    """Warn, at the caller of :func:`entrants`, of offers with unknown seats and unknown codes."""
    if unknown_seats.any():
        warnings.warn(
            f"entrants: {int(unknown_seats.sum())} offer(s) with unknown seats supply no entrant "
            f"(first: {ids[unknown_seats].iloc[0]!r}; give their seats, or set [supply] "
            "seats_default in the configuration of a run, to count them)",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
    unknown = sum(1 for r in rejected if r[3].startswith("occupation not in"))
    if unknown:
        warnings.warn(
            f"entrants: {unknown} code(s) not in the occupations table were not used (see the "
            "'warning' column and .attrs['rejected'])",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )


def entrants(
    offers: pd.DataFrame,
    occupations: pd.DataFrame | None = None,
    *,
    flexibility: pd.DataFrame | None = None,
    overrides: pd.DataFrame | None = None,
    crosswalks: pd.DataFrame | None = None,
    matcher=None,
    profiles: pd.DataFrame | pd.Series | None = None,
    titles: pd.DataFrame | pd.Series | None = None,
    completion_default: float = DEFAULTS["supply"]["completion_default"],
    placement_default: float = DEFAULTS["supply"]["placement_default"],
    top_k: int = DEFAULTS["supply"]["top_k"],
    min_score: float | None = None,
    target_system: str | None = None,
) -> pd.DataFrame:
    """Qualified entrants per year of each training offer, split over occupations.

    Parameters
    ----------
    offers : DataFrame
        Canonical ``training_offers`` table: ``offer``, ``site``, ``seats`` and optionally
        ``title``, ``description``, ``rome``, ``rncp``, ``formacode``, ``completion_rate``,
        ``placement_rate`` (per-offer rates override the defaults).
    occupations : DataFrame, optional
        Canonical ``occupations`` table; when given, codes outside it are rejected (reported).
    flexibility : DataFrame, optional
        User mapping ``[offer, occupation, share]``; it wins over codes and text.
    overrides : DataFrame, optional
        A planner's corrections ``[offer, occupation]`` (optional ``share``, else equal shares
        over the rows of an offer); ``occupation = "none"`` maps the offer to no occupation.
        They win over every other mapping (reason ``override``); rows naming an unknown offer
        or occupation are not used and are reported in ``attrs["rejected"]``.
    crosswalks : DataFrame, optional
        Canonical ``crosswalks`` table; rows ``RNCP`` -> ROME and ``FORMACODE`` -> ROME are used.
    matcher : OfferMatcher, optional
        Text matcher; fitted on ``profiles`` when not fitted yet. Default: a new
        :class:`gpec.supply.matching.OfferMatcher` when ``profiles`` is given.
    profiles : DataFrame or Series, optional
        Occupation profiles (see :func:`gpec.supply.matching.build_profiles`). Without ``profiles`` and
        without a fitted matcher, offers with no code stay unmapped.
    titles : DataFrame or Series, optional
        Known job titles of the occupations (``occupation``, ``title``; e.g. the ROME
        appellations), used when the matcher is fitted here (see
        :meth:`gpec.supply.matching.OfferMatcher.fit`).
    completion_default, placement_default : float
        Rates used where an offer has none (see the module notes).
    top_k : int, default 3
        Occupations kept per offer in text matching.
    min_score : float, optional
        Text-matching threshold (default: the matcher's ``min_score``).
    target_system : str, optional
        Occupation system of the crosswalk targets (default: any system starting with "ROME").

    Returns
    -------
    DataFrame
        ``offer, site, occupation, share, entrants, score, reason`` then ``seats,
        completion_rate, placement_rate, defaulted, source, warning``. One row per offer x
        occupation; the shares of one offer sum to 1 and ``entrants`` = offer entrants x share.
        ``score`` is 1 for ``user`` and ``code`` rows, the cosine score for ``text`` rows, NaN
        when unmapped. ``defaulted`` lists the rates that took their default (``completion``,
        ``placement``, ';'-separated). ``source`` tells which input gave the mapping (``rome``,
        ``rncp``, ``formacode``, ``flexibility``, ``title+description``). ``attrs["rejected"]``
        lists the codes that were not used.

    Examples
    --------
    >>> offers = pd.DataFrame({"offer": ["F1", "F2"], "site": ["14118", "76540"],
    ...                        "seats": [12, 20], "rome": ["H2913", "J1506;J1507"],
    ...                        "completion_rate": [0.9, None]})
    >>> t = entrants(offers)
    >>> t[["offer", "occupation", "share", "entrants", "reason"]]
      offer occupation  share  entrants reason
    0    F1      H2913    1.0      7.56   code
    1    F2      J1506    0.5      5.60   code
    2    F2      J1507    0.5      5.60   code
    """
    off, ids = _offer_ids(offers)
    vol = _offer_volumes(off, offers, completion_default, placement_default)
    known = _known_codes(occupations)
    rejected: list[tuple[str, str, str, str]] = []
    warn: dict[str, list[str]] = {o: [] for o in ids}
    for o in ids[vol["unknown_seats"]]:
        warn[o].append("seats unknown: no entrants counted (set [supply] seats_default)")

    # offer -> (reason, source, [(occupation, share, score)]); the first stage to map an offer wins
    mapping: dict[str, tuple[str, str, list[tuple[str, float, float]]]] = {}
    if overrides is not None and len(overrides):  # 0. a planner's overrides
        mapping.update(_overrides(overrides, set(ids), known, rejected, warn))
    if flexibility is not None and len(flexibility):  # 1. user flexibility matrix
        _flexibility_mappings(flexibility, ids, mapping, known, rejected, warn)
    maps = _crosswalk_maps(crosswalks, target_system)  # 2. codes
    _code_mappings(off, ids, mapping, maps, known, rejected, warn)
    text_matches = _text_mappings(  # 3. text
        off,
        ids,
        mapping,
        known,
        matcher=matcher,
        profiles=profiles,
        titles=titles,
        top_k=top_k,
        min_score=min_score,
    )

    out = _entrants_rows(ids, mapping, warn, vol)
    out.attrs["rejected"] = pd.DataFrame(rejected, columns=["offer", "column", "value", "reason"])
    out.attrs["text_matches"] = text_matches
    _warn_unused(ids, vol["unknown_seats"], rejected)
    return out


def _overrides(table: pd.DataFrame, offers: set, known: set | None, rejected: list, warn: dict):
    """Mappings of a planner's overrides ``[offer, occupation(, share)]``, by offer."""
    for col in ("offer", "occupation"):
        if col not in table.columns:
            raise ValueError(f"overrides table has no column {col!r} (offer, occupation)")
    frame = pd.DataFrame(
        {
            "offer": table["offer"].map(lambda v: None if _is_missing(v) else str(v).strip()),
            "occupation": table["occupation"].map(
                lambda v: None if _is_missing(v) else str(v).strip()
            ),
        }
    )
    if "share" in table.columns:
        share = pd.to_numeric(table["share"], errors="coerce")
        bad = table["share"].notna() & (share.isna() | (share < 0))
        if bad.any():
            i = table.index[np.flatnonzero(bad.to_numpy())[0]]
            raise ValueError(
                f"overrides: row {i}, column 'share': {table['share'].loc[i]!r} is not a "
                "number >= 0"
            )
        frame["share"] = share.fillna(1.0).to_numpy(dtype=float)
    else:
        frame["share"] = 1.0
    out = {}
    for offer, grp in frame.groupby("offer", sort=False, dropna=False):
        if offer is None or offer not in offers:
            rejected.append((offer, "overrides", offer, "offer not in training_offers"))
            continue
        codes = grp["occupation"].tolist()
        if any(c is None for c in codes):
            rejected.append((offer, "overrides", "", "empty occupation (a code or 'none')"))
            continue
        if any(c.lower() == NO_OCCUPATION for c in codes):
            if len(codes) > 1:
                rejected.append(
                    (offer, "overrides", ";".join(codes), "'none' with other occupations")
                )
                warn[offer].append("overrides: 'none' with other occupations, not used")
                continue
            out[offer] = ("override", "overrides", [(None, 1.0, np.nan)])
            continue
        good = []
        for code, w in zip(codes, grp["share"], strict=True):
            if known is not None and code not in known:
                rejected.append(
                    (offer, "overrides", code, "occupation not in the occupations table")
                )
                warn[offer].append(f"overrides {code}: unknown occupation")
            elif w > 0:
                good.append((code, float(w)))
        if good:
            out[offer] = ("override", "overrides", [(c, s, 1.0) for c, s in _normalize(good)])
    return out


def _check_range(value, name: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be two rates [low, high], got {value!r}") from None
    if not 0 <= lo <= hi <= 1:
        raise ValueError(f"{name} must satisfy 0 <= low <= high <= 1, got {value!r}")
    return lo, hi


def entrants_interval(
    table: pd.DataFrame,
    *,
    completion_range: tuple[float, float] | None = None,
    placement_range: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Add a low and a high value of the qualified entrants, from ranges of the defaulted rates.

    A completion or placement rate written on an offer is taken as known; a rate that took its
    default (listed in the ``defaulted`` column) is a guess, and varies within the given range.
    ``entrants_low`` uses the low end of each range, ``entrants_high`` the high end, for the
    defaulted rates only: ``entrants_low = entrants x (c_low / c) x (p_low / p)`` where ``c`` and
    ``p`` are the row's rates. :func:`gpec.gap.allocate` then carries this supply interval into
    the gap bounds.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`entrants` (``entrants``, ``completion_rate``, ``placement_rate``,
        ``defaulted``), possibly through :func:`apply_supply_scenarios`.
    completion_range, placement_range : (low, high), optional
        Plausible range of a defaulted rate; it must contain the default used. ``None`` keeps
        that rate fixed.

    Returns
    -------
    DataFrame
        A copy of ``table`` with ``entrants_low <= entrants <= entrants_high``.

    Examples
    --------
    >>> offers = pd.DataFrame({"offer": ["F1", "F2"], "site": ["1", "2"], "seats": [10, 10],
    ...                        "rome": ["H2913", "J1506"], "placement_rate": [0.7, None]})
    >>> t = entrants_interval(entrants(offers), placement_range=(0.5, 0.8))
    >>> t[["offer", "entrants_low", "entrants", "entrants_high"]]
      offer  entrants_low  entrants  entrants_high
    0    F1           5.6       5.6            5.6
    1    F2           4.0       5.6            6.4
    """
    ranges = {
        "completion": _check_range(completion_range, "completion_range"),
        "placement": _check_range(placement_range, "placement_range"),
    }
    require_frame(table, "entrants")
    for col in ("entrants", "completion_rate", "placement_rate", "defaulted"):
        if col not in table.columns:
            raise ValueError(f"entrants table has no column {col!r} (see gpec.supply.entrants)")
    out = table.copy()
    ent = pd.to_numeric(out["entrants"], errors="coerce").to_numpy(dtype=float)
    defaulted = out["defaulted"].map(lambda v: set() if _is_missing(v) else set(str(v).split(";")))
    low = np.ones(len(out))
    high = np.ones(len(out))
    for name, rng in ranges.items():
        if rng is None:
            continue
        rate = pd.to_numeric(out[f"{name}_rate"], errors="coerce").to_numpy(dtype=float)
        hit = defaulted.map(lambda d, n=name: n in d).to_numpy(dtype=bool)
        outside = hit & ((rate < rng[0] - 1e-12) | (rate > rng[1] + 1e-12))
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"{name}_range {list(rng)} does not contain the default {name} rate "
                f"{rate[i]:g} (entrants row {out.index[i]})"
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            low = np.where(hit, low * np.where(rate > 0, rng[0] / rate, 1.0), low)
            high = np.where(hit, high * np.where(rate > 0, rng[1] / rate, 1.0), high)
    out["entrants_low"] = ent * low
    out["entrants_high"] = ent * high
    return out


def mapping_quality(entrants_table: pd.DataFrame) -> pd.DataFrame:
    """How the seats of the offers were mapped to occupations: by user, code, text, or not.

    Parameters
    ----------
    entrants_table : DataFrame
        Output of :func:`entrants` (``offer``, ``share``, ``reason``, ``seats``; without
        ``seats`` the ``entrants`` column is used as the volume).

    Returns
    -------
    DataFrame
        One row per reason (``override``, ``user``, ``code``, ``text``, ``unmapped``, always
        all five):
        ``offers`` (count), ``seats`` and ``seats_share`` (sums to 1 when there are seats),
        ``entrants`` and ``entrants_share``, then ``to_review_offers`` and ``to_review_seats``:
        the offers mapped by text whose first match is not of ``high`` confidence (see
        :func:`gpec.supply.review.mapping_review`), 0 on the other reasons.

    Examples
    --------
    >>> offers = pd.DataFrame({"offer": ["F1", "F2"], "site": ["1", "2"], "seats": [30, 10],
    ...                        "rome": ["H2913", None]})
    >>> mapping_quality(entrants(offers))[["reason", "offers", "seats_share"]]
         reason  offers  seats_share
    0  override       0         0.00
    1      user       0         0.00
    2      code       1         0.75
    3      text       0         0.00
    4  unmapped       1         0.25
    """
    t = entrants_table
    require_frame(t, "entrants")
    for col in ("offer", "share", "reason", "entrants"):
        if col not in t.columns:
            raise ValueError(f"entrants table has no column {col!r}")
    share = pd.to_numeric(t["share"], errors="coerce").fillna(0.0)
    vol = (
        pd.to_numeric(t["seats"], errors="coerce").fillna(0.0) * share
        if "seats" in t.columns
        else pd.to_numeric(t["entrants"], errors="coerce").fillna(0.0)
    )
    ent = pd.to_numeric(t["entrants"], errors="coerce").fillna(0.0)
    frame = pd.DataFrame(
        {
            "offer": t["offer"].to_numpy(),
            "reason": t["reason"].to_numpy(),
            "seats": vol.to_numpy(),
            "entrants": ent.to_numpy(),
        }
    )
    g = frame.groupby("reason", sort=False).agg(
        offers=("offer", "nunique"), seats=("seats", "sum"), entrants=("entrants", "sum")
    )
    g = g.reindex(list(REASONS) + sorted(set(g.index) - set(REASONS))).fillna(0.0)
    g["offers"] = g["offers"].astype(np.int64)
    s_tot, e_tot = g["seats"].sum(), g["entrants"].sum()
    g["seats_share"] = g["seats"] / s_tot if s_tot > 0 else 0.0
    g["entrants_share"] = g["entrants"] / e_tot if e_tot > 0 else 0.0
    out = g.reset_index().rename(columns={"index": "reason"})
    out = out[["reason", "offers", "seats", "seats_share", "entrants", "entrants_share"]]
    out["to_review_offers"] = 0
    out["to_review_seats"] = 0.0
    matches = t.attrs.get("text_matches")
    if matches is not None and len(matches) and "confidence" in matches.columns:
        first = matches[matches["rank"] == matches.groupby("offer")["rank"].transform("min")]
        doubtful = set(first.loc[first["confidence"] != "high", "offer"].astype(str))
        on_text = frame[(frame["reason"] == "text") & frame["offer"].astype(str).isin(doubtful)]
        is_text = out["reason"] == "text"
        out.loc[is_text, "to_review_offers"] = on_text["offer"].nunique()
        out.loc[is_text, "to_review_seats"] = float(on_text["seats"].sum())
    return out
