from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from store.client import EngineBusyError, describe, get_client
from store.ddl import Topology
from store.migrations_runner import configured_topology, migrate, plan


class Command(BaseCommand):
    help = (
        "Apply pending ClickHouse migrations (server/store/clickhouse_migrations.py) in order, or "
        "with --print show every statement of a full migration without running anything."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--print",
            action="store_true",
            dest="print_only",
            help="Print every statement, in order, for the topology; needs no ClickHouse.",
        )
        parser.add_argument(
            "--cluster",
            metavar="NAME",
            help="With --print: render for this cluster (default: CLICKHOUSE_CLUSTER; empty = one node).",
        )

    def handle(self, *args, print_only: bool = False, cluster: str | None = None, **options) -> None:
        if cluster is not None and not print_only:
            raise CommandError("--cluster only goes with --print; migrations use CLICKHOUSE_CLUSTER")
        try:
            topology = Topology(cluster or None) if cluster is not None else configured_topology()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if print_only:
            where = f"cluster {topology.cluster}" if topology.is_cluster else "one node"
            self.stdout.write(f"-- ClickHouse schema for {where}, in the order migrate_clickhouse runs it")
            for heading, statements in plan(topology, settings.EVENTS_RETENTION_DAYS):
                self.stdout.write(f"\n-- {heading}")
                for statement in statements:
                    self.stdout.write(f"{statement};\n")
            return
        try:
            client = get_client()
            applied = migrate(client, topology)
        except EngineBusyError as exc:
            raise CommandError(str(exc)) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        target = describe(settings.CLICKHOUSE_URL)
        for migration in applied:
            self.stdout.write(f"applied {migration.label}")
        self.stdout.write(f"{target}: schema up to date ({len(applied)} applied now)")
