"""The toolbox's tools and parameters as data: one source for the .pyt and for its help XML.

``ArcTokenTools.pyt`` turns each :class:`ParamSpec` into an ``arcpy.Parameter`` and hands its
validation and execution to :mod:`arctoken_core.toolbox.behaviour`;
:mod:`arctoken_core.toolbox.helpxml` writes the tools' help from the same specs, so the dialog
and the help cannot disagree.

Importing this module is cheap (standard library only): ArcGIS Pro imports it whenever it
loads the toolbox. The network code is imported only when a tool validates or runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    List,
    Mapping,
    Optional,
    Tuple,
)

from ..kinds import FEDERATING_KINDS, KIND_LABELS, PASSWORD_KINDS
from ..urls import ONLINE_URL

if TYPE_CHECKING:
    pass


Options = Callable[[], Mapping[str, str]]
"""Codes to the labels a value list shows, e.g. ``{"online": "ArcGIS Online"}``."""

REQUIRED, OPTIONAL, DERIVED = "Required", "Optional", "Derived"
INPUT, OUTPUT = "Input", "Output"
PROXY, SECURITY = "Proxy", "Security"

TOKEN_KINDS = ("online", "portal", "server", "app")
REFERER_KINDS = ("online", "portal", "server", "pro", "apikey")
ONLINE_DEFAULT_KINDS = ("online", "app", "apikey")


def _kind_labels() -> Mapping[str, str]:
    return KIND_LABELS


def _target_labels() -> Mapping[str, str]:
    from ..run.runner import TARGET_LABELS

    return TARGET_LABELS


def _methods() -> Mapping[str, str]:
    return {"GET": "GET", "POST": "POST"}


@dataclass(frozen=True)
class ParamSpec:
    """One tool parameter: what arcpy needs to build it and what its help says.

    ``field`` is the core's name for the value (``fields.check`` and ``Connection``);
    ``kinds`` and ``targets`` list the connection types and run targets that use it (None:
    all); ``options`` maps the codes the code uses to the labels the value list shows.
    """

    name: str
    label: str
    datatype: str
    help: str
    parameter_type: str = OPTIONAL
    direction: str = INPUT
    category: Optional[str] = None
    default: Any = None
    options: Optional[Options] = None
    value_range: Optional[Tuple[float, float]] = None
    extensions: Tuple[str, ...] = ()
    field: Optional[str] = None
    kinds: Optional[Tuple[str, ...]] = None
    targets: Optional[Tuple[str, ...]] = None

    @property
    def filter_type(self) -> Optional[str]:
        """The arcpy filter type (``ValueList``, ``Range``, ``File``) or None."""
        if self.options is not None:
            return "ValueList"
        if self.value_range is not None:
            return "Range"
        return "File" if self.extensions else None

    @property
    def filter_list(self) -> List[Any]:
        """The arcpy ``filter.list``: labels, ``[min, max]`` or file extensions."""
        if self.options is not None:
            return list(self.options().values())
        if self.value_range is not None:
            return list(self.value_range)
        return list(self.extensions)

    @property
    def default_value(self) -> Any:
        """The value the dialog starts with (a label for value lists)."""
        if self.options is not None and self.default is not None:
            return self.options()[self.default]
        return self.default

    @property
    def is_output(self) -> bool:
        """True for output parameters (derived or chosen by the user)."""
        return self.direction == OUTPUT

    def uses(self, kind: Optional[str], target: Optional[str]) -> bool:
        """True when a tool set to connection ``kind`` and ``target`` needs this parameter."""
        kind_ok = self.kinds is None or kind in self.kinds
        target_ok = self.targets is None or target in self.targets
        return kind_ok and target_ok

    def code_of(self, label: Any) -> Any:
        """The code behind a value-list label (the label itself when it is unknown)."""
        if self.options is None or label is None:
            return label
        for code, text in self.options().items():
            if text == label:
                return code
        return label


@dataclass(frozen=True)
class Example:
    """A code sample in a tool's help."""

    title: str
    text: str
    code: str


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its class name in the .pyt, its label, help and parameters."""

    name: str
    label: str
    summary: str
    usage: Tuple[str, ...]
    params: Tuple[ParamSpec, ...]
    examples: Tuple[Example, ...]
    keywords: Tuple[str, ...]

    def param(self, name: str) -> ParamSpec:
        """The parameter called ``name``."""
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def index(self, name: str) -> int:
        """Position of parameter ``name`` in the tool's parameter list."""
        return [p.name for p in self.params].index(name)


