"""Read the Carif-Oref Certif Info list and the France Compétences CFD <-> RNCP table.

Certif Info (``certif_info.csv``, ``;``) describes each certification (code Certif Info
``Code_Diplome``) with its Formacode, up to five ROME codes (``Code_Rome_1`` ...
``Code_Rome_5``), RNCP and RS numbers, NSF and its education diploma code ``Code_Scolarité``
(the CFD of the BCN nomenclature, the code of the training-capacity files). It is the code route
from a training to occupations: MEF -> CFD -> Certif Info -> ROME.

The France Compétences "kit apprentissage" table (``CodeDiplome_RNCP_latest_kit.csv``) links CFD
and RNCP numbers (with the fiche's title, level and status).

Weights
-------
Certif Info lists a certification's ROME codes without saying which matters most, so the
trainees of a certification are split **equally** over its distinct ROME codes (a CFD with
several Certif Info rows, e.g. successive versions, takes the union of their ROME codes, equally
split). Users who know better pass their own flexibility matrix to :func:`gpec.supply.entrants`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec.ingest._errors import FormatError, RowLedger, check_pattern, require_file
from gpec.ingest._tables import read_table

__all__ = ["read_certifinfo", "link_certifications"]

_ROME = r"[A-N]\d{4}"
_CFD = r"[0-9A-Z]{8}"
_FORMACODE = r"\d{5}"
_ROME_COLS = [f"Code_Rome_{i}" for i in range(1, 6)]

#: Columns of the ``certifications`` table.
CERTIFICATION_COLUMNS = [
    "certifinfo",
    "label",
    "type",
    "level",
    "cfd",
    "rncp",
    "rs",
    "formacode",
    "nsf",
    "rome",
    "status",
]


def _clean(s: pd.Series) -> pd.Series:
    return s.map(lambda v: v.strip() if isinstance(v, str) and v.strip() else None)


_RNCP_RX = re.compile(r"(?:RNCP)?\s*(\d{1,6})")


def _rncp(v) -> str | None:
    """``"37297"``, ``"RNCP37297"``, ``"rncp037297"`` -> ``"RNCP37297"``; else None."""
    if not isinstance(v, str):
        return None
    m = _RNCP_RX.fullmatch(v.strip().upper())
    return f"RNCP{int(m.group(1))}" if m else None


def _equal_split(pairs: pd.DataFrame, source_system: str, target_system: str) -> pd.DataFrame:
    """[source, target] pairs -> crosswalk rows with weights 1/n over each source's targets."""
    p = pairs.dropna().drop_duplicates()
    n = p.groupby("source")["target"].transform("size")
    return pd.DataFrame(
        {
            "source_system": source_system,
            "source": p["source"].to_numpy(),
            "target_system": target_system,
            "target": p["target"].to_numpy(),
            "weight": (1.0 / n).to_numpy(),
        }
    ).sort_values(["source", "target"], kind="stable")


