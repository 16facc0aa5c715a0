"""Request bodies with bounded nesting (API_MAX_JSON_DEPTH).

Python's json module recurses once per level and raises RecursionError (a 500) on a body nested a
few thousand deep; orjson stops at 1024 levels, but its encoder stops at 254, so a payload it
accepted could not be written back. The depth is therefore measured on the raw bytes, before any
parser descends: strings are cut out (brackets inside them do not nest), the remaining brackets are
peeled one level per pass (each pass removes every empty pair) and a body still holding brackets
after `limit` passes is refused with a 400 that says so. Every pass runs in C (re, bytes.replace),
and a body with no more opening brackets than the limit is not scanned at all.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SAME_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


class TooDeep(ValueError):
    """The JSON text nests deeper than the limit (or its brackets do not balance)."""


def check_json_depth(text: bytes | str, limit: int | None = None) -> None:
    """Raise TooDeep when `text` nests objects and arrays deeper than `limit` levels (default
    API_MAX_JSON_DEPTH); `{"a": [1]}` is 2 levels deep. Malformed JSON is left to the parser
    unless its brackets cannot balance."""
    limit = settings.API_MAX_JSON_DEPTH if limit is None else limit
    data = text.encode(errors="surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:
        return
    brackets = _STRING.sub(b"", data).translate(_SAME_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return
        peeled = brackets.replace(b"[]", b"")
        if len(peeled) == len(brackets):
            raise TooDeep("its brackets do not balance")
        brackets = peeled
    if brackets:
        raise TooDeep(f"it is nested deeper than {limit} levels (API_MAX_JSON_DEPTH)")


def depth_message(exc: TooDeep, what: str = "JSON body") -> str:
    return f"The {what} cannot be read: {exc}."


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser (same decoding and strictness) behind the depth check."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        body = stream.read() if stream is not None else b""
        try:
            check_json_depth(body)
        except TooDeep as exc:
            raise ParseError(depth_message(exc)) from None
        return super().parse(io.BytesIO(body), media_type, parser_context)
