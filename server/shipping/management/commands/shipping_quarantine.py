"""Inspect, replay or discard the rows ClickHouse refused (the quarantine in the spool file).

    manage.py shipping_quarantine list [--limit N] [--rows]
    manage.py shipping_quarantine export FILE          # JSONL: one quarantined row per line, as stored
    manage.py shipping_quarantine replay (--all | --id N [--id N ...])
    manage.py shipping_quarantine discard --id N [--id N ...]

Replay puts rows back into the spool; the running server's flusher ships them (or quarantines
them again if they are still refused). It needs only the spool file, not the engine, so it runs
beside the server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shipping.service import get_spool


class Command(BaseCommand):
    help = "Inspect, replay or discard event rows that ClickHouse refused (the shipping quarantine)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="Counts per error, and the first rows with --rows.")
        listing.add_argument("--limit", type=int, default=20)
        listing.add_argument("--rows", action="store_true", help="Print the rows themselves too.")
        export = actions.add_parser("export", help="Write every quarantined row to a JSONL file.")
        export.add_argument("file", type=Path)
        replay = actions.add_parser("replay", help="Put rows back into the spool, to be shipped again.")
        chosen = replay.add_mutually_exclusive_group(required=True)
        chosen.add_argument("--all", action="store_true")
        chosen.add_argument("--id", type=int, action="append", dest="ids")
        discard = actions.add_parser("discard", help="Delete rows for good (named by id).")
        discard.add_argument("--id", type=int, action="append", dest="ids", required=True)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        spool = get_spool()
        if action == "list":
            errors = spool.quarantine_errors()
            total = sum(n for _, n in errors)
            self.stdout.write(f"{total} quarantined row(s)")
            for error, n in errors:
                self.stdout.write(f"  {n:>8}  {error[:300]}")
            if options["rows"]:
                for row in spool.quarantined(limit=options["limit"]):
                    at = datetime.fromtimestamp(row.quarantined_at, UTC).isoformat(timespec="seconds")
                    self.stdout.write(f"#{row.id} {at} {row.error[:120]}")
                    self.stdout.write(f"    {row.row.decode(errors='replace')}")
        elif action == "export":
            rows = spool.quarantined(limit=-1)  # SQLite: a negative LIMIT is no limit
            with open(options["file"], "wb") as out:
                for row in rows:
                    out.write(row.row + b"\n")
            self.stdout.write(f"wrote {len(rows)} row(s) to {options['file']}")
        elif action == "replay":
            ids = None if options["all"] else options["ids"]
            self._check_ids(ids)
            replayed = spool.replay_quarantined(ids)
            self.stdout.write(f"replayed {replayed} row(s) into the spool")
        elif action == "discard":
            self._check_ids(options["ids"])
            discarded = spool.discard_quarantined(options["ids"])
            self.stdout.write(f"discarded {discarded} row(s)")

    @staticmethod
    def _check_ids(ids: list[int] | None) -> None:
        if ids is None:
            return
        missing = sorted(set(ids) - {row.id for row in get_spool().quarantined(ids=ids)})
        if missing:
            raise CommandError(f"No quarantined row with id {', '.join(map(str, missing))}.")
