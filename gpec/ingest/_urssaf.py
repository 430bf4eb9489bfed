"""Read the URSSAF open data on private-sector establishments and salaried employment.

One family of files (open.urssaf.fr), several cuts, told apart by their columns:

* **wide** (``etablissements-et-effectifs-salaries-au-niveau-<territory>-x-<sector>-last``):
  one row per territory x sector, then per year ``Nombre d'établissements YYYY`` and
  ``Effectifs salariés YYYY`` (CSV export with labels) or ``nombre_d_etablissements_YYYY`` and
  ``effectifs_salaries_YYYY`` (API field names). Cuts: commune x APE, EPCI x NA17 / NA38 /
  NA88, zone d'emploi, département or région x sector;
* **long** (``nombre-etab-effectifs-salaries-et-masse-salariale-secteur-prive-<cut>``): one row per
  territory x sector x year, columns ``annee`` / ``Année``, ``nombre_d_etablissements``,
  ``effectifs_salaries_moyens`` (and ``masse_salariale``, not read).

The territory of a row is its finest code column (``Code commune`` > ``Code EPCI`` >
``Code zone d'emploi`` > ``Code département`` > ``Code région``; none: France), its sector the
finest sector column (``Code APE`` > ``Secteur NA88`` > ``Secteur NA38`` > ``Secteur NA17`` >
``Grand secteur d'activité``); sector label columns carry the code in front
(``FZ Construction``).

An empty cell is **not 0**: URSSAF leaves a cell empty when there was no establishment that year
*or* when the figure is under statistical secrecy, and does not say which. Empty cells are kept
as null with their reason in the extra table ``cells``; the canonical ``employment`` table holds
the published cells only, so that no forecast or sum ever reads an unknown cell as 0.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec._schema import to_number
from gpec.ingest._errors import (
    FormatError,
    RowLedger,
    check_pattern,
    read_source_table,
    require_file,
)
from gpec.ingest._headers import header_key as _norm
from gpec.referentials import CODE_PATTERNS

__all__ = ["read_urssaf", "SECTOR_LEVELS", "TERRITORY_LEVELS", "MISSING_REASONS"]

#: Sector levels of the URSSAF files, finest first (APE = NAF rév. 2 sub-class).
SECTOR_LEVELS: tuple[str, ...] = ("ape", "na88", "na38", "na17", "gs")

#: Territory levels of the URSSAF files, finest first.
TERRITORY_LEVELS: tuple[str, ...] = ("commune", "epci", "zone_emploi", "departement", "region")

#: Why a cell of the ``cells`` table is null.
MISSING_REASONS = {
    "empty": "empty in the file: no establishment that year, or statistical secrecy "
    "(URSSAF does not say which)",
    "secret": "employment not published although establishments are: statistical secrecy",
    "unreadable": "value not readable as a number >= 0",
    "all_empty": "every cell of this aggregate is empty in the file (no establishment or "
    "statistical secrecy)",
}

# normalised column names (accents removed, lower case, non-alphanumerics -> "_")
_TERR_CODE = {
    "commune": ("code_commune",),
    "epci": ("code_epci",),
    "zone_emploi": ("code_zone_d_emploi", "code_zone_emploi"),
    "departement": ("code_departement",),
    "region": ("code_region",),
}
_TERR_LABEL = {
    "commune": ("nom_commune", "intitule_commune", "commune"),
    "epci": ("epci", "intitule_epci"),
    "zone_emploi": ("zone_d_emploi", "zone_emploi"),
    "departement": ("departement",),
    "region": ("region",),
}
_TERR_SYSTEM = {
    "commune": ("COMMUNE", 5),
    "epci": ("EPCI", 9),
    "zone_emploi": ("ZE2020", 4),
    "departement": ("DEPARTEMENT", 2),
    "region": ("REGION", 2),
}
# sector level -> (code column, label column(s) "CODE label")
_SECTOR_COLS = {
    "ape": (("code_ape",), ("ape", "intitule_ape")),
    "na88": (("code_secteur_na88", "code_na88"), ("secteur_na88", "secteur_na88i", "na88")),
    "na38": (("code_secteur_na38", "code_na38"), ("secteur_na38", "secteur_na38i", "na38")),
    "na17": (("code_secteur_na17", "code_na17"), ("secteur_na17", "secteur_na17i", "na17")),
    "gs": (("code_grand_secteur",), ("grand_secteur_d_activite", "grand_secteur")),
}
_SECTOR_PATTERN = {
    "ape": r"\d{4}[A-Z]",
    "na88": r"\d{2}",
    "na38": r"[A-U][A-Z]",
    "na17": r"[A-U][A-Z0-9]",
    "gs": r"GS\d",
}
#: Code system of each sector level in the ``sector_crosswalk`` table.
SECTOR_SYSTEMS = {"ape": "NAF2", "na88": "NA88", "na38": "NA38", "na17": "NA17", "gs": "GS"}
_WIDE = re.compile(r"(nombre_d_etablissements|effectifs_salaries)_(\d{4})")
_EMP_LONG = ("effectifs_salaries_moyens", "effectifs_salaries")
_EST_LONG = ("nombre_d_etablissements", "nombre_etablissements")


def _first(cols: dict[str, str], names) -> str | None:
    return next((cols[n] for n in names if n in cols), None)


def _text(s: pd.Series) -> pd.Series:
    out = s.astype(object).where(s.notna(), "").astype(str).str.strip()
    return out.str.replace(r"\.0$", "", regex=True)


def _split_label(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``"FZ Construction"`` -> (``"FZ"``, ``"Construction"``)."""
    parts = _text(s).str.extract(r"^(\S+)\s+(.*)$")
    code = parts[0].fillna(_text(s))
    return code, parts[1].fillna("")


