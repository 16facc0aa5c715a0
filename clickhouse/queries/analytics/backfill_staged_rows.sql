-- Rows rebuilt into the 5-minute staging table (0 means there is nothing to swap in).
SELECT count() FROM rollup_5m_backfill
