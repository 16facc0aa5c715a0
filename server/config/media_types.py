"""CVAT's JSON media type, `application/vnd.cvat+json`, accepted wherever `application/json` is.

CVAT's SDK and CLI send `Accept: application/vnd.cvat+json; version=<x.y>` on every call (and may
send bodies with that Content-Type). These are JSON renderers and parsers registered under that
media type, so DRF's content negotiation picks them; the `version` parameter is accepted and
ignored: this server has one API shape.
"""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer

from config.parsers import DepthLimitedJSONParser

CVAT_JSON = "application/vnd.cvat+json"


class CvatJSONRenderer(JSONRenderer):
    media_type = CVAT_JSON


class CvatJSONParser(DepthLimitedJSONParser):
    # The same depth limit as plain JSON: the media type must not be a way around it.
    media_type = CVAT_JSON
