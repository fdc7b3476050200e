"""What every sandboxed notebook's start-up leaves out, because each costs CPU time for every
notebook graded: the runner imports none of jsonschema's format checkers and validates outputs
with jsonschema (no fastjsonschema compile); the kernel imports neither pytest nor debugpy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grading import grade_submission, runner_environment
from autograder.sandbox import DEFAULT_LIMITS
from tests.course_copy import released_course
from tests.hostile_submissions import SOURCE, in_answer

REPO = Path(__file__).parents[1]
LOADED = "start-up check, loaded:"
# jsonschema's optional format checkers (rfc3987_syntax alone: 2 s), then what the kernel skips.
FORMAT_CHECKERS = ("rfc3987_syntax", "rfc3986_validator", "rfc3339_validator", "fqdn", "isoduration", "webcolors")
KERNEL_SKIPS = ("pytest", "debugpy")


def test_the_runner_leaves_format_checkers_out_and_validates_with_jsonschema() -> None:
    code = (
        "import sys, json, autograder.runner, nbformat.json_compat as compat;"
        f"print(json.dumps([[n for n in {FORMAT_CHECKERS!r} if sys.modules.get(n)],"
        " compat.get_current_validator().name]))"
    )
    environment = {**runner_environment(), "PYTHONPATH": str(REPO)}
    ran = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    loaded, validator = json.loads(ran.stdout)
    assert loaded == [], f"the runner imported jsonschema format checkers no notebook uses: {loaded}"
    assert validator == "jsonschema", f"the runner validates outputs with {validator}"


@pytest.mark.slow
def test_the_kernel_never_imports_pytest_or_debugpy(tmp_path: Path) -> None:
    _, kit = released_course(tmp_path, SOURCE.parent)
    report = f"import sys\nprint({LOADED!r}, [n for n in {KERNEL_SKIPS!r} if sys.modules.get(n)])"
    graded = grade_submission(kit, "start-up.ipynb", in_answer(report)(), DEFAULT_LIMITS)
    assert graded.report.score == graded.report.max_score, graded.report.render()
    assert graded.executed is not None
    printed = [
        output.text
        for cell in nbformat.from_dict(graded.executed).cells
        for output in cell.get("outputs", [])
        if LOADED in output.get("text", "")
    ]
    assert printed == [f"{LOADED} []\n"], f"the sandboxed kernel imported modules it never needs: {printed}"
