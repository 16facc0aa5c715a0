-- Name and type of every column of `events` (the exported ones are picked, in CVAT's order, by
-- exports.query to describe the Native spool file an embedded Parquet export is made from).
SELECT name, type
FROM system.columns
WHERE database = currentDatabase() AND table = 'events'
