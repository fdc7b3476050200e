"""One module per chapter (named by its topic): ``PROBES``, graded cell id -> :class:`coursekit.probing.Probe`.

See :mod:`coursekit.probing` for what a probe is and how the grader uses it.
"""
