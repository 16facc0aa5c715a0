"""OpenAPI (drf-spectacular) description of the metrics scraper's bearer token."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ScrapeTokenScheme(OpenApiAuthenticationExtension):
    target_class = "shipping.views.ScrapeTokenAuthentication"
    name = "metricsToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "description": "METRICS_TOKEN (docs/settings.md)."}
