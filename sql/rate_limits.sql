--
-- rate_limits: Atlas's rate-limit buckets (GET /rateLimits, 2025-03-12),
-- filtered by org_id and group_id (orgId, groupId), and the instance's
-- statistics function's scope column and reset (1.3)
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER rl_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER rl_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
\set org '''5a0a1e7e0f2912c554080adc'''
\set g1 '''32b6e34b3d91647abb20e7b8'''

-- IMPORT FOREIGN SCHEMA creates it, typed from the spec's fields
CREATE SCHEMA rl;
IMPORT FOREIGN SCHEMA atlas LIMIT TO (rate_limits) FROM SERVER rl_srv INTO rl;
SELECT attname, format_type(atttypid, atttypmod), attnotnull
  FROM pg_attribute WHERE attrelid = 'rl.rate_limits'::regclass AND attnum > 0
 ORDER BY attnum;

-- every endpoint set the caller may see; org_id and group_id are filters
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM rl.rate_limits;
SELECT group_id, org_id, endpoint_set_id, endpoint_set_name, scope, capacity,
       capacity_default, refill_rate, refill_duration_seconds,
       jsonb_array_length(endpoints) > 0 AS has_endpoints
  FROM rl.rate_limits ORDER BY endpoint_set_id;
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM rl.rate_limits WHERE org_id = :org;
SELECT org_id, endpoint_set_id, scope, capacity, refill_rate
  FROM rl.rate_limits WHERE org_id = :org;
SELECT group_id, endpoint_set_id, scope, capacity, capacity_default
  FROM rl.rate_limits WHERE group_id = :g1;
SELECT endpoint_set_id, e->>'method' AS method, e->>'path' AS path
  FROM rl.rate_limits, jsonb_array_elements(endpoints) e
 WHERE group_id = :g1;
\! python3 test/mockctl.py log --authorized | sort

-- identifiers are checked before any request
SELECT * FROM rl.rate_limits WHERE org_id = 'not-an-id';

-- 403: the hint names the roles the filters need
\set VERBOSITY default
\! python3 test/mockctl.py fault '{"match": "rateLimits", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the organization."}'
SELECT count(*) FROM rl.rate_limits WHERE org_id = :org;
\! python3 test/mockctl.py reset

-- the statistics say whose figures they are: the instance's with shared
-- memory, this backend's without (the suite runs both ways on 15)
SELECT DISTINCT scope = CASE WHEN current_setting('shared_preload_libraries') LIKE '%atlas_snapshot_fdw%'
                             OR current_setting('server_version_num')::int >= 170000
                        THEN 'instance' ELSE 'backend' END AS scope_as_expected
  FROM atlas_snapshot_fdw_stats() WHERE server_name = 'rl_srv';
-- the reset: for superusers unless granted, as pg_stat_statements_reset()
SELECT has_function_privilege('public', 'atlas_snapshot_fdw_stats_reset()', 'EXECUTE') AS public_may_reset;
SELECT atlas_snapshot_fdw_stats_reset() IS NOT NULL AS reset;
SELECT count(*) AS rows_after_reset FROM atlas_snapshot_fdw_stats() WHERE server_name = 'rl_srv' AND requests > 0;
SELECT count(*) FROM rl.rate_limits WHERE org_id = :org;
SELECT requests, pages, errors FROM atlas_snapshot_fdw_stats() WHERE server_name = 'rl_srv';

DROP SCHEMA rl CASCADE;
DROP SERVER rl_srv CASCADE;
