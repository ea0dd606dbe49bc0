"""A kernel filter that takes the network away from a query worker process.

The query scan (:mod:`filmgraph.sparql.querytext`) decides whether a query may call
SERVICE; this makes a wrong decision harmless. Before its first query a worker
installs a seccomp filter (libseccomp, through its Python binding) under which
any attempt to create a socket or connect one is fatal: the kernel kills the
process with SIGSYS. A kill rather than an error code, because the engine
swallows the errors of ``SERVICE SILENT``: a call that fails quietly would look
like an empty answer, whereas a dead worker is seen, and reported to the client
as a refused query. Nothing a worker does needs a socket: it reads the store
from disk and talks to the web process over a pipe it was given at start.

The filter is inherited by every thread the worker starts and cannot be lifted
(the kernel sets ``no_new_privs`` with it).
"""

from __future__ import annotations

import signal

KILLED_BY = signal.SIGSYS
"""The signal a worker dies of when it tries to reach the network."""

DENIED = ("socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "sendmsg", "sendmmsg", "io_uring_setup")
"""Every system call that could open or use a network endpoint (io_uring could do it without the others)."""


class SandboxUnavailable(RuntimeError):
    """The filter cannot be installed on this machine (no libseccomp, or not Linux)."""


def _binding():  # type: ignore[no-untyped-def]
    try:
        import seccomp  # libseccomp's own binding (Debian: python3-seccomp)
    except ImportError:
        try:
            import pyseccomp as seccomp  # the same API over ctypes and the system's libseccomp.so.2
        except ImportError as exc:
            raise SandboxUnavailable("no libseccomp binding: pip install pyseccomp (needs libseccomp2)") from exc
    return seccomp


def deny_network() -> None:
    """Install the filter in this process: from now on, any socket call kills it with SIGSYS."""
    try:
        seccomp = _binding()
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for call in DENIED:
            rules.add_rule(seccomp.KILL_PROCESS, call)
        rules.load()
    except SandboxUnavailable:
        raise
    except Exception as exc:  # an OSError from the kernel, or the library failing to load
        raise SandboxUnavailable(f"cannot install the network filter: {type(exc).__name__}: {exc}") from exc


def check() -> None:
    """Raise SandboxUnavailable unless :func:`deny_network` can work here (loads the library, installs nothing)."""
    seccomp = _binding()
    try:
        seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    except Exception as exc:
        raise SandboxUnavailable(f"libseccomp does not load: {type(exc).__name__}: {exc}") from exc
