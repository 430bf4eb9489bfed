"""Output folders written whole or not at all.

A run writes its files into a hidden temporary folder beside the output folder; only when every
file is complete are they moved into place (one rename each, on the same file system), with the
previous run's outputs that this run does not write removed, and Ctrl-C held back meanwhile. An
interrupted or failed run leaves the previous results as they were and removes its temporary
folder; other files of the output folder (``inputs/``, the planner's own) are never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["staged_output"]


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back (delivered on exit) where the platform allows it."""
    can = (
        hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    )
    if not can:
        yield
        return
    sigs = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def staged_output(out_dir: str | os.PathLike, replaces: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a temporary folder; on success move its files into ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        The output folder (created when missing).
    replaces : iterable of str
        File names of a previous run's outputs: those present in ``out_dir`` and not written
        this time are removed when the new files go in (no files from two runs side by side).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
    >>> with staged_output(out) as tmp:
    ...     _ = (tmp / "a.csv").write_text("x\\n1\\n")
    >>> sorted(p.name for p in out.iterdir())
    ['a.csv']
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.gpec-tmp-", dir=out.parent))
    try:
        yield tmp
        with _signals_held():
            out.mkdir(exist_ok=True)
            new = {p.name for p in tmp.iterdir()}
            for name in sorted(set(replaces) - new):
                old = out / name
                if old.is_file() or old.is_symlink():
                    old.unlink()
                elif old.is_dir():
                    shutil.rmtree(old)
            for name in sorted(new):
                dest = out / name
                if dest.is_dir() and not dest.is_symlink():
                    shutil.rmtree(dest)
                os.replace(tmp / name, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
