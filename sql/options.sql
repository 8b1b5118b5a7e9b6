--
-- options: the validator, where options and secrets may live, and the
-- errors of a scan that cannot be planned
--
\set VERBOSITY default

-- the wrapper itself takes no options
ALTER FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'https://x');

-- servers: unknown options, secrets, values
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (nope 'x');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (private_key 'x');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'ftp://cloud.mongodb.com');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://cloud.mongodb.com');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'https://user:pw@cloud.mongodb.com');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'https://');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (items_per_page '0');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (items_per_page '501');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (items_per_page 'ten');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (timeout_ms '-1');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (max_page_bytes '10');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (max_retries '11');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (max_retry_wait_ms '-5');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (max_concurrency '0');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (max_concurrency '65');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (ca_file 'certs/ca.pem');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (client_secret 'x');
CREATE SERVER opt_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url 'https://cloud.mongodb.com/', items_per_page '100',
			 connect_timeout_ms '2000', timeout_ms '30000', max_page_bytes '1048576',
			 max_retries '0', max_retry_wait_ms '0', ca_file '/etc/ssl/certs/ca-certificates.crt',
			 max_concurrency '64');
CREATE SERVER opt_loop FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://127.0.0.1:9');
CREATE SERVER opt_loop6 FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://[::1]:9/');
CREATE SERVER opt_default FOREIGN DATA WRAPPER atlas_snapshot_fdw;

-- user mappings: credentials live here, and only here
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv OPTIONS (public_key 'abcdefgh');
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv OPTIONS (private_key 'x');
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv OPTIONS (resource 'projects');
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv OPTIONS (client_id 'mdb_sa_id_x');
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv;
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv
	OPTIONS (public_key 'abcdefgh', private_key 'x', client_id 'mdb_sa_id_x', client_secret 'y');
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_srv
	OPTIONS (public_key 'abcdefgh', private_key 'not-a-real-key');
ALTER USER MAPPING FOR CURRENT_USER SERVER opt_srv OPTIONS (DROP private_key);
ALTER USER MAPPING FOR CURRENT_USER SERVER opt_srv OPTIONS (ADD client_id 'x', ADD client_secret 'y');
CREATE USER MAPPING FOR PUBLIC SERVER opt_srv
	OPTIONS (client_id 'mdb_sa_id_x', client_secret 'not-a-real-secret');

-- foreign tables and columns
CREATE FOREIGN TABLE opt_bad (id text) SERVER opt_srv OPTIONS (resource 'nope');
CREATE FOREIGN TABLE opt_bad (id text) SERVER opt_srv OPTIONS (private_key 'x');
CREATE FOREIGN TABLE opt_bad (id text) SERVER opt_srv OPTIONS (items_per_page '1000');
CREATE FOREIGN TABLE opt_bad (id text OPTIONS (field '')) SERVER opt_srv;
CREATE FOREIGN TABLE opt_bad (id text OPTIONS (json 'id')) SERVER opt_srv;
CREATE FOREIGN TABLE cluster_snapshots (group_id text, cluster_name text, id text)
	SERVER opt_srv;
CREATE FOREIGN TABLE opt_snaps (
	group_id text NOT NULL, cluster_name text NOT NULL, id text, status text,
	size bigint OPTIONS (field 'storageSizeBytes')
) SERVER opt_srv OPTIONS (resource 'cluster_snapshots', items_per_page '50');
CREATE FOREIGN TABLE opt_noresource (id text) SERVER opt_srv;

-- enumerate is a boolean, on servers and tables
CREATE FOREIGN TABLE opt_bad (id text) SERVER opt_srv OPTIONS (enumerate 'maybe');
ALTER FOREIGN TABLE opt_snaps OPTIONS (ADD enumerate 'false');
-- with enumeration off, a scan needs its endpoint's keys, checked before
-- any request is made
SELECT id FROM opt_snaps;
SELECT id FROM opt_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8';
SELECT id FROM opt_snaps WHERE cluster_name = 'prod-1';
SELECT id FROM opt_snaps WHERE group_id LIKE '32b6%' AND cluster_name = 'prod-1';
SELECT id FROM opt_snaps WHERE group_id = 'not-hex' AND cluster_name = 'prod-1';
SELECT id FROM opt_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = '-bad';
SELECT id FROM opt_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'a/b';
SELECT id FROM opt_noresource;
-- the table named after a resource needs no resource option
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM cluster_snapshots WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- a NULL key matches nothing, and asks nothing
SELECT id FROM opt_snaps WHERE group_id = NULL AND cluster_name = 'prod-1';

-- options as stored
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname LIKE 'opt%' ORDER BY 1;
SELECT relname, ftoptions FROM pg_foreign_table JOIN pg_class ON oid = ftrelid
 WHERE relname LIKE 'opt%' OR relname = 'cluster_snapshots' ORDER BY 1;

-- only superusers may point a server somewhere else
CREATE ROLE atlas_opt_user;
GRANT USAGE ON FOREIGN DATA WRAPPER atlas_snapshot_fdw TO atlas_opt_user;
SET ROLE atlas_opt_user;
CREATE SERVER opt_evil FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'https://attacker.example');
CREATE SERVER opt_user FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (items_per_page '10');
ALTER SERVER opt_user OPTIONS (ADD base_url 'http://127.0.0.1:22');
ALTER SERVER opt_user OPTIONS (ADD ca_file '/tmp/evil-ca.pem');
ALTER SERVER opt_user OPTIONS (ADD proxy 'http://127.0.0.1:3128');
CREATE SERVER opt_evil_proxy FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (proxy 'http://proxy.example:3128');
ALTER SERVER opt_user OPTIONS (ADD max_retries '1');
-- a non-owner cannot read someone else's credentials
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'opt_srv';
DROP SERVER opt_user;
RESET ROLE;
SELECT srvname, array(SELECT split_part(o, '=', 1) FROM unnest(umoptions) o) AS option_names
  FROM pg_user_mappings WHERE srvname = 'opt_srv';
DROP OWNED BY atlas_opt_user;
DROP ROLE atlas_opt_user;

DROP SERVER opt_srv, opt_loop, opt_loop6, opt_default CASCADE;
