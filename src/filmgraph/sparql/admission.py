"""Fair shares of query time: a bounded, fair queue in front of the query workers, and a budget per client.

Every client query (never the site's own named queries, never an answer from
the result cache) passes through :class:`Admission` before it reaches a query
worker:

- **Budget.** Each client has ``query_budget`` seconds of query time per
  ``query_budget_window`` seconds (as the Wikidata Query Service gives 60 s per
  60 s): a token bucket that refills at ``budget / window`` seconds per second.
  What a query really took is charged when it ends (a runaway stopped at the
  time limit costs the whole limit). A client whose bucket is empty gets 429
  with Retry-After: the seconds until its bucket holds time again.
- **Share.** A client runs at most ``max(1, slots - 1)`` queries at once, so
  one client never holds every worker; its other queries wait.
- **Queue.** At most ``query_queue`` queries wait; waiting clients are served
  round-robin (one query of each in turn, not first come first served). When the
  queue is full, the client with the most queries waiting loses its newest one
  to a client with fewer, else the newcomer gets 503 with Retry-After at once.
  A query that waits longer than the time limit gets 503 too. A waiting query
  holds a request thread (or, from the lean /sparql path, only a place in the event
  loop: :meth:`Admission.enter`), so with ``query_workers + query_queue`` below the
  web worker's threads a thread is always left for another client (and for pages).

A client is who :func:`filmgraph.core.clients.client_key` says sent the request:
its address, or behind a proxy listed in ``trusted_proxies`` the address the
proxy saw.

All of it is per web process: with several web workers a client has a budget
and a share in each.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from ..core.clients import Network, client_key, parse_networks
from ..core.errors import QueryTimeout, TooManyRequests, Unavailable

if TYPE_CHECKING:
    from ..core.settings import Settings

T = TypeVar("T")

MAX_CLIENTS = 10_000
"""Clients remembered at most (a few hundred bytes each); those who owe no time are forgotten first (they carry
nothing), then those who owe least."""

@dataclass
class _Waiter:
    event: threading.Event = field(default_factory=threading.Event)
    error: Exception | None = None
    wake: Callable[[], object] | None = None
    """Called (inside the lock) when the waiter's turn comes or it is refused: wakes an event loop's waiter."""

    def set(self) -> None:
        self.event.set()
        if self.wake is not None:
            self.wake()


@dataclass
class _Client:
    owed: float = 0.0
    """Seconds of query time charged and not yet refilled, as of ``at``."""
    at: float = 0.0
    running: int = 0
    waiting: deque[_Waiter] = field(default_factory=deque)


class Admission:
    """The fair queue and the budgets of one web process."""

    def __init__(self, slots: int, queue: int, budget: float, window: float, wait: float, clock: Callable[[], float] = time.monotonic, trusted: Sequence[Network] = (), max_clients: int = MAX_CLIENTS) -> None:
        self.slots = max(1, slots)
        self.share = max(1, self.slots - 1)
        """Queries one client may run at once."""
        self.queue = queue
        self.budget = budget
        self.window = window
        self.wait = wait
        """Seconds a query may wait for a worker before it is told to come back."""
        self.trusted = tuple(trusted)
        self.max_clients = max_clients
        self.clock = clock
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._clients: dict[str, _Client] = {}
        self._turns: deque[str] = deque()  # clients with queries waiting, in round-robin order
        self.running = 0
        self.waiting = 0
        self.refused = {"budget": 0, "queue": 0, "waited": 0}
        self._ended = 0

    def client(self, remote_addr: str | None, forwarded_for: Sequence[str] = (), forwarded: Sequence[str] = ()) -> str:
        """The client a request counts against (see :func:`client_key`)."""
        return client_key(remote_addr, forwarded_for, forwarded, self.trusted)

    def run(self, client: str, work: Callable[[], T]) -> T:
        """Run ``work`` when the client's turn comes; charge the client the time it took."""
        waiter = self._enter(client)
        if waiter is not None:
            self._await(client, waiter)
        with self.charged(client):
            return work()

    async def enter(self, client: str) -> None:
        """:meth:`run`'s wait for the client's turn, in an event loop (no thread waits); then :meth:`charged` must be
        around the work. Raises what :meth:`run` raises before the work: 429 past the budget, 503 when the queue is
        full or the turn does not come within the time limit."""
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(lambda: woken.done() or woken.set_result(None))

        waiter = self._enter(client, wake)
        if waiter is None:
            return
        try:
            await asyncio.wait_for(woken, self.wait)
        except asyncio.TimeoutError:
            self._gave_up(client, waiter)
        except BaseException:  # cancelled: a place in the queue, or a slot already given, is handed back
            with self._lock:
                c = self._clients.get(client)
                if not waiter.event.is_set() and c is not None and waiter in c.waiting:
                    self._unqueue(client, c, waiter)
                    waiter = None  # type: ignore[assignment]
            if waiter is not None and waiter.error is None:
                self._leave(client, 0.0)
            raise
        if waiter.error is not None:
            raise waiter.error

    @contextlib.contextmanager
    def charged(self, client: str) -> Iterator[None]:
        """Around the work of an admitted query: free its slot at the end and charge the client the time it took."""
        started = self.clock()
        cost = 0.0
        try:
            yield
        except QueryTimeout as exc:
            limit = exc.context.get("seconds")
            cost = float(limit) if isinstance(limit, int | float) else 0.0  # a stopped runaway costs its whole limit
            raise
        finally:
            self._leave(client, max(cost, self.clock() - started))

    def clients(self) -> int:
        """Clients remembered now."""
        with self._lock:
            return len(self._clients)

    def owed(self, client: str) -> float:
        """Seconds of query time the client has used and not yet got back."""
        with self._lock:
            found = self._clients.get(client)
            return 0.0 if found is None else self._settle(found, self.clock())

    # -- inside the lock ------------------------------------------------

    def _settle(self, c: _Client, now: float) -> float:
        if self.budget > 0 and c.owed > 0:
            c.owed = max(0.0, c.owed - (now - c.at) * self.budget / self.window)
        c.at = now
        return c.owed

    def _over_budget(self, c: _Client, now: float) -> TooManyRequests | None:
        if self.budget <= 0 or self._settle(c, now) <= self.budget + 1e-6:
            return None
        self.refused["budget"] += 1
        back = (c.owed - self.budget) * self.window / self.budget
        seconds = max(1, math.ceil(back - 1e-6))
        return TooManyRequests(
            f"this client has used its query time: {self.budget:g} s per {self.window:g} s (settings query_budget and "
            f"query_budget_window); try again in {seconds} s",
            limit="query_budget",
            retry_after=seconds,
        )

    def _enter(self, key: str, wake: Callable[[], object] | None = None) -> _Waiter | None:
        with self._lock:
            if self._pid != os.getpid():  # a forked web worker starts with nothing of its parent's
                self._reset()
            now = self.clock()
            c = self._clients.get(key)
            if c is None:
                if len(self._clients) >= self.max_clients:
                    self._forget(now)
                c = self._clients[key] = _Client(at=now)
            refused = self._over_budget(c, now)
            if refused is not None:
                raise refused
            if self.running < self.slots and c.running < self.share:
                c.running += 1
                self.running += 1
                return None
            if self.waiting >= self.queue and not self._make_room(c):
                self.refused["queue"] += 1
                raise self._full()
            waiter = _Waiter(wake=wake)
            if not c.waiting:
                self._turns.append(key)
            c.waiting.append(waiter)
            self.waiting += 1
            return waiter

    def _full(self) -> Unavailable:
        seconds = max(1, math.ceil(self.wait))
        return Unavailable(
            f"the server is busy: {self.queue} queries are waiting for a query worker (setting query_queue); try again in {seconds} s",
            limit="query_queue",
            retry_after=seconds,
        )

    def _make_room(self, newcomer: _Client) -> bool:
        """Longest queue drop: the client with the most queries waiting gives up its newest to one with fewer."""
        if not self._turns:
            return False
        longest = max(self._turns, key=lambda k: len(self._clients[k].waiting))
        c = self._clients[longest]
        if len(c.waiting) <= len(newcomer.waiting) + 1:
            return False
        dropped = c.waiting.pop()
        self.waiting -= 1
        if not c.waiting:
            self._turns.remove(longest)
        self.refused["queue"] += 1
        dropped.error = self._full()
        dropped.set()
        return True

    def _dispatch(self, now: float) -> None:
        """Give free slots to waiting clients, one query of each in turn."""
        passes = len(self._turns)
        while self.running < self.slots and self._turns and passes > 0:
            key = self._turns.popleft()
            c = self._clients[key]
            if c.running >= self.share:
                self._turns.append(key)
                passes -= 1
                continue
            waiter = c.waiting.popleft()
            self.waiting -= 1
            if c.waiting:
                self._turns.append(key)
            passes = len(self._turns)
            refused = self._over_budget(c, now)
            if refused is not None:
                waiter.error = refused
            else:
                c.running += 1
                self.running += 1
            waiter.set()

    def _forget(self, now: float) -> None:
        idle = [(self._settle(c, now), k) for k, c in self._clients.items() if c.running == 0 and not c.waiting]
        for owed, k in idle:
            if owed <= 0:
                del self._clients[k]
        if len(self._clients) >= self.max_clients:  # every client owes time: forget those that owe least
            for _, k in sorted((o, k) for o, k in idle if o > 0)[: len(self._clients) - self.max_clients // 2]:
                del self._clients[k]

    # -- outside the lock -----------------------------------------------

    def _await(self, key: str, waiter: _Waiter) -> None:
        if not waiter.event.wait(self.wait):
            self._gave_up(key, waiter)
        if waiter.error is not None:
            raise waiter.error

    def _gave_up(self, key: str, waiter: _Waiter) -> None:
        """A waiter whose turn did not come within the time limit leaves the queue and is told to come back (unless
        its turn came meanwhile)."""
        with self._lock:
            c = self._clients.get(key)
            if not waiter.event.is_set() and c is not None and waiter in c.waiting:
                self._unqueue(key, c, waiter)
                self.refused["waited"] += 1
                seconds = max(1, math.ceil(self.wait))
                raise QueryTimeout(
                    f"no query worker became free within the query time limit ({self.wait:g} s); the server is busy, try again in {seconds} s",
                    limit="query_timeout",
                    retry_after=seconds,
                )

    def _unqueue(self, key: str, c: _Client, waiter: _Waiter) -> None:
        c.waiting.remove(waiter)
        self.waiting -= 1
        if not c.waiting:
            self._turns.remove(key)

    def _leave(self, key: str, cost: float) -> None:
        with self._lock:
            now = self.clock()
            c = self._clients.get(key)
            if c is None:  # forgotten while running (cannot happen: a running client is never forgotten)
                c = self._clients[key] = _Client(at=now)
            else:
                c.running -= 1
                self.running -= 1
            self._settle(c, now)
            c.owed += cost
            self._dispatch(now)
            self._ended += 1
            if self._ended % 1024 == 0:
                self._forget(now)


def slots_for(s: Settings) -> int:
    """Client queries one web worker runs at once: one per query worker; without them (a remote store, or
    ``query_workers`` 0) queries run on the request threads, all but one of which they may take."""
    if s.query_workers > 0 and not s.store_url:
        return s.query_workers
    return max(1, s.threads - 1)


def from_settings(s: Settings) -> Admission:
    """The admission of a query service, from its settings."""
    return Admission(
        slots=slots_for(s),
        queue=s.query_queue,
        budget=s.query_budget,
        window=s.query_budget_window,
        wait=s.query_timeout,
        trusted=parse_networks(s.trusted_proxies),
    )
