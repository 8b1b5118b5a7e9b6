--
-- stats: atlas_snapshot_fdw_stats() tells what the FDW did in this backend
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
CREATE SERVER stats_key FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '1', max_retry_wait_ms '10', max_concurrency '1');
CREATE SERVER stats_sa FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_concurrency '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER stats_key
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE USER MAPPING FOR PUBLIC SERVER stats_sa
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE stats_key_snaps (group_id text, cluster_name text, id text)
	SERVER stats_key OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE stats_sa_snaps (group_id text, cluster_name text, id text)
	SERVER stats_sa OPTIONS (resource 'cluster_snapshots');

SELECT count(*) FROM stats_key_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1200';
SELECT count(*) FROM stats_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n3';
\! python3 test/mockctl.py fault '{"match": "clusters/n4/", "kind": "status", "status": 503, "count": 2}'
SELECT count(*) FROM stats_key_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n4';

-- requests count Digest challenges, retries and tokens; bytes vary with
-- the mock's formatting, so only their presence is shown
SELECT server_name, user_name, auth, requests, pages, bytes > 0 AS has_bytes,
       retries, tokens, errors, last_error, last_error_at IS NOT NULL AS has_time
  FROM atlas_snapshot_fdw_stats()
 WHERE server_name LIKE 'stats%' ORDER BY 1;

-- a role sees only the rows of its own user mappings, and of the PUBLIC
-- mapping it uses where it has none of its own; superusers and members of
-- pg_read_all_stats see every row
CREATE ROLE stats_alice;
CREATE ROLE stats_bob;
GRANT USAGE ON FOREIGN SERVER stats_key, stats_sa TO stats_alice, stats_bob;
GRANT SELECT ON stats_key_snaps, stats_sa_snaps TO stats_alice, stats_bob;
CREATE USER MAPPING FOR stats_alice SERVER stats_key
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE USER MAPPING FOR stats_bob SERVER stats_sa
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
SET ROLE stats_alice;
SELECT count(*) FROM stats_key_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n3';
RESET ROLE;
SET ROLE stats_bob;
SELECT count(*) FROM stats_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n3';
SELECT server_name, user_name, auth, pages
  FROM atlas_snapshot_fdw_stats() WHERE server_name LIKE 'stats%' ORDER BY 1, 2;
RESET ROLE;
SET ROLE stats_alice;
SELECT server_name, user_name, auth, pages
  FROM atlas_snapshot_fdw_stats() WHERE server_name LIKE 'stats%' ORDER BY 1, 2;
RESET ROLE;
GRANT pg_read_all_stats TO stats_bob;
SET ROLE stats_bob;
SELECT server_name, user_name, auth, pages
  FROM atlas_snapshot_fdw_stats() WHERE server_name LIKE 'stats%' ORDER BY 1, 2;
RESET ROLE;
SELECT server_name, user_name, auth, pages
  FROM atlas_snapshot_fdw_stats() WHERE server_name LIKE 'stats%' ORDER BY 1, 2;

-- an enumeration's inventory requests count like any other: a failed
-- cluster list is an error of the scan, with its message
CREATE SERVER stats_enum FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '1', max_retry_wait_ms '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER stats_enum
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE stats_enum_snaps (group_id text, cluster_name text, id text)
	SERVER stats_enum OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py fault '{"match": "groups/32b6e34b3d91647abb20e7b8/clusters\\?", "kind": "status", "status": 500, "count": 2}'
\set VERBOSITY terse
SELECT count(*) FROM stats_enum_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8';
\set VERBOSITY default
SELECT server_name, requests > 0 AS has_requests, pages, retries, errors, last_error,
       last_error_at IS NOT NULL AS has_time
  FROM atlas_snapshot_fdw_stats() WHERE server_name = 'stats_enum';
-- ... and so are too many clusters for max_request_chains
ALTER SERVER stats_enum OPTIONS (ADD max_request_chains '1');
\set VERBOSITY terse
SELECT count(*) FROM stats_enum_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8';
\set VERBOSITY default
SELECT server_name, pages, errors, last_error
  FROM atlas_snapshot_fdw_stats() WHERE server_name = 'stats_enum';
\! python3 test/mockctl.py reset

DROP SERVER stats_key, stats_sa, stats_enum CASCADE;
SELECT count(*) FROM atlas_snapshot_fdw_stats() WHERE server_name LIKE 'stats%';
DROP ROLE stats_alice, stats_bob;
