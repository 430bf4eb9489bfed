"""The path "planner with official files -> gpec run -> report", proved on the real public files.

A national FAP study: DARES portraits series (employment 2004-2018, age pyramid 2017-2019,
territories from the tension file), ROME 4.0 skills chained to FAP 2009 through the DARES
crosswalk, LHÉO training offers. What a ``gpec.toml`` cannot express yet (one FAP level, skill
profiles converted between occupation systems, offer sites at communes) is done here with the
Python API, exactly as ``examples/real_files/national_fap.py`` and
``docs/tutorial-own-data.md`` show; the configurations of ``examples/real_files/`` are checked
with ``gpec validate`` and ``gpec run``.

Every test skips when ``../shared/data/real`` is absent. The BMO workbooks are not used (slow).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _helpers import DARES_AGE_BANDS, check_gaps_against_openings, csv_records

from gpec import GpecData
from gpec.config import load_config
from gpec.ingest import read_crosswalk
from gpec.pipeline import load_data, write_inputs
from gpec.referentials import apply_crosswalk, compose_crosswalks, make_crosswalk
from gpec.report._csv import read_output_csv

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DIR = REPO / "examples" / "real_files"
DARES = "dares-portrait-stat-metiers"


@functools.cache
def _example_module():
    spec = importlib.util.spec_from_file_location("national_fap", EXAMPLE_DIR / "national_fap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _read_all(real: Path) -> dict[str, GpecData]:
    """Each official file of the study, read once per session by its reader."""
    parts = dict(_example_module().read_sources(real))
    parts["fap_rome"] = read_crosswalk(real / DARES / "fap225_rome.csv")
    return parts


@functools.cache
def _study(real: Path):
    parts = {k: v for k, v in _read_all(real).items() if k != "fap_rome"}
    return _example_module().build_study(real, seats=20.0, parts=parts)


def _fap225(parts) -> set[str]:
    occ = parts["employment"].occupations
    return set(occ.loc[occ["level"].eq("fap225"), "occupation"]) - {"ZZZZZ", "T2Z60"}


# ------------------------------------------------------------------ row accounting per reader
# file -> (rows read, kept, rejected), as published in ../shared/data/real
EXPECTED_ROWS = {
    "effectifs_3niv.csv": (36, 36, 0),
    "age_2017_2019_3niv.csv": (3060, 3059, 1),
    "tensions.csv": (31034, 31034, 0),
    "passage_fap2009_romev3.txt": (559, 559, 0),
    "fap225_rome.csv": (768, 749, 19),
    "carif.xml": (10, 10, 0),
    "exemple-bts-onisep.xml": (1, 1, 0),
    "unix_referentiel_code_rome_v460_utf8.csv": (1584, 1584, 0),
    "unix_coherence_item_v460_utf8.csv": (104219, 104219, 0),
}


def test_every_reader_accounts_for_every_row(real_data):
    parts = _read_all(real_data)
    seen = {}
    for part in parts.values():
        acc = part.meta["row_accounting"]
        for file, c in acc.items():
            assert c["read"] == c["kept"] + c["rejected"], (file, c)
            seen[file] = (c["read"], c["kept"], c["rejected"])
        # every rejected row is reported once at least, with a reason
        rej = part.rejected
        assert rej["reason"].astype(str).str.len().gt(0).all()
        for file, c in acc.items():
            assert rej.loc[rej["file"].eq(file), "row"].nunique() == c["rejected"]
    for file, expected in EXPECTED_ROWS.items():
        assert seen[file] == expected, file


def test_reader_tables_have_expected_shape(real_data):
    parts = _read_all(real_data)
    emp = parts["employment"]
    assert emp.meta["moving_average"] == 3  # 3-year moving averages, flagged
    assert set(emp.employment["territory"]) == {"FR"}
    assert emp.employment["period"].between(1983, 2018).all()
    assert parts["rome"].occupations["level"].eq("fiche").sum() == 1584
    assert parts["rome"].meta["version"] == "460"
    terr = parts["territories"].territories
    assert terr["level"].value_counts().to_dict() == {"departement": 100, "region": 17, "nation": 1}
    offers = pd.concat(
        [
            parts["offers:carif.xml"].training_offers,
            parts["offers:exemple-bts-onisep.xml"].training_offers,
        ]
    )
    assert len(offers) == 11 and offers["offer"].is_unique
    # the real feeds give no seats: flagged, never turned into 0
    assert offers["seats"].isna().all() and offers["seats_unknown"].all()
    assert offers["rome"].notna().all() and offers["departement"].isin(["75", "29"]).all()


# ------------------------------------------------------------------ harmonisation steps
def test_one_fap_level_keeps_every_job(real_data):
    """FAP225 (without the T2Z60 aggregate) partitions the DARES total exactly."""
    parts = _read_all(real_data)
    emp = parts["employment"].employment
    level = parts["employment"].occupations.set_index("occupation")["level"]
    wide = emp.pivot_table(index="period", columns="occupation", values="value").loc[2004:2018]
    # T2Z / T2Z60 are DARES aggregate columns: T2A + T2B, with no label of their own
    np.testing.assert_allclose(wide["T2Z60"], wide["T2A60"] + wide["T2B60"], rtol=1e-6)
    np.testing.assert_allclose(wide["T2Z"], wide["T2A"] + wide["T2B"], rtol=1e-6)
    assert set(_example_module().EXCLUDED) == {"T2Z60", "T2Z", "ZZZZZ", "ZZZ"}
    fap225 = [c for c in wide.columns if level[c] == "fap225" and c != "T2Z60"]
    fap87 = [c for c in wide.columns if level[c] == "fap87" and c not in ("T2Z", "ENS")]
    np.testing.assert_allclose(wide[fap225].sum(axis=1), wide["ENS"], rtol=1e-7)
    np.testing.assert_allclose(wide[fap87].sum(axis=1), wide["ENS"], rtol=1e-7)
    # mixing levels would count each job 3 times (+ the total): one level must be chosen
    assert emp.loc[emp["period"].eq(2018), "value"].sum() > 3.9 * wide.loc[2018, "ENS"]
    fap = _fap225(parts)
    kept = emp[emp["occupation"].isin(fap)]
    assert len(fap) == 225 and len(kept) == 225 * 15  # 2004-2018, complete series
    assert kept.groupby("occupation")["period"].agg(["min", "max"]).eq([2004, 2018]).all().all()
    age = parts["workforce_age"].workforce_age
    age = age[age["occupation"].isin(fap)]
    assert set(age["age_band"]) == DARES_AGE_BANDS
    assert len(age) == 225 * 9 - 1  # one 'NA' cell, rejected by the reader
    # the pyramid and the series agree on the 2017-2019 total (centre year 2018)
    assert age["value"].sum() == pytest.approx(
        kept.loc[kept["period"].eq(2018), "value"].sum(), rel=0.01
    )


def test_rome4_chains_to_fap2009(real_data):
    parts = _read_all(real_data)
    rome3_fap = parts["rome_fap"].crosswalks.query(
        "source_system == 'ROME3' and target_system == 'FAP2009'"
    )
    r4f, unchained = compose_crosswalks(parts["rome"].crosswalks, rome3_fap)
    assert len(unchained) == 0
    assert r4f["source"].nunique() == 1584  # every ROME 4.0 fiche reaches a FAP
    np.testing.assert_allclose(r4f.groupby("source")["weight"].sum(), 1.0)
    assert r4f["target"].isin(_fap225(parts)).all()
    # the other DARES table (fap225_rome.csv) misses one ROME v3 fiche reached from ROME 4.0
    other = parts["fap_rome"].crosswalks.query(
        "source_system == 'ROME3' and target_system == 'FAP2009'"
    )
    _, lost = compose_crosswalks(parts["rome"].crosswalks, other)
    assert lost["target"].tolist() == ["L1510"]


def test_fap_skill_profiles(real_data):
    mod = _example_module()
    parts = _read_all(real_data)
    rome = parts["rome"]
    rome3_fap = parts["rome_fap"].crosswalks.query(
        "source_system == 'ROME3' and target_system == 'FAP2009'"
    )
    r4f, _ = compose_crosswalks(rome.crosswalks, rome3_fap)
    prof = mod.fap_profiles(rome.occupation_skills, r4f)
    assert prof["occupation"].nunique() == 208  # the FAP that some ROME fiche feeds
    assert prof["weight"].between(0, 1, inclusive="right").all()
    assert not prof.duplicated(["occupation", "skill"]).any()
    assert prof["skill"].isin(set(rome.skills["skill"])).all()
    # a FAP fed by a single ROME fiche (whole) gets that fiche's profile exactly
    whole = r4f[r4f["weight"].eq(1.0)]
    single = whole.groupby("target").filter(lambda g: len(g) == 1)
    single = single[~single["target"].isin(r4f.loc[r4f["weight"] < 1, "target"])]
    assert len(single)
    fap, fiche = single.iloc[0][["target", "source"]]
    want = rome.occupation_skills.query("occupation == @fiche").set_index("skill")["weight"]
    got = prof.query("occupation == @fap").set_index("skill")["weight"]
    pd.testing.assert_series_equal(
        got.sort_index(), want.sort_index(), check_names=False, check_index_type=False
    )


def test_apply_crosswalk_on_real_employment(real_data):
    """FAP225 employment -> ROME v3: total kept exactly, FAP without a ROME reported."""
    parts = _read_all(real_data)
    emp = parts["employment"].employment
    emp = emp[emp["occupation"].isin(_fap225(parts)) & emp["period"].eq(2018)]
    emp = emp.reset_index(drop=True)
    fap_rome = parts["fap_rome"].crosswalks
    out, rejected = apply_crosswalk(emp, fap_rome, source_system="FAP2009", target_system="ROME3")
    unmapped = emp.loc[rejected["row"].astype(int), "value"].sum()
    assert out["value"].sum() + unmapped == pytest.approx(emp["value"].sum(), rel=1e-12)
    assert 0 < len(rejected) < 30 and set(rejected["reason"]) == {
        "no crosswalk entry for this code"
    }
    assert out["occupation"].str.fullmatch(r"[A-N]\d{4}").all()


# ------------------------------------------------------------------ the whole chain
@functools.cache
def _national_run(real: Path):
    mod = _example_module()
    data, log = _study(real)
    from gpec.pipeline import run_pipeline

    # strict=False: the DARES age file's one 'NA' cell is a reader rejection (rejected.csv)
    return data, log, run_pipeline(data, {**mod.CONFIG, "forecast": {"horizon": 4}}, strict=False)


def test_build_study_bundle_is_valid(real_data):
    data, log = _study(real_data)
    clean = data.validate(strict=False)
    rejected = clean.rejected
    # the only rejection is the reader's 'NA' cell of the age file
    assert len(rejected) == 1 and rejected.iloc[0]["table"] == "workforce_age"
    assert len(clean.employment) == 225 * 15
    assert len(clean.training_offers) == 11 and clean.training_offers["seats"].eq(20).all()
    assert set(clean.occupation_skills["occupation"]) <= _fap225(_read_all(real_data))
    assert log["crosswalk"]["rome4_chained"] == 1584
    # every offer's ROME v3 codes become FAP shares summing to 1
    for codes in clean.training_offers["rome"]:
        pairs = [c.split(":") for c in codes.split(";")]
        assert all(len(code) == 5 for code, _ in pairs)
        assert sum(float(w) for _, w in pairs) == pytest.approx(1.0, abs=1e-5)
    assert log["offers"] == {"rows": 11, "seats_assumed": 11, "mapped_to_fap": 11}


@pytest.mark.slow
def test_national_fap_pipeline(real_data):
    data, _, res = _national_run(real_data)
    fap = _fap225(_read_all(real_data))
    # forecasts: every FAP225 series, 4 years after 2018, intervals ordered and >= 0
    fc = res.forecast[res.forecast["territory"].eq("FR")]
    assert set(fc["occupation"]) == fap
    assert sorted(fc["period"].unique()) == [2019, 2020, 2021, 2022]
    assert (fc["lower"] >= 0).all()
    fc = fc[fc["level"].eq(80)]  # the interval the openings use (80 and 95 are given)
    # the 2019 forecast of all FAP stays near the 2018 total of the raw DARES file (ENS,
    # thousands), a quantity the forecaster never sees as such
    raw = pd.read_csv(real_data / DARES / "effectifs_3niv.csv", index_col="Annee")
    total_2018 = raw.loc[2018, "ENS"] * 1000.0
    assert fc.loc[fc["period"].eq(2019), "mean"].sum() == pytest.approx(total_2018, rel=0.05)
    # openings, component by component, against the inputs
    op = res.openings.set_index(["occupation", "period"]).sort_index()
    assert len(op) == len(fap) * 4 and (op["turnover"] == 0).all()  # no turnover configured
    mean = fc.set_index(["occupation", "period"])["mean"].sort_index()
    base = data.employment.query("period == 2018").set_index("occupation")["value"]
    before = mean.groupby(level="occupation").shift(1)
    before = before.fillna(
        pd.Series(base.reindex(mean.index.get_level_values(0)).to_numpy(), index=mean.index)
    )
    np.testing.assert_allclose(op["expansion"], (mean - before).loc[op.index], atol=1e-6)
    # year-1 departures bracketed by the raw pyramid (age_2017_2019_3niv.csv, plain pandas):
    # every worker of 60 or more leaves at >= 0.25 a year, nobody under 50 leaves, nobody at
    # more than 0.45 a year
    age = pd.read_csv(
        real_data / DARES / "age_2017_2019_3niv.csv", encoding="latin-1", dtype={"fap": str}
    ).dropna(subset=["annee_2017_2019"])
    age = age[age["fap"].isin(fap)].pivot_table(
        index="fap", columns="tr_age", values="annee_2017_2019", aggfunc="sum"
    )
    complete = age.dropna().index  # the FAP whose 'NA' cell is rejected is left out
    share = age.loc[complete].div(age.loc[complete].sum(axis=1), axis=0)
    e18 = base.reindex(complete)
    first = op.xs(2019, level="period")["replacement"].reindex(complete)
    at_least = 0.25 * share["60 ans ou plus"] * e18
    at_most = 0.45 * share[["50-54 ans", "55-59 ans", "60 ans ou plus"]].sum(axis=1) * e18
    assert len(complete) >= 224
    assert (first >= at_least - 1e-6).all() and (first <= at_most + 1e-6).all()
    yearly = op.groupby(level="period")["openings"].sum()
    # national openings: hundreds of thousands a year (27 M jobs, ~2-3 % retiring)
    assert (yearly > 2e5).all() and (yearly < 3e6).all()
    # gaps: the openings of the demand stage (negative ones count as 0), bounds from its
    # interval, and the two sides of the allocation (openings filled, entrants sent) agree
    check_gaps_against_openings(res.gaps, res.openings, atol=1e-6)
    g = res.gaps.set_index(["occupation", "period"]).sort_index()
    assert g["occupation_label"].notna().all() and g["territory_label"].eq("France").all()
    # supply: 11 offers x 20 seats x 0.8 x 0.7 entrants a year, mapped through the ROME codes
    ent = res.entrants
    per_offer = ent.groupby("offer")["share"].sum()
    np.testing.assert_allclose(per_offer, 1.0)
    assert ent["entrants"].sum() == pytest.approx(11 * 20 * 0.8 * 0.7)
    assert set(ent.loc[ent["occupation"].notna(), "occupation"]) <= fap
    assert ent["reason"].eq("code").all()  # the ROME codes of every offer reach a FAP
    # each offer x occupation sends at most its entrants; what is sent fills openings
    s = res.surplus
    per_node = ent.groupby(["offer", "occupation"])["entrants"].sum()
    sent = s.set_index(["offer", "occupation"])["allocated"]
    assert (sent <= per_node.reindex(sent.index).to_numpy() + 1e-6).all()
    by_year = g.groupby(level="period")["entrants_allocated"].sum()
    np.testing.assert_allclose(by_year, s.groupby("period")["allocated"].sum(), atol=1e-6)
    # skills: ROME 4.0 skills through the FAP profiles
    assert len(res.skill_needs) and res.skill_needs["need"].sum() > 0
    assert res.skill_gaps["skill"].isin(set(data.skills["skill"])).all()
    assert res.provenance["rows"]["employment"] == 225 * 15


@pytest.mark.slow
def test_national_results_write_reports(real_data, tmp_path):
    from openpyxl import load_workbook

    from gpec.report import write_excel, write_html

    _, _, res = _national_run(real_data)
    files = {p.name for p in res.write(tmp_path, reports=False)}
    for name in ("gaps.csv", "openings.csv", "forecast.csv", "skill_gaps.csv", "rejected.csv"):
        assert name in files
    gaps = pd.read_csv(tmp_path / "gaps.csv", dtype={"territory": str, "occupation": str})
    assert gaps["occupation"].str.fullmatch(r"[A-X]\d[A-Z]\d{2}").all()
    assert len(gaps) == len(res.gaps)
    html = write_html(res, tmp_path / "report.html")
    text = Path(html).read_text(encoding="utf-8")
    assert len(text) > 10_000 and "France" in text
    # the workbook of the national run (about 120,000 skill-gap rows) is written in seconds
    wb = load_workbook(write_excel(res, tmp_path / "report.xlsx"), read_only=True)
    assert {"Summary", "Gaps", "Skill gaps"} <= set(wb.sheetnames), wb.sheetnames


# ------------------------------------------------------------------ configs and the CLI
def _gpec(*args, cwd=None, timeout=600):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "gpec.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _rome_with_tables_config(real: Path, folder: Path) -> Path:
    """The demo's canonical CSV tables, with occupations and skills from the official ROME."""
    from gpec.datasets import load_demo

    config = write_inputs(load_demo(), folder)
    for name in ("occupations", "skills", "occupation_skills"):
        (folder / f"{name}.csv").unlink()
    text = "\n".join(
        line
        for line in config.read_text(encoding="utf-8").splitlines()
        if not line.startswith(("occupations =", "skills =", "occupation_skills ="))
    )
    rome = (real / "rome4-v460").as_posix()
    config.write_text(text + f'\n[data.rome]\npath = "{rome}"\nformat = "rome"\n', encoding="utf-8")
    return config


