"""gunicorn settings. Embedded mode: one process with threads, because only one process may open
the chDB directory. With a ClickHouse server, WEB_WORKERS may be raised."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "1"))
threads = int(os.environ.get("WEB_THREADS", "8"))
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
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
