"""What runs inside the grading sandbox: the notebook runner and the kernel's tamper watch.

This package is the only part of ``autograder`` the sandbox can see (it is bound
read-only at ``/course/autograder/inside``); it imports nothing else of the course.
"""

import sys

# nbformat validates with jsonschema, which imports rfc3987_syntax when it is installed
# (a Jupyter dependency here) and builds a Lark grammar for it: 2+ s in every process
# that imports nbformat, grader and sandbox alike. Nothing here validates IRI formats.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
