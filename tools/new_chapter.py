#!/usr/bin/env python3
"""Start a new chapter from the template: the five places a chapter lives in, filled in.

    .venv/bin/python tools/new_chapter.py TOPIC "Title" [--learn "What a learner takes away."]

adds the chapter's entry to ``course.toml`` (the next number) and writes, from
``tools/chapter_template/``:

1. ``course.toml``: the entry;
2. ``chapters/chNN_<topic>.py``: the chapter, with one exercise (``wait_all``) to replace;
3. ``solutions/<topic>.py``: its reference;
4. ``coursekit/chapters/<topic>/``: the face, the checks and the probes;
5. ``tests/``: the statement map, two wrong implementations and a property test.

Then build it (``tools/build.py chNN``) and run its tests (the README's "Adding a chapter").
Nothing is overwritten: a topic that exists, or a file in the way, stops it before it writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from string import Template

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coursekit.table_of_contents import TABLE_OF_CONTENTS, read_table_of_contents  # noqa: E402  (after the path is set)

ROOT = TABLE_OF_CONTENTS.parent
TEMPLATE = Path(__file__).resolve().parent / "chapter_template"
PLACES = {  # template file -> where it goes (a Template of the same fields)
    "chapter.py.tmpl": "chapters/ch${NN}_${topic}.py",
    "solution.py.tmpl": "solutions/${topic}.py",
    "face.py.tmpl": "coursekit/chapters/${topic}/__init__.py",
    "checks.py.tmpl": "coursekit/chapters/${topic}/checks.py",
    "probes.py.tmpl": "coursekit/chapters/${topic}/probes.py",
    "statement_map.toml.tmpl": "tests/statement_checks/${topic}.toml",
    "wrong_one_after_another.diff.tmpl": "tests/wrong_implementations/${topic}/wait_all_one_after_another.diff",
    "wrong_empty_raises.diff.tmpl": "tests/wrong_implementations/${topic}/wait_all_empty_raises.diff",
    "test_topic.py.tmpl": "tests/test_${topic}.py",
}
ENTRY = Template(
    '\n[[chapter]]\nnumber = ${number}\ntopic = "${topic}"\ntitle = "${title}"\nlearn = "${learn}"\n'
    'covers = "${title}: `wait_all` (exercise), the template\'s example; say what the chapter holds"\nimports = []\n'
)


class NewChapterError(ValueError):
    """The chapter cannot be made as asked; the message says why."""


def new_chapter(topic: str, title: str, learn: str, root: Path = ROOT) -> list[Path]:
    """Write the chapter on ``topic`` into the repository at ``root``; the files written."""
    toc = root / TABLE_OF_CONTENTS.name
    entries = read_table_of_contents(toc)
    if not topic.isidentifier() or not topic.islower():
        raise NewChapterError(f"the topic names a Python package: {topic!r} is not a lower-case identifier")
    if any(entry.topic == topic for entry in entries):
        raise NewChapterError(f"course.toml already has a chapter on {topic!r}")
    for text, name in ((title, "title"), (learn, "learn")):
        if '"' in text or "\\" in text or "\n" in text:
            raise NewChapterError(
                f"the {name} goes into course.toml as one plain line: no quotes, backslashes or newlines"
            )
    number = len(entries)
    fields = {"topic": topic, "number": str(number), "NN": f"{number:02d}", "title": title, "learn": learn}
    targets = {root / Template(place).substitute(fields): template for template, place in PLACES.items()}
    in_the_way = [str(path.relative_to(root)) for path in targets if path.exists()]
    if in_the_way:
        raise NewChapterError(f"these exist already: {', '.join(in_the_way)}")
    for path, template in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            Template((TEMPLATE / template).read_text(encoding="utf-8")).substitute(fields), encoding="utf-8"
        )
    toc.write_text(toc.read_text(encoding="utf-8") + ENTRY.substitute(fields), encoding="utf-8")
    return [toc, *targets]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic", help="the chapter's topic, a lower-case identifier, e.g. bulkheads")
    parser.add_argument("title", help='the chapter\'s title, e.g. "Bulkheads"')
    parser.add_argument("--learn", default="What a learner takes away from this chapter, in one sentence (edit me).")
    arguments = parser.parse_args(argv)
    try:
        written = new_chapter(arguments.topic, arguments.title, arguments.learn)
    except NewChapterError as error:
        parser.exit(2, f"new_chapter: {error}\n")
    number = read_table_of_contents(TABLE_OF_CONTENTS)[-1].number
    print("\n".join(f"wrote {path.relative_to(ROOT)}" for path in written))
    print(f"next: .venv/bin/python tools/build.py ch{number:02d}, then its tests (README: Adding a chapter)")


if __name__ == "__main__":
    main()
