"""Files and folders that exist complete or not at all: written under a temporary name, then renamed.

A reader (or a resumed job) that finds the final name can trust its content; an interrupted write leaves at
most a hidden temporary file, ``.<name>.<host>.<pid>.<random>.tmp``. It names the machine and process that wrote
it, so a resumed job removes the ones whose writer is dead (:func:`sweep_stale_temporaries`) and never the ones
another live process, or a shard on another machine sharing the folder, is still writing.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import DiceptionInputError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
MAX_FILE_NAME_BYTES = 255
_TEMPORARY = re.compile(r"^\.(?P<name>.*)\.(?P<host>[A-Za-z0-9-]{1,32})\.(?P<pid>[0-9]{1,10})\.[0-9a-f]{8}\.tmp$")


def this_host() -> str:
    """This machine's name as temporary files carry it: letters, digits and ``-``, at most 32 characters."""
    return (re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host")[:32]


def temporary_name(path: Path) -> Path:
    """The hidden temporary file ``path`` is written to: ``.<name>.<host>.<pid>.<random>.tmp`` beside it, the
    name part shortened if the whole would not fit a file system's 255 bytes."""
    tag = f".{this_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    room = MAX_FILE_NAME_BYTES - 1 - len(tag.encode())
    name = path.name.encode("utf-8")[:room].decode("utf-8", "ignore")
    return path.with_name(f".{name}{tag}")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    except OverflowError:
        return False
    return True


def sweep_stale_temporaries(folder: str | os.PathLike) -> int:
    """Remove the temporary files under ``folder`` that a process of this machine, now dead, left when it was
    killed mid-write; return how many. Files of live processes and of other machines are left alone."""
    host, removed = this_host(), 0
    for root, _, names in os.walk(folder):
        for name in names:
            match = _TEMPORARY.match(name)
            if match and match["host"] == host and not _process_alive(int(match["pid"])):
                Path(root, name).unlink(missing_ok=True)
                removed += 1
    return removed


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` by calling ``write(stream)`` on a hidden temporary file beside it, then rename it into place.

    The temporary file is created with mode 0666 minus the process umask, as ``open()`` would create the file.
    On any failure it is removed and the old ``path`` (if any) is left untouched; a full disk (or quota) is one
    :class:`DiceptionInputError` that says how to go on.
    """
    path = Path(path)
    tmp = temporary_name(path)
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
        if _disk_full(err, path.parent):
            raise DiceptionInputError(
                f"the disk is full: '{path}' could not be written (no partial file is left); free space and run the "
                "same command again: finished files are kept and skipped"
            ) from None
        raise


def _disk_full(err: OSError, folder: Path) -> bool:
    """``err`` says the disk is full, or is a short write (numpy's "N requested and M written", no errno) on a
    file system with (next to) no space left."""
    if err.errno in DISK_FULL:
        return True
    if err.errno is None:
        try:
            stats = os.statvfs(folder)
        except OSError:
            return False
        return stats.f_bavail * stats.f_frsize < 64 * 1024
    return False


def replace_folder_atomically(folder: str | os.PathLike, build: Callable[[Path], None]) -> Path:
    """Build a folder with ``build(partial)`` into ``<folder>.partial``, then swap it in for ``folder``.

    An existing ``folder`` is moved aside to ``<folder>.old`` and removed only after the new one is in place; a
    failed build removes its partial folder and leaves ``folder`` as it was. A process killed between the two
    renames leaves ``<folder>.old``: the next call puts it back first.
    """
    folder = Path(folder)
    partial = folder.with_name(folder.name + ".partial")
    old = folder.with_name(folder.name + ".old")
    if old.exists() and not folder.exists():
        old.rename(folder)
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
