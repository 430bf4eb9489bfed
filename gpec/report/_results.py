"""The result of a run: every output table, and how it is written to a folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec.exceptions import REJECTION_COLUMNS
from gpec.report._atomic import staged_output
from gpec.report._csv import output_dialect, write_output_csv
from gpec.report._excel import write_excel
from gpec.report._html import write_html
from gpec.supply.review import REVIEW_COLUMNS

__all__ = ["BACKTEST_CSV_ROWS", "OUTPUT_FILES", "Results"]

#: Output tables written by :meth:`Results.write`, file name -> attribute.
OUTPUT_FILES = {
    "forecast.csv": "forecast",
    "backtest.csv": "backtest",
    "backtest_summary.csv": "backtest_summary",
    "openings.csv": "openings",
    "skill_needs.csv": "skill_needs",
    "entrants.csv": "entrants",
    "gaps.csv": "gaps",
    "skill_gaps.csv": "skill_gaps",
    "transitions.csv": "transitions",
    "surplus.csv": "surplus",
    "mapping_quality.csv": "mapping_quality",
    "mapping_review.csv": "mapping_review",
    "plan_totals.csv": "plan_totals",
    "plan_totals_heldout.csv": "plan_totals_heldout",
    "territory_profile.csv": "profile",
    "hiring_check.csv": "hiring_check",
    "scenarios.csv": "scenarios",
    "rejected.csv": "rejected",
}


#: Header of an output that has no rows because its input is absent (e.g. no occupation_skills:
#: no skill gaps), so that every CSV written can be read back with its columns.
_EMPTY_COLUMNS = {
    "skill_needs": ["territory", "territory_label", "skill", "skill_label", "period", "need",
                    "need_lower", "need_upper", "occupations"],
    "skill_gaps": ["territory", "territory_label", "skill", "skill_label", "period", "need",
                   "supply_allocated", "gap", "gap_lower", "gap_upper", "n_occupations"],
    "transitions": ["territory", "territory_label", "occupation", "occupation_label",
                    "from_occupation", "from_occupation_label", "overlap", "mobility_link",
                    "score", "rank", "jobs_lost", "gap", "skills_to_acquire",
                    "n_skills_to_acquire"],
    "mapping_quality": ["reason", "offers", "seats", "seats_share", "entrants",
                        "entrants_share", "to_review_offers", "to_review_seats"],
    "mapping_review": list(REVIEW_COLUMNS),
    "hiring_check": ["territory", "territory_label", "occupation", "occupation_label",
                     "survey_period", "period", "openings", "projects", "projects_nonseasonal",
                     "difficult_share", "seasonal_share", "openings_share", "projects_share",
                     "share_ratio", "flag"],
    "scenarios": ["scenario", "territory", "territory_label", "occupation", "occupation_label",
                  "period", "openings", "entrants_allocated", "gap", "employment"],
}  # fmt: skip


@dataclass
class Results:
    """Every table produced by a run, plus the parameters and versions used.

    Returned by :func:`gpec.pipeline.run_pipeline` and read back from an output folder by
    :func:`gpec.report.load_results`; :data:`OUTPUT_FILES` maps each CSV file to its field.

    Attributes
    ----------
    forecast, backtest, backtest_summary : DataFrame
        Employment forecasts with intervals, the rolling-origin backtest and its summary.
    openings, skill_needs : DataFrame
        Openings (expansion + replacement) per territory x occupation x year, and skill needs.
    entrants, mapping_quality, surplus : DataFrame
        Trained entrants per offer x occupation, how seats were mapped, entrants left over.
    gaps, skill_gaps, transitions : DataFrame
        Gaps per territory x occupation (and skill) x year, reconversion paths.
    profile, hiring_check, scenarios, rejected : DataFrame
        Territory profiles, BMO cross-check, scenarios beside the baseline, rows left out.
    config : Config or dict
        The configuration of the run.
    provenance : dict
        Run date, seed, versions, sources and their SHA-256, row counts.
    data : GpecData, optional
        The validated inputs.

    Examples
    --------
    >>> from gpec.datasets import load_demo
    >>> from gpec.pipeline import run_pipeline
    >>> res = run_pipeline(load_demo())  # doctest: +SKIP
    >>> files = res.write("out")  # doctest: +SKIP
    """

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    openings: pd.DataFrame
    skill_needs: pd.DataFrame
    entrants: pd.DataFrame
    gaps: pd.DataFrame
    skill_gaps: pd.DataFrame
    transitions: pd.DataFrame
    surplus: pd.DataFrame
    mapping_quality: pd.DataFrame
    profile: pd.DataFrame
    hiring_check: pd.DataFrame
    scenarios: pd.DataFrame
    rejected: pd.DataFrame
    backtest_summary: pd.DataFrame
    config: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    data: GpecData | None = None
    #: offers mapped by text with their evidence, least confident first (None: no offers)
    mapping_review: pd.DataFrame | None = None
    #: per period, the intervals of the net openings and of the gap summed over every cell and
    #: over the plan period, from the sample paths (None: the run drew no paths)
    plan_totals: pd.DataFrame | None = None
    #: the plan totals made on the study's own past against what happened, per origin and
    #: quantity ([forecast] heldout_check; None: not run, provenance says why)
    plan_totals_heldout: pd.DataFrame | None = None

    def write(
        self,
        out_dir: str | os.PathLike,
        *,
        reports: bool = True,
        lang: str | None = None,
        csv_dialect: str | None = None,
        backtest: str | None = None,
    ) -> list[Path]:
        """Write the result tables as CSV (and the Excel and HTML reports) into ``out_dir``.

        The files are written into a temporary folder beside ``out_dir`` and moved into place
        only when all are complete: an interrupted or failed write leaves the previous results
        as they were, and the previous run's outputs are never left beside this run's.

        Parameters
        ----------
        out_dir : path-like
            Output folder (created when missing; its other files, such as ``inputs/``, are
            kept).
        reports : bool, default True
            Also write ``report.xlsx`` and ``report.html``.
        lang : {"en", "fr"}, optional
            Language of the reports' labels.
        csv_dialect : {"en", "fr"}, optional
            ``"en"``: ``,`` and a decimal point, UTF-8; ``"fr"``: ``;``, a decimal comma and
            UTF-8 with a byte-order mark (French Excel opens it in columns). Defaults to the
            configuration's ``[output] csv_dialect``, else ``"fr"`` when ``lang`` (or the
            configuration's ``[run] lang``) is ``"fr"``, else ``"en"``. Text cells a
            spreadsheet would run as a formula get a quote in front (see
            :mod:`gpec.report._csv`).
        backtest : {"auto", "csv", "parquet", "none"}, optional
            The detailed backtest rows (series x model x horizon); defaults to the
            configuration's ``[output] backtest``, else ``"auto"``. ``"auto"`` writes
            ``backtest.csv`` up to :data:`BACKTEST_CSV_ROWS` rows and, beyond, ``backtest.parquet``
            when pyarrow is installed (else nothing; ``backtest_summary.csv`` is always written
            and ``provenance.toml`` says what became of them).

        Returns
        -------
        list of Path
            The files written, at their final place.
        """
        cfg = self.config
        dialect = output_dialect(
            csv_dialect or _config_value(cfg, "output", "csv_dialect"),
            lang or _config_value(cfg, "run", "lang"),
        )
        out = Path(out_dir)
        backtest = backtest or _config_value(cfg, "output", "backtest") or "auto"
        if backtest not in ("auto", "csv", "parquet", "none"):
            raise ValueError(f"backtest {backtest!r}: expected auto, csv, parquet or none")
        bt_form = _backtest_form(self.backtest, backtest)
        names = [*OUTPUT_FILES, "backtest.parquet", "provenance.toml", "report.xlsx", "report.html"]
        with staged_output(out, replaces=names) as tmp:
            written = []
            for name, attr in OUTPUT_FILES.items():
                table = self.rejection_report() if attr == "rejected" else getattr(self, attr)
                if table is None or (attr == "backtest" and bt_form != "csv"):
                    continue
                if table.columns.empty and attr in _EMPTY_COLUMNS:
                    table = pd.DataFrame(columns=_EMPTY_COLUMNS[attr])
                written.append(write_output_csv(table, tmp / name, dialect).name)
            import tomli_w

            if bt_form == "parquet":
                self.backtest.to_parquet(tmp / "backtest.parquet", index=False)
                written.append("backtest.parquet")
            n_bt = 0 if self.backtest is None else len(self.backtest)
            prov = {
                **self.provenance,
                "output": {"csv_dialect": dialect, "backtest_rows": n_bt, "backtest": bt_form},
            }
            (tmp / "provenance.toml").write_text(tomli_w.dumps(_toml_safe(prov)), encoding="utf-8")
            written.append("provenance.toml")
            if reports:
                written.append(write_excel(self, tmp / "report.xlsx", lang=lang).name)
                written.append(write_html(self, tmp / "report.html", lang=lang).name)
        return [out / name for name in written]

    def rejection_report(self) -> pd.DataFrame:
        """Rejected rows (severity ``error``) and plausibility warnings (``warning``), as in
        ``rejected.csv``: columns table, file, row, column, value, reason, check, severity."""
        rej = self.rejected
        if rej is None:
            rej = pd.DataFrame(columns=REJECTION_COLUMNS)
        if "severity" in rej.columns:  # read back from a previous run's rejected.csv
            return rej
        rej = rej.assign(check="", severity="error")
        warn = getattr(self.data, "warnings", None) if self.data is not None else None
        if warn is not None and len(warn):
            rej = pd.concat([r for r in (rej, warn) if len(r)], ignore_index=True)
        return rej.reindex(columns=[*REJECTION_COLUMNS, "check", "severity"])


def _config_value(config, section: str, key: str) -> Any:
    """``[section] key`` of a run's configuration (a Config or a plain dict), if any."""
    try:
        return config[section][key]
    except (KeyError, TypeError):
        return None


#: Rows of detailed backtest written as CSV by ``backtest="auto"`` (beyond: Parquet).
BACKTEST_CSV_ROWS = 500_000


def _backtest_form(table: pd.DataFrame | None, wanted: str) -> str:
    """How the detailed backtest rows are written: csv, parquet or none."""
    if table is None or wanted == "none":
        return "none"
    if wanted == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ValueError(
                "backtest = 'parquet' needs pyarrow: pip install 'gpec[parquet]'"
            ) from None
    if wanted != "auto":
        return wanted
    if len(table) <= BACKTEST_CSV_ROWS:
        return "csv"
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return "none"
    return "parquet"


def _toml_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _toml_safe(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [_toml_safe(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    return obj


# ----------------------------------------------------------------------------- loading
