"""IDX reader, folder loader, data set search and verified download (against a local server)."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import examples

from mlpfit.errors import DataError
from mlpfit.data.sources import idx
from mlpfit.data.sources.idx import GZ_NAMES, find_dataset, load_idx_folder, read_idx

TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


# ----------------------------------------------------------------------------- writing IDX files


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file for ``array``: 00 00 type ndim, big-endian sizes, big-endian values."""
    code = TYPE_CODES[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_set(folder: Path, n_train=6, n_test=4, shape=(3, 2), gz=False, dotted=False, seed=0) -> dict:
    """The four files of a small fake data set; returns the arrays written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, *shape), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, *shape), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for role, array in arrays.items():
        stem = idx.ROLES[role][0]
        name = stem.replace("-idx", ".idx") if dotted else stem
        write_idx(folder / (name + (".gz" if gz else "")), array, gz=gz)
    return arrays


def error_for(call, *args, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def assert_words(message: str, *words: str) -> None:
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


# ----------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", list(TYPE_CODES))
def test_round_trip_every_type(tmp_path, gz, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    back = read_idx(write_idx(tmp_path / "a.idx", array, gz=gz))
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    back[0, 0, 0] = 1  # the result is an ordinary writable array


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    array = np.arange(5, dtype=np.uint8)
    (tmp_path / "labels-idx1-ubyte").write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels-idx1-ubyte"), array)


def test_wrong_magic(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    assert_words(error_for(read_idx, path), "not an IDX file", "01 02 08 01")


def test_wrong_type_byte(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")
    assert_words(error_for(read_idx, path), "unknown IDX data type 0x07")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_payload(tmp_path, gz):
    data = idx_bytes(np.zeros((4, 3, 3), np.uint8))[:-5]
    path = tmp_path / "x"
    path.write_bytes(gzip.compress(data) if gz else data)
    assert_words(error_for(read_idx, path), "truncated", "31 of the 36")


def test_truncated_header(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    assert_words(error_for(read_idx, path), "truncated inside its header")


def test_too_short(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x00\x00")
    assert_words(error_for(read_idx, path), "too short")


def test_truncated_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones((50, 8, 8), np.uint8) * 7))[:-12])
    assert_words(error_for(read_idx, path), "damaged gzip", "download the file again")


@pytest.mark.parametrize("gz", [False, True])
def test_trailing_bytes(tmp_path, gz):
    data = idx_bytes(np.zeros(10, np.uint8)) + b"\x00\x01"
    path = tmp_path / "x"
    path.write_bytes(gzip.compress(data) if gz else data)
    assert_words(error_for(read_idx, path), "bytes after the 10 data bytes")


def test_absurd_dims_refused_before_allocating(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + struct.pack(">3I", 2**20, 2**12, 2**12)))
    assert_words(error_for(read_idx, path), "too large")


def test_large_claim_in_small_gzip_is_truncated_not_allocated(tmp_path):
    path = tmp_path / "x.gz"  # 1.5 GB promised, nothing delivered: must fail fast, not allocate
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 1_500_000_000)))
    assert_words(error_for(read_idx, path), "truncated", "0 of the 1500000000")


def test_zero_dimensions(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x00\x00\x08\x00")
    assert_words(error_for(read_idx, path), "0 dimensions")


def test_missing_file_and_folder(tmp_path):
    assert_words(error_for(read_idx, tmp_path / "nope"), "no such file")
    assert_words(error_for(read_idx, tmp_path), "is a folder")


# ----------------------------------------------------------------------------- load_idx_folder


@pytest.mark.parametrize("gz, dotted", [(False, False), (True, False), (False, True), (True, True)])
def test_load_folder_round_trip(tmp_path, gz, dotted):
    arrays = write_set(tmp_path, gz=gz, dotted=dotted)
    images = load_idx_folder(tmp_path)
    assert images.source == str(tmp_path)
    for role, array in arrays.items():
        np.testing.assert_array_equal(getattr(images, role), array)
    assert images.train_images.dtype == np.uint8 and images.train_images.shape == (6, 3, 2)
    assert images.train_labels.dtype == np.int64 and images.test_labels.dtype == np.int64


def test_missing_files_are_listed(tmp_path):
    write_set(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    message = error_for(load_idx_folder, tmp_path)
    assert_words(message, "2 of the 4", "t10k-images-idx3-ubyte[.gz]", "train-labels-idx1-ubyte[.gz]", "--data-dir", str(tmp_path))
    assert "train-images" not in message


def test_folder_that_does_not_exist(tmp_path):
    assert_words(error_for(load_idx_folder, tmp_path / "nope"), "no such folder")


def test_counts_mismatch_names_both_counts(tmp_path):
    write_set(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    assert_words(error_for(load_idx_folder, tmp_path), "5 labels", "6 images", "train-labels")


def test_two_dimensional_image_file(tmp_path):
    write_set(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((6, 6), np.uint8))
    assert_words(error_for(load_idx_folder, tmp_path), "2-D", "images must be 3-D")


def test_two_dimensional_label_file(tmp_path):
    write_set(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros((4, 1), np.uint8))
    assert_words(error_for(load_idx_folder, tmp_path), "labels must be 1-D")


def test_train_and_test_shapes_must_agree(tmp_path):
    write_set(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((4, 2, 3), np.uint8))
    assert_words(error_for(load_idx_folder, tmp_path), "3x2", "2x3")


def test_float_images_are_refused(tmp_path):
    write_set(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((6, 3, 2), np.float32))
    assert_words(error_for(load_idx_folder, tmp_path), "float32", "unsigned bytes")


def test_empty_set_is_refused(tmp_path):
    write_set(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((0, 3, 2), np.uint8))
    assert_words(error_for(load_idx_folder, tmp_path), "no images")


# ----------------------------------------------------------------------------- find_dataset


@pytest.fixture
def clean_home(tmp_path, monkeypatch):
    """An empty HOME and working folder, no mirror, no system folders: nothing to find."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    for variable in ("MLPFIT_CACHE", "MLPFIT_MNIST_MIRROR", "MLPFIT_FASHION_MNIST_MIRROR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(idx, "SYSTEM_FOLDERS", {"mnist": [], "fashion-mnist": []})
    return home, work


def test_nothing_found_lists_files_folders_and_fix(clean_home):
    home, work = clean_home
    message = error_for(find_dataset, "mnist")
    assert_words(message, "mnist not found", *GZ_NAMES, str(home / ".cache" / "mlpfit" / "mnist"))
    assert_words(message, str(work / "data" / "mnist"), "--data-dir", "MLPFIT_MNIST_MIRROR")


@pytest.mark.parametrize(
    "where",
    [
        ".cache/mlpfit/mnist",
        "data/mnist",
        "data/MNIST/raw",
    ],
)
def test_found_in_home(clean_home, where):
    home, _ = clean_home
    write_set(home / where, gz=True)
    assert find_dataset("mnist") == str(home / where)


def test_found_in_working_folder_torchvision_style(clean_home):
    _, work = clean_home
    write_set(work / "data" / "FashionMNIST" / "raw")
    assert find_dataset("fashion_mnist") == str(work / "data" / "FashionMNIST" / "raw")


def test_found_in_system_folder(clean_home, monkeypatch, tmp_path):
    write_set(tmp_path / "usr-share", gz=True)
    monkeypatch.setattr(idx, "SYSTEM_FOLDERS", {"mnist": [], "fashion-mnist": [str(tmp_path / "usr-share")]})
    assert find_dataset("fashion-mnist") == str(tmp_path / "usr-share")


def test_incomplete_folder_is_skipped(clean_home):
    home, work = clean_home
    write_set(home / "data" / "mnist")
    (home / "data" / "mnist" / "train-images-idx3-ubyte").unlink()
    write_set(work / "data" / "mnist")
    assert find_dataset("mnist") == str(work / "data" / "mnist")


def test_cache_variable(clean_home, monkeypatch, tmp_path):
    monkeypatch.setenv("MLPFIT_CACHE", str(tmp_path / "cache"))
    write_set(tmp_path / "cache" / "mnist")
    assert find_dataset("mnist") == str(tmp_path / "cache" / "mnist")


@pytest.mark.parametrize("inside", ["", "mnist", "MNIST/raw"])
def test_data_dir(clean_home, tmp_path, inside):
    write_set(tmp_path / "mine" / inside)
    assert find_dataset("mnist", tmp_path / "mine") == str(tmp_path / "mine" / inside).rstrip("/")


def test_data_dir_incomplete_lists_missing(clean_home, tmp_path):
    write_set(tmp_path / "mine")
    (tmp_path / "mine" / "t10k-labels-idx1-ubyte").unlink()
    assert_words(error_for(find_dataset, "mnist", tmp_path / "mine"), "1 of the 4", "t10k-labels-idx1-ubyte[.gz]")


def test_data_dir_missing(clean_home, tmp_path):
    assert_words(error_for(find_dataset, "mnist", tmp_path / "nope"), "no such folder", "--data-dir")


def test_unknown_dataset_name(clean_home):
    assert_words(error_for(find_dataset, "cifar10"), "'cifar10'", "mnist", "fashion-mnist")


# ----------------------------------------------------------------------------- download


@pytest.fixture
def mirror(tmp_path):
    """A folder served over HTTP on 127.0.0.1 (random port) for the length of a test."""
    folder = tmp_path / "mirror"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/data/"
    server.shutdown()
    server.server_close()


def serve_set(folder: Path, tamper: str | None = None, sums: bool = True) -> dict[str, str]:
    """Write a fake gzipped set into ``folder/data``; return the honest SHA-256 of each file.
    With ``tamper``, that file is changed after its checksum is taken."""
    data = folder / "data"
    write_set(data, gz=True, seed=1)
    digests = {name: hashlib.sha256((data / name).read_bytes()).hexdigest() for name in GZ_NAMES}
    if sums:
        (data / "SHA256SUMS").write_text("".join(f"{digest}  {name}\n" for name, digest in digests.items()))
    if tamper:
        (data / tamper).write_bytes(gzip.compress(idx_bytes(np.zeros(6, np.uint8) + 9)))
    return digests


def use_mirror(monkeypatch, url: str, name: str = "mnist") -> None:
    monkeypatch.setenv(idx.MIRROR_VARIABLES[name], url)


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_download_verified_by_mirror_sums(clean_home, mirror, monkeypatch):
    home, _ = clean_home
    folder, url = mirror
    serve_set(folder)
    use_mirror(monkeypatch, url)
    found = find_dataset("mnist", checksums={})  # no known sums: the mirror's SHA256SUMS is used
    assert found == str(home / ".cache" / "mlpfit" / "mnist")
    assert leftovers(Path(found)) == sorted(GZ_NAMES)
    images = load_idx_folder(found)
    assert images.train_images.shape == (6, 3, 2)
    assert find_dataset("mnist", checksums={}) == found  # second call finds the cache


def test_download_into_mlpfit_cache(clean_home, mirror, monkeypatch, tmp_path):
    folder, url = mirror
    digests = serve_set(folder, sums=False)
    monkeypatch.setenv("MLPFIT_CACHE", str(tmp_path / "c"))
    use_mirror(monkeypatch, url, "fashion-mnist")
    found = find_dataset("fashion-mnist", checksums={name: {d} for name, d in digests.items()})
    assert found == str(tmp_path / "c" / "fashion-mnist")


def test_tampered_file_against_known_table_is_deleted(clean_home, mirror, monkeypatch):
    home, _ = clean_home
    folder, url = mirror
    digests = serve_set(folder, tamper="train-labels-idx1-ubyte.gz")
    use_mirror(monkeypatch, url)
    table = {name: {digest} for name, digest in digests.items()}
    message = error_for(find_dataset, "mnist", checksums=table)
    assert_words(message, "train-labels-idx1-ubyte.gz", "does not match", digests["train-labels-idx1-ubyte.gz"], "deleted")
    cache = home / ".cache" / "mlpfit" / "mnist"
    assert "train-labels-idx1-ubyte.gz" not in leftovers(cache)
    assert not [name for name in leftovers(cache) if name.endswith(".part")]


def test_tampered_file_against_mirror_sums(clean_home, mirror, monkeypatch):
    folder, url = mirror
    serve_set(folder, tamper="t10k-images-idx3-ubyte.gz")
    use_mirror(monkeypatch, url)
    assert_words(error_for(find_dataset, "mnist", checksums={}), "t10k-images-idx3-ubyte.gz", "does not match")


def test_known_table_wins_over_a_lying_sums_file(clean_home, mirror, monkeypatch):
    folder, url = mirror
    digests = serve_set(folder)
    (folder / "data" / "SHA256SUMS").write_text("".join(f"{'0' * 64}  {name}\n" for name in GZ_NAMES))
    use_mirror(monkeypatch, url)
    load_idx_folder(find_dataset("mnist", checksums={name: {d} for name, d in digests.items()}))


def test_no_checksum_anywhere(clean_home, mirror, monkeypatch):
    folder, url = mirror
    serve_set(folder, sums=False)
    use_mirror(monkeypatch, url)
    assert_words(error_for(find_dataset, "mnist", checksums={}), "SHA256SUMS", "HTTP 404")


def test_default_table_refuses_fake_files(clean_home, mirror, monkeypatch):
    folder, url = mirror
    serve_set(folder)  # the mirror's SHA256SUMS vouches for them, but the official table does not
    use_mirror(monkeypatch, url)
    assert_words(error_for(find_dataset, "mnist"), "does not match", idx.KNOWN_SHA256["mnist"]["train-images-idx3-ubyte.gz"].copy().pop())


def test_unreachable_mirror(clean_home, monkeypatch):
    use_mirror(monkeypatch, "http://127.0.0.1:9/")  # the discard port: nothing listens
    assert_words(error_for(find_dataset, "mnist", checksums={"x": {"0" * 64}}), "download failed", "MLPFIT_MNIST_MIRROR")


def test_bad_mirror_url(clean_home, monkeypatch):
    use_mirror(monkeypatch, "not a url")
    assert_words(error_for(find_dataset, "mnist"), "download failed")


def test_parse_sums_formats():
    text = f"{'a' * 64}  ./one.gz\n{'B' * 64} *two.gz\n# comment\nshort  three.gz\n"
    assert idx_sums(text) == {"one.gz": "a" * 64, "two.gz": "b" * 64}


def idx_sums(text: str) -> dict[str, str]:
    from mlpfit.data.sources.download import parse_sums

    return parse_sums(text)


# ----------------------------------------------------------------------------- Debian's Fashion-MNIST


def test_debian_fashion_mnist(clean_home, monkeypatch):
    """Debian's dataset-fashion-mnist, which scripts/setup installs (CI runs it first)."""
    assert DEBIAN_FASHION.is_dir(), "run scripts/setup, or apt-get install dataset-fashion-mnist"
    monkeypatch.setattr(idx, "SYSTEM_FOLDERS", {"mnist": [], "fashion-mnist": [str(DEBIAN_FASHION)]})
    folder = find_dataset("fashion-mnist")
    assert folder == str(DEBIAN_FASHION)
    images = load_idx_folder(folder)
    assert images.train_images.shape == (60000, 28, 28) and images.test_images.shape == (10000, 28, 28)
    assert list(images.train_labels[:10]) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # as Zalando's README shows
    assert np.bincount(images.test_labels).tolist() == [1000] * 10
    for name in GZ_NAMES:  # the table accepts Debian's recompressed files too
        digest = hashlib.sha256((DEBIAN_FASHION / name).read_bytes()).hexdigest()
        assert digest in idx.KNOWN_SHA256["fashion-mnist"][name]


def test_debian_folder_is_searched_by_default():
    assert str(DEBIAN_FASHION) in idx.SYSTEM_FOLDERS["fashion-mnist"]


# ----------------------------------------------------------------------------- fuzz


VALID = idx_bytes(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))
HEADER_LENGTH = 4 + 4 * 3