def read_certifinfo(
    path: str | os.PathLike, *, kit: str | os.PathLike | None = None, rome_version: str = "ROME"
) -> GpecData:
    """Read Certif Info (and optionally the France Compétences CFD <-> RNCP kit).

    Parameters
    ----------
    path : path
        ``certif_info.csv`` (``;``-separated, UTF-8).
    kit : path, optional
        ``CodeDiplome_RNCP_latest_kit.csv`` (``Code_Diplome`` = CFD, ``Code_RNCP``): adds its
        CFD -> RNCP links.
    rome_version : str, default "ROME"
        ``target_system`` written on the ROME crosswalk rows.

    Returns
    -------
    GpecData
        ``crosswalks`` rows (weights of one source and target system sum to 1, equal split):
        ``CFD`` -> ROME, ``CERTIFINFO`` -> ROME, ``RNCP`` -> ROME (from Certif Info, usable by
        :func:`gpec.supply.entrants` for offers carrying RNCP codes, e.g. LHÉO feeds),
        ``CERTIFINFO`` -> ``FORMACODE``, ``CFD`` -> ``RNCP`` (Certif Info and the kit).
        ``extra["certifications"]``: one row per Certif Info code: certifinfo, label, type,
        level, cfd, rncp, rs, formacode, nsf, rome (';'-joined), status. Rows repeating a code
        (they differ only in RS or Idéo codes) are merged into one, their RS codes joined;
        rows without a Certif Info code are rejected; invalid codes are left out and listed in
        ``meta["code_warnings"]``. ``meta["row_accounting"]`` balances per file.

    Examples
    --------
    >>> ci = read_certifinfo("certif_info.csv", kit="CodeDiplome_RNCP_latest_kit.csv")  # doctest: +SKIP
    >>> cw = ci.crosswalks  # doctest: +SKIP
    >>> cw[(cw.source_system == "CFD") & (cw.source == "50022139")]  # doctest: +SKIP
    """
    path = Path(path)
    require_file(path, "the Certif Info CSV file")
    raw = read_table(path)
    need = ["Code_Diplome", "Code_Scolarité", "Code_Rome_1"]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise FormatError(f"{path}: not a Certif Info file (no column {missing[0]!r})")
    file = path.name
    ledger = RowLedger()
    ledger.read(file, len(raw))
    table = "certifications"
    code = _clean(raw["Code_Diplome"])
    bad = ~check_pattern(code, r"\d{1,10}")
    ledger.reject(
        table, file, raw.index[bad], "Code_Diplome", raw.loc[bad, "Code_Diplome"],
        "not a Certif Info code (1-10 digits)",
    )  # fmt: skip
    df = raw[~bad.to_numpy()]
    code = code[~bad]
    warnings: list[tuple] = []

    def codes(col: str, pattern: str, fix=None) -> pd.Series:
        if col not in df.columns:
            return pd.Series(None, index=df.index, dtype=object)
        v = _clean(df[col])
        if fix is not None:
            v = v.map(lambda x: fix(x) if x is not None else None)
            ok = v.notna() | _clean(df[col]).isna()
        else:
            ok = v.isna() | check_pattern(v, pattern)
        for r, val in zip(df.index[~ok], df.loc[~ok, col], strict=True):
            warnings.append((r, col, val, f"not a {col} code"))
        return v.where(ok, None)

    cfd = codes("Code_Scolarité", _CFD)
    rncp = codes("Code_RNCP", "", fix=_rncp)
    formacode = codes("Code_FormaCode", _FORMACODE)
    romes = pd.DataFrame({c: codes(c, _ROME) for c in _ROME_COLS if c in df.columns})
    rome = pd.Series(
        [
            ";".join(dict.fromkeys(x for x in r if isinstance(x, str))) or None
            for r in romes.to_numpy(dtype=object)
        ],
        index=df.index,
        dtype=object,
    )
    get = lambda c: _clean(df[c]) if c in df.columns else None  # noqa: E731
    cert = pd.DataFrame(
        {
            "certifinfo": code,
            "label": get("Libelle_Diplome"),
            "type": get("Libelle_Type_Diplome"),
            "level": get("Code_Niveau_Europeen"),
            "cfd": cfd,
            "rncp": rncp,
            "rs": get("Code_RS"),
            "formacode": formacode,
            "nsf": get("Code_Nsf"),
            "rome": rome,
            "status": get("Etat_Libelle"),
        },
        index=df.index,
    )
    ledger.keep(file, len(cert))
    # repeated codes: one certification, the RS codes of its rows joined
    rep = cert[cert["certifinfo"].duplicated(keep=False)]
    rs = rep.groupby("certifinfo", sort=False)["rs"].agg(
        lambda s: ";".join(dict.fromkeys(x for x in s if isinstance(x, str))) or None
    )
    certs = cert.drop_duplicates("certifinfo").copy()
    merged = certs["certifinfo"].isin(rs.index)
    certs.loc[merged, "rs"] = certs.loc[merged, "certifinfo"].map(rs)
    certs = certs.reset_index(drop=True)

    long_rome = (
        pd.DataFrame(
            {
                "certifinfo": np.repeat(code.to_numpy(), romes.shape[1]),
                "cfd": np.repeat(cfd.to_numpy(), romes.shape[1]),
                "rncp": np.repeat(rncp.to_numpy(), romes.shape[1]),
                "rome": romes.to_numpy(dtype=object).ravel(),
            }
        )
        .dropna(subset=["rome"])
        .reset_index(drop=True)
    )
    parts = [
        _equal_split(long_rome[["cfd", "rome"]].set_axis(["source", "target"], axis=1), "CFD", rome_version),
        _equal_split(long_rome[["certifinfo", "rome"]].set_axis(["source", "target"], axis=1), "CERTIFINFO", rome_version),
        _equal_split(long_rome[["rncp", "rome"]].set_axis(["source", "target"], axis=1), "RNCP", rome_version),
        _equal_split(pd.DataFrame({"source": code.to_numpy(), "target": formacode.to_numpy()}), "CERTIFINFO", "FORMACODE"),
    ]  # fmt: skip
    cfd_rncp = pd.DataFrame({"source": cfd.to_numpy(), "target": rncp.to_numpy()})
    sources = {"crosswalks": str(path)}
    meta: dict = {
        "source": str(path),
        "format": "certifinfo",
        "encoding": raw.attrs.get("encoding"),
    }
    if kit is not None:
        kpath = Path(kit)
        require_file(kpath, "the France Compétences CFD <-> RNCP kit file")
        k = read_table(kpath)
        for c in ("Code_Diplome", "Code_RNCP"):
            if c not in k.columns:
                raise FormatError(f"{kpath}: not the CFD <-> RNCP kit (no column {c!r})")
        kfile = kpath.name
        ledger.read(kfile, len(k))
        kc, kr = _clean(k["Code_Diplome"]), _clean(k["Code_RNCP"])
        bad_c = ~check_pattern(kc, _CFD)
        ledger.reject("crosswalks", kfile, k.index[bad_c], "Code_Diplome", k.loc[bad_c, "Code_Diplome"], "not a CFD code (8 characters)")  # fmt: skip
        rn = kr.map(lambda v: _rncp(v) if v is not None else None)
        bad_r = ~bad_c & rn.isna()
        ledger.reject("crosswalks", kfile, k.index[bad_r], "Code_RNCP", k.loc[bad_r, "Code_RNCP"], "no RNCP number (NR or empty)")  # fmt: skip
        good = ~(bad_c | bad_r)
        ledger.keep(kfile, int(good.sum()))
        cfd_rncp = pd.concat(
            [
                cfd_rncp,
                pd.DataFrame({"source": kc[good].to_numpy(), "target": rn[good].to_numpy()}),
            ],
            ignore_index=True,
        )
        active = k.get("Fiche ACTIVE/INACTIVE")
        meta["kit"] = str(kpath)
        meta["kit_inactive_rows"] = (
            int((active[good] == "INACTIVE").sum()) if active is not None else None
        )
        sources["crosswalks_kit"] = str(kpath)
    parts.append(_equal_split(cfd_rncp, "CFD", "RNCP"))
    crosswalks = pd.concat(parts, ignore_index=True)
    meta.update(
        certifications=len(certs),
        with_rome=int(certs["rome"].notna().sum()),
        with_cfd=int(certs["cfd"].notna().sum()),
        code_warnings=pd.DataFrame(warnings, columns=["row", "column", "value", "reason"]),
        row_accounting=ledger.checked_accounting(),
        weights="equal split over the distinct codes of a source",
    )
    return GpecData(
        crosswalks=crosswalks,
        sources=sources,
        rejected=ledger.frame(),
        meta=meta,
        extra={"certifications": certs},
    )


