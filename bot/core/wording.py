"""Counts, lengths of time and reasons in plain English, for every sentence members and admins read.

One place, so "1 songs", "1 minutes" and "a moment" (for ten minutes) cannot come back one message at a time.
Pure strings: the engine's refusals use it as much as what speaks Discord.
"""

from __future__ import annotations

# Nouns whose plural is not noun + "s".
IRREGULAR = {"entry": "entries", "lyrics": "lyrics", "person": "people"}
# The units of a length of time, longest first.
UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 song`, `2 songs`, `0 songs`, `3 entries` (`many` names an irregular plural the table does not know)."""
    word = noun if count == 1 else many or IRREGULAR.get(noun, noun + "s")
    return f"{count:,} {word}"


def span(seconds: float) -> str:
    """A length of time in words, in its two largest units: `10 minutes`, `1 hour 30 minutes`, `1 day 12 hours`."""
    left = max(round(seconds), 0)
    if left == 0:
        return "0 seconds"
    parts: list[str] = []
    for unit, size in UNITS:
        amount, left = divmod(left, size)
        if amount:
            parts.append(plural(amount, unit))
        elif parts:
            break  # "1 day 5 seconds" is noise: stop at the first empty unit after a used one
        if len(parts) == 2:
            break
    return " ".join(parts)


def clause(text: str) -> str:
    """A reason ready to be followed by more words: trimmed, without the full stop it may end with."""
    return text.strip().rstrip(". ").strip() if not text.strip().endswith("…") else text.strip()
