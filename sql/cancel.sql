--
-- cancel: a request that hangs can always be cancelled, by
-- statement_timeout or by pg_cancel_backend from another session, and the
-- session goes on working
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER cancel_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', timeout_ms '60000');
CREATE USER MAPPING FOR CURRENT_USER SERVER cancel_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE cancel_snaps (group_id text, cluster_name text, id text)
	SERVER cancel_srv OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py reset

-- statement_timeout
\! python3 test/mockctl.py fault '{"match": "clusters/n7/", "kind": "stall", "seconds": 4}'
SET statement_timeout = '500ms';
SELECT count(*) FROM cancel_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n7';
RESET statement_timeout;
SELECT count(*) FROM cancel_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n7';

-- while it waits, the backend shows the Extension wait event; another
-- session cancels it
\! python3 test/mockctl.py fault '{"match": "clusters/n8/", "kind": "stall", "seconds": 4}'
\! sh test/cancel_observer.sh n8 > results/atlas_cancel_observer.out 2>&1 &
SELECT count(*) FROM cancel_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n8';
\! for i in 1 2 3 4 5 6 7 8 9 10; do [ -s results/atlas_cancel_observer.out ] && break; sleep 0.2; done; cat results/atlas_cancel_observer.out; rm -f results/atlas_cancel_observer.out
SELECT count(*) FROM cancel_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n8';

-- a retry wait is interruptible too
ALTER SERVER cancel_srv OPTIONS (ADD max_retries '5', ADD max_retry_wait_ms '20000');
\! python3 test/mockctl.py fault '{"match": "clusters/n9/", "kind": "status", "status": 503, "retry_after": 20, "count": 1}'
SET statement_timeout = '500ms';
SELECT count(*) FROM cancel_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n9';
RESET statement_timeout;
SELECT count(*) FROM cancel_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n9';

-- a service account's token request can be cancelled too, while it hangs
-- and while it waits to be retried
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
CREATE SERVER cancel_sa FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '5', max_retry_wait_ms '20000');
CREATE USER MAPPING FOR CURRENT_USER SERVER cancel_sa
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE cancel_sa_snaps (group_id text, cluster_name text, id text)
	SERVER cancel_sa OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "stall", "seconds": 4}'
SET statement_timeout = '500ms';
SELECT count(*) FROM cancel_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n2';
RESET statement_timeout;
SELECT count(*) FROM cancel_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n2';
\! python3 test/mockctl.py revoke-tokens
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "status", "status": 503, "retry_after": 20}'
SET statement_timeout = '500ms';
SELECT count(*) FROM cancel_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n2';
RESET statement_timeout;
SELECT count(*) FROM cancel_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n2';

-- cancels are not counted as errors; retries are the 503s retried (of
-- n9, and of the token endpoint before its wait was cancelled) and the
-- request answered 401, to be repeated with a new token
SELECT server_name, retries, tokens, errors, last_error
  FROM atlas_snapshot_fdw_stats() WHERE server_name LIKE 'cancel%' ORDER BY 1;

-- a subtransaction that fails detaches the transfers started in it: a
-- cursor of the outer transaction whose pages were in flight (page 3
-- stalls, long past the statement_timeout) asks for them again, and reads
-- every row.  Page 2 is slow, so that page 3's request has gone out when
-- FETCH 3 returns (between statements nothing moves transfers along)
ALTER FOREIGN TABLE cancel_snaps OPTIONS (ADD items_per_page '2');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n8/.*pageNum=2&", "kind": "stall", "seconds": 1}'
\! python3 test/mockctl.py fault '{"match": "clusters/n8/.*pageNum=3&", "kind": "stall", "seconds": 30}'
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM cancel_snaps
	WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n8';
SAVEPOINT s;
FETCH 3 FROM c;
-- (page 3's request has reached the mock, and stalls)
\! for i in $(seq 1 100); do python3 test/mockctl.py faults | grep -q stall || break; sleep 0.1; done
SELECT 1 / 0;
ROLLBACK TO s;
SET LOCAL statement_timeout = '10s';
FETCH ALL FROM c;
COMMIT;
\! python3 test/mockctl.py reset

-- a transfer started in a subtransaction that commits belongs to its
-- parent from then on: a later sibling subtransaction that fails does not
-- detach it, and page 3 is asked for once (the mock logs an answer when
-- it is sent: the sleep lets a stalled answer that nobody reads any more
-- reach the log too, were the request sent again)
\! python3 test/mockctl.py fault '{"match": "clusters/n8/.*pageNum=2&", "kind": "stall", "seconds": 1}'
\! python3 test/mockctl.py fault '{"match": "clusters/n8/.*pageNum=3&", "kind": "stall", "seconds": 2}'
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM cancel_snaps
	WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n8';
SAVEPOINT a;
FETCH 3 FROM c;
RELEASE a;
\! for i in $(seq 1 100); do python3 test/mockctl.py faults | grep -q stall || break; sleep 0.1; done
SAVEPOINT b;
SELECT 1 / 0;
ROLLBACK TO b;
FETCH ALL FROM c;
COMMIT;
\! sleep 2; python3 test/mockctl.py log --authorized --grep 'clusters/n8/.*pageNum=3&' | wc -l
\! python3 test/mockctl.py reset

DROP SERVER cancel_srv, cancel_sa CASCADE;
