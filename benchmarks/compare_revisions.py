"""Same outputs before and after a refactor: run two git revisions on the same inputs, compare.

Checks out each revision in a temporary git worktree beside the repository (so that the
real-files configurations find ``../shared/data/real``), runs ``gpec demo`` and ``gpec run`` on
the shipped real-files configurations with that revision's code, and prints, side by side, the
SHA-256 of every CSV output of both. A refactor that is only a refactor gives ``same`` on every
row; ``provenance.toml`` and the reports (run date, versions) are not compared.

Usage::

    python benchmarks/compare_revisions.py REV_BEFORE [REV_AFTER]   # REV_AFTER: the work tree

Example: ``python benchmarks/compare_revisions.py HEAD~3 HEAD``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: (name, gpec arguments; {out} is replaced by the output folder)
RUNS = [
    ("demo", ["demo", "--out", "{out}", "-q"]),
    ("national FAP", ["run", "examples/real_files/gpec.toml", "--out", "{out}", "--lenient", "-q"]),
    ("ROME + tables", ["run", "examples/real_files/rome_with_tables.toml", "--out", "{out}", "-q"]),
]


def _checkout(rev: str | None) -> tuple[Path, bool]:
    """The source folder of ``rev`` (a new worktree beside the repository), or the work tree."""
    if rev is None:
        return REPO, False
    path = Path(tempfile.mkdtemp(prefix=".gpec-compare-", dir=REPO.parent))
    shutil.rmtree(path)
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(path), rev],
        check=True,
        capture_output=True,
    )
    return path, True


def _run(src: Path, args: list[str], out: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "gpec.cli", *[a.format(out=out) for a in args]]
    res = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True)
    return "ok" if res.returncode == 0 else f"exit {res.returncode}: {res.stderr.strip()[-200:]}"


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        for p in sorted(folder.rglob("*.csv"))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?", default=None)
    opts = parser.parse_args(argv)
    results: dict[str, dict[str, dict[str, str]]] = {}
    status: dict[str, list[str]] = {}
    for label, rev in (("before", opts.before), ("after", opts.after)):
        src, temporary = _checkout(rev)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                results[label], status[label] = {}, []
                for name, args in RUNS:
                    out = Path(tmp) / name.replace(" ", "_")
                    status[label].append(f"{name}: {_run(src, args, out)}")
                    results[label][name] = _digests(out) if out.is_dir() else {}
        finally:
            if temporary:
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(src)],
                    check=False,
                    capture_output=True,
                )
    print(f"before = {opts.before}, after = {opts.after or 'work tree'}")
    for label in ("before", "after"):
        print(f"  {label}: " + "; ".join(status[label]))
    differ = 0
    print(f"\n{'run':<14} {'file':<32} {'before':<13} {'after':<13} same")
    for name, _ in RUNS:
        a, b = results["before"][name], results["after"][name]
        for file in sorted(set(a) | set(b)):
            same = a.get(file) == b.get(file)
            differ += not same
            print(
                f"{name:<14} {file:<32} {a.get(file, '-'):<13} {b.get(file, '-'):<13} "
                f"{'same' if same else 'DIFFERENT'}"
            )
    print(f"\n{differ} file(s) differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
