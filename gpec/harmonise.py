"""Deprecated path of :mod:`gpec.referentials.harmonize`."""

from gpec._compat import moved


def __getattr__(name: str):
    if name == "harmonise":
        return moved("gpec.harmonise", "harmonize", "gpec.referentials.harmonize")
    raise AttributeError(f"module 'gpec.harmonise' has no attribute {name!r}")
