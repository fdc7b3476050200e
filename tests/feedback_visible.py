"""Wait, as a learner, until the feedback of their latest submission is where Fetch Feedback finds it.

    python -m tests.feedback_visible WORKSPACE CHAPTER TIMEOUT_SECONDS

Run as the learner's account, in their workspace's configuration (``nbgrader_config.py``: the
exchange, the cache of their submissions). It looks where ``nbgrader fetch_feedback`` looks: the
newest submission of CHAPTER in the learner's cache, its secret, and the page
``<exchange>/<course>/feedback/<notebook_hash(secret, notebook)>.html`` (the folder cannot be
listed; the learner finds their page by its name only). It checks every 0.2 s and prints one JSON
line: ``found``, ``timestamp`` (the submission's), ``latency`` (seconds from the submission's
timestamp to the first check that found the page), ``waited`` (seconds this process waited).
Used by tests/test_hub_continuous.py and benchmarks/continuous_grading.py.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.utils import notebook_hash
from traitlets.config.loader import PyFileConfigLoader

POLL_SECONDS = 0.2


def expected_pages(workspace: Path, chapter: str) -> tuple[str, list[Path]]:
    """The newest submission's timestamp and the feedback pages fetch_feedback would look for."""
    config = PyFileConfigLoader("nbgrader_config.py", str(workspace)).load_config()
    course = config.CourseDirectory.course_id
    cache = Path(config.Exchange.cache) / course
    submission = max(cache.glob(f"*+{chapter}+*"), key=lambda folder: folder.name.split("+")[-1])
    secret = (submission / "submission_secret.txt").read_text()
    feedback = Path(config.Exchange.root) / course / "feedback"
    pages = [
        feedback / f"{notebook_hash(secret=secret, notebook_id=notebook.stem)}.html"
        for notebook in submission.glob("*.ipynb")
    ]
    return (submission / "timestamp.txt").read_text().strip(), pages


def submitted_at(timestamp: str) -> float:
    """nbgrader's timestamp (``2026-12-07 06:21:29.123456 UTC``) as seconds since the epoch."""
    return datetime.strptime(timestamp.replace(" UTC", " +0000"), "%Y-%m-%d %H:%M:%S.%f %z").astimezone(UTC).timestamp()


def main(workspace: Path, chapter: str, timeout: float) -> int:
    started = time.monotonic()
    timestamp, pages = expected_pages(workspace, chapter)
    found = False
    while time.monotonic() - started < timeout:
        if pages and all(page.exists() for page in pages):
            found = True
            break
        time.sleep(POLL_SECONDS)
    seen = time.time()
    report = {
        "found": found,
        "timestamp": timestamp,
        "latency": round(seen - submitted_at(timestamp), 2) if found else None,
        "waited": round(time.monotonic() - started, 2),
        "pages": [str(page) for page in pages],
    }
    print(json.dumps(report))
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])))
