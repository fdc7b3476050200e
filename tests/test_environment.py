"""environment.yml (conda) pins exactly what pyproject.toml pins (pip, course.py).

The YAML is read with a few lines of code rather than a YAML library, so this
test needs nothing beyond the standard library; environment.yml keeps to the
simple shape it expects (``- pip:`` followed by ``- requirement`` lines).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pyproject_requirements(path: Path) -> list[str]:
    """``[project] dependencies`` of a pyproject.toml."""
    return tomllib.loads(path.read_text(encoding="utf-8"))["project"]["dependencies"]


def conda_pip_requirements(path: Path) -> list[str]:
    """The entries under ``- pip:`` in a conda environment file."""
    entries: list[str] = []
    pip_indent: int | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        item = line.strip()
        if pip_indent is None:
            if item == "- pip:":
                pip_indent = indent
        elif indent > pip_indent and item.startswith("- "):
            entries.append(item[2:].strip().strip("'\""))
        else:
            break
    return entries


def differences(pyproject: Path, environment: Path) -> list[str]:
    """One message per requirement that is in one file's list but not the other's."""
    wanted = pyproject_requirements(pyproject)
    listed = conda_pip_requirements(environment)
    problems = [
        f"{req!r} is in pyproject.toml but not under pip: in environment.yml" for req in wanted if req not in listed
    ]
    problems += [
        f"{req!r} is under pip: in environment.yml but not in pyproject.toml"
        for req in listed
        if req not in wanted and req != "-e ."
    ]
    if "-e ." not in listed:
        problems.append("'-e .' (install the course itself) is missing under pip: in environment.yml")
    return problems


def test_environment_yml_pins_match_pyproject() -> None:
    problems = differences(ROOT / "pyproject.toml", ROOT / "environment.yml")
    assert not problems, "environment.yml and pyproject.toml disagree:\n" + "\n".join(problems)


def test_environment_yml_basics() -> None:
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    for needed in ("name: asyncio-course", "- conda-forge", "- python=3.11", "- pip:"):
        assert needed in text, f"environment.yml lacks {needed!r}"


def test_a_drifted_pin_is_reported(tmp_path: Path) -> None:
    """The check can fail: a changed pin and a removed one are both named."""
    drifted = (ROOT / "environment.yml").read_text(encoding="utf-8")
    first, second = pyproject_requirements(ROOT / "pyproject.toml")[:2]
    drifted = drifted.replace(f"- {first}\n", f"- {first}.post1\n").replace(f"      - {second}\n", "")
    (tmp_path / "environment.yml").write_text(drifted, encoding="utf-8")
    problems = differences(ROOT / "pyproject.toml", tmp_path / "environment.yml")
    assert any(repr(first) in problem for problem in problems)
    assert any(repr(f"{first}.post1") in problem for problem in problems)
    assert any(repr(second) in problem for problem in problems)
