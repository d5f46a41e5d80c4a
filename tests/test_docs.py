"""The README documents every command and option, and its examples are real."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from digitlab.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


COMMANDS = list(_commands(main))


def test_readme_starts_with_the_two_commands():
    text = README.read_text()
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, re.S)
    assert "digitlab train" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (README.parent / ".ci" / "run").read_text()
    test_command = [ln for ln in blocks[1].splitlines() if "pytest" in ln][0].strip()
    assert test_command in ci


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_command_is_in_the_readme(path):
    assert f"digitlab {' '.join(path)}" in README.read_text()


@pytest.mark.parametrize(
    ("path", "option"),
    [
        (p, opt)
        for p, command in COMMANDS
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts + param.secondary_opts
        if opt.startswith("--")
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)
def test_every_option_is_in_the_readme(path, option):
    assert option in README.read_text(), f"{option} of {' '.join(path)}"


def test_readme_train_session_is_real():
    from click.testing import CliRunner

    text = README.read_text()
    output = CliRunner().invoke(main, ["train"]).output
    assert "$ digitlab train\n" + output in text
