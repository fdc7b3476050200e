"""CHANGELOG.md keeps a section per release, and the course's version has one: an instructor who
pins a version for a term reads there what changed, for learners and for instructors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)


def releases(text: str) -> dict[str, str]:
    """{version: the text of its section} for each ``## [X.Y.Z] - date`` heading."""
    found = list(RELEASE.finditer(text))
    ends = [match.start() for match in found[1:]] + [len(text)]
    return {match[1]: text[match.end() : end] for match, end in zip(found, ends, strict=True)}


def test_the_course_version_has_a_changelog_section_for_learners_and_instructors() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    sections = releases((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert version in sections, f"CHANGELOG.md has no '## [{version}] - date' section for pyproject's version"
    for release, body in sections.items():
        assert "### For learners" in body and "### For instructors" in body, f"{release}: say what changed for whom"


def test_a_release_without_its_audiences_is_told() -> None:
    text = "## [1.0.0] - 2026-01-01\n\n### For learners\n\n- a\n\n## [0.9.0] - 2025-01-01\n\n- b\n"
    sections = releases(text)
    assert list(sections) == ["1.0.0", "0.9.0"]
    assert "### For instructors" not in sections["1.0.0"] and "- b" in sections["0.9.0"]
