from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    # `make run` prints the root address: it leads to the dashboards (sign-in first when needed).
    path("", RedirectView.as_view(pattern_name="dashboards:index", permanent=False), name="root"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("accounts.urls")),
    path("api/", include("annotation.urls")),
    path("api/", include("annotation.dataloop")),  # the reads Dataloop's SDK makes
    path("", include("exports.urls")),
    path("", include("events.urls")),
    path("", include("analytics.urls")),
    path("", include("shipping.urls")),
    path("", include("dashboards.urls")),
]
