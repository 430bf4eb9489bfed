"""The ``gpec`` command: a thin shell over :mod:`gpec.pipeline`.

Exit codes: 0 success; 1 ``gpec validate`` found rejected rows; 2 user error (missing file, bad
value, unknown code or key) reported on one line, never with a traceback; 3 an unexpected
internal error (one line; ``GPEC_DEBUG=1`` shows the traceback); 130 interrupted (Ctrl-C), the
previous results left as they were.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
import warnings
from pathlib import Path

import click

from gpec._hints import code_hints
from gpec.exceptions import ConfigError, DataQualityWarning, ValidationError

EXIT_OK, EXIT_REJECTED, EXIT_USER_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

#: Plausibility warnings printed per kind; every one is in rejected.csv.
WARNINGS_SHOWN = 3


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
    if isinstance(exc, ValidationError):
        ctx = click.get_current_context(silent=True)
        data = ctx.obj.get("data") if ctx is not None and ctx.obj else None
        for hint in exc.hints or code_hints(exc.report, data):
            click.echo(f"gpec: hint: {hint}", err=True)
    sys.exit(EXIT_USER_ERROR)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def guarded(out_arg: str | None = None):
    """Run a command so that nothing ends in a traceback: Ctrl-C prints one line and exits 130
    (the output folder ``out_arg`` keeps the last complete run's results), a file that cannot be
    written one line and exit 2, an unexpected error one line and exit 3 (``GPEC_DEBUG=1``
    shows the traceback)."""

    def wrap(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            out = kwargs.get(out_arg) if out_arg else None
            if out is not None and Path(out).exists() and not Path(out).is_dir():
                click.echo(f"gpec: error: {out}: exists and is not a folder (--out)", err=True)
                sys.exit(EXIT_USER_ERROR)
            try:
                return func(*args, **kwargs)
            except KeyboardInterrupt:
                where = f"; {out} keeps the results of the last complete run" if out else ""
                click.echo(f"gpec: interrupted{where}", err=True)
                sys.exit(EXIT_INTERRUPTED)
            except (click.exceptions.Exit, click.ClickException, SystemExit):
                raise
            except OSError as exc:  # disk full, permission denied, a folder in the way...
                if os.environ.get("GPEC_DEBUG"):
                    raise
                name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
                click.echo(f"gpec: error: {name}{_one_line(exc.strerror or exc)}", err=True)
                sys.exit(EXIT_USER_ERROR)
            except Exception as exc:
                if os.environ.get("GPEC_DEBUG"):
                    raise
                if isinstance(exc, _user_errors()):
                    _fail(exc)
                click.echo(
                    f"gpec: internal error: {type(exc).__name__}: {_one_line(exc)[:300]} "
                    "(GPEC_DEBUG=1 shows the traceback; please report it)",
                    err=True,
                )
                sys.exit(EXIT_INTERNAL)

        return inner

    return wrap


class StageClock:
    """Names each stage of a run on a terminal as it starts, and times it.

    Progress goes to standard error and only when it is a terminal (never into a log file);
    ``summary()`` is the one-line report of the stages' times printed with ``-v``.
    """

    def __init__(self, show: bool):
        self.show = show and sys.stderr.isatty()
        self.times: dict[str, float] = {}
        self._current: str | None = None
        self._start = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        if self._current is not None:
            self.times[self._current] = self.times.get(self._current, 0.0) + now - self._start
        self._current, self._start = name, now
        if self.show and name != "done":
            click.echo(f"gpec: {name}...", err=True)

    def summary(self) -> str:
        self("done")
        total = sum(self.times.values())
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in self.times.items() if k != "done")
        return f"gpec: time: {parts} (total {total:.1f} s)"


def _show_warnings(ctx: click.Context, found, full_list: str) -> None:
    """Print the plausibility warnings grouped by kind, at most a few lines each."""
    if found is None or not len(found):
        return
    from gpec._schema import format_report

    kinds = ", ".join(f"{n} {k}" for k, n in found.groupby("check", sort=False).size().items())
    click.echo(f"gpec: warning: {len(found)} plausibility warning(s) ({kinds}); {full_list}")
    for line in format_report(found, max_per_reason=WARNINGS_SHOWN):
        click.echo(f"gpec: warning: {line}")


def _show_rejected(rejected, where: str, data=None) -> None:
    """Print the rows a lenient run left out: their count per table, a few per reason, and
    the hints of :func:`code_hints` (``data``: the tables as read)."""
    if rejected is None or not len(rejected):
        return
    from gpec._schema import format_report

    per_table = ", ".join(
        f"{n} {t}" for t, n in rejected.groupby("table", sort=False).size().items()
    )
    click.echo(f"gpec: warning: {len(rejected)} row(s) left out (--lenient: {per_table}); {where}")
    for line in format_report(rejected, max_per_reason=WARNINGS_SHOWN):
        click.echo(f"gpec: warning: {line}")
    for hint in code_hints(rejected, data):
        click.echo(f"gpec: hint: {hint}")


def _say(ctx: click.Context, msg: str) -> None:
    if not ctx.obj.get("quiet"):
        click.echo(msg)


def _context_flag(name: str, short: str, help: str):
    """A ``--name/-x`` flag, on the group or on a sub-command alike, that sets ``ctx.obj[name]``."""

    def set_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(dict)[name] = True

    def decorate(func):
        return click.option(
            f"--{name}", short, is_flag=True, expose_value=False, callback=set_flag, help=help
        )(func)

    return decorate


#: ``-q/--quiet`` on a sub-command too: ``gpec run cfg --out x -q`` as ``gpec -q run ...``.
quiet_option = _context_flag(
    "quiet", "-q", "Print only errors and warnings: no notes, summary or progress."
)
#: ``-v/--verbose``: one line with each stage's time at the end of a run.
verbose_option = _context_flag("verbose", "-v", "Print each stage's time at the end.")


def strict_option(func):
    """``--strict``: plausibility warnings stop the run as errors do."""
    return click.option(
        "--strict",
        is_flag=True,
        help="Treat plausibility warnings (stale series, implausible values...) as errors.",
    )(func)


def _load_checked(ctx: click.Context, config: Path):
    """Read the configuration and its inputs, then check the configuration against the data
    (levels, scenario codes...) before any computation; notes are printed."""
    from gpec.config import check_against_data, load_config
    from gpec.pipeline import load_data

    clock = ctx.obj.get("clock")
    if clock is not None:
        clock("reading")
    cfg = load_config(config)
    data = load_data(cfg)
    ctx.obj["data"] = data  # for the hints of a failed validation
    notes = check_against_data(cfg, data)
    for note in notes:
        _say(ctx, f"gpec: note: {note}")
    ctx.obj["notes"] = set(notes)  # not repeated if the pipeline warns the same
    return cfg, data


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print only errors and warnings: no notes, summary or progress.",
)
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


def _clock(ctx: click.Context) -> StageClock:
    clock = StageClock(show=not ctx.obj.get("quiet"))
    ctx.obj["clock"] = clock
    return clock


def backtest_option(func):
    """``--backtest``: how the detailed backtest rows are written."""
    return click.option(
        "--backtest",
        type=click.Choice(["auto", "csv", "parquet", "none"]),
        default=None,
        help="Detailed backtest rows: backtest.csv up to 500,000 rows, beyond as "
        "backtest.parquet (auto), or always csv / parquet / none [default: [output] backtest "
        "of the configuration, auto].",
    )(func)


def _run_and_write(
    ctx,
    cfg,
    data,
    out: Path,
    lang: str | None,
    strict: bool,
    warnings_as_errors: bool = False,
    backtest: str | None = None,
):
    from gpec.pipeline import run_pipeline

    verbose = 0 if ctx.obj.get("quiet") else 1
    clock = ctx.obj.get("clock") or _clock(ctx)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_pipeline(
            data,
            cfg,
            verbose=verbose,
            strict=strict,
            warnings_as_errors=warnings_as_errors,
            on_stage=clock,
        )
    said = [
        w for w in caught if not issubclass(w.category, DataQualityWarning)
    ]  # below, row by row
    for msg in dict.fromkeys(str(w.message).splitlines()[0] for w in said):
        if msg not in ctx.obj.get("notes", ()):
            _say(ctx, f"gpec: note: {msg}")
    clock("writing")
    files = res.write(out, lang=lang, backtest=backtest)  # else [output] of the configuration
    _say(ctx, f"gpec: wrote {len(files)} files into {out}")
    if res.data is not None:
        _show_rejected(res.data.rejected, f"all in {out / 'rejected.csv'}", ctx.obj.get("data"))
        _show_warnings(ctx, res.data.warnings, f"all in {out / 'rejected.csv'}")
    from gpec.report import period_totals

    tot = period_totals(res, decimals=0)  # the report's figures: openings = allocated + gap
    if len(tot):
        last = tot.iloc[-1]
        _say(
            ctx,
            f"gpec: {int(last['period'])}: openings {int(last['openings_to_fill'])}, "
            f"trained entrants allocated {int(last['entrants_allocated'])}, gap {int(last['gap'])}",
        )
    if ctx.obj.get("verbose"):
        _say(ctx, clock.summary())
    return res


@cli.command()
@quiet_option
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--lang", type=click.Choice(["en", "fr"]), default=None, help="Language of the report labels."
)
@verbose_option
@backtest_option
@click.pass_context
@guarded("out")
def demo(ctx: click.Context, out: Path, lang: str | None, backtest: str) -> None:
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
        _clock(ctx)("reading")
        config_path = write_inputs(load_demo(), out / "inputs", demo_cfg)
        cfg, data = _load_checked(ctx, config_path)
        _run_and_write(ctx, cfg, data, out, lang, strict=True, backtest=backtest)
    except _user_errors() as exc:
        _fail(exc)


@cli.command()
@quiet_option
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder.",
)
@click.option("--lang", type=click.Choice(["en", "fr"]), default=None)
@click.option(
    "--lenient",
    is_flag=True,
    help="Drop bad rows (listed in rejected.csv) instead of stopping at the first.",
)
@strict_option
@verbose_option
@backtest_option
@click.pass_context
@guarded("out")
def run(
    ctx, config: Path, out: Path, lang: str | None, lenient: bool, strict: bool, backtest: str
) -> None:
    """Run the whole chain from a TOML configuration naming your files.

    \b
    Example:
      gpec run gpec.toml --out results
    """
    try:
        _clock(ctx)
        cfg, data = _load_checked(ctx, config)
        _run_and_write(
            ctx,
            cfg,
            data,
            out,
            lang,
            strict=not lenient,
            warnings_as_errors=strict,
            backtest=backtest,
        )
    except _user_errors() as exc:
        _fail(exc)


@cli.command()
@quiet_option
@click.argument("config", type=click.Path(path_type=Path))
@strict_option
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every problem and warning to this CSV file.",
)
@click.pass_context
@guarded()
def validate(ctx, config: Path, strict: bool, report_path: Path | None) -> None:
    """Check a configuration, its inputs, and the configuration against the inputs.

    Prints the rows kept per table, the rejected rows and the plausibility warnings (a few
    per kind; --report FILE writes them all); a configuration value the data do not have (a
    territory level, a scenario's codes) is an error. Exit 0 when every row is usable (warnings
    allowed, unless --strict), 1 when rows are rejected, 2 on a user error.

    \b
    Example:
      gpec validate gpec.toml
    """
    try:
        cfg, data = _load_checked(ctx, config)
        clean = data.validate(
            strict=False, warnings_as_errors=strict, plausibility=cfg.validate.rules()
        )
        rejected = clean.rejected
    except _user_errors() as exc:
        _fail(exc)
    for name, table in clean.tables.items():
        _say(ctx, f"{name}: {len(table)} rows kept")
    if report_path is not None:
        import pandas as pd

        from gpec.report import write_output_csv

        full = pd.concat(
            [r for r in (rejected.assign(check="", severity="error"), clean.warnings) if len(r)]
            or [clean.warnings],
            ignore_index=True,
        )
        write_output_csv(full, report_path)
    where = f"all in {report_path}" if report_path else "--report FILE lists them all"
    _show_warnings(ctx, clean.warnings, where)
    from pandas.api.types import is_integer_dtype

    emp = clean.employment  # years, as gpec run needs (its own check stops the run)
    not_years = emp is not None and len(emp) and not is_integer_dtype(emp["period"])
    if not_years:
        click.echo(
            f"gpec: warning: table employment ({clean.sources.get('employment', '')}): periods "
            f"such as {emp['period'].iloc[0]} are not years: gpec run needs annual employment "
            "(gpec forecast takes quarterly or monthly series)"
        )
    if len(rejected):
        from gpec._schema import format_report

        click.echo(f"{len(rejected)} problem(s):")
        for line in format_report(rejected, max_per_reason=20):  # rejected.csv lists them all
            click.echo(f"  {line}")
        for hint in code_hints(rejected, data):
            click.echo(f"hint: {hint}")
        sys.exit(EXIT_REJECTED)
    _say(ctx, "no row rejected" if len(clean.warnings) or not_years else "no problem found")


@cli.command()
@quiet_option
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), required=True)
@click.option("--lenient", is_flag=True, help="Go on without the rejected rows.")
@strict_option
@click.pass_context
@guarded("out")
def forecast(ctx, config: Path, out: Path, lenient: bool, strict: bool) -> None:
    """Forecast employment only (forecast.csv and backtest.csv).

    \b
    Example:
      gpec forecast gpec.toml --out forecasts
    """
    try:
        from gpec.pipeline import forecast_stage

        cfg, data = _load_checked(ctx, config)
        data = data.validate(
            strict=not lenient, warnings_as_errors=strict, plausibility=cfg.validate.rules()
        )
        model, fc = forecast_stage(
            data,
            cfg.forecast,
            level=cfg.run.level,
            seed=cfg.run.seed,
            verbose=0 if ctx.obj.get("quiet") else 1,
        )
    except _user_errors() as exc:
        _fail(exc)
    from gpec.report import output_dialect, staged_output, write_output_csv

    dialect = output_dialect(cfg.output.csv_dialect, cfg.run.lang)
    rejected = data.rejected
    with staged_output(out, replaces=["rejected.csv"]) as tmp:  # the dialect of `gpec run`
        write_output_csv(fc, tmp / "forecast.csv", dialect)
        write_output_csv(model.backtest_, tmp / "backtest.csv", dialect)
        if len(rejected):  # the rows --lenient left out, as `gpec run` lists them
            write_output_csv(rejected, tmp / "rejected.csv", dialect)
    written = (
        "forecast.csv, backtest.csv and rejected.csv"
        if len(rejected)
        else "forecast.csv and backtest.csv"
    )
    _say(ctx, f"gpec: wrote {written} into {out}")
    _show_rejected(rejected, f"all in {out / 'rejected.csv'}", ctx.obj.get("data"))
    _show_warnings(ctx, data.warnings, "gpec validate CONFIG --report FILE lists them all")


@cli.command()
@quiet_option
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--lang", type=click.Choice(["en", "fr"]), default=None)
@click.pass_context
@guarded()
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
    from gpec.report import staged_output

    with staged_output(results) as tmp:  # the previous reports stay until both are complete
        write_excel(res, tmp / "report.xlsx", lang=lang)
        write_html(res, tmp / "report.html", lang=lang)
    _say(ctx, f"gpec: wrote report.xlsx and report.html into {results}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``gpec`` console script."""
    if threading_main():  # Ctrl-C raises KeyboardInterrupt even if the parent ignored SIGINT
        signal.signal(signal.SIGINT, signal.default_int_handler)
    cli.main(args=argv, prog_name="gpec")


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":  # pragma: no cover
    main()
