"""The ``digitlab`` command group; every command module adds itself to it."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="digitlab")
def main():
    """digitlab: train, sweep, inspect and use handwritten-digit recognizers.

    Start with the lesson: `digitlab train` loads scikit-learn's 1,797 digits,
    keeps 20 % for testing, fits a 5-nearest-neighbors classifier and prints its
    accuracy (0.975). Every command explains its options with --help.
    """