def _as_certifinfo(certifinfo) -> GpecData:
    if isinstance(certifinfo, GpecData):
        return certifinfo
    path = Path(certifinfo)
    if path.is_dir():
        kit = path / "CodeDiplome_RNCP_latest_kit.csv"
        return read_certifinfo(path / "certif_info.csv", kit=kit if kit.is_file() else None)
    return read_certifinfo(path)


def link_certifications(
    offers: pd.DataFrame, certifinfo, *, successors: dict[str, str] | None = None
) -> pd.DataFrame:
    """Fill an offer's ``rome`` (``code:weight``), ``rncp`` and ``formacode`` from its CFD.

    Parameters
    ----------
    offers : DataFrame
        Training offers with a ``cfd`` column (:func:`gpec.ingest.read_training_capacity`).
    certifinfo : GpecData or path
        Result of :func:`read_certifinfo`, its file, or the folder holding ``certif_info.csv``
        (and the kit).
    successors : dict, optional
        Closed CFD -> its successor CFDs (';'-joined; see
        :func:`gpec.ingest.read_nomenclature`): a CFD without ROME codes takes those of its
        successors (followed up to three steps), ``code_route`` ``"CFD -> successor CFD ->
        Certif Info"``.

    Returns
    -------
    DataFrame
        A copy; ``rome`` is ``"H1206:0.5;H1302:0.5"`` (equal split, see the module notes) where
        Certif Info gives ROME codes for the CFD, else left as it was; ``code_route`` says
        ``"CFD -> Certif Info"`` for the offers it filled.

    Examples
    --------
    >>> cw = pd.DataFrame({"source_system": "CFD", "source": ["50022139", "50022139"],
    ...     "target_system": "ROME", "target": ["G1602", "G1603"], "weight": 0.5})
    >>> ci = GpecData(crosswalks=cw)
    >>> link_certifications(pd.DataFrame({"cfd": ["50022139", "X"]}), ci)["rome"].tolist()
    ['G1602:0.5;G1603:0.5', None]
    """
    ci = _as_certifinfo(certifinfo)
    cw = ci.crosswalks
    out = offers.copy()
    for col in ("rome", "rncp", "formacode"):
        if col not in out.columns:
            out[col] = None
    if cw is None or not len(cw):
        out["code_route"] = None
        return out
    cfd_rome = cw[
        (cw["source_system"] == "CFD") & cw["target_system"].str.upper().str.startswith("ROME")
    ]
    joined = (
        cfd_rome.assign(
            item=cfd_rome["target"] + ":" + cfd_rome["weight"].map(lambda w: f"{w:.6g}")
        )
        .groupby("source", sort=False)["item"]
        .agg(";".join)
    )
    rome = out["cfd"].map(joined)
    has = rome.notna() & out["rome"].isna()
    out.loc[has, "rome"] = rome[has]
    out["code_route"] = np.where(has, "CFD -> Certif Info", None)
    if successors:
        pairs = cfd_rome.groupby("source", sort=False)
        rome_of = {k: list(zip(g["target"], g["weight"], strict=True)) for k, g in pairs}

        def via_successors(cfd) -> str | None:
            seen, frontier = {cfd}, [cfd]
            for _ in range(3):
                nxt = [n for c in frontier for n in (successors.get(c) or "").split(";") if n]
                nxt = [n for n in nxt if n not in seen]
                seen.update(nxt)
                found = [rome_of[n] for n in nxt if n in rome_of]
                if found:  # equal split over the successors that have codes
                    acc: dict[str, float] = {}
                    for lst in found:
                        for code, w in lst:
                            acc[code] = acc.get(code, 0.0) + w / len(found)
                    return ";".join(f"{c}:{w:.6g}" for c, w in acc.items())
                frontier = nxt
                if not frontier:
                    break
            return None

        todo = out["rome"].isna() & out["cfd"].notna()
        cache = {c: via_successors(c) for c in out.loc[todo, "cfd"].unique()}
        got = out.loc[todo, "cfd"].map(cache)
        hit = got.notna()
        idx = got.index[hit]
        out.loc[idx, "rome"] = got[hit]
        out.loc[idx, "code_route"] = "CFD -> successor CFD -> Certif Info"
    cfd_rncp = cw[(cw["source_system"] == "CFD") & (cw["target_system"] == "RNCP")]
    rn = out["cfd"].map(cfd_rncp.groupby("source", sort=False)["target"].agg(";".join))
    out["rncp"] = out["rncp"].where(out["rncp"].notna(), rn)
    certs = ci.extra.get("certifications")
    if certs is not None and len(certs):
        fc = (
            certs.dropna(subset=["cfd", "formacode"])
            .groupby("cfd", sort=False)["formacode"]
            .agg(lambda s: ";".join(dict.fromkeys(s)))
        )
        out["formacode"] = out["formacode"].where(out["formacode"].notna(), out["cfd"].map(fc))
    for col in ("rome", "rncp", "formacode", "code_route"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out
