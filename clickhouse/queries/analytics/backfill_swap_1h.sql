-- Swap a rebuilt month into rollup_1h in one step: readers see the old month or the new one,
-- never a mix. (ClickHouse refuses when the staging partition is empty rather than emptying the
-- destination; the command only rebuilds months that have events.)
ALTER TABLE rollup_1h REPLACE PARTITION ID {partition_id:String} FROM rollup_1h_backfill
