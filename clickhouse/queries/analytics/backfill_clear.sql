-- Empty one staging table (rollup_5m_backfill, rollup_org_1d_backfill, ...).
TRUNCATE TABLE {staging:Identifier}
