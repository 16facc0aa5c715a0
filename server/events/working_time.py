"""Working time of one batch of client events.

This is CVAT's algorithm (``cvat/apps/events/utils.py``) with one deliberate fix: the
part of a ``change:frame`` span that lies beyond the cursor is credited to the ids of
that event, not to the ids of the event before it. The module is pure so that the
ingest, the tests and any recomputation share one definition. docs/working-time.md
explains the rules with worked examples.
"""

from collections.abc import Sequence
from dataclasses import dataclass

WORKING_TIME_SCOPE = "send:working_time"
USER_ACTIVITY_SCOPE = "user:activity"
DEFAULT_IDLE_THRESHOLD_MS = 100_000

# The client merges consecutive frame changes into one event whose duration covers the
# whole run, so this is the only scope whose duration is time spent working. Durations
# of other scopes mean something else (e.g. time since the first merged zoom).
COMPRESSED_EVENT_SCOPES = frozenset({"change:frame"})

Ids = tuple[int | None, int | None, int | None]


@dataclass(frozen=True, slots=True)
class TimedEvent:
    scope: str
    timestamp_ms: int  # epoch milliseconds, already clock-corrected
    duration_ms: int = 0
    job_id: int | None = None
    task_id: int | None = None
    project_id: int | None = None


@dataclass(slots=True)
class WorkingTimeGroup:
    job_id: int | None
    task_id: int | None
    project_id: int | None
    timestamp_ms: int  # timestamp of the first event that opened this group
    working_time_ms: int


def _end_ms(event: TimedEvent) -> int:
    if event.scope in COMPRESSED_EVENT_SCOPES:
        return event.timestamp_ms + event.duration_ms
    return event.timestamp_ms


def _ids(event: TimedEvent) -> Ids:
    return (event.job_id, event.task_id, event.project_id)


def compute_working_time(
    events: Sequence[TimedEvent],
    previous_event: TimedEvent | None = None,
    idle_threshold_ms: int = DEFAULT_IDLE_THRESHOLD_MS,
) -> list[WorkingTimeGroup]:
    """Return the working time of ``events`` per (job_id, task_id, project_id).

    ``events`` are taken in received order, never sorted: the client queues a
    ``change:frame`` only when the frame has loaded, after events that happened
    meanwhile, and CVAT does not sort either. ``previous_event`` is the last event of
    the previous batch; it only seeds the cursor and the ids that receive the first gap.

    Groups come in the order they were opened; groups totalling 0 ms are left out.
    """
    if idle_threshold_ms <= 0:
        raise ValueError(f"idle_threshold_ms must be positive, got {idle_threshold_ms}")
    if not events:
        return []

    if previous_event is not None:
        cursor = _end_ms(previous_event)
        prev_ids = _ids(previous_event)
    else:
        # Nothing is known before the first event, so the batch starts at its
        # timestamp, not its end: a leading change:frame still counts in full.
        cursor = events[0].timestamp_ms
        prev_ids = _ids(events[0])
    groups: dict[Ids, WorkingTimeGroup] = {}

    for event in events:
        own_ids = _ids(event)
        # Open both possible recipients before crediting, so a group's timestamp is
        # that of the first event of this batch that could credit it (see the docs).
        for ids in (prev_ids, own_ids):
            if ids not in groups:
                groups[ids] = WorkingTimeGroup(*ids, timestamp_ms=event.timestamp_ms, working_time_ms=0)

        if event.timestamp_ms > cursor:
            gap = event.timestamp_ms - cursor
            # Until this event arrived the user was presumably still busy with the
            # previous event's job, unless the silence reached the idle threshold.
            if gap < idle_threshold_ms:
                groups[prev_ids].working_time_ms += gap
            # Advance even over an idle gap, so it is never measured again.
            cursor = event.timestamp_ms

        end = _end_ms(event)
        # Only the part of a span beyond the cursor counts, so contained or overlapping
        # frame changes are not counted twice. CVAT credits this part to prev_ids, but
        # it is time spent on this event's job: that is the attribution fix.
        if end > cursor:
            groups[own_ids].working_time_ms += end - cursor
            cursor = end

        prev_ids = own_ids

    return [group for group in groups.values() if group.working_time_ms > 0]
