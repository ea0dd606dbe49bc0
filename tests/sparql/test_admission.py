"""Fair shares of query time, without sockets: budgets, shares, the round-robin queue, who a client is.

Each test drives :class:`~filmgraph.sparql.admission.Admission` with work that blocks
on an event, so what runs when is decided by the test, not by timing; every
wait is bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from filmgraph.sparql.admission import Admission, slots_for
from filmgraph.core.errors import QueryTimeout, TooManyRequests, Unavailable

WAIT = 10.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Held:
    """A query that runs until released, recording when it started; its outcome (value or error) is kept."""

    def __init__(self, admission: Admission, client: str, name: str, started: list[str], cost: float = 0.0, clock: Clock | None = None) -> None:
        self.name = name
        self.release = threading.Event()
        self.running = threading.Event()
        self.outcome: object = None
        self._cost, self._clock, self._started = cost, clock, started

        def work() -> str:
            self._started.append(name)
            self.running.set()
            assert self.release.wait(WAIT)
            if self._clock is not None:
                self._clock.now += self._cost
            return name

        def run() -> None:
            try:
                self.outcome = admission.run(client, work)
            except Exception as exc:  # the test looks at it
                self.outcome = exc
            self.running.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def finish(self) -> object:
        self.release.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive()
        return self.outcome


def _until(test: Callable[[], bool]) -> None:
    done = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if test():
            return
        done.wait(0.01)
    raise AssertionError("condition not reached")


def test_a_client_past_its_budget_gets_429_with_the_seconds_until_its_time_comes_back() -> None:
    clock = Clock()
    admission = Admission(slots=2, queue=4, budget=10.0, window=60.0, wait=WAIT, clock=clock)
    for _ in range(2):  # 6 s, then 6 s more: 12 s of a 10 s budget
        assert admission.run("a", lambda: clock.__setattr__("now", clock.now + 6.0)) is None
    with pytest.raises(TooManyRequests) as refused:
        admission.run("a", lambda: "not run")
    # 12 s charged, 1 s of it back while the second ran (10 s per 60 s): 11 s owed, 1 s over: 6 s to get it back.
    assert refused.value.status == 429
    assert refused.value.context["retry_after"] == 6
    assert "query_budget" in refused.value.message
    assert admission.run("b", lambda: "other clients are not charged") == "other clients are not charged"
    clock.now += 5.0
    with pytest.raises(TooManyRequests):
        admission.run("a", lambda: "not yet")
    clock.now += 1.0
    assert admission.run("a", lambda: "back") == "back"


def test_a_stopped_runaway_costs_its_whole_limit() -> None:
    clock = Clock()
    admission = Admission(slots=2, queue=4, budget=30.0, window=60.0, wait=WAIT, clock=clock)

    def runaway() -> None:
        raise QueryTimeout("stopped", limit="query_timeout", seconds=10.0)

    with pytest.raises(QueryTimeout):
        admission.run("a", runaway)
    assert admission.owed("a") == pytest.approx(10.0)


def test_budgets_off_never_refuse() -> None:
    clock = Clock()
    admission = Admission(slots=1, queue=0, budget=0.0, window=60.0, wait=WAIT, clock=clock)
    for _ in range(5):
        admission.run("a", lambda: clock.__setattr__("now", clock.now + 1000.0))


def test_one_client_never_holds_every_worker() -> None:
    admission = Admission(slots=2, queue=8, budget=0, window=60.0, wait=WAIT)
    started: list[str] = []
    a1 = Held(admission, "a", "a1", started)
    assert a1.running.wait(WAIT)
    a2 = Held(admission, "a", "a2", started)  # waits: a's share of 2 workers is 1
    _until(lambda: admission.waiting == 1)
    b1 = Held(admission, "b", "b1", started)
    assert b1.running.wait(WAIT)  # the second worker is b's at once
    assert started == ["a1", "b1"]
    assert b1.finish() == "b1"
    assert not a2.running.is_set()  # still a's turn to wait: a1 runs
    assert a1.finish() == "a1"
    assert a2.finish() == "a2"


def test_waiting_clients_are_served_in_turn_not_first_come_first_served() -> None:
    admission = Admission(slots=1, queue=8, budget=0, window=60.0, wait=WAIT)
    started: list[str] = []
    first = Held(admission, "a", "a0", started)
    assert first.running.wait(WAIT)
    held = []
    for name, client in (("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c")):
        held.append(Held(admission, client, name, started))
        _until(lambda n=len(held): admission.waiting == n)
    first.finish()
    by_name = {h.name: h for h in held}
    for k in range(2, len(held) + 2):  # one worker: each finishes before the next starts
        _until(lambda k=k: len(started) == k)
        by_name[started[-1]].finish()
    assert started == ["a0", "a1", "b1", "c1", "a2", "a3"]


def test_a_full_queue_is_503_at_once_with_retry_after() -> None:
    admission = Admission(slots=1, queue=1, budget=0, window=60.0, wait=WAIT)
    started: list[str] = []
    running = Held(admission, "a", "a0", started)
    assert running.running.wait(WAIT)
    waiting = Held(admission, "b", "b1", started)
    _until(lambda: admission.waiting == 1)
    with pytest.raises(Unavailable) as full:
        admission.run("c", lambda: "not run")
    assert full.value.status == 503 and full.value.context["retry_after"] == 10
    assert "query_queue" in full.value.message
    running.finish()
    assert waiting.finish() == "b1"


def test_a_full_queue_takes_its_place_from_the_client_with_most_waiting() -> None:
    admission = Admission(slots=1, queue=4, budget=0, window=60.0, wait=WAIT)
    started: list[str] = []
    running = Held(admission, "a", "a0", started)
    assert running.running.wait(WAIT)
    held: dict[str, Held] = {}
    for name in ("a1", "a2", "c1", "d1"):
        held[name] = Held(admission, name[0], name, started)
        _until(lambda n=len(held): admission.waiting == n)
    held["b1"] = Held(admission, "b", "b1", started)  # the queue is full, a has most waiting: a's newest gives way
    _until(lambda: isinstance(held["a2"].outcome, Unavailable))
    assert held["a2"].outcome.status == 503  # type: ignore[attr-defined]
    running.finish()
    for k in range(2, 6):
        _until(lambda k=k: len(started) == k)
        held[started[-1]].finish()
    assert started == ["a0", "a1", "c1", "d1", "b1"]


def test_a_query_that_waits_past_the_time_limit_is_503() -> None:
    admission = Admission(slots=1, queue=4, budget=0, window=60.0, wait=0.2)
    started: list[str] = []
    running = Held(admission, "a", "a0", started)
    assert running.running.wait(WAIT)
    with pytest.raises(QueryTimeout) as waited:
        admission.run("b", lambda: "not run")
    assert waited.value.status == 503 and waited.value.context["retry_after"] == 1
    assert admission.waiting == 0
    running.finish()
    assert admission.run("b", lambda: "now") == "now"


def test_queries_without_query_workers_share_the_request_threads_but_one() -> None:
    from filmgraph.core.settings import Settings

    assert slots_for(Settings(query_workers=3)) == 3
    assert slots_for(Settings(query_workers=2, store_url="http://127.0.0.1:9/sparql", threads=8)) == 7
    assert slots_for(Settings(query_workers=0, allow_no_time_limit=True, threads=1)) == 1


def test_the_clients_remembered_are_bounded_however_many_addresses_send() -> None:
    clock = Clock()
    admission = Admission(slots=2, queue=4, budget=60.0, window=60.0, wait=WAIT, clock=clock, max_clients=100)
    for n in range(1000):  # each owes what its query took
        admission.run(f"client {n}", lambda: clock.__setattr__("now", clock.now + 0.001))
        assert admission.clients() <= 100
    clock.now += 120  # all paid back: forgotten as soon as room is needed
    for n in range(1000, 1200):
        admission.run(f"client {n}", lambda: None)
        assert admission.clients() <= 100


def test_an_event_loop_waits_its_turn_as_a_thread_does_and_is_charged_the_same() -> None:
    """:meth:`Admission.enter` (the lean /sparql path): at once when a slot is free, else in the round-robin queue
    behind a thread's query until that one ends; charged what its work took; over its budget refused as run is."""
    import asyncio

    clock = Clock()
    admission = Admission(slots=1, queue=4, budget=5.0, window=60.0, wait=WAIT, clock=clock)
    started: list[str] = []
    held = Held(admission, "a", "thread", started)
    assert held.running.wait(WAIT)

    async def from_the_loop() -> str:
        await admission.enter("b")
        with admission.charged("b"):
            started.append("loop")
            clock.now += 6.0
        return "loop"

    async def scenario() -> str:
        task = asyncio.ensure_future(from_the_loop())
        await asyncio.sleep(0.05)
        assert not task.done() and admission.waiting == 1  # the slot is the thread's
        await asyncio.get_running_loop().run_in_executor(None, held.finish)
        return await asyncio.wait_for(task, WAIT)

    assert asyncio.run(scenario()) == "loop" and started == ["thread", "loop"]
    assert admission.owed("b") == pytest.approx(6.0) and admission.running == 0
    with pytest.raises(TooManyRequests):
        asyncio.run(admission.enter("b"))


def test_an_event_loop_waiter_that_is_cancelled_gives_its_place_back() -> None:
    import asyncio

    admission = Admission(slots=1, queue=4, budget=0.0, window=60.0, wait=WAIT)
    started: list[str] = []
    held = Held(admission, "a", "thread", started)
    assert held.running.wait(WAIT)

    async def scenario() -> None:
        task = asyncio.ensure_future(admission.enter("b"))
        await asyncio.sleep(0.05)
        assert admission.waiting == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert admission.waiting == 0
    held.finish()
    held.thread.join(WAIT)
    assert admission.running == 0