@dataclass(frozen=True)
class ToolboxSpec:
    """The toolbox: label, alias (letters and digits only), description and tools."""

    label: str
    alias: str
    summary: str
    description: str
    tools: Tuple[ToolSpec, ...]
    keywords: Tuple[str, ...]


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
            "and client secret (OAuth 2.0 client credentials).",
            REQUIRED,
            default="online",
            options=_kind_labels,
            field="kind",
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
        ),
        ParamSpec(
            "username",
            "Username",
            "GPString",
            "The account's username (case-sensitive). ArcGIS Online, ArcGIS Enterprise portal "
            "and ArcGIS Server only.",
            field="username",
            kinds=PASSWORD_KINDS,
        ),
        ParamSpec(
            "password",
            "Password",
            "GPEncryptedString",
            "The account's password. It is encrypted in models and geoprocessing history, "
            "sent only over https in the body of the sign-in request, and never shown in "
            "messages.",
            field="password",
            kinds=PASSWORD_KINDS,
        ),
        ParamSpec(
            "client_id",
            "Client ID",
            "GPString",
            "The app's client ID (App credentials only), from the app's item in your portal.",
            field="client_id",
            kinds=("app",),
        ),
        ParamSpec(
            "client_secret",
            "Client Secret",
            "GPEncryptedString",
            "The app's client secret (App credentials only). Encrypted like a password and "
            "never shown in messages.",
            field="client_secret",
            kinds=("app",),
        ),
        ParamSpec(
            "api_key",
            "API Key",
            "GPEncryptedString",
            "The API key (API key only). An API key is used as it is: it cannot be refreshed, "
            "so it must be valid for the whole run.",
            field="api_key",
            kinds=("apikey",),
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
            "The username for the proxy, when it asks for one.",
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


def _token_outputs() -> Tuple[ParamSpec, ...]:
    return (
        ParamSpec(
            "token_file",
            "Token File",
            "DEFile",
            "Optional: a JSON file to write the token to (token, expires in epoch "
            "milliseconds, expires_iso, referer, url), readable only by you. Use it instead "
            "of the Token output to keep the token out of geoprocessing history.",
            direction=OUTPUT,
            extensions=("json",),
        ),
        ParamSpec(
            "token",
            "Token",
            "GPString",
            "The token. In ModelBuilder, connect it to another tool or use it inline as "
            "%Token%. Derived outputs are recorded in geoprocessing history: use the token "
            "file or Run with Credentials to keep tokens out of it.",
            DERIVED,
            OUTPUT,
        ),
        ParamSpec(
            "expires",
            "Expires",
            "GPDate",
            "When the token expires (local time), as the server reported it.",
            DERIVED,
            OUTPUT,
        ),
        ParamSpec(
            "token_referer",
            "Token Referer",
            "GPString",
            "The referer the token is bound to: send it as the Referer header with the token.",
            DERIVED,
            OUTPUT,
        ),
        ParamSpec(
            "token_url",
            "Token URL",
            "GPString",
            "The portal or server the token is for (the federated server when one was given).",
            DERIVED,
            OUTPUT,
        ),
    )


_SCRIPT, _REST, _JOB = ("script",), ("rest",), ("gpjob",)


def _target_params() -> Tuple[ParamSpec, ...]:
    return (
        ParamSpec(
            "target_type",
            "Target",
            "GPString",
            "What to run with the credentials: a Python script (a function in a .py file, "
            "given a session that always carries a valid token), a REST request, or a "
            "geoprocessing service job (submitted, then followed until it ends, however long "
            "it takes).",
            REQUIRED,
            default="script",
            options=_target_labels,
        ),
        ParamSpec(
            "script_file",
            "Python Script",
            "DEFile",
            "The .py file to run (Python script). See the script template in the "
            "documentation: the function receives a context with a session, the token, "
            "messages and progress.",
            extensions=("py",),
            field="script_file",
            targets=_SCRIPT,
        ),
        ParamSpec(
            "function_name",
            "Function",
            "GPString",
            "The function in the script to call with the context (Python script).",
            default="main",
            field="function_name",
            targets=_SCRIPT,
        ),
        ParamSpec(
            "script_arguments",
            "Script Arguments (JSON)",
            "GPString",
            'Optional: a JSON object handed to the script as ctx.args, e.g. {"layer": 0}.',
            field="script_arguments",
            targets=_SCRIPT,
        ),
        ParamSpec(
            "request_url",
            "Request URL",
            "GPString",
            "The REST endpoint to call (REST request), e.g. "
            "https://gis.example.com/server/rest/services/Roads/MapServer/0/query. The token "
            "is sent only to the portal or server signed in to and to federated servers.",
            field="request_url",
            targets=_REST,
        ),
        ParamSpec(
            "request_method",
            "Method",
            "GPString",
            "GET for reading; POST for edits and long parameters (REST request).",
            default="GET",
            options=_methods,
            field="request_method",
            targets=_REST,
        ),
        ParamSpec(
            "request_parameters",
            "Request Parameters (JSON)",
            "GPString",
            'Optional: the request\'s parameters as a JSON object, e.g. {"where": "1=1", '
            '"outFields": "*"}. f=json is added for you.',
            field="request_parameters",
            targets=_REST,
        ),
        ParamSpec(
            "task_url",
            "Geoprocessing Task URL",
            "GPString",
            "The task of an asynchronous geoprocessing service, e.g. "
            "https://gis.example.com/server/rest/services/Tools/GPServer/Long%20Task.",
            field="task_url",
            targets=_JOB,
        ),
        ParamSpec(
            "job_parameters",
            "Job Parameters (JSON)",
            "GPString",
            "Optional: the job's parameters as a JSON object; values that are not strings "
            "are sent as JSON.",
            field="job_parameters",
            targets=_JOB,
        ),
        ParamSpec(
            "poll_interval",
            "Poll Interval (seconds)",
            "GPDouble",
            "Seconds between two status checks of the job.",
            default=2.0,
            value_range=(0.1, 3600.0),
            field="poll_interval",
            targets=_JOB,
        ),
        ParamSpec(
            "time_limit",
            "Time Limit (seconds)",
            "GPDouble",
            "Optional: cancel the job and fail if it has not ended after this many seconds. "
            "Empty: wait as long as the job runs.",
            field="time_limit",
            targets=_JOB,
        ),
        ParamSpec(
            "output_file",
            "Output File",
            "DEFile",
            "The JSON file the outcome is written to: status (succeeded or failed), target, "
            "result, token refreshes and error. Written whole or not at all; tokens and "
            "passwords are masked in it.",
            REQUIRED,
            OUTPUT,
            extensions=("json",),
            field="output_file",
        ),
        ParamSpec(
            "result_file",
            "Result File",
            "DEFile",
            "The output file once written, for chaining in ModelBuilder.",
            DERIVED,
            OUTPUT,
        ),
        ParamSpec(
            "token_refreshes",
            "Token Refreshes",
            "GPLong",
            "How many times a token was refreshed during the run.",
            DERIVED,
            OUTPUT,
        ),
    )


_EXAMPLE_GENERATE = """\
import arcpy

arcpy.ImportToolbox(r"C:\\Tools\\ArcTokenTools.pyt")
result = arcpy.ArcTokenTools.GenerateToken(
    "ArcGIS Enterprise portal",
    "https://gis.example.com/portal",
    "analyst",
    arcpy.GetParameterAsText(0),  # never hard-code a password
    token_file=r"C:\\Work\\token.json",
)
print(result.getOutput(2))  # expiry; avoid printing the token itself
"""

_EXAMPLE_RUN = """\
import arcpy

arcpy.ImportToolbox(r"C:\\Tools\\ArcTokenTools.pyt")
arcpy.ArcTokenTools.RunWithCredentials(
    "ArcGIS Enterprise portal",
    "https://gis.example.com/portal",
    "analyst",
    arcpy.GetParameterAsText(0),
    target_type="Geoprocessing service job",
    task_url="https://gis.example.com/server/rest/services/Tools/GPServer/Rebuild",
    job_parameters='{"region": "north"}',
    output_file=r"C:\\Work\\rebuild.json",
)
"""

GENERATE_TOKEN = ToolSpec(
    name="GenerateToken",
    label="Generate Token",
    summary=(
        "Signs in to ArcGIS Online, an ArcGIS Enterprise portal or a standalone ArcGIS "
        "Server (or uses ArcGIS Pro's own sign-in, an API key or app credentials) and "
        "returns a token that ModelBuilder can pass to other tools."
    ),
    usage=(
        "The Token output can be connected to any tool in ModelBuilder or used inline as "
        "%Token%. Send the Token Referer output as the Referer header with it.",
        "Derived outputs, the token among them, are recorded in geoprocessing history. To "
        "keep the token out of history, give a token file: the Token output is then left "
        "empty. Or use Run with Credentials, which never exposes the token.",
        "Messages say who signed in where and until when; the token is never shown.",
        "A token cannot outlive its expiration. For work that runs longer, use Run with "
        "Credentials, which refreshes tokens as needed.",
    ),
    params=connection_params() + _token_outputs(),
    examples=(
        Example(
            "Generate a token in a stand-alone script",
            "Signs in to a portal and writes the token to a file only you can read.",
            _EXAMPLE_GENERATE,
        ),
    ),
    keywords=("token", "sign in", "ArcGIS Online", "ArcGIS Enterprise", "ModelBuilder"),
)

RUN_WITH_CREDENTIALS = ToolSpec(
    name="RunWithCredentials",
    label="Run with Credentials",
    summary=(
        "Runs a Python script, a REST request or a geoprocessing service job with "
        "credentials that stay valid however long it runs: tokens are refreshed before they "
        "expire, and once more if a server rejects one."
    ),
    usage=(
        "The outcome is written to the output file as JSON, whole or not at all. When the "
        "target fails, the file says so (status failed, with the error) and the tool fails.",
        "Python script: the function is called with a context: ctx.session (a requests "
        "session that adds a valid token), ctx.token(), ctx.referer, ctx.url, ctx.args, "
        "ctx.request_json(), ctx.message(), ctx.warning(), ctx.progress() and ctx.sleep(). "
        "Its return value (JSON) is the result. An exception fails the tool with the "
        "script's traceback, tokens and passwords masked.",
        "Geoprocessing service job: the job's messages and progress appear as the tool's "
        "messages; a failed, cancelled or timed-out job fails the tool.",
        "The token never appears in messages, the output file or geoprocessing history.",
    ),
    params=connection_params() + _target_params(),
    examples=(
        Example(
            "Run a long geoprocessing service job",
            "Submits a job and follows it to its end, refreshing the token as often as needed.",
            _EXAMPLE_RUN,
        ),
    ),
    keywords=("token", "refresh", "geoprocessing service", "script", "long-running"),
)

TOOLBOX = ToolboxSpec(
    label="ArcTokenTools",
    alias="ArcTokenTools",
    summary=(
        "Tokens for ArcGIS Online, ArcGIS Enterprise and ArcGIS Server that stay valid for "
        "long runs."
    ),
    description=(
        "Generate Token signs in and hands a token on to ModelBuilder. Run with Credentials "
        "runs a script, a REST request or a geoprocessing service job with tokens that are "
        "refreshed whenever needed. Passwords are encrypted parameters and never shown; "
        "tokens are never written to messages."
    ),
    tools=(GENERATE_TOKEN, RUN_WITH_CREDENTIALS),
    keywords=("token", "ArcGIS Online", "ArcGIS Enterprise", "ArcGIS Server", "credentials"),
)


def tool_spec(name: str) -> ToolSpec:
    """The ToolSpec whose class name is ``name``."""
    for tool in TOOLBOX.tools:
        if tool.name == name:
            return tool
    raise KeyError(name)
