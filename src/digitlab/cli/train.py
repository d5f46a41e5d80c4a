"""``digitlab train``: the lesson in one command."""

from __future__ import annotations

from digitlab.cli.errors import friendly
from digitlab.cli.group import main
from digitlab.cli.options import (
    check_outputs,
    check_recipe_alone,
    data_option,
    echo,
    examples_option,
    force_option,
    json_option,
    model_options,
    output_option,
    recipe_option,
    split_options,
)
from digitlab.cli.record import record, record_options


@main.command()
@data_option
@split_options
@model_options
@output_option(
    "--save", "save", "Write the fitted model to this file (.npz, no pickle)."
)
@examples_option(
    "Your own labelled examples (DIR/<label>/<picture>): they join the train "
    "part only, never the test part.",
    dest="examples",
)
@recipe_option
@force_option("Allow --save to overwrite a file.")
@json_option
@record_options
@friendly
def train(data, save, force, as_json, **settings):
    """Train and test a k-nearest-neighbors classifier: the lesson in one command.

    \b
    The five steps:
      1. load the digits (--data),
      2. split them into train and test parts (--test-size, --seed),
      3. fit k-nearest neighbors on the train part (--k, --weights, --metric),
      4. predict the test part,
      5. print the accuracy.

    \b
    Examples:
      digitlab train
      digitlab train --k 1 --test-size 0.3 --seed 7
      digitlab train --save model.npz --json
      digitlab train --recipe svc-shift --save best.npz
      digitlab train --examples digitlab-examples --save mine.npz
    """
    from digitlab.data import load_data
    from digitlab.train import train as run_train

    check_recipe_alone(settings["recipe"])
    check_outputs(force, save)
    dataset = load_data(data)
    result = run_train(dataset, **settings)
    saved = result.save(save, force=force) if save is not None else None
    record(result, data=dataset, files=[saved])
    out = {**result.to_dict(), "saved": str(saved) if saved else None}
    done = [f"Model saved to {saved}"] if saved else []
    echo([*result.lines(), *done], out, as_json)
