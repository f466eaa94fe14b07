"""A broker's password, or a client key's passphrase, read from where the YAML says it is kept:
a file only Hearth's user can open, or an environment variable (the YAML itself is read by
technicians, copied into tickets and backed up, so it never holds one). A problem is said
without the secret.

>>> import os, tempfile
>>> d = tempfile.mkdtemp()
>>> path = os.path.join(d, "upstream.pw")
>>> _ = open(path, "w").write("s3cret\\n")
>>> os.chmod(path, 0o644)
>>> read_secret(path, None)  # doctest: +ELLIPSIS
Traceback (most recent call last):
agent.config.secrets.SecretProblem: ... other users can open it (mode 0644): chmod 600 ...
>>> os.chmod(path, 0o600)
>>> read_secret(path, None)
's3cret'
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from agent.errors import HearthError


class SecretProblem(HearthError, ValueError):
    """A secret the YAML names that cannot be read, or should not be: never the secret."""


def read_secret(file: str | None, env: str | None) -> str | None:
    """The secret kept in ``file`` (its first line) or in the environment variable ``env``;
    None when the YAML names neither."""
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise SecretProblem(f"the environment variable {env} is not set (or is empty)")
        return value
    if file is None:
        return None
    try:
        with Path(file).open("rb") as f:
            mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
            text = f.read(4096)
    except OSError as exc:
        raise SecretProblem(f"cannot read {file} ({exc.strerror or exc})") from None
    if mode & 0o077:
        raise SecretProblem(
            f"{file}: other users can open it (mode {mode:04o}): chmod 600 {file}, owned by the"
            " user Hearth runs as"
        )
    lines = text.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0]:
        raise SecretProblem(f"{file} is empty: its first line is the secret")
    return lines[0]
