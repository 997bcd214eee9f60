"""Settings of the worker processes the analytics task tests start: the test settings
with the default task backend replaced by the one named in ``TEST_WORKER_TASK_BACKEND``
(``database`` or ``redis``), the backend the test itself enqueues on."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import TASKS

TASKS = {**TASKS, "default": TASKS[os.environ.get("TEST_WORKER_TASK_BACKEND", "database")]}
