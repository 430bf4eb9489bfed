"""Ctrl-C during a real ``gpec run``: one line, exit 130, the previous results byte-identical."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUN = "from gpec.cli import main; main()"


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _gpec(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUN, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _temporary(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if ".gpec-tmp-" in p.name]


@pytest.mark.slow
def test_interrupted_run_leaves_previous_results_byte_identical(tmp_path):
    from gpec.cli import DEMO_SCENARIOS
    from gpec.datasets import load_demo
    from gpec.pipeline import write_inputs

    config = write_inputs(load_demo(), tmp_path / "inputs", {"scenarios": DEMO_SCENARIOS})
    out = tmp_path / "results"
    start = time.perf_counter()
    first = _gpec("run", str(config), "--out", str(out))
    _, err = first.communicate(timeout=600)
    full = time.perf_counter() - start
    assert first.returncode == 0, err
    before = _digest(out)
    assert "gaps.csv" in before and "report.xlsx" in before

    outcomes = []
    # at fractions of a full run (reading, forecast, demand, allocation, writing) ...
    points: list[float | str] = [0.15, 0.5]
    # ... and once for sure while the files are being written (the temporary folder exists)
    points.append("writing")
    for point in points:
        proc = _gpec("run", str(config), "--out", str(out))
        if point == "writing":
            deadline = time.perf_counter() + 2 * full + 60
            while not _temporary(tmp_path) and proc.poll() is None:
                assert time.perf_counter() < deadline
                time.sleep(0.05)
            time.sleep(0.3)
        else:
            time.sleep(point * full)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=600)
        outcomes.append((point, proc.returncode))
        if proc.returncode == 0:  # the run ended before the signal: nothing to check
            before = _digest(out)
            continue
        assert proc.returncode == 130, (point, err)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("gpec: interrupted"), (point, err)
        assert "Traceback" not in err
        assert _digest(out) == before, point  # byte-identical previous results
        assert not _temporary(tmp_path), point  # no temporary folder left
    interrupted = [p for p, rc in outcomes if rc == 130]
    assert "writing" in interrupted and len(interrupted) >= 2, outcomes
