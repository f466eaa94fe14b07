"""The store's folder checked before the store is opened, so that a technician is told what
to fix (create it, free the disk, give it to Hearth's user) rather than shown sqlite's words."""

from __future__ import annotations

import fcntl
import getpass
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.errors import StoreError

# Below this free on its disk, Hearth does not start: it could not keep what it learns.
LEAST_FREE_BYTES = 1_000_000


def check_folder(path: str | Path) -> None:
    """The store's folder is there, writable, and not on a full disk: else a StoreError that
    says how to fix it."""
    folder = Path(path).parent
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no USER, as in some containers
        who = str(os.getuid())
    if not folder.is_dir():
        raise StoreError(
            f"cannot open the store {path}: the folder {folder} does not exist; create it"
            f" (sudo install -d -m 700 -o {who} {folder}) or set store.path"
        )
    free = shutil.disk_usage(folder).free
    if free < LEAST_FREE_BYTES:
        raise StoreError(
            f"cannot open the store {path}: the disk holding {folder} is full ({free:,}"
            " bytes free); free space on it"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(
            f"cannot open the store {path}: the folder {folder} is not writable by {who};"
            f" give it to that user (sudo chown {who} {folder}) or set store.path"
        )


@contextmanager
def only_hearth_on(path: str | Path) -> Iterator[None]:
    """Held while Hearth runs on the store at ``path`` (a lock on ``<path>.lock``, let go
    when the process ends, however it ends): a second agent on it, or ``hearth forget``, is
    a ``StoreError`` meanwhile."""
    check_folder(path)
    lock = Path(f"{path}.lock")
    with lock.open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"{path} is in use by a running Hearth (it holds {lock}): stop it first"
                " (sudo systemctl stop hearth)"
            ) from None
        yield


def store_files(path: str | Path) -> list[Path]:
    """The store's files on disk: the database, its write-ahead log, and the log's index."""
    p = Path(path)
    return [p, p.with_name(p.name + "-wal"), p.with_name(p.name + "-shm")]
