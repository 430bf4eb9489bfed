"""Tests of gpec.forecast reconciliation against dense closed-form references on a small tree."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import nnls

from gpec.forecast._reconcile import reconcile, shrunk_covariance, summing_matrix

OCC = ["A1201", "K2204", "N4105"]
PERIODS = [2026, 2027]


def make_territories(n_regions=2, deps_per_region=2, epci_per_dep=3, nation=True):
    rows = [("FR", "France", "nation", None)] if nation else []
    for r in range(n_regions):
        rc = f"R{24 + r}"
        rows.append((rc, f"Région {rc}", "region", "FR" if nation else None))
        for d in range(deps_per_region):
            dc = f"0{2 * r + d + 1}" if r < 1 else f"2{'AB'[d]}"
            rows.append((dc, f"Département {dc}", "departement", rc))
            for e in range(epci_per_dep):
                ec = f"2000{r}{d}{e:03d}"
                rows.append((ec, f"EPCI {ec}", "epci", dc))
    return pd.DataFrame(rows, columns=["territory", "label", "level", "parent"]).astype(
        {"territory": "str", "label": "str", "level": "str"}
    )


@pytest.fixture
def territories():
    return make_territories()


@pytest.fixture
def tree(territories):
    S, nodes, bottom = summing_matrix(territories)
    return S.toarray(), list(nodes), list(bottom)


def make_forecasts(tree, rng, *, noise=0.15, small=False, coherent=False):
    S, nodes, bottom = tree
    rows = []
    for occ in OCC:
        for period in PERIODS:
            true = S @ (
                rng.gamma(0.6, 4.0, len(bottom)) if small else rng.gamma(3.0, 30.0, len(bottom))
            )
            base = true if coherent else true + noise * rng.normal(size=len(nodes)) * (10 + true)
            rows += [(t, occ, period, v) for t, v in zip(nodes, base, strict=True)]
    fc = pd.DataFrame(rows, columns=["territory", "occupation", "period", "mean"])
    fc["model"] = "theta"
    fc["lower"] = fc["mean"] - 5.0
    fc["upper"] = fc["mean"] + 5.0
    return fc


def make_residuals(tree, rng, T=9):
    S, nodes, _ = tree
    rows = []
    E = {}
    for occ in OCC:
        mix = rng.normal(size=(len(nodes), len(nodes))) * 0.3 + np.eye(len(nodes))
        X = rng.normal(size=(T, len(nodes))) @ mix
        E[occ] = X
        rows += [(t, occ, 2010 + s, X[s, i]) for s in range(T) for i, t in enumerate(nodes)]
    res = pd.DataFrame(rows, columns=["territory", "occupation", "period", "residual"])
    return res, E


def matrix(df, nodes, occ, period, col="mean"):
    sub = df[(df["occupation"] == occ) & (df["period"] == period)]
    return sub.set_index("territory")[col].reindex(nodes).to_numpy(dtype=float)


def dense_mint(S, W, yhat):
    """Closed form S (S' W^-1 S)^-1 S' W^-1 yhat."""
    Wi = np.linalg.inv(W)
    return S @ np.linalg.solve(S.T @ Wi @ S, S.T @ Wi @ yhat)


def dense_nonneg(S, W, yhat):
    """Non-negative MinT: min ||L'(yhat - S b)|| with b >= 0, L L' = W^-1."""
    L = np.linalg.cholesky(np.linalg.inv(W))
    beta, _ = nnls(L.T @ S, L.T @ yhat, maxiter=10_000)
    return S @ beta


def weights(method, S, tree_nodes, occ=None, E=None):
    n = S.shape[0]
    if method == "mint_ols":
        return np.eye(n)
    if method == "wls_struct":
        return np.diag(S.sum(axis=1))
    if method == "wls_var":
        return np.diag((E[occ] ** 2).mean(axis=0))
    return shrunk_covariance(E[occ])[0]


def coherence(S, y, nodes, bottom):
    yb = y[[nodes.index(b) for b in bottom]]
    return np.abs(S @ yb - y).max()


ALL_METHODS = ["bottom_up", "top_down", "mint_ols", "wls_struct", "wls_var", "mint_shrink"]


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("nonnegative", [True, False])
def test_coherent_for_every_method(method, nonnegative, territories, tree, rng):
    S, nodes, bottom = tree
    fc = make_forecasts(tree, rng, small=True)
    res, _ = make_residuals(tree, rng)
    out = reconcile(fc, territories, method=method, nonnegative=nonnegative, residuals=res)
    assert list(out.columns) == [*fc.columns, "reconciliation"]
    assert (out["reconciliation"] == method).all()
    assert out.index.equals(fc.index)
    for occ, period in itertools.product(OCC, PERIODS):
        y = matrix(out, nodes, occ, period)
        assert coherence(S, y, nodes, bottom) < 1e-6
        if nonnegative:
            assert (y >= 0).all()


@pytest.mark.parametrize("method", ["mint_ols", "wls_struct", "wls_var", "mint_shrink"])
def test_matches_dense_closed_form(method, territories, tree, rng):
    S, nodes, _ = tree
    fc = make_forecasts(tree, rng)
    res, E = make_residuals(tree, rng)
    out = reconcile(fc, territories, method=method, nonnegative=False, residuals=res)
    for occ, period in itertools.product(OCC, PERIODS):
        ref = dense_mint(S, weights(method, S, nodes, occ, E), matrix(fc, nodes, occ, period))
        y = matrix(out, nodes, occ, period)
        np.testing.assert_allclose(y, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize("method", ["mint_ols", "wls_struct", "mint_shrink"])
def test_nonnegative_matches_nnls(method, territories, tree):
    S, nodes, _ = tree
    rng = np.random.default_rng(7)
    n_pinned = 0
    for _ in range(5):
        fc = make_forecasts(tree, rng, small=True, noise=0.6)
        res, E = make_residuals(tree, rng)
        out = reconcile(fc, territories, method=method, residuals=res)
        n_pinned += out.attrs["reconciliation"]["pinned"]
        for occ, period in itertools.product(OCC, PERIODS):
            W = weights(method, S, nodes, occ, E)
            ref = dense_nonneg(S, W, matrix(fc, nodes, occ, period))
            y = matrix(out, nodes, occ, period)
            assert (y >= 0).all()
            np.testing.assert_allclose(y, ref, rtol=1e-7, atol=1e-7 * max(np.abs(ref).max(), 1))
    assert n_pinned > 10  # the cases really exercised the constraint


def test_bottom_up_keeps_bottom_forecasts(territories, tree, rng):
    S, nodes, bottom = tree
    fc = make_forecasts(tree, rng)
    out = reconcile(fc, territories, method="bottom_up")
    is_bottom = fc["territory"].isin(bottom)
    np.testing.assert_array_equal(
        out.loc[is_bottom, "mean"], np.maximum(fc.loc[is_bottom, "mean"], 0.0)
    )
    y = matrix(out, nodes, OCC[0], PERIODS[0])
    yb = matrix(fc, nodes, OCC[0], PERIODS[0])[[nodes.index(b) for b in bottom]]
    np.testing.assert_allclose(y, S @ np.maximum(yb, 0.0))


def test_top_down_splits_the_top_forecast(territories, tree, rng):
    S, nodes, bottom = tree
    fc = make_forecasts(tree, rng)
    out = reconcile(fc, territories, method="top_down", proportions="bottom")
    for occ, period in itertools.product(OCC, PERIODS):
        yh = matrix(fc, nodes, occ, period)
        y = matrix(out, nodes, occ, period)
        assert y[0] == pytest.approx(max(yh[0], 0.0))
        leaf = [nodes.index(b) for b in bottom]
        share = np.maximum(yh[leaf], 0) / np.maximum(yh[leaf], 0).sum()
        np.testing.assert_allclose(y[leaf], y[0] * share, rtol=1e-12)
    # Historical proportions given as a table.
    props = pd.DataFrame({"territory": bottom, "proportion": np.arange(1, len(bottom) + 1)})
    out = reconcile(fc, territories, method="top_down", proportions=props)
    y = matrix(out, nodes, OCC[1], PERIODS[1])
    leaf = [nodes.index(b) for b in bottom]
    np.testing.assert_allclose(y[leaf], y[0] * props["proportion"] / props["proportion"].sum())


@pytest.mark.parametrize("method", ALL_METHODS)
def test_already_coherent_input_is_unchanged(method, territories, tree, rng):
    fc = make_forecasts(tree, rng, coherent=True)
    res, _ = make_residuals(tree, rng)
    out = reconcile(fc, territories, method=method, residuals=res)
    np.testing.assert_allclose(out["mean"], fc["mean"], rtol=1e-10)
    np.testing.assert_allclose(out["lower"], np.maximum(fc["lower"], 0), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("method", ["mint_ols", "wls_struct", "mint_shrink", "top_down"])
def test_fixed_regions_kept_exactly(method, territories, tree, rng):
    S, nodes, bottom = tree
    fc = make_forecasts(tree, rng)
    res, E = make_residuals(tree, rng)
    regions = territories.loc[territories["level"] == "region", "territory"].tolist()
    official = (
        fc[fc["territory"].isin(regions)]
        .drop(columns=["mean"])
        .assign(value=lambda d: 1000.0 + 10 * np.arange(len(d)))
    )
    out = reconcile(
        fc, territories, method=method, fixed={"region": official}, residuals=res, nonnegative=False
    )
    got = out[out["territory"].isin(regions)].set_index(["territory", "occupation", "period"])
    want = official.set_index(["territory", "occupation", "period"])["value"]
    np.testing.assert_allclose(got["mean"].reindex(want.index), want, rtol=1e-12)
    for occ, period in itertools.product(OCC, PERIODS):
        y = matrix(out, nodes, occ, period)
        assert coherence(S, y, nodes, bottom) < 1e-6
        if method == "top_down":
            continue
        # Equality-constrained least squares reference: y = yh + W A'(A W A')^-1 (c - A yh).
        W = weights(method, S, nodes, occ, E)
        yh = matrix(fc, nodes, occ, period)
        Wi = np.linalg.inv(W)
        # Coherent y = S b; fixed rows R S b = f: KKT system in b.
        R = np.array([[1.0 if nodes[i] == r else 0.0 for i in range(len(nodes))] for r in regions])
        f = np.array([want[(r, occ, period)] for r in regions])
        H = S.T @ Wi @ S
        K = np.block([[H, (R @ S).T], [R @ S, np.zeros((len(regions), len(regions)))]])
        sol = np.linalg.solve(K, np.concatenate([S.T @ Wi @ yh, f]))
        np.testing.assert_allclose(y, S @ sol[: S.shape[1]], rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("method", ["mint_ols", "mint_shrink"])
def test_fixed_true_keeps_base_forecasts_with_nonnegative(method, territories, tree, rng):
    S, nodes, bottom = tree
    fc = make_forecasts(tree, rng, small=True, noise=0.5)
    fc.loc[fc["territory"] == "FR", "mean"] = fc.loc[fc["territory"] == "FR", "mean"].abs() + 1
    res, E = make_residuals(tree, rng)
    out = reconcile(fc, territories, method=method, fixed={"nation": True}, residuals=res)
    is_fr = out["territory"] == "FR"
    np.testing.assert_allclose(out.loc[is_fr, "mean"], fc.loc[is_fr, "mean"], rtol=1e-12)
    assert (out["mean"] >= 0).all()
    assert out.attrs["reconciliation"]["pinned"] > 0
    # Optimality: brute force over the sets of bottom series held at zero (12 leaves).
    occ, period = OCC[0], PERIODS[0]
    Wi = np.linalg.inv(weights(method, S, nodes, occ, E))
    yh = matrix(fc, nodes, occ, period)
    y = matrix(out, nodes, occ, period)
    best = np.inf
    m = len(bottom)
    for mask in range(2**m):
        free = [j for j in range(m) if not mask >> j & 1]
        Sf = S[:, free]
        # min (yh - Sf b)' W^-1 (yh - Sf b) s.t. national total (row 0 of S) = its base forecast.
        K = np.block([[Sf.T @ Wi @ Sf, Sf[0][:, None]], [Sf[0][None, :], np.zeros((1, 1))]])
        try:
            sol = np.linalg.solve(K, np.concatenate([Sf.T @ Wi @ yh, [yh[0]]]))
        except np.linalg.LinAlgError:
            continue
        if (sol[:-1] >= -1e-12).all():
            r = Sf @ sol[:-1] - yh
            best = min(best, r @ Wi @ r)
    assert (y - yh) @ Wi @ (y - yh) == pytest.approx(best, rel=1e-9)


def test_inconsistent_fixed_totals_raise(territories, tree, rng):
    fc = make_forecasts(tree, rng)
    with pytest.raises(ValueError, match="inconsistent"):
        reconcile(fc, territories, method="mint_ols", fixed={"nation": True, "region": True})


def test_intervals_shift_with_mean_and_rows_per_level(territories, tree, rng):
    fc = make_forecasts(tree, rng)
    both = pd.concat([fc.assign(level=80), fc.assign(level=95, lower=fc["lower"] - 3)])
    out = reconcile(both, territories, method="wls_struct", nonnegative=False)
    adj = out["mean"] - both["mean"]
    np.testing.assert_allclose(out["lower"], both["lower"] + adj)
    np.testing.assert_allclose(out["upper"], both["upper"] + adj)
    assert out["level"].tolist() == both["level"].tolist()
    a, b = out[out["level"] == 80], out[out["level"] == 95]
    np.testing.assert_allclose(a["mean"].to_numpy(), b["mean"].to_numpy())
    both.iloc[-1, both.columns.get_loc("mean")] += 1.0
    with pytest.raises(ValueError, match="different values"):
        reconcile(both, territories)


def test_codes_stay_strings_and_other_columns_pass_through(territories, tree, rng):
    fc = make_forecasts(tree, rng)
    out = reconcile(fc, territories)
    assert set(out["territory"]) == set(fc["territory"])
    assert {"2A", "2B", "01", "02"} <= set(out["territory"])
    assert (out["model"] == "theta").all()
    assert out["territory"].dtype == fc["territory"].dtype


def test_default_levels_follow_the_forecasts(territories, tree, rng):
    S, nodes, bottom = tree
    # A finer level in the hierarchy (communes) without forecasts is left out.
    communes = pd.DataFrame(
        {
            "territory": ["14118", "14366"],
            "label": ["Caen", "Lisieux"],
            "level": "commune",
            "parent": [bottom[0], bottom[1]],
        }
    )
    fc = make_forecasts(tree, rng)
    out = reconcile(fc, pd.concat([territories, communes], ignore_index=True))
    ref = reconcile(fc, territories)
    np.testing.assert_allclose(out["mean"], ref["mean"])
    # Without the nation: two separate trees (régions as roots).
    no_fr = fc[fc["territory"] != "FR"]
    out = reconcile(no_fr, territories, levels=["region", "departement", "epci"])
    y = out[(out["occupation"] == OCC[0]) & (out["period"] == PERIODS[0])].set_index("territory")[
        "mean"
    ]
    assert y["R24"] == pytest.approx(y[["01", "02"]].sum())


def test_bad_inputs_have_clear_errors(territories, tree, rng):
    fc = make_forecasts(tree, rng)
    with pytest.raises(ValueError, match="unknown reconciliation method"):
        reconcile(fc, territories, method="mint")
    with pytest.raises(ValueError, match="no base forecast for territory '2A'"):
        reconcile(fc[fc["territory"] != "2A"], territories)
    bad = fc.copy()
    bad.loc[3, "territory"] = "99"
    with pytest.raises(ValueError, match=r"row 3, column 'territory'.*'99'"):
        reconcile(bad, territories)
    bad = fc.copy()
    bad.loc[5, "mean"] = np.nan
    with pytest.raises(ValueError, match=r"row 5, column 'mean'"):
        reconcile(bad, territories)
    with pytest.raises(ValueError, match="residuals"):
        reconcile(fc, territories, method="mint_shrink")
    with pytest.raises(ValueError, match="bottom_up cannot keep fixed totals"):
        reconcile(fc, territories, method="bottom_up", fixed={"region": True})
    loop = territories.copy()
    loop.loc[loop["territory"] == "FR", "parent"] = "R24"
    with pytest.raises(ValueError, match="cycle"):
        summing_matrix(loop)


def test_summing_matrix(territories):
    S, nodes, bottom = summing_matrix(territories)
    assert S.shape == (len(territories), 12)
    assert nodes[0] == "FR" and S[0].sum() == 12
    assert list(bottom) == sorted(bottom)
    assert (S.sum(axis=1).A1[[list(nodes).index(b) for b in bottom]] == 1).all()


def test_shrunk_covariance_formula(rng):
    T, n = 12, 6
    X = rng.normal(size=(T, n)) @ rng.normal(size=(n, n))
    W, lam = shrunk_covariance(X)
    cov = X.T @ X / T
    xs = X / np.sqrt(np.diag(cov))
    r = xs.T @ xs / T
    w = xs[:, :, None] * xs[:, None, :]
    var_r = ((w - w.mean(axis=0)) ** 2).sum(axis=0) / (T * (T - 1))
    off = ~np.eye(n, dtype=bool)
    expected = np.clip(var_r[off].sum() / (r[off] ** 2).sum(), 0, 1)
    assert lam == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(W, lam * np.diag(np.diag(cov)) + (1 - lam) * cov, rtol=1e-12)


def test_unbalanced_tree_matches_dense(territories, rng):
    # A région without départements (a bottom series at depth 1) and a département with one EPCI.
    extra = pd.DataFrame(
        [
            ("R94", "Corse", "region", "FR"),
            ("R53", "Bretagne", "region", "FR"),
            ("29", "Finistère", "departement", "R53"),
            ("242900314", "Brest Métropole", "epci", "29"),
        ],
        columns=["territory", "label", "level", "parent"],
    )
    terr = pd.concat([territories, extra], ignore_index=True)
    S, nodes, bottom = summing_matrix(terr)
    S, nodes = S.toarray(), list(nodes)
    assert "R94" in bottom
    tree = (S, nodes, list(bottom))
    fc = make_forecasts(tree, rng)
    res, E = make_residuals(tree, rng)
    for method in ["mint_ols", "wls_struct", "mint_shrink"]:
        out = reconcile(fc, terr, method=method, nonnegative=False, residuals=res)
        for occ in OCC:
            ref = dense_mint(S, weights(method, S, nodes, occ, E), matrix(fc, nodes, occ, 2026))
            np.testing.assert_allclose(matrix(out, nodes, occ, 2026), ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_single_level_is_left_as_is(method, territories, tree, rng):
    fc = make_forecasts(tree, rng)
    epci = territories.loc[territories["level"] == "epci", "territory"]
    fc = fc[fc["territory"].isin(epci)]
    res, _ = make_residuals(tree, rng)
    res = res[res["territory"].isin(epci)]
    out = reconcile(fc, territories, method=method, residuals=res)
    np.testing.assert_allclose(out["mean"], np.maximum(fc["mean"], 0.0))


def random_tree(rng, n_nodes):
    """A random tree: each new node hangs under a random earlier node."""
    codes = ["T0"] + [f"T{i}" for i in range(1, n_nodes)]
    parents = [None] + [codes[rng.integers(0, i)] for i in range(1, n_nodes)]
    return pd.DataFrame({"territory": codes, "label": codes, "level": "any", "parent": parents})


@pytest.mark.parametrize("seed", range(8))
def test_random_trees_nonnegative_is_the_constrained_optimum(seed):
    rng = np.random.default_rng(seed)
    terr = random_tree(rng, int(rng.integers(8, 40)))
    S, nodes, bottom = summing_matrix(terr)
    S = S.toarray()
    truth = S @ rng.gamma(0.5, 3.0, size=(len(bottom), 4))
    yhat = truth + rng.normal(scale=4.0, size=truth.shape)
    fc = pd.DataFrame(
        {
            "territory": np.repeat(list(nodes), 4),
            "occupation": np.tile(["a", "b", "c", "d"], len(nodes)),
            "period": 2030,
            "mean": yhat.ravel(),
        }
    )
    for method, w in [("mint_ols", np.ones(len(nodes))), ("wls_struct", S.sum(axis=1))]:
        out = reconcile(fc, terr, method=method)
        y = out["mean"].to_numpy().reshape(len(nodes), 4)
        for k in range(4):
            ref = dense_nonneg(S, np.diag(w), yhat[:, k])
            np.testing.assert_allclose(y[:, k], ref, atol=1e-8 * max(np.abs(ref).max(), 1))
        assert coherence(S, y, list(nodes), list(bottom)) < 1e-9


@pytest.mark.parametrize("method", ALL_METHODS)
def test_absent_series_are_structural_zeros(method, territories, tree, rng):
    S, nodes, bottom = tree
    fc = make_forecasts(tree, rng)
    # Strongly correlated residuals over many samples, so that the shrinkage keeps correlations.
    T = 80
    X = rng.normal(size=(T, 1)) * 2.0 + rng.normal(size=(T, len(nodes)))
    res = pd.DataFrame(
        [(t, occ, s, X[s, i]) for occ in OCC for s in range(T) for i, t in enumerate(nodes)],
        columns=["territory", "occupation", "sample", "residual"],
    )
    # Occupation A1201 has no jobs in two EPCI, nor anywhere in département 2B.
    gone = [bottom[0], bottom[4]]
    dep_2b = territories.loc[territories["parent"] == "2B", "territory"].tolist() + ["2B"]
    drop = (fc["occupation"] == "A1201") & fc["territory"].isin(gone + dep_2b)
    sub = fc[~drop]
    res = res[~((res["occupation"] == "A1201") & res["territory"].isin(gone + dep_2b))]
    with pytest.raises(ValueError, match="no base forecast"):
        reconcile(sub, territories, method=method, residuals=res, missing_series="raise")
    out = reconcile(sub, territories, method=method, residuals=res, nonnegative=False)
    assert len(out) == len(sub)
    assert out.attrs["reconciliation"]["structural_zeros"] == len(gone + dep_2b) * len(PERIODS)
    keep = [i for i, t in enumerate(nodes) if t not in gone + dep_2b]
    leaves = [j for j, b in enumerate(bottom) if b not in gone + dep_2b]
    Sk = S[np.ix_(keep, leaves)]
    if method == "mint_shrink":
        W, lam = shrunk_covariance(X[:, keep])
        assert lam < 0.5  # correlations really used
    elif method == "wls_var":
        W = np.diag((X[:, keep] ** 2).mean(axis=0))
    elif method == "wls_struct":
        W = np.diag(Sk.sum(axis=1))
    else:
        W = np.eye(len(keep))
    for period in PERIODS:
        y = matrix(out, nodes, "A1201", period)[keep]
        yb = y[[keep.index(nodes.index(bottom[j])) for j in leaves]]
        np.testing.assert_allclose(Sk @ yb, y, atol=1e-9)
        if method not in ("bottom_up", "top_down"):
            # Same as the closed form on the hierarchy of the present series only.
            ref = dense_mint(Sk, W, matrix(sub, nodes, "A1201", period)[keep])
            np.testing.assert_allclose(y, ref, rtol=1e-8, atol=1e-8 * np.abs(ref).max())
    # A territory without a forecast above territories with one is an error.
    with pytest.raises(ValueError, match="although territories below it have one"):
        reconcile(fc[fc["territory"] != "R24"], territories, method=method, residuals=res)
    # A present series without residuals is an error.
    if method in ("mint_shrink", "wls_var"):
        with pytest.raises(ValueError, match="no residuals for territory"):
            reconcile(fc, territories, method=method, residuals=res)
