--
-- pacing: adaptive concurrency (issue 20).  A 429 or 503 halves the
-- transfers a scan keeps in flight, once per round trip; the statistics
-- count the answers, the cuts and the peak in flight.  No timing here:
-- bench/adaptive.py measures it.
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER pace_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_concurrency '8', max_retries '3', max_retry_wait_ms '50');
CREATE USER MAPPING FOR CURRENT_USER SERVER pace_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE pace_snaps (group_id text, cluster_name text, id text)
	SERVER pace_srv OPTIONS (resource 'cluster_snapshots');
CREATE FUNCTION pace_stats(OUT requests bigint, OUT retries bigint, OUT rate_limited bigint,
						   OUT concurrency_cuts bigint, OUT peak_in_flight integer,
						   OUT waited boolean)
LANGUAGE sql AS $$
	SELECT requests, retries, rate_limited, concurrency_cuts, peak_in_flight,
		   rate_limit_wait_ms > 0
	  FROM atlas_snapshot_fdw_stats() WHERE server_name = 'pace_srv'
$$;
\! python3 test/mockctl.py reset

-- clean answers: the scan starts fast, all eight clusters at once
SELECT count(*) FROM pace_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name IN ('n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8');
SELECT * FROM pace_stats();

-- a storm: the eight requests in flight are all answered 429.  One cut
-- (from 8 to 4): the other seven answers were to requests sent before it.
-- The scan waits, retries and reads every row.
\! python3 test/mockctl.py fault '{"match": "clusters/n[1-8]/", "kind": "status", "status": 429, "errorCode": "RATE_LIMITED", "retry_after": 0, "count": 8}'
SELECT count(*) FROM pace_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name IN ('n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8');
SELECT * FROM pace_stats();

-- a persistent 503 on one cluster: every retry is a new round trip, so
-- every answer cuts again (8, 4, 2, 1, then it stays at 1) until the
-- retries run out
\! python3 test/mockctl.py fault '{"match": "clusters/n3/", "kind": "status", "status": 503, "errorCode": "SERVICE_UNAVAILABLE", "retry_after": 0, "count": -1}'
\set VERBOSITY terse
SELECT count(*) FROM pace_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = 'n3';
\set VERBOSITY default
SELECT * FROM pace_stats();
\! python3 test/mockctl.py reset

-- EXPLAIN ANALYZE shows the pacing with COSTS (numbers masked here: the
-- peak and the wait vary), and nothing of it under COSTS OFF
CREATE FUNCTION pace_explain(query text, costs boolean) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE format('EXPLAIN (ANALYZE, COSTS %s, TIMING OFF, SUMMARY OFF) ',
								   CASE WHEN costs THEN 'ON' ELSE 'OFF' END) || query LOOP
		IF line ~ 'Atlas' THEN
			RETURN NEXT regexp_replace(line, '[0-9]+(\.[0-9]+)?', 'N', 'g');
		END IF;
	END LOOP;
END $$;
SELECT pace_explain($$SELECT * FROM pace_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name IN ('n1', 'n2')$$, true);
SELECT pace_explain($$SELECT * FROM pace_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name IN ('n1', 'n2')$$, false);

-- what the inventory of an enumeration learned of the rate limit paces
-- its snapshot requests: after the project's cluster list answers with
-- RateLimit-Remaining 0, one snapshot request at a time is in flight
-- until an answer tells of tokens again (here the first, which the mock
-- holds for half a second: nothing else may start meanwhile), not eight
-- at once.  The mock's variant "wide" lists n1 .. n100 in
-- analytics-project (nK has K snapshots).
CREATE FOREIGN TABLE pace_enum (group_id text, cluster_name text, id text)
	SERVER pace_srv OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py variant '{"wide": true}'
\! python3 test/mockctl.py fault '{"match": "groups/6b8cd3c1e8f0b0a1d2c3d4e5/clusters\\?", "kind": "rate_headers", "remaining": 0}'
\! python3 test/mockctl.py fault '{"match": "clusters/n1/backup", "kind": "stall", "seconds": 0.5}'
SELECT count(*) FROM pace_enum WHERE group_id = '6b8cd3c1e8f0b0a1d2c3d4e5';
\! python3 test/mockctl.py overlap --first 'clusters/n1/backup' --others '/backup/'
-- the requests in the mock's order: the cluster list, then n1 alone
\! python3 test/mockctl.py log --authorized | sed -n 1,2p
\! python3 test/mockctl.py reset

