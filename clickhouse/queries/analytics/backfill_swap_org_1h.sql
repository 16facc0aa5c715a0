-- Swap a rebuilt month into rollup_org_1h in one step (see backfill_swap_1d.sql).
ALTER TABLE rollup_org_1h REPLACE PARTITION ID {partition_id:String} FROM rollup_org_1h_backfill
