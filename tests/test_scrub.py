"""Scrubbing removes every output line that shows a hidden test line, however the learner's code
disguises it for the eye: colours, zero-width characters, direction marks, full-width letters."""

from __future__ import annotations

import pytest

from autograder.feedback import scrub

HIDDEN = {"check_countdown(countdown, n=7, delay=0.25)"}
LINE = "check_countdown(countdown, n=7, delay=0.25)"


@pytest.mark.parametrize(
    "shown",
    [
        LINE,
        f"\x1b[31m{LINE}\x1b[0m",
        "\u200b".join(LINE),  # a zero-width space between every two characters
        "\u2060".join(LINE),  # word joiners
        "\u200e" + LINE + "\u200f",  # direction marks
        "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in LINE),  # full-width forms
        f"----> 3 {LINE}",  # a traceback's source line
    ],
)
def test_a_disguised_hidden_line_is_removed(shown: str) -> None:
    assert scrub(f"before\n{shown}\nafter\n", HIDDEN) == "before\nafter\n"


def test_ordinary_lines_stay() -> None:
    text = "✓ countdown runs to the end\nthe check passed: 7 ticks\n"
    assert scrub(text, HIDDEN) == text
