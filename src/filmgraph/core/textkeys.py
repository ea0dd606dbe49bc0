"""Keys that titles are matched and sorted by, in every language (reconciliation, the site index, search, the duplicate rule).

- the *plain* key: Cyrillic transliterated to Latin, accents stripped, case
  folded, punctuation removed (``Небо зовёт`` -> ``nebo zovyot``);
- the *loose* key: the plain key with the usual transliteration variants
  folded together and a leading English article dropped, so ``Nebo zovyot``,
  ``Nebo zovet`` and ``Небо зовёт`` meet (``nebo zovet``).

Similarity is the ratio of two loose keys (difflib), numbers kept apart.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў",
    "a b v g d e yo zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya i yi ye g u".split(),
))
_CYRILLIC = {k: ("" if v == "_" else v) for k, v in _CYRILLIC.items()}
_LATIN_EXTRA = {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ß": "ss"}
_APOSTROPHES = re.compile(r"['’ʼʹ`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_LOOSE = (
    (re.compile(r"(?:iy|ij|ii|yi|yy)(?=\b|[^aeiou])"), "i"),
    (re.compile(r"[yj]o"), "e"),
    (re.compile(r"(?<![a-z])[yj]e|(?<=[aeiou])[yj]e"), "e"),
    (re.compile(r"j"), "y"),
    (re.compile(r"y"), "i"),
    (re.compile(r"w"), "v"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"([a-z])\1"), r"\1"),
    (re.compile(r"^(?:the|a|an) "), ""),
)
_TRAILING_YEAR = re.compile(r"^(.*?)\s*[\(\[]\s*([0-9]{4})\s*[\)\]]\s*$")  # ASCII digits: int() reads any script's


_TRANSLITERATE = str.maketrans({**_LATIN_EXTRA, **_CYRILLIC})


def plain_key(text: str) -> str:
    """Transliterate, strip accents, fold case, drop punctuation: ``Небо зовёт!`` -> ``nebo zovyot``."""
    folded = text.casefold().translate(_TRANSLITERATE)
    if not folded.isascii():  # ASCII has nothing to decompose (the site index keys millions of labels)
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = _APOSTROPHES.sub("", folded)
    return _NON_WORD.sub(" ", folded).strip()


def loosen(plain: str) -> str:
    """Fold the transliteration variants of a plain key (what :func:`loose_key` does after :func:`plain_key`)."""
    key = plain
    for pattern, repl in _LOOSE:
        key = pattern.sub(repl, key)
    return key.strip()


def loose_key(text: str) -> str:
    """The plain key with transliteration variants folded (``zovyot``, ``zovet`` -> ``zovet``)."""
    return loosen(plain_key(text))


def split_year(text: str) -> tuple[str, int | None]:
    """Split a trailing ``(1959)`` off a title: ``The Sky Beckons (1959)`` -> (``The Sky Beckons``, 1959)."""
    m = _TRAILING_YEAR.match(text)
    return (m.group(1), int(m.group(2))) if m and m.group(1) else (text, None)


_DIGITS = re.compile(r"\d+")


def similarity(a: str, b: str, at_least: float = 0.0) -> float:
    """Similarity of two loose keys, 0 to 1; titles whose numbers differ (Luna 1, Luna 2) are kept apart.

    With ``at_least``, a pair whose upper bounds (difflib's ``real_quick_ratio``, ``quick_ratio``) fall below
    it is 0.0 without the costly comparison: a caller that keeps only similarities of ``at_least`` or more
    keeps the same ones."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if at_least and (matcher.real_quick_ratio() < at_least or matcher.quick_ratio() < at_least):
        return 0.0
    ratio = matcher.ratio()
    numbers_a, numbers_b = _DIGITS.findall(a), _DIGITS.findall(b)
    if numbers_a and numbers_b and numbers_a != numbers_b:
        ratio *= 0.6
    return ratio
