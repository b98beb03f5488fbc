"""The parameters only one tool has: Generate Token's outputs, Run with Credentials' targets.

Standard library only: ArcGIS Pro builds the dialog from these whenever it opens a tool.
"""

from __future__ import annotations

from typing import Mapping, Tuple

from ..run.targets import TARGET_LABELS
from .types import DERIVED, OUTPUT, REQUIRED, ParamSpec

__all__ = ["target_params", "token_outputs"]


def _target_labels() -> Mapping[str, str]:
    return TARGET_LABELS


def _methods() -> Mapping[str, str]:
    return {"GET": "GET", "POST": "POST"}


def token_outputs() -> Tuple[ParamSpec, ...]:
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


def target_params() -> Tuple[ParamSpec, ...]:
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
            "The .py file to run. Required for the Python script target. See the script "
            "template in the "
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
            "The REST endpoint to call. Required for the REST request target, e.g. "
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
            "The task of an asynchronous geoprocessing service. Required for the Geoprocessing "
            "service job target, e.g. "
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
            "The JSON file the outcome is written to: status (succeeded, failed or cancelled), "
            "target, "
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
