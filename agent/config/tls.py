"""The TLS context a broker's settings make: TLS 1.2 or newer, the broker's certificate checked
against its CA and the host name dialled, and this hub's own certificate if the settings name
one. Built by ``hearth check-config`` too, so that a key that is not the certificate's, or one
whose passphrase is wrong or missing, is found before the hub is left to run."""

from __future__ import annotations

import ssl

from agent.config.brokers import TlsConfig
from agent.config.secrets import SecretProblem, read_secret


class TlsProblem(SecretProblem):
    """A TLS file that cannot be used: which key names it, and why (never a secret)."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(why)
        self.key = key


def _no_passphrase() -> str:
    # OpenSSL would prompt on the terminal (or fail on none): a service must never wait.
    raise SecretProblem("the key is encrypted: name its passphrase in key_password_file or _env")


def tls_context(t: TlsConfig) -> ssl.SSLContext:
    """The context, or a ``TlsProblem`` saying which file cannot be used and why."""
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=t.ca_file)
    except (ssl.SSLError, OSError) as exc:
        why = f"{t.ca_file or 'the system CAs'}: no CA certificate Hearth can use ({exc})"
        raise TlsProblem("ca_file", why) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if t.cert_file is not None:
        passphrase = read_secret(t.key_password_file, t.key_password_env)
        try:
            context.load_cert_chain(t.cert_file, t.key_file, passphrase or _no_passphrase)
        except SecretProblem as exc:
            raise TlsProblem("key_file", str(exc)) from None
        except (ssl.SSLError, OSError) as exc:
            raise TlsProblem(
                "cert_file",
                f"{t.cert_file} and {t.key_file or 'its key'} cannot be used together"
                f" ({getattr(exc, 'reason', None) or exc}): a key that is not the certificate's,"
                " or a wrong passphrase?",
            ) from None
    return context
