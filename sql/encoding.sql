--
-- encoding: Atlas sends UTF-8; in a database of another encoding, values
-- are converted (an unconvertible character is an error naming the
-- column), and an error detail shows '?' for characters beyond ASCII
-- rather than risk an error of its own that would hide the one it explains
--
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE DATABASE atlas_latin1 TEMPLATE template0 ENCODING 'LATIN1'
	LC_COLLATE 'C' LC_CTYPE 'C';
\c atlas_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION atlas_snapshot_fdw;
CREATE SERVER enc_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER enc_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE enc_snaps (
	group_id text NOT NULL, cluster_name text NOT NULL, id text,
	description text, links jsonb, regions text[] OPTIONS (field 'copyRegions')
) SERVER enc_srv OPTIONS (resource 'cluster_snapshots');
\! python3 test/mockctl.py reset
\set VERBOSITY default

-- characters LATIN1 has are converted, escaped or not
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body": "{\"results\": [{\"id\": \"a\", \"description\": \"caf\u00e9 \\u00c5\", \"links\": [{\"rel\": \"s\u00e9lf\"}], \"copyRegions\": [\"\u00e9u\"]}]}"}'
SELECT id, description, octet_length(description) AS bytes_in_latin1, links, regions
  FROM enc_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- one it lacks is an error naming the column
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body": "{\"results\": [{\"id\": \"a\", \"description\": \"snow \u2603\"}]}"}'
SELECT description FROM enc_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- ... but only when a column reads it
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body": "{\"results\": [{\"id\": \"a\", \"description\": \"snow \u2603\"}]}"}'
SELECT id FROM enc_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- an error detail shows '?' for characters beyond ASCII
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "status": 503, "body": "{\"errorCode\": \"SERVICE_UNAVAILABLE\", \"detail\": \"Maintenance \u2603 caf\u00e9, back soon.\"}"}'
SELECT id FROM enc_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

\! python3 test/mockctl.py reset
\c contrib_regression
DROP DATABASE atlas_latin1;