def _strip_code(label: pd.Series, code: pd.Series) -> pd.Series:
    """Drop a leading ``code`` from a label (``"76005 Amfreville"`` -> ``"Amfreville"``)."""
    lab = _text(label)
    starts = [bool(c) and x.startswith(c + " ") for x, c in zip(lab, code, strict=True)]
    out = lab.copy()
    out[starts] = [x[len(c) + 1 :] for x, c in zip(lab[starts], code[starts], strict=True)]
    return out


def _codes(df: pd.DataFrame, cols: dict[str, str]) -> tuple[dict, dict, dict, dict]:
    """Territory and sector codes and labels present in the file, by level."""
    t_code, t_label, s_code, s_label = {}, {}, {}, {}
    for level in TERRITORY_LEVELS:
        col = _first(cols, _TERR_CODE[level])
        if col is None:
            continue
        width = _TERR_SYSTEM[level][1]
        code = _text(df[col])
        code = code.where(~code.str.fullmatch(r"\d+"), code.str.zfill(width))
        t_code[level] = code
        lab_col = _first(cols, _TERR_LABEL[level])
        t_label[level] = _strip_code(df[lab_col], code) if lab_col else code
    for level in SECTOR_LEVELS:
        code_cols, label_cols = _SECTOR_COLS[level]
        code_col, lab_col = _first(cols, code_cols), _first(cols, label_cols)
        if code_col is None and lab_col is None:
            continue
        if code_col is not None:
            code = _text(df[code_col]).str.replace(".", "", regex=False).str.upper()
            label = _strip_code(df[lab_col], code) if lab_col else code
        else:
            code, label = _split_label(df[lab_col])
            code = code.str.replace(".", "", regex=False).str.upper()
        if level == "na88":
            code = code.where(~code.str.fullmatch(r"\d"), code.str.zfill(2))
        s_code[level], s_label[level] = code, label
    return t_code, t_label, s_code, s_label


def _labels(code: pd.Series, label: pd.Series) -> dict[str, str]:
    frame = pd.DataFrame({"c": code.to_numpy(), "l": label.to_numpy()})
    frame = frame[frame["c"].ne("")].sort_values(["c", "l"])
    return frame.drop_duplicates("c").set_index("c")["l"].to_dict()


def _parents(child: pd.Series, parent: pd.Series) -> tuple[dict[str, str], list[str]]:
    """Most frequent parent of each child code; children seen with several parents."""
    frame = pd.DataFrame({"c": child.to_numpy(), "p": parent.to_numpy()})
    frame = frame[frame["c"].ne("") & frame["p"].ne("")]
    counts = frame.groupby(["c", "p"]).size().reset_index(name="n")
    split = sorted(counts.loc[counts.duplicated("c", keep=False), "c"].unique())
    counts = counts.sort_values(["c", "n", "p"], ascending=[True, False, True])
    return counts.drop_duplicates("c").set_index("c")["p"].to_dict(), split


