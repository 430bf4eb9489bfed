"""Read training capacity files: vocational high-school seats (Affelnet) and BTS seats (Parcoursup).

Two official layouts give the seats of initial vocational training per school (UAI) and training
(MEF STAT 11), one row per offer:

* **Affelnet** (``attractivite_capacite_YYYY.csv``, DEPP / DGESCO): ``Etablissement d'accueil``
  (UAI), ``MEF STAT 11``, ``Statut Offre de formation`` (``ST`` school, ``AP`` apprenticeship),
  ``Capacité carte scolaire`` (seats), ``Demandes vœux 1`` (first-choice requests),
  ``Famille de métiers``. The year is not in the file: it is read from the file name or given.
* **Parcoursup** BTS (``BTS_attractivite_capacite_YYYY.csv``, MESR): ``UAI``,
  ``LIBELLÉFORMATION``, ``MEFSTAT11``, ``NB_VOEUX_CONFIRMES``, ``STATUT`` (Scolaire /
  Apprentissage), ``CAPACITEPSUP`` (seats).

The national education nomenclatures of the Base Centrale des Nomenclatures give the rest:
``nMef.csv`` (MEF STAT 11 -> diploma code ``FORMATION_DIPLOME`` (CFD), duration
``DUREE_DISPOSITIF`` and year of the programme ``ANNEE_DISPOSITIF``) and
``nFormationDiplome_.csv`` (CFD -> label, diploma type, RNCP level).

Seats per year
--------------
The canonical ``seats`` of a training offer are the trainees who *leave* it each year. A school
lists the seats of one year-group of a programme, so a programme of several years gives one
cohort per year, not ``seats x duration`` nor ``seats / duration``. Affelnet also lists the
second year of three-year programmes (*1re professionnelle*), whose seats are mostly taken by the
pupils of the school's own first year (for the *familles de métiers*, the common *2de* splits
into the specialties of the *1re*). Counting both would count one cohort twice (a quarter of
the national seats). :func:`annual_cohorts` counts each cohort once: within one school x status x
programme kind x duration, the latest programme year counts in full, and an earlier year only
for the seats it has beyond the later years (``seats = capacity x max(S_k - S_later, 0) /
S_k``, with ``S_k`` the school's seats in programme year ``k``). The later year carries the
specialty, hence the occupations.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec._schema import TABLES
from gpec.ingest._errors import FormatError, RowLedger, check_pattern, require_file
from gpec.ingest._headers import header_key as _norm
from gpec.ingest._tables import read_table

__all__ = [
    "AFFELNET_UNKNOWN_CAPACITY",
    "annual_cohorts",
    "family_codes",
    "departement_of_uai",
    "read_nomenclature",
    "read_training_capacity",
]

#: Capacities Affelnet uses for "no capacity set" (not seats): kept as unknown seats.
AFFELNET_UNKNOWN_CAPACITY = (998, 999)

_UAI = r"(?:\d{7}|02[AB]\d{4})[A-Z]"
_MEF = r"[0-9A-Z]{11}"
_CFD = r"[0-9A-Z]{8}"
_STATUS = {
    "st": "scolaire",
    "scolaire": "scolaire",
    "ap": "apprentissage",
    "apprentissage": "apprentissage",
}

# normalised header -> canonical field, per layout
_LAYOUTS = {
    "affelnet": {
        "etablissement_d_accueil": "uai",
        "mef_stat_11": "mef",
        "statut_offre_de_formation": "status",
        "capacite_carte_scolaire": "capacity",
        "demandes_voeux_1": "requests",
        "famille_de_metiers": "family",
    },
    "parcoursup": {
        "uai": "uai",
        "mefstat11": "mef",
        "statut": "status",
        "capacitepsup": "capacity",
        "nb_voeux_confirmes": "requests",
        "libelleformation": "title",
        "cfd_rectifie": "file_cfd",
    },
}
_REQUIRED = ("uai", "mef", "status", "capacity")

#: Columns of the offers table, after the canonical ``training_offers`` ones.
EXTRA_COLUMNS = [
    "uai",
    "departement",
    "commune",
    "mef",
    "cfd",
    "label",
    "diploma",
    "level",
    "status",
    "year",
    "duration",
    "programme_year",
    "leaving_year",
    "dispositif",
    "family",
    "requests",
    "seats_capacity",
    "seats_unknown",
    "seats_note",
    "source_format",
    "source_row",
]
#: The canonical training_offers columns, in their order, lead the table.
_CANONICAL = list(TABLES["training_offers"].columns)


def departement_of_uai(uai) -> str | None:
    """The département of a school from its UAI code (None when the code gives none).

    The first three characters are the département: ``076`` -> ``76``; Corsica ``620`` or
    ``02A`` -> ``2A`` and ``720`` or ``02B`` -> ``2B``; overseas ``971`` ... ``976`` (and the
    other ``97x`` / ``98x`` codes, kept as they are).

    Parameters
    ----------
    uai : str
        The school's UAI (``RNE``) code, e.g. ``"0760001A"``; case does not matter.

    Returns
    -------
    str or None
        The département code, or None when ``uai`` is not a string of at least three
        characters or its head is not a département (``000``, ``020``, ``096``, letters...).

    Examples
    --------
    >>> [departement_of_uai(u) for u in ["0760001A", "0271234B", "6200002X", "9740552G", "C752887F"]]
    ['76', '27', '2A', '974', None]
    """
    if not isinstance(uai, str) or len(uai) < 3:
        return None
    head = uai[:3].upper()
    if head in ("620", "02A"):
        return "2A"
    if head in ("720", "02B"):
        return "2B"
    if head[:2] in ("97", "98") and head.isdigit():
        return head
    if head[0] == "0" and head[1:].isdigit() and head[1:] not in ("00", "20", "96", "97", "98"):
        return head[1:]
    return None


# ----------------------------------------------------------------------------- nomenclatures
def read_nomenclature(
    mef: str | os.PathLike, diplomas: str | os.PathLike | None = None
) -> pd.DataFrame:
    """MEF STAT 11 -> diploma (CFD), duration, programme year and labels, from the BCN files.

    Parameters
    ----------
    mef : path
        ``nMef.csv`` (columns ``MEF_STAT_11``, ``FORMATION_DIPLOME``, ``DUREE_DISPOSITIF``,
        ``ANNEE_DISPOSITIF``, ``DISPOSITIF_FORMATION``, ``LIBELLE_LONG``, ``DATE_FERMETURE``).
    diplomas : path, optional
        ``nFormationDiplome_.csv`` (``FORMATION_DIPLOME``, ``LIBELLE_LONG_200``,
        ``LIBELLE_COURT``, ``NIVEAU_QUALIFICATION_RNCP``).

    Returns
    -------
    DataFrame
        One row per MEF STAT 11: ``mef, cfd, duration, programme_year, dispositif, mef_label,
        label, diploma, level`` (``level`` is the RNCP level, 3 = CAP, 4 = bac, 5 = BTS). A MEF
        STAT 11 listed twice keeps the open one, else the one closing last
        (``attrs["ambiguous"]`` lists them). ``attrs["successors"]`` maps a closed diploma's CFD
        to its successors (``NOUVEAU_DIPLOME_1..7``, ';'-joined).

    Examples
    --------
    >>> nom = read_nomenclature("nMef.csv", "nFormationDiplome_.csv")  # doctest: +SKIP
    >>> nom.set_index("mef").loc["23820022106", ["cfd", "duration", "label"]]  # doctest: +SKIP
    """
    path = Path(mef)
    require_file(path, "the BCN nMef.csv file")
    m = read_table(path)
    need = ["MEF_STAT_11", "FORMATION_DIPLOME", "DUREE_DISPOSITIF", "ANNEE_DISPOSITIF"]
    missing = [c for c in need if c not in m.columns]
    if missing:
        raise FormatError(f"{path}: not a BCN nMef file (no column {missing[0]!r})")
    closing = pd.to_datetime(
        m.get("DATE_FERMETURE", pd.Series(None, index=m.index)), format="%d/%m/%Y", errors="coerce"
    )
    # still open (no closing date) first, then the latest closing
    m = m.assign(_close=closing).sort_values(
        "_close", ascending=False, kind="stable", na_position="first"
    )
    ambiguous = sorted(m.loc[m["MEF_STAT_11"].duplicated(), "MEF_STAT_11"].dropna().unique())
    m = m.drop_duplicates("MEF_STAT_11").sort_index()
    out = pd.DataFrame(
        {
            "mef": m["MEF_STAT_11"],
            "cfd": m["FORMATION_DIPLOME"],
            "duration": pd.to_numeric(m["DUREE_DISPOSITIF"], errors="coerce"),
            "programme_year": pd.to_numeric(m["ANNEE_DISPOSITIF"], errors="coerce"),
            "dispositif": m.get("DISPOSITIF_FORMATION"),
            "mef_label": m.get("LIBELLE_LONG"),
        }
    )
    out["label"] = out["diploma"] = out["level"] = None
    if diplomas is not None:
        dpath = Path(diplomas)
        require_file(dpath, "the BCN nFormationDiplome file")
        d = read_table(dpath)
        if "FORMATION_DIPLOME" not in d.columns:
            raise FormatError(f"{dpath}: not a BCN nFormationDiplome file (no FORMATION_DIPLOME)")
        d = d.drop_duplicates("FORMATION_DIPLOME").set_index("FORMATION_DIPLOME")
        for col, src in (
            ("label", "LIBELLE_LONG_200"),
            ("diploma", "LIBELLE_COURT"),
            ("level", "NIVEAU_QUALIFICATION_RNCP"),
        ):
            if src in d.columns:
                out[col] = out["cfd"].map(d[src])
        out["level"] = pd.to_numeric(out["level"], errors="coerce")
        new = [c for c in d.columns if c.startswith("NOUVEAU_DIPLOME_")]
        if new:
            succ = d[new].apply(
                lambda r: ";".join(v.strip() for v in r if isinstance(v, str) and v.strip()),
                axis=1,
            )
            succ = succ[succ != ""]
            out.attrs["successors"] = succ.to_dict()
    successors = out.attrs.get("successors", {})
    out = out.reset_index(drop=True)
    out.attrs["successors"] = successors
    out.attrs["ambiguous"] = ambiguous
    out.attrs["sources"] = [str(path)] + ([str(diplomas)] if diplomas is not None else [])
    return out


def _find_nomenclature(path: Path, nomenclature) -> pd.DataFrame | None:
    if isinstance(nomenclature, pd.DataFrame):
        return nomenclature
    folder = Path(nomenclature) if nomenclature is not None else path.parent
    if folder.is_file():
        raise FormatError(
            f"{folder}: nomenclature must be the folder of nMef.csv and nFormationDiplome_.csv"
        )
    mef = folder / "nMef.csv"
    if not mef.is_file():
        if nomenclature is None:
            return None
        raise FormatError(f"{folder}: no nMef.csv in the nomenclature folder")
    dip = [p for p in sorted(folder.glob("nFormationDiplome*.csv"))]
    return read_nomenclature(mef, dip[0] if dip else None)


# ----------------------------------------------------------------------------- one file
def _layout(columns: list[str], path: Path) -> tuple[str, dict[str, str]]:
    norm = {_norm(c): c for c in columns}
    best = None
    for name, fields in _LAYOUTS.items():
        found = {fields[k]: norm[k] for k in fields if k in norm}
        if all(f in found for f in _REQUIRED):
            return name, found
        score = sum(f in found for f in _REQUIRED)
        if best is None or score > best[0]:
            best = (score, name, found)
    _, name, found = best
    missing = [f for f in _REQUIRED if f not in found]
    want = {v: k for k, v in _LAYOUTS[name].items()}
    raise FormatError(
        f"{path}: not an Affelnet or Parcoursup capacity file (closest layout {name}: no column "
        f"for {', '.join(want[m] for m in missing)}; columns {columns[:8]})"
    )


_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


def _file_year(path: Path, year: int | None) -> int:
    if year is not None:
        return int(year)
    found = _YEAR_IN_NAME.findall(path.stem)
    if len(set(found)) != 1:
        raise FormatError(
            f"{path}: the year of the seats is not in the file name; give year=... "
            "(the rentrée the seats are for)"
        )
    return int(found[0])


def _read_one(
    path: Path,
    fmt: str | None,
    year: int | None,
    ledger: RowLedger,
) -> tuple[pd.DataFrame, dict]:
    require_file(path, "a capacity CSV file")
    raw = read_table(path)
    layout, cols = _layout(list(raw.columns), path)
    if fmt is not None and fmt != layout:
        raise FormatError(f"{path}: format {fmt!r} was asked but the columns are those of {layout}")
    yr = _file_year(path, year)
    file = path.name
    ledger.read(file, len(raw))
    table = "training_offers"
    df = pd.DataFrame({f: raw[c] for f, c in cols.items()}, index=raw.index)
    for f in ("requests", "family", "title", "file_cfd"):
        if f not in df.columns:
            df[f] = None
    for f in ("uai", "mef", "status", "capacity", "file_cfd", "family", "title"):
        df[f] = df[f].map(lambda v: (v.strip() or None) if isinstance(v, str) else v)
    df["uai"] = df["uai"].map(lambda v: v.upper() if isinstance(v, str) else v)
    keep = np.ones(len(df), dtype=bool)

    def reject(mask, field, reason):
        nonlocal keep
        mask = np.asarray(mask, dtype=bool) & keep
        if mask.any():
            ledger.reject(table, file, df.index[mask], cols[field], df.loc[mask, field], reason)
            keep &= ~mask

    reject(~check_pattern(df["uai"], _UAI).to_numpy(), "uai", "not a UAI code (7 digits, 1 letter)")
    dep = df["uai"].map(departement_of_uai)
    reject(dep.isna().to_numpy(), "uai", "the UAI gives no département")
    reject(~check_pattern(df["mef"], _MEF).to_numpy(), "mef", "not a MEF STAT 11 code")
    status = df["status"].map(lambda v: _STATUS.get(str(v).strip().lower()) if v else None)
    reject(
        status.isna().to_numpy(),
        "status",
        "unknown status (expected ST/AP, Scolaire/Apprentissage)",
    )
    cap_text = df["capacity"]
    cap = pd.to_numeric(cap_text, errors="coerce")
    empty = cap_text.isna().to_numpy()
    bad = ~empty & (cap.isna() | (cap < 0) | (cap % 1 != 0)).to_numpy()
    reject(bad, "capacity", "not a seat count (a whole number >= 0)")
    sentinel = (
        cap.isin(AFFELNET_UNKNOWN_CAPACITY).to_numpy()
        if layout == "affelnet"
        else np.zeros(len(df), dtype=bool)
    )
    df["status"], df["departement"] = status, dep
    kept = df[keep].copy()
    ledger.keep(file, len(kept))
    unknown = (empty | sentinel)[keep]
    kept["seats_capacity"] = np.where(unknown, np.nan, cap[keep].to_numpy(dtype=float))
    kept["seats_unknown"] = unknown
    kept["seats_note"] = np.where(
        sentinel[keep],
        f"capacity {'/'.join(map(str, AFFELNET_UNKNOWN_CAPACITY))}: Affelnet's 'no capacity set'",
        np.where(empty[keep], "no capacity in the file", None),
    )
    kept["seats_note"] = kept["seats_note"].astype(object).where(kept["seats_unknown"], None)
    req = pd.to_numeric(kept["requests"], errors="coerce")
    bad_req = kept["requests"].notna() & (req.isna() | (req < 0))
    kept["requests"] = req.where(~bad_req)
    kept["year"] = yr
    kept["source_format"] = layout
    kept["source_row"] = [f"{file}:{r}" for r in kept.index]
    meta = {
        "file": str(path),
        "format": layout,
        "year": yr,
        "encoding": raw.attrs.get("encoding"),
        "rows": len(raw),
        "seats_in_file": float(cap[~bad & ~empty].sum()),
        "unknown_capacity_rows": int(unknown.sum()),
        "requests_not_a_number": int(bad_req.sum()),
    }
    return kept, meta


def _offer_ids(df: pd.DataFrame) -> pd.Series:
    base = (
        df["source_format"]
        + "-"
        + df["year"].astype(str)
        + "-"
        + df["uai"]
        + "-"
        + df["mef"]
        + "-"
        + df["status"].str[0].str.upper()
    )
    n = base.groupby(base, sort=False).cumcount()
    return base.where(n == 0, base + "-" + (n + 1).astype(str))


def _with_nomenclature(df: pd.DataFrame, nom: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["cfd", "duration", "programme_year", "dispositif", "mef_label", "label", "diploma"]
    if nom is None:
        for c in cols + ["level"]:
            df[c] = None if c not in ("duration", "programme_year", "level") else np.nan
        return df
    n = nom.set_index("mef")
    for c in cols + ["level"]:
        df[c] = df["mef"].map(n[c])
    return df


# ----------------------------------------------------------------------------- cohorts
def annual_cohorts(offers: pd.DataFrame) -> pd.DataFrame:
    """Seats per year that leave each offer, counting each cohort of a school once.

    Within one file year x school (UAI) x status x programme kind (``dispositif``) x duration,
    the latest programme year counts in full and each earlier year only for the seats it has
    beyond the later years: ``seats = seats_capacity x max(S_k - S_after, 0) / S_k`` where
    ``S_k`` is the group's known capacity in programme year ``k`` and ``S_after`` the largest
    capacity of the later years. Offers with an unknown programme year (MEF not in the
    nomenclature) count in full; unknown capacities stay unknown.

    Parameters
    ----------
    offers : DataFrame
        ``seats_capacity``, ``year``, ``uai``, ``status``, ``dispositif``, ``duration``,
        ``programme_year`` (as returned by :func:`read_training_capacity`).

    Returns
    -------
    DataFrame
        A copy with ``seats`` (leavers per year) and ``cohort_note`` (why seats differ from the
        capacity).

    Examples
    --------
    >>> off = pd.DataFrame({"year": 2022, "uai": "0760001A", "status": "scolaire",
    ...     "dispositif": "247", "duration": 3, "programme_year": [1, 2, 2],
    ...     "seats_capacity": [64.0, 32.0, 24.0]})
    >>> annual_cohorts(off)["seats"].tolist()
    [8.0, 32.0, 24.0]
    """
    out = offers.copy()
    cap = pd.to_numeric(out["seats_capacity"], errors="coerce")
    py = pd.to_numeric(out["programme_year"], errors="coerce")
    key = ["year", "uai", "status", "dispositif", "duration"]
    k = out[key[0]].astype(str)
    for c in key[1:]:
        k = k + "|" + out[c].astype(str)
    frame = pd.DataFrame({"k": k, "py": py, "cap": cap}, index=out.index)
    per_year = (
        frame.dropna(subset=["py", "cap"])
        .groupby(["k", "py"], sort=True)["cap"]
        .sum()
        .reset_index()
        .sort_values(["k", "py"], ascending=[True, False], kind="stable")
    )
    # largest capacity of the later programme years of the same group (0 for the latest)
    later = per_year.groupby("k")["cap"].cummax()
    per_year["after"] = later.groupby(per_year["k"]).shift(1).fillna(0.0)
    per_year["counted"] = (per_year["cap"] - per_year["after"]).clip(lower=0.0)
    per_year["factor"] = np.where(
        per_year["cap"] > 0, per_year["counted"] / per_year["cap"].where(per_year["cap"] > 0), 1.0
    )
    look = per_year.set_index(["k", "py"])
    idx = pd.MultiIndex.from_arrays([frame["k"], frame["py"]])
    factor = pd.Series(look["factor"].reindex(idx).to_numpy(), index=out.index).fillna(1.0)
    s_k = pd.Series(look["cap"].reindex(idx).to_numpy(), index=out.index)
    cont = pd.Series(look["cap"].sub(look["counted"]).reindex(idx).to_numpy(), index=out.index)
    partial = factor < 1
    note = pd.Series(None, index=out.index, dtype=object)
    note[partial] = [
        f"programme year {int(y)}: {s:g} seats at the school, {c:g} of them continue into a "
        "later year listed in the file (counted there)"
        for y, s, c in zip(frame["py"][partial], s_k[partial], cont[partial], strict=True)
    ]
    out["seats"] = cap * factor
    out["cohort_note"] = note
    return out


# ----------------------------------------------------------------------------- familles de métiers
_FAMILY_NOISE = re.compile(
    r"\b(?:METIERS?|2NDE|COMMUNE|BAC|PRO|SEC|AG|DE|DES|DU|LA|LE|L|D|ET|EN|AUX|A)\b"
)


def _family_tokens(text) -> frozenset:
    if not isinstance(text, str):
        return frozenset()
    t = _norm(text).upper().replace("_", " ")
    t = _FAMILY_NOISE.sub(" ", t)
    return frozenset(w.rstrip("S") for w in t.split() if len(w) > 2)


def family_codes(offers: pd.DataFrame, *, min_overlap: float = 0.6) -> pd.DataFrame:
    """ROME codes of a *famille de métiers* common year, from the specialties of the family.

    The common first year of a famille de métiers (*2de commune*, CFD not a certification, so
    without ROME codes in Certif Info) leads to the specialties of the family in the second
    year. An offer with no ``rome`` whose label names a family (``Famille de métiers`` of the
    Affelnet rows, matched on the words of the labels: at least ``min_overlap`` of the family's
    words; only first years of programmes of three years or more when ``programme_year`` and
    ``duration`` are given) takes the ROME codes of the family's specialties, weighted by their seats in the
    whole table (capacity x Certif Info weight, summed over the specialties). ``code_route``
    says ``"famille de métiers <family> -> specialties -> Certif Info"``.

    Parameters
    ----------
    offers : DataFrame
        ``family``, ``label``, ``rome`` (``code:weight``), ``seats_capacity``.
    min_overlap : float, default 0.6

    Returns
    -------
    DataFrame
        A copy with ``rome`` and ``code_route`` filled for the matched common years.

    Examples
    --------
    >>> off = pd.DataFrame({
    ...     "family": ["RELATION CLIENT", "RELATION CLIENT", None],
    ...     "label": ["ACCUEIL (BAC PRO)", "COMMERCE (BAC PRO)",
    ...               "METIERS DE LA RELATION CLIENT 2NDE COMMUNE (BAC PRO)"],
    ...     "rome": ["M1601:1", "D1106:0.5;D1214:0.5", None], "seats_capacity": [30.0, 60, 64]})
    >>> family_codes(off)["rome"].iloc[2]
    'D1106:0.3333;D1214:0.3333;M1601:0.3333'
    """
    out = offers.copy()
    if "code_route" not in out.columns:
        out["code_route"] = None
    fam = out["family"].map(lambda v: v.strip() if isinstance(v, str) and v.strip() else None)
    spec = out[fam.notna() & out["rome"].notna()]
    if not len(spec):
        return out
    seats = pd.to_numeric(spec["seats_capacity"], errors="coerce").fillna(0.0)
    weights: dict[str, dict[str, float]] = {}
    for f, codes, n in zip(fam[spec.index], spec["rome"], seats, strict=True):
        acc = weights.setdefault(_norm(f), {})
        for item in str(codes).split(";"):
            code, _, w = item.partition(":")
            acc[code] = acc.get(code, 0.0) + n * (float(w) if w else 1.0)
    names = {_norm(f): f for f in fam.dropna()}
    tokens = {k: _family_tokens(v) for k, v in names.items()}
    first_year = pd.Series(True, index=out.index)
    if "programme_year" in out.columns and "duration" in out.columns:
        py = pd.to_numeric(out["programme_year"], errors="coerce")
        du = pd.to_numeric(out["duration"], errors="coerce")
        first_year = (py == 1) & (du >= 3)
    todo = out.index[out["rome"].isna() & out["label"].notna() & first_year.to_numpy()]
    label_tokens = {lab: _family_tokens(lab) for lab in out.loc[todo, "label"].unique()}
    best: dict[str, str | None] = {}
    for lab, lt in label_tokens.items():
        scores = {k: len(lt & t) / len(t) for k, t in tokens.items() if t}
        k = max(scores, key=lambda x: (scores[x], len(tokens[x]))) if scores else None
        best[lab] = k if k is not None and scores[k] >= min_overlap else None
    for i in todo:
        k = best.get(out.at[i, "label"])
        if k is None or k not in weights:
            continue
        w = weights[k]
        total = sum(w.values())
        if total <= 0:
            continue
        out.at[i, "rome"] = ";".join(f"{c}:{v / total:.4g}" for c, v in sorted(w.items()))
        out.at[i, "code_route"] = f"famille de métiers {names[k]} -> specialties -> Certif Info"
    return out


# ----------------------------------------------------------------------------- public reader
def read_training_capacity(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    nomenclature: str | os.PathLike | pd.DataFrame | None = None,
    format: str | None = None,  # noqa: A002 - the config key is "format"
    year: int | None = None,
    cohorts: bool = True,
    communes: str | os.PathLike | pd.DataFrame | None = None,
    certifinfo=None,
    inserjeunes=None,
    outcome_defaults: pd.DataFrame | None = None,
) -> GpecData:
    """Read Affelnet / Parcoursup capacity files into the canonical training-offers table.

    Parameters
    ----------
    path : path or list of paths
        One or several capacity CSV files (Affelnet ``attractivite_capacite_YYYY.csv``,
        Parcoursup ``BTS_attractivite_capacite_YYYY.csv``); the layout is recognised by its
        columns.
    nomenclature : path or DataFrame, optional
        Folder holding ``nMef.csv`` and ``nFormationDiplome_.csv`` (default: the folder of the
        first file, when it has them), or the table of :func:`read_nomenclature`. Without it
        the offers have no CFD, duration or diploma label.
    format : {"affelnet", "parcoursup"}, optional
        Check that every file has this layout.
    year : int, optional
        Rentrée the seats are for; by default the year in each file name.
    cohorts : bool, default True
        ``seats`` = leavers per year (:func:`annual_cohorts`); False keeps the file's capacity
        of every row (a programme's later years then count the same pupils again).
    communes : path or DataFrame, optional
        UAI -> INSEE commune table (columns ``uai`` and ``commune``, e.g. from the Annuaire de
        l'éducation): the offers of a listed school get their commune as ``site``; the others
        keep their département (the catchment is then the département).
    certifinfo : path or GpecData, optional
        Certif Info file (or :func:`gpec.ingest.read_certifinfo` result): fills ``rome``
        (``code:weight``), ``rncp`` and ``formacode`` from the offer's CFD.
    inserjeunes : path or GpecData, optional
        InserJeunes file (or :func:`gpec.ingest.read_inserjeunes` result): completion and
        placement rates of the centre (by UAI) for apprenticeship offers; documented defaults
        by diploma level otherwise (see :func:`gpec.ingest.outcome_rates`).
    outcome_defaults : DataFrame, optional
        Replaces :data:`gpec.ingest.DEFAULT_OUTCOMES`.

    Returns
    -------
    GpecData
        ``training_offers``: the canonical columns (``offer``, ``title``, ``provider`` = UAI,
        ``site`` = commune when known else département, ``seats`` = leavers per year, ``rome``,
        ``rncp``, ``formacode``, ``completion_rate``, ``placement_rate``...) then ``uai,
        departement, commune, mef, cfd, label, diploma, level, status, year, duration,
        programme_year, leaving_year, dispositif, family, requests, seats_capacity,
        seats_unknown, seats_note, source_format, source_row`` (and ``cohort_note``, the code
        and rate columns when asked). Every file row is one offer or one ``rejected`` row;
        ``meta["row_accounting"]`` balances per file.

    Raises
    ------
    FormatError
        When a file is not a capacity file or its year cannot be known.

    Examples
    --------
    >>> data = read_training_capacity("attractivite_capacite_2022.csv")  # doctest: +SKIP
    >>> data.training_offers.groupby("departement")["seats"].sum()["76"]  # doctest: +SKIP
    """
    paths = [Path(p) for p in ([path] if isinstance(path, (str, os.PathLike)) else path)]
    if not paths:
        raise FormatError("read_training_capacity: no file given")
    if format is not None and format not in _LAYOUTS:
        raise FormatError(f"format must be 'affelnet' or 'parcoursup', got {format!r}")
    nom = _find_nomenclature(paths[0], nomenclature)
    ledger = RowLedger()
    parts, metas = [], []
    for p in paths:
        part, meta = _read_one(p, format, year, ledger)
        parts.append(part)
        metas.append(meta)
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    df = _with_nomenclature(df, nom)
    # the file's own (rectified) CFD where the nomenclature does not know the MEF
    df["cfd"] = df["cfd"].where(df["cfd"].notna(), df["file_cfd"].where(df["file_cfd"] != ""))
    df["offer"] = _offer_ids(df)
    df["title"] = df["title"].where(df["title"].notna(), df["label"])
    df["title"] = df["title"].where(df["title"].notna(), df["mef_label"])
    df["title"] = df["title"].where(df["title"].notna(), "MEF " + df["mef"])
    df["provider"] = df["uai"]
    df["commune"] = None
    if communes is not None:
        df["commune"] = df["uai"].map(_uai_communes(communes))
    df["site"] = df["commune"].where(df["commune"].notna(), df["departement"])
    left = df["duration"] - df["programme_year"]
    df["leaving_year"] = df["year"] + left.where(left >= 0)
    if cohorts:
        df = annual_cohorts(df)
    else:
        df["seats"] = df["seats_capacity"]
    for c in ("description", "hours", "modality", "formacode", "rncp", "rome"):
        df[c] = None
    df["completion_rate"] = np.nan
    df["placement_rate"] = np.nan
    extra_meta: dict = {}
    if certifinfo is not None:
        from gpec.ingest._certifinfo import link_certifications

        succ = nom.attrs.get("successors") if nom is not None else None
        df = link_certifications(df, certifinfo, successors=succ)
        df = family_codes(df)
    if inserjeunes is not None or outcome_defaults is not None:
        from gpec.ingest._inserjeunes import outcome_rates

        df = outcome_rates(df, inserjeunes, defaults=outcome_defaults)
    rest = [c for c in df.columns if c not in _CANONICAL + EXTRA_COLUMNS]
    rest = [c for c in rest if c not in ("capacity", "file_cfd", "mef_label")]
    offers = df[_CANONICAL + EXTRA_COLUMNS + rest].copy()
    offers["seats_unknown"] = offers["seats_unknown"].astype(bool)
    for c in ("duration", "programme_year", "leaving_year", "level"):
        offers[c] = pd.to_numeric(offers[c], errors="coerce").astype("Int64")
    for c in offers.columns:
        if offers[c].dtype == object or pd.api.types.is_string_dtype(offers[c].dtype):
            offers[c] = offers[c].astype(object).where(offers[c].notna(), None)
    accounting = ledger.checked_accounting()
    meta = {
        "source": ";".join(str(p) for p in paths),
        "format": ";".join(sorted({m["format"] for m in metas})),
        "files": metas,
        "nomenclature": (nom.attrs.get("sources") if nom is not None else None),
        "mef_ambiguous": (nom.attrs.get("ambiguous") if nom is not None else None),
        "mef_not_in_nomenclature": int(offers["cfd"].isna().sum()),
        "cohorts": cohorts,
        "seats_capacity": float(offers["seats_capacity"].sum()),
        "seats": float(offers["seats"].sum()),
        "row_accounting": accounting,
        **extra_meta,
    }
    return GpecData(
        training_offers=offers,
        sources={"training_offers": meta["source"]},
        rejected=ledger.frame(),
        meta=meta,
    )


def _uai_communes(communes) -> pd.Series:
    """UAI -> commune mapping from a table with ``uai`` and ``commune`` columns (names are
    matched loosely: ``numero_uai``, ``code_commune`` ... )."""
    t = communes if isinstance(communes, pd.DataFrame) else read_table(Path(communes))
    norm = {_norm(c): c for c in t.columns}
    uai = next(
        (
            norm[k]
            for k in ("uai", "numero_uai", "code_uai", "identifiant_de_l_etablissement")
            if k in norm
        ),
        None,
    )
    com = next(
        (
            norm[k]
            for k in ("commune", "code_commune", "code_insee_commune", "code_commune_insee")
            if k in norm
        ),
        None,
    )
    if uai is None or com is None:
        raise FormatError(
            f"UAI -> commune table: needs a 'uai' and a 'commune' column, has {list(t.columns)}"
        )
    pairs = t[[uai, com]].dropna()
    pairs = pairs[check_pattern(pairs[com].astype(str).str.strip(), r"\d{5}|2[AB]\d{3}").to_numpy()]
    return pairs.drop_duplicates(uai).set_index(pairs.columns[0])[com].astype(str).str.strip()