def test_rome_plus_csv_tables_load(real_data, tmp_path):
    cfg = load_config(_rome_with_tables_config(real_data, tmp_path))
    assert cfg["data"]["rome"]["format"] == "rome"
    data = load_data(cfg)
    # the ROME reader's tables + the CSV tables, one bundle
    assert data.occupations["level"].eq("fiche").sum() == 1584
    assert len(data.occupation_skills) > 80_000 and len(data.skills) > 30_000
    assert set(data.employment["territory"]) <= set(data.territories["territory"])
    clean = data.validate(strict=False)
    rejected = clean.rejected
    assert len(rejected) == 0  # every demo ROME code is a ROME 4.0 v460 fiche
    assert len(clean.employment) == len(data.employment)
    assert clean.crosswalks["source_system"].eq("ROME4").all()


def test_rome_plus_csv_tables_run_matches_offers_with_appellations(real_data, tmp_path):
    from gpec.pipeline import run_pipeline

    cfg = load_config(_rome_with_tables_config(real_data, tmp_path))
    cfg = cfg.replace(forecast={"horizon": 2, "models": "naive"})
    data = load_data(cfg)
    res = run_pipeline(data, cfg)
    # the ROME appellations (13,120 records in the official file) are the known titles of
    # text matching
    titles = csv_records(real_data / "rome4-v460" / "unix_referentiel_appellation_v460_utf8.csv")
    assert res.provenance["text_matching_titles"] == titles
    ent = res.entrants
    text = ent[ent["reason"] == "text"]
    assert len(text) and text["occupation"].isin(set(data.occupations["occupation"])).all()
    # only fiches (the level that carries employment), never a grand domaine or a domaine
    level = data.occupations.set_index("occupation")["level"]
    assert text["occupation"].map(level).eq("fiche").all()
    assert ent.groupby("offer")["share"].sum().round(6).eq(1).all()


