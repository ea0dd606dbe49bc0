"""Numbers written by a client: ASCII decimal digits, nothing else. No Flask here.

Python's ``int()`` reads any Unicode decimal digit (``٣``, ``３``) and
``str.isdigit()`` says yes to still more (``²``, ``①``, which ``int()`` then
refuses with a ValueError): neither may judge a client's number. Every number a
client sends (a query parameter, a value in a JSON payload) is read here.
"""

from __future__ import annotations

import re

from .errors import BadRequest

MAX_DIGITS = 100
"""Longer digit strings are not read as numbers (``int()`` of a few thousand digits is slow, then refused)."""

_INTEGER = re.compile(r"(-?)([0-9]{1,%d})" % MAX_DIGITS)


def ascii_int(text: str, signed: bool = False) -> int | None:
    """The integer ``text`` spells in ASCII digits (with a leading ``-`` when ``signed``), or None when it spells none."""
    m = _INTEGER.fullmatch(text)
    if m is None or (m.group(1) and not signed):
        return None
    return int(m.group(0))


def client_int(name: str, raw: str, least: int = 0, most: int | None = None, signed: bool = False, clamp: bool = True) -> int:
    """A client's integer parameter: ASCII digits, at least ``least``; above ``most`` it is ``most`` (``clamp``) or refused.

    Anything else is a BadRequest naming the parameter and what it must be.
    """
    value = ascii_int(raw, signed=signed)
    what = "an integer" if signed else "a non-negative integer"
    shown = raw[:20]
    if value is None:
        raise BadRequest(f"{name}={shown!r} is not {what} written in ASCII digits 0-9", parameter=name)
    if value < least:
        raise BadRequest(f"{name}={shown!r} is below {least}", parameter=name)
    if most is not None and value > most:
        if not clamp:
            raise BadRequest(f"{name}={shown!r} is above {most}", parameter=name)
        value = most
    return value
