from django.urls import re_path

from dashboards import views

urlpatterns = [
    re_path(r"^api/analytics/grafana-auth/?$", views.grafana_auth, name="grafana-auth"),
]
