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
from gpec.ingest._errors import (
    FormatError,
    RowLedger,
    check_pattern,
    read_source_table,
    reader_data,
)
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
    df = read_source_table(path)
    ledger = RowLedger()
    ledger.read(path.name, len(df))
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
    layout = _Layout(path, df, ledger, meta)
    reader = _LAYOUTS[_detect_layout(layout)]
    tables, occ_codes, scale = reader(layout, scale=scale, period=period)
    terr_codes = set()
    for t in (tables.get("employment"), tables.get("workforce_age")):
        if t is not None:
            terr_codes |= set(t["territory"])
    meta["unit"] = f"jobs (file value x {scale:g})" if scale is not None else None
    return reader_data(
        path,
        ledger,
        meta,
        ("employment", "workforce_age", "occupations"),
        territories=_territories(terr_codes),
        occupations=_occupations(occ_codes, lab),
        employment=tables.get("employment"),
        workforce_age=tables.get("workforce_age"),
        extra=tables.get("extra", {}),
    )


class _Layout:
    """One DARES table being read: the frame, its columns by lower-case name, the row ledger."""

    def __init__(self, path: Path, df: pd.DataFrame, ledger: RowLedger, meta: dict):
        self.path, self.df, self.ledger, self.meta = path, df, ledger, meta
        self.file = path.name
        self.lower = {c.lower().strip(): c for c in df.columns}
        self.fap_cols = [c for c in df.columns if _FAP.fullmatch(c)]


def _detect_layout(t: _Layout) -> str:
    """Name of the layout of the table (see the module docstring), from its header."""
    lower = t.lower
    if "annee" in lower and t.fap_cols and "fap" not in lower:
        return "wide_series"
    if "fap" in lower and ({"tr_age", "age"} & set(lower)):
        return "age_structure"
    if "fap" in lower and "emploi moyen" in lower and "niveau_geo" in lower:
        return "tensions"
    if "fap" in lower and "libelle" in lower:
        return "fap_labels"
    raise FormatError(
        f"{t.path}: not a DARES portrait table (expected 'Annee' + FAP columns, "
        f"'fap' + age columns, or tensions columns; found {list(t.df.columns)[:8]})"
    )


def _fap_codes(values: pd.Series) -> pd.Series:
    """FAP codes as text, the "Ensemble" row coded ``ENS``."""
    return (
        values.astype(str)
        .str.strip()
        .replace({"Ensemble": "ENS", "ENSEMBLE": "ENS", "ENSEM": "ENS"})
    )


def _unique_rows(t: _Layout, table: str, **columns) -> pd.DataFrame:
    """The rows of ``table``; a row repeating the key (every column but ``value``) is rejected."""
    frame = pd.DataFrame(columns)
    key = [c for c in frame.columns if c != "value"]
    return t.ledger.keep_unique(table, t.file, frame, key, t.lower["fap"], "occupation")


