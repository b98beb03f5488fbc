"""Asynchronous geoprocessing service jobs: submit, poll with progress, cancel, results.

The job may run for hours; every poll goes through a JSON call that carries a fresh token
(normally :meth:`Connection.request_json`), so the job survives any number of token lifetimes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional

from ..errors import JobFailedError, JobTimeoutError, ResponseFormatError
from ..secrets import get_logger

log = get_logger(__name__)

TERMINAL = frozenset({"esriJobSucceeded", "esriJobFailed", "esriJobTimedOut", "esriJobCancelled"})
CANCEL_GRACE_POLLS = 5
"""Polls to wait for a cancelled job to say it has stopped before giving up on it."""

JsonCall = Callable[[str, str, Optional[Dict[str, Any]]], Dict[str, Any]]


@dataclass
class JobStatus:
    """One poll of a job: its status, the messages new since the last poll, its progress."""

    job_id: str
    status: str
    new_messages: List[str]
    progress: Optional[str]
    elapsed: float


@dataclass
class JobResult:
    """A finished job: its id, final status, result values by parameter name, all messages."""

    job_id: str
    status: str
    results: Dict[str, Any] = field(default_factory=dict)
    messages: List[str] = field(default_factory=list)


def gp_params(params: Mapping[str, Any]) -> Dict[str, Any]:
    """GP parameters as form values: strings stay, everything else is sent as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}


class GPJob:
    """Runs one job of the task at ``task_url`` to its end.

    ``clock`` measures elapsed time and the time limit: a monotonic timer (never the wall
    clock, which may jump); tests give a ManualClock and its ``advance`` as ``sleep``.
    """

    def __init__(
        self,
        call: JsonCall,
        task_url: str,
        *,
        poll_interval: float = 2.0,
        time_limit: Optional[float] = None,
        on_status: Optional[Callable[[JobStatus], None]] = None,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.call = call
        self.task_url = task_url.rstrip("/")
        self.poll_interval = poll_interval
        self.time_limit = time_limit
        self.on_status = on_status
        self.sleep = sleep
        self.clock = clock
        self.job_id = ""
        self.started = 0.0
        self.messages: List[str] = []

    def run(self, params: Mapping[str, Any]) -> JobResult:
        """Submit, poll until the job ends, and return its results; raise JobError otherwise."""
        start = self.started = self.clock()
        self.job_id = self._submit(params)
        while True:
            status = self._poll(start)
            if status in TERMINAL:
                return self._finish(status)
            if self.time_limit is not None and self.clock() - start >= self.time_limit:
                self._cancel()
            self.sleep(self.poll_interval)

    @property
    def job_url(self) -> str:
        """The job's status URL."""
        return f"{self.task_url}/jobs/{self.job_id}"

    def _submit(self, params: Mapping[str, Any]) -> str:
        reply = self.call("POST", f"{self.task_url}/submitJob", gp_params(params))
        job_id = reply.get("jobId")
        if not isinstance(job_id, str) or not job_id:
            raise ResponseFormatError("the GP service accepted the job but sent no jobId")
        log.info("submitted job %s to %s", job_id, self.task_url)
        return job_id

    def _poll(self, start: float) -> str:
        reply = self.call("GET", self.job_url, None)
        status = str(reply.get("jobStatus", ""))
        new = [_message_text(m) for m in _list(reply.get("messages"))][len(self.messages) :]
        self.messages.extend(new)
        progress = reply.get("progress")
        label = str(progress.get("message")) if isinstance(progress, Mapping) else None
        if self.on_status is not None:
            self.on_status(JobStatus(self.job_id, status, new, label, self.clock() - start))
        return status

    def _finish(self, status: str) -> JobResult:
        if status != "esriJobSucceeded":
            what = {"esriJobFailed": "failed", "esriJobTimedOut": "timed out on the server"}.get(
                status, "was cancelled"
            )
            detail = "; ".join(self.messages[-5:]) or "no messages"
            raise JobFailedError(f"job {self.job_id} {what}: {detail}", self.job_id, self.messages)
        reply = self.call("GET", self.job_url, None)
        results = {}
        for name, ref in _mapping(reply.get("results")).items():
            url = ref.get("paramUrl") if isinstance(ref, Mapping) else None
            if url:
                value = self.call("GET", f"{self.job_url}/{url}", None)
                results[name] = value.get("value")
        return JobResult(self.job_id, status, results, list(self.messages))

    def stop(self, pause: Optional[Callable[[float], object]] = None) -> str:
        """Ask the server to cancel the job and wait a few polls for it to stop; its status.

        ``pause`` waits between polls (default: this job's sleep).
        """
        wait = pause or self.sleep
        self.call("POST", f"{self.job_url}/cancel", None)
        status = ""
        for _ in range(CANCEL_GRACE_POLLS):
            status = self._poll(self.started)
            if status in TERMINAL:
                break
            wait(self.poll_interval)
        return status

    def _cancel(self) -> None:
        log.warning("job %s passed its time limit; cancelling it", self.job_id)
        self.stop()
        raise JobTimeoutError(
            f"job {self.job_id} ran past the time limit of {self.time_limit:g} s and was "
            "cancelled; raise the time limit or check the service",
            self.job_id,
            self.messages,
        )


def _list(value: Any) -> List[Any]:
    """A reply's list, or [] when the server sent something else (never a TypeError)."""
    return list(value) if isinstance(value, list) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    """A reply's object, or {} when the server sent something else."""
    return value if isinstance(value, Mapping) else {}


def _message_text(message: Any) -> str:
    if isinstance(message, Mapping):
        kind = str(message.get("type", "")).replace("esriJobMessageType", "")
        text = str(message.get("description", ""))
        return f"{kind}: {text}" if kind else text
    return str(message)
