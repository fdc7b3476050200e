"""The course home page's HTML: the table of contents with the learner's progress (Jinja2, autoescaped)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from course_home.progress import ChapterProgress

TEMPLATES = Path(__file__).parent / "templates"
_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)


def render_home(chapters: list[ChapterProgress], version: str, base_url: str) -> str:
    """The home page for ``chapters``; links start with the server's ``base_url`` (ends with /)."""
    return _environment.get_template("home.html").render(chapters=chapters, version=version, base_url=base_url)
