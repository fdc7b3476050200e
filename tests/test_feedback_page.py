"""The feedback exporter: nbconvert's page, byte for byte, with its templates compiled once per process."""

from __future__ import annotations

import nbformat
import pytest
from jinja2.bccache import Bucket
from nbconvert.exporters import HTMLExporter
from nbgrader.converters import GenerateFeedback
from traitlets.config import Config

from autograder import feedback_page
from autograder.feedback_page import CompiledTemplates, FeedbackPage
from tests.hostile_submissions import SOURCE


@pytest.fixture(scope="module")
def feedback_config() -> Config:
    """The exporter configuration nbgrader's generate_feedback uses (its feedback template)."""
    config: Config = GenerateFeedback().config
    return config


def page(exporter: HTMLExporter) -> str:
    """The chapter notebook (with its outputs) as a feedback page of 6 / 6 points."""
    notebook = nbformat.read(SOURCE, as_version=4)
    for cell in notebook.cells:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade"):
            grading["score"] = grading["points"]  # as nbgrader's GetGrades sets it
    scores = {"nbgrader": {"notebook": SOURCE.stem, "score": 6.0, "max_score": 6.0, "late_penalty": 0.0}}
    html: str = exporter.from_notebook_node(notebook, resources=scores)[0]
    return html


class CountingTemplates(CompiledTemplates):
    def __init__(self) -> None:
        super().__init__()
        self.compilations = 0

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compilations += 1
        super().dump_bytecode(bucket)


def test_the_page_is_nbconverts_page(feedback_config: Config) -> None:
    expected = page(HTMLExporter(config=feedback_config))
    first = page(FeedbackPage(config=feedback_config))
    again = page(FeedbackPage(config=feedback_config))  # from the compiled templates
    assert feedback_config.HTMLExporter.template_name == "feedback"
    assert "(Score: 6.0 / 6.0)" in expected
    assert first == expected, "a page from freshly compiled templates differs from nbconvert's"
    assert again == expected, "a page from the process's compiled templates differs from nbconvert's"


def test_templates_are_compiled_once_per_process(feedback_config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingTemplates()
    monkeypatch.setattr(feedback_page, "PROCESS_TEMPLATES", counting)
    page(FeedbackPage(config=feedback_config))
    compiled_for_one_page = counting.compilations
    for _ in range(3):  # as grade-all does: a new exporter for every nbgrader run
        page(FeedbackPage(config=feedback_config))
    assert compiled_for_one_page > 0, "the first page compiles its templates into the cache"
    assert counting.compilations == compiled_for_one_page, "later exporters compiled templates again"


def test_nbgrader_writes_feedback_with_it() -> None:
    from autograder.chapters import COURSE_DIR
    from autograder.nbgrader_run import nbgrader_api

    with nbgrader_api(COURSE_DIR) as api:
        converter = GenerateFeedback(coursedir=api.coursedir, parent=api)
        assert converter.exporter_class is FeedbackPage
