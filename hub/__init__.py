"""A class on one server: ``python3 course.py hub ROSTER`` runs a JupyterHub for it.

:mod:`hub.roster` reads the roster, :mod:`hub.accounts` makes the system accounts,
:mod:`hub.course_dir` the shared course directory and exchange, :mod:`hub.command` starts the
hub with ``hub/jupyterhub_config.py`` (:mod:`hub.settings` carries what it needs),
:mod:`hub.auth` limits sign-up to the roster, and :mod:`hub.singleuser` prepares each server.
"""
