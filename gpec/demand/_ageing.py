"""Age bands, default pyramids and exit rates of the ageing model (private; public names through
:mod:`gpec.demand`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from gpec._checks import check_unique, numeric_column, parse_age_band, require_columns
from gpec.territory import check_territories

#: Canonical 5-year age bands of the ageing model (the last one is open).
AGE_BANDS: tuple[str, ...] = (
    "15-19", "20-24", "25-29", "30-34", "35-39", "40-44",
    "45-49", "50-54", "55-59", "60-64", "65+",
)  # fmt: skip
_NB = len(AGE_BANDS)
_LOWS = np.arange(15, 70, 5)  # lower age of each band

#: Default age structure of employment (shares, France). Bands 25-29 ... 55-59 and the totals of
#: 15-24 and 60+ are the national employment by age of Dares, *Portraits statistiques des
#: métiers*, 2017-2019 (Enquête Emploi, 26.4 million jobs): 15-24 8.34 %, 25-29 10.45 %,
#: 30-34 11.70 %, 35-39 12.51 %, 40-44 12.65 %, 45-49 13.79 %, 50-54 13.15 %, 55-59 11.38 %,
#: 60+ 6.04 %. 15-24 is split 18/82 between 15-19 and 20-24 and 60+ is split 78/22 between
#: 60-64 and 65+ (approximate Insee employment by age, 2019; not re-verified).
DEFAULT_PYRAMID: pd.Series = pd.Series(
    [0.0834 * 0.18, 0.0834 * 0.82, 0.1045, 0.1170, 0.1251, 0.1265,
     0.1379, 0.1315, 0.1138, 0.0604 * 0.78, 0.0604 * 0.22],
    index=pd.Index(AGE_BANDS, name="age_band"), name="share",
)  # fmt: skip
DEFAULT_PYRAMID = DEFAULT_PYRAMID / DEFAULT_PYRAMID.sum()

#: Default annual probability of leaving employment for good (end of career), per age band.
#: Zero before 50; a few early exits at 50-59 (invalidity, long-career and special regimes);
#: most departures at 60-64 (legal retirement age 62, rising to 64 with the 2023 reform; mean
#: age at retirement about 62.5); the remaining workers past 65 leave fast. With the default
#: pyramid and constant employment these rates give departures of 2.5 % of employment per year
#: (about 28 % over 11 years), within the 26-31 % of employment that Métiers 2030 (France
#: Stratégie & Dares, 2022) projects for the regions over 2019-2030, and a mean exit age of
#: about 62 years. Override with ``exit_rates=``; shift with ``retirement_shift=``.
DEFAULT_EXIT_RATES: pd.Series = pd.Series(
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.005, 0.03, 0.25, 0.45],
    index=pd.Index(AGE_BANDS, name="age_band"), name="exit_rate",
)  # fmt: skip

#: Default age distribution of net entrants into an occupation (young entrants dominate;
#: mid-career mobility fills the rest). Only matters for departures within the horizon, which
#: entrants under 50 rarely reach.
DEFAULT_ENTRY_AGES: pd.Series = pd.Series(
    [0.12, 0.38, 0.22, 0.12, 0.08, 0.05, 0.03, 0.0, 0.0, 0.0, 0.0],
    index=pd.Index(AGE_BANDS, name="age_band"), name="share",
)  # fmt: skip


# --------------------------------------------------------------------------------------
# age bands
# --------------------------------------------------------------------------------------
def _single_age_density() -> np.ndarray:
    """Default employment density over 51 age units: single ages 15..64, then 65+."""
    d = np.repeat(DEFAULT_PYRAMID.to_numpy()[:-1] / 5.0, 5)
    return np.append(d, DEFAULT_PYRAMID.to_numpy()[-1])


def _band_weights(band: str) -> np.ndarray:
    """Split of one input band over the canonical bands (sums to 1), following the default
    pyramid within the band (so "15-24" goes mostly to 20-24, "60+" mostly to 60-64)."""
    lo, hi = parse_age_band(band)
    units = np.zeros(51)
    top = min(hi, 64)
    if lo <= 64:
        units[lo - 15 : int(top) - 15 + 1] = 1.0
    if hi >= 65:
        units[50] = 1.0
    w = units * _single_age_density()
    w = np.append(w[:50].reshape(10, 5).sum(axis=1), w[50])
    return w / w.sum()


def _rates_to_bands(rates) -> np.ndarray:
    """Canonical band rates from a mapping {band label: rate}; each canonical band takes the
    rate of the input band holding its lowest age."""
    if isinstance(rates, pd.Series):
        rates = rates.to_dict()
    parsed = [(parse_age_band(k), float(v)) for k, v in rates.items()]
    out = np.full(_NB, np.nan)
    for i, a in enumerate(_LOWS):
        for (lo, hi), v in parsed:
            if lo <= a <= hi:
                out[i] = v
                break
    if np.isnan(out).any():
        missing = [AGE_BANDS[i] for i in np.flatnonzero(np.isnan(out))]
        raise ValueError(f"exit_rates: no rate given for age band(s) {missing}")
    if ((out < 0) | (out > 1)).any():
        raise ValueError("exit_rates: every rate must be a probability in [0, 1]")
    return out


def exit_rate_curve(rates=None, shift: float = 0.0) -> pd.Series:
    """Annual exit probabilities per canonical band, optionally shifted by ``shift`` years.

    A positive shift models a later retirement age: the probability at age *a* becomes the
    original probability at age *a − shift* (single-year steps inside each band, averaged back
    to bands; fractional shifts interpolate linearly).

    Parameters
    ----------
    rates : mapping or Series, optional
        Age band label -> annual exit probability in [0, 1]; bands may be wider than the
        canonical ones (``"15-59"``, ``"60+"``): each canonical band takes the rate of the
        band holding its lowest age. Default :data:`DEFAULT_EXIT_RATES`.
    shift : float, default 0
        Years by which exits come later (negative: earlier).

    Returns
    -------
    Series
        Exit probabilities indexed by the canonical bands :data:`AGE_BANDS` (``age_band``).

    Raises
    ------
    ValueError
        When a canonical band gets no rate, a rate is not in [0, 1], or a band label cannot
        be read.

    Examples
    --------
    >>> bool(exit_rate_curve(shift=5)["60-64"] == DEFAULT_EXIT_RATES["55-59"])
    True

    A one-year shift: ages 60-64 take the rates of ages 59-63, one 0 and four 0.5, so 0.4.

    >>> curve = exit_rate_curve({"15-59": 0.0, "60+": 0.5}, shift=1)
    >>> curve[["55-59", "60-64", "65+"]].tolist()
    [0.0, 0.4, 0.5]
    """
    base = DEFAULT_EXIT_RATES.to_numpy() if rates is None else _rates_to_bands(rates)
    return pd.Series(_shift_rates(base[None, :], float(shift))[0], index=DEFAULT_EXIT_RATES.index)


def _shift_rates(q: np.ndarray, shift: float) -> np.ndarray:
    """Shift band rates (rows of ``q``) by ``shift`` years to older ages."""
    if shift == 0:
        return q
    lo, f = int(np.floor(shift)), shift - np.floor(shift)
    ages = np.arange(15, 70)  # 65+ represented by ages 65..69

    def one(k: int) -> np.ndarray:
        src = np.clip(ages - k, 15, 65)
        idx = np.minimum((src - 15) // 5, _NB - 1)
        single = q[:, idx]
        return single.reshape(q.shape[0], _NB, 5).mean(axis=2)

    out = one(lo)
    if f > 0:
        out = (1 - f) * out + f * one(lo + 1)
    return out


# --------------------------------------------------------------------------------------
# input preparation
# --------------------------------------------------------------------------------------
def survive_and_age(pyr: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One year of a pyramid: departures by band, then the survivors age.

    Parameters
    ----------
    pyr : ndarray of shape (n, 11)
        Workers per age band at the start of the year.
    q : ndarray of shape (n, 11)
        Annual exit probabilities per band.

    Returns
    -------
    departures : ndarray of shape (n,)
    survivors : ndarray of shape (n, 11)
        One fifth of each band's survivors moves up to the next band (ages spread evenly in a
        5-year band); 65+ keeps its own.

    Examples
    --------
    >>> p = np.zeros((1, 11)); p[0, 9] = 100.0  # 100 workers aged 60-64
    >>> q = np.zeros((1, 11)); q[0, 9] = 0.25
    >>> dep, surv = survive_and_age(p, q)
    >>> float(dep[0]), surv[0, 9:].tolist()
    (25.0, [60.0, 15.0])
    """
    leave = pyr * q
    surv = pyr - leave
    flow = surv[:, :-1] / 5.0
    surv[:, :-1] -= flow
    surv[:, 1:] += flow
    return leave.sum(axis=1), surv


