"""`manage.py backfill_rollups [--month 2026-11 ...]`: rebuild the 5-minute rollups from `events`.

Idempotent (running it twice changes nothing); see analytics/backfill.py for how and the caveats.
"""

from __future__ import annotations

import re
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from analytics.backfill import expired_months, months_with_events, rebuild_month, rollups_exist
from store.client import EngineBusyError, describe, get_client

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(raw: str) -> int:
    match = _MONTH.match(raw)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CommandError(f"--month must look like 2026-11, got {raw!r}")
    return int(match.group(1)) * 100 + int(match.group(2))


class Command(BaseCommand):
    help = "Rebuild rollup_5m from the events table, month by month (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--month",
            action="append",
            default=[],
            metavar="YYYY-MM",
            help="Only this month (repeatable). Default: every month that has events.",
        )
        parser.add_argument(
            "--include-expired",
            action="store_true",
            help="Also rebuild months older than EVENTS_RETENTION_DAYS (their raw events "
            "may be partly gone, so their rollups would shrink).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options) -> None:
        try:
            client = get_client()
        except EngineBusyError as exc:
            raise CommandError(str(exc)) from None
        if not rollups_exist(client):
            raise CommandError(
                "The rollup tables do not exist yet: run `manage.py migrate_clickhouse` first."
            )
        available = months_with_events()
        requested = sorted({parse_month(raw) for raw in options["month"]}) or sorted(available)
        missing = [month for month in requested if month not in available]
        for month in missing:
            self.stdout.write(f"{month // 100}-{month % 100:02d}: no events, left as it is")
        months = [month for month in requested if month in available]
        expired = expired_months(months, settings.EVENTS_RETENTION_DAYS)
        if expired and not options["include_expired"]:
            for month in expired:
                self.stdout.write(
                    f"{month // 100}-{month % 100:02d}: older than EVENTS_RETENTION_DAYS, "
                    "skipped (--include-expired to rebuild)"
                )
            months = [month for month in months if month not in expired]
        total_events = sum(available[month] for month in months)
        bar = tqdm(
            total=total_events,
            unit="ev",
            unit_scale=True,
            desc="backfill rollup_5m",
            disable=options["no_progress"] or None,
            file=sys.stderr,
        )
        rows = 0
        with bar:
            for month in months:
                bar.set_postfix_str(f"{month // 100}-{month % 100:02d}")
                result = rebuild_month(month)
                rows += result.rollup_rows
                bar.update(available[month])
        self.stdout.write(
            f"{describe(settings.CLICKHOUSE_URL)}: rebuilt {len(months)} month(s) of rollup_5m "
            f"from {total_events:,} events ({rows:,} rollup rows)"
        )
