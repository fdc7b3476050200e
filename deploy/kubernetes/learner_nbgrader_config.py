"""nbgrader's configuration in a learner's pod (the image's /etc/jupyter/nbgrader_config.py).

What ``course.py start`` writes into a workspace on one machine (autograder/exchange.py), for a
pod of Zero to JupyterHub: the course's exchange on the shared volume (values.yaml mounts it at
nbgrader's default root), chapters fetched into the home folder, the submissions record where the
course home page reads it, and the learner's id: the hub's name for them, whatever the pod's
account is called. The grader's collect refuses a submission whose folder another uid made
(deploy/kubernetes/accounts.py gives every person their own uid), so naming someone else here
hands in nothing.
"""

import os

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (defined by traitlets when it loads this file)

home = os.environ.get("HOME", "/home/jovyan")
c.CourseDirectory.course_id = "asyncio-course"
c.Exchange.root = os.environ.get("ASYNCIO_COURSE_EXCHANGE", "/usr/local/share/nbgrader/exchange")
c.Exchange.assignment_dir = home
c.Exchange.cache = os.path.join(home, ".nbgrader_cache")
if os.environ.get("JUPYTERHUB_USER"):
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
# Validate (Assignments tab) may run each cell as long as the autograder does.
c.ExecutePreprocessor.timeout = 120
