--
-- tls: HTTPS on loopback, with a throwaway CA made at test time
-- (test/tls_mock.sh) and given by ca_file; the same server without
-- ca_file is refused (certificates are always verified)
--
SET TIME ZONE 'UTC';
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
-- its files in a directory of this tree's own: the suite may run from
-- other trees at the same time
\! sh test/tls_mock.sh start /tmp/atlas_snapshot_fdw_tls.$(pwd | cksum | cut -d" " -f1)
\set tls_url `cat /tmp/atlas_snapshot_fdw_tls.$(pwd | cksum | cut -d" " -f1)/url`
\set ca_file `echo /tmp/atlas_snapshot_fdw_tls.$(pwd | cksum | cut -d" " -f1)/ca.pem`
CREATE SERVER tls_ca FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'tls_url', ca_file :'ca_file', max_retries '0');
CREATE SERVER tls_noca FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'tls_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls_ca
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls_noca
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE tls_ca_snaps (group_id text, cluster_name text, id text, status text)
	SERVER tls_ca OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE tls_noca_snaps (group_id text, cluster_name text, id text, status text)
	SERVER tls_noca OPTIONS (resource 'cluster_snapshots');

-- over HTTPS, verified against the CA of ca_file (several pages)
SELECT count(*), count(DISTINCT id) FROM tls_ca_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1200';
SELECT id, status FROM tls_ca_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' ORDER BY id LIMIT 2;

-- without ca_file the certificate does not verify against the system CAs:
-- the connection is refused
\set VERBOSITY sqlstate
SELECT count(*) FROM tls_noca_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\set VERBOSITY default

SELECT server_name, pages, errors, last_error LIKE 'could not connect to Atlas API at "https://127.0.0.1:%"' AS refused
  FROM atlas_snapshot_fdw_stats() WHERE server_name LIKE 'tls%' ORDER BY 1;

DROP SERVER tls_ca, tls_noca CASCADE;
\! sh test/tls_mock.sh stop /tmp/atlas_snapshot_fdw_tls.$(pwd | cksum | cut -d" " -f1)
