"""``python -m hub ROSTER ...``: what ``python3 course.py hub`` runs (:mod:`hub.command`)."""

import sys

from hub.command import main

sys.exit(main(sys.argv[1:]))