def read_urssaf(
    path: str | os.PathLike,
    *,
    sector_level: str | None = None,
    territory_level: str | None = None,
) -> GpecData:
    """Read an URSSAF file of establishments and private salaried employment.

    Parameters
    ----------
    path : str or path-like
        A CSV (or .xlsx) of the URSSAF family (commune x APE, EPCI x NA, département x sector...),
        wide years or long; ``;``/``,`` and the encoding are detected.
    sector_level : {"ape", "na88", "na38", "na17", "gs"}, optional
        Sum the cells up to this sector level (default: the file's finest level). The sector
        codes become the ``occupation`` codes of the canonical tables.
    territory_level : {"commune", "epci", "zone_emploi", "departement", "region"}, optional
        Sum the cells up to this territory level (default: the file's finest level).

    Returns
    -------
    GpecData
        * ``employment`` (territory, occupation, period, value): the **published** cells only
          (a sum over the published member cells when aggregated);
        * ``occupations``: the sectors of ``sector_level`` with their labels (``system`` NAF2,
          NA88, NA38, NA17 or GS);
        * ``territories``: the territories of the file with their labels and parents, from
          ``territory_level`` up to the région and France (commune -> EPCI -> zone d'emploi ->
          département -> région when every EPCI lies in one zone d'emploi in the file, else
          commune -> EPCI -> département, the zone d'emploi kept in ``memberships``);
        * extra tables ``cells`` (territory, occupation, period, employment, establishments,
          n_cells, unknown_cells, reason: every cell, null where unknown, with the reason),
          ``establishments`` (published establishment counts, long like ``employment``),
          ``sectors`` (sector, label, level, parent, parent_level: the APE > NA88 > NA38 >
          NA17 > grand secteur tree), ``sector_crosswalk`` (canonical crosswalk columns, from
          the finest level to each coarser one, weight 1) and ``memberships`` (commune,
          level, territory);
        * ``meta``: ``layout``, ``file_territory_level``, ``file_sector_level``, ``years``,
          ``empty_cells``, ``secret_cells``, ``interim_jobs`` (jobs of the intérim
          sector, APE 7820Z, by year), ``row_accounting`` and the rules used.

    Raises
    ------
    FormatError
        When the file has no URSSAF employment columns, or a level is not in the file.

    Notes
    -----
    Totals over several cells (an EPCI, a NA38 sector, the whole zone) are the sums of the
    **published** cells; ``unknown_cells`` counts the member cells that were empty. An
    aggregate whose member cells are all empty is null (reason ``all_empty``), never 0.

    Examples
    --------
    >>> data = read_urssaf("etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last.csv",
    ...                    sector_level="na38", territory_level="epci")  # doctest: +SKIP
    >>> data.employment.groupby("period")["value"].sum().loc[2022]  # doctest: +SKIP
    183731.0
    """
    path = Path(path)
    require_file(path, "an URSSAF CSV file")
    df = read_source_table(path)
    file = path.name
    cols = {_norm(c): c for c in df.columns}
    ledger = RowLedger()
    ledger.read(file, len(df))
    lay = _layout(path, df, cols)
    t_code, t_label, s_code, s_label = _codes(df, cols)
    lv = _levels(path, t_code, s_code, sector_level, territory_level)
    keep = _check_rows(df, file, cols, ledger, lay, lv, t_code, s_code)
    rows, period, emp_raw, est_raw, idx, years = _raw_cells(df, keep, lay)
    emp, emp_empty, emp_bad = _number(emp_raw)
    est, est_empty, est_bad = _number(est_raw)
    secret = emp_empty & ~est_empty & ~est_bad
    reason = np.full(len(emp), None, dtype=object)
    reason[emp_empty] = "empty"
    reason[secret] = "secret"
    reason[emp_bad] = "unreadable"
    cells = pd.DataFrame(
        {
            "row": rows,
            "territory": _territory_codes(t_code, lv.territory, df.index).to_numpy()[idx],
            "occupation": s_code[lv.sector].to_numpy()[idx],
            "period": period,
            "employment": emp,
            "establishments": est,
            "reason": reason,
        }
    )
    unreadable = cells[emp_bad | est_bad]
    meta = _meta(path, df, lay.layout, lv, years, len(cells), emp_empty, secret, unreadable)
    if "ape" in s_code:
        interim = s_code["ape"].to_numpy()[idx] == "7820Z"
        if interim.any():
            meta["interim_jobs"] = {
                int(y): float(v)
                for y, v in pd.Series(emp[interim]).groupby(period[interim]).sum().items()
            }
    finest = (lv.territory == lv.file_t) and (lv.sector == lv.file_s)
    cells, employment, establishments = _cell_tables(cells, emp, finest)
    sectors, crosswalk, split_codes = _sectors(s_code, s_label, keep)
    if split_codes:
        meta["sectors_with_several_parents"] = split_codes
    territories, memberships, chain = _territories(t_code, t_label, keep, lv.territory)
    meta["territory_chain"] = chain
    if "epci" in t_code and "commune" in t_code:
        meta["epci_note"] = (
            "EPCI totals cover the communes present in the file only (an extract of one zone "
            "d'emploi holds the part of each EPCI inside that zone)"
        )
    meta["row_accounting"] = ledger.checked_accounting()
    return GpecData(
        territories=territories,
        occupations=_occupations(sectors, lv.sector),
        employment=employment,
        rejected=ledger.frame(),
        meta=meta,
        sources={"employment": str(path), "territories": str(path), "occupations": str(path)},
        extra={
            "cells": cells,
            "establishments": establishments,
            "sectors": sectors,
            "sector_crosswalk": crosswalk,
            "memberships": memberships,
        },
    )


