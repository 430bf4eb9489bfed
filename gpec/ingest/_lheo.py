"""Read LHÉO training-offer files (XML 2.2 and 2.3) and the Intercarif ``lheo-index`` layout.

LHÉO (*Langage Harmonisé d'Échange d'informations sur l'Offre de formation*) is the format in
which Carif-Oref, Onisep and others publish training offers: ``<lheo><offres><formation>``
(namespaces ``http://www.lheo.org/2.2`` and ``http://lheo.gouv.fr/2.3``, matched on local names)
or the summary layout ``<lheo-index><resumes-offres><resume-offre>`` of the Intercarif web
service. Files are untrusted input: they are parsed with :mod:`defusedxml` (no entity
expansion, no external entity or DTD fetch, hence no network) and streamed with ``iterparse``,
each offer being dropped from memory once read.
"""

from __future__ import annotations

import html
import os
import re
import sys
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as DET
import pandas as pd

from gpec._data import GpecData
from gpec._schema import TABLES
from gpec.ingest._errors import FormatError, RowLedger, reader_data, require_file

__all__ = ["read_lheo", "MODALITES"]

NAMESPACES = {"http://www.lheo.org/2.2": "2.2", "http://lheo.gouv.fr/2.3": "2.3"}

#: ``modalites-enseignement`` dictionary.
MODALITES = {"0": "presentiel", "1": "mixte", "2": "distance"}

_PATTERNS = {
    "formacode": re.compile(r"\d{5}"),
    "rome": re.compile(r"[A-N]\d{4}"),
    "rncp": re.compile(r"(?i:rncp)?\s*(\d{1,6})"),
    "nsf": re.compile(r"\d{3}[a-z]?"),
}
_COMMUNE = re.compile(r"\d{5}|2[AB]\d{3}")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")

#: Columns of the offers table: the canonical ``training_offers`` columns, then LHÉO's own.
COLUMNS = [
    *TABLES["training_offers"].columns,
    "formation",
    "action",
    "seats_source",
    "seats_unknown",
    "sessions",
    "start",
    "end",
    "content",
    "provider_siret",
    "nsf",
    "certifinfo",
    "rome_version",
    "postal_code",
    "city",
    "departement",
    "lat",
    "lon",
]

