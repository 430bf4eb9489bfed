"""Synthetic employment panels and territory hierarchies, generated quickly with numpy.

These generators feed tests and benchmarks: a national-size panel (hundreds of thousands of
territory x occupation series) in seconds, and small hierarchies (EPCI -> département -> région ->
nation) for aggregation and reconciliation tests. Every number is synthetic.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from gpec._data import GpecData

__all__ = ["make_panel", "make_hierarchy"]

_FREQS = {"Y": 1, "A": 1, "Q": 4}


def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    raise ValueError(
        f"random_state must be None, an int or a numpy Generator, got {random_state!r}"
    )


def _simulate(
    rng: np.random.Generator,
    n_series: int,
    n_periods: int,
    per_year: int,
    *,
    level: np.ndarray | None = None,
    short_share: float = 0.05,
    zero_share: float = 0.02,
    intermittent_share: float = 0.05,
    shift_share: float = 0.08,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate count series; return values (n_series, n_periods) and first observed period."""
    if level is None:
        level = np.exp(rng.normal(3.2, 1.2, n_series))  # median ~ 25 jobs, long right tail
    t = np.arange(n_periods) / per_year
    trend = rng.normal(0.0, 0.03, n_series)
    kind = rng.random(n_series)
    intermittent = kind < intermittent_share
    zero = (kind >= intermittent_share) & (kind < intermittent_share + zero_share)
    level = np.where(intermittent, rng.uniform(0.1, 0.8, n_series), level)

    # AR(1) noise on the log level, one vectorised step per period (in place: big panels)
    phi, sigma = 0.6, 0.05
    x = rng.normal(0.0, sigma, (n_series, n_periods))
    x[:, 0] /= np.sqrt(1 - phi**2)  # start in the stationary distribution
    for j in range(1, n_periods):
        x[:, j] += phi * x[:, j - 1]
    x += np.log(level)[:, None]
    x += trend[:, None] * t[None, :]
    # level shifts (a plant opens or closes) at a random period
    shifted = np.flatnonzero(rng.random(n_series) < shift_share)
    at = rng.integers(1, max(2, n_periods), shifted.size)
    size = rng.normal(0.0, 0.6, shifted.size)
    x[shifted] += size[:, None] * (np.arange(n_periods)[None, :] >= at[:, None])
    if per_year > 1:  # seasonal pattern for sub-annual panels
        amp = rng.uniform(0.0, 0.15, n_series)
        phase = rng.uniform(0.0, 2 * np.pi, n_series)
        x += amp[:, None] * np.sin(
            2 * np.pi * np.arange(n_periods)[None, :] / per_year + phase[:, None]
        )
    np.exp(x, out=x)
    values = rng.poisson(x)
    del x
    values[zero] = 0
    # short series: observed only from a later period on
    start = np.zeros(n_series, dtype=np.int64)
    short = rng.random(n_series) < short_share
    if n_periods > 2:
        start[short] = rng.integers(n_periods // 2, n_periods - 1, short.sum())
    return values, start


def _codes_column(codes: list[str], index: np.ndarray):
    """``codes[index]`` as a string column, built in C through Arrow when pandas uses it."""
    if _PANDAS_MAJOR >= 3:
        try:
            import pyarrow as pa

            dtype = pd.StringDtype("pyarrow", na_value=np.nan)
            arr = pa.DictionaryArray.from_arrays(
                pa.array(index.astype(np.int32)), pa.array(codes, type=pa.string())
            )
            return pd.array(arr.cast(pa.large_string()), dtype=dtype)
        except ImportError:  # pragma: no cover - pandas then uses Python strings
            pass
    return np.asarray(codes, dtype=object)[index]


_PANDAS_MAJOR = int(pd.__version__.split(".")[0])


def _long(
    values: np.ndarray,
    start: np.ndarray,
    territory: list[str],
    occupation: list[str],
    periods: np.ndarray | pd.PeriodIndex,
) -> pd.DataFrame:
    """Long table of a (territory x occupation) by period array, series in row-major order."""
    n_series, n_periods = values.shape
    n_occ = len(occupation)
    keep = (np.arange(n_periods)[None, :] >= start[:, None]).ravel()
    series = np.repeat(np.arange(n_series), n_periods)[keep]
    pos = np.tile(np.arange(n_periods), n_series)[keep]
    return pd.DataFrame(
        {
            "territory": _codes_column(territory, series // n_occ),
            "occupation": _codes_column(occupation, series % n_occ),
            "period": periods[pos],
            "value": values.ravel()[keep],
        }
    )


def _periods(start_year: int, n_years: int, freq: str):
    if freq not in _FREQS:
        raise ValueError(f"freq must be 'Y' (annual) or 'Q' (quarterly), got {freq!r}")
    per_year = _FREQS[freq]
    if per_year == 1:
        return np.arange(start_year, start_year + n_years, dtype=np.int64), 1
    return pd.period_range(f"{start_year}Q1", periods=n_years * per_year, freq="Q"), per_year


def make_panel(
    n_territories: int,
    n_occupations: int,
    n_years: int,
    random_state=0,
    *,
    start_year: int = 2005,
    freq: str = "Y",
) -> pd.DataFrame:
    """Make a large synthetic employment panel (long table), fast.

    Every territory x occupation pair is one series of job counts with a level drawn from a
    log-normal law, a linear trend on the log scale, AR(1) noise, occasional level shifts (a
    plant opening or closing) and, for quarterly data, a seasonal pattern. About 5% of series
    are short (observed only from a later year on), 5% intermittent (small counts with many
    zeros) and 2% all zero, so that forecasting fallbacks get exercised.

    Parameters
    ----------
    n_territories, n_occupations : int
        Number of territories and occupations; the panel has their product of series.
    n_years : int
        Number of years (quarterly panels have ``4 * n_years`` periods).
    random_state : int, numpy Generator or None, default 0
        Seed of the random numbers (same seed, same panel).
    start_year : int, default 2005
        First year.
    freq : {"Y", "Q"}, default "Y"
        Annual periods (int years) or quarterly periods (pandas Periods).

    Returns
    -------
    DataFrame
        Columns territory (5-digit codes with leading zeros, such as "00042"), occupation
        ("Z0001"...), period, value (int jobs >= 0), sorted by territory, occupation, period.

    Examples
    --------
    >>> from gpec.datasets import make_panel
    >>> panel = make_panel(3, 4, 10, random_state=0)
    >>> panel.groupby(["territory", "occupation"]).ngroups
    12
    >>> panel["territory"].iloc[0]
    '00000'
    """
    n_t = _check_int("n_territories", n_territories)
    n_o = _check_int("n_occupations", n_occupations)
    n_y = _check_int("n_years", n_years)
    start_year = _check_int("start_year", start_year, minimum=1000)
    periods, per_year = _periods(start_year, n_y, freq)
    rng = _rng(random_state)
    values, start = _simulate(rng, n_t * n_o, n_y * per_year, per_year)
    terr_codes = [f"{i:05d}" for i in range(n_t)]
    occ_codes = [f"Z{i + 1:04d}" for i in range(n_o)]
    return _long(values, start, terr_codes, occ_codes, periods)


def make_hierarchy(
    n_epci: int = 40,
    n_occupations: int = 8,
    n_years: int = 15,
    random_state=0,
    *,
    n_departements: int | None = None,
    n_regions: int = 2,
    start_year: int = 2005,
) -> GpecData:
    """Make a synthetic territory tree with an employment panel at its bottom level.

    The tree is nation ("FR") -> régions ("R01", ...) -> départements ("01", "02", ...) ->
    EPCI (9-digit SIREN-like codes), with centroids; employment is given for every EPCI x
    occupation and year (no short or zero series), so that sums up the tree are well defined.

    Parameters
    ----------
    n_epci : int, default 40
        Number of EPCI (bottom level).
    n_occupations : int, default 8
        Number of occupations.
    n_years : int, default 15
        Number of years.
    random_state : int, numpy Generator or None, default 0
        Seed.
    n_departements : int, optional
        Number of départements (default ``max(n_regions, n_epci // 6)``); each has >= 1 EPCI.
    n_regions : int, default 2
        Number of régions; each has >= 1 département.
    start_year : int, default 2005
        First year.

    Returns
    -------
    GpecData
        Validated bundle with ``territories`` (levels nation, region, departement, epci),
        ``occupations`` and ``employment``.

    Examples
    --------
    >>> from gpec.datasets import make_hierarchy
    >>> data = make_hierarchy(12, 3, 5, random_state=1)
    >>> int((data.territories["level"] == "epci").sum())
    12
    """
    n_epci = _check_int("n_epci", n_epci)
    n_occ = _check_int("n_occupations", n_occupations)
    n_years = _check_int("n_years", n_years)
    n_reg = _check_int("n_regions", n_regions)
    n_dep = max(n_reg, n_epci // 6) if n_departements is None else n_departements
    n_dep = _check_int("n_departements", n_dep, minimum=n_reg)
    if n_dep > n_epci:
        raise ValueError(f"n_departements ({n_dep}) must not exceed n_epci ({n_epci})")
    if n_dep > 99:
        raise ValueError("n_departements must be at most 99 (2-digit codes)")
    rng = _rng(random_state)

    reg_codes = [f"R{i + 1:02d}" for i in range(n_reg)]
    dep_codes = [f"{i + 1:02d}" for i in range(n_dep)]
    dep_region = [reg_codes[i % n_reg] for i in range(n_dep)]
    epci_dep = np.concatenate([np.arange(n_dep), rng.integers(0, n_dep, n_epci - n_dep)])
    epci_dep = np.sort(epci_dep)
    epci_codes = [f"2000{i + 1:05d}" for i in range(n_epci)]

    reg_xy = np.column_stack([rng.uniform(43.5, 50.5, n_reg), rng.uniform(-1.5, 7.0, n_reg)])
    dep_xy = reg_xy[[i % n_reg for i in range(n_dep)]] + rng.normal(0, 0.5, (n_dep, 2))
    epci_xy = dep_xy[epci_dep] + rng.normal(0, 0.25, (n_epci, 2))
    rows = [("FR", "France (synthetic)", "nation", None, 46.6, 2.4)]
    rows += [(c, f"Région {c}", "region", "FR", *reg_xy[i]) for i, c in enumerate(reg_codes)]
    rows += [
        (c, f"Département {c}", "departement", dep_region[i], *dep_xy[i])
        for i, c in enumerate(dep_codes)
    ]
    rows += [
        (c, f"EPCI {c}", "epci", dep_codes[epci_dep[i]], *epci_xy[i])
        for i, c in enumerate(epci_codes)
    ]
    territories = pd.DataFrame(
        rows, columns=["territory", "label", "level", "parent", "lat", "lon"]
    )
    territories[["lat", "lon"]] = territories[["lat", "lon"]].round(4)

    occ_codes = [f"Z{i + 1:04d}" for i in range(n_occ)]
    occupations = pd.DataFrame(
        {
            "occupation": occ_codes,
            "label": [f"Occupation {c}" for c in occ_codes],
            "system": "SYNTH",
            "parent": None,
        }
    )
    size = np.exp(rng.normal(0.0, 0.8, n_epci))
    share = np.exp(rng.normal(0.0, 0.7, n_occ))
    level = 40.0 * np.outer(size, share).ravel()
    values, start = _simulate(
        rng,
        n_epci * n_occ,
        n_years,
        1,
        level=level,
        short_share=0.0,
        zero_share=0.0,
        intermittent_share=0.0,
    )
    employment = _long(
        values,
        start,
        epci_codes,
        occ_codes,
        np.arange(start_year, start_year + n_years, dtype=np.int64),
    )
    data = GpecData(
        territories=territories,
        occupations=occupations,
        employment=employment,
        meta={"synthetic": True, "generator": "gpec.datasets.make_hierarchy"},
    )
    return data.validate()
