"""A national-size ``gpec run`` end to end, and what the plausibility checks cost.

Builds a synthetic territory tree (``gpec.datasets.make_hierarchy``) with N EPCI x occupation
series (300,000 by default, 15 years), writes it as inputs (employment as Parquet when pyarrow is
there, else CSV) with a ``gpec.toml``, then

1. runs ``gpec run CONFIG --out OUT -v`` in a subprocess: wall time, peak memory (RSS of the
   child), the stage times gpec prints with ``-v``, and the size of what it wrote;
2. validates the same inputs in this process with the plausibility checks off (the baseline)
   and on, and reports their cost against the whole run (target: < 10 %).

Targets: < 5 minutes and < 8 GB for 300,000 series.

    python benchmarks/bench_scale.py              # 300,000 series
    python benchmarks/bench_scale.py --series 20000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _build(folder: Path, n_series: int, n_years: int, n_occ: int) -> Path:
    import tomli_w

    from gpec.datasets import make_hierarchy

    n_epci = max(1, n_series // n_occ)
    data = make_hierarchy(
        n_epci, n_occ, n_years, random_state=0, n_departements=min(96, max(2, n_epci // 6))
    )
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, table in data.tables.items():
        try:
            import pyarrow  # noqa: F401

            path = folder / f"{name}.parquet"
            table.to_parquet(path, index=False)
        except ImportError:
            path = folder / f"{name}.csv"
            table.to_csv(path, index=False)
        files[name] = path.name
    cfg = {"run": {"name": f"scale {n_epci * n_occ} series"}, "data": files}
    (folder / "gpec.toml").write_text(tomli_w.dumps(cfg), encoding="utf-8")
    return folder / "gpec.toml"


def _validate_times(config: Path) -> tuple[float, float, int, dict]:
    from gpec.config import load_config
    from gpec.pipeline import load_data

    data = load_data(load_config(config))
    t0 = time.perf_counter()
    data.validate(strict=False, plausibility=False)
    off = time.perf_counter() - t0
    t0 = time.perf_counter()
    clean = data.validate(strict=False)
    _ = clean.rejected
    on = time.perf_counter() - t0
    counts = clean.warnings.groupby("check").size().to_dict()
    return off, on, len(data.employment), counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=300_000)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--occupations", type=int, default=240)
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="gpec-scale-"))
    t0 = time.perf_counter()
    config = _build(work / "inputs", args.series, args.years, args.occupations)
    build = time.perf_counter() - t0
    out = work / "results"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", "from gpec.cli import main; main()", "run", str(config),
         "--out", str(out), "-v"],
        capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_gb = usage.ru_maxrss / 1024**2
    cpu = usage.ru_utime + usage.ru_stime  # on a shared machine, wall time overstates
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        raise SystemExit(f"gpec run failed ({proc.returncode})")
    stages = next((ln for ln in proc.stdout.splitlines() if ln.startswith("gpec: time:")), "")
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file()) / 1024**2
    biggest = sorted((p.stat().st_size, p.name) for p in out.iterdir() if p.is_file())[-4:]

    off, on, rows, counts = _validate_times(config)
    n_series = (args.series // args.occupations) * args.occupations
    print(f"\n## gpec run on {n_series:,} series x {args.years} years ({rows:,} rows)\n")
    print("| measure | this run | target / baseline |")
    print("|---|---|---|")
    print(f"| inputs built (not timed in the run) | {build:.0f} s | |")
    print(f"| gpec run, wall | {wall:.0f} s | < 300 s |")
    print(f"| gpec run, CPU time (user + system) | {cpu:.0f} s | |")
    print(f"| gpec run, peak RSS | {peak_gb:.2f} GB | < 8 GB |")
    print(f"| output folder | {size:.0f} MB | 50,000 series before: backtest.csv 187 MB, "
          "report.xlsx 67 MB |")  # fmt: skip
    print(f"| validate, plausibility off (baseline) | {off:.1f} s | |")
    print(f"| validate, plausibility on | {on:.1f} s | |")
    print(
        f"| plausibility cost | {on - off:.1f} s = {100 * (on - off) / wall:.1f} % of the run | "
        "< 10 % |"
    )
    print(f"\n{stages}")
    print("largest files: " + ", ".join(f"{n} {s / 1024**2:.0f} MB" for s, n in biggest[::-1]))
    print(f"plausibility warnings on the synthetic panel: {counts or 'none'}")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
