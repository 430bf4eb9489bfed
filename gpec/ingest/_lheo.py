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
from gpec.ingest._errors import FormatError, RowLedger, require_file

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

COLUMNS = [
    "offer",
    "title",
    "description",
    "provider",
    "site",
    "seats",
    "hours",
    "modality",
    "formacode",
    "rncp",
    "rome",
    "completion_rate",
    "placement_rate",
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
        places = [
            _address(lieu.find("coordonnees/adresse"))
            for lieu in action.findall("lieu-de-formation")
        ]
        places = [p for p in places if p]
        if not places:  # fallback: the registration address of the first session, then the org
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
    warnings: list[tuple] = []
    # columnar accumulation: one list per column (a dict per row would cost ~1 kB of overhead)
    names = [*COLUMNS, "_no_action"]
    columns: dict[str, list] = {c: [] for c in names}
    ordinals: list[int] = []
    low_card = (
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
    )
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
                    root_name = _local(elem.tag)
                    namespace = elem.tag[1:].split("}")[0] if elem.tag.startswith("{") else ""
                    if root_name not in ("lheo", "lheo-index"):
                        raise FormatError(
                            f"{path}: not an LHEO file (root element "
                            f"<{root_name}>, expected <lheo> or <lheo-index>)"
                        )
                stack.append(elem)
                continue
            stack.pop()
            name = _local(elem.tag)
            if name in ("formation", "resume-offre") and len(stack) == 2:
                n_offers += 1
                _strip_namespaces(elem)
                if year is not None:
                    _keep_sessions_of(elem, year)
                new = (_formation_rows if name == "formation" else _resume_rows)(
                    elem, n_offers, warnings
                )
                for row in new:
                    if not content:
                        row.pop("content", None)
                    if year is not None and not row.get("sessions"):
                        row.update(seats=None, seats_source=None, seats_unknown=True)
                    for c in names:
                        v = row.get(c)
                        if c in low_card and isinstance(v, str):
                            v = sys.intern(v)
                        columns[c].append(v)
                ordinals.extend([n_offers] * len(new))
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

    data = {}
    for c in names:  # object columns share the parsed strings (no copy); free lists as we go
        data[c] = pd.Series(columns.pop(c), dtype=object)  # no inference to "str" (a copy)
    df = pd.DataFrame(data, copy=False)
    del data
    df.index = pd.Index(ordinals, name="offer_number")
    ledger.read(file, len(df))
    table = "training_offers"

    def reject(mask, column, reason):
        nonlocal df
        mask = mask.to_numpy(dtype=bool)
        if mask.any():
            # row = "<offer number in the file>.<row of that offer>", e.g. "3.1"
            ledger.reject(table, file, df.loc[mask, "_row"], column, df.loc[mask, column], reason)
            df = df[~mask]

    df = df.reset_index()
    df["_row"] = (
        df["offer_number"].astype(str)
        + "."
        + (df.groupby("offer_number").cumcount() + 1).astype(str)
    )
    reject(df["_no_action"].fillna(False).astype(bool), "action", "formation without <action>")
    reject(
        df["site"].isna(),
        "site",
        "no INSEE commune for the lieu de formation or the registration address",
    )
    reject(
        ~df["site"].map(lambda s: bool(_COMMUNE.fullmatch(s))), "site", "not an INSEE commune code"
    )
    reject(df["title"].isna(), "title", "no intitule-formation")
    reject(df.duplicated("offer", keep="first"), "offer", "duplicate offer identifier")
    ledger.keep(file, len(df))
    offers = df.drop(columns=["_no_action", "_row", "offer_number"])
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
    offers = offers.reset_index(drop=True)

    layout = "lheo-index" if root_name == "lheo-index" else "lheo"
    meta = {
        "source": str(path),
        "format": "lheo",
        "layout": layout,
        "namespace": namespace,
        "lheo_version": NAMESPACES.get(namespace, "unknown"),
        "encoding": "as declared (XML)",
        "offers_read": n_offers,
        "year": year,
        "seats_unknown": int(offers["seats_unknown"].sum()),
        "code_warnings": pd.DataFrame(warnings, columns=["offer", "column", "value", "reason"]),
        "row_accounting": ledger.checked_accounting(),
    }
    rejected = ledger.frame()
    return GpecData(
        training_offers=offers, sources={"training_offers": str(path)}, rejected=rejected, meta=meta
    )
