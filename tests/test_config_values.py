"""Value checks of a configuration: enumerations, ranges and coherent keys fail at load time,
naming the file, the section and the key, with the allowed values."""

import numpy as np
import pytest

from gpec.config import (
    CATCHMENT_METHODS,
    LANGUAGES,
    RECONCILE_METHODS,
    ConfigError,
    load_config,
    resolve_config,
)


@pytest.mark.parametrize(
    "raw,match",
    [
        (
            {"catchment": {"method": "distnace"}},
            r"\[catchment\] method must be one of 'distance', 'parent'; got 'distnace' "
            r"\(did you mean 'distance'\?\)",
        ),
        (
            {"demand": {"interval_level": 90}},
            r"\[demand\] interval_level = 90 is not one of the forecast interval levels "
            r"\(\[forecast\] level = \[80, 95\]\); choose one of 80, 95",
        ),
        ({"run": {"lang": "de"}}, r"\[run\] lang must be one of 'en', 'fr'; got 'de'"),
        ({"forecast": {"models": "thetaa"}}, r"\[forecast\] models must be one of 'auto'.*theta"),
        ({"forecast": {"reconcile": "mint"}}, r"\[forecast\] reconcile must be one of 'none'"),
        ({"forecast": {"horizon": 0}}, r"\[forecast\] horizon must be a positive number"),
        ({"forecast": {"level": [80, 120]}}, r"\[forecast\] level must be interval levels"),
        ({"demand": {"turnover_rate": 1.5}}, r"\[demand\] turnover_rate must be between 0 and 1"),
        ({"demand": {"exit_rates": {"60-64": 2}}}, r"\[demand\] exit_rates '60-64'"),
        ({"supply": {"min_score": -0.1}}, r"\[supply\] min_score must be between 0 and 1"),
        ({"supply": {"top_k": 0}}, r"\[supply\] top_k must be a positive integer"),
        ({"catchment": {"max_km": 0}}, r"\[catchment\] max_km must be a positive distance"),
        ({"report": {"top_n": 0}}, r"\[report\] top_n must be a positive integer"),
    ],
)
def test_bad_values_name_section_key_and_choices(raw, match):
    with pytest.raises(ConfigError, match=match):
        resolve_config(raw, where="study.toml")
    with pytest.raises(ConfigError, match=r"^study\.toml: "):
        resolve_config(raw, where="study.toml")


def test_message_does_not_show_numpy_reprs():
    with pytest.raises(ConfigError) as err:
        resolve_config({"demand": {"interval_level": 90}})
    assert "np." not in str(err.value)


@pytest.mark.parametrize(
    "raw",
    [
        {"run": {"lang": "fr"}},
        {"catchment": {"method": "parent", "level": "nation"}},
        {"forecast": {"level": 95}, "demand": {"interval_level": 95}},
        {"forecast": {"level": [50, 80]}, "demand": {"interval_level": 50}},
        {"forecast": {"models": "theta"}},
        {"supply": {"completion_range": [0.7, 0.9], "placement_range": [0.55, 0.8]}},
    ],
)
def test_good_values_pass(raw):
    cfg = resolve_config(raw)
    for section, values in raw.items():
        for key, value in values.items():
            expected = [value] if key == "level" and isinstance(value, int) else value
            got = cfg[section][key]
            assert (list(got) if isinstance(got, tuple) else got) == expected


def test_enumerations_are_the_documented_ones():
    assert LANGUAGES == ("en", "fr")
    assert CATCHMENT_METHODS == ("distance", "parent")
    assert "mint_shrink" in RECONCILE_METHODS


def test_load_config_names_the_file(tmp_path):
    path = tmp_path / "etude.toml"
    path.write_text('[catchment]\nmethod = "distnace"\n')
    with pytest.raises(ConfigError, match=r"etude\.toml: \[catchment\] method"):
        load_config(path)


def test_supply_ranges_still_checked():
    # the lead's [supply] completion_range / placement_range checks are kept
    with pytest.raises(ConfigError, match="completion_range must be"):
        resolve_config({"supply": {"completion_range": [0.9, 0.95]}})


@pytest.mark.parametrize(
    "raw,match",
    [
        ({"forecast": {"n_windows": 0}}, r"\[forecast\] n_windows must be a positive number"),
        ({"forecast": {"recent_windows": -1}}, r"\[forecast\] recent_windows must be >= 0"),
        ({"forecast": {"n_windows": 2.5}}, r"\[forecast\] n_windows"),
    ],
)
def test_backtest_windows_checked(raw, match):
    with pytest.raises(ConfigError, match=match):
        resolve_config(raw)


def test_backtest_windows_reach_the_forecaster():
    from gpec.datasets import load_demo
    from gpec.pipeline import forecast_stage

    data = load_demo()
    out = {}
    for windows in ((3, 2), (2, 0)):
        cfg = resolve_config(
            {"forecast": {"horizon": 2, "n_windows": windows[0], "recent_windows": windows[1]}}
        )
        model, forecast = forecast_stage(data, cfg.forecast, level=cfg.run.level)
        out[windows] = model.backtest_["n"].max(), forecast
    assert out[(3, 2)][0] == 3 and out[(2, 0)][0] == 2
    # fewer windows and no recent window: other intervals
    a, b = out[(3, 2)][1], out[(2, 0)][1]
    assert not np.allclose(a["upper"], b["upper"])


@pytest.mark.parametrize(
    "text",
    ["[forecast]\nhorizon = 3\nhorizon = 4\n", "[forecast]\nhorizon = 3\n[forecast]\nlevel = 80\n"],
)
def test_a_key_or_section_written_twice_is_named(tmp_path, text):
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"study\.toml: .*line 3.*written twice"):
        load_config(path)
