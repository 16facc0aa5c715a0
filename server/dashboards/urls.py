from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from dashboards import pages, views

app_name = "dashboards"

urlpatterns = [
    re_path(r"^api/analytics/grafana-auth/?$", views.grafana_auth, name="grafana-auth"),
    path("analytics/", pages.index, name="index"),
    path("analytics/login/", pages.LoginView.as_view(), name="login"),
    path("analytics/logout/", auth_views.LogoutView.as_view(next_page="dashboards:login"), name="logout"),
    path("analytics/d/<slug:uid>/", pages.dashboard_page, name="dashboard"),
    # The pages' JSON endpoints (the page's script is handed API_BASE/<uid>).
    path(
        f"{pages.API_BASE}/<slug:uid>/panels/<int:panel_id>", pages.PanelDataView.as_view(), name="panel-data"
    ),
    path(
        f"{pages.API_BASE}/<slug:uid>/variables/<str:name>",
        pages.VariableOptionsView.as_view(),
        name="variable",
    ),
]
