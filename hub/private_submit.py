"""nbgrader's submit, with the submission readable by its learner and the grader only.

nbgrader's own submit leaves a submission's folder open to everyone (0777, files 0644): the
inbound folder cannot be listed, so only someone who knows the folder's name (the learner's id,
the time and a random string) could read it. On the class's hub each learner's private group
holds the learner and the grader account alone (:mod:`hub.accounts`), so here the folder is
given that group and made 0750, its files 0640: another learner cannot read it even knowing
its name, and the grader can. The learner's ``nbgrader_config.py`` names this class
(``ExchangeFactory.submit``), for the Assignments tab and ``nbgrader submit`` alike.
"""

from __future__ import annotations

import os

from nbgrader.exchange.default.submit import ExchangeSubmit


class PrivateSubmit(ExchangeSubmit):  # type: ignore[misc]  # nbgrader is untyped
    def copy_files(self) -> None:
        super().copy_files()
        submission = os.path.join(self.inbound_path, self.assignment_filename)
        group = os.getgid()  # the learner's own group: the learner and the grader
        for folder, _, files in os.walk(submission):
            for name in files:
                os.chown(os.path.join(folder, name), -1, group)
                os.chmod(os.path.join(folder, name), 0o640)
            os.chown(folder, -1, group)
            os.chmod(folder, 0o750)
