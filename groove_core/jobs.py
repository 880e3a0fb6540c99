"""Background jobs: long work run once per key in a worker process, with progress to poll.

A dashboard page must not block on minutes of work (a UMAP projection of 10,000
fingerprints), and Streamlit runs a page's script again on every click: so such work
belongs to the server process, not to one run of a page. :class:`BackgroundJobs` starts
at most one job per key (two sessions asking for the same fingerprint set share it), runs
it in a worker process and keeps the latest :class:`~groove_core.progress.Progress` the
job reported, for a page to poll (``st.fragment(run_every=...)``).

Why a process and not a thread: numba-compiled code (umap-learn, pynndescent) holds the
GIL for the whole of each compiled call, seconds at a time, which would freeze the
server's own threads and every other page. The worker process lives as long as its
:class:`BackgroundJobs`, so what it loads (umap-learn, numba's compiled functions, fitted
models kept for ``transform``) serves the jobs after the first.
"""

from __future__ import annotations

import atexit
import multiprocessing
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from groove_core.errors import GrooveError
from groove_core.progress import Progress

__all__ = ["BackgroundJobs", "Job", "JobFailedError"]


class JobFailedError(GrooveError):
    """A background job ended with an error (its message says which and why)."""


@dataclass
class Job:
    """One piece of background work.

    Attributes:
        key: what it computes (e.g. a projection key); one job per key.
        description: for people ("projecting 10,000 fingerprints").
        started_at: ``time.time()`` when it was submitted.
        progress: the latest :class:`Progress` it reported, or None before the first.
        finished_at: ``time.time()`` when it ended, or None while it runs.
    """

    key: str
    description: str
    future: Future = field(repr=False)
    started_at: float = field(default_factory=time.time)
    progress: Progress | None = None
    finished_at: float | None = None

    @property
    def done(self) -> bool:
        """True once the job has ended (with a result or an error)."""
        return self.future.done()

    @property
    def elapsed(self) -> float:
        """Seconds since it started (until it ended, once it has)."""
        return (self.finished_at or time.time()) - self.started_at

    def error(self) -> JobFailedError | None:
        """Why it failed, for people, or None (still running, or it succeeded)."""
        if not self.future.done():
            return None
        exc = self.future.exception()
        if exc is None:
            return None
        if isinstance(exc, BrokenProcessPool):
            return JobFailedError(f"{self.description} stopped: its worker process died")
        if isinstance(exc, GrooveError):
            return JobFailedError(f"{self.description} failed: {exc}")
        return JobFailedError(f"{self.description} failed: {type(exc).__name__}: {exc}")

    def result(self) -> Any:
        """What the job returned.

        Raises:
            JobFailedError: it failed.
            RuntimeError: it is still running (check :attr:`done` first).
        """
        if not self.future.done():
            raise RuntimeError(f"{self.description} is still running")
        failure = self.error()
        if failure is not None:
            raise failure
        return self.future.result()


_progress_queue = None  # the worker's end of the progress queue (set by _init_worker)


def _init_worker(queue) -> None:
    global _progress_queue
    _progress_queue = queue


@contextmanager
def _plain_main() -> Iterator[None]:
    """Hide ``__main__`` while a worker process starts.

    A spawned worker first runs the parent's ``__main__`` file again (multiprocessing's
    "safe importing of main module"), and Streamlit makes the page being run ``__main__``:
    the worker would run that page. An empty ``__main__`` for these few milliseconds keeps
    the worker to what it is sent."""
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


def _run(key: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """In the worker: run ``fn`` with a progress callback that reports to the server."""

    def report(progress: Progress) -> None:
        _progress_queue.put((key, progress))

    return fn(*args, progress=report, **kwargs)


class BackgroundJobs:
    """Jobs keyed by what they compute, run in worker processes (started on first use).

    Args:
        workers: jobs that run at once (each in its own process); more wait their turn.
        start_method: how the worker processes start (``spawn`` by default: it is safe
            in a threaded server such as Streamlit's, where ``fork`` is not).
    """

    def __init__(self, workers: int = 1, start_method: str = "spawn"):
        self.workers = workers
        self._context = multiprocessing.get_context(start_method)
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._queue = None
        self.started = 0  #: jobs started so far (a job shared by two callers counts once)
        # At exit, stop the worker rather than wait for its job: concurrent.futures joins
        # its workers in a hook of threading's shutdown, before atexit's handlers run; a
        # hook registered after it runs before it.
        getattr(threading, "_register_atexit", atexit.register)(self.shutdown)

    def _executor(self) -> ProcessPoolExecutor:
        """The worker pool, (re)made when missing or broken; call with the lock held."""
        if self._pool is None or getattr(self._pool, "_broken", False):
            queue = self._context.Queue()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._context,
                initializer=_init_worker,
                initargs=(queue,),
            )
            self._queue = queue
            threading.Thread(target=self._drain, args=(queue,), daemon=True).start()
        return self._pool

    def _drain(self, queue) -> None:
        """Keep each job's latest progress (a daemon thread per pool of workers)."""
        while True:
            try:
                item = queue.get()
            except (EOFError, OSError, TypeError, ValueError):  # the queue is closed
                return
            if item is None:
                return
            key, progress = item
            job = self._jobs.get(key)
            if job is not None and not job.done:
                job.progress = progress

    def submit(self, key: str, fn: Callable[..., Any], /, *args, description: str = "", **kwargs):
        """The job for ``key``: the one already running or finished, else a new one that
        runs ``fn(*args, progress=callback, **kwargs)`` in a worker process.

        ``fn`` and its arguments travel to the worker by pickle: ``fn`` must be a
        module-level function. Returns the :class:`Job`.
        """
        with self._lock:
            job = self._jobs.get(key)
            if job is not None:
                return job
            with _plain_main():  # submit starts a worker process when none is idle
                future = self._executor().submit(_run, key, fn, args, kwargs)
            job = Job(key, description or key, future)
            self._jobs[key] = job
            self.started += 1
        future.add_done_callback(lambda _f: setattr(job, "finished_at", time.time()))
        return job

    def get(self, key: str) -> Job | None:
        """The job for ``key`` (running or finished), or None."""
        with self._lock:
            return self._jobs.get(key)

    def running(self) -> list[Job]:
        """The jobs that have not ended yet, oldest first."""
        with self._lock:
            return [job for job in self._jobs.values() if not job.done]

    def forget(self, key: str) -> None:
        """Drop a finished job (to run it again, or once its result is kept elsewhere);
        a running job is left alone."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.done:
                del self._jobs[key]

    def shutdown(self) -> None:
        """Cancel what has not started and stop the worker processes (killed if they are
        busy); the next :meth:`submit` starts new ones."""
        with self._lock:
            pool, queue, self._pool, self._queue = self._pool, self._queue, None, None
            self._jobs.clear()
        if pool is None:
            return
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        if queue is not None:
            queue.put(None)
