"""The shapes of every request and response of the JSON API (pydantic models).

They are what ``/docs`` shows and what the page's JavaScript reads, so a field
renamed here is a field renamed there.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

__all__ = [
    "ErrorResponse",
    "ExampleRequest",
    "ExampleResponse",
    "HealthResponse",
    "ModelInfo",
    "Neighbor",
    "PictureRequest",
    "Prediction",
]

#: A real 20×20 PNG of a 7 (black ink on white): /docs's example is a request
#: the API accepts (a test sends every documented example).
DATA_URL_EXAMPLE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABQAAAAUAQAAAACl8iCgAAAAOklEQVR4"
    "2i3MsRGAMAwAMdmLwIiMySAZwKEilSlIpbsvPtpMJHIG5VIqer1p/d2zHdtbQh+VyD7F/nwE4xHm"
    "0EmP6gAAAABJRU5ErkJggg=="
)


class ErrorResponse(BaseModel):
    """Every 4xx answer: one sentence saying what was wrong and how to fix it."""

    detail: str = Field(
        examples=["There is no ink in the picture: draw a digit first."]
    )


class PictureRequest(BaseModel):
    """A picture sent as JSON: a data URL such as a canvas's ``toDataURL()``."""

    model_config = ConfigDict(extra="forbid")

    image: str = Field(
        description="The picture as a data URL (data:image/png;base64,...).",
        examples=[DATA_URL_EXAMPLE],
    )


class ExampleRequest(PictureRequest):
    """A drawing and the digit it really shows, to keep as a training example."""

    label: StrictStr | StrictInt = Field(
        description="The true label, one of the model's classes (0 to 9), as a "
        'string ("7") or a whole number (7). Spaces around it are removed ("  7 " '
        'is saved as "7"); anything else that is not a class is refused with 422.',
        examples=["7"],
    )


class Neighbor(BaseModel):
    """One of the k nearest training digits."""

    rank: int = Field(description="1 for the nearest.")
    index: int = Field(description="Row number in the model's training data.")
    label: str
    distance: float
    pixels: list[float] = Field(
        description="The training digit's model input, row by row (8×8 = 64)."
    )
    yours: bool = Field(
        default=False,
        description="Whether it is one of the user's examples (or a slanted copy "
        "of one) rather than one of the model's training digits.",
    )


class Prediction(BaseModel):
    """What the model says about one picture, and why."""

    digit: str = Field(description="The predicted label.")
    confidence: float = Field(description="The predicted label's vote share.")
    votes: dict[str, float] = Field(
        description="Vote share per label (they add up to 1)."
    )
    input: list[list[float]] = Field(
        description="The model input the picture became (8 rows of 8 numbers, "
        "0 = no ink, 16 = full ink, for the uci8x8 pipeline)."
    )
    input_max: float = Field(description="The largest value an input cell can hold.")
    neighbors: list[Neighbor] = Field(
        description="The k nearest training digits, nearest first (empty for "
        "models that are not nearest-neighbor models)."
    )
    explained_by: Literal["neighbors", "probabilities", "decision"] = Field(
        description="Where the vote shares come from: the nearest training digits, "
        "the model's probabilities, or (models without either) its decision alone."
    )
    pipeline: str


class ModelInfo(BaseModel):
    """The model the server answers with."""

    data: str = Field(description="The data it was trained on.")
    recipe: str | None = Field(
        description="The recipe it was made with (`digitlab compare --list`), or "
        "null for a plain k-nearest-neighbors model."
    )
    description: str = Field(description="The model in one line.")
    estimator: str
    k: int | None
    weights: str | None
    metric: str | None
    pipeline: str
    classes: list[str]
    n_train: int = Field(description="Training rows, the user's examples included.")
    n_examples: int = Field(
        default=0,
        description="How many of the user's examples the model holds "
        "(`serve --examples`, POST /api/examples); each is learned with a few "
        "slightly slanted copies, counted in n_train.",
    )
    n_example_rows: int = Field(
        default=0, description="The rows of n_train that the user's examples added."
    )
    learns_examples: bool = Field(
        default=False,
        description="Whether POST /api/examples teaches it (k-nearest-neighbors "
        "models) or only saves the picture.",
    )
    accuracy: float | None = Field(
        description="Accuracy on its test split, when known."
    )
    accuracy_note: str | None = Field(
        default=None, description="Where the accuracy comes from."
    )
    n_test: int | None = None
    input_shape: list[int]


class ExampleResponse(BaseModel):
    """Where a saved example went."""

    label: str
    path: str = Field(description="The file, relative to the examples folder.")
    folder: str = Field(description="The examples folder (usable as --data).")
    count: int = Field(description="How many examples of this label are saved now.")
    learned: bool = Field(
        description="Whether the model learned it (k-nearest-neighbors models do; "
        "the next prediction uses it)."
    )
    n_examples: int = Field(description="The user's examples the model holds now.")
    n_train: int = Field(description="The model's training rows now.")


class HealthResponse(BaseModel):
    """The server is up and has a model."""

    status: str = Field(examples=["ok"])
    version: str
    model_loaded: bool
