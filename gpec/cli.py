"""The ``gpec`` command: a thin shell over :mod:`gpec.pipeline`.

Exit codes: 0 success; 1 ``gpec validate`` found rejected rows; 2 user error (missing file, bad
value, unknown code or key) reported on one line, never with a traceback.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import click

from gpec.exceptions import ConfigError, ValidationError

EXIT_OK, EXIT_REJECTED, EXIT_USER_ERROR = 0, 1, 2


#: Scenarios of ``gpec demo``: a plant closure (demand) and a new training offer (supply).
DEMO_SCENARIOS = [
    {
        "name": "foundry closure 2027",
        "territories": ["200041630"],
        "occupations": ["H2907", "H2910"],
        "from_year": 2027,
        "absolute": -250,
        "description": "a foundry of 250 jobs closes in Ardenne Métropole",
    },
    {
        "name": "30 seats aide-soignant Caen",
        "site": "200065597",
        "occupations": ["J1501"],
        "from_year": 2026,
        "new_seats": 30,
        "description": "a new training offer of 30 seats a year in Caen la Mer",
    },
]


def _user_errors():
    from gpec.exceptions import InputFileError

    # ValueError covers the stages' checks of their inputs (they name table, row and column);
    # set GPEC_DEBUG=1 to see the traceback instead.
    errors: tuple[type[BaseException], ...] = (
        ValidationError,
        ConfigError,
        InputFileError,
        FileNotFoundError,
        ValueError,
    )
    try:
        from gpec.exceptions import FormatError

        errors += (FormatError,)
    except (ImportError, AttributeError):  # pragma: no cover - reader not installed
        pass
    return errors


def _fail(exc: BaseException) -> None:
    if os.environ.get("GPEC_DEBUG"):
        raise exc
    text = str(exc) or type(exc).__name__
    # a configuration error may list several problems, one per line (check_against_data);
    # other errors are reported by their first line
    lines = text.splitlines() if isinstance(exc, ConfigError) else text.splitlines()[:1]
    for msg in lines or [type(exc).__name__]:
        click.echo(f"gpec: error: {msg}", err=True)
    sys.exit(EXIT_USER_ERROR)


def _say(ctx: click.Context, msg: str) -> None:
    if not ctx.obj.get("quiet"):
        click.echo(msg)


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(dict)["quiet"] = True


def quiet_option(func):
    """``-q/--quiet`` on a sub-command too: ``gpec run cfg --out x -q`` as ``gpec -q run ...``."""
    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        callback=_set_quiet,
        help="Print nothing but errors; no progress bars.",
    )(func)


def _load_checked(ctx: click.Context, config: Path):
    """Read the configuration and its inputs, then check the configuration against the data
    (levels, scenario codes...) before any computation; notes are printed."""
    from gpec.config import check_against_data, load_config
    from gpec.pipeline import load_data

    cfg = load_config(config)
    data = load_data(cfg)
    notes = check_against_data(cfg, data)
    for note in notes:
        _say(ctx, f"gpec: note: {note}")
    ctx.obj["notes"] = set(notes)  # not repeated if the pipeline warns the same
    return cfg, data


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors; no progress bars.")
@click.version_option(package_name="gpec")
@click.pass_context
def cli(ctx: click.Context, quiet: bool) -> None:
    """gpec: skills-needs forecasting for territories (GPEC).

    \b
    Examples:
      gpec demo --out demo-output          whole chain on the bundled demo region
      gpec validate demo-output/inputs/gpec.toml
      gpec run demo-output/inputs/gpec.toml --out my-run
      gpec forecast my.toml --out fc       employment forecasts only
      gpec report my-run                   rebuild report.xlsx and report.html

    Exit codes: 0 success, 1 rows rejected (validate), 2 user error.
    """
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet


def _run_and_write(ctx, cfg, data, out: Path, lang: str | None, strict: bool):
    from gpec.pipeline import run_pipeline

    verbose = 0 if ctx.obj.get("quiet") else 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_pipeline(data, cfg, verbose=verbose, strict=strict)
    for msg in dict.fromkeys(str(w.message).splitlines()[0] for w in caught):
        if msg not in ctx.obj.get("notes", ()):
            _say(ctx, f"gpec: note: {msg}")
    files = res.write(out, lang=lang)
    _say(ctx, f"gpec: wrote {len(files)} files into {out}")
    from gpec.report import period_totals

    tot = period_totals(res, decimals=0)  # the report's figures: openings = allocated + gap
    if len(tot):
        last = tot.iloc[-1]
        _say(
            ctx,
            f"gpec: {int(last['period'])}: openings {int(last['openings_to_fill'])}, "
            f"trained entrants allocated {int(last['entrants_allocated'])}, gap {int(last['gap'])}",
        )
    return res


@cli.command()
@quiet_option
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--lang", type=click.Choice(["en", "fr"]), default=None, help="Language of the report labels."
)
@click.pass_context
def demo(ctx: click.Context, out: Path, lang: str | None) -> None:
    """Run the whole chain on the bundled demo region (synthetic Normandie + Grand Est).

    Writes the results, the reports and OUT/inputs/ (every input table + gpec.toml, which
    `gpec run` accepts and which reproduces the same results).

    \b
    Example:
      gpec demo --out demo-output
    """
    try:
        from gpec.datasets import load_demo
        from gpec.pipeline import write_inputs

        demo_cfg = {
            "run": {
                "name": "gpec demo: SYNTHETIC data modelled on Normandie and "
                "Grand Est (not real figures)"
            },
            "scenarios": DEMO_SCENARIOS,
        }
        config_path = write_inputs(load_demo(), out / "inputs", demo_cfg)
        cfg, data = _load_checked(ctx, config_path)
        _run_and_write(ctx, cfg, data, out, lang, strict=True)
    except _user_errors() as exc:
        _fail(exc)


@cli.command()
@quiet_option
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder.",
)
@click.option("--lang", type=click.Choice(["en", "fr"]), default=None)
@click.option(
    "--lenient",
    is_flag=True,
    help="Drop bad rows (listed in rejected.csv) instead of stopping at the first.",
)
@click.pass_context
def run(ctx, config: Path, out: Path, lang: str | None, lenient: bool) -> None:
    """Run the whole chain from a TOML configuration naming your files.

    \b
    Example:
      gpec run gpec.toml --out results
    """
    try:
        cfg, data = _load_checked(ctx, config)
        _run_and_write(ctx, cfg, data, out, lang, strict=not lenient)
    except _user_errors() as exc:
        _fail(exc)


@cli.command()
@quiet_option
@click.argument("config", type=click.Path(path_type=Path))
@click.pass_context
def validate(ctx, config: Path) -> None:
    """Check a configuration, its inputs, and the configuration against the inputs.

    Prints the rows kept per table and every rejected row; a configuration value the data do
    not have (a territory level, a scenario's codes) is an error. Exit 0 when every row is
    usable, 1 when rows are rejected, 2 on a user error.

    \b
    Example:
      gpec validate gpec.toml
    """
    try:
        _, data = _load_checked(ctx, config)
        clean, rejected = data.validate(strict=False)
    except _user_errors() as exc:
        _fail(exc)
    for name, table in clean.tables.items():
        _say(ctx, f"{name}: {len(table)} rows kept")
    if len(rejected):
        from gpec._schema import format_report

        click.echo(f"{len(rejected)} problem(s):")
        for line in format_report(rejected, max_per_reason=20):  # rejected.csv lists them all
            click.echo(f"  {line}")
        sys.exit(EXIT_REJECTED)
    _say(ctx, "no problem found")


@cli.command()
@quiet_option
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--lenient", is_flag=True, help="Go on without the rejected rows.")
@click.pass_context
def forecast(ctx, config: Path, out: Path, lenient: bool) -> None:
    """Forecast employment only (forecast.csv and backtest.csv).

    \b
    Example:
      gpec forecast gpec.toml --out forecasts
    """
    try:
        from gpec.pipeline import forecast_stage

        cfg, data = _load_checked(ctx, config)
        data = data.validate(strict=False)[0] if lenient else data.validate()
        model, fc = forecast_stage(
            data,
            cfg.forecast,
            level=cfg.run.level,
            seed=cfg.run.seed,
            verbose=0 if ctx.obj.get("quiet") else 1,
        )
    except _user_errors() as exc:
        _fail(exc)
    out.mkdir(parents=True, exist_ok=True)
    fc.to_csv(out / "forecast.csv", index=False, float_format="%.10g")
    model.backtest_.to_csv(out / "backtest.csv", index=False, float_format="%.10g")
    _say(ctx, f"gpec: wrote forecast.csv and backtest.csv into {out}")


@cli.command()
@quiet_option
@click.argument("results", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["en", "fr"]), default=None)
@click.pass_context
def report(ctx, results: Path, lang: str | None) -> None:
    """Rebuild report.xlsx and report.html from the CSV files of a previous run.

    \b
    Example:
      gpec report demo-output --lang fr
    """
    try:
        from gpec.report import load_results, write_excel, write_html

        res = load_results(results)
    except _user_errors() as exc:
        _fail(exc)
    write_excel(res, results / "report.xlsx", lang=lang)
    write_html(res, results / "report.html", lang=lang)
    _say(ctx, f"gpec: wrote report.xlsx and report.html into {results}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``gpec`` console script."""
    cli.main(args=argv, prog_name="gpec")


if __name__ == "__main__":  # pragma: no cover
    main()
