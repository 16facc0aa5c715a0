from django.core.management.base import BaseCommand

from analytics.docs import DOC_PATH, updated


class Command(BaseCommand):
    help = "Regenerate the metric and KPI tables of docs/metrics.md from server/analytics/registry.py."

    def handle(self, *args, **options) -> None:
        current = DOC_PATH.read_text()
        new = updated(current)
        if new != current:
            DOC_PATH.write_text(new)
            self.stdout.write(f"updated {DOC_PATH}")
        else:
            self.stdout.write(f"{DOC_PATH} is up to date")
