"""Export raw events to a file or stdout, with the filters of the API, without the server:
`manage.py export_events --project-id 3 --from 2026-01-01 --format jsonl --output events.jsonl`.

No permission filter applies (this is an operator's tool). With the embedded engine the server
must be stopped (one process holds the engine); otherwise use the API.
"""

from __future__ import annotations

import sys
from datetime import UTC
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from exports.params import default_from
from exports.query import FILTER_COLUMNS, FORMATS, ExportSpec, write_export, write_export_to
from store.client import EngineBusyError


def _moment(value: str, name: str):
    from dateutil.parser import isoparse

    try:
        moment = isoparse(value)
    except (ValueError, OverflowError) as exc:
        raise CommandError(f"Cannot parse '{name}' datetime parameter: {exc}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        for name in FILTER_COLUMNS:
            flag = "--" + name.replace("_", "-")
            parser.add_argument(flag, dest=name, type=int, default=None, help=f"only events with this {name}")
        parser.add_argument(
            "--from",
            dest="since",
            default=None,
            help="ISO-8601 (UTC when no zone); default: creation of the narrowest object named",
        )
        parser.add_argument("--to", dest="to", default=None, help="ISO-8601 (UTC when no zone); default: now")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        filters = {name: options[name] for name in FILTER_COLUMNS}
        for name, value in filters.items():
            if value is not None and value < 0:
                raise CommandError(f"--{name.replace('_', '-')} must be a non-negative integer")
        to = _moment(options["to"], "to") if options["to"] else timezone.now()
        since = _moment(options["since"], "from") if options["since"] else default_from(filters)
        if since > to:
            raise CommandError("'from' must be before than 'to'")
        spec = ExportSpec(since=since, to=to, format=options["format"], filters=filters)

        bars: list[tqdm] = []  # made on the first report, so that an early error prints alone

        def progress(done: int, total: int) -> None:
            if not bars:
                bars.append(
                    tqdm(
                        total=total,
                        unit="rows",
                        unit_scale=True,
                        file=sys.stderr,
                        disable=options["no_progress"],
                        desc="export",
                    )
                )
            bar = bars[0]
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            if options["output"] == "-":
                rows = write_export_to(spec, sys.stdout.buffer, progress)
                sys.stdout.buffer.flush()
            else:
                rows = write_export(spec, Path(options["output"]), progress)
        except EngineBusyError as exc:
            raise CommandError(str(exc)) from None
        finally:
            for bar in bars:
                bar.close()
        target = "stdout" if options["output"] == "-" else options["output"]
        self.stderr.write(f"{rows} rows written to {target} ({spec.format})")
