from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = "Dashboards: Grafana macro expansion, proxy auth and the built-in pages"
