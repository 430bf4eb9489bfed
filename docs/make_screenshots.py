"""Screenshots of report sections for the documentation (headless Chromium).

    python examples/rouen_real.py --out rouen-report
    python docs/make_screenshots.py rouen-report/occupations/report.html

Each picture is one ``<section>`` of the report, cut out with the report's own style sheet, drawn by
headless Chromium (``apt-get install chromium``), trimmed of its white margin and written as a
small PNG under ``docs/img/``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

IMG = Path(__file__).resolve().parent / "img"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
]
#: section anchor -> (file name, window height in pixels)
SHOTS = {
    "supply": ("rouen-mapping-quality.png", 700),
    "transitions": ("rouen-transitions.png", 640),
}


def section_page(html: str, anchor: str) -> str:
    """A page with the report's style and only the section ``anchor``."""
    style = re.search(r"<style>.*?</style>", html, re.S)
    body = re.search(rf'<section id="{anchor}">.*?</section>', html, re.S)
    if body is None:
        raise SystemExit(f"no section #{anchor} in the report")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"{style.group(0) if style else ''}</head><body><main>{body.group(0)}</main></body></html>"
    )


def trim(png: Path, width: int) -> None:
    """Cut the white margin below the content and scale the picture to ``width`` pixels."""
    from PIL import Image

    img = Image.open(png).convert("RGB")
    a = np.asarray(img)
    ink = np.flatnonzero((a < 235).any(axis=2).any(axis=1))
    if len(ink):
        img = img.crop((0, 0, img.width, min(img.height, ink[-1] + 16)))
    if img.width > width:
        img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
    img = img.convert("P", palette=Image.ADAPTIVE, colors=64)
    img.save(png, optimize=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", help="a report.html written by gpec")
    ap.add_argument("--out", default=str(IMG))
    ap.add_argument("--width", type=int, default=900, help="width of the PNG files")
    args = ap.parse_args(argv)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("no chromium binary (apt-get install chromium)")
    html = Path(args.report).read_text(encoding="utf-8")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for anchor, (name, height) in SHOTS.items():
            page = Path(tmp) / f"{anchor}.html"
            page.write_text(section_page(html, anchor), encoding="utf-8")
            png = out / name
            cmd = [
                browser,
                *FLAGS,
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--screenshot={png}",
                f"--window-size=1200,{height}",
                page.as_uri(),
            ]
            subprocess.run(cmd, capture_output=True, timeout=180, check=False)
            if not png.is_file():
                sys.exit(f"chromium wrote no screenshot of #{anchor}")
            trim(png, args.width)
            print(f"{png} ({png.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
