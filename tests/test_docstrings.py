"""Every example in a docstring of digitlab runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import digitlab

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(digitlab.__path__, "digitlab.")
    if not m.name.endswith("__main__")
)


def test_the_package_has_examples_to_run():
    finder = doctest.DocTestFinder()
    examples = sum(
        len(t.examples)
        for name in MODULES
        for t in finder.find(importlib.import_module(name))
    )
    assert len(MODULES) > 30 and examples > 50


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, capsys):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    report = capsys.readouterr().out
    assert result.failed == 0, report
