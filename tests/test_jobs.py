"""Background jobs (groove_core.jobs): one job per key in a worker process, its progress
visible while it runs, its result or its error (as a message) once it ends."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from groove_core.errors import ValidationError
from groove_core.jobs import BackgroundJobs, JobFailedError
from groove_core.progress import Progress


def wait_for_go(go: str, *, progress) -> int:
    """Report where it is, then wait until the file ``go`` exists; returns the worker pid."""
    progress(Progress("waiting", 1, 2, "for the test"))
    while not Path(go).exists():
        time.sleep(0.05)
    return os.getpid()


def refuse(progress) -> None:
    raise ValidationError("that set cannot be projected")


def crash(progress) -> None:
    raise ZeroDivisionError("division by zero")


def until(check, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def jobs():
    runner = BackgroundJobs()
    yield runner
    runner.shutdown()


def test_one_job_per_key_progress_while_it_runs_then_its_result(jobs, tmp_path):
    go = tmp_path / "go"
    job = jobs.submit("set-a", wait_for_go, str(go), description="waiting for the test")
    assert jobs.submit("set-a", wait_for_go, str(go)) is job  # a second caller shares it
    assert jobs.get("set-a") is job and jobs.started == 1
    until(lambda: job.progress is not None)
    assert not job.done and job.error() is None
    assert job.progress == Progress("waiting", 1, 2, "for the test")
    with pytest.raises(RuntimeError, match="still running"):
        job.result()
    go.touch()
    until(lambda: job.done)
    assert job.result() != os.getpid()  # it ran in another process
    assert job.finished_at is not None and job.elapsed >= 0
    jobs.forget("set-a")
    assert jobs.get("set-a") is None


def test_errors_reach_the_caller_as_messages(jobs):
    refused = jobs.submit("bad", refuse, description="projecting 3 fingerprints")
    crashed = jobs.submit("worse", crash, description="projecting 4 fingerprints")
    until(lambda: refused.done and crashed.done)
    assert str(refused.error()) == "projecting 3 fingerprints failed: that set cannot be projected"
    assert "ZeroDivisionError: division by zero" in str(crashed.error())
    with pytest.raises(JobFailedError):
        crashed.result()
    assert jobs.submit("bad", refuse) is refused  # a failed job is not retried by itself
    jobs.forget("bad")
    assert jobs.submit("bad", refuse) is not refused


def test_shutdown_stops_a_running_job_and_a_new_worker_serves_the_next(tmp_path):
    runner = BackgroundJobs()
    try:
        stuck = runner.submit("stuck", wait_for_go, str(tmp_path / "never"))
        until(lambda: stuck.progress is not None)
        runner.shutdown()
        assert stuck.done and "stopped" in str(stuck.error())
        go = tmp_path / "go"
        go.touch()
        assert runner.get("stuck") is None
        fresh = runner.submit("stuck", wait_for_go, str(go))
        until(lambda: fresh.done)
        assert fresh.error() is None
    finally:
        runner.shutdown()
