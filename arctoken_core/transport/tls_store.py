"""The TLS context of every https connection: which CAs are trusted, which certificate we show.

Trust, in this order:

- ``verify=False``: nothing is checked (the connection's fields warn about it).
- ``ca_bundle``: only that bundle's CAs. The explicit choice wins over every store.
- ``truststore`` installed (ArcGIS Pro 3.3+ ships it): the operating system's own store (the
  Windows certificate store, the macOS keychain, OpenSSL's default paths on Linux), so a
  corporate TLS-inspecting proxy's CA is trusted without exporting a CA bundle. The CA bundle
  requests uses anyway (certifi) is still trusted besides.
- otherwise requests' own default (certifi).

A client certificate (PKI) is loaded into that same context, so the web tier sees it on every
connection, sign-in and data requests alike. A PKCS#12 file (.pfx, .p12) is read with the
``cryptography`` package; its key reaches OpenSSL through a file that exists for a moment
only, in a private folder, encrypted with a one-time password that never leaves memory.
"""

from __future__ import annotations

import os
import secrets
import shutil
import ssl
import tempfile
from typing import Callable, NamedTuple, Optional, Union

from ..errors import ConfigError
from ..secrets import Secret, get_logger
from .settings import uses_system_store

__all__ = [
    "ClientCertificate",
    "check_readable",
    "is_pkcs12",
    "load_client_certificate",
    "system_store",
    "tls_context",
    "unreadable",
]

log = get_logger(__name__)

_PKCS12_SUFFIXES = (".pfx", ".p12")
_MAX_CERT_BYTES = 1 << 20
"""A megabyte: far more than any certificate file; more is the wrong file."""

Password = Union[str, Callable[[], str]]


class ClientCertificate(NamedTuple):
    """A client certificate for PKI sign-in: PEM (certificate and key) or PKCS#12.

    ``key_file`` is for PEM only (None when the key is in ``cert_file``); ``password``
    opens a PKCS#12 file or an encrypted PEM key. Its repr shows the password masked.
    """

    cert_file: str
    key_file: Optional[str] = None
    password: Optional[Secret] = None


def tls_context(
    verify: bool, ca_bundle: Optional[str], client: Optional[ClientCertificate] = None
) -> Optional[ssl.SSLContext]:
    """The context every https connection uses, or None where requests' default is right.

    Raises:
        ConfigError: the client certificate cannot be read (``.field`` says which file).
    """
    system = system_store() if uses_system_store(verify, ca_bundle) else None
    if client is None:
        return system
    context = system or _plain_context(verify, ca_bundle)
    load_client_certificate(context, client)
    return context


def system_store() -> Optional[ssl.SSLContext]:
    """truststore's context (the operating system's CA store), or None without the package."""
    try:
        import truststore  # noqa: PLC0415 - optional: ArcGIS Pro 3.3+ ships it
    except ImportError:
        return None
    log.debug("trusting the operating system's certificate store (truststore)")
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _plain_context(verify: bool, ca_bundle: Optional[str]) -> ssl.SSLContext:
    """A context with no CA of its own: requests adds its bundle (or the user's) to it."""
    from urllib3.util.ssl_ import create_urllib3_context  # noqa: PLC0415

    # urllib3's own defaults: 1.26 checks host names itself (and sends no name for an IP)
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


def is_pkcs12(path: str) -> bool:
    """True for a .pfx or .p12 file name (PKCS#12); anything else is read as PEM."""
    return path.lower().endswith(_PKCS12_SUFFIXES)


def load_client_certificate(context: ssl.SSLContext, client: ClientCertificate) -> None:
    """Load ``client`` into ``context`` (OpenSSL never prompts on the terminal for a password).

    Raises:
        ConfigError: a file is missing, unreadable, of the wrong kind, or the password is wrong.
    """
    if is_pkcs12(client.cert_file):
        _load_pkcs12(context, client)
        return
    password: Password = client.password.reveal() if client.password else _no_password
    try:
        context.load_cert_chain(client.cert_file, client.key_file or None, password=password)
    except OSError as exc:  # ssl.SSLError is an OSError too
        raise _pem_error(exc, client) from None


def _no_password() -> str:
    raise ConfigError(
        "cert_password", "the private key is encrypted: give its password (certificate password)"
    )


def _pem_error(exc: OSError, client: ClientCertificate) -> ConfigError:
    text = str(exc).lower()
    if "key values mismatch" in text or "key_values_mismatch" in text:
        return ConfigError("key_file", "does not belong to the certificate in cert_file")
    if "bad decrypt" in text or "bad password" in text:
        return ConfigError("cert_password", "does not open the private key: check the password")
    if not isinstance(exc, ssl.SSLError):
        return unreadable("cert_file", exc)
    field = "key_file" if client.key_file and "key" in text else "cert_file"
    return ConfigError(
        field,
        "is not a PEM certificate and private key (give a .pem certificate with its key, or "
        "a .pfx/.p12 file)",
    )


def _load_pkcs12(context: ssl.SSLContext, client: ClientCertificate) -> None:
    """Decrypt a PKCS#12 file in memory, then hand it to OpenSSL re-encrypted, for a moment."""
    try:
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
        from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: PLC0415
    except ImportError:
        raise ConfigError(
            "cert_file",
            "is a PKCS#12 file (.pfx/.p12): reading it needs the 'cryptography' package "
            "(pip install cryptography; ArcGIS Pro ships it), or export the certificate and "
            "key as PEM files",
        ) from None
    password = client.password.reveal().encode() if client.password else None
    data = _read(client.cert_file)  # its ConfigError is a ValueError too: read it first
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        raise ConfigError(
            "cert_password",
            "does not open the PKCS#12 file: check the password (or the file is damaged)",
        ) from None
    if key is None or cert is None:
        raise ConfigError("cert_file", "holds no private key and certificate pair")
    one_time = secrets.token_hex(32)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time.encode()),
    )
    for item in [cert, *(extra or [])]:
        pem += item.public_bytes(serialization.Encoding.PEM)
    _load_for_a_moment(context, pem, one_time)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_CERT_BYTES + 1)
    except OSError as exc:
        raise unreadable("cert_file", exc) from None
    if len(data) > _MAX_CERT_BYTES:
        raise ConfigError("cert_file", "is far too large for a certificate: is it the right file?")
    return data


def check_readable(path: str, field: str) -> None:
    """ConfigError on ``field`` when the file ``path`` cannot be opened for reading."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise unreadable(field, exc) from None


def unreadable(field: str, exc: OSError) -> ConfigError:
    """The one message for a certificate or key file that cannot be read."""
    return ConfigError(field, f"cannot be read ({exc.strerror or exc}); check the path")


def _load_for_a_moment(context: ssl.SSLContext, pem: bytes, password: str) -> None:
    """OpenSSL reads keys only from files: one in a private folder, removed at once."""
    folder = tempfile.mkdtemp(prefix="arctoken-")  # 0700: only this user may look inside
    path = os.path.join(folder, "client.pem")
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(pem)
        context.load_cert_chain(path, password=password)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
