"""The drawing pad: draw a digit in a notebook and watch the model decide.

:class:`DrawingPad` is an `anywidget <https://anywidget.dev>`_ widget, so it runs
in JupyterLab, Notebook 7, VS Code and Google Colab. Its front end
(``static/pad.js`` and ``static/pad.css``, shipped in the package: no build step,
nothing loaded from the internet) only draws and sends the drawing; the kernel
answers with the same :func:`digitlab.explain.explain` the web page uses.

anywidget is imported only when the pad is first used, so ``import digitlab``
stays light; without it the pad says which extra to install.
"""

from __future__ import annotations

import base64
import functools
import io
from importlib import resources
from pathlib import Path

from digitlab.errors import DigitlabError

# DrawingPad is built on first use by the module's __getattr__ (below).
__all__ = ["DrawingPad", "picture_data_url"]  # noqa: F822

#: The longest drawing (as a data URL) the pad reads: the web page's 8 MiB upload
#: limit, as base64 (4 characters for every 3 bytes).
MAX_IMAGE_CHARS = 8 * 2**20 * 4 // 3 + 64


def _static_text(name: str) -> str:
    return resources.files("digitlab").joinpath("static", name).read_text("utf-8")


def picture_data_url(picture) -> str:
    """A picture as the ``data:image/png;base64,...`` URL the pad holds.

    Parameters
    ----------
    picture : str, Path, bytes, PIL.Image.Image or ndarray
        A picture file or its bytes, a PIL image, an array of gray levels
        (h, w) or colors (h, w, 3|4) (uint8 0..255, or floats 0..1), or a
        ``data:image/...;base64,...`` URL (checked and given back as it is).

    Returns
    -------
    str
        The picture as a lossless PNG data URL.

    Raises
    ------
    DigitlabError
        When the picture cannot be read (the sentence says why).
    """
    import numpy as np
    from PIL import Image

    from digitlab.pictures import decode_data_url, open_picture

    if isinstance(picture, str) and picture.startswith("data:"):
        open_picture(decode_data_url(picture), name="The picture")  # a picture?
        return picture
    if isinstance(picture, Image.Image):
        image = picture
    elif isinstance(picture, (bytes, bytearray)):
        image = open_picture(bytes(picture), name="The picture")
    elif isinstance(picture, np.ndarray):
        image = _array_image(picture)
    else:
        try:
            path = Path(picture).expanduser()
        except TypeError:
            raise DigitlabError(
                f"A pad picture must be a file path, bytes, a PIL image or an "
                f"array; got {type(picture).__name__}."
            ) from None
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DigitlabError(
                f"Cannot read the picture {str(path)!r} ({exc.strerror}); check "
                "the path."
            ) from None
        image = open_picture(data, name=f"The file {str(path)!r}")
    buffer = io.BytesIO()
    if image.mode not in ("1", "L", "LA", "RGB", "RGBA", "P", "I", "I;16"):
        image = image.convert("RGBA")
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _array_image(array):
    import numpy as np
    from PIL import Image

    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise DigitlabError(
            f"A pad picture array must have shape (h, w), (h, w, 3) or (h, w, 4); "
            f"got {array.shape}."
        )
    if array.dtype == np.uint8:
        levels = array
    elif array.dtype == bool:
        levels = np.where(array, 255, 0).astype(np.uint8)
    else:
        values = np.asarray(array, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise DigitlabError("The picture array holds NaN or infinite values.")
        top = 1.0 if values.max(initial=0) <= 1.0 else 255.0
        if values.min(initial=0) < 0 or values.max(initial=0) > 255:
            raise DigitlabError(
                "A pad picture array must hold gray levels 0..255 (or 0..1); got "
                f"values from {values.min():g} to {values.max():g}."
            )
        levels = np.round(values / top * 255).astype(np.uint8)
    return Image.fromarray(levels)


def _require_anywidget():
    try:
        import anywidget
        import traitlets
    except ImportError as exc:
        raise DigitlabError(
            f"The drawing pad needs {exc.name}, which is not installed; install "
            'the notebook extra with: pip install "digitlab[notebook]"'
        ) from None
    return anywidget, traitlets


def _teach_function():
    """``digitlab.examples.teach``: adds a labelled picture to a model."""
    from digitlab.examples import teach

    return teach


@functools.cache
def _pad_class():
    anywidget, traitlets = _require_anywidget()

    class DrawingPad(anywidget.AnyWidget):
        """A canvas to draw a digit on, with the model's answer live beside it.

        Draw with the mouse, a finger or a pen; **Undo** (or Ctrl+Z) takes the
        last stroke back, **Clear** starts again. While you draw, the pad shows
        the predicted digit, the votes as bars, the 8×8 input the model sees and
        the nearest training digits with their labels and distances: the
        answer of :func:`digitlab.explain.explain`, computed in the kernel. The
        **That was a …** buttons add the drawing with its true label to the
        model at once (a k-nearest-neighbors model learns by adding a row), and
        save it into ``examples`` when given.

        Parameters
        ----------
        model : fitted digitlab model, optional
            The model that reads the drawings and learns from the taught ones
            (in place). Default: :func:`digitlab.default_model` (a new one).
        examples : str or Path, optional
            A folder to save taught drawings in, as
            ``<examples>/<label>/<timestamp>.png`` (never overwriting a file).
            Without it, taught drawings live in the model only.

        Attributes
        ----------
        image : str
            The drawing as a PNG data URL (``""`` when nothing is drawn). Set it
            (or :attr:`picture`) from Python to show a picture on the pad.
        prediction : dict or None
            :func:`~digitlab.explain.explain`'s answer for the drawing: ``digit``,
            ``confidence``, ``votes``, ``input``, ``neighbors``, ...
        input : list of lists or None
            The model input for the drawing (8×8 ink counts 0..16 for the
            built-in digits' pipeline).
        message : str
            Why there is no prediction (e.g. a blank drawing), else ``""``.
        n_taught : int
            How many drawings this pad has taught its model (``model_info``'s
            ``n_examples`` counts all the examples the model holds).
        taught : list of dict
            What each teaching did (``label``, ``n_examples`` and, when saved,
            ``path``).

        Examples
        --------
        >>> pad = digitlab.DrawingPad()          # doctest: +SKIP
        >>> pad                                  # draw a digit on it  # doctest: +SKIP
        >>> pad.prediction["digit"], pad.input   # in the next cell  # doctest: +SKIP
        """

        # The canvas the page shares (static/canvas.js), then the pad itself.
        _esm = _static_text("canvas.js") + "\n" + _static_text("pad.js")
        _css = _static_text("pad.css")

        image = traitlets.Unicode("").tag(sync=True)
        prediction = traitlets.Dict(default_value=None, allow_none=True).tag(sync=True)
        input = traitlets.List(default_value=None, allow_none=True).tag(sync=True)
        message = traitlets.Unicode("").tag(sync=True)
        model_info = traitlets.Dict().tag(sync=True)
        n_taught = traitlets.Int(0).tag(sync=True)
        taught = traitlets.List().tag(sync=True)
        status = traitlets.Unicode("").tag(sync=True)
        # The front end numbers each drawing it sends; the kernel says which one
        # its answer is for, so the page knows when the answer is current.
        _drawn = traitlets.Int(0).tag(sync=True)
        _answered = traitlets.Int(0).tag(sync=True)

        def __init__(self, model=None, *, examples=None, **kwargs):
            from digitlab.examples import learner
            from digitlab.explain import describe_model
            from digitlab.predict import default_model

            self.model = default_model() if model is None else model
            self.examples = None if examples is None else Path(examples).expanduser()
            self._info = describe_model(self.model)
            self._explained = None  # (image, number) of the answer shown
            super().__init__(**kwargs)
            try:
                learner(self.model)
                self._can_learn = True
            except DigitlabError as exc:
                # The buttons stay off and say why (e.g. an SVC recipe).
                self._can_learn = False
                self.status = str(exc)
            self.model_info = self._front_end_info()
            self.on_msg(self._on_front_end_message)
            self.observe(self._on_drawing, names=["image", "_drawn"])
            if self.image:
                self._explain_drawing()

        def __repr__(self) -> str:
            answer = (
                f"prediction {self.prediction['digit']!r}"
                if self.prediction
                else (self.message or "nothing drawn")
            )
            return (
                f"DrawingPad({self._info['description']}, "
                f"{self._info['n_train']:,} training rows, {answer})"
            )

        # ---- the drawing and its answer ------------------------------------

        @property
        def picture(self):
            """The drawing as a PIL image (None when nothing is drawn).

            Set it to a picture file, its bytes, a PIL image or an array of gray
            levels to show that picture on the pad and get its prediction.
            """
            if not self.image:
                return None
            from digitlab.pictures import decode_data_url, open_picture

            return open_picture(decode_data_url(self.image), name="The drawing")

        @picture.setter
        def picture(self, picture):
            self.image = "" if picture is None else picture_data_url(picture)

        def _on_drawing(self, change):
            key = (self.image, self._drawn)
            if key != self._explained:
                self._explain_drawing()

        def _explain_drawing(self):
            """Answer the drawing now held in :attr:`image`; never raises."""
            from digitlab.explain import explain

            prediction = input_ = None
            message = ""
            if len(self.image) > MAX_IMAGE_CHARS:
                message = (
                    f"The drawing is {len(self.image):,} characters as a data "
                    f"URL, more than the limit of {MAX_IMAGE_CHARS:,}; draw on "
                    "the pad or set a smaller picture."
                )
            elif self.image:
                try:
                    prediction = explain(self.model, self.picture, info=self._info)
                    input_ = prediction["input"]
                except DigitlabError as exc:
                    message = str(exc)
                except Exception as exc:  # noqa: BLE001 - a widget must not crash
                    # A bug, not the user's mistake; the front end shows one line.
                    message = (
                        f"The pad could not read this drawing ({type(exc).__name__}: "
                        f"{exc}); please report it."
                    )
            self._explained = (self.image, self._drawn)
            with self.hold_sync():
                self.prediction = prediction
                self.input = input_
                self.message = message
                self._answered = self._drawn

        # ---- teaching ------------------------------------------------------

        def teach(self, label) -> dict:
            """Add the drawing with its true ``label`` to the model, at once.

            The drawing is prepared exactly as the training digits were and
            appended to the model's rows, so the next prediction uses it; with
            ``examples`` it is also saved as ``<examples>/<label>/<time>.png``.
            The current drawing is explained again (its nearest neighbor is now
            the taught row).

            Parameters
            ----------
            label : str or int
                One of the model's labels.

            Returns
            -------
            dict
                ``digitlab.examples.teach``'s answer: ``label``, ``n_examples``
                and ``path`` when saved.

            Raises
            ------
            DigitlabError
                Nothing drawn, a blank drawing, or a label the model does not
                know.
            """
            from digitlab.explain import describe_model

            if not self.image:
                raise DigitlabError(
                    "There is no drawing to teach: draw a digit on the pad first "
                    "(or set pad.picture)."
                )
            teach = _teach_function()
            answer = teach(self.model, self.picture, label, folder=self.examples)
            self._info = describe_model(self.model)
            with self.hold_sync():
                self.n_taught += 1
                self.taught = [*self.taught, _plain(answer)]
                self.model_info = self._front_end_info()
                self.status = self._taught_sentence(answer)
                self._explain_drawing()
            return answer

        def _taught_sentence(self, answer) -> str:
            held = answer.get("n_examples", self.n_taught)
            mine = "1 of your drawings" if held == 1 else f"{held} of your drawings"
            sentence = f"Learned your {answer['label']}: the model now holds {mine}"
            if answer.get("path"):
                sentence += f" (saved as {answer['path']} in {self.examples})"
            return sentence + "."

        def _on_front_end_message(self, widget, content, buffers):
            if not isinstance(content, dict) or content.get("type") != "teach":
                return
            try:
                self.teach(content.get("label"))
            except DigitlabError as exc:
                self.status = str(exc)
            except Exception as exc:  # noqa: BLE001 - a widget must not crash
                self.status = (
                    f"The pad could not learn this drawing ({type(exc).__name__}: "
                    f"{exc}); please report it."
                )

        def _front_end_info(self) -> dict:
            info = self._info
            return {
                "classes": info["classes"],
                "description": info["description"],
                "recipe": info["recipe"],
                "data": info["data"],
                "n_train": info["n_train"],
                "n_examples": info.get("n_examples", 0),
                "accuracy": info["accuracy"],
                "accuracy_note": info["accuracy_note"],
                "input_shape": info["input_shape"],
                "input_max": info["input_max"],
                "examples": None if self.examples is None else str(self.examples),
                "can_learn": self._can_learn,
            }

    DrawingPad.__module__ = __name__
    return DrawingPad


def _plain(answer: dict) -> dict:
    """A teaching answer with plain JSON values (paths become strings)."""
    return {
        key: value
        if isinstance(value, (str, int, float, bool, type(None)))
        else str(value)
        for key, value in answer.items()
    }


def __getattr__(name: str):
    # The class is built on first use so that importing this module does not
    # import anywidget (and ipywidgets, ~0.5 s).
    if name == "DrawingPad":
        return _pad_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
