-- Exceptions in [start, end) and in scope by rollup key, source and HTTP status code
-- (payload.status_code, recorded by the server for API errors; null when absent, e.g. for client
-- exceptions). `scopes`: the registry's exception metric keys; the caller routes each row to
-- exceptions_client / exceptions_server with the registry's own match rule (key and source).
SELECT
    toString(scope) AS metric_key,
    source,
    JSONExtract(ifNull(payload, ''), 'status_code', 'Nullable(Int64)') AS status_code,
    count() AS exceptions
FROM events
WHERE timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')
    AND timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
    AND scope IN {scopes:Array(String)}
    AND /*scope*/
GROUP BY metric_key, source, status_code
