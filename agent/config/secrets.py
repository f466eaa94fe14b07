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
import re
import stat

from agent.errors import HearthError


class SecretProblem(HearthError, ValueError):
    """A secret the YAML names that cannot be read, or should not be: never the secret."""


# No password is longer; a first line past this is a file that is not a password file.
LONGEST = 4096
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def read_secret(file: str | None, env: str | None) -> str | None:
    """The secret kept in ``file`` (its first line, UTF-8, ended by a newline) or in the
    environment variable ``env`` (one trailing newline dropped); None when the YAML names
    neither. Read as written, or refused: never a different password sent."""
    if env is not None:
        if not ENV_NAME.match(env):
            raise SecretProblem("not an environment variable's name (letters, digits and _)")
        value = os.environ.get(env)
        if not value:
            raise SecretProblem(f"the environment variable {env} is not set (or is empty)")
        return _one_line(value.removesuffix("\n").removesuffix("\r"), f"${env}")
    if file is None:
        return None
    try:
        # Not blocking: a FIFO or a device named by mistake must not hang Hearth.
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SecretProblem(f"cannot read {file} ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise SecretProblem(f"{file} is not a plain file: write the secret in one")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise SecretProblem(
                f"{file}: other users can open it (mode {mode:04o}): chmod 600 {file}, and give"
                " it to the user Hearth runs as (chown)"
            )
        data = f.read(LONGEST + 2)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretProblem(f"{file} is not UTF-8 text") from None
    first = text.split("\n", 1)[0].removesuffix("\r")
    if not first:
        raise SecretProblem(f"{file} is empty: its first line is the secret")
    return _one_line(first, file)


def _one_line(secret: str, where: str) -> str:
    if len(secret.encode()) > LONGEST:
        raise SecretProblem(f"{where}: longer than {LONGEST} bytes: not a password")
    if secret.startswith("\ufeff") or any(c in secret for c in "\r\x00"):
        raise SecretProblem(f"{where}: begins with a byte-order mark or holds a control character")
    return secret
