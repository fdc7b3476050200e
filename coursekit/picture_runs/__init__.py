"""Each chapter's picture runs: scenarios that take an implementation and return its run.

See :mod:`coursekit.traces` for how the reference's runs are recorded and loaded.
"""