def only_data_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz-idx"
    path.write_bytes(data)
    try:
        array = read_idx(path)
    except DataError as error:
        assert "\n" not in str(error)
    else:
        assert array.size * array.itemsize + 4 + 4 * array.ndim == len(data) or data[:2] == b"\x1f\x8b"


fuzz = settings(max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(data=st.binary(max_size=64))
def test_fuzz_random_bytes(tmp_path, data):
    only_data_errors(tmp_path, data)


@fuzz
@given(cut=st.integers(0, len(VALID)), gz=st.booleans())
def test_fuzz_truncations(tmp_path, cut, gz):
    data = VALID[:cut]
    only_data_errors(tmp_path, gzip.compress(data) if gz else data)


@fuzz
@given(
    flips=st.lists(st.tuples(st.integers(0, HEADER_LENGTH - 1), st.integers(0, 255)), min_size=1, max_size=4),
    extra=st.binary(max_size=8),
    gz=st.booleans(),
)
def test_fuzz_header_mutations(tmp_path, flips, extra, gz):
    data = bytearray(VALID)
    for position, value in flips:
        data[position] = value
    data = bytes(data) + extra
    only_data_errors(tmp_path, gzip.compress(data) if gz else data)


@fuzz
@given(flips=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=3), cut=st.integers(0, 200))
def test_fuzz_damaged_gzip(tmp_path, flips, cut):
    data = bytearray(gzip.compress(VALID))
    for position, value in flips:
        data[position % len(data)] = value
    only_data_errors(tmp_path, bytes(data[: max(cut, 2)]))
