"""Every script of examples/ runs as it is, in an empty folder, and writes what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REAL_DATA = EXAMPLES.parents[1] / "shared" / "data" / "real"  # as the real_data fixture


def _check_ardenne(folder: Path) -> None:
    """Expansion is the change of the written employment path from the demo's observed 2024
    level; departures stay within the highest exit rate (45 %) of the jobs at the start of
    each year; codes stay strings."""
    from gpec.datasets import load_demo

    op = pd.read_csv(folder / "ardenne_openings.csv", dtype={"territory": str})
    assert set(op["territory"]) == {"200041630"}
    assert op["period"].between(2025, 2030).all()
    emp = load_demo().employment
    base = emp[emp["territory"].eq("200041630") & emp["period"].eq(2024)]
    op = op.sort_values(["occupation", "period"])
    before = op.groupby("occupation")["employment"].shift(1)
    before = before.fillna(op["occupation"].map(base.set_index("occupation")["value"]))
    assert before.notna().all()
    # the file is rounded to 0.1: two rounded values per difference
    assert ((op["expansion"] - (op["employment"] - before)).abs() < 0.11).all()
    assert (op["replacement"] >= 0).all() and (op["replacement"] <= 0.45 * before + 0.1).all()
    needs = pd.read_csv(folder / "ardenne_skill_needs.csv", dtype={"skill": str})
    assert needs["skill"].str.fullmatch(r"\d+").all()
    assert needs["label"].notna().all()


def _check_forecast(folder: Path) -> None:
    fc = pd.read_csv(folder / "forecast_rouen.csv", dtype={"territory": str})
    assert set(fc["territory"]) == {"200023414"}
    assert set(fc["level"]) == {80, 95}
    assert (fc["lower"] >= 0).all()
    # the first year stays near the last observed total of the demo (2024), and the
    # intervals widen with the horizon
    from gpec.datasets import load_demo

    emp = load_demo().employment
    last = emp.loc[emp["territory"].eq("200023414") & emp["period"].eq(2024), "value"].sum()
    at80 = fc[fc["level"].eq(80)]
    assert at80.loc[at80["period"].eq(2025), "mean"].sum() == pytest.approx(last, rel=0.05)
    width = (at80["upper"] - at80["lower"]).groupby(at80["period"]).median()
    assert width[2025] > 0 and width[2030] > width[2025]


def _check_gaps(folder: Path) -> None:
    g = pd.read_csv(folder / "training_gaps.csv", dtype={"territory": str})
    assert (g["gap"] >= -0.05).all()
    assert (g["gap"] <= g["openings"].clip(lower=0) + 0.05).all()
    assert g["territory_label"].notna().all()


def _check_scenario(folder: Path) -> None:
    d = pd.read_csv(folder / "scenario_comparison.csv", dtype={"territory": str})
    cells = d[(d["territory"] == "200041630") & d["occupation"].isin(["H2907", "H2910"])]
    late = cells[cells["period"] >= 2027].groupby("period")["employment_change"].sum()
    assert len(late) and (late.round() == -250).all()  # the closure removes 250 jobs
    assert (d.loc[d["period"] < 2027, "employment_change"].abs() < 0.05).all()


def _check_training_scenarios(folder: Path) -> None:
    d = pd.read_csv(folder / "training_scenarios.csv", dtype={"territory": str})
    assert list(d["scenario"].unique()) == [
        "baseline", "30 seats in Caen la Mer", "30 seats in Lisieux Normandie",
        "+50% seats everywhere",
    ]  # fmt: skip
    keys = ["territory", "period"]
    base = d[d["scenario"] == "baseline"].set_index(keys)["gap"]
    for name, s in d[d["scenario"] != "baseline"].groupby("scenario"):
        s = s.set_index(keys)["gap"]
        assert (s <= base.reindex(s.index) + 0.05).all(), name  # more seats never raise a gap
    # 30 seats x 0.8 completion x 0.7 placement, 2026-2030, all placed (the gap is large)
    caen = d[d["scenario"] == "30 seats in Caen la Mer"]["gap"].sum()
    assert abs(base.sum() - caen - 30 * 0.8 * 0.7 * 5) < 0.5


def _read_out(path: Path) -> pd.DataFrame:
    """An output CSV, written the French way (``;``, decimal comma) for ``lang = "fr"``."""
    first = path.read_text(encoding="utf-8-sig").split("\n", 1)[0]
    if ";" in first:
        return pd.read_csv(
            path, sep=";", decimal=",", encoding="utf-8-sig", dtype={"territory": str}
        )
    return pd.read_csv(path, dtype={"territory": str})


def _fap87_skill_totals(real: Path) -> pd.Series:
    """Sum of the macro-compétence weights of each FAP87, from the raw ROME 4.0 CSV files.

    Independent of read_rome / convert_profiles: fiche totals (core link 1, other 0.5) from
    unix_coherence_item, averaged over the fiches of a FAP87 with the weights of the chain
    ROME 4.0 -> ROME v3 (code_rome_parent) -> FAP 2009 (DARES SAS table) -> first 3 characters.
    """
    import csv

    from gpec.ingest import read_crosswalk

    rome = real / "rome4-v460"

    def rows(name):
        with open(rome / name, encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(fh)

    macro = {
        r["code_ogr"]
        for r in rows("unix_referentiel_competence_v460_utf8.csv")
        if r["nature"] == "Macro-compétence"
    }
    fiche_total: dict[str, float] = {}
    for r in rows("unix_coherence_item_v460_utf8.csv"):
        if r["code_ogr"] in macro:
            w = 1.0 if r["coeur_metier"] == "Principale" else 0.5
            fiche_total[r["code_rome"]] = fiche_total.get(r["code_rome"], 0.0) + w
    parent = {
        r["code_rome"]: r["code_rome_parent"] or r["code_rome"]
        for r in rows("unix_referentiel_code_rome_v460_utf8.csv")
    }
    sas = read_crosswalk(real / "bob-emploi-fixtures" / "passage_fap2009_romev3.txt").crosswalks
    sas = sas[(sas["source_system"] == "ROME3") & (sas["target_system"] == "FAP2009")]
    to_fap: dict[str, dict[str, float]] = {}
    for src, tgt, w in zip(sas["source"], sas["target"], sas["weight"], strict=True):
        to_fap.setdefault(src, {}).setdefault(tgt[:3], 0.0)
        to_fap[src][tgt[:3]] += float(w)
    num: dict[str, float] = {}
    den: dict[str, float] = {}
    for fiche, rome3 in parent.items():
        for fap, a in to_fap.get(rome3, {}).items():
            num[fap] = num.get(fap, 0.0) + a * fiche_total.get(fiche, 0.0)
            den[fap] = den.get(fap, 0.0) + a
    return pd.Series({f: num[f] / den[f] for f in den})


def _check_rouen_skills(out: Path, real: Path) -> None:
    """Skill needs of the FAP run: summed over skills they equal openings x profile weights."""
    occ = out / "occupations"
    sg = _read_out(occ / "skill_gaps.csv")
    gaps = _read_out(occ / "gaps.csv")
    assert sg["skill"].nunique() > 300 and sg["skill_label"].notna().all()
    total = _fap87_skill_totals(real)
    assert set(gaps["occupation"]) <= set(total.index)  # every FAP87 of the run has skills
    want = (
        (gaps["openings"] * gaps["occupation"].map(total))
        .groupby([gaps["territory"], gaps["period"]])
        .sum()
    )
    got = sg.groupby(["territory", "period"])["need"].sum()
    pd.testing.assert_series_equal(got, want.reindex(got.index), rtol=1e-9, check_names=False)
    assert len(got) == len(want)
    # the profile file the example writes has the same per-FAP totals
    prof = pd.read_csv(out / "checks" / "fap87_skill_profiles.csv", dtype={"skill": str})
    sums = prof.groupby("occupation")["weight"].sum()
    pd.testing.assert_series_equal(sums, total.reindex(sums.index), rtol=1e-9, check_names=False)
    # reconversion paths: sources lose jobs, targets are in gap, overlap recomputed by hand
    tr = _read_out(occ / "transitions.csv")
    assert len(tr) > 100 and (tr["jobs_lost"] >= 10).all() and (tr["gap"] > 0).all()
    w = prof.pivot_table(index="occupation", columns="skill", values="weight").fillna(0.0)
    for r in tr.head(20).itertuples():
        a, b = w.loc[r.occupation], w.loc[r.from_occupation]
        assert abs(r.overlap - (a.clip(upper=b).sum() / a.clip(lower=b).sum())) < 1e-9


def _check_rouen(folder: Path) -> None:
    """Both reports, labelled sectors, private jobs summed from published cells only."""
    out = folder / "rouen-report"
    for part in ("sectors", "occupations"):
        for name in ("report.html", "report.xlsx", "forecast.csv", "openings.csv"):
            assert (out / part / name).stat().st_size > 0, f"{part}/{name}"
    op = _read_out(out / "sectors" / "openings.csv")
    assert op["occupation_label"].notna().all()  # NA38 labels in the outputs
    fc = _read_out(out / "sectors" / "forecast.csv")
    assert fc["period"].max() == 2030
    prov = (out / "sectors" / "provenance.toml").read_text(encoding="utf-8")
    assert "never 0" in prov and "sector_to_fap" in prov  # the assumptions are written
    for name in (
        "fap87_vs_departement_2019.csv",
        "urssaf_vs_comparateur_2018.csv",
        "reconciliation_commune_epci_zone.csv",
        "openings_vs_bmo_2023.csv",
    ):
        assert (out / "checks" / name).stat().st_size > 0, name  # fmt: skip
    # the seats' mapping quality is in both reports of the occupations run
    html = (out / "occupations" / "report.html").read_text(encoding="utf-8")
    assert 'id="supply"' in html and "non rattachée" in html
    assert 'id="skills"' in html and 'id="transitions"' in html  # skill gaps, reconversions
    q = _read_out(out / "occupations" / "mapping_quality.csv").set_index("reason")
    assert q.loc["code", "seats_share"] > 0.8 and abs(q["seats_share"].sum() - 1) < 1e-9
    prov = (out / "occupations" / "provenance.toml").read_text(encoding="utf-8")
    assert "training_seats_eure" in prov and "macro-compétences" in prov
    _check_rouen_skills(out, REAL_DATA)


CHECKS = {
    "forecast_territory.py": _check_forecast,
    "ardenne_openings_2030.py": _check_ardenne,
    "training_gaps.py": _check_gaps,
    "plant_closure_scenario.py": _check_scenario,
    "training_scenarios.py": _check_training_scenarios,
    "rouen_real.py": _check_rouen,
}

# script -> (extra arguments, files it must write, text its output must contain, slow?)
CASES = {
    "forecast_territory.py": (
        [],
        ["forecast_rouen.csv", "forecast_rouen.png"],
        "Backtest accuracy",
        False,
    ),
    "ardenne_openings_2030.py": (
        [],
        ["ardenne_openings.csv", "ardenne_skill_needs.csv"],
        "Openings 2025-2030",
        False,
    ),
    "training_gaps.py": (
        [],
        ["training_entrants.csv", "training_gaps.csv", "training_surplus.csv"],
        "Largest gaps",
        True,
    ),
    "plant_closure_scenario.py": (
        [],
        ["scenario_comparison.csv"],
        "Change against the baseline",
        True,
    ),
    "training_scenarios.py": (
        [],
        ["training_scenarios.csv"],
        "closes",
        False,
    ),
    "rouen_real.py": (
        [],
        ["rouen-report"],
        "Private salaried jobs",
        False,
    ),
    "national_dask.py": (
        ["--n-series", "1000", "--n-slow", "10"],
        ["national_forecast.csv"],
        "series/s",
        True,
    ),
}


def _params():
    for name, (args, files, text, slow) in CASES.items():
        marks = [pytest.mark.slow] if slow else []
        yield pytest.param(name, args, files, text, id=name, marks=marks)


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in CASES:
        assert name in readme, f"{name} is not listed in examples/README.md"


@pytest.mark.parametrize(("script", "args", "files", "text"), list(_params()))
def test_example_runs(script, args, files, text, tmp_path, request):
    if script == "rouen_real.py":
        request.getfixturevalue("real_data")  # the real files beside the repository
    if script == "national_dask.py":
        pytest.importorskip("distributed", reason="needs dask[distributed] (the 'dask' extra)")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert text in proc.stdout
    assert "Traceback" not in proc.stderr
    for name in files:
        path = tmp_path / name
        assert (path.is_dir() and any(path.iterdir())) or (
            path.is_file() and path.stat().st_size > 0
        ), f"{script} did not write {name}"
        if name.endswith(".csv"):
            table = pd.read_csv(path, dtype={"territory": str, "occupation": str})
            assert len(table) > 0
            assert not table.columns.str.startswith("Unnamed").any()  # no index column
        if name.endswith(".png"):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if script in CHECKS:
        CHECKS[script](tmp_path)
    # nothing else is left behind in the folder than what the script announces
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)
