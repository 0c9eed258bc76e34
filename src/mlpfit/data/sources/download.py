"""Download files from a mirror, verified by SHA-256, each written atomically.

A file is streamed to a temporary name in the destination folder while it is hashed, and renamed
to its real name only once its checksum matches, so an interrupted or tampered download never
leaves a file that a later run would trust. Checksums come from a table of known files first;
for files the table does not know, the mirror may serve a ``SHA256SUMS`` file (the format
``sha256sum`` writes) next to them. A file with no checksum at all is refused.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Collection, Mapping, Sequence

from mlpfit import atomic
from mlpfit.data.sources.messages import data_error

SUMS_FILE = "SHA256SUMS"
CHUNK_BYTES = 1 << 20
MAX_DOWNLOAD_BYTES = 512 << 20  # the largest MNIST-family file is ~30 MB; stop a runaway server
MAX_SUMS_BYTES = 1 << 20
TIMEOUT_SECONDS = 60
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)


def download_files(
    base_url: str,
    names: Sequence[str],
    folder: str | os.PathLike,
    known_sha256: Mapping[str, Collection[str]],
    fix: str,
) -> Path:
    """Fetch ``base_url/NAME`` into ``folder`` for each name not already there; return the folder.

    ``known_sha256`` maps a file name to the accepted hex digests; ``fix`` ends every error
    message (it names the setting the user can change, e.g. the mirror variable).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise data_error(folder, f"cannot create the download folder ({error.strerror})", fix) from None
    mirror_sums: dict[str, str] | None = None
    for name in names:
        if (folder / name).exists():
            continue  # only verified files are ever renamed into place
        expected = {digest.lower() for digest in known_sha256.get(name, ())}
        if not expected:
            if mirror_sums is None:
                mirror_sums = fetch_sums(base_url, fix)
            expected = {mirror_sums[name]} if name in mirror_sums else set()
        if not expected:
            raise data_error(
                _url(base_url, name), "no SHA-256 checksum is known for this file", f"serve a {SUMS_FILE} file next to it; {fix}"
            )
        download_one(_url(base_url, name), folder / name, expected, fix)
    return folder


def fetch_sums(base_url: str, fix: str) -> dict[str, str]:
    """The mirror's SHA256SUMS as {file name: hex digest}; lines that do not parse are skipped."""
    url = _url(base_url, SUMS_FILE)
    text = _fetch_small(url, fix).decode("utf-8", errors="replace")
    return parse_sums(text)


def parse_sums(text: str) -> dict[str, str]:
    sums = {}
    for line in text.splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2 and _is_sha256(parts[0]):
            name = parts[1].lstrip("*")  # '*' marks binary mode in sha256sum output
            sums[name.removeprefix("./")] = parts[0].lower()
    return sums


def download_one(url: str, target: Path, expected: Collection[str], fix: str) -> None:
    """Stream ``url`` to a temporary file beside ``target``; rename it only if its hash is expected."""
    with atomic.replacing(target) as out:
        digest = _copy_hashed(url, out, fix)
        if digest not in expected:
            raise data_error(
                url,
                f"SHA-256 {digest} does not match the known checksum {sorted(expected)[0]}",
                f"the mirror serves a different or damaged file, so it was deleted; {fix}",
            )


def _copy_hashed(url: str, out, fix: str) -> str:
    digest = hashlib.sha256()
    copied = 0
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            while chunk := response.read(CHUNK_BYTES):
                copied += len(chunk)
                if copied > MAX_DOWNLOAD_BYTES:
                    raise data_error(url, f"is larger than {MAX_DOWNLOAD_BYTES >> 20} MB, too large for this file", fix)
                digest.update(chunk)
                out.write(chunk)
    except NETWORK_ERRORS as error:
        raise data_error(url, f"download failed ({_reason(error)})", fix) from None
    return digest.hexdigest()


def _fetch_small(url: str, fix: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return response.read(MAX_SUMS_BYTES)
    except NETWORK_ERRORS as error:
        raise data_error(url, f"download failed ({_reason(error)})", fix) from None


def _url(base_url: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/{name}"


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(ch in "0123456789abcdefABCDEF" for ch in text)


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        error.close()  # an HTTPError holds the response's socket open until closed
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__

