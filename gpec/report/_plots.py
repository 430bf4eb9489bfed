"""Charts of the HTML report (matplotlib, embedded as inline SVG or base64 PNG)."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd

from gpec.report._labels import tr

__all__ = [
    "fan_chart",
    "openings_chart",
    "gap_ranking_chart",
    "gap_heatmap",
    "skill_chart",
    "figure_html",
]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def figure_html(fig, *, fmt: str = "svg", alt: str = "") -> str:
    """Serialise a figure into a self-contained HTML fragment and close it."""
    plt = _plt()
    buf = io.BytesIO()
    # the same run gives the same bytes: no date stamp, fixed ids in the SVG
    meta = {"Date": None} if fmt in ("svg", "pdf") else {"Software": None}
    with plt.rc_context({"svg.hashsalt": "gpec"}):
        fig.savefig(buf, format=fmt, bbox_inches="tight", dpi=110, metadata=meta)
    plt.close(fig)
    alt = html.escape(alt)
    if fmt == "svg":
        svg = buf.getvalue().decode("utf-8")
        svg = svg[svg.index("<svg") :]
        return f'<figure role="img" aria-label="{alt}">{svg}</figure>'
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}"></figure>'


def fan_chart(history: pd.DataFrame, forecast: pd.DataFrame, title: str, lang: str | None = None):
    """Employment history and forecast with its intervals (one band per level)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    h = history.sort_values("period")
    ax.plot(
        h["period"].astype(float), h["value"], color="#1f3b5c", lw=2, label=tr("observed", lang)
    )
    f = forecast.sort_values("period")
    levels = sorted(f["level"].dropna().unique(), reverse=True) if "level" in f else []
    shades = ["#c8d7ea", "#8fb0d6", "#5d8cc2"]
    for i, lv in enumerate(levels):
        fl = f[f["level"] == lv]
        ax.fill_between(
            fl["period"].astype(float),
            fl["lower"],
            fl["upper"],
            color=shades[i % len(shades)],
            label=tr("{level}% interval", lang).format(level=int(lv)),
        )
    fm = f.drop_duplicates("period")
    if len(h) and len(fm):
        xs = np.r_[float(h["period"].iloc[-1]), fm["period"].astype(float)]
        ys = np.r_[h["value"].iloc[-1], fm["mean"]]
        ax.plot(xs, ys, color="#c0392b", lw=2, ls="--", label=tr("forecast", lang))
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(tr("jobs", lang))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.grid(alpha=0.3)
    return fig


def openings_chart(openings: pd.DataFrame, title: str, lang: str | None = None):
    """Net openings per year split into expansion and replacement (stacked bars)."""
    plt = _plt()
    t = openings.groupby("period")[["expansion", "replacement"]].sum()
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    x = np.arange(len(t))
    rep = t["replacement"].to_numpy()
    exp = t["expansion"].to_numpy()
    ax.bar(x, rep, color="#5d8cc2", label=tr("replacement (end-of-career departures)", lang))
    ax.bar(
        x,
        np.where(exp > 0, exp, 0),
        bottom=rep,
        color="#27ae60",
        label=tr("expansion (growth)", lang),
    )
    if (exp < 0).any():
        ax.bar(x, np.where(exp < 0, exp, 0), color="#c0392b", label=tr("net job losses", lang))
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [str(p) for p in t.index])
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(tr("jobs per year", lang))
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)
    return fig


def gap_ranking_chart(
    by_territory: pd.DataFrame, title: str, label_col: str, lang: str | None = None
):
    """Horizontal bars: the territories with the largest gaps, with the allocated entrants."""
    plt = _plt()
    d = by_territory.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(d) + 1.2))
    y = np.arange(len(d))
    ax.barh(
        y, d["entrants_allocated"], color="#5d8cc2", label=tr("covered by local training", lang)
    )
    ax.barh(y, d["gap"], left=d["entrants_allocated"], color="#e67e22", label=tr("gap", lang))
    ax.set_yticks(y, [_short(v, 40) for v in d[label_col]], fontsize=8)
    ax.set_xlabel(tr("openings to fill over the horizon", lang))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig


def gap_heatmap(matrix: pd.DataFrame, title: str, lang: str | None = None):
    """Territory x occupation heatmap of the gap share (gap / openings); grey = no openings."""
    plt = _plt()
    import matplotlib as mpl

    cmap = mpl.colormaps["YlOrRd"].with_extremes(bad="#e6e6e6")
    values = np.ma.masked_invalid(matrix.to_numpy(dtype=float))
    fig, ax = plt.subplots(
        figsize=(
            min(11.0, max(6.0, 0.3 * matrix.shape[1] + 3)),
            max(3.0, 0.26 * matrix.shape[0] + 1.5),
        )
    )
    im = ax.imshow(values, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(
        np.arange(matrix.shape[1]), [_short(c, 34) for c in matrix.columns], rotation=90, fontsize=7
    )
    ax.set_yticks(np.arange(matrix.shape[0]), [_short(r, 34) for r in matrix.index], fontsize=7)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.03, label=tr("gap / openings (grey: no openings)", lang))
    return fig


def _short(text, n: int) -> str:
    """Shorten a label at a word boundary; gendered ROME labels keep their first form."""
    text = str(text)
    if " / " in text and len(text) > n:
        first, _, rest = text.partition(" / ")
        # "Technicien / Technicienne d'exploitation" -> "Technicien d'exploitation"
        tail = rest.split(" ", 1)[1] if " " in rest else ""
        text = f"{first} {tail}".strip()
    if len(text) <= n:
        return text
    cut = text[: n - 1].rsplit(" ", 1)[0]
    return cut + "…"


def skill_chart(skills: pd.DataFrame, title: str, label_col: str, lang: str | None = None):
    """Need against allocated supply for the skills with the largest gaps."""
    plt = _plt()
    d = skills.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(d) + 1.2))
    y = np.arange(len(d))
    ax.barh(y - 0.2, d["need"], height=0.4, color="#95a5a6", label=tr("need", lang))
    ax.barh(
        y + 0.2,
        d["supply_allocated"],
        height=0.4,
        color="#5d8cc2",
        label=tr("supplied by training", lang),
    )
    ax.set_yticks(y, [_short(v, 48) for v in d[label_col]], fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig
