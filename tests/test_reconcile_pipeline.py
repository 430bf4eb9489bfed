"""Residual-based reconciliation (wls_var, mint_shrink) from the config, the CLI and the Forecaster."""

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gpec.config import RECONCILE_METHODS, ConfigError, resolve_config
from gpec.datasets import load_demo, make_panel
from gpec.forecast import Forecaster
from gpec.forecast._reconcile import METHODS
from gpec.pipeline import _reconcile_with_residuals, _residual_samples, run_pipeline, write_inputs

KEYS = ["occupation", "period", "level"]


def _cfg(method):
    return {"forecast": {"horizon": 2, "models": "auto", "reconcile": method}}


@pytest.fixture(scope="module")
def demo():
    return load_demo()


@pytest.fixture(scope="module")
def runs(demo):
    out = {}
    for method in ("mint_shrink", "wls_var", "wls_struct"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out[method] = run_pipeline(demo, _cfg(method))
        # the demo has complete residuals: no occupation falls back to wls_struct
        assert not [w for w in caught if "reconcile" in str(w.message)], method
    return out


def _incoherence(forecast: pd.DataFrame, territories: pd.DataFrame) -> float:
    """Largest |parent - sum of children| over occupations x periods x levels (absent = 0)."""
    parent = territories.set_index("territory")["parent"]
    fc = forecast[["territory", *KEYS, "mean"]]
    child = fc[fc["territory"].map(parent).notna()].assign(
        territory=lambda d: d["territory"].map(parent)
    )
    sums = child.groupby(["territory", *KEYS])["mean"].sum()
    own = fc.set_index(["territory", *KEYS])["mean"]
    parents = sums.index.union(own.index[own.index.get_level_values(0).isin(parent.dropna())])
    diff = own.reindex(parents, fill_value=0.0) - sums.reindex(parents, fill_value=0.0)
    return float(diff.abs().max())


@pytest.mark.parametrize("method", ["mint_shrink", "wls_var"])
def test_pipeline_residual_methods_coherent_nonnegative(runs, demo, method):
    res = runs[method]
    fc = res.forecast
    terr = demo.territories
    # every level of the demo hierarchy is there, and every parent has its children's sum
    assert set(terr.set_index("territory").loc[fc["territory"].unique(), "level"]) == {
        "nation",
        "region",
        "departement",
        "epci",
    }
    assert _incoherence(fc, terr) < 1e-6
    assert (fc["mean"] >= 0).all() and (fc["lower"] >= 0).all() and (fc["upper"] >= 0).all()
    assert (fc["reconciliation"] == method).all()
    info = fc.attrs["reconciliation"]
    assert info["method"] == method and info["fallback_wls_struct"] == []
    assert info["residual_samples_dropped"] == 0
    assert info["residual_horizon"] == 1 and info["residual_samples"] > 0
    if method == "mint_shrink":
        lam = np.array(list(info["shrinkage"].values()))
        assert len(lam) == fc["occupation"].nunique() and ((lam >= 0) & (lam <= 1)).all()
    # the residual weights change the result compared with the structural weights
    ref = runs["wls_struct"].forecast
    assert np.abs(fc["mean"].to_numpy() - ref["mean"].to_numpy()).max() > 1e-3
    # the rest of the chain ran on the reconciled bottom forecasts
    op = res.openings
    bottom = fc[fc["level"] == 80].set_index(["territory", "occupation", "period"])["mean"]
    emp = op.set_index(["territory", "occupation", "period"])["employment"]
    np.testing.assert_allclose(emp.to_numpy(), bottom.reindex(emp.index).to_numpy(), atol=1e-9)
    assert len(res.gaps) > 0


def test_cli_forecast_mint_shrink(demo, tmp_path):
    from gpec.cli import cli

    config = write_inputs(demo, tmp_path / "inputs", resolve_config(_cfg("mint_shrink")))
    assert 'reconcile = "mint_shrink"' in config.read_text(encoding="utf-8")
    out = tmp_path / "fc"
    result = CliRunner().invoke(cli, ["--quiet", "forecast", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    fc = pd.read_csv(out / "forecast.csv", dtype={"territory": str, "occupation": str})
    assert (fc["reconciliation"] == "mint_shrink").all()
    # forecast.csv keeps 10 significant digits (values up to ~1e5): coherent to that rounding
    assert _incoherence(fc, demo.territories) < 1e-4
    assert (fc["mean"] >= 0).all()


def test_config_accepts_every_method_and_rejects_typos():
    assert set(RECONCILE_METHODS) == {"none", *METHODS}
    for method in RECONCILE_METHODS:
        assert (
            resolve_config({"forecast": {"reconcile": method}})["forecast"]["reconcile"] == method
        )
    with pytest.raises(ConfigError, match="reconcile must be one of.*did you mean 'mint_shrink'"):
        resolve_config({"forecast": {"reconcile": "mint_shrnk"}})


# ----------------------------------------------------------------------- Forecaster.residuals
def test_residuals_shape_columns_and_values():
    panel = make_panel(4, 10, 12, random_state=3)
    fc = Forecaster("naive", horizon=3, level=(80,), verbose=0).fit(panel)
    res = fc.residuals()
    assert list(res.columns) == ["territory", "occupation", "period", "residual"]
    assert res["territory"].dtype == panel["territory"].dtype
    n_series = panel.groupby(["territory", "occupation"]).ngroups
    # origins T - h - j (j < 3) of 12 years from 2005, horizon 3: forecast years 2012..2014
    assert len(res) == n_series * 3
    assert sorted(res["period"].unique()) == [2012, 2013, 2014]
    assert res.groupby(["territory", "occupation"]).size().eq(3).all()
    # naive one-step error: the year's value minus the last value observed before it
    wide = panel.pivot_table(index=["territory", "occupation"], columns="period", values="value")
    for row in res.itertuples():
        hist = wide.loc[(row.territory, row.occupation)]
        before = hist[hist.index < row.period].dropna()
        actual = hist.get(row.period, np.nan)
        if before.empty or np.isnan(actual):
            assert np.isnan(row.residual)
        else:
            assert row.residual == pytest.approx(actual - before.iloc[-1])
    # horizon 3: forecasts made three years ahead, for 2014..2016
    res3 = fc.residuals(horizon=3)
    assert sorted(res3["period"].unique()) == [2014, 2015, 2016] and len(res3) == len(res)
    for bad in (0, 4, 1.0, True):
        with pytest.raises(ValueError, match="horizon must be an integer between 1 and 3"):
            fc.residuals(horizon=bad)
    with pytest.raises(RuntimeError, match="not fitted"):
        Forecaster(verbose=0).residuals()


def test_residuals_of_combined_forecast_feed_reconcile():
    panel = make_panel(3, 4, 12, random_state=1)
    fc = Forecaster(models=["naive", "drift", "mean"], horizon=2, level=(80,), verbose=0)
    res = fc.fit(panel).residuals()
    assert res["residual"].notna().all()
    assert len(res) == 12 * 3 and res["residual"].abs().sum() > 0
    terr = pd.DataFrame(
        {
            "territory": ["FR", *sorted(panel["territory"].unique())],
            "label": "t",
            "level": ["nation"] + ["epci"] * 3,
            "parent": [None, "FR", "FR", "FR"],
        }
    )
    total = panel.groupby(["occupation", "period"], as_index=False)["value"].sum()
    full = pd.concat([panel, total.assign(territory="FR")], ignore_index=True)
    fc.fit(full)
    out = _reconcile_with_residuals(fc, terr, "mint_shrink")
    assert _incoherence(out, terr) < 1e-6
    assert (out["reconciliation"] == "mint_shrink").all()


# ------------------------------------------------------------------- too few residuals
def test_residual_samples_keeps_complete_periods_only():
    res = pd.DataFrame(
        {
            "territory": ["A", "B"] * 5,
            "occupation": ["X"] * 6 + ["Y"] * 4,
            "period": [1, 1, 2, 2, 3, 3, 1, 1, 2, 2],
            "residual": [1.0, np.nan, 2.0, 3.0, -1.0, 0.5, 1.0, 2.0, np.nan, np.nan],
        }
    )
    usable, lacking, dropped = _residual_samples(res)
    assert lacking == ["Y"]  # one complete period only
    assert usable["occupation"].eq("X").all() and sorted(usable["period"]) == [2, 2, 3, 3]
    # unused: A's residual of period 1 (its sample lacks B) and Y's two residuals
    assert dropped == 3


def test_occupation_without_residuals_falls_back_to_wls_struct_with_warning():
    years = list(range(2000, 2012))
    rows = []
    for terr_code, occ, first in (
        ("A", "X", 2000),
        ("B", "X", 2000),
        ("A", "Y", 2000),
        ("B", "Y", 2010),
    ):
        for y in years:
            if y >= first:
                rows.append(
                    (
                        terr_code,
                        occ,
                        y,
                        10.0 + (y - 2000) * (1 + (occ == "Y")) + (terr_code == "B") * 3.0 + (y % 3),
                    )
                )
    panel = pd.DataFrame(rows, columns=["territory", "occupation", "period", "value"])
    total = panel.groupby(["occupation", "period"], as_index=False)["value"].sum()
    full = pd.concat([panel, total.assign(territory="FR")], ignore_index=True)
    terr = pd.DataFrame(
        {
            "territory": ["FR", "A", "B"],
            "label": ["France", "a", "b"],
            "level": ["nation", "epci", "epci"],
            "parent": [None, "FR", "FR"],
        }
    )
    fc = Forecaster("naive", horizon=2, level=(80,), verbose=0).fit(full)
    # B/Y is observed from 2010 only: no honest error before, so Y has no complete sample
    res = fc.residuals()
    assert res.loc[(res["territory"] == "B") & (res["occupation"] == "Y"), "residual"].isna().all()
    for method in ("mint_shrink", "wls_var"):
        with pytest.warns(UserWarning, match=r"1 occupation\(s\).*'wls_struct'.*: Y"):
            out = _reconcile_with_residuals(fc, terr, method)
        assert out.groupby("occupation")["reconciliation"].agg(set).to_dict() == {
            "X": {method},
            "Y": {"wls_struct"},
        }
        info = out.attrs["reconciliation"]
        assert info["fallback_wls_struct"] == ["Y"]
        # X: FR, A, B x 3 windows used; Y: the 3 + 3 finite errors of FR and A unused, reported
        assert info["residual_samples"] == 9 and info["residual_samples_dropped"] == 6
        assert out.index.equals(fc.predict().index)  # same rows, same order as predict()
        assert _incoherence(out, terr) < 1e-6 and (out["mean"] >= 0).all()
