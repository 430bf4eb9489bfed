"""The HTML report renders in a real browser: headless Chromium screenshot, not blank.

Skips when no Chromium binary is installed (Debian: ``apt-get install chromium``). Slow: the
fixture runs the whole pipeline on the demo (about 15 s on an idle 2-core machine, a minute
under load) and each screenshot starts a browser.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.slow

TITLE_RGB = np.array([0x1F, 0x3B, 0x5C]) / 255  # colour of the report's headings


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    from gpec.cli import DEMO_SCENARIOS
    from gpec.datasets import load_demo
    from gpec.pipeline import run_pipeline

    out = tmp_path_factory.mktemp("report")
    cfg = {"forecast": {"horizon": 3}, "scenarios": DEMO_SCENARIOS}
    res = run_pipeline(load_demo(), cfg)
    res.write(out)
    from gpec.report import write_html

    write_html(res, out / "again.html")  # the same results written twice
    return out / "report.html"


def test_same_results_same_html_bytes(report_html):
    # no date stamp or random ids in the charts: a report can be compared with a diff
    assert report_html.read_bytes() == (report_html.parent / "again.html").read_bytes()


def _screenshot(browser: str, page: Path, png: Path, profile: Path, size=(1200, 2000)):
    cmd = [
        browser,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={size[0]},{size[1]}",
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert png.is_file(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    from matplotlib.image import imread

    return imread(png)[..., :3]  # float RGB in [0, 1]


def test_report_is_self_contained(report_html):
    text = report_html.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text), (
        "report.html loads a network resource"
    )
    assert "<link" not in text and "<script src" not in text
    n_charts = text.count("<svg") + len(re.findall(r"<img[^>]+src=\"data:image/png;base64,", text))
    assert n_charts >= 4, f"only {n_charts} embedded charts"
    for anchor in (
        "summary",
        "forecast",
        "openings",
        "gaps",
        "accuracy",
        "scenarios",
        "assumptions",
    ):
        assert f'id="{anchor}"' in text, f"section #{anchor} missing"


def test_report_scenarios_beside_the_baseline(report_html):
    text = report_html.read_text(encoding="utf-8")
    section = text[text.index('id="scenarios"') : text.index('id="assumptions"')]
    assert "gap_change" in section and "a new training offer of 30 seats a year" in section
    rows = re.findall(r"<tr><td>([^<]+)</td>", section)
    assert rows == ["baseline", "foundry closure 2027", "30 seats aide-soignant Caen"]


def test_report_renders_in_chromium(report_html, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium binary (apt-get install chromium)")
    img = _screenshot(browser, report_html, tmp_path / "top.png", tmp_path / "profile")
    assert img.shape[:2] == (2000, 1200)
    white = np.all(img > 0.97, axis=2)
    assert 0.03 < 1 - white.mean() < 0.95, f"{1 - white.mean():.1%} non-white pixels"
    colours = np.unique((img * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, f"only {len(colours)} distinct colours: blank or an error page"
    # the report's own heading colour is there (not a browser error page)
    title = np.linalg.norm(img - TITLE_RGB, axis=2) < 0.06
    assert title.sum() > 200

    # further down the page: the charts are drawn (many colours, some of the chart palette)
    tall = _screenshot(
        browser, report_html, tmp_path / "full.png", tmp_path / "profile2", size=(1200, 6000)
    )
    lower = tall[2000:]
    assert 1 - np.all(lower > 0.97, axis=2).mean() > 0.03
    bars = np.linalg.norm(lower - np.array([0x5D, 0x8C, 0xC2]) / 255, axis=2) < 0.05
    assert bars.sum() > 1000, "no chart bars (blue #5d8cc2) below the summary"
