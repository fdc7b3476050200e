"""The CI files an instructor can run stay in step with `.ci/run`, the project's CI entry point.

Each job of `.github/workflows/ci.yml` and `.gitlab-ci.yml` runs exactly the command `.ci/run`
execs (the README's `python3 course.py test`), in a `python:X.Y-...` image whose X.Y is the
course's Python: pyproject.toml's `requires-python` minimum, which `[tool.mypy] python_version`
must equal. The helpers are tested on drifted examples too, so that a drift is caught.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type information

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ".github/workflows/ci.yml"
GITLAB = ".gitlab-ci.yml"


@dataclass(frozen=True)
class Job:
    image: str | None  # the container image the job runs in
    commands: list[str]  # its shell lines, in order (blank and comment lines left out)


def ci_run_command(script: str) -> str:
    """The command a `.ci/run` script execs: its one `exec ...` line, without `exec`."""
    lines = [line.strip() for line in script.splitlines() if line.strip().startswith("exec ")]
    if len(lines) != 1:
        raise ValueError(f".ci/run should exec exactly one command; its exec lines are {lines}")
    return lines[0].removeprefix("exec").strip()


def course_python(pyproject: dict[str, Any]) -> str:
    """X.Y of the course's Python: `requires-python`'s minimum, equal to `[tool.mypy] python_version`."""
    requires = pyproject["project"]["requires-python"]
    mypy = pyproject["tool"]["mypy"]["python_version"]
    minimum = re.fullmatch(r">=\s*(\d+\.\d+)", requires)
    if minimum is None:
        raise ValueError(f"pyproject.toml: requires-python {requires!r} is not of the form '>=X.Y'")
    if minimum[1] != mypy:
        raise ValueError(
            f"pyproject.toml: requires-python's minimum is {minimum[1]}, but [tool.mypy] python_version is {mypy}"
        )
    return mypy


def shell_lines(script: str | list[str] | None) -> list[str]:
    """A `run` block's or a `script` list's lines, without blank and comment lines."""
    texts = script if isinstance(script, list) else [script or ""]
    lines = [line.strip() for text in texts for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def image_name(image: str | dict[str, Any] | None) -> str | None:
    return image.get("image", image.get("name")) if isinstance(image, dict) else image


def github_jobs(workflow: dict[str, Any]) -> dict[str, Job]:
    """The jobs of a GitHub Actions workflow: their `container` image and the lines of their `run` steps."""
    return {
        name: Job(image_name(job.get("container")), shell_lines([step.get("run") or "" for step in job["steps"]]))
        for name, job in (workflow.get("jobs") or {}).items()
    }


def gitlab_jobs(config: dict[str, Any]) -> dict[str, Job]:
    """The jobs of a .gitlab-ci.yml (top-level entries with a `script`, hidden `.templates` left out):
    their image (or the default one) and the lines of `before_script` and `script`."""
    default = config.get("default") or {}
    default_image = config.get("image", default.get("image"))
    return {
        name: Job(
            image_name(job.get("image", default_image)),
            shell_lines(job.get("before_script", default.get("before_script"))) + shell_lines(job["script"]),
        )
        for name, job in config.items()
        if isinstance(job, dict) and "script" in job and not name.startswith(".")
    }


def image_python(image: str | None) -> str | None:
    """X.Y of an official `python:X.Y...` image, or None for any other image."""
    match = re.fullmatch(r"(?:docker\.io/)?(?:library/)?python:(\d+\.\d+)(?:[.-].*)?", image or "")
    return match[1] if match else None


def drift(file: str, jobs: dict[str, Job], command: str, python: str) -> list[str]:
    """What in ``file``'s jobs differs from `.ci/run`'s ``command`` and the course's ``python``."""
    if not jobs:
        return [f"{file}: no job found"]
    problems = []
    for name, job in jobs.items():
        runs = [line for line in job.commands if "course.py" in line or "pytest" in line]
        if runs != [command]:
            problems.append(f"{file}, job {name!r}: runs {runs}, but .ci/run execs only {command!r}")
        if image_python(job.image) != python:
            problems.append(
                f"{file}, job {name!r}: image {job.image!r} is not python:{python}-..., "
                f"the course's Python (pyproject.toml: requires-python, [tool.mypy] python_version)"
            )
    return problems


def load(file: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / file).read_text(encoding="utf-8"))


READERS = {GITHUB: github_jobs, GITLAB: gitlab_jobs}


@pytest.mark.parametrize("file", READERS)
def test_ci_file_runs_what_ci_run_execs_on_the_course_python(file: str) -> None:
    command = ci_run_command((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    python = course_python(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8")))
    assert command == "python3 course.py test", f".ci/run execs {command!r}, not the README's command"
    problems = drift(file, READERS[file](load(file)), command, python)
    assert not problems, "\n".join(problems)


GITHUB_DRIFTED = """
jobs:
  test:
    container: {image: "python:3.12-bookworm", options: --privileged}
    steps:
      - uses: actions/checkout@v4
      - run: |
          # set up
          rm -f /etc/apt/apt.conf.d/docker-clean
          python3 course.py test --quick
"""

GITLAB_DRIFTED = """
image: python:3.11-bookworm
.template: {script: [python3 course.py test]}
unit:
  script: [python3 course.py test]
notebooks:
  image: {name: "ubuntu:24.04"}
  script: [".venv/bin/python -m pytest notebooks/"]
"""


def test_drift_is_reported_with_the_file_and_what_differs() -> None:
    command, python = "python3 course.py test", "3.11"
    assert drift(GITHUB, github_jobs(yaml.safe_load(GITHUB_DRIFTED)), command, python) == [
        f"{GITHUB}, job 'test': runs ['python3 course.py test --quick'], "
        "but .ci/run execs only 'python3 course.py test'",
        f"{GITHUB}, job 'test': image 'python:3.12-bookworm' is not python:3.11-..., the course's Python "
        "(pyproject.toml: requires-python, [tool.mypy] python_version)",
    ]
    gitlab = gitlab_jobs(yaml.safe_load(GITLAB_DRIFTED))
    assert gitlab == {
        "unit": Job("python:3.11-bookworm", ["python3 course.py test"]),
        "notebooks": Job("ubuntu:24.04", [".venv/bin/python -m pytest notebooks/"]),
    }
    problems = drift(GITLAB, gitlab, command, python)
    assert [problem.split(":")[0] for problem in problems] == [f"{GITLAB}, job 'notebooks'"] * 2
    assert "runs ['.venv/bin/python -m pytest notebooks/']" in problems[0]
    assert "image 'ubuntu:24.04'" in problems[1]
    assert drift(GITLAB, {}, command, python) == [f"{GITLAB}: no job found"]
    assert drift(GITLAB, {"unit": Job("python:3.11", ["python3 course.py test"] * 2)}, command, python)


def test_ci_run_command_and_course_python_are_read_strictly() -> None:
    assert ci_run_command('#!/usr/bin/env bash\nset -e\nexec python3 course.py test "$@"\n') == (
        'python3 course.py test "$@"'
    )
    with pytest.raises(ValueError, match=r"exactly one command; its exec lines are \[\]"):
        ci_run_command("python3 course.py test\n")
    project = {"project": {"requires-python": ">=3.12"}, "tool": {"mypy": {"python_version": "3.11"}}}
    with pytest.raises(ValueError, match="minimum is 3.12, but .tool.mypy. python_version is 3.11"):
        course_python(project)
    assert [image_python(image) for image in ("python:3.11-bookworm", "python:3.11", "python:3.1", "debian:12")] == [
        "3.11",
        "3.11",
        "3.1",
        None,
    ]
