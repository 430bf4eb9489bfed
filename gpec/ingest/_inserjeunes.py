"""Read InserJeunes outcomes per training centre and turn them into completion / placement rates.

InserJeunes (DEPP / DARES) publishes, per apprenticeship centre (CFA, by UAI) and for two
cumulated school years (``cumul 2022-2023``), the share of final-year learners continuing their
studies (``Taux poursuite études``), the employment rate of the leavers at 6, 12, 18, 24 months
(``Taux emploi 6 mois`` ...), the expected rate and value added, and the share of apprenticeship
contracts interrupted. Rates are in percent in the file, fractions in gpec.

From outcomes to the rates of :func:`gpec.supply.entrants`
----------------------------------------------------------
gpec counts as *entrants* the trainees who leave a training each year and take a job:
``entrants = seats x completion_rate x placement_rate`` with

* ``completion_rate`` = 1 - share of apprenticeship contracts interrupted (when the file gives
  it for the centre), else the default of the diploma level;
* ``placement_rate`` = ``(1 - continuing_share) x employment_rate``: those continuing their
  studies are not entrants (they come back later, from a higher training), and of the leavers
  only those in employment at 6 months count.

The centre's own figures are used for **apprenticeship** offers whose UAI is in the file (latest
period with an employment rate); other offers take :data:`DEFAULT_OUTCOMES`, by status and RNCP
level (3 = CAP, 4 = bac pro, 5 = BTS), from published national figures (see
``docs/data-sources.md``); ``rate_source`` tells which.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec.ingest._errors import FormatError, RowLedger, check_pattern, require_file
from gpec.ingest._headers import header_key as _norm
from gpec.ingest._tables import read_table

__all__ = ["DEFAULT_OUTCOMES", "outcome_rates", "read_inserjeunes"]

#: Default outcomes by status and RNCP level (3 CAP, 4 bac pro, 5 BTS; ``level`` None = any
#: other level). completion: share of entrants finishing; continuing: share of finishers going on
#: studying; employment: share of the leavers in salaried employment 6-12 months after.
#: Sources (orders of magnitude, national): DEPP, leavers of 2021 one year after, salaried
#: private employment: CAP 34 %, bac pro 47 %, BTS 62 % (school status); Insee Analyses Grand
#: Est 16 (2016): half of CAP graduates go on studying; MESRI: half of bac pro graduates go on
#: to higher education; about 40 % of BTS graduates go on studying (2016); Céreq (Génération
#: 2017): about a third of bac pro entrants leave without a level-4 diploma; MESR (EESR 10): 73 %
#: of STS entrants graduate; apprentices: medians of the InserJeunes CFA file, cumul 2023-2024
#: (continuing 37 %, employment at 6 months 64 %). CAP completion: no published figure found,
#: gpec's general default 0.8.
DEFAULT_OUTCOMES = pd.DataFrame(
    [
        ("scolaire", 3, 0.80, 0.50, 0.34),
        ("scolaire", 4, 0.67, 0.50, 0.47),
        ("scolaire", 5, 0.73, 0.40, 0.62),
        ("scolaire", None, 0.80, 0.45, 0.45),
        ("apprentissage", 3, 0.80, 0.37, 0.64),
        ("apprentissage", 4, 0.67, 0.37, 0.64),
        ("apprentissage", 5, 0.73, 0.37, 0.64),
        ("apprentissage", None, 0.80, 0.37, 0.64),
    ],
    columns=["status", "level", "completion", "continuing", "employment"],
)

_PERIOD = re.compile(r"(?:cumul\s*)?(\d{4})\s*-\s*(\d{4})", re.IGNORECASE)
_UAI = r"\d{7}[A-Z]"

# normalised header -> output column (rates in percent in the file)
_RATES = {
    "taux_poursuite_etudes": "continuing_share",
    "taux_emploi_6_mois": "employment_6m",
    "taux_emploi_12_mois": "employment_12m",
    "taux_emploi_18_mois": "employment_18m",
    "taux_emploi_24_mois": "employment_24m",
    "taux_emploi_6_mois_attendu": "employment_6m_expected",
    "part_contrats_apprentissage_interrompus": "interrupted_share",
    "devenir_part_poursuite_etudes": "outcome_studying",
    "devenir_part_en_emploi_6_mois": "outcome_employed",
    "devenir_part_autre_situation_6_mois": "outcome_other",
}


def read_inserjeunes(path: str | os.PathLike) -> GpecData:
    """Read the InserJeunes outcomes per centre (``fr-en-inserjeunes-cfa.csv``).

    Parameters
    ----------
    path : path
        The ``;``-separated file (UTF-8 with BOM): ``Année`` (``cumul 2022-2023``), ``UAI``,
        ``Libellé``, ``Région``, the rates in percent.

    Returns
    -------
    GpecData
        ``extra["training_outcomes"]``: one row per centre x period: ``uai, label, region,
        period`` (the last year of the cumulated pair, e.g. 2023), ``period_label``, then as
        fractions ``continuing_share, employment_6m, employment_12m, employment_18m,
        employment_24m, employment_6m_expected, interrupted_share, outcome_studying,
        outcome_employed, outcome_other`` and ``value_added_6m`` (points). Rows with a bad UAI
        or period, a rate outside 0-100, or repeating a centre x period are rejected.

    Examples
    --------
    >>> ij = read_inserjeunes("fr-en-inserjeunes-cfa.csv")  # doctest: +SKIP
    >>> ij.extra["training_outcomes"].query("period == 2024").employment_6m.median()  # doctest: +SKIP
    """
    path = Path(path)
    require_file(path, "the InserJeunes CSV file")
    raw = read_table(path)
    cols = {_norm(c): c for c in raw.columns}
    for need in ("annee", "uai"):
        if need not in cols:
            raise FormatError(f"{path}: not an InserJeunes file (no column {need!r})")
    if not any(k in cols for k in _RATES):
        raise FormatError(f"{path}: not an InserJeunes file (no outcome rate column)")
    file = path.name
    ledger = RowLedger()
    ledger.read(file, len(raw))
    table = "training_outcomes"
    keep = np.ones(len(raw), dtype=bool)

    def reject(mask, col, reason):
        nonlocal keep
        mask = np.asarray(mask, dtype=bool) & keep
        if mask.any():
            ledger.reject(table, file, raw.index[mask], col, raw.loc[mask, col], reason)
            keep &= ~mask

    uai = raw[cols["uai"]].map(lambda v: v.strip().upper() if isinstance(v, str) else v)
    reject(~check_pattern(uai, _UAI).to_numpy(), cols["uai"], "not a UAI code (7 digits, 1 letter)")
    per = raw[cols["annee"]].map(lambda v: _PERIOD.search(v) if isinstance(v, str) else None)
    reject(per.isna().to_numpy(), cols["annee"], "not a period such as 'cumul 2022-2023'")
    out = pd.DataFrame(
        {
            "uai": uai,
            "label": raw[cols["libelle"]] if "libelle" in cols else None,
            "region": raw[cols["region"]] if "region" in cols else None,
            "period": per.map(lambda m: int(m.group(2)) if m else None),
            "period_label": raw[cols["annee"]],
        },
        index=raw.index,
    )
    for key, name in _RATES.items():
        if key not in cols:
            out[name] = np.nan
            continue
        v = pd.to_numeric(raw[cols[key]], errors="coerce")
        bad = raw[cols[key]].notna().to_numpy() & (v.isna() | (v < 0) | (v > 100)).to_numpy()
        reject(bad, cols[key], "not a rate in percent (0-100)")
        out[name] = v / 100.0
    if "va_emploi_6_mois" in cols:
        va = pd.to_numeric(raw[cols["va_emploi_6_mois"]], errors="coerce")
        out["value_added_6m"] = va / 100.0
    out = out[keep]
    out = ledger.keep_unique(table, file, out, ["uai", "period"], cols["uai"], "uai")
    out["period"] = out["period"].astype("int64")
    out = out.sort_values(["uai", "period"], kind="stable").reset_index(drop=True)
    meta = {
        "source": str(path),
        "format": "inserjeunes",
        "periods": sorted(out["period"].unique().tolist()),
        "centres": int(out["uai"].nunique()),
        "row_accounting": ledger.checked_accounting(),
    }
    return GpecData(
        sources={"training_outcomes": str(path)},
        rejected=ledger.frame(),
        meta=meta,
        extra={"training_outcomes": out},
    )


def _latest_per_centre(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The latest period of each centre that has an employment rate."""
    o = outcomes.dropna(subset=["employment_6m"]).sort_values(["uai", "period"], kind="stable")
    return o.drop_duplicates("uai", keep="last").set_index("uai")


