-- Empty one staging table (rollup_5m_backfill or rollup_1h_backfill).
TRUNCATE TABLE {staging:Identifier}
