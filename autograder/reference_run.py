"""The reference's observations of a chapter's hidden scenarios: ``python -m autograder.reference_run``.

Reads ``{"topic", "notebook", "scenarios": {cell: [scenario, ...]}}`` (JSON) on stdin and
writes ``{cell: [observation, ...]}``: each probe (:mod:`coursekit.probing`) observing the
reference solution (``solutions/<topic>.py``) in the namespace of the notebook's locked
setup cells. It runs in a process of its own because the probes' virtual clock needs the
main thread; no learner code ever runs in it. :func:`expected_observations` starts it.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import subprocess
import sys
from typing import Any, TypedDict

from autograder.chapters import REPO_ROOT
from coursekit.probing import Observation, Scenario, observations

REFERENCE_SECONDS = 300


class ReferenceJob(TypedDict):
    """What this module reads on stdin (:func:`expected_observations` writes it)."""

    topic: str
    notebook: dict[str, Any]  # the release notebook, as JSON
    scenarios: dict[str, list[Scenario]]  # {graded cell's grade id: its scenarios}


def expected_observations(
    topic: str, notebook: dict[str, Any], scenarios: dict[str, list[Scenario]]
) -> dict[str, list[Observation]]:
    """The reference's observations of ``scenarios``, made in a process of its own."""
    reference_job: ReferenceJob = {"topic": topic, "notebook": notebook, "scenarios": scenarios}
    job = json.dumps(reference_job)
    done = subprocess.run(
        [sys.executable, "-m", "autograder.reference_run"],
        input=job,
        capture_output=True,
        text=True,
        timeout=REFERENCE_SECONDS,
        cwd=REPO_ROOT,  # where solutions/ is: the reference is the instructor's, never installed
    )
    if done.returncode != 0:
        raise RuntimeError(f"the reference could not observe {topic}'s hidden scenarios:\n{done.stderr[-3000:]}")
    found: dict[str, list[Observation]] = json.loads(done.stdout)
    return found


def setup_namespace(notebook: dict[str, Any]) -> dict[str, Any]:
    """What the notebook's locked, non-graded code cells define (IPython magics left out)."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("locked") and not meta.get("grade") and not meta.get("solution"):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))
            exec(compile(code, f"setup cell {meta.get('grade_id', '')}", "exec"), namespace)
    return namespace


def reference_namespace(notebook: dict[str, Any], topic: str) -> dict[str, Any]:
    """The setup cells' names, then the reference solution's: a learner's namespace with every exercise solved."""
    namespace = setup_namespace(notebook)
    reference = importlib.import_module(f"solutions.{topic}")
    namespace.update({name: value for name, value in vars(reference).items() if not name.startswith("__")})
    return namespace


def main() -> None:
    job: ReferenceJob = json.loads(sys.stdin.read())
    with contextlib.redirect_stdout(io.StringIO()):  # what the setup cells print is not the result
        names = reference_namespace(job["notebook"], job["topic"])
        found: dict[str, list[Observation]] = {
            cell: observations(job["topic"], cell, names, scenarios) for cell, scenarios in job["scenarios"].items()
        }
    sys.stdout.write(json.dumps(found))


if __name__ == "__main__":
    main()
