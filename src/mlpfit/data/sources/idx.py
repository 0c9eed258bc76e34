"""MNIST-format (IDX) files: read one, load the four files of a data set, find them on disk.

An IDX file is ``00 00 TYPE NDIM``, then NDIM big-endian uint32 sizes, then exactly
prod(sizes) big-endian values. Files may be gzipped (recognised by their first bytes, not their
name). Everything a file claims is checked before memory is allocated for it, and a file that
holds fewer or more bytes than its header promises is refused: a silently truncated MNIST would
otherwise train on garbage labels.

``find_dataset`` looks for the four files in the usual places (see ``search_folders``) and, if
none holds them and a mirror is configured, downloads them with verified SHA-256 checksums.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Collection, Iterator, Mapping

import numpy as np

from mlpfit.data.sources.download import download_files
from mlpfit.data.sources.input_file import require_regular
from mlpfit.data.sources.messages import data_error
from mlpfit.errors import DataError
from mlpfit.memory_budget import require

# IDX type byte -> big-endian dtype, as defined on Yann LeCun's MNIST page.
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_ELEMENTS = 2**31  # MNIST's largest file holds 47 million; anything near this is a bad header
MAX_BYTES = 2**31  # and 2 GiB of data; MNIST's train images are 47 MB
READ_CHUNK = 1 << 24
MAX_DIMS = 8  # real IDX files have 1 to 4 dimensions
GZIP_MAGIC = b"\x1f\x8b"

# role -> (standard file name without .gz, dimensions the array must have)
ROLES = {
    "train_images": ("train-images-idx3-ubyte", 3),
    "train_labels": ("train-labels-idx1-ubyte", 1),
    "test_images": ("t10k-images-idx3-ubyte", 3),
    "test_labels": ("t10k-labels-idx1-ubyte", 1),
}
GZ_NAMES = [f"{stem}.gz" for stem, _ in ROLES.values()]  # what mirrors serve

DATASETS = ("mnist", "fashion-mnist")
TORCHVISION_NAMES = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}  # <root>/<Name>/raw
MIRROR_VARIABLES = {"mnist": "MLPFIT_MNIST_MIRROR", "fashion-mnist": "MLPFIT_FASHION_MNIST_MIRROR"}
# Folders that packages install into (Debian: `apt-get install dataset-fashion-mnist`).
SYSTEM_FOLDERS = {"mnist": [], "fashion-mnist": ["/usr/share/datasets/fashion-mnist"]}

# SHA-256 of the official .gz files (MNIST as mirrored by torchvision/TensorFlow; Fashion-MNIST
# from Zalando's repository, whose README publishes their MD5). Debian's dataset-fashion-mnist
# (0.0~git20200523.55506a9-1) ships the same files recompressed, so their bytes hash differently;
# those sums were computed from the package and are accepted too.
KNOWN_SHA256: dict[str, dict[str, set[str]]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": {"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
        "train-labels-idx1-ubyte.gz": {"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
        "t10k-images-idx3-ubyte.gz": {"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
        "t10k-labels-idx1-ubyte.gz": {"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": {
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",  # Debian
        },
        "train-labels-idx1-ubyte.gz": {
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",  # Debian
        },
        "t10k-images-idx3-ubyte.gz": {
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",  # Debian
        },
        "t10k-labels-idx1-ubyte.gz": {
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",  # Debian
        },
    },
}


@dataclass
class ImageSet:
    """The four arrays of an MNIST-format data set and the folder they came from."""

    train_images: np.ndarray  # uint8 [n, h, w]
    train_labels: np.ndarray  # int64 [n]
    test_images: np.ndarray  # uint8 [m, h, w]
    test_labels: np.ndarray  # int64 [m]
    source: str


# ----------------------------------------------------------------------------- one file


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array in an IDX file (raw or gzipped), in native byte order."""
    with _open_idx(path) as stream:
        try:
            dtype, shape = _read_header(stream, path)
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            # Before a byte of data: the payload and the float64 copy the data set makes of it.
            require(size + size // dtype.itemsize * 8, f"{os.fspath(path)} (shape {shape})",
                    "use fewer images, or a machine with more memory", error=DataError)
            _check_raw_size(stream, path, size)
            payload = _read_payload(stream, size)
            if len(payload) < size:
                raise data_error(path, f"is truncated: {len(payload)} of the {size} data bytes its header promises", _REDOWNLOAD)
            if stream.read(1):
                raise data_error(path, f"has bytes after the {size} data bytes its header promises", _REDOWNLOAD)
        except (EOFError, zlib.error, OSError) as error:  # gzip.BadGzipFile is an OSError
            reason = str(error) or type(error).__name__
            raise data_error(path, f"is a damaged gzip file ({reason})", _REDOWNLOAD) from None
    return np.frombuffer(payload, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _read_payload(stream: BinaryIO, size: int) -> bytearray:
    """Up to ``size`` bytes, in chunks: ``read(size)`` would allocate all of a lying header's
    promise up front, even when the (gzipped) file holds a few bytes."""
    payload = bytearray()
    while len(payload) < size:
        chunk = stream.read(min(READ_CHUNK, size - len(payload)))
        if not chunk:
            break
        payload += chunk
    return payload


_REDOWNLOAD = "download the file again (it must be an original MNIST-format IDX file)"


@contextmanager
def _open_idx(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed when it starts like a gzip file (whatever its name)."""
    with _open_raw(path) as raw:
        try:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
        except OSError as error:
            raise data_error(path, f"cannot be read ({error.strerror or error})", "check the file") from None
        if compressed:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw


def _open_raw(path: str | os.PathLike) -> BinaryIO:
    try:
        require_regular(path, "an IDX file", "pass the path of an IDX file")
        return open(path, "rb")
    except FileNotFoundError:
        raise data_error(path, "no such file", "check the path") from None
    except (OSError, ValueError) as error:  # ValueError: a path with a NUL character
        raise data_error(path, f"cannot be read ({getattr(error, 'strerror', None) or error})", "check the path") from None


def _read_header(stream: BinaryIO, path: str | os.PathLike) -> tuple[np.dtype, tuple[int, ...]]:
    magic = stream.read(4)
    if len(magic) < 4:
        raise data_error(path, f"is too short to be an IDX file ({len(magic)} bytes)", _REDOWNLOAD)
    if magic[:2] != b"\x00\x00":
        raise data_error(path, f"is not an IDX file: it starts with {magic.hex(' ')}, not 00 00 <type> <ndim>", _REDOWNLOAD)
    type_code, ndim = magic[2], magic[3]
    if type_code not in IDX_TYPES:
        known = ", ".join(f"0x{code:02x}" for code in IDX_TYPES)
        raise data_error(path, f"has unknown IDX data type 0x{type_code:02x} (known: {known})", _REDOWNLOAD)
    if not 1 <= ndim <= MAX_DIMS:
        raise data_error(path, f"declares {ndim} dimensions (an IDX file has 1 to {MAX_DIMS})", _REDOWNLOAD)
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise data_error(path, f"is truncated inside its header ({ndim} sizes expected)", _REDOWNLOAD)
    shape = struct.unpack(f">{ndim}I", sizes)
    dtype = np.dtype(IDX_TYPES[type_code])
    elements = np.prod(shape, dtype=np.float64)  # float: a product of uint32s can overflow int64
    if elements > MAX_ELEMENTS or elements * dtype.itemsize > MAX_BYTES:
        raise data_error(path, f"declares shape {shape} of {dtype.name}, too large for an IDX data set", _REDOWNLOAD)
    return dtype, shape


def _check_raw_size(stream: BinaryIO, path: str | os.PathLike, payload: int) -> None:
    """For an uncompressed file, compare sizes before reading, so a lying header allocates nothing."""
    if isinstance(stream, gzip.GzipFile):
        return
    header = stream.tell()
    actual = os.fstat(stream.fileno()).st_size - header
    if actual < payload:
        raise data_error(path, f"is truncated: {actual} of the {payload} data bytes its header promises", _REDOWNLOAD)
    if actual > payload:
        raise data_error(path, f"has {actual - payload} bytes after the {payload} data bytes its header promises", _REDOWNLOAD)


# ----------------------------------------------------------------------------- a folder of four


def load_idx_folder(folder: str | os.PathLike) -> ImageSet:
    """Read and cross-check the four standard files in ``folder``."""
    paths = locate_and_require(folder)
    arrays = {role: _read_role(role, path) for role, path in paths.items()}
    for split in ("train", "test"):
        _check_counts(paths, split, arrays)
    train_shape, test_shape = arrays["train_images"].shape[1:], arrays["test_images"].shape[1:]
    if train_shape != test_shape:
        raise data_error(
            folder, f"training images are {_size(train_shape)} but test images are {_size(test_shape)}", "use files from one data set"
        )
    return ImageSet(source=os.fspath(folder), **arrays)


def locate_and_require(folder: str | os.PathLike) -> dict[str, Path]:
    """Like :func:`locate_files`, but a DataError listing the files that are missing."""
    paths = locate_files(folder)
    missing = [stem for role, (stem, _) in ROLES.items() if paths[role] is None]
    if missing:
        listed = ", ".join(f"{stem}[.gz]" for stem in missing)
        raise data_error(
            folder, f"{len(missing)} of the 4 MNIST-format files are missing: {listed}", f"put them in {folder} or pass --data-dir"
        )
    return paths


def locate_files(folder: str | os.PathLike) -> dict[str, Path | None]:
    """role -> the file that plays it in ``folder`` (raw preferred to .gz), or None."""
    folder = Path(folder)
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "no such folder"
        raise data_error(folder, problem, "pass the folder that holds the four MNIST-format files")
    return {role: _first_existing(folder, _spellings(stem)) for role, (stem, _) in ROLES.items()}


def _spellings(stem: str) -> list[str]:
    dotted = stem.replace("-idx", ".idx")  # 'train-images.idx3-ubyte', as some archives name it
    return [stem, dotted, f"{stem}.gz", f"{dotted}.gz"]


def _first_existing(folder: Path, names: list[str]) -> Path | None:
    return next((folder / name for name in names if (folder / name).is_file()), None)


def _read_role(role: str, path: Path) -> np.ndarray:
    array = read_idx(path)
    ndim = ROLES[role][1]
    kind = "images" if ndim == 3 else "labels"
    if array.ndim != ndim:
        shape = "x".join(map(str, array.shape))
        raise data_error(path, f"holds a {array.ndim}-D array ({shape}) but {kind} must be {ndim}-D", _REDOWNLOAD)
    if len(array) == 0:
        raise data_error(path, f"holds no {kind}", _REDOWNLOAD)
    if kind == "images" and array.dtype != np.uint8:
        raise data_error(path, f"holds {array.dtype} values; images must be unsigned bytes (type 0x08)", _REDOWNLOAD)
    if kind == "labels":
        if array.dtype.kind not in "iu":
            raise data_error(path, f"holds {array.dtype} values; labels must be integers", _REDOWNLOAD)
        array = array.astype(np.int64)
    return array


def _check_counts(paths: dict[str, Path | None], split: str, arrays: dict[str, np.ndarray]) -> None:
    images, labels = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
    if images != labels:
        raise data_error(
            paths[f"{split}_labels"],
            f"has {labels} labels but {paths[f'{split}_images'].name} has {images} images",
            "use the labels file that belongs to the images file",
        )


def _size(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


# ----------------------------------------------------------------------------- finding a data set


def find_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    checksums: Mapping[str, Collection[str]] | None = None,
) -> str:
    """The folder holding the four files of ``name`` ('mnist' or 'fashion-mnist').

    With ``data_dir``: that folder, its ``<name>`` subfolder or its torchvision-style
    ``<Name>/raw``. Without: the first complete folder of :func:`search_folders`; failing that, a
    download from the mirror in MLPFIT_MNIST_MIRROR / MLPFIT_FASHION_MNIST_MIRROR into the cache
    folder, verified against ``checksums`` (default: :data:`KNOWN_SHA256`).
    """
    key = _dataset_key(name)
    if data_dir is not None:
        return _find_in_data_dir(key, Path(data_dir))
    searched = search_folders(key)
    found = next((folder for folder in searched if _is_complete(folder)), None)
    if found is not None:
        return os.fspath(found)
    mirror = os.environ.get(MIRROR_VARIABLES[key])
    if mirror:
        table = KNOWN_SHA256[key] if checksums is None else checksums
        fix = f"check {MIRROR_VARIABLES[key]}={mirror} or put the files in a folder and pass --data-dir"
        return os.fspath(download_files(mirror, GZ_NAMES, cache_folder(key), table, fix))
    raise data_error(
        None,
        f"{key} not found: none of {', '.join(map(os.fspath, searched))} holds all of {', '.join(GZ_NAMES)}",
        f"download the four files into one of them, or pass --data-dir DIR (or set {MIRROR_VARIABLES[key]} to a mirror URL)",
    )


def search_folders(name: str) -> list[Path]:
    """Where :func:`find_dataset` looks, in order: the cache, ~/data, ./data, torchvision and
    Keras layouts, then folders that system packages install."""
    home, here = Path.home(), Path.cwd()
    torch_name = TORCHVISION_NAMES[name]
    folders = [cache_folder(name), home / "data" / name, here / "data" / name]
    folders += [home / "data" / torch_name / "raw", here / "data" / torch_name / "raw"]
    if name == "fashion-mnist":
        folders.append(home / ".keras" / "datasets" / "fashion-mnist")  # keras.datasets.fashion_mnist
    folders += [Path(folder) for folder in SYSTEM_FOLDERS[name]]
    return list(dict.fromkeys(folders))


def cache_folder(name: str) -> Path:
    """$MLPFIT_CACHE/<name>, else ~/.cache/mlpfit/<name>: where downloads go."""
    base = os.environ.get("MLPFIT_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "mlpfit") / name


def _dataset_key(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    key = "fashion-mnist" if key == "fashionmnist" else key
    if key not in DATASETS:
        raise data_error(None, f"unknown IDX data set {name!r}", f"choose one of {', '.join(DATASETS)}")
    return key


def _find_in_data_dir(name: str, data_dir: Path) -> str:
    if not data_dir.is_dir():
        problem = "is a file, not a folder" if data_dir.exists() else "no such folder"
        raise data_error(data_dir, problem, f"pass --data-dir a folder that holds the four {name} files")
    candidates = [data_dir, data_dir / name, data_dir / TORCHVISION_NAMES[name] / "raw"]
    found = next((folder for folder in candidates if _is_complete(folder)), None)
    if found is None:
        locate_and_require(data_dir)  # raises the message that lists the missing files
    return os.fspath(found)


def _is_complete(folder: Path) -> bool:
    try:
        return folder.is_dir() and all(path is not None for path in locate_files(folder).values())
    except OSError:  # an unreadable folder in the search path is simply not the one
        return False
