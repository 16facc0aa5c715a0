"""Run export jobs queued by the API (the compose deployment's export worker). Several can run at
once; each job is claimed by exactly one. Stops cleanly on SIGTERM / Ctrl-C."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exports.worker import ExportWorker
from store.client import EngineBusyError, get_client


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run the queued jobs, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            get_client()
        except EngineBusyError as exc:
            raise CommandError(str(exc)) from None
        worker = ExportWorker()
        if options["once"]:
            while worker.run_once():
                pass
            return
        stopped = threading.Event()

        def stop(*_: Any) -> None:
            stopped.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker.start()
        self.stderr.write("export worker running; Ctrl-C to stop")
        while not stopped.wait(0.5) and worker.is_alive():
            pass
        worker.stop(timeout=None)
