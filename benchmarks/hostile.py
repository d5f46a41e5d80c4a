"""A hostile but fair battery: hundreds of bad inputs to the CLI and the web API.

Every case must be answered cleanly: a command ends with exit code 0, or with
exit code 2 and ``Error:`` lines of one sentence each (one line per unreadable
picture for ``predict``, else exactly one), never a traceback or "Aborted!"; a
request is answered 2xx, or 4xx with one sentence in ``detail``, never 5xx.
Nothing on disk may change that should not: every input file keeps its bytes,
every damaged history keeps its bytes, and the web writes only into its
examples folder (one file per 201).

    python benchmarks/hostile.py            # prints the counts; exit 1 if any failed

It runs offline, in-process (click's CliRunner, FastAPI's TestClient), in a
temporary folder, in about a minute or two.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import random
import sqlite3
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ABSURD = [
    "",
    " ",
    "0",
    "-1",
    "nan",
    "inf",
    "1e400",
    "0x10",
    "x",
    "..",
    "1..",
    "5..1",
    "1..99999999999999999999",
    "-99999999999999999999..1",
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775808",
    "1,,2",
    "\u0663",
    "1\n2",
]


def png(picture) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def seven() -> Image.Image:
    picture = Image.new("L", (60, 60), 255)
    ImageDraw.Draw(picture).line([(10, 10), (50, 10), (25, 55)], fill=0, width=6)
    return picture


def odd_pictures() -> dict[str, bytes]:
    """Picture files a user might really have, many of them broken."""
    good = png(seven())
    at = good.index(b"IDAT") - 4
    huge_text = chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"x" * (5 * 2**20)))
    bomb = bytearray(good)
    bomb[16:24] = struct.pack(">II", 100_000, 100_000)  # header says 10**10 pixels
    out = {
        "good.png": good,
        "empty.png": b"",
        "text.png": b"not a picture at all",
        "cut.png": good[:120],
        "huge-text.png": good[:at] + huge_text + good[at:],
        "bomb.png": bytes(bomb),
        "blank.png": png(Image.new("L", (50, 50), 255)),
        "one-pixel.png": png(Image.new("L", (1, 1), 0)),
        "wide.png": png(Image.new("L", (3000, 1), 0)),
        "sixteen-bit.png": png(Image.fromarray(np.full((20, 20), 40000, np.uint16))),
        "cmyk.jpg": _saved(seven().convert("CMYK"), "JPEG"),
        "palette.gif": _saved(seven().convert("P"), "GIF"),
        "float.tif": _saved(Image.fromarray(np.eye(20, dtype=np.float32)), "TIFF"),
        "transparent.png": png(Image.new("RGBA", (30, 30), (0, 0, 0, 0))),
        "random.png": b"\x89PNG\r\n\x1a\n" + bytes(random.Random(1).randbytes(300)),
        "gif-header.gif": b"GIF89a" + b"\x00" * 20,
        "bmp-header.bmp": b"BM" + b"\xff" * 60,
    }
    return out


def _saved(picture, fmt: str) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


def data_files(folder: Path) -> list[str]:
    """Bad (and a few good) data files; returns the paths to try as --data."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 16, size=(40, 4)).astype(float)
    y = np.arange(40) % 2
    rows = ["label,a,b,c,d"] + [
        f"{label}," + ",".join(str(int(v)) for v in row)
        for label, row in zip(y, X, strict=True)
    ]
    files = {
        "tiny.csv": "\n".join(rows) + "\n",
        "nan-label.csv": "\n".join(rows[:5] + ["nan,1,2,3,4"] + rows[5:]) + "\n",
        "inf-label.csv": "\n".join(rows[:5] + ["inf,1,2,3,4"] + rows[5:]) + "\n",
        "empty-label.csv": "\n".join(rows[:5] + [",1,2,3,4"] + rows[5:]) + "\n",
        "nan-feature.csv": "\n".join(rows[:5] + ["1,nan,2,3,4"] + rows[5:]) + "\n",
        "ragged.csv": "\n".join(rows[:5] + ["1,2"] + rows[5:]) + "\n",
        "header-only.csv": "label,a\n",
        "one-class.csv": "label,a\n1,2\n1,3\n",
        "one-column.csv": "a\n1\n2\n",
        "empty.csv": "",
        "quotes.csv": '"label","a"\n"1,2\n',
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "latin1.csv").write_bytes("label,é\n1,2\n".encode("latin-1"))
    (folder / "binary.csv").write_bytes(bytes(range(256)))
    np.savez(folder / "good.npz", X=X, y=y)
    good = (folder / "good.npz").read_bytes()
    (folder / "empty.npz").write_bytes(b"")
    (folder / "cut.npz").write_bytes(good[:200])
    (folder / "garbage.npz").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    np.save(folder / "array.npy", X)
    (folder / "array.npz").write_bytes((folder / "array.npy").read_bytes())
    np.savez(folder / "no-y.npz", X=X)
    np.savez(folder / "nan-y.npz", X=X, y=np.where(y == 0, np.nan, 1.0))
    np.savez(folder / "nan-X.npz", X=np.full_like(X, np.nan), y=y)
    np.savez(folder / "text-X.npz", X=X.astype(str), y=y)
    np.savez(folder / "short-y.npz", X=X, y=y[:3])
    np.savez(folder / "scalar-X.npz", X=np.float64(3), y=y)
    np.savez(folder / "complex-X.npz", X=X.astype(complex), y=y)
    os.mkfifo(folder / "fifo.csv")
    (folder / "idx.gz").write_bytes(b"\x1f\x8b" + b"\x00" * 10)
    (folder / "idx-raw").write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 12)
    (folder / "a-folder.npz").mkdir()
    (folder / "pictures" / "1").mkdir(parents=True)
    (folder / "pictures" / "1" / "a.png").write_bytes(png(seven()))
    (folder / "no-pictures" / "1").mkdir(parents=True)
    names = [p.name for p in sorted(folder.iterdir()) if p.name != "array.npy"]
    names += [
        "tiny.csv/inside.csv",
        "missing.csv",
        "/proc/1/environ",
        "/proc/self/mem",
        "/sys/kernel",
        "/dev/null",
        "/",
        "digits",
    ]
    return [
        str(folder / n) if not n.startswith("/") and n != "digits" else n for n in names
    ]


