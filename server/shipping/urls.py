from django.urls import path

from shipping.views import HealthView, LivenessView

urlpatterns = [
    path("api/server/health", HealthView.as_view(), name="health"),
    path("healthz", LivenessView.as_view(), name="liveness"),
]
