--
-- calendar: atlas_snapshot_fdw_endpoints(), every endpoint the extension
-- calls with the dates Atlas announced for it, and the Deprecation and
-- Sunset headers last seen on it in this backend (the mock's fault
-- "deprecation" sends them)
--
SET TIME ZONE 'UTC';
SET DateStyle = 'ISO';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
\set g1 '''32b6e34b3d91647abb20e7b8'''

-- the endpoints and their calendar, from the resources' own descriptors
SELECT method, path, api_version, resources, deprecated, deprecation_date,
       sunset_date, removed_date
  FROM atlas_snapshot_fdw_endpoints();
-- nothing seen yet in this backend
SELECT count(*) FROM atlas_snapshot_fdw_endpoints()
 WHERE deprecation_header IS NOT NULL OR sunset_header IS NOT NULL
    OR headers_seen_at IS NOT NULL;

CREATE SERVER cal_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER cal_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER cal_srv INTO atlas;

-- a deprecated version's answer (HTTP-dates, as Atlas sends them): the
-- endpoint it matched shows the headers, with the moments they name;
-- backup_schedules and backup_policy_items read the same endpoint
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "/backup/schedule", "kind": "deprecation"}'
SELECT cluster_name, restore_window_days FROM atlas.backup_schedules
 WHERE group_id = :g1 AND cluster_name = 'prod-1';
SELECT path, resources, deprecation_header, sunset_header,
       deprecation_header_at, sunset_header_at, headers_seen_at IS NOT NULL AS seen
  FROM atlas_snapshot_fdw_endpoints() WHERE headers_seen_at IS NOT NULL;

-- an RFC 9745 structured date, and a Sunset alone, on the sharded list
-- (which the by-id template "snapshots/{id}" would match too)
\! python3 test/mockctl.py fault '{"match": "shardedClusters", "kind": "deprecation", "deprecation": "@1722816000", "sunset": null}'
SELECT count(*) FROM atlas.sharded_cluster_snapshots
 WHERE group_id = :g1 AND cluster_name = 'shard-1';
\! python3 test/mockctl.py fault '{"match": "clusters/prod-1/backup/snapshots/6", "kind": "deprecation", "deprecation": null, "sunset": "not a date"}'
SELECT count(*) FROM atlas.cluster_snapshots
 WHERE group_id = :g1 AND cluster_name = 'prod-1'
   AND id = (SELECT min(id) FROM atlas.cluster_snapshots
              WHERE group_id = :g1 AND cluster_name = 'prod-1');
SELECT method, path, deprecation_header, sunset_header,
       deprecation_header_at, sunset_header_at
  FROM atlas_snapshot_fdw_endpoints() WHERE headers_seen_at IS NOT NULL
 ORDER BY path;

-- the last answer with either header wins; one without changes nothing
\! python3 test/mockctl.py fault '{"match": "/backup/schedule", "kind": "deprecation", "sunset": "Fri, 1 Jan 2027 00:00:00 GMT"}'
SELECT count(*) FROM atlas.backup_policy_items
 WHERE group_id = :g1 AND cluster_name = 'prod-1';
SELECT count(*) FROM atlas.backup_policy_items
 WHERE group_id = :g1 AND cluster_name = 'prod-1';
SELECT path, sunset_header, sunset_header_at
  FROM atlas_snapshot_fdw_endpoints() WHERE path LIKE '%/backup/schedule';

-- the token endpoint: a service account's token answer
CREATE SERVER cal_oauth FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER cal_oauth
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE cal_projects (id text, name text)
	SERVER cal_oauth OPTIONS (resource 'projects');
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "deprecation", "deprecation": "@1767225600", "sunset": "Wed, 1 Dec 2027 00:00:00 GMT"}'
SELECT count(*) > 0 AS projects FROM cal_projects;
SELECT method, path, api_version, deprecation_header_at, sunset_header_at
  FROM atlas_snapshot_fdw_endpoints() WHERE method = 'POST';

-- the retired endpoints keep their clear errors
\set VERBOSITY terse
SELECT count(*) FROM atlas.tenant_snapshots
 WHERE group_id = :g1 AND cluster_name = 'prod-1';
\set VERBOSITY default

\! python3 test/mockctl.py reset
DROP FOREIGN TABLE cal_projects;
DROP SERVER cal_oauth CASCADE;
DROP SCHEMA atlas CASCADE;
DROP SERVER cal_srv CASCADE;
