import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "real"


#: CI sets GPEC_REQUIRE_REAL_DATA=1: there, a missing real-data folder fails the tests that need
#: it instead of skipping them.
REQUIRE_REAL_DATA = os.environ.get("GPEC_REQUIRE_REAL_DATA", "") not in ("", "0")


def need_real_data(path: Path = REAL_DATA) -> Path:
    """``path`` if it exists; else skip the test (or fail it when real data are required)."""
    if not path.exists():
        message = f"real data not found: {path}"
        if REQUIRE_REAL_DATA:
            pytest.fail(message + " (GPEC_REQUIRE_REAL_DATA is set)")
        pytest.skip(message)
    return path


@pytest.fixture
def real_data() -> Path:
    """Folder of the real public files beside the repository; skip the test when absent."""
    return need_real_data(REAL_DATA)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
