from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import not_found
from config.about import AboutView

urlpatterns = [
    # `make run` prints the root address: it leads to the dashboards (sign-in first when needed).
    path("", RedirectView.as_view(pattern_name="dashboards:index", permanent=False), name="root"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^api/server/about/?$", AboutView.as_view(), name="server-about"),
    path("api/", include("accounts.urls")),
    path("api/", include("annotation.urls")),
    path("api/", include("annotation.dataloop")),  # the reads Dataloop's SDK makes
    path("", include("exports.urls")),
    path("", include("events.urls")),
    path("", include("analytics.urls")),
    path("", include("shipping.urls")),
    path("", include("dashboards.urls")),
    # Last: whatever no pattern above matched under api/ is a JSON 404, not Django's HTML page.
    re_path(r"^api/", not_found.unknown_api_route, name="api-not-found"),
]

handler404 = not_found.handler404