class _Layout(NamedTuple):
    """How a file holds its years: ``wide`` (one column per year) or ``long``."""

    layout: str
    years: list[int]
    wide: dict  # (kind, year) -> column
    year_col: str | None
    emp_long: str | None
    est_long: str | None


class _Levels(NamedTuple):
    """The file's own territory and sector levels, and those asked for."""

    file_t: str
    file_s: str
    territory: str
    sector: str


def _layout(path: Path, df: pd.DataFrame, cols: dict[str, str]) -> _Layout:
    """Tell the wide layout from the long one; a file of neither is not an URSSAF file."""
    wide = {m.groups(): c for n, c in cols.items() if (m := _WIDE.fullmatch(n))}
    emp_long, est_long = _first(cols, _EMP_LONG), _first(cols, _EST_LONG)
    year_col = _first(cols, ("annee",))
    if any(k[0] == "effectifs_salaries" for k in wide):
        layout = "wide"
        years = sorted({int(y) for kind, y in wide if kind == "effectifs_salaries"})
    elif year_col is not None and emp_long is not None:
        layout = "long"
        years = []
    else:
        raise FormatError(
            f"{path}: not an URSSAF establishments/employment file (no 'Effectifs salariés "
            f"YYYY' columns, nor 'annee' + 'effectifs_salaries_moyens'; found "
            f"{list(df.columns)[:8]}...)"
        )
    return _Layout(layout, years, wide, year_col, emp_long, est_long)


def _levels(
    path: Path, t_code: dict, s_code: dict, sector_level: str | None, territory_level: str | None
) -> _Levels:
    """The file's finest levels and the levels asked for (default: the file's), checked."""
    file_t = next((lv for lv in TERRITORY_LEVELS if lv in t_code), "nation")
    file_s = next((lv for lv in SECTOR_LEVELS if lv in s_code), None)
    if file_s is None:
        raise FormatError(f"{path}: no sector column (Code APE, Secteur NA88/NA38/NA17...)")
    sector_level = sector_level or file_s
    territory_level = territory_level or file_t
    if sector_level not in SECTOR_LEVELS or sector_level not in s_code:
        raise FormatError(
            f"{path}: sector_level {sector_level!r} not in the file "
            f"(levels found: {[lv for lv in SECTOR_LEVELS if lv in s_code]})"
        )
    if territory_level != file_t and territory_level not in t_code:
        raise FormatError(
            f"{path}: territory_level {territory_level!r} not in the file "
            f"(levels found: {[lv for lv in TERRITORY_LEVELS if lv in t_code] or ['nation']})"
        )
    return _Levels(file_t, file_s, territory_level, sector_level)


