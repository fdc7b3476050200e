"""The exporter of nbgrader's feedback pages, with its templates compiled once per process.

``grade-all`` writes feedback while it grades, a few learners per nbgrader run, and every
run builds a new nbconvert ``HTMLExporter``, whose Jinja environment compiles the page's
templates again: about a third of the CPU time of a one-page run. :class:`FeedbackPage`
is that exporter with a Jinja bytecode cache kept for the process, so each template is
compiled once. Jinja checks a cached entry against the template's source (its checksum)
before using it, so an edited template is compiled afresh. The pages are unchanged.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache
from nbconvert.exporters import HTMLExporter


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in memory (Jinja's key: template name and file)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


PROCESS_TEMPLATES = CompiledTemplates()
# The course's feedback page (nbgrader's, extended): set as HTMLExporter.template_file, it is found
# by its path, and the nbgrader page it extends by nbgrader's template_name.
FEEDBACK_TEMPLATE = str(Path(__file__).with_name("feedback_page.html.j2"))


class FeedbackPage(HTMLExporter):
    """nbconvert's HTML exporter; its Jinja environment uses the process's compiled templates."""

    def _create_environment(self) -> Environment:
        # nbconvert leaves _create_environment unannotated (a call through super() is not matched
        # by pyproject's untyped_calls_exclude); it returns the Jinja Environment.
        environment: Environment = super()._create_environment()  # type: ignore[no-untyped-call]
        environment.bytecode_cache = PROCESS_TEMPLATES
        return environment
