"""Progress of a long command on standard error: its phases, with counts, rates and the time left.

On a terminal the phases are live bars (tqdm); anywhere else (a log, CI) a phase
that runs says where it is in one plain line every :data:`LINE_EVERY` seconds,
and every phase says in one line when it ends, so a log shows that nothing
hangs; with ``--quiet`` nothing is written. A phase whose work cannot be
counted from Python (a query the engine runs to its end) shows its elapsed
time. The command keeps the phases' figures (:attr:`Progress.done`) and, when
it is stopped, can say which phase it was in (:attr:`Progress.current`).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from tqdm import tqdm

LINE_EVERY = 5.0
"""Seconds between two plain lines about a running phase when standard error is not a terminal."""

REFRESH = 0.5
"""Seconds between two refreshes of a live bar whose count does not move (a phase inside the engine)."""


@dataclass(frozen=True)
class PhaseFigures:
    """What one finished phase did: its name, seconds, and how many of its unit it went through."""

    name: str
    seconds: float
    count: int | None
    unit: str


class Phase:
    """One running phase: advanced by the code doing the work, shown by its :class:`Progress`."""

    def __init__(self, progress: Progress, name: str, total: int | None, unit: str) -> None:
        self.progress = progress
        self.name = name
        self.total = total
        self.unit = unit
        self.n = 0
        self.note = ""
        self.started = time.monotonic()
        self._bar: tqdm | None = None  # type: ignore[type-arg]

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)

    def set(self, n: int, total: int | None = None, note: str | None = None) -> None:
        """Say how many units are done (and the total, and a short note, when they become known)."""
        if total is not None:
            self.total = total
        if note is not None:
            self.note = note
        if self._bar is not None:
            if total is not None:
                self._bar.total = total
            if note is not None:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(n - self.n)
        self.n = n

    @property
    def elapsed(self) -> float:
        """Seconds since the phase began."""
        return time.monotonic() - self.started

    def line(self) -> str:
        """The phase's state in one line: count, total, rate and the time left when they are known."""
        elapsed = self.elapsed
        parts = [f"{self.progress.command}: {self.name}"]
        if self.total:
            parts.append(f"{self.n:,} of {self.total:,} {self.unit} ({100 * self.n / self.total:.0f} %)")
        elif self.n:
            parts.append(f"{self.n:,} {self.unit}")
        if self.n and elapsed > 0:
            parts.append(f"{self.n / elapsed:,.0f} {self.unit}/s")
        parts.append(f"{elapsed:.0f} s")
        if self.total and self.n:
            parts.append(f"about {_duration(elapsed * (self.total - self.n) / self.n)} left")
        if self.note:
            parts.append(self.note)
        return ", ".join(parts)


class Progress:
    """The phases of one command, shown on ``stream`` (standard error by default)."""

    def __init__(self, command: str, *, quiet: bool = False, stream: TextIO | None = None, live: bool | None = None,
                 every: float = LINE_EVERY, brief: bool = False) -> None:
        """``brief``: a phase shorter than ``every`` seconds is not reported at all (a server's log)."""
        self.command = command
        self.brief = brief
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.live = (not quiet and _is_terminal(self.stream)) if live is None else live and not quiet
        self.every = every
        self.running: list[Phase] = []
        self.done: list[PhaseFigures] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._ticker: threading.Thread | None = None

    @classmethod
    def off(cls) -> Progress:
        """A progress that writes nothing but still keeps the phases' figures."""
        return cls("", quiet=True)

    @property
    def current(self) -> str:
        """The names of the running phases ('' when none runs)."""
        return " and ".join(p.name for p in self.running)

    @contextmanager
    def phase(self, name: str, total: int | None = None, unit: str = "") -> Iterator[Phase]:
        """Run one phase: shown while it runs, its figures kept when it ends (not when it fails)."""
        phase = self.start(name, total, unit)
        try:
            yield phase
        except BaseException:
            self.end(phase, failed=True)
            raise
        self.end(phase)

    def start(self, name: str, total: int | None = None, unit: str = "") -> Phase:
        """Begin a phase that another one may run beside (:meth:`end` it)."""
        phase = Phase(self, name, total, unit)
        if self.live:
            counted = "{desc}: {n_fmt}{unit} [{elapsed}, {rate_fmt}{postfix}]" if unit else "{desc} [{elapsed}{postfix}]"
            phase._bar = tqdm(total=total, desc=f"{self.command}: {name}", unit=f" {unit}" if unit else "", unit_scale=unit == "B",
                              file=self.stream, leave=True, dynamic_ncols=True, mininterval=REFRESH,
                              bar_format=None if total else counted)
        with self._lock:
            self.running.append(phase)
        self._start_ticker()
        return phase

    def end(self, phase: Phase, *, seconds: float | None = None, count: int | None = None, unit: str | None = None,
            failed: bool = False) -> None:
        """End a phase; keep its figures (``seconds``, ``count``: as measured where it ran) unless it failed."""
        with self._lock:
            if phase in self.running:
                self.running.remove(phase)
        if phase._bar is not None:
            if count is not None:
                phase._bar.unit = f" {unit}" if unit else phase._bar.unit
                phase._bar.n = count
            phase._bar.close()
        if failed:
            return
        figures = PhaseFigures(phase.name, phase.elapsed if seconds is None else seconds, count if count is not None else phase.n or None,
                               unit if unit is not None else phase.unit)
        self.done.append(figures)
        if not self.quiet and not self.live and not (self.brief and figures.seconds < self.every):
            counted = f"{figures.count:,} {figures.unit} " if figures.count else ""
            rate = f" ({figures.count / figures.seconds:,.0f} {figures.unit}/s)" if figures.count and figures.seconds > 0 else ""
            note = f"; {phase.note}" if phase.note else ""
            self._write(f"{self.command}: {phase.name}: done, {counted}in {figures.seconds:.1f} s{rate}{note}")

    def say(self, text: str) -> None:
        """One line about the command (not a phase), unless quiet."""
        if not self.quiet:
            if self.live:
                tqdm.write(f"{self.command}: {text}", file=self.stream)
            else:
                self._write(f"{self.command}: {text}")

    def seconds(self) -> dict[str, float]:
        """Seconds per finished phase, by name."""
        return {f.name: f.seconds for f in self.done}

    def close(self) -> None:
        """Stop the ticker."""
        self._wake.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        self._wake.clear()

    def _write(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: progress is never worth failing for
            pass

    def _start_ticker(self) -> None:
        if self.quiet or self._ticker is not None:
            return
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        every = REFRESH if self.live else self.every
        while not self._wake.wait(every):
            with self._lock:
                running = list(self.running)
            for phase in running:
                if phase._bar is not None:
                    phase._bar.refresh()
                elif phase.elapsed >= self.every:
                    self._write(phase.line())


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