def _check_rows(
    df: pd.DataFrame,
    file: str,
    cols: dict[str, str],
    ledger: RowLedger,
    lay: _Layout,
    lv: _Levels,
    t_code: dict,
    s_code: dict,
) -> np.ndarray:
    """The rows kept: the file's own key valid and unique, the codes of the asked levels valid,
    a year in the long layout; the others rejected with their reason (the first they fail)."""
    file_t, file_s = lv.file_t, lv.file_s
    checks = []
    if file_t != "nation":
        system, _ = _TERR_SYSTEM[file_t]
        code = t_code[file_t]
        col = _first(cols, _TERR_CODE[file_t])
        checks.append(
            (~check_pattern(code, CODE_PATTERNS[system]), col, code, f"not a {file_t} code")
        )
    code = s_code[file_s]
    col = _first(cols, _SECTOR_COLS[file_s][0]) or _first(cols, _SECTOR_COLS[file_s][1])
    checks.append(
        (~check_pattern(code, _SECTOR_PATTERN[file_s]), col, code, f"not a {file_s.upper()} code")
    )
    if lv.territory != file_t:
        level = lv.territory
        system, _ = _TERR_SYSTEM[level]
        checks.append(
            (
                ~check_pattern(t_code[level], CODE_PATTERNS[system]),
                _first(cols, _TERR_CODE[level]),
                t_code[level],
                f"no valid {level} code (needed for territory_level={level!r})",
            )
        )
    if lv.sector != file_s:
        level = lv.sector
        checks.append(
            (
                ~check_pattern(s_code[level], _SECTOR_PATTERN[level]),
                _first(cols, _SECTOR_COLS[level][1]),
                s_code[level],
                f"no valid {level.upper()} code (needed for sector_level={level!r})",
            )
        )
    terr = t_code[file_t] if file_t != "nation" else pd.Series("FR", index=df.index)
    key = pd.DataFrame({"t": terr, "s": s_code[file_s]})
    if lay.layout == "long":
        year = _text(df[lay.year_col])
        checks.append((~year.str.fullmatch(r"\d{4}"), lay.year_col, year, "not a year"))
        key["y"] = year
    shown = key["t"].str.cat([key[c] for c in key.columns[1:]], sep="|")
    checks.append((key.duplicated(), "+".join(key.columns), shown, "duplicate key"))
    keep = ledger.reject_in_turn("employment", file, df.index, checks)
    ledger.keep(file, int(keep.sum()))
    return keep


def _raw_cells(df: pd.DataFrame, kept: np.ndarray, lay: _Layout) -> tuple:
    """One raw cell per kept row x year: (file row, period, employment and establishment
    cells as read, position of the row in ``df``, years)."""
    years, wide = lay.years, lay.wide
    if lay.layout == "wide":
        n, k = int(kept.sum()), len(years)
        emp_raw = np.column_stack([df[wide[("effectifs_salaries", str(y))]].to_numpy(object)[kept]
                                   for y in years])  # fmt: skip
        est_raw = np.column_stack(
            [
                df[wide[("nombre_d_etablissements", str(y))]].to_numpy(object)[kept]
                if ("nombre_d_etablissements", str(y)) in wide
                else np.full(n, None, dtype=object)
                for y in years
            ]
        )
        rows = np.repeat(df.index.to_numpy()[kept], k)
        period = np.tile(np.asarray(years, dtype="int64"), n)
        emp_raw, est_raw = emp_raw.reshape(-1), est_raw.reshape(-1)
        idx = np.repeat(np.flatnonzero(kept), k)
    else:
        rows = df.index.to_numpy()[kept]
        period = _text(df[lay.year_col]).to_numpy()[kept].astype("int64")
        emp_raw = df[lay.emp_long].to_numpy(object)[kept]
        est_raw = (
            df[lay.est_long].to_numpy(object)[kept]
            if lay.est_long is not None
            else np.full(len(rows), None, dtype=object)
        )
        idx = np.flatnonzero(kept)
        years = sorted(set(period.tolist()))
    return rows, period, emp_raw, est_raw, idx, years