def _example_config(name: str, real: Path, tmp_path: Path) -> Path:
    """An example config with its real-data paths pointed at ``real`` (they are relative)."""
    text = (EXAMPLE_DIR / name).read_text(encoding="utf-8")
    default = "../../../shared/data/real"
    assert default in text
    out = tmp_path / name
    out.write_text(
        text.replace(default, real.as_posix()).replace(
            "../../gpec/", (REPO / "gpec").as_posix() + "/"
        ),
        encoding="utf-8",
    )
    return out


@pytest.mark.parametrize("name", ["gpec.toml", "rome_with_tables.toml"])
def test_example_configs_validate(real_data, tmp_path, name):
    proc = _gpec("validate", str(_example_config(name, real_data, tmp_path)))
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "employment: " in proc.stdout
    if name == "gpec.toml":
        # the DARES 'NA' age cell is the one row the readers reject
        assert proc.returncode == 1 and "1 problem(s)" in proc.stdout
        assert "age_2017_2019_3niv.csv" in proc.stdout
    else:  # [data.rome] + plain CSV tables: every row usable
        assert proc.returncode == 0 and "no problem found" in proc.stdout
        assert "occupation_skills: " in proc.stdout


def test_example_config_paths_resolve_in_repo(real_data):
    """As committed, the example configs point at ../shared/data/real beside the repo."""
    for name in ("gpec.toml", "rome_with_tables.toml"):
        cfg = load_config(EXAMPLE_DIR / name)
        for spec in cfg["data"].values():
            assert Path(spec["path"]).exists(), spec["path"]


