"""The GP service job target: a job followed to its end, its messages shown as the tool's.

A job the user cancels (ArcGIS Pro's Cancel button) is cancelled on the server too, so it does
not run on unseen; the run then fails with RunCancelled.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Optional

from .gpjob import GPJob, JobStatus
from .pacing import Pace, RunCancelled
from .targets import JobTarget

if TYPE_CHECKING:
    from ..connection import Connection
    from .reporting import Reporter

__all__ = ["percent_in", "run_job"]

CANCEL_POLL = 2.0
"""Longest wait between two polls of a job the user cancelled, in seconds."""


def run_job(conn: Connection, target: JobTarget, reporter: Reporter, pace: Pace) -> Any:
    """Submit the job, report its messages and progress, and return its results.

    Raises JobError when the job fails, times out or passes its time limit, and RunCancelled
    (after cancelling the job on the server) when the user cancels the run.
    """
    job = GPJob(
        conn.request_json,
        target.task_url,
        poll_interval=target.poll_interval,
        time_limit=target.time_limit,
        on_status=_job_reporter(reporter),
        sleep=pace.wait,
        clock=pace.timer,
    )
    reporter.progress(f"Submitting a job to {target.task_url}")
    try:
        result = job.run(target.params)
    except RunCancelled:
        raise _cancel(job, pace, reporter) from None
    reporter.info(f"Job {result.job_id} succeeded.")
    return {
        "job_id": result.job_id,
        "status": result.status,
        "results": result.results,
        "messages": result.messages,
    }


def _cancel(job: GPJob, pace: Pace, reporter: Reporter) -> RunCancelled:
    """Cancel the job on the server after the user cancelled the run; the error to raise."""
    if not job.job_id:
        return RunCancelled("cancelled by the user before the job was submitted")
    reporter.warning(f"Cancelled by the user: cancelling job {job.job_id} on the server.")
    calm = pace.uncancellable()
    try:
        status = job.stop(lambda seconds: calm.wait(min(seconds, CANCEL_POLL)))
    except Exception as exc:  # noqa: BLE001 - the run is cancelled whatever the server says
        return RunCancelled(
            f"cancelled by the user; cancelling job {job.job_id} on the server failed "
            f"({exc}): check it in the service's jobs"
        )
    state = status.replace("esriJob", "").lower() or "unknown"
    return RunCancelled(
        f"cancelled by the user; job {job.job_id} was cancelled on the server (status {state})"
    )


def _job_reporter(reporter: Reporter) -> Callable[[JobStatus], None]:
    def on_status(status: JobStatus) -> None:
        """Show the job's new messages and its state as the progressor label."""
        for text in status.new_messages:
            if text.lower().startswith(("error", "warning")):
                reporter.warning(f"Job {status.job_id}: {text}")
            else:
                reporter.info(f"Job {status.job_id}: {text}")
        state = status.status.replace("esriJob", "")
        label = f"Job {status.job_id}: {state} ({status.elapsed:.0f} s)"
        if status.progress:
            reporter.progress(f"{label}: {status.progress}", percent_in(status.progress))
        else:
            reporter.progress(label)

    return on_status


_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")


def percent_in(text: str) -> Optional[float]:
    """The percentage a progress message states ("Processing 40%"), for the progressor."""
    match = _PERCENT.search(text)
    if match is None:
        return None
    value = float(match.group(1))
    return value if 0 <= value <= 100 else None
