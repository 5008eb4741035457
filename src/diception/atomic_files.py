"""Files and folders that exist complete or not at all: written under a temporary name, then renamed.

A reader (or a resumed job) that finds the final name can trust its content; an interrupted write leaves at
most a hidden temporary file, which the next write of the same name does not trip over.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import DiceptionInputError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` by calling ``write(stream)`` on a hidden temporary file beside it, then rename it into place.

    The temporary file is created with mode 0666 minus the process umask, as ``open()`` would create the file.
    On any failure it is removed and the old ``path`` (if any) is left untouched; a full disk (or quota) is one
    :class:`DiceptionInputError` that says how to go on.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as stream:
                write(stream)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as err:
        if err.errno in DISK_FULL:
            raise DiceptionInputError(
                f"the disk is full: '{path}' could not be written (no partial file is left); free space and run the "
                "same command again: finished files are kept and skipped"
            ) from None
        raise


def replace_folder_atomically(folder: str | os.PathLike, build: Callable[[Path], None]) -> Path:
    """Build a folder with ``build(partial)`` into ``<folder>.partial``, then swap it in for ``folder``.

    An existing ``folder`` is moved aside to ``<folder>.old`` and removed only after the new one is in place; a
    failed build removes its partial folder and leaves ``folder`` as it was.
    """
    folder = Path(folder)
    partial = folder.with_name(folder.name + ".partial")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        build(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
        partial.rename(folder)
        shutil.rmtree(old)
    else:
        partial.rename(folder)
    return folder