@pytest.mark.slow
def test_gpec_run_national_config(real_data, tmp_path):
    config = _example_config("gpec.toml", real_data, tmp_path)
    out = tmp_path / "out"
    proc = _gpec("--quiet", "run", str(config), "--out", str(out), "--lenient")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the configuration asks for French reports, so its CSV files are in the French dialect
    codes = {"territory": str, "occupation": str}
    gaps = read_output_csv(out / "gaps.csv", "fr", dtype=codes)
    assert set(gaps["territory"]) == {"FR"}
    assert gaps["openings"].sum() > 0
    # gaps.csv against openings.csv: the demand side's openings and interval
    op = read_output_csv(out / "openings.csv", "fr", dtype=codes)
    check_gaps_against_openings(gaps, op, atol=1e-3)
    assert (out / "report.xlsx").is_file() and (out / "report.html").is_file()
    rejected = read_output_csv(out / "rejected.csv", "fr")
    assert len(rejected) == 1


def test_wrong_reader_is_one_line_error(real_data, tmp_path):
    """A ROME folder declared as a DARES table: exit 2, one line, no traceback."""
    config = tmp_path / "gpec.toml"
    config.write_text(
        f'[data.employment]\npath = "{(real_data / "rome4-v460").as_posix()}"\nformat = "dares"\n',
        encoding="utf-8",
    )
    proc = _gpec("validate", str(config))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("gpec: error: ") and len(proc.stderr.strip().splitlines()) == 1


def test_make_crosswalk_roundtrip_on_real_pairs(real_data):
    """A planner's own pairs table (as in fap225_rome.csv) becomes a valid crosswalk."""
    pairs = pd.read_csv(
        real_data / DARES / "fap225_rome.csv", sep=";", encoding="latin-1", dtype=str
    ).dropna(subset=["Fap", "Rome"])
    pairs = pairs[pairs["Rome"].ne("NA")]
    cw = make_crosswalk(
        pairs, source="Rome", target="Fap", source_system="ROME3", target_system="FAP2009"
    )
    np.testing.assert_allclose(cw.groupby("source")["weight"].sum(), 1.0)
    assert GpecData(crosswalks=cw).validate().crosswalks.shape[0] == len(cw)
