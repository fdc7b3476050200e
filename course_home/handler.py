"""The request handler of the home page: gathers each chapter's progress and renders the page."""

from __future__ import annotations

from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from autograder.chapters import Chapter, select_chapters
from autograder.exchange import COURSE_ID, exchange_root
from autograder.release import release_dir
from course_home.page import render_home
from course_home.progress import chapter_progress
from coursekit.table_of_contents import table_of_contents
from coursekit.version import course_version


class HomeHandler(JupyterHandler):
    """``GET <base_url>/course``: the home page, for the server's own (authenticated) user."""

    def initialize(self, workspace: Path) -> None:
        self.workspace = workspace

    @web.authenticated
    def get(self) -> None:
        released = {chapter.assignment: released_notebook(chapter) for chapter in select_chapters([])}
        exchange = exchange_root()
        chapters = [
            chapter_progress(
                entry,
                self.workspace,
                COURSE_ID,
                exchange if exchange.is_dir() else None,
                released.get(entry.assignment),
            )
            for entry in table_of_contents()
        ]
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(render_home(chapters, course_version(), self.base_url))


def released_notebook(chapter: Chapter) -> Path | None:
    """The chapter's released notebook in the instructor's course directory, if it was released."""
    return next(iter(sorted(release_dir(chapter).glob("*.ipynb"))), None)
