"""Shared fixtures.

``catvnoncat``: the folder of the notes' exercise data (``train_catvnoncat.h5`` and
``test_catvnoncat.h5``, see ../shared/data/catvnoncat/README.md). It is not part of the project:
tests that need it take this fixture and are skipped, with the reason, where it is absent.
Set ``LOGREG_CATVNONCAT`` to point at another copy.
"""

import os
from pathlib import Path

# scikit-learn's array-API estimator checks (PyTorch, array-api-strict) run only when SciPy is
# imported in array-API mode; set it before any test module imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATVNONCAT_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")


def _catvnoncat_folder():
    if os.environ.get("LOGREG_CATVNONCAT"):
        return Path(os.environ["LOGREG_CATVNONCAT"])
    for candidate in (ROOT.parent / "shared" / "data" / "catvnoncat",
                      ROOT / "shared" / "data" / "catvnoncat"):
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "data" / "catvnoncat"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "catvnoncat: needs the exercise's cat/non-cat .h5 files (skipped if absent)")


IN_PROCESS_CLUSTER_TIMEOUT = 120  # seconds; such a test takes 2-15 s


def pytest_collection_modifyitems(config, items):
    """Tests on a local Dask cluster (the ``threads_cluster`` fixtures) get a time limit and
    two more tries. In three full runs of 2026-11-27 (two beside heavy benchmarks, one on a
    quiet machine) the client's gather waited forever on in-process workers, every worker
    idle, while each test passed alone in 10 s (issue 12's note); the fixtures now start
    worker processes, and a hang that repeats three times still fails."""
    if not (config.pluginmanager.hasplugin("timeout")
            and config.pluginmanager.hasplugin("rerunfailures")):
        return
    for item in items:
        if "threads_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(IN_PROCESS_CLUSTER_TIMEOUT, method="signal"))
            item.add_marker(pytest.mark.flaky(reruns=2, only_rerun=["Timeout"]))


@pytest.fixture(scope="session")
def catvnoncat():
    """The folder holding the exercise's .h5 files, or a skip saying where they were sought."""
    folder = _catvnoncat_folder()
    missing = [name for name in CATVNONCAT_FILES if not (folder / name).is_file()]
    if missing:
        pytest.skip(f"cat/non-cat exercise data absent: {', '.join(missing)} not found in "
                    f"{folder} (set LOGREG_CATVNONCAT to its folder to run this test)")
    return folder
