"""An asynchronous geoprocessing task whose jobs run on the emulator's clock."""

from __future__ import annotations

import json
from email.utils import formatdate
from typing import Dict, List, Optional, Sequence

from . import envelopes as env
from .access import Gate
from .params import merged, segments_after
from .records import RequestRecord, Response, json_reply
from .services import SERVER_VERSION
from .state import Job, State

TASK = "Run"
"""The GP task's name."""
OUTPUT = "Output"
"""The task's one output parameter."""
SUBMITTED_SHARE = 0.02
"""The first 2 % of a job's duration it shows as esriJobSubmitted."""
TERMINAL = frozenset({"esriJobSucceeded", "esriJobFailed", "esriJobCancelled"})
"""Statuses a job never leaves."""
_IGNORED_PARAMS = frozenset({"f", "token"})


def _info(text: str) -> Dict[str, str]:
    return {"type": "esriJobMessageTypeInformative", "description": text}


def _fault(text: str) -> Dict[str, str]:
    return {"type": "esriJobMessageTypeError", "description": text}


def job_status(job: Job, now: float) -> str:
    """The job's status at clock time ``now``."""
    if job.cancelled_at is not None:
        return "esriJobCancelled"
    elapsed = now - job.submitted_at
    if job.duration <= 0 or elapsed >= job.duration:
        return "esriJobFailed" if job.fail else "esriJobSucceeded"
    if elapsed < job.duration * SUBMITTED_SHARE:
        return "esriJobSubmitted"
    return "esriJobExecuting"


def _percent(job: Job, now: float) -> int:
    if job.duration <= 0:
        return 100
    return max(0, min(100, int((now - job.submitted_at) * 100 / job.duration)))


def job_messages(job: Job, now: float, status: str) -> List[Dict[str, str]]:
    """The messages a poll shows: one informative line per tenth of the work done."""
    seen = min(now, job.cancelled_at) if job.cancelled_at is not None else now
    messages = [_info("Submitted.")]
    if status == "esriJobSubmitted":
        return messages
    messages.append(_info("Executing..."))
    messages += [_info(f"Processing {p}%") for p in range(10, _percent(job, seen) + 1, 10)]
    if status == "esriJobSucceeded":
        messages.append(_info(f"Succeeded at {formatdate(now, usegmt=True)}"))
    elif status == "esriJobFailed":
        messages.append(_fault("ERROR 999999: The job was asked to fail (fail=true)."))
        messages.append(_fault(f"Failed to execute ({TASK})."))
    elif status == "esriJobCancelled":
        messages.append(_info("Cancelled."))
    return messages


def echo(params: Dict[str, str]) -> str:
    """The Output value: the submitted GP parameters, as sorted JSON text."""
    return json.dumps(params, sort_keys=True)


