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

DROP SERVER stats_key, stats_sa CASCADE;
SELECT count(*) FROM atlas_snapshot_fdw_stats() WHERE server_name LIKE 'stats%';
