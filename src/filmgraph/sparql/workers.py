"""Query worker processes: the only way to really stop a runaway Oxigraph query.

pyoxigraph has no timeout and no cancellation, and a running query cannot be
interrupted inside its process. So client queries run in worker processes that
open the read-only on-disk store; at the time limit the worker is killed (its
CPU work stops at once) and a fresh one takes its place, while the other
workers go on serving. Workers come from a forkserver that has already
imported pyoxigraph, so a replacement starts in milliseconds and never inherits
the web server's threads.

Unless SERVICE endpoints are allow-listed, a worker takes the network away from
itself before its first query (:mod:`filmgraph.sparql.sandbox`): a query that the scan
misjudged and that tries to call out kills its worker, and the client is told
the query was refused.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import types
from dataclasses import dataclass
from multiprocessing.connection import Connection

from . import sandbox
from ..core.errors import FilmgraphError, QueryRefused, QueryTimeout, Unavailable
from .execute import Job, run_job
from .results import Rendered

_CTX: multiprocessing.context.BaseContext | None = None
_MAIN_LOCK = threading.Lock()


def _context(forked: bool = False) -> multiprocessing.context.BaseContext:
    """Where workers come from: a forkserver (clean, for the on-disk store), or a fork of this process, which
    shares the in-memory store with it page by page (copy-on-write: it is never written after loading)."""
    global _CTX
    if _CTX is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["pyoxigraph", "filmgraph.sparql.execute"])
        os.register_at_fork(after_in_child=_disown_workers)
        _CTX = ctx
    return multiprocessing.get_context("fork") if forked else _CTX


def _disown_workers() -> None:
    # A process forked from one with query workers inherits multiprocessing's list of children;
    # at its exit multiprocessing would SIGTERM them all: its parent's workers, mid-service.
    children = multiprocessing.process._children  # type: ignore[attr-defined]
    children.difference_update({p for p in children if p.name == "filmgraph-query"})


MIN_STACK = 64 * 2**20
READY_WITHIN = 60.0
"""Seconds a new worker may take to install its sandbox and open the store."""


def stack_for(max_query_length: int) -> int:
    """Stack for a worker's query thread: the engine recurses over a query's syntax tree, up to ~1 KiB per character."""
    return max(MIN_STACK, 1024 * max_query_length)


def _serve(conn: Connection, store_path: str, stack: int = MIN_STACK, confined: bool = True, memory: object | None = None) -> None:
    """Worker main: deny itself the network, then answer jobs on a thread whose stack no query within the length limit can overflow."""
    if memory is not None:
        # Forked from a web worker: its server's signal handlers (which write to a wakeup socket) and its files
        # are not the worker's. Stopped by SIGTERM like any process, as a forkserver's child is.
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        _close_inherited(keep=conn.fileno())
    if confined:
        try:
            sandbox.deny_network()
        except sandbox.SandboxUnavailable as exc:
            conn.send(("failed", str(exc)))
            return
    # A process's main thread gets whatever stack the system gives (often 8 MiB): too little
    # for a long chain of UNION or ||, which would kill the worker (a 500 for the client).
    threading.stack_size(stack)
    thread = threading.Thread(target=_loop, args=(conn, store_path, memory), name="filmgraph-query")
    thread.start()
    thread.join()


def _close_inherited(keep: int) -> None:
    """A worker forked from a web worker holds every file it had open: its listening socket, its clients'
    connections, pipes to other processes (whose readers would wait for an end that never comes). It needs
    none of them: only its own pipe and the standard streams stay."""
    os.closerange(3, keep)
    os.closerange(keep + 1, max(keep + 1, _max_fd()))


def _max_fd() -> int:
    try:
        return max(int(name) for name in os.listdir("/proc/self/fd")) + 1
    except (OSError, ValueError):
        return 1024


def _loop(conn: Connection, store_path: str, memory: object | None = None) -> None:
    """Open the store read-only (or take the in-memory one), answer jobs until the pipe closes."""
    import pyoxigraph as ox

    try:
        store = memory if memory is not None else ox.Store.read_only(store_path)
    except OSError as exc:
        conn.send(("failed", f"cannot open the store {store_path}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple = ("ok", run_job(store, job))
        except FilmgraphError as exc:
            reply = ("error", exc)
        except Exception as exc:  # a worker must answer every job; the web side maps this to 500
            reply = ("error", FilmgraphError(f"query worker failed: {type(exc).__name__}: {exc}"))
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection


class WorkerPool:
    """A fixed number of query workers over one on-disk store, with a time limit per job."""

    def __init__(self, store_path: str, size: int, timeout: float, stack: int = MIN_STACK, confined: bool = True, memory: object | None = None) -> None:
        self.store_path = store_path
        self.memory = memory
        """The store in memory, shared with workers forked from this process; None: each opens the on-disk store."""
        self.stack = stack
        self.confined = confined
        """Workers deny themselves the network (off only when SERVICE endpoints are allow-listed)."""
        self.size = max(1, size)
        self.timeout = timeout
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        self.killed = 0
        for _ in range(self.size):
            self._idle.put(self._start())

    def _start(self) -> _Worker:
        ctx = _context(forked=self.memory is not None)
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_serve, args=(child, self.store_path, self.stack, self.confined, self.memory), daemon=True, name="filmgraph-query")  # type: ignore[attr-defined]
        if self.memory is not None:
            gc.freeze()  # forked: the collector must not write to (and so copy) the pages it shares with this process
        with _MAIN_LOCK:
            # A worker needs nothing from __main__; without this, multiprocessing re-runs the host
            # program's main script in every worker (and fails when it is stdin or an embedded server).
            main = sys.modules["__main__"]
            sys.modules["__main__"] = types.ModuleType("__main__")
            try:
                process.start()
            finally:
                sys.modules["__main__"] = main
        child.close()
        # The worker says it is ready once its sandbox holds and the store is open; a worker that
        # cannot confine itself never serves (a query must not run with the network reachable).
        status, message = parent.recv() if parent.poll(READY_WITHIN) else ("failed", f"no answer within {READY_WITHIN:g} s")
        if status != "ready":
            process.kill()
            process.join(timeout=5)
            parent.close()
            raise Unavailable(f"a query worker could not start: {message}")
        return _Worker(process, parent)

    def _replace(self, dead: _Worker) -> None:
        dead.process.kill()
        dead.process.join(timeout=5)
        dead.conn.close()
        with self._lock:
            self.killed += 1
            if self._closed:
                return
        try:
            self._idle.put(self._start())
        except Unavailable as exc:
            print(f"filmgraph: {exc.message}; the pool goes on with one worker less", file=sys.stderr)

    def run(self, job: Job) -> Rendered:
        """Run a job on a free worker; raise QueryTimeout at the limit (the worker is killed)."""
        if self._closed:
            raise Unavailable("the query workers are shut down")
        deadline = time.monotonic() + self.timeout
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            raise QueryTimeout(
                f"no query worker became free within the query time limit ({self.timeout:g} s); the server is busy, try again",
                limit="query_timeout",
                seconds=self.timeout,
            ) from None
        try:
            worker.conn.send(job)
            answered = worker.conn.poll(max(0.0, deadline - time.monotonic()))
        except (EOFError, OSError) as exc:
            raise self._died(worker, exc) from None
        return self._reply(worker, answered)

    async def run_async(self, job: Job) -> Rendered:
        """:meth:`run` from an event loop: the loop waits for the worker's answer, no thread does."""
        if self._closed:
            raise Unavailable("the query workers are shut down")
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:  # every worker busy (a thread's query, one being replaced): wait as run does, on a thread
            return await asyncio.get_running_loop().run_in_executor(None, self.run, job)
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self.timeout
        try:
            worker.conn.send(job)
        except (EOFError, OSError) as exc:
            raise self._died(worker, exc) from None
        fd = worker.conn.fileno()
        answered: asyncio.Future[bool] = loop.create_future()
        loop.add_reader(fd, lambda: answered.done() or answered.set_result(True))
        limit = loop.call_later(max(0.0, deadline - time.monotonic()), lambda: answered.done() or answered.set_result(False))
        try:
            ok = await answered
        except BaseException:  # cancelled (the client went away) with the job running: a thread waits for its end
            threading.Thread(target=self._settle, args=(worker, deadline), daemon=True).start()
            raise
        finally:
            loop.remove_reader(fd)
            limit.cancel()
            # uvloop (Granian's loop) leaves a watched file non-blocking: a long answer would be read in part.
            os.set_blocking(fd, True)
        return self._reply(worker, ok)

    def _reply(self, worker: _Worker, answered: bool) -> Rendered:
        """The answer of a worker that was sent a job, or the error; a worker past the limit is replaced."""
        try:
            if not answered:
                threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
                raise QueryTimeout(
                    f"query stopped at the time limit of {self.timeout:g} s (setting query_timeout)",
                    limit="query_timeout",
                    seconds=self.timeout,
                )
            status, payload = worker.conn.recv()
        except (EOFError, OSError) as exc:
            raise self._died(worker, exc) from None
        self._idle.put(worker)
        if status == "error":
            raise payload
        return payload  # type: ignore[no-any-return]

    def _settle(self, worker: _Worker, deadline: float) -> None:
        """The end of a job nobody waits for any more: the worker goes back to the pool, or is replaced at the limit."""
        try:
            answered = worker.conn.poll(max(0.0, deadline - time.monotonic()))
        except (EOFError, OSError):
            answered = True  # _reply finds the worker dead
        try:
            self._reply(worker, answered)
        except Exception:  # noqa: BLE001 - its answer, or its error, goes to no one
            pass

    def _died(self, worker: _Worker, exc: BaseException) -> FilmgraphError:
        """The error for a worker that died on its job (replaced meanwhile): the sandbox's kill is a refusal."""
        worker.process.join(timeout=0.5)
        code = worker.process.exitcode
        threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
        if self.confined and code == -sandbox.KILLED_BY:
            return QueryRefused(
                "the query tried to open a network connection (SERVICE), which this endpoint refuses: "
                "its query workers have no network access",
                refused="network",
            )
        return FilmgraphError(f"query worker died: {exc!r} (exit code {code})")

    def pids(self) -> list[int]:
        """Process ids of the idle workers (for tests and health checks)."""
        return [w.process.pid for w in list(self._idle.queue) if w.process.pid is not None]

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            self._closed = True
        while True:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            w.conn.close()
            w.process.kill()
            w.process.join(timeout=5)
