"""The public API: every name listed in gpec.__all__ resolves, and the list is what we expect."""

import gpec

EXPECTED = {
    "GpecData",
    "TABLES",
    "ValidationError",
    "__version__",
    "Forecaster",
    "reconcile",
    "openings",
    "skill_needs",
    "apply_scenarios",
    "apply_supply_scenarios",
    "run_scenarios",
    "entrants",
    "entrants_interval",
    "mapping_quality",
    "OfferMatcher",
    "build_profiles",
    "normalize_text",
    "catchment",
    "aggregate",
    "ancestors",
    "profile",
    "allocate",
    "Allocation",
    "skill_gaps",
    "transitions",
    "apply_crosswalk",
    "make_crosswalk",
    "compose_crosswalks",
    "load_demo",
    "read_table",
    "run_pipeline",
    "Results",
    "load_config",
}


def test_all_is_expected():
    assert set(gpec.__all__) == EXPECTED


def test_every_name_resolves():
    for name in gpec.__all__:
        assert getattr(gpec, name) is not None, name


def test_ingest_readers_resolve():
    from gpec import ingest

    for name in ingest.__all__:
        assert getattr(ingest, name) is not None, name


def test_every_stage_package_lists_names_that_resolve():
    import importlib

    for sub in gpec.SUBPACKAGES:
        module = importlib.import_module(f"gpec.{sub}")
        names = getattr(module, "__all__", None)
        assert names, f"gpec.{sub} has no __all__"
        for name in names:
            assert getattr(module, name) is not None, f"gpec.{sub}.{name}"