def age_structure(
    shares: np.ndarray, q: np.ndarray, entry: np.ndarray, years: np.ndarray
) -> np.ndarray:
    """Age structures carried forward ``years`` years at constant employment.

    Each year the pyramid loses its departures, its survivors age, and entrants distributed
    as ``entry`` replace the departures.

    Parameters
    ----------
    shares : ndarray of shape (n, 11)
        Age structure (rows sum to 1) in the year it was observed.
    q : ndarray of shape (n, 11)
        Annual exit probabilities per band.
    entry : ndarray of shape (11,)
        Age distribution of entrants (sums to 1).
    years : ndarray of int, shape (n,)
        Years to carry each structure forward (0: unchanged).

    Returns
    -------
    ndarray of shape (n, 11)

    Examples
    --------
    >>> s = np.zeros((1, 11)); s[0, 9] = 0.5; s[0, 0] = 0.5  # half 15-19, half 60-64
    >>> q = np.zeros((1, 11)); q[0, 9] = 0.25
    >>> entry = np.zeros(11); entry[0] = 1.0
    >>> age_structure(s, q, entry, np.array([1]))[0, [0, 1, 9, 10]].round(3).tolist()
    [0.525, 0.1, 0.3, 0.075]
    """
    out = np.array(shares, dtype=float, copy=True)
    years = np.asarray(years, dtype=int)
    for k in range(int(years.max(initial=0))):
        act = years > k
        dep, surv = survive_and_age(out[act], q[act])
        out[act] = surv + dep[:, None] * np.asarray(entry, dtype=float)[None, :]
    return out


