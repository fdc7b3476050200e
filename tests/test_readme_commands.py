"""The README's instructor commands are commands the course has: each ``python -m autograder ...``
line parses with the command's own parser, and each nbgrader step it names is one nbgrader has.
(The loop they make is run for real by tests/test_feedback_loop.py and the browser test.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from autograder.__main__ import parse_args

README = Path(__file__).resolve().parents[1] / "README.md"


def instructor_commands(readme: str) -> list[str]:
    """The command lines of the README's instructor section's first code block (comments removed)."""
    section = readme.split("## Instructor's path", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"\n((?:    .*\n)+)", section)
    assert block, "the instructor's section has no indented code block"
    return [line.split("  #")[0].strip() for line in block[1].splitlines() if line.strip()]


def test_every_autograder_command_in_the_readme_parses() -> None:
    commands = instructor_commands(README.read_text(encoding="utf-8"))
    autograder = [line for line in commands if line.startswith("python -m autograder ")]
    assert len(autograder) >= 5, commands
    for line in autograder:
        argv = shlex.split(re.sub(r"\[[^]]*\]", "", line.removeprefix("python -m autograder ")))
        try:
            parse_args(argv)
        except SystemExit:
            pytest.fail(f"the README's `{line}` is not a command of `python -m autograder`")
    assert "source .venv/bin/activate" in commands, "the commands run in the course's environment"
    assert "python3 course.py start --instructor" in commands


def test_a_command_the_course_lacks_is_caught() -> None:
    with pytest.raises(SystemExit):
        parse_args(shlex.split("grade-every ch01_producer_consumer"))


def test_the_nbgrader_steps_the_readme_names_are_nbgraders() -> None:
    from nbgrader.apps import NbGraderApp

    named = set(re.findall(r"`nbgrader (\w+)", README.read_text(encoding="utf-8").split("## Instructor's path")[1]))
    assert named, "the instructor's section names nbgrader's own steps"
    assert named <= set(NbGraderApp.subcommands), named - set(NbGraderApp.subcommands)
