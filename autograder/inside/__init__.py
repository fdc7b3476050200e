"""What runs inside the grading sandbox: the notebook runner and the kernel's tamper watch.

This package is the only part of ``autograder`` the sandbox can see (it is bound
read-only at ``/course/autograder/inside``); it imports nothing else of the course.
"""
