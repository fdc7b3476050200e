"""nbgrader configuration for the course; nbgrader reads it when run from this folder.

The course root is this folder, wherever the repository (or a copy of it) lives;
the source notebooks are the repository's ``notebooks/<assignment>/`` folders.
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from autograder.feedback import HideHiddenTests
from autograder.feedback_labels import LabelForLearners
from autograder.feedback_page import FEEDBACK_TEMPLATE, FeedbackPage
from autograder.gradebook_revision import use_migration_files

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (defined by traitlets when it loads this file)

# A new gradebook is stamped with nbgrader's newest migration, read from its files, not from an
# `alembic heads` subprocess (2 s of CPU for each new course directory).
use_migration_files()

course_root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = course_root
c.CourseDirectory.source_directory = os.path.join(os.pardir, "notebooks")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(course_root, "gradebook.db")

# A solution or hidden-test region outside a solution/grade cell is an authoring
# error: refuse to release rather than ship it (these are nbgrader's defaults).
c.ClearSolutions.enforce_metadata = True
c.ClearHiddenTests.enforce_metadata = True

# Feedback shows scores and visible tests only: hidden test code and the
# tracebacks that would quote it are removed (autograde restored them).
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, LabelForLearners, CSSHTMLHeaderPreprocessor]
# nbconvert's HTML export, its templates compiled once per process (grade-all's many runs), with
# the course's page (nbgrader's, each graded cell named by its exercise, long lines wrapped).
c.GenerateFeedback.exporter_class = FeedbackPage
c.HTMLExporter.template_file = FEEDBACK_TEMPLATE
# Outputs are the learner's: nbconvert sanitizes their HTML (no script, no event handler, no
# active content), so a feedback page is inert in the learner's browser and the instructor's.
c.HTMLExporter.sanitize_html = True

# Seconds a single cell may run when autograding or validating.
c.ExecutePreprocessor.timeout = 120

# The exchange (see autograder/exchange.py): `python -m autograder publish` offers
# the releases there, learners fetch and submit through JupyterLab's Assignments
# tab, and `nbgrader collect` (run here) copies submissions into submitted/.
c.CourseDirectory.course_id = "asyncio-course"
c.Exchange.root = os.environ.get("ASYNCIO_COURSE_EXCHANGE") or os.path.join(course_root, "exchange")