class GpService:
    """``<root>/rest/services/LongJob/GPServer`` on one server origin."""

    def __init__(
        self, state: State, gate: Gate, origin: str, prefix: Sequence[str], duration: float
    ) -> None:
        self.state = state
        self.gate = gate
        self.origin = origin
        self.prefix = [*prefix, "rest", "services", "LongJob", "GPServer"]
        self.duration = duration

    def handle(self, req: RequestRecord) -> Optional[Response]:
        """The reply for a GP service path, or None when the path is not this service's."""
        rest = segments_after(req.path, self.prefix)
        if rest is None:
            return None
        lowered = [s.lower() for s in rest]
        verdict = self.gate.require(req)
        if isinstance(verdict, Response):
            return verdict
        if lowered[:1] == [TASK.lower()]:
            return self._task(req, rest[1:], lowered[1:])
        if lowered[:1] == ["jobs"] and len(rest) > 1:
            return self._job(rest[1], lowered[2:])
        return _service_json() if not rest else None

    def _task(self, req: RequestRecord, rest: List[str], lowered: List[str]) -> Optional[Response]:
        if not rest:
            return _task_json()
        if lowered == ["submitjob"]:
            return self._submit(req)
        if lowered == ["execute"]:
            return self._execute(req)
        if lowered[0] == "jobs" and len(rest) > 1:
            return self._job(rest[1], lowered[2:])
        return None

    def _job(self, job_id: str, sub: List[str]) -> Optional[Response]:
        job = self.state.job(self.origin, job_id)
        if job is None:
            return env.error(400, f"Job '{job_id}' does not exist or is inaccessible.")
        if not sub:
            return self._status(job)
        if sub == ["cancel"]:
            return self._cancel(job)
        if len(sub) == 2 and sub[0] == "results":
            return self._result(job, sub[1])
        return None

    def _submit(self, req: RequestRecord) -> Response:
        params = _gp_params(req)
        duration = _float(params.get("duration"), self.duration)
        fail = params.get("fail", "").lower() == "true"
        job = self.state.add_job(self.origin, duration, fail, params)
        return json_reply({"jobId": job.job_id, "jobStatus": "esriJobSubmitted"})

    def _execute(self, req: RequestRecord) -> Response:
        params = _gp_params(req)
        if params.get("fail", "").lower() == "true":
            return env.error(500, "Error executing tool.", [f"Failed to execute ({TASK})."])
        result = {"paramName": OUTPUT, "dataType": "GPString", "value": echo(params)}
        return json_reply({"results": [result], "messages": []})

    def _status(self, job: Job) -> Response:
        with self.state.lock:
            now = self.state.clock()
            status = job_status(job, now)
            body: Dict[str, object] = {"jobId": job.job_id, "jobStatus": status}
            body["messages"] = job_messages(job, now, status)
        done = status == "esriJobSucceeded"
        body["results"] = {OUTPUT: {"paramUrl": f"results/{OUTPUT}"}} if done else {}
        if status == "esriJobExecuting":
            body["progress"] = {"type": "default", "message": f"Processing {_percent(job, now)}%"}
        return json_reply(body)

    def _cancel(self, job: Job) -> Response:
        with self.state.lock:
            status = job_status(job, self.state.clock())
            if status not in TERMINAL:
                job.cancelled_at = self.state.clock()
        if status in TERMINAL:
            return env.error(400, "Unable to cancel the job.", [f"The job is {status}."])
        return json_reply({"jobId": job.job_id, "jobStatus": "esriJobCancelling"})

    def _result(self, job: Job, name: str) -> Response:
        status = job_status(job, self.state.clock())
        if status != "esriJobSucceeded" or name.lower() != OUTPUT.lower():
            return env.error(400, "Unable to get the job result.", [f"The job is {status}."])
        return json_reply({"paramName": OUTPUT, "dataType": "GPString", "value": echo(job.params)})


def _gp_params(req: RequestRecord) -> Dict[str, str]:
    return {k: v for k, v in merged(req).items() if k.lower() not in _IGNORED_PARAMS}


def _float(raw: Optional[str], default: float) -> float:
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def _service_json() -> Response:
    return json_reply(
        {
            "currentVersion": SERVER_VERSION,
            "serviceDescription": "A job that runs as long as it is told to.",
            "tasks": [TASK],
            "executionType": "esriExecutionTypeAsynchronous",
            "resultMapServerName": "",
            "maximumRecords": 1000,
            "capabilities": "Uploads",
        }
    )


def _parameter(
    name: str, data_type: str, default: object, label: str, direction: str = "Input"
) -> Dict[str, object]:
    optional = direction == "Input"
    return {
        "name": name,
        "dataType": data_type,
        "displayName": label,
        "description": label,
        "direction": f"esriGPParameterDirection{direction}",
        "defaultValue": default,
        "parameterType": f"esriGPParameterType{'Optional' if optional else 'Derived'}",
        "category": "",
    }


PARAMETERS = (
    _parameter("duration", "GPDouble", 30.0, "Duration (seconds)"),
    _parameter("fail", "GPBoolean", False, "Fail at the end"),
    _parameter("message", "GPString", "", "Message"),
    _parameter(OUTPUT, "GPString", "", "Output", "Output"),
)
"""The task's parameters, described as ArcGIS Server describes GP task parameters."""


def _task_json() -> Response:
    return json_reply(
        {
            "name": TASK,
            "displayName": "Run a long job",
            "description": "Runs for duration seconds, then echoes its inputs as Output.",
            "category": "",
            "helpUrl": "",
            "executionType": "esriExecutionTypeAsynchronous",
            "parameters": list(PARAMETERS),
        }
    )
