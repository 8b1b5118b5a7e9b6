--
-- keys: huge key lists are deduplicated and intersected quickly, expanded
-- into request chains lazily, and refused past max_request_chains before
-- any request; a scan with a huge key list can always be cancelled
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER keys_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER keys_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE keys_snaps (group_id text, cluster_name text, id text)
	SERVER keys_srv OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py reset

-- the option's range
ALTER SERVER keys_srv OPTIONS (ADD max_request_chains '0');
ALTER FOREIGN TABLE keys_snaps OPTIONS (ADD max_request_chains 'many');

-- 200,000 values naming three clusters: three request chains
SELECT cluster_name, count(*) FROM keys_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY ((SELECT array_agg((ARRAY['n3', 'n1', 'n2'])[1 + i % 3])
                              FROM generate_series(1, 200000) i)::text[])
 GROUP BY 1 ORDER BY 1;
\! python3 test/mockctl.py log --authorized | wc -l

-- 200,000 distinct values intersected with 200,000 others: nothing left,
-- no request
\! python3 test/mockctl.py reset
SELECT count(*) FROM keys_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY ((SELECT array_agg('a' || i) FROM generate_series(1, 200000) i)::text[])
   AND cluster_name = ANY ((SELECT array_agg('b' || i) FROM generate_series(1, 200000) i)::text[]);
-- ... and with a short list: what both allow, in the short list's order
SELECT cluster_name, count(*) FROM keys_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY ((SELECT array_agg('n' || i) FROM generate_series(1, 200000) i)::text[])
   AND cluster_name IN ('n5', 'zz', 'n2', 'n5')
 GROUP BY 1 ORDER BY 1;
\! python3 test/mockctl.py log --authorized | wc -l

-- 65,536 projects x 65,536 clusters: refused before any request, naming
-- the count and the option (the count used to overflow into no row at all)
\! python3 test/mockctl.py reset
SELECT count(*) FROM keys_snaps
 WHERE group_id = ANY ((SELECT array_agg(lpad(to_hex(i), 24, '0')) FROM generate_series(1, 65536) i)::text[])
   AND cluster_name = ANY ((SELECT array_agg('c' || i) FROM generate_series(1, 65536) i)::text[]);
\! python3 test/mockctl.py log --authorized | wc -l

-- the limit is a server option, and a table option overrides it
ALTER SERVER keys_srv OPTIONS (ADD max_request_chains '2');
SELECT count(*) FROM keys_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1', 'n2', 'n3');
ALTER FOREIGN TABLE keys_snaps OPTIONS (ADD max_request_chains '3');
SELECT count(*) FROM keys_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1', 'n2', 'n3');
-- a parameterized scan counts the chains of each outer row (enumeration
-- off: reading the project's inventory instead would need no key values)
ALTER FOREIGN TABLE keys_snaps OPTIONS (ADD enumerate 'false');
SELECT k.c, count(s.id) FROM (VALUES (ARRAY['n1', 'n2']), (ARRAY['n1', 'n2', 'n3', 'n4'])) AS k(c)
  LEFT JOIN LATERAL (SELECT id FROM keys_snaps
                      WHERE group_id = '32b6e34b3d91647abb20e7b8'
                        AND cluster_name = ANY (k.c)) s ON true
 GROUP BY 1 ORDER BY 1;

-- 200,000 chains are allowed here, and made one at a time: the first
-- requests stall, and statement_timeout cancels the query
ALTER FOREIGN TABLE keys_snaps OPTIONS (SET max_request_chains '200000');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/c", "kind": "stall", "seconds": 3, "count": -1}'
SET statement_timeout = '1s';
\set VERBOSITY terse
SELECT count(*) FROM keys_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY ((SELECT array_agg('c' || i) FROM generate_series(1, 200000) i)::text[]);
\set VERBOSITY default
RESET statement_timeout;
\! python3 test/mockctl.py reset
-- the session goes on working
SELECT count(*) FROM keys_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1', 'n2', 'n3');

-- the planner counts one request chain (a list of 500 rows, it assumes)
-- per key value; several quals on one key intersect, so the smallest
-- count stands for the key, whatever the order of the quals
CREATE FUNCTION plan_rows(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
	RETURN (plan->0->'Plan'->>'Plan Rows')::float8;
END $$;
SELECT plan_rows($$SELECT * FROM keys_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
	AND cluster_name IN ('n1', 'n2', 'n3')$$) AS three,
       plan_rows($$SELECT * FROM keys_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
	AND cluster_name = ANY ('{n1}'::text[]) AND cluster_name IN ('n1', 'n2', 'n3')$$) AS one_then_three,
       plan_rows($$SELECT * FROM keys_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
	AND cluster_name IN ('n1', 'n2', 'n3') AND cluster_name = ANY ('{n1}'::text[])$$) AS three_then_one;
DROP FUNCTION plan_rows;

DROP SERVER keys_srv CASCADE;
