"""Shared fixtures: the built-in digits and the real MNIST test set when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import digitlab

# ../shared/data/mnist from the project root; DIGITLAB_MNIST_DIR points elsewhere
# (e.g. from a git worktree that does not sit beside shared/).
MNIST_DIR = Path(
    os.environ.get("DIGITLAB_MNIST_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
)


@pytest.fixture(autouse=True)
def _digitlab_home(tmp_path_factory, monkeypatch):
    """Every test records its runs in a fresh folder, never in the user's home."""
    home = tmp_path_factory.mktemp("digitlab-home")
    monkeypatch.setenv("DIGITLAB_HOME", str(home))
    # The default model's rows are cached once per test session, not in ~/.cache.
    cache = tmp_path_factory.getbasetemp() / "digitlab-cache"
    monkeypatch.setenv("DIGITLAB_CACHE_DIR", str(cache))
    return home


@pytest.fixture(scope="session")
def digits():
    return digitlab.load_digits()


@pytest.fixture(scope="session")
def mnist_dir():
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the MNIST test set is not at {MNIST_DIR}")
    return MNIST_DIR
