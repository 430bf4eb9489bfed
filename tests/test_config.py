import pytest

from gpec.config import ConfigError, dump_config, load_config, resolve_config


def test_defaults_filled():
    cfg = resolve_config({"forecast": {"horizon": 8}})
    assert cfg["forecast"]["horizon"] == 8
    assert cfg["supply"]["completion_default"] == 0.8


@pytest.mark.parametrize(
    "raw,match",
    [
        ({"forcast": {}}, "did you mean 'forecast'"),
        ({"forecast": {"horizn": 3}}, "did you mean 'horizon'"),
        ({"forecast": {"horizon": "five"}}, "must be of type int"),
        ({"data": {"employmnt": "e.csv"}}, "did you mean 'employment'"),
        ({"data": {"rome": {"path": "x", "format": "rom"}}}, "did you mean 'rome'"),
        ({"scenarios": [{"name": "x", "from_yaer": 2026}]}, "did you mean 'from_year'"),
    ],
)
def test_unknown_keys_are_errors(raw, match):
    with pytest.raises(ConfigError, match=match):
        resolve_config(raw)


def test_roundtrip_relative_paths(tmp_path):
    (tmp_path / "gpec.toml").write_text(
        '[data]\nemployment = "sub/e.csv"\n[forecast]\nlevel = 90\n[demand]\ninterval_level = 90\n'
    )
    cfg = load_config(tmp_path / "gpec.toml")
    assert cfg["data"]["employment"]["path"] == str((tmp_path / "sub/e.csv").resolve())
    assert cfg.forecast.level == (90,)
    text = dump_config(cfg, relative_to=tmp_path)
    assert 'employment = "sub/e.csv"' in text


def test_missing_and_invalid_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[data\n")
    with pytest.raises(ConfigError, match="not a valid TOML"):
        load_config(tmp_path / "bad.toml")


def test_reader_option_paths_are_relative_to_the_config_file(tmp_path):
    sub = tmp_path / "study"
    sub.mkdir()
    (sub / "certif.csv").write_text("x\n")
    (sub / "gpec.toml").write_text(
        "[data.training_offers]\n"
        'path = "seats.csv"\nformat = "affelnet"\n'
        '[data.training_offers.options]\ncertifinfo = "certif.csv"\nyear = "2022"\n'
    )
    cfg = load_config(sub / "gpec.toml")
    opts = cfg.data["training_offers"].options
    assert opts["certifinfo"] == str((sub / "certif.csv").resolve())
    assert opts["year"] == "2022"  # names no file: kept as written


def test_validate_defaults_are_the_plausibility_rules_defaults():
    # both take their thresholds from gpec._defaults; this checks the wiring: an empty
    # [validate] must pass every threshold through to the rules that GpecData.validate() uses
    # without any (gpec run = the library)
    from gpec._plausibility import PlausibilityRules

    assert resolve_config({}).validate.rules() == PlausibilityRules()


def test_validate_section_sets_the_plausibility_rules():
    import pandas as pd

    from gpec import GpecData

    terr = pd.DataFrame({"territory": ["T"], "label": ["T"], "level": ["epci"]})
    occ = pd.DataFrame({"occupation": ["O"], "label": ["O"], "system": ["X"]})
    emp = pd.DataFrame(
        {"territory": "T", "occupation": "O", "period": [2020, 2021, 2022, 2042], "value": 10.0}
    )
    data = GpecData(terr, occ, employment=emp)
    default = data.validate(strict=False, plausibility=resolve_config({}).validate.rules())
    assert default.rejected["value"].astype(str).tolist() == ["2042"]
    off = resolve_config({"validate": {"max_period_gap": 0}}).validate.rules()
    assert off.max_period_gap is None
    assert len(data.validate(strict=False, plausibility=off).rejected) == 0
    none = resolve_config({"validate": {"plausibility": False}}).validate.rules()
    assert len(data.validate(strict=False, plausibility=none).rejected) == 0
    with pytest.raises(ConfigError, match=r"\[validate\] outlier_ratio"):
        resolve_config({"validate": {"outlier_ratio": -1.0}})
    with pytest.raises(ConfigError, match=r"\[output\] csv_dialect"):
        resolve_config({"output": {"csv_dialect": "de"}})
