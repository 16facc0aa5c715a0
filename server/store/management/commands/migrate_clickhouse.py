from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from store.client import EngineBusyError, describe, get_client
from store.ddl import Topology
from store.migrations_runner import TopologyError, configured_topology, migrate, plan
from store.migrations_runner import create_missing as create_missing_objects


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
            "--create-missing",
            action="store_true",
            help="Create every table and view again where missing (IF NOT EXISTS; no data copies): "
            "after adding nodes to a cluster.",
        )
        parser.add_argument(
            "--cluster",
            metavar="NAME",
            help="With --print: render for this cluster (default: CLICKHOUSE_CLUSTER; empty = one node).",
        )

    def handle(
        self,
        *args,
        print_only: bool = False,
        cluster: str | None = None,
        create_missing: bool = False,
        **options,
    ) -> None:
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
            if create_missing:
                count = create_missing_objects(client, topology)
                self.stdout.write(
                    f"{describe(settings.CLICKHOUSE_URL)}: {count} CREATE ... IF NOT EXISTS run"
                )
                return
            applied = migrate(client, topology)
        except (EngineBusyError, TopologyError) as exc:
            raise CommandError(str(exc)) from None
        target = describe(settings.CLICKHOUSE_URL)
        for migration in applied:
            self.stdout.write(f"applied {migration.label}")
        self.stdout.write(f"{target}: schema up to date ({len(applied)} applied now)")
