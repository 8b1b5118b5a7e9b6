--
-- promises: what the README promises and no other file tests: the 404 rule
-- of requests by id, the SQLSTATE of 410, a pushed-down LIMIT, a server
-- that ignores pageNum, a 429 holding back a scan, max_retry_wait_ms,
-- token renewal, cancels around token requests, gzip and max_page_bytes,
-- a refused connection, and what atlas_snapshot_fdw_stats() counts.
-- Requests are proven by the mock's log, never by timing.
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
CREATE SERVER pr_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '2', max_retry_wait_ms '10000',
			 max_concurrency '2');
CREATE USER MAPPING FOR CURRENT_USER SERVER pr_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE SCHEMA pr;
IMPORT FOREIGN SCHEMA atlas
	LIMIT TO (cluster_snapshots, sharded_cluster_snapshots, serverless_snapshots,
			  tenant_snapshots, clusters)
	FROM SERVER pr_srv INTO pr;
CREATE FOREIGN TABLE pr_small (group_id text, cluster_name text, id text)
	SERVER pr_srv OPTIONS (resource 'cluster_snapshots', items_per_page '2');
\! python3 test/mockctl.py reset

-- ===================================================================
-- 404 by id: only a missing snapshot (SNAPSHOT_NOT_FOUND,
-- INVALID_SNAPSHOT_ID) means zero rows; anything else is an error, as on
-- a list request
-- ===================================================================
\set VERBOSITY default
SELECT id FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' AND id = 'ffffffffffffffffffffffff';
\! python3 test/mockctl.py fault '{"match": "snapshots/eeeeeeeeeeeeeeeeeeeeeeee", "kind": "status", "status": 404, "errorCode": "INVALID_SNAPSHOT_ID", "detail": "Invalid snapshot id."}'
SELECT id FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' AND id = 'eeeeeeeeeeeeeeeeeeeeeeee';
SELECT id FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'nosuch' AND id = 'ffffffffffffffffffffffff';
SELECT id FROM pr.cluster_snapshots
 WHERE group_id = 'aaaaaaaaaaaaaaaaaaaaaaaa' AND cluster_name = 'prod-1' AND id = 'ffffffffffffffffffffffff';
