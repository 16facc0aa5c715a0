"""`GET /api/server/about`: what CVAT's SDK asks before anything else (it checks `version`).

Open without signing in, as CVAT's: the SDK calls it before it logs in. It names nothing but the
product and versions. `version` is the CVAT API level this server's CVAT-compatible routes follow
(the SDK warns when it is not its own major.minor); `server_version` is this product's.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

# The cvat-sdk / cvat-cli release the CVAT-compatible routes are tested against (docs/clients.md).
CVAT_API_VERSION = "2.80.0"


def server_version() -> str:
    try:
        return metadata.version("annotation-analytics")
    except metadata.PackageNotFoundError:
        return "unknown"


class AboutView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Server name and versions (CVAT's about)",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    def get(self, request: Any) -> Response:
        return Response(
            {
                "name": "Annotation analytics",
                "description": "Analytics for annotation platforms: events, KPIs, dashboards, exports.",
                "version": CVAT_API_VERSION,
                "logo_url": "",
                "subtitle": "CVAT-compatible analytics API",
                "server_version": server_version(),
            }
        )
