"""Tests for gpec.forecast._parallel.map_series (joblib and Dask backends)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from gpec.forecast._models import drift_forecast, ets_forecast, naive_forecast
from gpec.forecast._parallel import map_series, parallel_config


def _series(n: int = 23, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [100.0 + np.cumsum(rng.normal(1.0, 5.0, int(rng.integers(1, 16)))) for _ in range(n)]


def _scaled_drift(y: np.ndarray, h: int, factor: float = 1.0) -> np.ndarray:
    return factor * drift_forecast(y, h)


def _fails_on_long(y: np.ndarray, h: int) -> np.ndarray:
    if y.size > 3:
        raise ZeroDivisionError("boom")
    return naive_forecast(y, h)


def _wrong_shape(y: np.ndarray, h: int) -> np.ndarray:
    return np.zeros(h + 1)


def _loop(func, series, h):
    return np.vstack([func(y, h) for y in series])


def test_matches_plain_loop_n_jobs_1():
    series = _series()
    expected = _loop(drift_forecast, series, 4)
    for chunk_size in (None, 1, 5, 100):
        out = map_series(drift_forecast, series, 4, chunk_size=chunk_size)
        assert out.shape == (23, 4)
        np.testing.assert_array_equal(out, expected)


def test_matches_plain_loop_n_jobs_2():
    series = _series(30, seed=1)
    func = functools.partial(_scaled_drift, factor=2.0)
    expected = _loop(func, series, 3)
    out = map_series(func, series, 3, n_jobs=2, chunk_size=4)
    np.testing.assert_array_equal(out, expected)
    out_thr = map_series(func, series, 3, n_jobs=2, backend="threading")
    np.testing.assert_array_equal(out_thr, expected)


def test_statsmodels_model_in_processes():
    series = _series(8, seed=2)
    expected = _loop(ets_forecast, series, 2)
    with parallel_config(n_jobs=2):
        out = map_series(ets_forecast, series, 2, n_jobs=2)
    np.testing.assert_allclose(out, expected, rtol=1e-10)


def test_empty_and_validation():
    assert map_series(naive_forecast, [], 3).shape == (0, 3)
    with pytest.raises(ValueError, match="h must be"):
        map_series(naive_forecast, [np.ones(3)], 0)
    with pytest.raises(ValueError, match="chunk_size"):
        map_series(naive_forecast, [np.ones(3)], 2, chunk_size=0)
    with pytest.raises(ValueError, match="shape"):
        map_series(_wrong_shape, [np.ones(3)], 2)


def test_error_names_the_series():
    series = [np.ones(2), np.ones(3), np.ones(5)]
    with pytest.raises(RuntimeError, match="series 2"):
        map_series(_fails_on_long, series, 2, chunk_size=2)


def test_verbose_is_silent_when_not_a_terminal(capsys):
    out = map_series(naive_forecast, _series(5), 2, verbose=1)
    assert out.shape == (5, 2)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_dask_backend_with_current_client():
    distributed = pytest.importorskip("distributed")
    series = _series(12, seed=3)
    expected = _loop(drift_forecast, series, 3)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        out = map_series(drift_forecast, series, 3, backend="dask", chunk_size=5)
        with parallel_config(backend="dask"):  # reuses the same client
            out2 = map_series(drift_forecast, series, 3, backend="dask")
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out2, expected)


@pytest.mark.slow
def test_dask_backend_starts_local_cluster():
    distributed = pytest.importorskip("distributed")
    series = _series(10, seed=4)
    expected = _loop(drift_forecast, series, 2)
    out = map_series(drift_forecast, series, 2, n_jobs=2, backend="dask")
    np.testing.assert_array_equal(out, expected)
    # The temporary cluster and client are closed afterwards.
    with pytest.raises(ValueError):
        distributed.Client.current()


@pytest.mark.slow
def test_parallel_config_keeps_one_dask_cluster():
    distributed = pytest.importorskip("distributed")
    series = _series(10, seed=5)
    expected = _loop(ets_forecast, series, 2)
    with parallel_config(n_jobs=2, backend="dask"):
        client = distributed.Client.current()
        out1 = map_series(ets_forecast, series, 2, n_jobs=2, backend="dask")
        out2 = map_series(ets_forecast, series, 2, n_jobs=2, backend="dask", chunk_size=3)
        assert distributed.Client.current() is client
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_allclose(out1, expected, rtol=1e-10)
    np.testing.assert_array_equal(out1, out2)


def test_progress_bar_when_terminal(monkeypatch, capsys):
    import gpec.forecast._parallel as par

    monkeypatch.setattr(par, "_show_progress", lambda verbose: verbose > 0)
    out = map_series(naive_forecast, _series(20), 2, verbose=1)
    assert out.shape == (20, 2)
    err = capsys.readouterr().err
    assert "forecast" in err and "/20 [" in err  # tqdm bar over the 20 series


def test_progress_shown_on_a_terminal_or_in_a_notebook_only(monkeypatch):
    import sys
    import types

    from gpec.forecast import _parallel as par

    class Pipe:
        def isatty(self):
            return False

    monkeypatch.setattr(sys, "stderr", Pipe())
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert not par._show_progress(1)  # a log file: no bar
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert par._show_progress(1) and not par._show_progress(0)
