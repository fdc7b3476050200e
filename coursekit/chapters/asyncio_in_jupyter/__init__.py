"""Chapter 0, asyncio in Jupyter: the names its notebook imports.

The core names come from :mod:`coursekit`; this package's modules are its parts (see
:mod:`coursekit.chapters`)."""

from coursekit.chapters.asyncio_in_jupyter.checks import check_countdown, check_fetch_all

__all__ = [
    "check_countdown",
    "check_fetch_all",
]
