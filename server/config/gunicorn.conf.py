"""gunicorn settings. Embedded mode: one process with threads, because only one process may open
the chDB directory. With a ClickHouse server, WEB_WORKERS may be raised.

The values come from config/settings.py, which is loaded (and so every setting validated) before
gunicorn starts: a bad value stops it with one line naming the variable."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from config.env import exit_on_setting_error

with exit_on_setting_error():
    from config import settings

bind = f"{settings.HOST}:{settings.PORT}"
workers = settings.WEB_WORKERS
threads = settings.WEB_THREADS
worker_class = "gthread"
timeout = settings.WEB_TIMEOUT
graceful_timeout = 30
accesslog = "-"
chdir = os.path.join(os.path.dirname(__file__), "..")
# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl), which two
# servers on one machine (or a benchmark beside `make run`) would fight over; it is not used here.
control_socket_disable = True


def post_worker_init(worker) -> None:
    # The request threads share one GIL. A thread back from I/O (a socket, SQLite, ClickHouse) waits
    # up to the switch interval (5 ms by default) for a busy thread to hand the GIL over; at 0.5 ms,
    # a flood of cheap requests (refused password guesses) cannot add 5 ms waits to every other one.
    import sys

    sys.setswitchinterval(0.0005)
