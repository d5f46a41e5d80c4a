"""The hostile battery (``benchmarks/hostile.py``) runs clean: every one of its
hundreds of bad inputs to the CLI and the web API is answered cleanly, and no
input file changes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")

BATTERY = Path(__file__).resolve().parents[1] / "benchmarks" / "hostile.py"


@pytest.mark.slow
def test_the_hostile_battery_is_answered_cleanly(monkeypatch, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("hostile", BATTERY)
    hostile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hostile)
    # main() points DIGITLAB_HOME and the cache at its own folder; monkeypatch
    # puts the test's values back afterwards.
    monkeypatch.setenv("DIGITLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIGITLAB_CACHE_DIR", str(tmp_path / "cache"))
    assert hostile.main() == 0, capsys.readouterr().err[-3000:]
    out = capsys.readouterr().out
    assert out.splitlines()[-1].endswith("all answered cleanly.")
    counts = [int(line.split()[1]) for line in out.splitlines()[:2]]
    assert counts[0] > 400 and counts[1] > 150, out