-- RateLimit-Remaining: after an answer, no more requests start than the
-- tokens it said were left, capped by RateLimit-Limit (one always may).
-- One cluster of 20 pages and the empty 21st (items_per_page 1): its first
-- page alone, then the others fetched ahead.  Per scan, from EXPLAIN
-- ANALYZE: the requests and the peak in flight (which counts a transfer
-- until the scan has taken its answer); from the mock's log: the most
-- requests it had in hand at once (answers held 20 ms, so that overlaps
-- show), which a request sent only after an answer never adds to.
CREATE FOREIGN TABLE pace_pages (group_id text, cluster_name text, id text)
	SERVER pace_srv OPTIONS (resource 'cluster_snapshots', items_per_page '1');
CREATE FUNCTION pace_scan(query text, OUT requests int, OUT rate_limited int,
						  OUT peak_in_flight int)
LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS ON, TIMING OFF, SUMMARY OFF) ' || query LOOP
		IF line ~ 'Atlas Requests:' THEN
			requests := substring(line from '[0-9]+')::int;
		ELSIF line ~ 'Atlas Rate Limited:' THEN
			rate_limited := substring(line from '[0-9]+')::int;
		ELSIF line ~ 'Atlas Peak In Flight:' THEN
			peak_in_flight := substring(line from '[0-9]+')::int;
		END IF;
	END LOOP;
END $$;
-- no RateLimit constraint (the mock's window is far from spent): eight at once
\! python3 test/mockctl.py reset
SELECT * FROM pace_scan($$SELECT * FROM pace_pages WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n20'$$);
-- two tokens left after every answer: two at the mock at most
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n20/", "kind": "rate_headers", "remaining": 2, "limit": 100, "wait_ms": 20, "count": -1}'
SELECT requests, rate_limited, peak_in_flight < 8 AS held_back
  FROM pace_scan($$SELECT * FROM pace_pages WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n20'$$);
\! python3 test/mockctl.py in-flight --grep 'clusters/n20/' | awk '{ print ($1 <= 2) ? "the mock had at most 2 at once" : "the mock had " $1 " at once" }'
-- none left: one request at a time, each after the answer before it
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n20/", "kind": "rate_headers", "remaining": 0, "limit": 100, "wait_ms": 20, "count": -1}'
SELECT * FROM pace_scan($$SELECT * FROM pace_pages WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n20'$$);
\! python3 test/mockctl.py in-flight --grep 'clusters/n20/'
-- RateLimit-Remaining beyond RateLimit-Limit counts as the limit
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n20/", "kind": "rate_headers", "remaining": 5, "limit": 1, "wait_ms": 20, "count": -1}'
SELECT requests, rate_limited, peak_in_flight < 8 AS held_back
  FROM pace_scan($$SELECT * FROM pace_pages WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n20'$$);
\! python3 test/mockctl.py in-flight --grep 'clusters/n20/'
\! python3 test/mockctl.py reset

-- growth: a 429 to the first page halves eight to four; then every four
-- windows of clean answers (4 x 4 = 16 answers at four) add one.  Twelve
-- pages end before the limit grows: four at most.  Forty pages grow it
-- past four.  Every other answer is held 100 ms, so that pages arrive
-- slower than the scan reads them (also under valgrind) and only the limit
-- bounds what is in flight.  The mock's log counts the requests: each page
-- once, the first twice.
\! python3 test/mockctl.py fault '{"match": "clusters/n12/.*pageNum=1&", "kind": "status", "status": 429, "retry_after": 0, "count": 1}'
\! python3 test/mockctl.py fault '{"match": "clusters/n12/", "kind": "stall", "seconds": 0.1, "count": -1}'
SELECT * FROM pace_scan($$SELECT * FROM pace_pages WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n12'$$);
\! python3 test/mockctl.py log --authorized --grep 'clusters/n12/' | wc -l
\! python3 test/mockctl.py fault '{"match": "clusters/n40/.*pageNum=1&", "kind": "status", "status": 429, "retry_after": 0, "count": 1}'
\! python3 test/mockctl.py fault '{"match": "clusters/n40/", "kind": "stall", "seconds": 0.1, "count": -1}'
SELECT requests, rate_limited, peak_in_flight > 4 AS grew, peak_in_flight <= 8 AS within_max
  FROM pace_scan($$SELECT * FROM pace_pages WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n40'$$);
\! python3 test/mockctl.py log --authorized --grep 'clusters/n40/' | wc -l
\! python3 test/mockctl.py reset
DROP FUNCTION pace_scan(text);
DROP FOREIGN TABLE pace_pages;

DROP FUNCTION pace_explain(text, boolean);
DROP FUNCTION pace_stats();
DROP SERVER pace_srv CASCADE;
