from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from store.client import EngineBusyError, describe, get_client
from store.migrations_runner import migrate


class Command(BaseCommand):
    help = "Apply pending ClickHouse migrations (clickhouse/migrations/*.sql) in order."

    def handle(self, *args, **options) -> None:
        try:
            client = get_client()
        except EngineBusyError as exc:
            raise CommandError(str(exc)) from None
        applied = migrate(client)
        target = describe(settings.CLICKHOUSE_URL)
        if applied:
            for migration in applied:
                self.stdout.write(f"applied {migration.path.name}")
        self.stdout.write(f"{target}: schema up to date ({len(applied)} applied now)")
