"""The held-out check of the plan totals (gpec.demand.heldout_plan_totals) and its wiring into
run_pipeline, the output files and the reports ([forecast] heldout_check)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpec.demand import DEFAULT_EXIT_RATES, HELDOUT_COLUMNS, heldout_plan_totals
from gpec.exceptions import GpecError

#: No end-of-career departure: the openings are then the yearly changes of employment alone,
#: which a test can sum by hand.
NO_EXITS = dict.fromkeys(DEFAULT_EXIT_RATES.index, 0.0)


def flat_noisy_panel(first=1995, last=2018, n_terr=4, n_occ=10, level=500.0, sd=25.0, seed=1):
    """Cells flat at ``level`` plus independent N(0, sd²) noise each year: the trend adds no
    opening, the noise's yearly ups do (about sd / sqrt(pi) per cell and year)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_terr):
        for o in range(n_occ):
            for y in range(first, last + 1):
                rows.append((f"T{t}", f"O{o}", y, level + rng.normal(0.0, sd)))
    return pd.DataFrame(rows, columns=["territory", "occupation", "period", "value"])


def by_hand(panel: pd.DataFrame, origin: int, h: int, leave_out=()) -> tuple[float, float]:
    """Net openings and openings to fill of the observed years without departures: the sum of
    the yearly changes from the year before the origin, and the sum of their positive parts,
    over the cells but those left out."""
    net = fill = 0.0
    for key, cell in panel.groupby(["territory", "occupation"]):
        if key in leave_out:
            continue
        v = cell.set_index("period")["value"].reindex(range(origin - 1, origin + h))
        changes = np.diff(v.to_numpy(dtype=float))
        net += changes.sum()
        fill += np.maximum(changes, 0.0).sum()
    return net, fill


#: The two incomplete cells of the ``noisy`` panel, and the origins they cannot be compared at:
#: A lacks 2016 (held out from 2012 and from 2014), B lacks 2013 (held out from 2010 and 2012,
#: the last training year of 2014).
A, B = ("T9", "O0"), ("T9", "O1")
LEFT_OUT = {2008: [], 2010: [B], 2012: [A, B], 2014: [A, B]}


@pytest.fixture(scope="module")
def noisy():
    panel = flat_noisy_panel()
    # two cells the check must leave out: one unobserved in a held-out year of every origin,
    # one unobserved in the last training year of origin 2014 (a held-out year of the others)
    extra = flat_noisy_panel(n_terr=1, n_occ=2, seed=2).assign(territory="T9")
    extra.loc[(extra["occupation"] == "O0") & (extra["period"] == 2016), "value"] = np.nan
    extra.loc[(extra["occupation"] == "O1") & (extra["period"] == 2013), "value"] = np.nan
    panel = pd.concat([panel, extra], ignore_index=True)
    check = heldout_plan_totals(
        panel, forecaster={"models": "naive"}, n_paths=300, openings_kwargs={"exit_rates": NO_EXITS}
    )
    return panel, check


def test_observed_totals_are_the_yearly_changes_summed_by_hand(noisy):
    """What happened = the sums of the observed yearly changes (and of their positive parts)
    over the cells observed in the year before the origin and in each held-out year."""
    panel, check = noisy
    assert list(check.columns) == HELDOUT_COLUMNS
    origins = [2008, 2010, 2012, 2014]  # 2014 = 2018 - 5 + 1, then every 2 years back, 4
    assert sorted(set(check["origin"])) == origins
    assert (check["years"] == 5).all()
    for origin in origins:
        net, fill = by_hand(panel, origin, 5, LEFT_OUT[origin])
        rows = check[check["origin"] == origin].set_index("quantity")
        assert (rows["cells"] == 42 - len(LEFT_OUT[origin])).all()
        assert rows.loc["net_openings", "observed"] == pytest.approx(net, rel=1e-9, abs=1e-6)
        assert rows.loc["openings_to_fill", "observed"] == pytest.approx(fill, rel=1e-9)
        assert rows.loc["openings_to_fill", "plan_period"] == f"{origin}-{origin + 4}"


