"""Read the DARES "Portraits statistiques des métiers" series (FAP 2009).

Layouts (detected from the header):

* wide yearly employment, ``Annee`` + one column per FAP (``effectifs_3niv.csv``): national
  employment in thousands, **3-year moving averages** (``Annee`` is the centre year: 1983 = mean
  of 1982-1984) -> ``employment`` (jobs, x1000), flagged in ``meta["moving_average"]``;
* age structure, ``fap`` + ``tr_age``/``age`` + a count (``age_2017_2019_3niv.csv``,
  ``age_agrege_…``) -> ``workforce_age`` (jobs) for one period (default the latest);
* tension indicators (``tensions/tensions.csv``): average employment by FAP x département /
  région / France in 2019 -> ``employment`` plus the indicators in extra table ``tensions``;
* the FAP label table (``effectifsalarie_hors_app_3niv.csv``) -> ``occupations``.

FAP codes keep their level in ``occupations.level``: ``total`` (ENS), ``domaine`` (1 letter),
``fap87`` (3 chars), ``fap225`` (5 chars); parents follow the code prefix. Territory codes follow
the convention of :mod:`gpec.ingest._bmo`: ``FR``, ``R`` + région code, département code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec.ingest._errors import FormatError, RowLedger
from gpec.ingest._tables import InputFileError, read_table

__all__ = ["read_dares_series", "normalize_age_band"]

_FAP = re.compile(r"ENS|[A-Z]|[A-Z]\d[A-Z]|[A-Z]\d[A-Z]\d{2}|ZZZ|ZZZZZ")
_LEVEL = {1: "domaine", 3: "fap87", 5: "fap225"}
_NA = {"", "NA", "nan", "NaN"}


def normalize_age_band(band: str) -> str:
    """DARES age band -> gpec notation (``"15-24 ans"`` -> ``"15-24"``, ``"60 ans ou plus"`` ->
    ``"60+"``, ``"Moins de 30 ans"`` -> ``"15-29"``, ``"De 30 à 49 ans"`` -> ``"30-49"``).

    Examples
    --------
    >>> normalize_age_band("60 ans ou plus")
    '60+'
    """
    text = str(band).strip().lower()
    m = re.search(r"(\d+)\s*(?:-|à|a)\s*(\d+)", text)
    if m:
        return f"{int(m.group(1))}-{int(m.group(2))}"
    m = re.search(r"(\d+)\s*(?:ans)?\s*(?:ou plus|et plus|\+)", text)
    if m:
        return f"{int(m.group(1))}+"
    m = re.search(r"moins de\s*(\d+)", text)
    if m:
        return f"15-{int(m.group(1)) - 1}"
    raise ValueError(f"unreadable age band {band!r}")


def _fap_parent(code: str) -> str | None:
    if code == "ENS":
        return None
    if len(code) == 1:
        return "ENS"
    return code[:1] if len(code) == 3 else code[:3]


#: Columns of the DARES portraits that are sums of other FAP, not FAP of their own: counting
#: them beside their parts counts jobs twice (T2Z60 = T2A60 + T2B60 in every year, no label).
AGGREGATE_CODES = {"T2Z": "sum of T2A and T2B", "T2Z60": "sum of T2A60 and T2B60"}


def _occupations(codes, labels: dict[str, str]) -> pd.DataFrame:
    codes = sorted(set(codes), key=lambda c: (len(c) if c != "ENS" else 0, c))
    # every ancestor must exist
    full = set(codes)
    for c in list(codes):
        p = _fap_parent(c)
        while p is not None and p not in full:
            full.add(p)
            p = _fap_parent(p)
    codes = sorted(full, key=lambda c: (len(c) if c != "ENS" else 0, c))
    return pd.DataFrame(
        {
            "occupation": codes,
            "label": [
                labels.get(c) or ("Ensemble des métiers" if c == "ENS" else f"FAP {c}")
                for c in codes
            ],
            "system": "FAP2009",
            "parent": [_fap_parent(c) for c in codes],
            "level": [
                "total" if c == "ENS" else "aggregate" if c in AGGREGATE_CODES else _LEVEL[len(c)]
                for c in codes
            ],
        }
    ).astype({"parent": object})


def _labels_from(df: pd.DataFrame) -> dict[str, str]:
    """Labels of FAP codes found in a DARES table with libelle columns."""
    cols = {c.lower(): c for c in df.columns}
    out: dict[str, str] = {}
    pairs = [
        ("fap", "libelle"),
        ("code_domaine", "libelle_domaine"),
        ("code_fap_agregee", "libelle_fap_agregee"),
    ]
    for code_col, lab_col in pairs:
        if code_col in cols and lab_col in cols:
            for code, lab in zip(df[cols[code_col]], df[cols[lab_col]], strict=True):
                if isinstance(code, str) and isinstance(lab, str) and code not in _NA:
                    out.setdefault("ENS" if code == "Ensemble" else code, lab)
    return out


def _sibling_labels(path: Path) -> dict[str, str]:
    for folder in (path.parent, path.parent.parent):
        f = folder / "effectifsalarie_hors_app_3niv.csv"
        if f.exists():
            try:
                return _labels_from(read_table(f))
            except InputFileError:  # pragma: no cover
                return {}
    return {}


def _territory(row_geo: pd.Series, reg: pd.Series, dep: pd.Series) -> pd.Series:
    reg_code = reg.fillna("").str.replace(r"\.0$", "", regex=True).str.zfill(2)
    return pd.Series(
        np.where(
            row_geo.eq("nat"), "FR", np.where(row_geo.eq("reg"), "R" + reg_code, dep.fillna(""))
        ),
        index=row_geo.index,
    )


def read_dares_series(
    path: str | os.PathLike,
    *,
    period: str | int | None = None,
    scale: float | None = None,
    labels: str | os.PathLike | None = None,
) -> GpecData:
    """Read one DARES "Portraits statistiques des métiers" table (FAP 2009).

    Parameters
    ----------
    path : str or path-like
        ``effectifs_3niv.csv`` (wide employment series), an age file
        (``age_2017_2019_3niv.csv``, ``age_agrege_…csv``), ``tensions.csv`` or
        ``effectifsalarie_hors_app_3niv.csv`` (labels).
    period : str or int, optional
        Age files with several periods (``"2015-2017"``...): the one to keep (default the
        latest); the rows of the other periods are reported as rejected ("period not selected").
    scale : float, optional
        Multiplier to jobs; default 1000 for the employment and age files (published in
        thousands), 1 for ``tensions.csv`` (jobs).
    labels : path, optional
        FAP label table; default ``effectifsalarie_hors_app_3niv.csv`` beside ``path`` when
        present, else labels found in the file itself, else ``"FAP <code>"``.

    Returns
    -------
    GpecData
        ``employment`` (territory, occupation, period, value) or ``workforce_age`` (territory,
        occupation, age_band, value), ``occupations`` (FAP tree) and ``territories``; ``meta``
        with ``layout``, ``unit``, ``moving_average`` (3 for the wide series: centred 3-year
        means), ``period``, ``missing_cells`` and ``row_accounting``.

    Raises
    ------
    FormatError
        When the file is none of these layouts.

    Examples
    --------
    >>> data = read_dares_series("effectifs_3niv.csv")  # doctest: +SKIP
    >>> data.meta["moving_average"]  # doctest: +SKIP
    3
    """
    path = Path(path)
    if path.is_dir():
        raise FormatError(f"{path}: is a folder, not a DARES table")
    try:
        df = read_table(path)
    except InputFileError as exc:
        raise FormatError(str(exc)) from exc
    file = path.name
    ledger = RowLedger()
    ledger.read(file, len(df))
    lower = {c.lower().strip(): c for c in df.columns}
    lab = _labels_from(df)
    if labels is not None:
        lab = {**lab, **_labels_from(read_table(labels))}
    else:
        lab = {**lab, **_sibling_labels(path)}
    meta: dict = {
        "source": str(path),
        "format": "dares",
        "encoding": df.attrs.get("encoding"),
        "separator": df.attrs.get("sep"),
        "moving_average": None,
    }
    employment = workforce_age = None
    extra: dict = {}
    fap_cols = [c for c in df.columns if _FAP.fullmatch(c)]

    if "annee" in lower and fap_cols and "fap" not in lower:  # wide yearly series
        meta.update(
            layout="wide_series",
            moving_average=3,
            moving_average_note="3-year moving averages; period = centre year",
        )
        scale = 1000.0 if scale is None else scale
        year = df[lower["annee"]].astype(str).str.strip()
        bad = ~year.str.fullmatch(r"\d{4}")
        ledger.reject("employment", file, df.index[bad], lower["annee"], year[bad], "not a year")
        wide = df[~bad.to_numpy()]
        long = wide.melt(
            id_vars=[lower["annee"]],
            value_vars=fap_cols,
            var_name="occupation",
            value_name="raw",
            ignore_index=False,
        )
        long["row"] = long.index
        raw = long["raw"].astype(object).where(long["raw"].notna(), "").astype(str).str.strip()
        missing = raw.isin(_NA)
        value = pd.to_numeric(raw.where(~missing), errors="coerce")
        unreadable = ~missing & (value.isna() | (value < 0))
        if unreadable.any():  # a cell, not a row: reported in meta, row still kept
            meta["unreadable_cells"] = long.loc[unreadable.to_numpy(), ["row", "occupation", "raw"]]
        meta["missing_cells"] = int(missing.sum())
        ok = (~missing & ~unreadable).to_numpy()
        employment = pd.DataFrame(
            {
                "territory": "FR",
                "occupation": long["occupation"].to_numpy()[ok],
                "period": long[lower["annee"]].astype("int64").to_numpy()[ok],
                "value": value.to_numpy()[ok] * scale,
            }
        )
        employment = employment.sort_values(["occupation", "period"]).reset_index(drop=True)
        ledger.keep(file, len(wide))
        occ_codes = employment["occupation"]
    elif "fap" in lower and ({"tr_age", "age"} & set(lower)):  # age structure
        fap = (
            df[lower["fap"]]
            .astype(str)
            .str.strip()
            .replace({"Ensemble": "ENS", "ENSEMBLE": "ENS", "ENSEM": "ENS"})
        )
        age_col = lower.get("tr_age") or lower["age"]
        value_col = next(
            (
                lower[c]
                for c in lower
                if c.startswith("annee_") or c in ("effectif", "effectif_age")
            ),
            None,
        )
        if value_col is None:
            raise FormatError(f"{path}: age file without a count column (effectif, annee_...)")
        per_col = next((lower[c] for c in ("annee",) if c in lower), None)
        scale = 1000.0 if scale is None else scale
        meta.update(layout="age_structure")
        keep = pd.Series(True, index=df.index)
        if per_col is not None:
            periods = df[per_col].astype(str).str.strip()
            chosen = str(period) if period is not None else sorted(set(periods))[-1]
            other = periods.ne(chosen)
            ledger.reject(
                "workforce_age",
                file,
                df.index[other],
                per_col,
                periods[other],
                f"period not selected (period={chosen!r})",
            )
            keep &= ~other
            meta["period"] = chosen
        else:
            meta["period"] = re.sub(r"^annee_", "", value_col.lower()).replace("_", "-")
        badfap = keep & ~fap.map(lambda c: bool(_FAP.fullmatch(c)))
        ledger.reject(
            "workforce_age",
            file,
            df.index[badfap],
            lower["fap"],
            fap[badfap],
            "not a FAP 2009 code",
        )
        keep &= ~badfap
        bands = df[age_col].map(lambda b: _try(normalize_age_band, b))
        badband = keep & bands.isna()
        ledger.reject(
            "workforce_age",
            file,
            df.index[badband],
            age_col,
            df.loc[badband, age_col],
            "unreadable age band",
        )
        keep &= ~badband
        raw = df[value_col].astype(object).where(df[value_col].notna(), "").astype(str)
        value = pd.to_numeric(raw.where(~raw.isin(_NA)), errors="coerce")
        badv = keep & (value.isna() | (value < 0))
        ledger.reject(
            "workforce_age", file, df.index[badv], value_col, raw[badv], "missing or negative count"
        )
        keep &= ~badv
        workforce_age = pd.DataFrame(
            {
                "territory": "FR",
                "occupation": fap[keep],
                "age_band": bands[keep],
                "value": value[keep] * scale,
            }
        )
        workforce_age = ledger.keep_unique(
            "workforce_age",
            file,
            workforce_age,
            ["territory", "occupation", "age_band"],
            lower["fap"],
            "occupation",
        )
        occ_codes = workforce_age["occupation"]
    elif "fap" in lower and "emploi moyen" in lower and "niveau_geo" in lower:  # tensions
        scale = 1.0 if scale is None else scale
        meta.update(layout="tensions")
        fap = df[lower["fap"]].astype(str).str.strip()
        geo = df[lower["niveau_geo"]].astype(str).str.strip()
        terr = _territory(
            geo,
            df[lower["reg"]] if "reg" in lower else pd.Series(None, index=df.index, dtype=object),
            df[lower["dep"]] if "dep" in lower else pd.Series(None, index=df.index, dtype=object),
        )
        year_col = next((lower[c] for c in lower if c in ("année", "annee")), None)
        year = (
            pd.to_numeric(df[year_col], errors="coerce")
            if year_col
            else pd.Series(np.nan, index=df.index)
        )
        value = pd.to_numeric(df[lower["emploi moyen"]], errors="coerce")
        keep = pd.Series(True, index=df.index)
        for mask, col, reason in (
            (~fap.map(lambda c: bool(_FAP.fullmatch(c))), lower["fap"], "not a FAP code"),
            (~geo.isin(["nat", "reg", "dep"]), lower["niveau_geo"], "unknown niveau_geo"),
            (terr.isin(["", "R00"]), lower["niveau_geo"], "territory code missing"),
            (year.isna(), year_col or "annee", "no year"),
            (value.isna() | (value < 0), lower["emploi moyen"], "missing employment"),
        ):
            m = keep & mask
            ledger.reject(
                "employment",
                file,
                df.index[m],
                col,
                df.loc[m, col] if col in df else [""] * int(m.sum()),
                reason,
            )
            keep &= ~m
        employment = pd.DataFrame(
            {
                "territory": terr[keep],
                "occupation": fap[keep],
                "period": year[keep].astype("int64"),
                "value": value[keep] * scale,
            }
        )
        employment = ledger.keep_unique(
            "employment",
            file,
            employment,
            ["territory", "occupation", "period"],
            lower["fap"],
            "occupation",
        )
        ind = df.loc[employment.index].drop(columns=[c for c in (lower["fap"],) if c])
        extra["tensions"] = pd.concat(
            [employment[["territory", "occupation", "period"]], ind], axis=1
        ).reset_index(drop=True)
        occ_codes = employment["occupation"]
    elif "fap" in lower and "libelle" in lower:  # label table
        meta.update(layout="fap_labels")
        fap = (
            df[lower["fap"]]
            .astype(str)
            .str.strip()
            .replace({"Ensemble": "ENS", "ENSEMBLE": "ENS", "ENSEM": "ENS"})
        )
        bad = ~fap.map(lambda c: bool(_FAP.fullmatch(c)))
        ledger.reject(
            "occupations", file, df.index[bad], lower["fap"], fap[bad], "not a FAP 2009 code"
        )
        ledger.keep(file, int((~bad).sum()))
        occ_codes = fap[~bad]
    else:
        raise FormatError(
            f"{path}: not a DARES portrait table (expected 'Annee' + FAP columns, "
            f"'fap' + age columns, or tensions columns; found {list(df.columns)[:8]})"
        )

    occupations = _occupations(occ_codes, lab)
    terr_codes = set()
    for t in (employment, workforce_age):
        if t is not None:
            terr_codes |= set(t["territory"])
    territories = _territories(terr_codes)
    meta["unit"] = f"jobs (file value x {scale:g})" if scale is not None else None
    meta["row_accounting"] = ledger.checked_accounting()
    sources = {t: str(path) for t in ("employment", "workforce_age", "occupations")}
    return GpecData(
        territories=territories,
        occupations=occupations,
        employment=employment,
        workforce_age=workforce_age,
        sources=sources,
        rejected=ledger.frame(),
        meta=meta,
        extra=extra,
    )


def _territories(codes: set) -> pd.DataFrame:
    rows = [("FR", "France", "nation", None)]
    regions = sorted(c for c in codes if c.startswith("R"))
    rows += [(c, f"Région {c[1:]}", "region", "FR") for c in regions]
    deps = sorted(c for c in codes if c != "FR" and not c.startswith("R"))
    rows += [(c, f"Département {c}", "departement", "FR") for c in deps]
    return pd.DataFrame(rows, columns=["territory", "label", "level", "parent"]).astype(
        {"parent": object}
    )


def _try(func, value):
    try:
        return func(value)
    except (ValueError, TypeError):
        return None
