"""Which sink failures are the data's fault (permanent: the same rows will be refused again) and
which are the sink's (transient: the same rows may go through later).

Only refusals the engine makes before it writes anything count as permanent: errors parsing or
converting the input, and a block spanning too many partitions. Those batches are split to find
the rows at fault (see Flusher). Every other failure, unknown ones included, is retried as it is:
wrongly retrying costs time, wrongly splitting could cost a row counted twice.
"""

from __future__ import annotations

import re

# ClickHouse error codes (src/Common/ErrorCodes.cpp) raised while reading or converting the rows of
# an INSERT, before any part is written.
PERMANENT_CODES = frozenset(
    {
        6,  # CANNOT_PARSE_TEXT
        26,  # CANNOT_PARSE_QUOTED_STRING
        27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
        38,  # CANNOT_PARSE_DATE
        41,  # CANNOT_PARSE_DATETIME
        53,  # TYPE_MISMATCH
        69,  # ARGUMENT_OUT_OF_BOUND
        70,  # CANNOT_CONVERT_TYPE
        72,  # CANNOT_PARSE_NUMBER
        117,  # INCORRECT_DATA (unknown field, malformed JSON row)
        131,  # TOO_LARGE_STRING_SIZE
        306,  # TOO_DEEP_RECURSION
        321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
        376,  # CANNOT_PARSE_UUID
        407,  # DECIMAL_OVERFLOW
        467,  # CANNOT_PARSE_BOOL
    }
)
# TOO_MANY_PARTS is transient when it means "merges are behind" and permanent (for this block) when
# the block alone spans too many partitions.
TOO_MANY_PARTS = 252
_PARTITIONS_PER_BLOCK = "partitions for single INSERT block"
_CODE = re.compile(r"\bCode: (\d+)\b")
_CODE_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)")

# HTTP answers of Vector's http_server source that no retry of the same body can change.
PERMANENT_HTTP_STATUSES = frozenset({400, 413, 422})


class RefusedError(RuntimeError):
    """A sink refused these rows for good."""


def is_refusal(exc: BaseException) -> bool:
    if isinstance(exc, RefusedError):
        return True
    message = str(exc)
    match = _CODE.search(message)
    if match is None:
        return False
    code = int(match.group(1))
    if code == TOO_MANY_PARTS:
        return _PARTITIONS_PER_BLOCK in message
    return code in PERMANENT_CODES


def describe(exc: BaseException) -> str:
    """One line for logs, health and the quarantine."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:2000]


def error_kind(message: str) -> str:
    """What kind of error a described one is, without its text (which may quote event data): the
    exception class and, from ClickHouse, the error code and its name. For metric labels."""
    kind = message.split(":", 1)[0]
    code = _CODE.search(message)
    if code is None:
        return kind
    names = _CODE_NAME.findall(message)
    return f"{kind} {code.group(1)} {names[-1]}" if names else f"{kind} {code.group(1)}"