def test_noise_the_central_figure_misses_and_the_paths_carry(noisy):
    """ "No change" forecasts every cell flat: its central openings to fill are 0 (−100 %),
    while the noise's yearly ups did open jobs. The paths carry the backtest's year-to-year
    errors, so their median of the openings to fill comes within 40 % of what happened (with
    13 to 19 training years; with 7 or 8 the scale of the errors is itself too noisy)."""
    _, check = noisy
    fill = check[check["quantity"] == "openings_to_fill"]
    assert np.allclose(fill["central"], 0.0, atol=1e-6)
    assert np.allclose(fill["central_error_pct"], -100.0)
    assert (fill["median_error_pct"].abs() < 40).all(), fill["median_error_pct"].tolist()
    assert (fill["lower"] <= fill["upper"]).all() and (fill["n_paths"] == 300).all()


def test_inside_says_whether_the_interval_held_what_happened(noisy):
    _, check = noisy
    held = (check["lower"] <= check["observed"]) & (check["observed"] <= check["upper"])
    assert (check["inside"].astype(bool) == held).all()


def test_same_seed_same_check_and_the_seed_matters():
    panel = flat_noisy_panel(n_terr=1, n_occ=4)
    kw = dict(forecaster={"models": "naive"}, n_paths=100, origins=[2014])
    a = heldout_plan_totals(panel, **kw, random_state=3)
    b = heldout_plan_totals(panel, **kw, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    c = heldout_plan_totals(panel, **kw, random_state=4)
    assert not np.allclose(a["median"], c["median"])


@pytest.mark.parametrize(
    ("first", "last", "years", "origins"),
    [
        (2005, 2022, 5, [2012, 2014, 2016, 2018]),  # 2018 + 4 = 2022, then every 2 years
        (2010, 2022, 5, [2016, 2018]),  # 2014 would leave 4 training years (< 6)
        (2015, 2022, 2, [2021]),  # 8 years: 6 to train, 2 held out
    ],
)
def test_default_origins_and_held_out_years(first, last, years, origins):
    panel = flat_noisy_panel(first, last, n_terr=1, n_occ=2)
    check = heldout_plan_totals(panel, forecaster={"models": "naive"}, n_paths=0)
    assert sorted(set(check["origin"])) == origins
    assert (check["years"] == years).all()
    # without paths: the central figure only, said as missing, never as a number
    assert check["median"].isna().all() and check["inside"].isna().all()


def test_a_panel_too_short_says_so():
    panel = flat_noisy_panel(2015, 2020, n_terr=1, n_occ=2)  # 6 years: none left to hold out
    with pytest.raises(GpecError, match=r"covers 2015-2020 \(6 years\), too short"):
        heldout_plan_totals(panel, forecaster={"models": "naive"})
    with pytest.raises(GpecError, match="origin 2008 needs 6 training years"):
        heldout_plan_totals(
            flat_noisy_panel(2005, n_terr=1, n_occ=2),
            forecaster={"models": "naive"},
            origins=[2008],
        )


@pytest.mark.parametrize(
    ("key", "value"), [("horizon", 0), ("n_origins", 0), ("step", 1.5), ("min_train", 1)]
)
def test_bad_settings_say_which(key, value):
    with pytest.raises(GpecError, match=f"{key} must be an integer"):
        heldout_plan_totals(flat_noisy_panel(n_terr=1, n_occ=1), **{key: value})


def test_no_cell_observed_throughout_says_so():
    panel = flat_noisy_panel(2005, n_terr=1, n_occ=2)
    panel.loc[panel["period"] == 2016, "value"] = np.nan  # in every held-out period
    with (
        pytest.raises(GpecError, match="no cell is observed throughout"),
        pytest.warns(UserWarning, match=r"origin\(s\) 2012, 2014 left out"),
    ):
        heldout_plan_totals(panel, forecaster={"models": "naive"}, origins=[2012, 2014])


def test_without_paths_the_report_table_says_neither_inside_nor_outside(tmp_path):
    """n_paths=0: no interval, so `inside` is empty, not "no" (in the run and read back from
    its CSV file)."""
    from types import SimpleNamespace

    from gpec.report._csv import read_output_csv, write_output_csv
    from gpec.report._heldout import heldout_view

    panel = flat_noisy_panel(first=2005, last=2016, n_terr=2, n_occ=3)
    table = heldout_plan_totals(panel, forecaster={"models": "naive"}, n_paths=0, n_origins=1)
    assert table["inside"].isna().all()
    path = write_output_csv(table, tmp_path / "plan_totals_heldout.csv", "en")
    for t in (table, read_output_csv(path)):
        view = heldout_view(SimpleNamespace(plan_totals_heldout=t, provenance={}))
        assert view["inside"].tolist() == ["", ""]


# ----------------------------------------------------------------------------- pipeline
def _small_demo():
    """Three EPCI of the demo (a few hundred series): a run of a few seconds."""
    from gpec import GpecData
    from gpec.datasets import load_demo

    demo = load_demo()
    epci = sorted(demo.territories.loc[demo.territories["level"] == "epci", "territory"])[:3]
    keep = demo.territories["territory"].isin(epci) | demo.territories["level"].ne("epci")
    terr = demo.territories[keep]
    parts = {
        name: table[table["territory"].isin(epci)] if "territory" in table.columns else table
        for name, table in demo.tables.items()
        if name not in ("territories", "training_offers", "hiring_intentions")
    }
    return GpecData(territories=terr, **parts)


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory):
    from gpec.pipeline import run_pipeline

    data = _small_demo()
    out = {}
    for setting in ("on", "off"):
        cfg = {"forecast": {"heldout_check": setting, "horizon": 5}, "run": {"lang": "en"}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = run_pipeline(data, cfg)
        folder = tmp_path_factory.mktemp(setting)
        res.write(folder)
        out[setting] = (res, folder)
    return data, out


def test_pipeline_writes_the_check_when_on(small_runs):
    data, runs = small_runs
    res, folder = runs["on"]
    table = pd.read_csv(folder / "plan_totals_heldout.csv")
    assert list(table.columns) == HELDOUT_COLUMNS and len(table) >= 2
    # the pipeline's check is the library's on the run's level, seed and demand parameters
    assert res.provenance["plan_totals_heldout"]["status"] == "ran"
    assert res.provenance["plan_totals_heldout"]["origins"] == sorted(set(table["origin"]))
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "Plan totals on the study&#x27;s own past" in report
    assert "On this study&#x27;s own past (origins" in report
    import openpyxl

    wb = openpyxl.load_workbook(folder / "report.xlsx", read_only=True)
    assert "Held-out check" in wb.sheetnames
    prov = (folder / "provenance.toml").read_text(encoding="utf-8")
    assert "[plan_totals_heldout]" in prov and 'status = "ran"' in prov


def test_reports_rebuilt_from_the_files_keep_the_check(small_runs, tmp_path):
    """`gpec report DIR` reads plan_totals_heldout.csv back (its `inside` as text) and says
    the same sentence as the run's own report."""
    from gpec.report import load_results, write_html

    _, runs = small_runs
    res, folder = runs["on"]
    again = write_html(load_results(folder), tmp_path / "again.html").read_text(encoding="utf-8")
    first = (folder / "report.html").read_text(encoding="utf-8")
    sentence = first[first.index("On this study") : first.index("origins.</p>")]
    assert sentence in again


def test_pipeline_check_matches_the_library_call(small_runs):
    """The pipeline refits its own forecast stage; without reconciliation that is the
    library's default forecaster with the run's parameters, so the tables agree."""
    data, runs = small_runs
    res, _ = runs["on"]
    from gpec.config import resolve_config

    fc = resolve_config({"forecast": {"horizon": 5}}).forecast
    epci = set(data.territories.loc[data.territories["level"] == "epci", "territory"])
    direct = heldout_plan_totals(
        data.employment[data.employment["territory"].isin(epci)],
        data.workforce_age,
        forecaster={"models": fc.models, "level": tuple(fc.level)},
        n_paths=500,
    )
    pd.testing.assert_frame_equal(
        res.plan_totals_heldout.reset_index(drop=True), direct, check_exact=False, rtol=1e-9
    )


def test_pipeline_leaves_the_check_out_when_off(small_runs):
    _, runs = small_runs
    res, folder = runs["off"]
    assert res.plan_totals_heldout is None
    assert not (folder / "plan_totals_heldout.csv").exists()
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "own past" not in report
    import openpyxl

    assert "Held-out check" not in openpyxl.load_workbook(folder / "report.xlsx").sheetnames
    assert res.provenance["plan_totals_heldout"] == {"setting": "off", "status": "off"}


def test_pipeline_holds_out_the_plan_horizon():
    """A 3-year plan is checked on 3-year totals, not on 5: the check sets the run's own plan
    totals (``plan_totals.csv``, the horizon's years) against what happened."""
    from gpec.pipeline import run_pipeline

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(
            _small_demo(),
            {"forecast": {"heldout_check": "on", "horizon": 3}, "run": {"lang": "en"}},
        )
    check = res.plan_totals_heldout
    assert (check["years"] == 3).all(), check["years"].unique()
    first, last = (check["plan_period"].str.split("-", expand=True).astype(int)).T.to_numpy()
    assert ((last - first + 1) == 3).all()
    assert res.provenance["plan_totals_heldout"]["years"] == 3


def test_auto_skips_a_large_panel_and_says_so(monkeypatch, tmp_path):
    """heldout_check = 'auto' does not refit a panel beyond its size: the run does not take
    several times longer unseen; the report (French here) and provenance.toml say why."""
    import gpec.pipeline
    from gpec.pipeline import run_pipeline

    monkeypatch.setattr(gpec.pipeline, "HELDOUT_AUTO_SERIES", 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(_small_demo(), {"forecast": {"horizon": 3}, "run": {"lang": "fr"}})
    info = res.provenance["plan_totals_heldout"]
    assert info["status"] == "skipped" and info["series"] > 10
    assert res.plan_totals_heldout is None
    res.write(tmp_path)
    assert not (tmp_path / "plan_totals_heldout.csv").exists()
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Non effectué" in report and "heldout_check = &#x27;on&#x27;" in report


def test_a_short_panel_is_said_in_the_report_language(tmp_path):
    """A panel too short for the check (2019-2024): the French report says why in French, the
    terminal warning (heldout_check = 'on') keeps gpec's English message."""
    from gpec import GpecData
    from gpec.pipeline import run_pipeline

    demo = _small_demo()
    data = GpecData(
        **{**demo.tables, "employment": demo.employment[demo.employment.period >= 2019]}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_pipeline(data, {"forecast": {"heldout_check": "on"}, "run": {"lang": "fr"}})
    assert any("too short for a check" in str(w.message) for w in caught)
    assert res.provenance["plan_totals_heldout"]["status"] == "not possible"
    res.write(tmp_path)
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Non effectué : l&#x27;emploi couvre 2019-2024 (6 ans), trop peu" in report
    assert "Non effectué : held-out" not in report  # (provenance's own words: Assumptions)
    from gpec.report import load_results
    from gpec.report._heldout import heldout_lines

    again = heldout_lines(load_results(tmp_path), "en")  # rebuilt in English from the files
    assert again and "covers 2019-2024 (6 years), too short" in again[0]


def test_no_cell_observed_throughout_is_said_in_french():
    """The library's own message (not a copy of it) is the one the report translates."""
    from gpec.report._heldout import _reason

    panel = flat_noisy_panel(first=2000, last=2018, n_terr=1, n_occ=2)
    panel.loc[panel["period"] == 2016, "value"] = np.nan
    with pytest.raises(GpecError) as err, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        heldout_plan_totals(panel, forecaster={"models": "naive"}, origins=[2012, 2014])
    said = _reason(str(err.value), "fr")
    assert said.startswith("aucune cellule n'est observée") and "(2012, 2014)" in said
    assert _reason(str(err.value), "en") == str(err.value)


# ----------------------------------------------------------------------------- real data
def test_rouen_sectors_median_holds_what_the_central_figure_misses(real_data, tmp_path):
    """URSSAF Rouen, EPCI x NA38 (examples/real_files/rouen.toml, 2006-2022): on a
    territory's noisy sector cells the central figure of the 5-year openings to fill fell
    below what happened at every origin, and the paths' median came closer at most of them;
    the French report says so in one sentence."""
    from gpec.config import load_config
    from gpec.pipeline import load_data, run_pipeline

    toml = Path(__file__).resolve().parents[1] / "examples" / "real_files" / "rouen.toml"
    cfg = load_config(toml)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(load_data(cfg), cfg)
    check = res.plan_totals_heldout
    assert check is not None, res.provenance["plan_totals_heldout"]
    assert sorted(set(check["origin"])) == [2012, 2014, 2016, 2018]
    assert (check["years"] == 5).all() and (check["cells"] > 150).all()
    fill = check[check["quantity"] == "openings_to_fill"]
    assert (fill["central_error_pct"] < 0).all(), fill["central_error_pct"].tolist()
    closer = fill["median_error_pct"].abs() < fill["central_error_pct"].abs()
    assert closer.sum() >= 3, fill[["central_error_pct", "median_error_pct"]]
    res.write(tmp_path)
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Sur le passé de cette étude (origines 2012-2018" in report
