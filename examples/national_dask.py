"""A national-scale run on synthetic data, with per-series models on a Dask cluster.

France has about 1,200 EPCI and 600 ROME fiches: a national territory x occupation panel holds
hundreds of thousands of series. gpec forecasts them in two ways:

* the simple models (naive, drift, damped Holt, Theta, SES with drift, constant share) run *vectorised*, on
  every series at once with numpy: seconds for tens of thousands of series, on one core;
* the statsmodels models (ETS, ARIMA, Theta) are fitted *series by series*; they are handed
  out in chunks through joblib, here to a ``dask.distributed`` cluster. This script starts a
  LocalCluster on this machine (loopback only, 127.0.0.1); point ``Client`` at a real
  scheduler address to use a cluster instead, the rest of the code does not change.

It prints the speed of each path in series per second and their backtest accuracy on the same
series, and writes ``national_forecast.csv`` (the vectorised forecast of every series).

It needs Dask's distributed scheduler, an optional extra of gpec: ``pip install ".[dask]"``
in the repository (or ``pip install "dask[distributed]"``).

Run it with ``python examples/national_dask.py`` (20,000 series, about a minute) or
``python examples/national_dask.py --n-series 2000 --n-slow 40`` for a quick try.
"""

import argparse
import logging
import math
import sys
import time

try:
    from distributed import Client, LocalCluster, get_task_stream
except ImportError:  # the optional extra is not installed: say so in one line
    sys.exit(
        "national_dask.py needs dask.distributed, an optional extra: "
        'pip install ".[dask]" in the gpec repository (or pip install "dask[distributed]")'
    )

import gpec
from gpec.datasets import make_panel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n-series",
        type=int,
        default=20_000,
        help="number of synthetic territory x occupation series (default 20000)",
    )
    parser.add_argument(
        "--n-slow",
        type=int,
        default=100,
        help="series also forecast with statsmodels on Dask (default 100)",
    )
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    args = parser.parse_args()

    # Synthetic panel: 100 occupations per territory, 20 years (2005-2024), with trends,
    # noise, level shifts, short, intermittent and all-zero series.
    n_occupations = min(100, args.n_series)
    n_territories = math.ceil(args.n_series / n_occupations)
    panel = make_panel(n_territories, n_occupations, 20, random_state=0)
    n = n_territories * n_occupations
    print(
        f"panel: {n:,} series ({n_territories} territories x {n_occupations} occupations), "
        f"{len(panel):,} rows"
    )

    # 1. Vectorised path: backtest, selection and intervals for every series at once.
    start = time.perf_counter()
    fast = gpec.Forecaster(horizon=5, verbose=0).fit(panel)
    forecast = fast.predict()
    seconds = time.perf_counter() - start
    print(f"vectorised models: {n:,} series in {seconds:.1f} s = {n / seconds:,.0f} series/s")
    forecast.to_csv("national_forecast.csv", index=False, float_format="%.1f")

    # A subset of regular series (no fallback: long enough, not intermittent) for the
    # per-series statsmodels models, which cost tens of milliseconds per fit.
    ids = fast.selected_
    regular = ids[ids["reason"] == ""].sample(n=min(args.n_slow, len(ids)), random_state=0)
    subset = panel.merge(regular[["territory", "occupation"]], on=["territory", "occupation"])

    # 2. Per-series path on a Dask cluster: loopback only, one thread per worker process
    #    (gpec also limits BLAS to one thread inside each task).
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        print(
            f"dask cluster: {len(client.scheduler_info()['workers'])} workers at "
            f"{cluster.scheduler_address}"
        )
        start = time.perf_counter()
        with get_task_stream(client) as tasks:  # records the tasks the cluster ran
            slow = gpec.Forecaster(
                models=["ets", "theta_sm"],
                horizon=5,
                backend="dask",
                n_jobs=args.workers,
                verbose=0,
            ).fit(subset)
            slow.predict()
        seconds = time.perf_counter() - start
        print(f"the cluster ran {len(tasks.data)} tasks (chunks of series)")
    k = len(regular)
    # Each series is fitted 4 times per model: 3 backtest origins + the final fit.
    print(
        f"statsmodels ETS + Theta on Dask: {k} series in {seconds:.1f} s = "
        f"{k / seconds:,.1f} series/s"
    )

    # Accuracy on the same subset: backtest MASE (lower is better) of each approach.
    def mase_on_subset(model):
        s = model.selected_.merge(regular[["territory", "occupation"]])
        return s["backtest_mase"].mean()

    print(
        f"backtest MASE on these {k} series: vectorised selection "
        f"{mase_on_subset(fast):.3f}, statsmodels selection {mase_on_subset(slow):.3f}"
    )
    print("Wrote national_forecast.csv")


if __name__ == "__main__":  # needed: Dask starts worker processes that import this file
    main()
