from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("accounts.urls")),
    path("api/", include("annotation.urls")),
    path("", include("exports.urls")),
    path("", include("events.urls")),
    path("", include("analytics.urls")),
    path("", include("shipping.urls")),
    path("", include("dashboards.urls")),
]
