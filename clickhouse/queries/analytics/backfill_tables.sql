-- Which of the named tables exist in the current database.
SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}
