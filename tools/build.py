#!/usr/bin/env python3
"""Build the chapter notebooks from their text sources, and run them to store their outputs.

    .venv/bin/python tools/build.py              # every chapter
    .venv/bin/python tools/build.py ch02 ch03    # the chapters whose assignment starts so
    .venv/bin/python tools/build.py --no-run     # write the notebooks without running them
    .venv/bin/python tools/build.py --observations-only ch06   # only step 3, after editing probes.py

It first writes the README's table of chapters from ``course.toml`` (tools/readme_chapters.py).
Then, for each chapter ``chapters/chNN_<topic>.py``, in order:

1. record the reference traces: each picture run of ``coursekit/chapters/<topic>/pictures.py``
   with the reference from ``solutions/<topic>.py``, into
   ``coursekit/chapters/<topic>/reference_trace.json`` (left as it is when only the order of
   simultaneous events differs: see :func:`coursekit.traces.same_traces`);
2. write ``notebooks/chNN_<topic>/<topic>.ipynb`` (tools/chapter_source.py);
3. record the reference's observations of the hidden scenarios every grading run tries, into
   ``autograder/reference_observations/<topic>.json`` (autograder/reference_observations.py);
4. run the notebook in a fresh kernel and keep its outputs, with each cell's stream outputs merged
   (the kernel may split one print in two), so a rebuild gives the same bytes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import reference_observations  # noqa: E402
from coursekit.chapters import has_part, part, trace_file  # noqa: E402
from coursekit.table_of_contents import table_of_contents  # noqa: E402
from coursekit.traces import dumps, picture_runs, same_traces  # noqa: E402  (after the path is set)
from tools.chapter_source import ROOT, Chapter, build_notebook, chapters  # noqa: E402
from tools.readme_chapters import write_chapter_table  # noqa: E402


def recorded_traces(chapter: Chapter) -> str | None:
    """The text of the chapter's trace file as the reference makes it now (None: no picture runs)."""
    if not has_part(chapter.topic, "pictures"):
        return None
    runs = part(chapter.topic, "pictures")
    reference = importlib.import_module(f"solutions.{chapter.topic}")
    traces = {name: run(getattr(reference, run.reference_subject)) for name, run in picture_runs(runs).items()}
    return dumps(traces)


def build(chapter: Chapter, *, execute: bool) -> None:
    traces = recorded_traces(chapter)
    saved = trace_file(chapter.topic)
    if traces is not None and not (saved.is_file() and same_traces(saved.read_text(encoding="utf-8"), traces)):
        saved.write_text(traces, encoding="utf-8")
    chapter.notebook.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(chapter), chapter.notebook)
    record_observations(chapter)
    if execute:
        subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace"]
            + ["--ExecutePreprocessor.record_timing=False", str(chapter.notebook)],
            check=True,
            cwd=ROOT,
        )
        nbformat.write(coalesce_streams(nbformat.read(chapter.notebook, as_version=4)), chapter.notebook)


def record_observations(chapter: Chapter) -> None:
    """Step 3: the reference's observations of the chapter's recorded hidden scenarios."""
    observations = reference_observations.path_of(chapter.topic)
    observations.parent.mkdir(exist_ok=True)
    observations.write_text(reference_observations.record(chapter.topic, read_json(chapter.notebook)), encoding="utf-8")


def read_json(path: Path) -> dict[str, Any]:
    """A notebook file as plain JSON (what the grader hands the reference)."""
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found


def coalesce_streams(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Merge consecutive outputs of the same stream in each cell."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        merged: list[nbformat.NotebookNode] = []
        for output in cell.outputs:
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        cell.outputs = merged
    return notebook


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="chNN prefixes (default: every chapter)")
    parser.add_argument("--no-run", action="store_true", help="write the notebooks without running them")
    parser.add_argument(
        "--observations-only",
        action="store_true",
        help="only record the hidden scenarios' observations again (step 3), after a change of probes.py",
    )
    args = parser.parse_args(argv)
    if args.observations_only:
        for chapter in chapters(args.chapters):
            print(f"recording {reference_observations.path_of(chapter.topic).relative_to(ROOT)}", flush=True)
            record_observations(chapter)
        return 0
    write_chapter_table(ROOT / "README.md", table_of_contents())
    for chapter in chapters(args.chapters):
        print(f"building {chapter.notebook.relative_to(ROOT)} from {chapter.source.relative_to(ROOT)}", flush=True)
        build(chapter, execute=not args.no_run)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
