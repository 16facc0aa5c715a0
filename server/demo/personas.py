"""The demo team's annotators: how fast, how carefully and when each one works.

The differences are deliberately large so that every per-annotator panel (hours per day, objects
per hour, jobs completed, first-pass acceptance, rejection rate) ranks them visibly. Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

WEEKDAYS = frozenset(range(5))  # Monday..Friday
EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True)
class Persona:
    first_name: str
    last_name: str
    style: str
    seconds_per_object: float  # drawing one object, adjustments included
    objects_per_frame: tuple[int, int]
    rejection: float  # chance that the reviewer rejects a completed job
    start_hour: tuple[float, float]  # when the working day starts (a shift may run past midnight)
    hours: tuple[float, float]  # time at the desk in a day, breaks included
    days: frozenset[int]  # weekdays worked (Monday = 0)
    attendance: float  # chance of working on one of those days
    platform: dict[str, str]


PERSONAS = [
    Persona(
        "Ava",
        "Moreno",
        "fast and careless: the most objects per hour, half of her jobs come back",
        3.0,
        (5, 9),
        0.55,
        (8.0, 9.0),
        (7.5, 8.5),
        WEEKDAYS,
        0.95,
        {"name": "Chrome", "version": "142", "os": "Windows"},
    ),
    Persona(
        "Ben",
        "Okafor",
        "slow and accurate: few objects per hour, almost never rejected",
        11.0,
        (3, 5),
        0.04,
        (9.0, 10.0),
        (7.0, 8.5),
        WEEKDAYS,
        0.95,
        {"name": "Firefox", "version": "145", "os": "Linux"},
    ),
    Persona(
        "Chloe",
        "Park",
        "part-timer: Monday, Wednesday and Thursday afternoons",
        6.0,
        (4, 7),
        0.15,
        (13.0, 14.0),
        (3.0, 4.0),
        frozenset({0, 2, 3}),
        0.9,
        {"name": "Chrome", "version": "142", "os": "macOS"},
    ),
    Persona(
        "Dev",
        "Patel",
        "night shift: starts around 22:00 UTC, Sunday to Thursday",
        6.5,
        (4, 7),
        0.2,
        (21.5, 23.0),
        (6.5, 7.5),
        frozenset({6, 0, 1, 2, 3}),
        0.9,
        {"name": "Edge", "version": "142", "os": "Windows"},
    ),
    Persona(
        "Elena",
        "Rossi",
        "steady: regular office hours, average speed and quality",
        6.0,
        (4, 7),
        0.12,
        (8.0, 10.0),
        (6.0, 7.5),
        WEEKDAYS,
        0.95,
        {"name": "Safari", "version": "19", "os": "macOS"},
    ),
    Persona(
        "Finn",
        "Larsen",
        "freelancer: irregular days including weekends, short bursts at any hour",
        4.5,
        (4, 8),
        0.3,
        (10.0, 20.0),
        (2.0, 5.0),
        EVERY_DAY,
        0.5,
        {"name": "Chrome", "version": "142", "os": "Linux"},
    ),
]


def persona_for(index: int) -> Persona:
    """The persona of the index-th annotator (0-based); a team larger than the list cycles it."""
    return PERSONAS[index % len(PERSONAS)]