def forged_models(folder: Path) -> list[str]:
    """Model files: damaged, foreign, and forged with a correct checksum."""
    import digitlab
    from digitlab.modelfile import _checksum, save_model

    data = digitlab.load_digits()
    original = folder / "model.npz"
    save_model(digitlab.KNN(k=3, pipeline="uci8x8").fit(data.X, data.y), original)
    with np.load(original, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta.pop("checksum")

    def forge(name, change):
        m, a = json.loads(json.dumps(meta)), dict(arrays)
        change(m, a)
        m["checksum"] = _checksum(m, a)
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.array(json.dumps(m)), **a)
        (folder / name).write_bytes(buffer.getvalue())

    changes = {
        "param.npz": lambda m, a: m["params"].update(n_jobs=2),
        "no-y.npz": lambda m, a: a.pop("y"),
        "extra.npz": lambda m, a: a.update(z=np.zeros(2)),
        "features.npz": lambda m, a: a.update(X=a["X"][:, :10].copy()),
        "dtype.npz": lambda m, a: a.update(X=a["X"].astype(str)),
        "shape.npz": lambda m, a: a.update(X=a["X"].reshape(-1, 8, 8)),
        "classes.npz": lambda m, a: m.update(classes=["a"]),
        "recipe.npz": lambda m, a: m.update(
            estimator="RecipeModel", format_version=2, params={"recipe": "nope"}
        ),
        "estimator.npz": lambda m, a: m.update(estimator="os.system"),
        "version.npz": lambda m, a: m.update(format_version="1"),
        "newer.npz": lambda m, a: m.update(format_version=99),
        "k.npz": lambda m, a: m["params"].update(k=10**6),
        "weights.npz": lambda m, a: m["params"].update(weights={"a": 1}),
        "pipeline.npz": lambda m, a: m.update(pipeline="fax"),
        "params.npz": lambda m, a: m.update(params=[1, 2]),
        "metadata.npz": lambda m, a: m.update(metadata="x"),
        "inf.npz": lambda m, a: a.update(X=np.full_like(a["X"], np.inf)),
    }
    for name, change in changes.items():
        forge(name, change)
    raw = original.read_bytes()
    (folder / "cut-model.npz").write_bytes(raw[: len(raw) // 2])
    (folder / "empty-model.npz").write_bytes(b"")
    bad = bytearray(raw)
    bad[len(raw) // 2] ^= 0xFF
    (folder / "flipped.npz").write_bytes(bytes(bad))
    np.savez(folder / "not-a-model.npz", X=np.zeros(3))
    return [
        str(folder / n)
        for n in [
            *changes,
            "cut-model.npz",
            "empty-model.npz",
            "flipped.npz",
            "not-a-model.npz",
        ]
    ]


WRITABLE_HISTORIES = (
    "bad-json.sqlite",
    "bad-argv.sqlite",
    "bad-score.sqlite",
    "zero.sqlite",
)


def histories(folder: Path) -> list[str]:
    """Run histories: damaged rows, pages, headers and schema versions."""
    from digitlab.runs import RunStore, new_run

    base = folder / "base.sqlite"
    with RunStore(base) as store:
        for i in range(1, 31):
            store.add(
                new_run(
                    "train",
                    argv=["train", "--k", str(i)],
                    config={"k": i},
                    results={"accuracy": 0.9, "pad": "x" * 3000},
                    data_name="digits",
                    data_fingerprint="f",
                    score=0.9 + i / 1000,
                    summary=f"k={i}",
                )
            )
    raw = base.read_bytes()
    made = {}

    def copy(name: str, data: bytes) -> Path:
        path = folder / name
        path.write_bytes(data)
        made[name] = path
        return path

    for name, sql in {
        "bad-json.sqlite": "UPDATE runs SET config = '{' WHERE id = 4",
        "bad-argv.sqlite": "UPDATE runs SET argv = '7' WHERE id = 5",
        "bad-score.sqlite": "UPDATE runs SET score = 'high' WHERE id = 6",
        "bad-version.sqlite": "UPDATE digitlab_schema SET version = 'two'",
        "no-version.sqlite": "DELETE FROM digitlab_schema",
        "newer.sqlite": "UPDATE digitlab_schema SET version = 99",
        "no-table.sqlite": "DROP TABLE runs",
    }.items():
        path = copy(name, raw)
        conn = sqlite3.connect(path)
        conn.execute(sql)
        conn.commit()
        conn.close()
    for page in (5, len(raw) // 4096 // 2, len(raw) // 4096 - 1):
        damaged = bytearray(raw)
        damaged[page * 4096 : (page + 1) * 4096] = bytes(4096)
        copy(f"page-{page}.sqlite", bytes(damaged))
    copy("zero.sqlite", b"")
    copy("text.sqlite", b"hello, not a database")
    copy("header-only.sqlite", b"SQLite format 3\x00")
    copy("cut.sqlite", raw[:5000])
    foreign = folder / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    made["foreign.sqlite"] = foreign
    (folder / "a-folder.sqlite").mkdir()
    # Damaged rows can be deleted and new runs recorded beside them (the file
    # is sound), and a 0-byte file may become a history when a run is recorded:
    # writes go to "w-" copies of these, which may change.
    for name in WRITABLE_HISTORIES:
        (folder / f"w-{name}").write_bytes(made[name].read_bytes())
    return [str(p) for p in made.values()] + [
        str(folder / "a-folder.sqlite"),
        "/proc/runs.sqlite",
        str(folder / "base.sqlite" / "x.sqlite"),
    ]


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every input file (the "w-" histories may be written)."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and not p.is_symlink()
        and not p.name.startswith("w-")
        and not p.name.endswith(("-wal", "-shm"))
    }


def cli_cases(work: Path) -> list[list[str]]:
    inputs = work / "inputs"
    pictures = inputs / "pictures"
    data = data_files(inputs / "data")
    models = forged_models(inputs / "models")
    runs = histories(inputs / "runs")
    out = work / "out"
    tiny = str(inputs / "data" / "tiny.csv")
    cases: list[list[str]] = []
    for d in data:
        cases.append(["train", "--data", d, "--no-record"])
    for d in data[:12]:
        cases.append(
            ["sweep", "--data", d, "--k", "1..3", "--repeats", "1", "--no-record"]
        )
    picture_paths = [str(pictures / n) for n in sorted(os.listdir(pictures))]
    for p in [
        *picture_paths,
        str(pictures),
        "/proc/1/environ",
        "/dev/null",
        str(inputs / "data" / "fifo.csv"),
    ]:
        cases.append(["predict", p, "--no-record"])
    cases.append(["predict", *picture_paths, "--no-record"])
    for m in models:
        cases.append(
            ["predict", str(pictures / "good.png"), "--model", m, "--no-record"]
        )
        cases.append(["serve", "--model", m])
    for value in ABSURD:
        cases.append(["train", "--data", tiny, "--k", value, "--no-record"])
        cases.append(["train", "--data", tiny, "--test-size", value, "--no-record"])
        cases.append(["train", "--data", tiny, "--seed", value, "--no-record"])
        cases.append(
            ["sweep", "--data", tiny, "--k", value, "--repeats", "1", "--no-record"]
        )
        cases.append(
            [
                "sweep",
                "--data",
                tiny,
                "--test-sizes",
                value,
                "--repeats",
                "1",
                "--no-record",
            ]
        )
        if value not in ("1", "2", "3"):
            cases.append(["sweep", "--data", tiny, "--repeats", value, "--no-record"])
            cases.append(["compare", "--data", tiny, "--repeats", value, "--no-record"])
            cases.append(
                ["mistakes", "--data", tiny, "--repeats", value, "--no-record"]
            )
        cases.append(["train", "--data", tiny, "--labels", value, "--no-record"])
        cases.append(["runs", "show", value])
        cases.append(["runs", "--limit", value])
        try:
            valid_workers = 1 <= int(value) <= 10**6
        except ValueError:
            valid_workers = False
        if not valid_workers:  # a valid count would start the server
            cases.append(["serve", "--workers", value])
    for r in runs:
        for command in (
            ["runs"],
            ["runs", "best"],
            ["runs", "show", "2"],
            ["runs", "show", "4"],
            ["runs", "list", "--json"],
            ["runs", "export", "--json", str(out / f"{Path(r).name}.json")],
        ):
            cases.append([*command, "--runs-db", r])
        name = Path(r).name
        target = r
        if name in WRITABLE_HISTORIES:
            target = str(Path(r).with_name(f"w-{name}"))
        for command in (
            ["runs", "delete", "4", "--yes"],
            ["runs", "delete", "2", "--yes"],
            ["train", "--data", tiny],
        ):
            cases.append([*command, "--runs-db", target])
    for target in (
        "/proc/x.npz",
        "/sys/x.npz",
        str(inputs / "data" / "tiny.csv"),
        str(inputs / "data" / "tiny.csv" / "m.npz"),
        str(inputs),
        str(work / "nowhere" / "m.npz"),
        "/dev/null",
    ):
        cases.append(["train", "--data", tiny, "--save", target, "--no-record"])
        cases.append(["mistakes", "--data", tiny, "--report", target, "--no-record"])
        cases.append(
            [
                "sweep",
                "--data",
                tiny,
                "--k",
                "1..2",
                "--repeats",
                "1",
                "--csv",
                target,
                "--no-record",
            ]
        )
    return cases


def run_cli(work: Path) -> tuple[int, list[str]]:
    from click.testing import CliRunner

    from digitlab.cli import main

    # Pictures for predict.
    pictures = work / "inputs" / "pictures"
    pictures.mkdir(parents=True)
    for name, data in odd_pictures().items():
        (pictures / name).write_bytes(data)
    (pictures / "unreadable.png").symlink_to("/proc/1/environ")
    os.mkfifo(pictures / "fifo.png")
    (work / "inputs" / "data").mkdir()
    (work / "inputs" / "models").mkdir()
    (work / "inputs" / "runs").mkdir()
    (work / "out").mkdir()
    cases = cli_cases(work)
    before = snapshot(work / "inputs")
    failures = []
    runner = CliRunner()
    for args in cases:
        result = runner.invoke(main, args)
        output = result.output
        errors = [ln for ln in output.splitlines() if ln.startswith("Error")]
        problem = None
        if result.exit_code not in (0, 2):
            problem = f"exit {result.exit_code} ({type(result.exception).__name__})"
        elif "Traceback" in output or "Aborted!" in output:
            problem = "a traceback or Aborted!"
        elif result.exception is not None and not isinstance(
            result.exception, SystemExit
        ):
            problem = f"raised {type(result.exception).__name__}"
        elif result.exit_code == 2 and not errors:
            problem = "exit 2 without an Error line"
        elif result.exit_code == 2 and args[0] != "predict" and len(errors) != 1:
            problem = f"{len(errors)} Error lines"
        elif any(not ln.rstrip().endswith((".", ")", "?")) for ln in errors):
            problem = "an Error line that is not a sentence"
        if problem:
            failures.append(f"digitlab {' '.join(args)}: {problem}\n{output[-800:]}")
    after = snapshot(work / "inputs")
    changed = [p for p in before if before[p] != after.get(p)]
    changed += [p for p in after if p not in before]
    for path in changed:
        failures.append(f"changed on disk: {path}")
    return len(cases), failures


def web_cases() -> list[tuple[str, dict]]:
    rand = random.Random(18)
    pictures = odd_pictures()
    url = "data:image/png;base64," + base64.b64encode(pictures["good.png"]).decode()
    cases: list[tuple[str, dict]] = []
    for name, data in pictures.items():
        cases.append(("/api/predict", {"files": {"file": (name, data, "image/png")}}))
        cases.append(
            (
                "/api/predict",
                {"content": data, "headers": {"Content-Type": "image/png"}},
            )
        )
        encoded = "data:image/png;base64," + base64.b64encode(data).decode()
        cases.append(("/api/predict", {"json": {"image": encoded}}))
        cases.append(("/api/examples", {"json": {"image": encoded, "label": "7"}}))
    deep = [
        "[" * 200_000 + "]" * 200_000,
        '{"image":' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"a":' * 50_000 + "1" + "}" * 50_000,
    ]
    for body in deep:
        for route in ("/api/predict", "/api/examples"):
            cases.append(
                (
                    route,
                    {
                        "content": body.encode(),
                        "headers": {"Content-Type": "application/json"},
                    },
                )
            )
    for label in [
        " 7 ",
        "7",
        7,
        -1,
        10,
        7.0,
        True,
        None,
        "",
        "../7",
        "..",
        "/etc",
        "7/../../x",
        "\x00",
        "7\n",
        "seven",
        "%2e%2e",
        "CON",
        "7" * 100,
        [7],
        {"a": 7},
        "٧",
    ]:
        cases.append(("/api/examples", {"json": {"image": url, "label": label}}))
    for image in [
        None,
        7,
        [],
        {},
        "",
        "data:",
        "data:,",
        "data:image/png;base64",
        "data:image/png;base64,====",
        "data:text/html;base64,PGI+",
        url.replace("base64", "BASE64"),
        url + "@@",
        " " + url + " ",
        url[:40],
        "x" * 10_000,
    ]:
        cases.append(("/api/predict", {"json": {"image": image}}))
    for content_type in [
        "",
        "text/plain",
        "application/xml",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "application/json; x",
        "image/",
        "IMAGE/PNG",
        "application/x-www-form-urlencoded",
    ]:
        for body in (b"", b"{}", pictures["good.png"], b"--x\r\n\r\n"):
            headers = {"Content-Type": content_type} if content_type else {}
            cases.append(("/api/predict", {"content": body, "headers": headers}))
    for _ in range(60):
        body = rand.randbytes(rand.randint(0, 400))
        content_type = rand.choice(
            ["image/png", "application/json", "multipart/form-data; boundary=b"]
        )
        cases.append(
            (
                rand.choice(["/api/predict", "/api/examples"]),
                {"content": body, "headers": {"Content-Type": content_type}},
            )
        )
    for path in [
        "/api/nothing",
        "/../etc/passwd",
        "/static/../../x",
        "/api/model/x",
        "/api/health?x=" + "a" * 5000,
        "/%00",
        "/docs/../openapi.json",
    ]:
        cases.append(("GET " + path, {}))
    return cases


def run_web(work: Path) -> tuple[int, list[str]]:
    from fastapi.testclient import TestClient

    from digitlab.predict import default_model
    from digitlab.web import create_app

    # python-multipart logs each malformed form it is sent; the answers count.
    for name in ("python_multipart", "multipart"):
        logging.getLogger(name).setLevel(logging.ERROR)
    examples = work / "web-examples"
    cases = web_cases()
    failures, created = [], 0
    app = create_app(default_model(), examples_dir=examples)
    with TestClient(app, raise_server_exceptions=False) as client:
        for route, kwargs in cases:
            if route.startswith("GET "):
                response = client.get(route[4:])
            else:
                response = client.post(route, **kwargs)
            created += response.status_code == 201
            problem = None
            if response.status_code >= 500:
                problem = f"status {response.status_code}"
            elif response.status_code >= 400:
                try:
                    detail = response.json()["detail"]
                except (ValueError, KeyError):
                    detail = None
                if not (
                    isinstance(detail, str)
                    and detail.endswith(".")
                    and "\n" not in detail
                    and "Traceback" not in detail
                ):
                    problem = f"detail is not one sentence: {detail!r}"
            if problem:
                shown = {
                    k: (v if k != "content" else f"<{len(v)} bytes>")
                    for k, v in kwargs.items()
                    if k != "files"
                }
                failures.append(
                    f"POST {route} {shown}: {problem}\n{response.text[:300]}"
                )
    saved = [p for p in examples.rglob("*") if p.is_file()] if examples.exists() else []
    if len(saved) != created:
        failures.append(f"{created} answers 201 but {len(saved)} files saved")
    for p in saved:
        if not p.resolve().is_relative_to(examples.resolve()):
            failures.append(f"saved outside the examples folder: {p}")
    return len(cases), failures


def main() -> int:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="digitlab-hostile-") as folder:
        work = Path(folder)
        os.environ["DIGITLAB_HOME"] = str(work / "home")
        os.environ["DIGITLAB_CACHE_DIR"] = str(work / "cache")
        n_cli, cli_failures = run_cli(work)
        n_web, web_failures = run_web(work)
    for failure in cli_failures + web_failures:
        print("FAILED:", failure, file=sys.stderr)
    seconds = time.perf_counter() - start
    print(
        f"CLI: {n_cli} cases, {n_cli - len(cli_failures)} answered cleanly "
        "(exit 0, or exit 2 with one-sentence Error lines; inputs unchanged)"
    )
    print(
        f"web: {n_web} requests, {n_web - len(web_failures)} answered cleanly "
        "(2xx, or 4xx with one sentence; saved only into the examples folder)"
    )
    total_failed = len(cli_failures) + len(web_failures)
    print(
        f"{n_cli + n_web} cases in {seconds:.0f} s: "
        + (
            "all answered cleanly."
            if not total_failed
            else f"{total_failed} NOT answered cleanly (listed above)."
        )
    )
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
