--
-- typed_keys: a request key column holds what the same value read from a
-- JSON field would give (its type's input function and typmod, domains
-- checked), whether the value came from the WHERE clause (a direct scan)
-- or from the inventory (an enumerated scan); a value the column's type
-- would hold as a different value (an integer beyond its range, a point in
-- time finer than its precision) equals no row and makes no request
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER tk_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER tk_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
\! python3 test/mockctl.py reset

-- a domain's CHECK: a value it rejects is an error naming the column,
-- never a row (synthetic clusters nN pass, prod-project's prod-1 does not)
CREATE DOMAIN synthetic_name AS text CHECK (VALUE ~ '^n[0-9]+$');
CREATE FOREIGN TABLE tk_domain (group_id text, cluster_name synthetic_name, id text)
	SERVER tk_srv OPTIONS (resource 'cluster_snapshots');
SELECT cluster_name, count(*) FROM tk_domain
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n3' GROUP BY 1;
SELECT cluster_name, id FROM tk_domain
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
-- enumerated: prod-project's one cluster with snapshots is prod-1
SELECT cluster_name, id FROM tk_domain WHERE group_id = '32b6e34b3d91647abb20e7b8';
-- nothing reaches a local table of the same domain
CREATE TABLE tk_local (cluster_name synthetic_name, id text);
INSERT INTO tk_local SELECT cluster_name, id FROM tk_domain
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n2', 'prod-1');
INSERT INTO tk_local SELECT cluster_name, id FROM tk_domain
 WHERE group_id = '32b6e34b3d91647abb20e7b8';
INSERT INTO tk_local SELECT cluster_name, id FROM tk_domain
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n2', 'n3');
SELECT cluster_name, count(*) FROM tk_local GROUP BY 1 ORDER BY 1;
-- a domain that prod-1 passes
CREATE DOMAIN prod_name AS text CHECK (VALUE LIKE 'prod-%');
ALTER FOREIGN TABLE tk_domain ALTER COLUMN cluster_name TYPE prod_name;
SELECT cluster_name, count(*) FROM tk_domain
 WHERE group_id = '32b6e34b3d91647abb20e7b8' GROUP BY 1;
SELECT cluster_name, count(*) FROM tk_domain
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = ANY (
       (SELECT array_agg('n' || i) FROM generate_series(1, 100) i)::text[])
 GROUP BY 1;

-- integer: integer equality is not Atlas's text equality, so the qual stays
-- local and the project's clusters are enumerated; their names are not
-- integers
CREATE FOREIGN TABLE tk_int (group_id text, cluster_name integer, id text)
	SERVER tk_srv OPTIONS (resource 'cluster_snapshots');
EXPLAIN (VERBOSE, COSTS OFF)
SELECT cluster_name, id FROM tk_int
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 1;
SELECT cluster_name, id FROM tk_int
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 1;
SELECT cluster_name, id FROM tk_int WHERE group_id = '32b6e34b3d91647abb20e7b8';

-- name: enumerated too (name equality), and the names come through
CREATE FOREIGN TABLE tk_name (group_id text, cluster_name name, id text)
	SERVER tk_srv OPTIONS (resource 'cluster_snapshots');
SELECT cluster_name, pg_typeof(cluster_name), count(*) FROM tk_name
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' GROUP BY 1, 2;
SELECT cluster_name, count(*) FROM tk_name
 WHERE group_id = '32b6e34b3d91647abb20e7b8' GROUP BY 1;

-- varchar(3): text equality, pushed; a name that fits comes through, a
-- longer one is the error varchar's input function gives, after the request
CREATE FOREIGN TABLE tk_short (group_id text, cluster_name varchar(3), id text)
	SERVER tk_srv OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py reset
SELECT cluster_name, count(*) FROM tk_short
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n12' GROUP BY 1;
SELECT cluster_name FROM tk_short
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100';
\! python3 test/mockctl.py log --authorized
SELECT cluster_name FROM tk_short WHERE group_id = '32b6e34b3d91647abb20e7b8';

-- jsonb: the name as a JSON string
CREATE FOREIGN TABLE tk_json (group_id text, cluster_name jsonb, id text)
	SERVER tk_srv OPTIONS (resource 'cluster_snapshots');
SELECT cluster_name, count(*) FROM tk_json
 WHERE group_id = '32b6e34b3d91647abb20e7b8' GROUP BY 1;

-- integer keys of integer and smallint columns: any integer equality is
-- pushed; a value beyond the column's range equals no row and makes no
-- request, directly or enumerated
CREATE FOREIGN TABLE tk_oplog (
	group_id text, cluster_name text, id text, created_at timestamptz,
	oplog_ts integer, oplog_inc smallint
) SERVER tk_srv OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py reset
SELECT id, created_at, oplog_ts, oplog_inc FROM tk_oplog
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100'
   AND oplog_ts = 1793487600 AND oplog_inc = 3;
SELECT id, created_at, oplog_ts, oplog_inc FROM tk_oplog
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100'
   AND oplog_ts = 1793487600::bigint AND oplog_inc = 3::bigint;
\! python3 test/mockctl.py log --authorized
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, oplog_ts, oplog_inc FROM tk_oplog
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100'
   AND oplog_ts = 4294967297::bigint AND oplog_inc = 3;
SELECT id, oplog_ts, oplog_inc FROM tk_oplog
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100'
   AND oplog_ts = 4294967297::bigint AND oplog_inc = 3;
SELECT id, oplog_ts, oplog_inc FROM tk_oplog
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100'
   AND oplog_ts = 1793487600 AND oplog_inc = 65539;
SELECT id, oplog_ts, oplog_inc FROM tk_oplog
 WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND oplog_ts = 4294967297::bigint AND oplog_inc = 3;
\! python3 test/mockctl.py log --authorized | wc -l
-- the issue's form: an integer oplog_ts, a bigint oplog_inc
CREATE FOREIGN TABLE tk_oplog8 (
	group_id text, cluster_name text, id text, oplog_ts integer, oplog_inc bigint
) SERVER tk_srv OPTIONS (resource 'cluster_snapshots');
SELECT id, oplog_ts, oplog_inc FROM tk_oplog8
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100'
   AND oplog_ts = 4294967297::bigint AND oplog_inc = 3;
SELECT id, oplog_ts, oplog_inc FROM tk_oplog8
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100'
   AND oplog_ts = 1793487600::bigint AND oplog_inc = 3;
\! python3 test/mockctl.py log --authorized | grep -c snapshots
-- the same from a parameter (a generic plan)
SET plan_cache_mode = force_generic_plan;
PREPARE tk_q(bigint) AS SELECT id, oplog_ts FROM tk_oplog
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100'
   AND oplog_ts = $1 AND oplog_inc = 3;
EXECUTE tk_q(4294967297);
EXECUTE tk_q(1793487600);
EXECUTE tk_q(-4294967296 + 1793487600);
DEALLOCATE tk_q;
RESET plan_cache_mode;

-- timestamptz(0): a point in time with a fraction equals no row; a whole
-- second is asked for and comes back as it is
CREATE FOREIGN TABLE tk_pit (
	group_id text, cluster_name text, id text, point_in_time timestamptz(0)
) SERVER tk_srv OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py reset
SELECT id, point_in_time FROM tk_pit
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
   AND point_in_time = '2026-10-31 18:00:00.75+00';
SELECT id, point_in_time FROM tk_pit
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
   AND point_in_time = '2026-10-31 18:00:01+00';
\! python3 test/mockctl.py log --authorized
-- a domain over timestamptz is checked like any other
CREATE DOMAIN pit_2025 AS timestamptz CHECK (VALUE < '2026-01-01');
ALTER FOREIGN TABLE tk_pit ALTER COLUMN point_in_time TYPE pit_2025;
SELECT id, point_in_time FROM tk_pit
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
   AND point_in_time = '2026-10-31 18:00:00.75+00';

DROP TABLE tk_local;
DROP SERVER tk_srv CASCADE;
DROP DOMAIN synthetic_name, prod_name, pit_2025;
\! python3 test/mockctl.py reset
