"""The course's nbgrader course directory, and the tools that drive it.

This folder is nbgrader's course root (``nbgrader_config.py`` lives here); the
nbgrader source notebooks live in the repository's ``notebooks/`` folder.
``python -m autograder --help`` lists the commands.
"""

from autograder import inside  # noqa: F401 (first: it spares every later nbformat import 2 s; see there)