SELECT id FROM pr.sharded_cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'nosuch' AND id = 'ffffffffffffffffffffffff';
-- retired endpoints, by id as by list
SELECT id FROM pr.serverless_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'serverless-gone' AND id = 'ffffffffffffffffffffffff';
SELECT id FROM pr.tenant_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'm2-legacy' AND id = 'ffffffffffffffffffffffff';
-- a 404 that is no Atlas error document at all (a proxy's page)
\! python3 test/mockctl.py fault '{"match": "snapshots/ffffffffffffffffffffffff", "kind": "html", "status": 404}'
SELECT id FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' AND id = 'ffffffffffffffffffffffff';
-- in an IN list, the missing snapshot is just not there
SELECT id FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
   AND id IN ('ffffffffffffffffffffffff', '6a1f00000000000000000002') ORDER BY id;

-- ===================================================================
-- 410: HV00R for a resource with a replacement, HV000 for the others
-- ===================================================================
\set VERBOSITY sqlstate
SELECT count(*) FROM pr.serverless_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'serverless-gone';
\! python3 test/mockctl.py fault '{"match": "/clusters\\?", "kind": "gone"}'
SELECT count(*) FROM pr.clusters WHERE group_id = '32b6e34b3d91647abb20e7b8';
\set VERBOSITY default

-- ===================================================================
-- LIMIT n pushed down, n at or above items_per_page too: itemsPerPage =
-- min(n, items_per_page), nothing fetched ahead, chains one after the
-- other (the mock's log is the proof)
-- ===================================================================
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM pr_small
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n3', 'n5') LIMIT 3;
SELECT count(*) FROM (SELECT id FROM pr_small
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n3', 'n5') LIMIT 3) s;
\! python3 test/mockctl.py log --authorized
\! python3 test/mockctl.py reset
SELECT count(*) FROM (SELECT id FROM pr_small
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n3', 'n5') LIMIT 4) s;
\! python3 test/mockctl.py log --authorized
\! python3 test/mockctl.py reset
SELECT count(*) FROM (SELECT id FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n3', 'n5') LIMIT 1) s;
\! python3 test/mockctl.py log --authorized
\! python3 test/mockctl.py reset

-- ===================================================================
-- a server that ignores pageNum: an error, except on the sharded-cluster
-- list (whose paging is not declared), where the list ends
-- ===================================================================
\! python3 test/mockctl.py fault '{"match": "clusters/n7/", "kind": "ignore_page_num", "count": -1}'
SELECT count(*) FROM pr_small
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n7';
\! python3 test/mockctl.py reset
ALTER FOREIGN TABLE pr.sharded_cluster_snapshots OPTIONS (ADD items_per_page '1');
SELECT count(*) FROM pr.sharded_cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'shard-1';
\! python3 test/mockctl.py fault '{"match": "clusters/shard-1/", "kind": "ignore_page_num", "count": -1}'
SELECT count(*) FROM pr.sharded_cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'shard-1';
ALTER FOREIGN TABLE pr.sharded_cluster_snapshots OPTIONS (DROP items_per_page);
\! python3 test/mockctl.py reset

-- ===================================================================
-- a 429 holds back every other request of the scan until its
-- Retry-After (2 s) has passed: with two in flight, n1 answers 429 (after
-- 300 ms, so that n2's request is surely in), n2 takes 500 ms, and the
-- first page of n3 waits for the 429's Retry-After instead of following
-- n2's answer.  The mock's log proves that no request arrived in between
-- (a lower bound on time: a slow machine cannot make it fail).
-- ===================================================================
SELECT count(*) FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1', 'n2');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n1/", "kind": "status", "status": 429, "retry_after": 2, "wait_ms": 300}'
\! python3 test/mockctl.py fault '{"match": "clusters/n2/", "kind": "stall", "seconds": 0.5}'
SELECT cluster_name, count(*) FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1', 'n2', 'n3')
 GROUP BY 1 ORDER BY 1;
\! python3 test/mockctl.py quiet --after '^429 GET .*clusters/n1/' --ms 1900
\! python3 test/mockctl.py log --authorized | sort
\! python3 test/mockctl.py reset

-- ===================================================================
-- max_retry_wait_ms caps both Retry-After and backoff: with 50 ms, ten
-- retries end well within statement_timeout, although Atlas asks for 600 s
-- and backoff alone would take more than 30 s
-- ===================================================================
ALTER SERVER pr_srv OPTIONS (SET max_retries '10', SET max_retry_wait_ms '50');
SET statement_timeout = '20s';
\! python3 test/mockctl.py fault '{"match": "clusters/n4/", "kind": "status", "status": 429, "retry_after": 600, "count": 3}'
SELECT count(*) FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n4';
\! python3 test/mockctl.py fault '{"match": "clusters/n4/", "kind": "status", "status": 503, "count": 10}'
SELECT count(*) FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n4';
RESET statement_timeout;
\! python3 test/mockctl.py log --authorized | sort | uniq -c
\! python3 test/mockctl.py reset

-- ===================================================================
-- gzip: libcurl offers it and decodes it; max_page_bytes applies to the
-- decoded body (here about 13 kB, sent as less than 1 kB)
-- ===================================================================
\! python3 test/mockctl.py fault '{"match": "clusters/n20/", "kind": "gzip"}'
SELECT count(*) FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n20';
\! python3 test/mockctl.py stats --key gzip_sent
ALTER SERVER pr_srv OPTIONS (ADD max_page_bytes '4096');
\! python3 test/mockctl.py fault '{"match": "clusters/n20/", "kind": "gzip"}'
SELECT count(*) FROM pr.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n20';
\! python3 test/mockctl.py stats --key gzip_sent
ALTER SERVER pr_srv OPTIONS (DROP max_page_bytes);
\! python3 test/mockctl.py reset

-- ===================================================================
-- a refused connection is retried with backoff (max_retries times), then
-- reported
-- ===================================================================
CREATE SERVER pr_closed FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url 'http://127.0.0.1:9', max_retries '2', max_retry_wait_ms '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER pr_closed
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE pr_closed_snaps (group_id text, cluster_name text, id text)
	SERVER pr_closed OPTIONS (resource 'cluster_snapshots');
\set VERBOSITY terse
SELECT * FROM pr_closed_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\set VERBOSITY default

-- ===================================================================
-- service accounts: a token is renewed when it is due, before Atlas
-- refuses it (no 401 in the log); one that Atlas refuses is renewed and
-- the request repeated (a retry in the statistics).  Cancels during a
-- token request are in cancel.sql (timing-bound, not run under valgrind).
-- ===================================================================
CREATE SERVER pr_sa FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_concurrency '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER pr_sa
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE pr_sa_snaps (group_id text, cluster_name text, id text)
	SERVER pr_sa OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "token", "expires_in": 4}'
SELECT count(*) FROM pr_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n2';
\! sleep 4.5
SELECT count(*) FROM pr_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n2';
\! python3 test/mockctl.py log
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py revoke-tokens
SELECT count(*) FROM pr_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n2';
\! python3 test/mockctl.py log
\! python3 test/mockctl.py reset
-- ===================================================================
-- what the statistics counted: retries include the refused connections
-- and the request repeated with a new token
-- ===================================================================
SELECT server_name, retries, tokens, errors, last_error
  FROM atlas_snapshot_fdw_stats()
 WHERE server_name IN ('pr_closed', 'pr_sa') ORDER BY 1;

DROP SCHEMA pr CASCADE;
DROP SERVER pr_srv, pr_closed, pr_sa CASCADE;
