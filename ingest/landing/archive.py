"""Encryption at rest for archived files that hold personal data (BHXH extracts).

The landing archive keeps every received file by content hash.  A file with personal data is
kept *sealed*: a magic line, then one Fernet token (``D06_ARCHIVE_KEY``) per megabyte of the
received bytes, one token a line, so that it is written and read in chunks and memory stays
flat.  Its name ends in ``.fernet`` and its hash is still the hash of the bytes received, so a
duplicate is still a duplicate.  Reading it back (:func:`open_archived`) decrypts on the fly:
replay and the loader see the original bytes, and nothing decrypted is written to disk.

>>> with open_archived(path) as fp:
...     head = fp.read(100)
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from cryptography.fernet import Fernet, InvalidToken

from ingest.config import ConfigError, archive_key

MAGIC = b"D06-SEALED-FERNET-1\n"
SEALED_SUFFIX = ".fernet"
CHUNK = 1024 * 1024


class ArchiveKeyError(ConfigError):
    """No archive key is set, or it is not a Fernet key, or it does not open a sealed file."""


def archive_fernet() -> Fernet | None:
    """The archive's Fernet from ``D06_ARCHIVE_KEY``, or None when unset."""
    key = archive_key()
    if key is None:
        return None
    try:
        return Fernet(key)
    except ValueError:
        raise ArchiveKeyError(
            "D06_ARCHIVE_KEY không phải khóa Fernet / is not a Fernet key (urlsafe base64 of 32 bytes: "
            'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
        ) from None


def is_sealed(path: Path) -> bool:
    return path.name.endswith(SEALED_SUFFIX)


def seal(first: bytes, rest: BinaryIO, out: IO[bytes], fernet: Fernet) -> Iterator[bytes]:
    """Write ``first`` and then the rest of ``rest`` to ``out`` sealed; yield each plain chunk (to hash)."""
    out.write(MAGIC)
    chunk = first
    while chunk:
        yield chunk
        out.write(fernet.encrypt(chunk) + b"\n")
        chunk = rest.read(CHUNK)


class _Unsealing(io.RawIOBase):
    """The plain bytes of a sealed archive file, decrypted a token at a time (seekable to 0)."""

    def __init__(self, path: Path, fernet: Fernet) -> None:
        self._path, self._fernet = path, fernet
        self._file: IO[bytes] | None = None
        self._rewind()

    def _rewind(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._path.open("rb")
        if self._file.read(len(MAGIC)) != MAGIC:
            raise ArchiveKeyError(f"{self._path.name}: not a sealed archive file")
        self._plain, self._pos = b"", 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < 0:
            raise io.UnsupportedOperation("a sealed archive file seeks forward or to a position from its start")
        if target < self._pos:
            self._rewind()
        while self._pos < target and self.read(min(CHUNK, target - self._pos)):
            pass
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._plain:
            assert self._file is not None
            token = self._file.readline()
            if not token:
                return 0
            try:
                self._plain = self._fernet.decrypt(token.rstrip(b"\n"))
            except InvalidToken:
                raise ArchiveKeyError(f"{self._path.name}: D06_ARCHIVE_KEY does not open this archived file") from None
        n = min(len(buffer), len(self._plain))
        buffer[:n] = self._plain[:n]
        self._plain = self._plain[n:]
        self._pos += n
        return n

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def open_archived(path: Path) -> BinaryIO:
    """An archived file's received bytes: read as is, or decrypted when it is sealed."""
    if not is_sealed(path):
        return path.open("rb")
    fernet = archive_fernet()
    if fernet is None:
        raise ArchiveKeyError(f"{path.name} is encrypted: set D06_ARCHIVE_KEY to read it")
    return io.BufferedReader(_Unsealing(path, fernet), CHUNK)


def archived_digest(path: Path) -> tuple[str, int]:
    """The sha256 and size of an archived file's received bytes (decrypted if sealed), streaming."""
    digest, size = hashlib.sha256(), 0
    with open_archived(path) as fp:
        while chunk := fp.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