def _pyramid_shares(
    cells: pd.DataFrame, workforce_age: pd.DataFrame | None, territories: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """Age structure (n_cells x 11, rows sum to 1) and its source label for each cell.

    Sources, in order: "pyramid" (the cell's own), "ancestor" (same occupation in the nearest
    ancestor territory, when ``territories`` is given), "occupation" (the occupation summed over
    every territory of ``workforce_age``), "territory" (every occupation of the territory),
    "default" (:data:`DEFAULT_PYRAMID`).
    """
    n = len(cells)
    shares = np.tile(DEFAULT_PYRAMID.to_numpy(), (n, 1))
    source = np.full(n, "default", dtype=object)
    if workforce_age is None:
        return shares, source
    require_columns(
        workforce_age, "workforce_age", ["territory", "occupation", "age_band", "value"]
    )
    if len(workforce_age) == 0:
        return shares, source
    wa = workforce_age
    check_unique(wa, "workforce_age", ["territory", "occupation", "age_band"])
    value = numeric_column(wa, "workforce_age", "value", nonneg=True)
    codes, bands = pd.factorize(wa["age_band"].astype("str"))
    weights = []
    for i, b in enumerate(bands):
        try:
            weights.append(_band_weights(b))
        except ValueError as exc:
            row = wa.index[codes == i][0]
            raise ValueError(
                f"table 'workforce_age': {exc} (row {row}, column 'age_band')"
            ) from None
    # values summed per cell x given band, then spread over the canonical bands: a matrix of
    # cells x given bands (not one row of 11 floats per input row, which costs gigabytes on a
    # national table)
    cell, keys = pd.MultiIndex.from_arrays(
        [wa["territory"].astype("str"), wa["occupation"].astype("str")],
        names=["territory", "occupation"],
    ).factorize()
    keys = keys.set_names(["territory", "occupation"])
    n_bands = len(bands)
    per_band = np.bincount(
        cell * n_bands + codes, weights=value, minlength=len(keys) * n_bands
    ).reshape(len(keys), n_bands)
    full = pd.DataFrame(per_band @ np.vstack(weights), index=keys, columns=list(AGE_BANDS))
    own = full[full.sum(axis=1) > 0]

    def fill(mask: np.ndarray, table: pd.DataFrame, keys: list[np.ndarray], label: str) -> None:
        if not mask.any() or table.empty:
            return
        idx = pd.MultiIndex.from_arrays([k[mask] for k in keys]) if len(keys) > 1 else keys[0][mask]
        vals = table.reindex(idx).to_numpy()
        ok = np.isfinite(vals).all(axis=1) & (np.nan_to_num(vals).sum(axis=1) > 0)
        where = np.flatnonzero(mask)[ok]
        shares[where] = vals[ok] / vals[ok].sum(axis=1, keepdims=True)
        source[where] = label

    terr = cells["territory"].to_numpy()
    occ = cells["occupation"].to_numpy()
    todo = lambda: source == "default"  # noqa: E731
    fill(todo(), own, [terr, occ], "pyramid")
    if territories is not None and todo().any():
        parent = check_territories(territories)["parent"]
        cur = terr.copy()
        for _ in range(len(parent) + 1):
            cur = parent.reindex(cur).to_numpy(dtype=object)
            alive = pd.notna(cur)
            if not (alive & todo()).any():
                break
            fill(alive & todo(), own, [cur.astype(str), occ], "ancestor")
    fill(todo(), full.groupby(level="occupation").sum(), [occ], "occupation")
    fill(todo(), full.groupby(level="territory").sum(), [terr], "territory")
    return shares, source


def _exit_matrix(cells: pd.DataFrame, exit_rates) -> np.ndarray:
    """Exit probabilities (n_cells x 11) from None, a {band: rate} mapping or a DataFrame
    [age_band, rate] with an optional occupation column."""
    n = len(cells)
    if exit_rates is None:
        return np.tile(DEFAULT_EXIT_RATES.to_numpy(), (n, 1))
    if isinstance(exit_rates, pd.DataFrame):
        require_columns(exit_rates, "exit_rates", ["age_band", "rate"])
        if "occupation" not in exit_rates.columns:
            return np.tile(
                _rates_to_bands(dict(zip(exit_rates["age_band"], exit_rates["rate"], strict=True))),
                (n, 1),
            )
        q = np.tile(DEFAULT_EXIT_RATES.to_numpy(), (n, 1))
        generic = exit_rates[exit_rates["occupation"].isna()]
        if len(generic):
            q[:] = _rates_to_bands(dict(zip(generic["age_band"], generic["rate"], strict=True)))
        occ = cells["occupation"].to_numpy()
        for code, g in exit_rates.dropna(subset=["occupation"]).groupby("occupation", sort=True):
            q[occ == str(code)] = _rates_to_bands(dict(zip(g["age_band"], g["rate"], strict=True)))
        return q
    if isinstance(exit_rates, Mapping | pd.Series):
        return np.tile(_rates_to_bands(exit_rates), (n, 1))
    raise TypeError("exit_rates must be None, a {age_band: rate} mapping or a DataFrame")


def _turnover_vector(cells: pd.DataFrame, turnover_rates) -> np.ndarray:
    n = len(cells)
    if turnover_rates is None:
        return np.zeros(n)
    if np.isscalar(turnover_rates):
        r = np.full(n, float(turnover_rates))
    elif isinstance(turnover_rates, pd.DataFrame):
        require_columns(turnover_rates, "turnover_rates", ["occupation", "rate"])
        tr = turnover_rates.astype({"occupation": "str"})
        if "territory" in tr.columns:
            tr = tr.astype({"territory": "str"}).set_index(["territory", "occupation"])["rate"]
            key = pd.MultiIndex.from_frame(cells[["territory", "occupation"]])
        else:
            tr = tr.set_index("occupation")["rate"]
            key = cells["occupation"]
        r = tr.reindex(key).fillna(0.0).to_numpy(dtype=float)
    elif isinstance(turnover_rates, Mapping | pd.Series):
        tr = pd.Series(
            dict(turnover_rates) if isinstance(turnover_rates, Mapping) else turnover_rates
        )
        tr.index = tr.index.astype("str")
        r = tr.reindex(cells["occupation"]).fillna(0.0).to_numpy(dtype=float)
    else:
        raise TypeError(
            "turnover_rates must be a number, a {occupation: rate} mapping or a DataFrame"
        )
    if ((r < 0) | (r > 1)).any():
        raise ValueError("turnover_rates: every rate must be in [0, 1]")
    return r
