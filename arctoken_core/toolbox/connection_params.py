"""The connection parameters both tools share, in dialog order: where and how to sign in.

Standard library only: ArcGIS Pro builds the dialog from these whenever it opens a tool.
"""

from __future__ import annotations

from typing import Mapping, Tuple

from ..kinds import FEDERATING_KINDS, KIND_LABELS, PASSWORD_KINDS, kinds_using
from ..urls import ONLINE_URL
from .types import PROXY, REQUIRED, SECURITY, ParamSpec

__all__ = ["ONLINE_DEFAULT_KINDS", "REFERER_KINDS", "TOKEN_KINDS", "connection_params"]

TOKEN_KINDS = ("online", "portal", "server", "app", "pki", "iwa")
REFERER_KINDS = ("online", "portal", "server", "pro", "apikey", "pki", "iwa")
ONLINE_DEFAULT_KINDS = ("online", "app", "apikey")


def _kind_labels() -> Mapping[str, str]:
    return KIND_LABELS


def connection_params() -> Tuple[ParamSpec, ...]:
    """The connection parameters both tools share, in dialog order."""
    return (
        ParamSpec(
            "connection_type",
            "Connection Type",
            "GPString",
            "Where to sign in, and how. ArcGIS Online, ArcGIS Enterprise portal and ArcGIS "
            "Server (standalone) sign in with a username and password; ArcGIS Pro active "
            "portal uses the account ArcGIS Pro is signed in with (no password needed); API "
            "key uses a key created in your portal; App credentials uses an app's client ID "
            "and client secret (OAuth 2.0 client credentials). For a portal whose web server "
            "signs users in, PKI certificate uses your client certificate and Windows sign-in "
            "your Windows logon (inside ArcGIS Pro, both sign in through ArcGIS Pro). Saved "
            "profile signs in with a profile saved on this computer by arctoken login.",
            REQUIRED,
            default="online",
            options=_kind_labels,
            field="kind",
        ),
        ParamSpec(
            "profile",
            "Saved Profile",
            "GPString",
            "The saved profile to sign in with, chosen from the profiles saved on this computer "
            "for your Windows account. Create one at a command prompt, once: arctoken login "
            "--profile NAME --kind portal --url https://gis.example.com/portal --username NAME "
            "(or --kind user_oauth --client-id ID for ArcGIS sign-in through the browser). "
            "The profile keeps the URL and settings in your user profile and the password or "
            "sign-in in the Windows Credential Manager (through the keyring package, which "
            "ArcGIS Pro ships), never in the project or the tool's history. Required for Saved "
            "profile; hidden for the other types.",
            field="profile",
            kinds=("profile",),
            live_values=True,
        ),
        ParamSpec(
            "url",
            "Portal or Server URL",
            "GPString",
            "The portal or server to sign in to: https://www.arcgis.com or your organization's "
            "URL (https://myorg.maps.arcgis.com) for ArcGIS Online, "
            "https://gis.example.com/portal for an ArcGIS Enterprise portal, "
            "https://gis.example.com/arcgis for a standalone ArcGIS Server. Filled in for you "
            "with https://www.arcgis.com for ArcGIS Online, API keys and app credentials, and "
            "with ArcGIS Pro's active portal for ArcGIS Pro active portal. Must use https:// "
            "(plain http is allowed only to this machine).",
            default=ONLINE_URL,
            field="url",
            kinds=kinds_using("url"),
        ),
        ParamSpec(
            "username",
            "Username",
            "GPString",
            "The account's username (case-sensitive). Required for ArcGIS Online, ArcGIS "
            "Enterprise portal and ArcGIS Server (standalone); for Windows sign-in, leave it "
            "empty to use your Windows logon or give DOMAIN\\user (outside ArcGIS Pro only).",
            field="username",
            kinds=PASSWORD_KINDS,
        ),
        ParamSpec(
            "password",
            "Password",
            "GPEncryptedString",
            "The account's password; required for the same types as the username. It is "
            "encrypted in models and geoprocessing history, "
            "sent only over https in the body of the sign-in request, and never shown in "
            "messages.",
            field="password",
            kinds=PASSWORD_KINDS,
        ),
        ParamSpec(
            "client_id",
            "Client ID",
            "GPString",
            "The app's client ID, from the app's item in your portal. Required for App "
            "credentials; also used by ArcGIS sign-in through the browser; hidden for the "
            "other types.",
            field="client_id",
            kinds=kinds_using("client_id"),
        ),
        ParamSpec(
            "client_secret",
            "Client Secret",
            "GPEncryptedString",
            "The app's client secret. Required for App credentials. Encrypted like a password and "
            "never shown in messages.",
            field="client_secret",
            kinds=("app",),
        ),
        ParamSpec(
            "api_key",
            "API Key",
            "GPEncryptedString",
            "The API key. Required for API key. An API key is used as it is: it cannot be "
            "refreshed, "
            "so it must be valid for the whole run.",
            field="api_key",
            kinds=("apikey",),
        ),
        ParamSpec(
            "cert_file",
            "Client Certificate File",
            "DEFile",
            "The client certificate for a portal with PKI sign-in: a PKCS#12 file (.pfx, .p12) "
            "or a PEM certificate (.pem). Inside ArcGIS Pro the tool signs in through ArcGIS "
            "Pro with it.",
            extensions=("pfx", "p12", "pem"),
            field="cert_file",
            kinds=("pki",),
        ),
        ParamSpec(
            "key_file",
            "Client Certificate Key File",
            "DEFile",
            "Optional: the private key (.pem) of a PEM certificate, when it is not in the "
            "certificate file. Not used with .pfx or .p12 files.",
            extensions=("pem", "key"),
            field="key_file",
            kinds=("pki",),
        ),
        ParamSpec(
            "cert_password",
            "Client Certificate Password",
            "GPEncryptedString",
            "The password of the .pfx/.p12 file (or of an encrypted PEM key). Encrypted like a "
            "password and never shown in messages.",
            field="cert_password",
            kinds=("pki",),
        ),
        ParamSpec(
            "expiration",
            "Token Expiration (minutes)",
            "GPLong",
            "How long each token should live, 1 to 20160 minutes (14 days). The server may "
            "grant less; the tools always use the expiry the server returns and refresh "
            "tokens before they run out.",
            default=60,
            value_range=(1, 20160),
            field="expiration",
            kinds=TOKEN_KINDS,
        ),
        ParamSpec(
            "referer",
            "Referer",
            "GPString",
            "The referer the tokens are bound to (sent as the Referer header with every "
            "request). Keep the default unless your portal restricts referers or a "
            "downstream application needs a particular one. With an API key, it is the "
            "Referer sent with the key: for a token made by Generate Token, use its Token "
            "Referer output.",
            default="arctokentools",
            field="referer",
            kinds=REFERER_KINDS,
        ),
        ParamSpec(
            "server_url",
            "Federated Server URL",
            "GPString",
            "Optional: an ArcGIS Server federated with the portal, e.g. "
            "https://gis.example.com/server. The token is then exchanged for one that server "
            "accepts. The server must name this portal as its owner; otherwise the tool stops "
            "with an error rather than send your token elsewhere.",
            field="server_url",
            kinds=FEDERATING_KINDS,
        ),
        ParamSpec(
            "proxy",
            "Proxy (host:port)",
            "GPString",
            "A proxy server to go through, as host:port (or http://host:port). Leave empty to "
            "connect directly or through the system's proxy settings.",
            category=PROXY,
            field="proxy",
        ),
        ParamSpec(
            "proxy_username",
            "Proxy Username",
            "GPString",
            "The username for the proxy, when it asks for one. A proxy that asks for Windows "
            "sign-in (NTLM or Negotiate) gets your Windows logon when this is empty, or give "
            "DOMAIN\\user and its password; this needs the pyspnego package, which ArcGIS "
            "Pro's Python ships.",
            category=PROXY,
            field="proxy_username",
        ),
        ParamSpec(
            "proxy_password",
            "Proxy Password",
            "GPEncryptedString",
            "The proxy password. Encrypted like the account password and never shown.",
            category=PROXY,
            field="proxy_password",
        ),
        ParamSpec(
            "use_system_proxy",
            "Use System Proxy Settings",
            "GPBoolean",
            "Checked: without a proxy above, use the proxy settings of the system (the "
            "HTTP_PROXY, HTTPS_PROXY and NO_PROXY environment variables). Unchecked: connect "
            "directly.",
            category=PROXY,
            default=True,
            field="use_system_proxy",
        ),
        ParamSpec(
            "verify",
            "Verify Certificates",
            "GPBoolean",
            "Checked (recommended): check the server's https certificate. Unchecking it lets "
            "anyone on the network path read the password and tokens; give a CA bundle "
            "instead when your organization uses its own certificate authority.",
            category=SECURITY,
            default=True,
            field="verify",
        ),
        ParamSpec(
            "ca_bundle",
            "CA Bundle File",
            "DEFile",
            "Optional: a PEM file with the certificates of your organization's certificate "
            "authority, for servers whose certificates the system does not trust.",
            category=SECURITY,
            extensions=("pem", "crt", "cer"),
            field="ca_bundle",
        ),
    )
