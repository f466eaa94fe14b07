"""The brokers' sections: the home's (where the sensors publish) and the care team's (where
alerts go). Alerts leave the home over TLS, with a certificate of the hub's own, unless the YAML
says otherwise (``without_client_certificate: true``), or in plain text only to a loopback host
or where it says ``insecure: true``; a password is kept out of the YAML
(``agent.config.secrets``).
"""

from __future__ import annotations

import ipaddress
from typing import Self

from pydantic import Field, field_validator, model_validator

from agent.config.strict import Strict


def is_loopback(host: str) -> bool:
    """
    >>> is_loopback("localhost"), is_loopback("::1"), is_loopback("care.example.org")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _one_place(file: str | None, env: str | None, what: str) -> None:
    if file is not None and env is not None:
        raise ValueError(f"{what}_file and {what}_env both set: keep the secret in one of them")


class TlsConfig(Strict):
    ca_file: str | None = Field(
        None,
        title="CA file",
        description="PEM file of the broker's CA. Default: the system's trusted CAs.",
    )
    cert_file: str | None = Field(
        None, title="Client certificate", description="PEM, this hub's own (mutual TLS)."
    )
    key_file: str | None = Field(
        None, title="Client key", description="PEM, for mutual TLS (default: in cert_file)."
    )
    key_password_file: str | None = Field(
        None,
        title="Client key passphrase file",
        description="If the key has a passphrase: a file only Hearth's user can read.",
    )
    key_password_env: str | None = Field(
        None,
        title="Client key passphrase variable",
        description="If the key has a passphrase: the environment variable holding it.",
    )
    without_client_certificate: bool = Field(
        False,
        title="Without a client certificate",
        description=(
            "true: this hub has no certificate of its own, on purpose (the care team's broker"
            " knows hubs by password alone). Warned of at every start."
        ),
    )

    @model_validator(mode="after")
    def _a_key_with_its_certificate(self) -> Self:
        if self.key_file is not None and self.cert_file is None:
            raise ValueError("key_file needs cert_file (this hub's certificate, whose key it is)")
        if self.cert_file is not None and self.without_client_certificate:
            raise ValueError("cert_file and without_client_certificate: true both set")
        _one_place(self.key_password_file, self.key_password_env, "key_password")
        return self


class BrokerConfig(Strict):
    host: str = Field("localhost", title="Host", description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, title="Port", description="1883 plain, 8883 TLS.")
    username: str | None = Field(None, title="User name", description="If the broker wants one.")
    password: str | None = Field(
        None,
        title="Password (refused)",
        description="Never in the YAML: use password_file or password_env.",
    )
    password_file: str | None = Field(
        None,
        title="Password file",
        description="If the broker wants a password: a file (mode 600) whose first line it is.",
    )
    password_env: str | None = Field(
        None,
        title="Password variable",
        description="If the broker wants a password: the environment variable holding it.",
    )
    tls: TlsConfig | None = Field(None, title="TLS", description="Set to use TLS.")
    client_id: str | None = Field(
        None, title="Client id", description="Default: hearth-<household>."
    )

    @field_validator("password")
    @classmethod
    def _not_in_the_yaml(cls, v: str | None) -> str | None:
        if v is not None:
            raise ValueError(
                "a password is not kept in the YAML (it is read by technicians and copied into"
                " backups): put it in a file only Hearth's user can read (chmod 600) and name it"
                " in password_file:, or name an environment variable in password_env:"
            )
        return v

    @model_validator(mode="after")
    def _one_place_for_the_password(self) -> Self:
        _one_place(self.password_file, self.password_env, "password")
        return self


class UpstreamConfig(BrokerConfig):
    topic_prefix: str = Field(
        "hearth",
        title="Topic prefix",
        description="Alerts go to <prefix>/<household>/alerts/<type>.",
    )
    insecure: bool = Field(
        False,
        title="Insecure",
        description=(
            "true: alerts go to a host that is not this hub without TLS, on purpose (a link"
            " protected some other way, such as a VPN). Warned of at every start."
        ),
    )

    @model_validator(mode="after")
    def _encrypted_off_the_hub(self) -> Self:
        if self.tls is None and not self.insecure and not is_loopback(self.host):
            raise ValueError(
                f"alerts (and any password) would go to {self.host} unencrypted: add tls: (with"
                " ca_file: the care team's CA, cert_file: and key_file: this hub's own), or"
                " insecure: true if the link is protected some other way"
            )
        t = self.tls
        anonymous = t is not None and t.cert_file is None and not t.without_client_certificate
        if anonymous and not is_loopback(self.host):
            raise ValueError(
                f"tls: has no cert_file: {self.host} could not tell this hub from any other"
                " client that has its password: add cert_file: and key_file: (the certificate"
                " the care team issued this hub), or without_client_certificate: true if their"
                " broker knows hubs by password alone"
            )
        return self