def outcome_rates(
    offers: pd.DataFrame, inserjeunes=None, *, defaults: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Set ``completion_rate`` and ``placement_rate`` of training offers from outcomes.

    Apprenticeship offers of a centre found in InserJeunes (by UAI) take the centre's latest
    rates; every other offer (and any rate the centre lacks) takes the default of its status and
    RNCP level. ``placement_rate = (1 - continuing_share) x employment_rate``: those continuing
    their studies are not entrants.

    Parameters
    ----------
    offers : DataFrame
        Offers with ``uai``, ``status`` (``scolaire`` / ``apprentissage``) and ``level``.
    inserjeunes : GpecData, DataFrame or path, optional
        :func:`read_inserjeunes` result, its ``training_outcomes`` table, or the file.
    defaults : DataFrame, optional
        ``status, level, completion, continuing, employment`` (default
        :data:`DEFAULT_OUTCOMES`; a row with a null level applies to the other levels).

    Returns
    -------
    DataFrame
        A copy with ``completion_rate``, ``continuing_share``, ``employment_rate``,
        ``placement_rate``, ``rate_source`` (``InserJeunes <period>`` or ``default``) and
        ``outcome_period``.

    Examples
    --------
    >>> off = pd.DataFrame({"uai": ["0761234A", "0760001B"], "status": "apprentissage",
    ...                     "level": [3, 3]})
    >>> ij = pd.DataFrame({"uai": ["0761234A"], "period": [2024], "continuing_share": [0.3],
    ...                    "employment_6m": [0.6], "interrupted_share": [np.nan]})
    >>> outcome_rates(off, ij)[["completion_rate", "placement_rate", "rate_source"]]
       completion_rate  placement_rate       rate_source
    0              0.8          0.4200  InserJeunes 2024
    1              0.8          0.4032           default
    """
    d = (DEFAULT_OUTCOMES if defaults is None else defaults).copy()
    for c in ("status", "level", "completion", "continuing", "employment"):
        if c not in d.columns:
            raise ValueError(f"outcome defaults: no column {c!r}")
    out = offers.copy()
    status = out["status"].astype(str)
    level = pd.to_numeric(out.get("level"), errors="coerce")
    d["level"] = pd.to_numeric(d["level"], errors="coerce")
    specific = d.dropna(subset=["level"]).set_index(["status", "level"])
    general = d[d["level"].isna()].set_index("status")
    idx = pd.MultiIndex.from_arrays([status, level])
    rates = {}
    for c in ("completion", "continuing", "employment"):
        v = pd.Series(specific[c].reindex(idx).to_numpy(), index=out.index)
        v = v.fillna(status.map(general[c]))
        if v.isna().any():
            i = int(np.flatnonzero(v.isna().to_numpy())[0])
            raise ValueError(
                f"outcome defaults: no {c} rate for status {status.iloc[i]!r} (offer row "
                f"{out.index[i]}); add a row with this status and an empty level"
            )
        rates[c] = v
    source = pd.Series("default", index=out.index, dtype=object)
    period = pd.Series(np.nan, index=out.index)
    ij = inserjeunes
    if ij is not None and not isinstance(ij, pd.DataFrame):
        ij = ij if isinstance(ij, GpecData) else read_inserjeunes(ij)
        ij = ij.extra["training_outcomes"]
    if ij is not None and len(ij):
        latest = _latest_per_centre(ij)
        hit = ((status == "apprentissage") & out["uai"].isin(latest.index)).to_numpy()
        if hit.any():
            u = out.loc[hit, "uai"]

            def centre(col: str) -> np.ndarray:
                if col not in latest.columns:
                    return np.full(len(u), np.nan)
                return pd.to_numeric(u.map(latest[col]), errors="coerce").to_numpy(dtype=float)

            for name, col, fn in (
                ("continuing", "continuing_share", lambda v: v),
                ("employment", "employment_6m", lambda v: v),
                ("completion", "interrupted_share", lambda v: 1.0 - v),
            ):
                v = fn(centre(col))
                cur = rates[name].to_numpy(dtype=float).copy()
                cur[hit] = np.where(np.isnan(v), cur[hit], v)
                rates[name] = pd.Series(cur, index=out.index)
            per = centre("period")
            source[hit] = ["InserJeunes " + str(int(p)) for p in per]
            period[hit] = per
    out["completion_rate"] = rates["completion"].to_numpy(dtype=float)
    out["continuing_share"] = rates["continuing"].to_numpy(dtype=float)
    out["employment_rate"] = rates["employment"].to_numpy(dtype=float)
    out["placement_rate"] = (1 - out["continuing_share"]) * out["employment_rate"]
    out["rate_source"] = source
    out["outcome_period"] = pd.array(period, dtype="Int64")
    return out
