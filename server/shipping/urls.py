from django.urls import path

from shipping.views import HealthView, LivenessView, MetricsView

urlpatterns = [
    path("api/server/health", HealthView.as_view(), name="health"),
    path("api/server/metrics", MetricsView.as_view(), name="metrics"),
    path("healthz", LivenessView.as_view(), name="liveness"),
]
