-- The engine clause of one table of the current database (its TTL shows here).
SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {name:String}