def _wide_series(t: _Layout, *, scale: float | None, period) -> tuple[dict, pd.Series, float]:
    """``Annee`` + one column per FAP: national employment, 3-year moving averages."""
    df, lower, meta = t.df, t.lower, t.meta
    meta.update(
        layout="wide_series",
        moving_average=3,
        moving_average_note="3-year moving averages; period = centre year",
    )
    scale = 1000.0 if scale is None else scale
    year = df[lower["annee"]].astype(str).str.strip()
    bad = ~year.str.fullmatch(r"\d{4}")
    t.ledger.reject("employment", t.file, df.index[bad], lower["annee"], year[bad], "not a year")
    wide = df[~bad.to_numpy()]
    long = wide.melt(
        id_vars=[lower["annee"]],
        value_vars=t.fap_cols,
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
    t.ledger.keep(t.file, len(wide))
    return {"employment": employment}, employment["occupation"], scale


def _age_structure(t: _Layout, *, scale: float | None, period) -> tuple[dict, pd.Series, float]:
    """``fap`` + age band + a count: the workforce by age band for one period."""
    df, lower, meta = t.df, t.lower, t.meta
    fap = _fap_codes(df[lower["fap"]])
    age_col = lower.get("tr_age") or lower["age"]
    value_col = next(
        (lower[c] for c in lower if c.startswith("annee_") or c in ("effectif", "effectif_age")),
        None,
    )
    if value_col is None:
        raise FormatError(f"{t.path}: age file without a count column (effectif, annee_...)")
    scale = 1000.0 if scale is None else scale
    meta.update(layout="age_structure")
    checks = []
    if "annee" in lower:
        periods = df[lower["annee"]].astype(str).str.strip()
        chosen = str(period) if period is not None else sorted(set(periods))[-1]
        reason = f"period not selected (period={chosen!r})"
        checks.append((periods.ne(chosen), lower["annee"], periods, reason))
        meta["period"] = chosen
    else:
        meta["period"] = re.sub(r"^annee_", "", value_col.lower()).replace("_", "-")
    bands = df[age_col].map(lambda b: _try(normalize_age_band, b))
    raw = df[value_col].astype(object).where(df[value_col].notna(), "").astype(str)
    value = pd.to_numeric(raw.where(~raw.isin(_NA)), errors="coerce")
    checks += [
        (~check_pattern(fap, _FAP.pattern), lower["fap"], fap, "not a FAP 2009 code"),
        (bands.isna(), age_col, df[age_col], "unreadable age band"),
        (value.isna() | (value < 0), value_col, raw, "missing or negative count"),
    ]
    keep = t.ledger.reject_in_turn("workforce_age", t.file, df.index, checks)
    workforce_age = _unique_rows(
        t,
        "workforce_age",
        territory="FR",
        occupation=fap[keep],
        age_band=bands[keep],
        value=value[keep] * scale,
    )
    return {"workforce_age": workforce_age}, workforce_age["occupation"], scale


def _tensions(t: _Layout, *, scale: float | None, period) -> tuple[dict, pd.Series, float]:
    """``tensions.csv``: employment by FAP x territory, the indicators in extra ``tensions``."""
    df, lower = t.df, t.lower
    scale = 1.0 if scale is None else scale
    t.meta.update(layout="tensions")
    fap = df[lower["fap"]].astype(str).str.strip()
    geo = df[lower["niveau_geo"]].astype(str).str.strip()
    absent = pd.Series(None, index=df.index, dtype=object)
    reg, dep = (df[lower[c]] if c in lower else absent for c in ("reg", "dep"))
    terr = _territory(geo, reg, dep)
    year_col = next((lower[c] for c in lower if c in ("année", "annee")), None)
    year = (
        pd.to_numeric(df[year_col], errors="coerce")
        if year_col
        else pd.Series(np.nan, index=df.index)
    )
    value = pd.to_numeric(df[lower["emploi moyen"]], errors="coerce")
    geo_col, value_col = lower["niveau_geo"], lower["emploi moyen"]
    keep = t.ledger.reject_in_turn(
        "employment",
        t.file,
        df.index,
        [
            (~check_pattern(fap, _FAP.pattern), lower["fap"], df[lower["fap"]], "not a FAP code"),
            (~geo.isin(["nat", "reg", "dep"]), geo_col, df[geo_col], "unknown niveau_geo"),
            (terr.isin(["", "R00"]), geo_col, df[geo_col], "territory code missing"),
            (year.isna(), year_col or "annee", df[year_col] if year_col else None, "no year"),
            (value.isna() | (value < 0), value_col, df[value_col], "missing employment"),
        ],
    )
    employment = _unique_rows(
        t,
        "employment",
        territory=terr[keep],
        occupation=fap[keep],
        period=year[keep].astype("int64"),
        value=value[keep] * scale,
    )
    indicators = df.loc[employment.index].drop(columns=[lower["fap"]])
    tensions = pd.concat(
        [employment[["territory", "occupation", "period"]], indicators], axis=1
    ).reset_index(drop=True)
    tables = {"employment": employment, "extra": {"tensions": tensions}}
    return tables, employment["occupation"], scale


def _fap_labels(t: _Layout, *, scale: float | None, period) -> tuple[dict, pd.Series, float]:
    """The FAP label table: occupations only."""
    df, lower = t.df, t.lower
    t.meta.update(layout="fap_labels")
    fap = _fap_codes(df[lower["fap"]])
    bad = ~check_pattern(fap, _FAP.pattern)
    t.ledger.reject(
        "occupations", t.file, df.index[bad], lower["fap"], fap[bad], "not a FAP 2009 code"
    )
    t.ledger.keep(t.file, int((~bad).sum()))
    return {}, fap[~bad], scale


_LAYOUTS = {
    "wide_series": _wide_series,
    "age_structure": _age_structure,
    "tensions": _tensions,
    "fap_labels": _fap_labels,
}


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
