"""The toolbox's tools as data: one source for the .pyt and for its help XML.

``ArcTokenTools.pyt`` turns each :class:`ParamSpec` into an ``arcpy.Parameter`` and hands its
validation and execution to :mod:`arctoken_core.toolbox.behaviour`;
:mod:`arctoken_core.toolbox.helpxml` writes the tools' help from the same specs, so the dialog
and the help cannot disagree. The parameters live in :mod:`.connection_params` and
:mod:`.target_params`, their types in :mod:`.types`.

Importing this module is cheap (standard library only): ArcGIS Pro imports it whenever it
loads the toolbox. The network code is imported only when a tool runs.
"""

from __future__ import annotations

from .connection_params import ONLINE_DEFAULT_KINDS, connection_params
from .target_params import target_params, token_outputs
from .types import DERIVED, Example, ParamSpec, ToolboxSpec, ToolSpec

__all__ = [
    "DERIVED",
    "GENERATE_TOKEN",
    "ONLINE_DEFAULT_KINDS",
    "RUN_WITH_CREDENTIALS",
    "TOOLBOX",
    "ParamSpec",
    "ToolSpec",
    "connection_params",
    "tool_spec",
]

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
        "Choose the Connection Type first: the tool then shows only the parameters that type "
        "needs, and flags each one that is still empty once you have changed something.",
        "In ModelBuilder, connect the Token output to the next tool, or use it inline as "
        "%Token%. Send the Token Referer output as the Referer header with the token.",
        "The Token output, like every output, is kept in geoprocessing history. To keep it out, "
        "give a Token File instead: the Token output is then left empty.",
        "The token file is JSON (token, expires, expires_iso, referer, url) that only you can "
        "read. Put it in a folder of your own, such as your project's home folder, not in a "
        "shared one. Scripts read it back with json.load; in a model, a Calculate Value step "
        'can return json.load(open(r"%Token File%"))["token"].',
        "A model that runs again gets a new token only if Generate Token runs again: make it a "
        "precondition of the tools that use the token rather than keeping an old value.",
        "Messages say who signed in where and until when (local time); the token itself is "
        "never shown. An API key given without an expiry is reported as having no expiry.",
        "A token cannot outlive its expiration. For work that runs longer, use Run with "
        "Credentials, which refreshes tokens as needed.",
    ),
    params=connection_params() + token_outputs(),
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
        "Choose the Connection Type and the Target first: the tool then shows only the "
        "parameters they need, and flags each one that is still empty once you have changed "
        "something.",
        "The outcome is written to the Output File as JSON, whole or not at all: status "
        "(succeeded, failed or cancelled), the result, token refreshes and any error. Read it "
        "back with json.load, or connect the Result File output to the next tool in a model.",
        "When the target fails, the file says so (status failed, with the error) and the tool "
        "fails too, so a model stops instead of using an old result.",
        "Python script: your function receives a context with ctx.session (a requests session "
        "that adds a valid token), ctx.token(), ctx.referer, ctx.args, ctx.request_json(), "
        "ctx.message(), ctx.progress(), ctx.sleep() and ctx.cancelled. What it returns (JSON) "
        "is the result.",
        "Geoprocessing service job: the job's messages and progress appear as the tool's own. A "
        "failed, cancelled or timed-out job fails the tool.",
        "Cancel stops the run at its next wait: a job is cancelled on the server too, the "
        "output file says status cancelled, and the tool fails with that message.",
        "The token never appears in messages, the output file or geoprocessing history.",
    ),
    params=connection_params() + target_params(),
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
