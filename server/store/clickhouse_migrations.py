"""The ClickHouse migrations, in order: which definitions of store/schema.py each one creates.

Adding a table or a view: define it in store/schema.py, then append one entry here with the next
version. Versions and names never change once released: installs record them in
`schema_migrations`, and the runner skips what is recorded. Versions 1, 2, 10 and 11 were .sql
files until the schema was defined in Python; their single-node rendering creates the same
tables (tests/test_schema_upgrade.py compares both on chDB).
"""

from __future__ import annotations

from store import schema as s
from store.ddl import Create, Fill, Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events", (Create(s.EVENTS),)),
    Migration(
        2,
        "rollups",
        (
            Create(s.ROLLUP_5M),
            Create(s.ROLLUP_5M_SCOPES_MV),
            Create(s.ROLLUP_5M_STATUS_MV),
            Create(s.ROLLUP_1H),
            Create(s.ROLLUP_1H_MV),
            Create(s.ROLLUP_1D),
            Create(s.ROLLUP_1D_MV),
            Create(s.ROLLUP_5M_BACKFILL),
            Create(s.ROLLUP_1H_BACKFILL),
            Create(s.ROLLUP_1D_BACKFILL),
        ),
    ),
    Migration(
        10,
        "object_names",
        (
            Create(s.OBJECT_NAMES),
            Create(s.OBJECT_NAMES_OBJECTS_MV),
            Create(s.OBJECT_NAMES_USERS_MV),
            # Names of everything before the views existed; a re-run is harmless (equal rows
            # collapse on merge).
            Fill(s.OBJECT_NAMES_OBJECTS_MV),
            Fill(s.OBJECT_NAMES_USERS_MV),
        ),
    ),
    Migration(
        11,
        "org_rollups",
        (
            Create(s.ROLLUP_ORG_1H),
            Create(s.ROLLUP_ORG_1D),
            # Copied before the views exist and only into an empty table, so a re-run after an
            # interruption counts nothing twice (`manage.py backfill_rollups` repairs a partial
            # copy, or a block that landed between the copy and the view on a live server).
            Fill(s.ROLLUP_ORG_1H_MV, only_if_empty=True),
            Fill(s.ROLLUP_ORG_1D_MV, only_if_empty=True),
            Create(s.ROLLUP_ORG_1H_MV),
            Create(s.ROLLUP_ORG_1D_MV),
            Create(s.ROLLUP_ORG_1H_BACKFILL),
            Create(s.ROLLUP_ORG_1D_BACKFILL),
        ),
    ),
)

# sha256 of the .sql files that versions 1-11 were before (every released text of each), as the
# runner recorded them in schema_migrations: an install upgraded from them is not "changed".
FILE_ERA_CHECKSUMS: dict[int, frozenset[str]] = {
    1: frozenset({"a78e483f8afc99abb7e5bbad86bcccda57536d1098679bb2b70507de9c25a90b"}),
    2: frozenset({"086bd66c432c25409a3ccc857cc0d1c952198817c9ea3d8f3121dab9c0080ac6"}),
    10: frozenset({"c214739e7133f4001d538b83ddff0e2d61d8a633114e0eb2a55f71dcbd831029"}),
    11: frozenset(
        {
            "a9508cdccbd84f908f64d7e463520f891a584d91d842a985360f4078f480a42e",
            "d9a26517d78c44523a6679a7091dcd59040645ed5275aa685099829ad4d71f20",
        }
    ),
}
