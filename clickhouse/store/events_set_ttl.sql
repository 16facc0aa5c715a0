ALTER TABLE events MODIFY TTL toDateTime(timestamp) + INTERVAL {days} DAY