def _number(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells -> (value, empty, unreadable); an unreadable or negative cell is NaN."""
    s = pd.Series(raw, dtype=object)
    empty = s.isna().to_numpy() | s.astype(str).str.strip().eq("").to_numpy()
    val = to_number(s.where(~empty)).to_numpy(dtype=float, copy=True)
    bad = ~empty & (np.isnan(val) | (val < 0))
    val[bad] = np.nan
    return val, empty, bad


def _territory_codes(t_code: dict, territory_level: str, index: pd.Index) -> pd.Series:
    """The gpec territory code of each row at ``territory_level`` (régions prefixed ``R``)."""
    if territory_level == "nation":
        return pd.Series("FR", index=index)
    if territory_level == "region":
        return "R" + t_code["region"]
    return t_code[territory_level]


def _meta(
    path: Path,
    df: pd.DataFrame,
    layout: str,
    lv: _Levels,
    years: list,
    n_cells: int,
    emp_empty: np.ndarray,
    secret: np.ndarray,
    unreadable: pd.DataFrame,
) -> dict:
    """The reader's meta: layout, levels, years, counts of empty, secret, unreadable cells."""
    meta: dict = {
        "source": str(path),
        "format": "urssaf",
        "layout": layout,
        "encoding": df.attrs.get("encoding"),
        "separator": df.attrs.get("sep"),
        "file_territory_level": lv.file_t,
        "file_sector_level": lv.file_s,
        "territory_level": lv.territory,
        "sector_level": lv.sector,
        "years": [int(y) for y in years],
        "cells": n_cells,
        "empty_cells": int(emp_empty.sum()),
        "secret_cells": int(secret.sum()),
        "unreadable_cells": len(unreadable),
        "missing_reasons": dict(MISSING_REASONS),
        "totals_rule": "totals are sums of the published cells; unknown_cells counts the "
        "member cells left empty by URSSAF (no establishment or secrecy); an aggregate with "
        "no published cell is null, never 0",
        "scope": "private sector, régime général, excluding agriculture (URSSAF)",
    }
    if len(unreadable):
        meta["unreadable_examples"] = unreadable.head(20)[["row", "territory", "occupation",
                                                           "period"]].to_dict("records")  # fmt: skip
    return meta


def _cell_tables(
    cells: pd.DataFrame, emp: np.ndarray, finest: bool
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cells summed to the asked levels (unless ``finest``), then the ``cells``, ``employment``
    (published cells) and ``establishments`` tables."""
    if finest:
        cells["n_cells"] = 1
        cells["unknown_cells"] = np.isnan(emp).astype(int)
    else:
        keys = ["territory", "occupation", "period"]
        cells["unknown"] = cells["employment"].isna().astype("int64")
        g = cells.groupby(keys, sort=True)
        agg = pd.DataFrame(
            {
                "employment": g["employment"].sum(min_count=1),
                "establishments": g["establishments"].sum(min_count=1),
                "n_cells": g.size(),
                "unknown_cells": g["unknown"].sum(),
                "row": g["row"].min(),
            }
        ).reset_index()
        agg["reason"] = np.where(agg["employment"].isna(), "all_empty", None)
        cells = agg
    cells = cells.sort_values(["territory", "occupation", "period"]).reset_index(drop=True)
    known = cells["employment"].notna()
    employment = cells.loc[known, ["territory", "occupation", "period", "employment"]].rename(
        columns={"employment": "value"}
    )
    employment.index = cells.loc[known, "row"].to_numpy()
    employment.index.name = "row"
    has_est = cells["establishments"].notna()
    establishments = cells.loc[has_est, ["territory", "occupation", "period", "establishments"]]
    establishments = establishments.rename(columns={"establishments": "value"}).reset_index(
        drop=True
    )
    cells = cells[
        [
            "territory",
            "occupation",
            "period",
            "employment",
            "establishments",
            "n_cells",
            "unknown_cells",
            "reason",
        ]
    ]
    return cells, employment, establishments


def _sectors(
    s_code: dict, s_label: dict, keep: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The sector tree (sector, label, level, parent, parent_level), the crosswalk from the
    finest level to each coarser one, and the sectors with several parents."""
    levels = [lv for lv in SECTOR_LEVELS if lv in s_code]
    sec_rows, cw_rows, split_codes = [], [], {}
    for i, lv in enumerate(levels):
        codes = s_code[lv][keep]
        labels = _labels(codes, s_label[lv][keep])
        parent_lv = levels[i + 1] if i + 1 < len(levels) else None
        parents = {}
        if parent_lv is not None:
            parents, split = _parents(codes, s_code[parent_lv][keep])
            if split:
                split_codes[lv] = split
        for c in sorted(labels):
            sec_rows.append((c, labels[c], lv, parents.get(c), parent_lv))
    sectors = pd.DataFrame(sec_rows, columns=["sector", "label", "level", "parent", "parent_level"])
    for lv in levels[1:]:
        pairs = pd.DataFrame({"s": s_code[levels[0]][keep], "t": s_code[lv][keep]})
        pairs = pairs.drop_duplicates().sort_values(["s", "t"])
        for s, t in zip(pairs["s"], pairs["t"], strict=True):
            cw_rows.append((SECTOR_SYSTEMS[levels[0]], s, SECTOR_SYSTEMS[lv], t))
    crosswalk = pd.DataFrame(
        cw_rows, columns=["source_system", "source", "target_system", "target"]
    )
    crosswalk["weight"] = 1.0 / crosswalk.groupby(["source_system", "source", "target_system"])[
        "target"
    ].transform("size")
    return sectors, crosswalk, split_codes


def _occupations(sectors: pd.DataFrame, sector_level: str) -> pd.DataFrame:
    """The sectors of ``sector_level`` as the canonical ``occupations`` table."""
    occ = sectors[sectors["level"] == sector_level]
    return pd.DataFrame(
        {
            "occupation": occ["sector"].to_numpy(),
            "label": occ["label"].to_numpy(),
            "system": SECTOR_SYSTEMS[sector_level],
            "parent": None,
        }
    ).astype({"parent": object})


def _territories(
    t_code: dict, t_label: dict, keep: np.ndarray, territory_level: str
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Territories (with parents) and commune memberships found in the file."""
    levels = [lv for lv in TERRITORY_LEVELS if lv in t_code]
    if territory_level in levels:
        levels = levels[levels.index(territory_level) :]
    else:  # national file
        levels = []
    chain = list(levels)
    # a zone d'emploi sits above the EPCI only when every EPCI lies in one zone in the file
    if "epci" in chain and "zone_emploi" in chain:
        _, split = _parents(t_code["epci"][keep], t_code["zone_emploi"][keep])
        if split:
            chain.remove("zone_emploi")
    rows = [("FR", "France", "nation", None)]
    for lv in levels:
        codes = t_code[lv][keep]
        ok = check_pattern(codes, CODE_PATTERNS[_TERR_SYSTEM[lv][0]])
        labels = _labels(codes[ok], t_label[lv][keep][ok])
        if lv in chain:
            pos = chain.index(lv)
            parent_lv = chain[pos + 1] if pos + 1 < len(chain) else None
        else:  # zone d'emploi off the chain: under the département
            parent_lv = next((x for x in ("departement", "region") if x in levels), None)
        parents: dict[str, str] = {}
        if parent_lv is not None:
            pcodes = t_code[parent_lv][keep]
            pok = ok & check_pattern(pcodes, CODE_PATTERNS[_TERR_SYSTEM[parent_lv][0]])
            parents, _ = _parents(codes[pok], pcodes[pok])
            if parent_lv == "region":
                parents = {c: f"R{p}" for c, p in parents.items()}
        for c in sorted(labels):
            code = f"R{c}" if lv == "region" else c
            rows.append((code, labels[c], lv, parents.get(c, "FR")))
    territories = pd.DataFrame(rows, columns=["territory", "label", "level", "parent"])
    territories["parent"] = territories["parent"].astype(object)
    members = []
    if "commune" in t_code:
        com = t_code["commune"][keep]
        for lv in ("epci", "zone_emploi", "departement"):
            if lv in t_code:
                grp = t_code[lv][keep]
                ok = check_pattern(grp, CODE_PATTERNS[_TERR_SYSTEM[lv][0]])
                members.append(
                    pd.DataFrame({"commune": com[ok], "level": lv, "territory": grp[ok]})
                )
    memberships = (
        pd.concat(members, ignore_index=True).drop_duplicates().sort_values(["commune", "level"])
        if members
        else pd.DataFrame(columns=["commune", "level", "territory"])
    ).reset_index(drop=True)
    return territories, memberships, chain + ["nation"]
