"""The course's version (``version`` in pyproject.toml), shown on the home page and in feedback."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "asyncio-resilience-course"


def course_version() -> str:
    """The installed course's version, e.g. ``0.2.0``; ``unknown`` when the course is not installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"
