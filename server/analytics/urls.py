"""Analytics URLs (included at the root by config/urls.py). No trailing slash, as CVAT; one is tolerated."""

from django.urls import re_path

from analytics import views
from analytics.query.views import QueryView

urlpatterns = [
    re_path(r"^api/analytics/kpis/configs/?$", views.KpiConfigsView.as_view(), name="analytics-kpi-configs"),
    re_path(r"^api/analytics/kpis/status/?$", views.KpiStatusView.as_view(), name="analytics-kpi-status"),
    re_path(r"^api/analytics/kpis/values/?$", views.KpiValuesView.as_view(), name="analytics-kpi-values"),
    re_path(
        r"^api/analytics/metrics/configs/?$",
        views.MetricConfigsView.as_view(),
        name="analytics-metric-configs",
    ),
    re_path(
        r"^api/analytics/metrics/values/?$", views.MetricValuesView.as_view(), name="analytics-metric-values"
    ),
    re_path(
        r"^api/analytics/users/(?P<user>[^/]+)/summary/?$",
        views.UserSummaryView.as_view(),
        name="analytics-user-summary",
    ),
    re_path(
        r"^api/analytics/users/(?P<user>[^/]+)/raw/?$",
        views.UserRawEventsView.as_view(),
        name="analytics-user-raw",
    ),
    re_path(r"^api/analytics/query/?$", QueryView.as_view(), name="analytics-query"),
]
