"""Private files and folders: what holds buyers' messages and password hashes is readable by its owner only."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create the folder (and any missing parents) readable by the owner only; an existing one is left as it is
    (it may be a folder the owner chose, such as /tmp)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it meanwhile
            continue
        os.chmod(folder, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create the file empty with mode 0600 if missing; an existing one of ours is made 0600 (older installs)."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, FILE_MODE))
        os.chmod(path, FILE_MODE)
    except PermissionError:  # not ours to change: the database still opens, or says why
        pass
    return path