#: Text columns with few distinct values: their strings are interned (one copy each).
_LOW_CARDINALITY = frozenset(
    {
        "provider",
        "provider_siret",
        "city",
        "postal_code",
        "departement",
        "site",
        "modality",
        "seats_source",
        "formacode",
        "rome",
        "rncp",
        "nsf",
        "rome_version",
        "start",
        "end",
        "formation",
    }
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(elem: Element | None) -> str | None:
    if elem is None or elem.text is None:
        return None
    text = _SPACE.sub(" ", elem.text).strip()
    return text or None


def _rich(elem: Element | None) -> str | None:
    """Escaped-HTML rich text -> plain text (tags removed, entities decoded)."""
    text = _text(elem)
    if text is None:
        return None
    plain = html.unescape(_TAG.sub(" ", html.unescape(text)))
    plain = _SPACE.sub(" ", plain).strip()
    return plain or None


def _int(elem: Element | None) -> float | None:
    text = _text(elem)
    if text is None:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if value >= 0 else None


def _codes(elems, kind: str, offer: str, warnings: list) -> str | None:
    """';'-joined valid codes (deduplicated, in order); invalid ones go to ``warnings``."""
    out: list[str] = []
    for e in elems:
        text = _text(e)
        if text is None:
            continue
        m = _PATTERNS[kind].fullmatch(text)
        if not m:
            warnings.append((offer, kind, text, f"not a {kind} code"))
            continue
        code = f"RNCP{int(m.group(1))}" if kind == "rncp" else text
        if code not in out:
            out.append(code)
    return ";".join(out) if out else None


def _address(adr: Element | None) -> dict:
    if adr is None:
        return {}
    lat, lon = adr.find("geolocalisation/latitude"), adr.find("geolocalisation/longitude")
    return {
        "site": _text(adr.find("code-INSEE-commune")),
        "postal_code": _text(adr.find("codepostal")),
        "city": _text(adr.find("ville")),
        "departement": _text(adr.find("departement")),
        "lat": _int_signed(lat),
        "lon": _int_signed(lon),
    }


def _int_signed(elem: Element | None) -> float | None:
    text = _text(elem)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _sum(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(sum(vals)) if vals else None


def _seats(action: Element) -> tuple[float | None, str | None]:
    """Seats of an action: capacite-cumulee, else nb-places, else nb-places-financees."""
    sessions = action.findall("session")
    for path, source in (
        ("cycle/capacite-cumulee", "capacite-cumulee"),
        ("recrutement/nb-places", "nb-places"),
    ):
        total = _sum([_int(e) for s in sessions for e in s.findall(path)])
        if total is not None:
            return total, source
    total = _sum([_int(e) for e in action.findall("organisme-financeur/nb-places-financees")])
    if total is not None:
        return total, "nb-places-financees"
    # resume-offre and extras: an explicit nb-places anywhere in the action
    total = _sum([_int(e) for e in action.iter("nb-places")])
    if total is not None:
        return total, "nb-places"
    return None, None


def _dates(action: Element) -> tuple[int, str | None, str | None]:
    starts = sorted(
        d
        for d in (_text(e) for e in action.findall("session/periode/debut"))
        if d and d != "00000000"
    )
    ends = sorted(
        d
        for d in (_text(e) for e in action.findall("session/periode/fin"))
        if d and d != "00000000"
    )
    return (
        len(action.findall("session")),
        (starts[0] if starts else None),
        (ends[-1] if ends else None),
    )


def _hours(action: Element) -> float | None:
    total = _int(action.find("nombre-heures-total"))
    if total is None:
        total = _sum(
            [
                _int(action.find("nombre-heures-centre")),
                _int(action.find("nombre-heures-entreprise")),
            ]
        )
    return total


def _common(offer_el: Element, offer_id: str, warnings: list) -> dict:
    dom = offer_el.find("domaine-formation")
    dom_children = list(dom) if dom is not None else []
    romes = [e for e in dom_children if e.tag == "code-ROME"]
    rome_versions = sorted({e.get("ref", "V3") for e in romes})
    certs = offer_el.findall("certification")
    return {
        "title": _text(offer_el.find("intitule-formation")),
        "description": _rich(offer_el.find("objectif-formation")),
        "content": _rich(offer_el.find("contenu-formation")),
        "formacode": _codes(
            [e for e in dom_children if e.tag == "code-FORMACODE"], "formacode", offer_id, warnings
        ),
        "nsf": _codes([e for e in dom_children if e.tag == "code-NSF"], "nsf", offer_id, warnings),
        "rome": _codes(romes, "rome", offer_id, warnings),
        "rome_version": ";".join(rome_versions) if rome_versions else None,
        "rncp": _codes(
            [e for c in certs for e in c.findall("code-RNCP")], "rncp", offer_id, warnings
        ),
        "certifinfo": ";".join(
            t for t in (_text(e) for c in certs for e in c.findall("code-CERTIFINFO")) if t
        )
        or None,
    }


def _extras(elem: Element) -> dict[str, str]:
    out = {}
    for ex in elem.findall("extras/extra"):
        key, text = ex.get("info"), _text(ex)
        if key and text:
            out.setdefault(key, text)
    return out


def _formation_rows(f: Element, ordinal: int, warnings: list) -> list[dict]:
    numero = f.get("numero") or f"formation-{ordinal}"
    common = _common(f, numero, warnings)
    org = f.find("organisme-formation-responsable")
    provider = siret = None
    org_adr = {}
    if org is not None:
        provider = _text(org.find("nom-organisme")) or _text(org.find("raison-sociale"))
        siret = _text(org.find("SIRET-organisme-formation/SIRET"))
        org_adr = _address(org.find("coordonnees-organisme/coordonnees/adresse"))
    rows = []
    actions = f.findall("action")
    for a_idx, action in enumerate(actions, start=1):
        a_num = action.get("numero") or str(a_idx)
        seats, source = _seats(action)
        n_sessions, start, end = _dates(action)
        unique = _places(action, org_adr)
        for p in unique:
            offer = f"{numero}/{a_num}"
            if len(unique) > 1:
                offer += f"@{p.get('site') or p.get('postal_code')}"
            rows.append(
                {
                    "offer": offer,
                    "formation": numero,
                    "action": a_num,
                    **common,
                    "provider": provider,
                    "provider_siret": siret,
                    **p,
                    "seats": seats / len(unique) if seats is not None else None,
                    "seats_source": source,
                    "seats_unknown": seats is None,
                    "hours": _hours(action),
                    "modality": MODALITES.get(_text(action.find("modalites-enseignement")) or ""),
                    "sessions": n_sessions,
                    "start": start,
                    "end": end,
                }
            )
    if not actions:
        rows.append(
            {
                "offer": numero,
                "formation": numero,
                "action": None,
                **common,
                "provider": provider,
                "provider_siret": siret,
                **org_adr,
                "seats": None,
                "seats_source": None,
                "seats_unknown": True,
                "_no_action": True,
            }
        )
    return rows


def _places(action: Element, org_adr: dict) -> list[dict]:
    """The distinct addresses (by commune, else postal code) where an action is given: its
    lieux de formation, else the registration address of its first session, else the org's."""
    places = [
        _address(lieu.find("coordonnees/adresse")) for lieu in action.findall("lieu-de-formation")
    ]
    places = [p for p in places if p]
    if not places:
        adr = action.find("session/adresse-inscription/adresse")
        places = [_address(adr)] if adr is not None else [org_adr] if org_adr else [{}]
    seen = set()
    unique = []
    for p in places:
        key = p.get("site") or p.get("postal_code")
        if key in seen:
            continue
        seen.add(key)
        unique.append(p)
    return unique


def _resume_rows(r: Element, ordinal: int, warnings: list) -> list[dict]:
    numero = r.get("numero") or f"resume-offre-{ordinal}"
    common = _common(r, numero, warnings)
    extras = _extras(r)
    seats, source = _seats(r)
    if seats is None and extras.get("nb-places"):
        seats, source = _int_signed_text(extras["nb-places"]), "nb-places"
    n_sessions, start, end = _dates(r)
    lat = _int_signed(r.find("geolocalisation/latitude"))
    lon = _int_signed(r.find("geolocalisation/longitude"))
    if lat is None and "latitude" in extras:
        lat, lon = _int_signed_text(extras["latitude"]), _int_signed_text(extras.get("longitude"))
    site = _text(r.find("code-INSEE-commune"))
    if site is None:
        adr = r.find("session/adresse-inscription/adresse")
        site = _text(adr.find("code-INSEE-commune")) if adr is not None else None
    return [
        {
            "offer": numero,
            "formation": numero,
            "action": None,
            **common,
            "provider": _text(r.find("nom-organisme")),
            "provider_siret": _text(r.find("SIRET")),
            "site": site,
            "postal_code": _text(r.find("codepostal")),
            "city": _text(r.find("ville")),
            "departement": _text(r.find("departement")),
            "lat": lat,
            "lon": lon,
            "seats": seats,
            "seats_source": source,
            "seats_unknown": seats is None,
            "hours": _hours(r),
            "modality": MODALITES.get(_text(r.find("modalites-enseignement")) or ""),
            "sessions": n_sessions,
            "start": start,
            "end": end,
        }
    ]


def _int_signed_text(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _strip_namespaces(elem: Element) -> None:
    for e in elem.iter():
        e.tag = _local(e.tag)


def _keep_sessions_of(offer: Element, year: int) -> None:
    """Drop the sessions that do not start in ``year`` (unknown start dates included)."""
    holders = [offer] if offer.tag == "resume-offre" else offer.findall("action")
    for holder in holders:
        for session in holder.findall("session"):
            debut = _text(session.find("periode/debut")) or ""
            if debut[:4] != str(year):
                holder.remove(session)


def read_lheo(
    path: str | os.PathLike, *, content: bool = False, year: int | None = None
) -> GpecData:
    """Read an LHÉO 2.2 / 2.3 file or an Intercarif ``lheo-index`` file into training offers.

    Parameters
    ----------
    path : str or path-like
        The XML file (UTF-8 or as declared in the XML prolog).
    content : bool, default False
        Also keep ``contenu-formation`` (plain text) in column ``content``; off by default as it
        roughly doubles the memory taken by texts on large files.
    year : int, optional
        Count only the sessions that start in this year (seats per year, as gpec expects for
        training supply). Actions without such a session get null seats (``seats_unknown``)
        and ``sessions`` 0; sessions with an unknown start date are not counted.

    Returns
    -------
    GpecData
        ``training_offers``, one row per offer x site: ``offer`` (``<formation numero>/<action
        numero>``, with ``@<commune>`` when an action is given at several sites; the
        ``resume-offre`` numero in the index layout), title, description (objectif, HTML
        removed), provider, site (INSEE commune of the lieu de formation, else of the
        registration address), seats (sum over sessions of ``capacite-cumulee``, else
        ``nb-places``, else the action's ``nb-places-financees``; null when none is given, with
        ``seats_unknown`` True and ``seats_source`` naming the element used), hours, modality
        (presentiel, mixte, distance), formacode, rncp (``RNCP<digits>``), rome (codes
        ';'-separated), plus formation, action, sessions, start, end, content, provider_siret,
        nsf, certifinfo, rome_version, postal_code, city, departement, lat, lon. ``meta`` holds
        ``lheo_version``, ``namespace``, ``layout``, ``offers_read``, ``code_warnings``
        (invalid codes left out of the lists) and ``row_accounting``.

    Raises
    ------
    FormatError
        When the file is not well-formed XML, not LHÉO, or declares entities or external
        references (refused before any expansion: entity bombs and XXE).

    Examples
    --------
    >>> data = read_lheo("offres.xml")  # doctest: +SKIP
    >>> data.training_offers[["offer", "site", "seats", "rome"]].head()  # doctest: +SKIP
    """
    path = Path(path)
    require_file(path, "an LHEO XML file")
    file = path.name
    ledger = RowLedger()
    parsed = _parse(path, content=content, year=year)
    df = _offer_frame(parsed.pop("columns"), parsed.pop("ordinals"))
    ledger.read(file, len(df))
    df = _checked_offers(df, ledger, file)
    ledger.keep(file, len(df))
    offers = _typed(df.drop(columns=["_no_action", "_row", "offer_number"]))
    root_name, namespace = parsed["root"], parsed["namespace"]
    meta = {
        "source": str(path),
        "format": "lheo",
        "layout": "lheo-index" if root_name == "lheo-index" else "lheo",
        "namespace": namespace,
        "lheo_version": NAMESPACES.get(namespace, "unknown"),
        "encoding": "as declared (XML)",
        "offers_read": parsed["offers"],
        "year": year,
        "seats_unknown": int(offers["seats_unknown"].sum()),
        "code_warnings": pd.DataFrame(
            parsed["warnings"], columns=["offer", "column", "value", "reason"]
        ),
    }
    return reader_data(path, ledger, meta, ("training_offers",), training_offers=offers)


_NAMES = [*COLUMNS, "_no_action"]


def _parse(path: Path, *, content: bool, year: int | None) -> dict:
    """Stream the offers of the file into columns, one list per column (a dict per row would
    cost ~1 kB of overhead); each offer is dropped from memory once read.

    Returns ``columns``, ``ordinals`` (the offer number in the file of each row), ``root`` and
    ``namespace`` of the root element, ``offers`` (offers read) and the code ``warnings``.
    """
    warnings: list[tuple] = []
    columns: dict[str, list] = {c: [] for c in _NAMES}
    ordinals: list[int] = []
    root_name = namespace = None
    stack: list[Element] = []
    n_offers = 0
    try:
        for event, elem in DET.iterparse(
            str(path),
            events=("start", "end"),
            forbid_dtd=False,
            forbid_entities=True,
            forbid_external=True,
        ):
            if event == "start":
                if root_name is None:
                    root_name, namespace = _check_root(path, elem)
                stack.append(elem)
                continue
            stack.pop()
            name = _local(elem.tag)
            if name in ("formation", "resume-offre") and len(stack) == 2:
                n_offers += 1
                rows = _offer_rows(elem, name, n_offers, warnings, content=content, year=year)
                _append_rows(columns, rows)
                ordinals.extend([n_offers] * len(rows))
                stack[-1].remove(elem)  # free memory: the offer is read
    except defusedxml.DefusedXmlException as exc:
        raise FormatError(
            f"{path}: refused: the XML declares entities or external references "
            f"({type(exc).__name__}); LHEO files never need them"
        ) from exc
    except ParseError as exc:
        raise FormatError(f"{path}: not well-formed XML ({exc})") from exc
    if root_name is None:
        raise FormatError(f"{path}: empty XML file")
    return {
        "columns": columns,
        "ordinals": ordinals,
        "root": root_name,
        "namespace": namespace,
        "offers": n_offers,
        "warnings": warnings,
    }


def _check_root(path: Path, elem: Element) -> tuple[str, str]:
    """Local name and namespace of the root element, which must be ``lheo`` or ``lheo-index``."""
    root_name = _local(elem.tag)
    namespace = elem.tag[1:].split("}")[0] if elem.tag.startswith("{") else ""
    if root_name not in ("lheo", "lheo-index"):
        raise FormatError(
            f"{path}: not an LHEO file (root element "
            f"<{root_name}>, expected <lheo> or <lheo-index>)"
        )
    return root_name, namespace


def _offer_rows(
    elem: Element, name: str, ordinal: int, warnings: list, *, content: bool, year: int | None
) -> list[dict]:
    """The rows of one ``formation`` or ``resume-offre``, sessions of ``year`` only if given."""
    _strip_namespaces(elem)
    if year is not None:
        _keep_sessions_of(elem, year)
    rows = (_formation_rows if name == "formation" else _resume_rows)(elem, ordinal, warnings)
    for row in rows:
        if not content:
            row.pop("content", None)
        if year is not None and not row.get("sessions"):
            row.update(seats=None, seats_source=None, seats_unknown=True)
    return rows


def _append_rows(columns: dict[str, list], rows: list[dict]) -> None:
    """Add rows to the column lists (low-cardinality strings interned)."""
    for row in rows:
        for c in _NAMES:
            v = row.get(c)
            if c in _LOW_CARDINALITY and isinstance(v, str):
                v = sys.intern(v)
            columns[c].append(v)


def _offer_frame(columns: dict[str, list], ordinals: list[int]) -> pd.DataFrame:
    """The parsed columns as a frame, each row numbered ``_row`` = "<offer>.<row of offer>"."""
    data = {}
    for c in _NAMES:  # object columns share the parsed strings (no copy); free lists as we go
        data[c] = pd.Series(columns.pop(c), dtype=object)  # no inference to "str" (a copy)
    df = pd.DataFrame(data, copy=False)
    del data
    df.index = pd.Index(ordinals, name="offer_number")
    df = df.reset_index()
    df["_row"] = (
        df["offer_number"].astype(str)
        + "."
        + (df.groupby("offer_number").cumcount() + 1).astype(str)
    )
    return df


#: Checks of an offer row, in order (each on the rows left by the previous ones).
_OFFER_CHECKS = (
    (
        lambda d: d["_no_action"].fillna(False).astype(bool),
        "action",
        "formation without <action>",
    ),
    (
        lambda d: d["site"].isna(),
        "site",
        "no INSEE commune for the lieu de formation or the registration address",
    ),
    (
        lambda d: ~d["site"].map(lambda s: bool(_COMMUNE.fullmatch(s))),
        "site",
        "not an INSEE commune code",
    ),
    (lambda d: d["title"].isna(), "title", "no intitule-formation"),
    (lambda d: d.duplicated("offer", keep="first"), "offer", "duplicate offer identifier"),
)


def _checked_offers(df: pd.DataFrame, ledger: RowLedger, file: str) -> pd.DataFrame:
    """The rows that pass :data:`_OFFER_CHECKS`; the others rejected, row = ``_row``."""
    for check, column, reason in _OFFER_CHECKS:
        mask = check(df).to_numpy(dtype=bool)
        if mask.any():
            ledger.reject(
                "training_offers", file, df.loc[mask, "_row"], column, df.loc[mask, column], reason
            )
            df = df[~mask]
    return df


def _typed(offers: pd.DataFrame) -> pd.DataFrame:
    """Numbers as floats, ``seats_unknown`` as bool, text as object with None for missing."""
    for col in ("seats", "hours", "lat", "lon", "completion_rate", "placement_rate"):
        offers[col] = pd.to_numeric(offers[col], errors="coerce").astype(float)
    offers["seats_unknown"] = offers["seats_unknown"].astype(bool)
    text_cols = [
        c
        for c in offers.columns
        if offers[c].dtype == object or pd.api.types.is_string_dtype(offers[c].dtype)
    ]
    for c in text_cols:
        offers[c] = offers[c].astype(object).where(offers[c].notna(), None)
    return offers.reset_index(drop=True)
