"""What runs inside the grading sandbox: the notebook runner and the kernel's tamper watch.

This package is the only part of ``autograder`` the sandbox can see (it is bound
read-only at ``/course/autograder/inside``); it imports nothing else of the course.
"""

import sys

# nbformat imports jsonschema, and jsonschema imports the optional libraries of its format
# checkers when they are installed (Jupyter's dependencies install them here). No notebook
# schema uses a format, so in every process that imports this package first (the grader,
# Dask workers, the sandbox's runner) they stay unimported: rfc3987_syntax alone builds a
# Lark grammar for 2+ s of CPU at import, the others take 0.1 s more per sandboxed notebook.
# (idna stays: httpx needs it.)
UNUSED_FORMAT_CHECKERS = (
    "rfc3987_syntax",
    "rfc3986_validator",
    "rfc3339_validator",
    "fqdn",
    "isoduration",
    "jsonpointer",
    "uri_template",
    "webcolors",
)
for _name in UNUSED_FORMAT_CHECKERS:
    sys.modules.setdefault(_name, None)  # type: ignore[arg-type]
