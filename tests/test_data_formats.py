"""The user's own data: IDX, CSV, NPZ and folders of pictures, and their errors."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from digitlab import DigitlabError, DigitlabNotice, load_data
from digitlab.cli import main
from digitlab.data import load_csv, load_folder, load_idx, load_npz, read_idx


def write_idx(path, array, *, compress=None):
    """Write ``array`` (uint8) as an IDX file, gzip when the name ends in .gz."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    payload = header + array.tobytes()
    if compress or (compress is None and str(path).endswith(".gz")):
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


@pytest.fixture
def small():
    """12 tiny 3×2 pictures of three labels, all different."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 3, 2), dtype=np.uint8)
    images[:, 0, 0] = np.arange(12)  # no duplicate rows
    y = np.array([0, 1, 2] * 4, dtype=np.uint8)
    return images, y


# ---------------------------------------------------------------- IDX


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_labels_found_beside_the_images(tmp_path, small, suffix):
    images, y = small
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", y)
    data = load_data(str(tmp_path / f"train-images-idx3-ubyte{suffix}"))
    assert data.X.dtype == np.float64
    assert np.array_equal(data.X, images.reshape(12, 6).astype(float))
    assert np.array_equal(data.images, images.astype(float))
    assert data.y.tolist() == y.tolist()
    assert data.image_shape == (3, 2)


def test_idx_labels_given_explicitly(tmp_path, small):
    images, y = small
    write_idx(tmp_path / "pics.idx", images)
    write_idx(tmp_path / "answers.idx", y)
    with pytest.raises(DigitlabError, match="No labels file found beside .*--labels"):
        load_data(str(tmp_path / "pics.idx"))
    data = load_data(str(tmp_path / "pics.idx"), labels=tmp_path / "answers.idx")
    assert data.y.tolist() == y.tolist()


def test_real_mnist_idx(mnist_dir):
    data = load_data(str(mnist_dir / "t10k-images-idx3-ubyte.gz"))
    assert data.X.shape == (10000, 784) and data.images.shape == (10000, 28, 28)
    # Label counts from the data set's README.
    assert np.bincount(data.y).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009
    ]  # fmt: skip
    assert data.X.min() == 0 and data.X.max() == 255
    assert data.pipeline == "mnist28"
    assert data.y[:5].tolist() == [7, 2, 1, 0, 4]


def test_idx_wrong_magic(tmp_path, small):
    path = tmp_path / "x-images-idx3-ubyte"
    path.write_bytes(b"\x08\x03\x00\x00" + bytes(20))
    with pytest.raises(DigitlabError, match="wrong magic number 08030000 at byte 0"):
        read_idx(path)


def test_idx_truncated_data(tmp_path, small):
    images, _ = small
    path = write_idx(tmp_path / "x-images-idx3-ubyte", images)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(
        DigitlabError,
        match=r"x-images-idx3-ubyte' is truncated: .*shape \(12, 3, 2\) \(72 bytes of "
        r"data after byte 16\) but only 67 bytes follow",
    ):
        read_idx(path)


def test_idx_truncated_gzip(tmp_path, small):
    images, _ = small
    path = write_idx(tmp_path / "x-images-idx3-ubyte.gz", images)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DigitlabError, match="x-images-idx3-ubyte.gz' is truncated"):
        read_idx(path)


def test_idx_count_mismatch(tmp_path, small):
    images, y = small
    write_idx(tmp_path / "a-images-idx3-ubyte", images)
    write_idx(tmp_path / "a-labels-idx1-ubyte", y[:-1])
    with pytest.raises(DigitlabError, match="has 12 images but .* has 11 labels"):
        load_idx(tmp_path / "a-images-idx3-ubyte")


def test_idx_single_class(tmp_path, small):
    images, _ = small
    write_idx(tmp_path / "a-images-idx3-ubyte", images)
    write_idx(tmp_path / "a-labels-idx1-ubyte", np.full(12, 4))
    with pytest.raises(DigitlabError, match="only one class .*every label is 4"):
        load_idx(tmp_path / "a-images-idx3-ubyte")


def test_duplicate_rows_are_a_notice(tmp_path, small):
    images, y = small
    images = images.copy()
    images[7] = images[2]
    write_idx(tmp_path / "a-images-idx3-ubyte", images)
    write_idx(tmp_path / "a-labels-idx1-ubyte", y)
    with pytest.warns(DigitlabNotice, match=r"1 duplicate row \(first: row 7 "):
        data = load_idx(tmp_path / "a-images-idx3-ubyte")
    assert len(data) == 12


# ---------------------------------------------------------------- CSV


def test_csv_with_header_and_named_label(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("p0,p1,digit,p2\n1,2,7,3\n4,5,1,6\n0,0,7,9\n")
    data = load_data(str(path))
    assert data.X.tolist() == [[1, 2, 3], [4, 5, 6], [0, 0, 9]]
    assert data.y.tolist() == [7, 1, 7]
    assert data.y.dtype == np.int64
    assert load_csv(path, "p2").y.tolist() == [3, 6, 9]


def test_csv_without_header_label_first_or_by_index(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("3,0.5,1\n4,1.5,2\n3,2.5,3\n")
    data = load_data(str(path))
    assert data.y.tolist() == [3, 4, 3] and data.X.tolist() == [
        [0.5, 1],
        [1.5, 2],
        [2.5, 3],
    ]
    last = load_data(str(path), labels="-1")
    assert last.y.tolist() == [1, 2, 3] and last.X[:, 0].tolist() == [3, 4, 3]


def test_csv_semicolons_and_string_labels(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a;b;label\n1;2;cat\n3;4;dog\n")
    data = load_data(str(path))
    assert data.y.tolist() == ["cat", "dog"]


def test_csv_non_numeric_cell_names_row_and_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("label,p0,p1\n1,2,3\n2,4,x5\n")
    with pytest.raises(
        DigitlabError, match=r"d.csv' line 3, column 3 \('p1'\): 'x5' is not a number"
    ):
        load_data(str(path))


def test_csv_ragged_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1,2,3\n2,4,5\n1,2\n")
    with pytest.raises(
        DigitlabError, match="line 3 has 2 cells but the first row has 3"
    ):
        load_data(str(path))


def test_csv_unknown_label_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n2,3\n")
    with pytest.raises(DigitlabError, match="has no column named 'c'"):
        load_csv(path, "c")


# ---------------------------------------------------------------- NPZ


def test_npz_rows_and_pictures(tmp_path, small):
    images, y = small
    np.savez(tmp_path / "flat.npz", X=images.reshape(12, -1), y=y)
    np.savez(tmp_path / "pics.npz", X=images, y=y)
    flat, pics = load_npz(tmp_path / "flat.npz"), load_data(str(tmp_path / "pics.npz"))
    assert np.array_equal(flat.X, pics.X)
    assert pics.images.shape == (12, 3, 2) and flat.images is None
    assert flat.y.tolist() == y.tolist()


def test_npz_missing_array_and_mismatch(tmp_path, small):
    images, y = small
    np.savez(tmp_path / "a.npz", data=images, y=y)
    with pytest.raises(DigitlabError, match="has no array named X .*np.savez"):
        load_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", X=images, y=y[:5])
    with pytest.raises(DigitlabError, match="X has 12 rows but y has 5 labels"):
        load_npz(tmp_path / "b.npz")


# ---------------------------------------------------------------- folders


def write_folder(root, images, y):
    for i, (image, label) in enumerate(zip(images, y, strict=True)):
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(image, dtype=np.uint8)).save(
            root / str(label) / f"{i:05d}.png"
        )
    return root


def test_folder_of_pngs_keeps_the_pixels(tmp_path, small):
    images, y = small
    root = write_folder(tmp_path / "pics", images, y)
    data = load_data(str(root))
    order = np.lexsort((np.arange(12), y))  # folders in label order, files by name
    assert np.array_equal(data.images, images[order].astype(float))
    assert data.y.tolist() == y[order].tolist()
    assert data.pipeline == "pixels"


def test_folder_unreadable_picture_and_skip_bad(tmp_path, small):
    images, y = small
    root = write_folder(tmp_path / "pics", images, y)
    (root / "1" / "broken.png").write_bytes(b"not a picture")
    with pytest.raises(
        DigitlabError, match=r"Cannot read the picture .*1/broken.png.*--skip-bad"
    ):
        load_folder(root)
    with pytest.warns(DigitlabNotice, match=r"Skipped 1 unreadable .*broken.png"):
        data = load_folder(root, skip_bad=True)
    assert len(data) == 12


def test_folder_empty_label_folder(tmp_path, small):
    images, y = small
    root = write_folder(tmp_path / "pics", images, y)
    (root / "5").mkdir()
    with pytest.raises(DigitlabError, match=r"label folder .*5' holds no pictures"):
        load_folder(root)


def test_folder_without_subfolders(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(DigitlabError, match="has no subfolders"):
        load_folder(tmp_path)


# ---------------------------------------------------------------- CLI


def test_cli_data_options_reach_the_loader(tmp_path, small):
    images, y = small
    write_idx(tmp_path / "pics.idx", np.tile(images, (5, 1, 1)) + 0)
    write_idx(tmp_path / "answers.idx", np.tile(y, 5))
    runner = CliRunner()
    args = ["train", "--data", str(tmp_path / "pics.idx"), "--k", "1", "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert "Error: No labels file found beside" in result.output
    result = runner.invoke(main, [*args, "--labels", str(tmp_path / "answers.idx")])
    assert result.exit_code == 0, result.output
    # Every picture appears 5 times, so a 1-neighbor model finds its twin.
    assert '"accuracy": 1.0' in result.output
    assert "Note: " in result.output and "48 duplicate rows" in result.output


def test_cli_unknown_data_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "no.csv")])
    assert result.exit_code == 2
    assert result.output.startswith("Error: Unknown data ")
    assert "Traceback" not in result.output


def test_folder_through_the_predict_preparation(tmp_path, digits):
    from digitlab.preprocess import prepare

    # Three pictures per label 0..2: thick strokes drawn on white paper.
    rng = np.random.default_rng(1)
    pictures = []
    for label in range(3):
        for j in range(3):
            paper = np.full((60, 60), 255, dtype=np.uint8)
            x = int(rng.integers(15, 40))
            paper[10:50, x : x + 6] = 0
            bar = 12 + 12 * j + 3 * label  # a crossbar at a different height each
            paper[bar : bar + 4, x - 10 : x + 16] = 0
            pictures.append((label, paper))
    root = write_folder(
        tmp_path / "pics", [p for _, p in pictures], [lb for lb, _ in pictures]
    )
    data = load_folder(root, pipeline="mnist28")
    assert data.X.shape == (9, 784) and data.images.shape == (9, 28, 28)
    assert data.pipeline == "mnist28"
    expected = prepare(root / "2" / "00006.png", pipeline="mnist28")
    assert np.array_equal(data.X[6], expected)
    with pytest.raises(DigitlabError, match="Unknown picture preparation 'nope'"):
        load_folder(root, pipeline="nope")


def test_sweep_same_numbers_from_idx_npz_and_png_folder(tmp_path, mnist_dir):
    from digitlab import sweep

    mnist = load_data(str(mnist_dir / "t10k-images-idx3-ubyte.gz"))
    # 400 real digits, ordered by label as a folder of label subfolders lists them.
    keep = np.sort(np.random.default_rng(0).choice(len(mnist), 400, replace=False))
    keep = keep[np.argsort(mnist.y[keep], kind="stable")]
    images = mnist.images[keep].astype(np.uint8)
    labels = mnist.y[keep]
    write_idx(tmp_path / "few-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "few-labels-idx1-ubyte.gz", labels)
    np.savez(tmp_path / "few.npz", X=images.reshape(400, -1), y=labels)
    write_folder(tmp_path / "few", images, labels)
    sets = [
        load_data(str(tmp_path / "few-images-idx3-ubyte.gz")),
        load_data(str(tmp_path / "few.npz")),
        load_data(str(tmp_path / "few")),
    ]
    for data in sets[1:]:
        assert np.array_equal(data.X, sets[0].X)
        assert data.y.tolist() == sets[0].y.tolist()
    results = [
        sweep(data, test_sizes=(0.2, 0.3), ks=(1, 3, 5), repeats=3) for data in sets
    ]
    rows = [r.rows for r in results]
    assert rows[0] == rows[1] == rows[2]
    assert len(rows[0]) == 2 * 3 * 3  # test_size × k × seed
    # One cell checked against the plain train → predict path.
    from digitlab import train

    cell = [
        r for r in rows[0] if r["test_size"] == 0.3 and r["k"] == 3 and r["seed"] == 1
    ]
    assert cell[0]["accuracy"] == train(sets[2], test_size=0.3, seed=1, k=3).accuracy
