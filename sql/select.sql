--
-- select: column mapping, types, NULLs, conversion errors
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER sel_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER sel_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');

-- the table of the quick start, with every column of the contract
CREATE FOREIGN TABLE cluster_snapshots (
    group_id text NOT NULL, cluster_name text NOT NULL, id text, cloud_provider text,
    copy_regions text[], created_at timestamptz, description text, expires_at timestamptz,
    frequency_type text, master_key_uuid uuid, mongod_version text, policy_items text[],
    replica_set_name text, snapshot_type text, status text, storage_size_bytes bigint, type text
) SERVER sel_srv OPTIONS (resource 'cluster_snapshots');

SELECT id, created_at, status, storage_size_bytes FROM cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
 ORDER BY created_at DESC;

\x on
SELECT * FROM cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
 ORDER BY created_at DESC;
\x off

-- types as declared
SELECT pg_typeof(created_at), pg_typeof(copy_regions), pg_typeof(master_key_uuid),
       pg_typeof(storage_size_bytes), copy_regions[2], cardinality(policy_items)
  FROM cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
 ORDER BY created_at DESC LIMIT 1;

-- missing key and JSON null both give NULL
SELECT id, master_key_uuid IS NULL AS no_key, storage_size_bytes IS NULL AS no_size,
       copy_regions IS NULL AS no_regions, description
  FROM cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
 ORDER BY id;

-- any subset of columns in any order; field overrides the name; other
-- types, domains and dotted paths
CREATE DOMAIN snapshot_state AS text CHECK (VALUE IN ('queued', 'inProgress', 'completed', 'failed'));
CREATE FOREIGN TABLE sel_custom (
	state snapshot_state OPTIONS (field 'status'),
	bytes numeric OPTIONS (field 'storageSizeBytes'),
	cluster_name varchar(64) NOT NULL,
	links jsonb,
	self_rel text OPTIONS (field 'links.0.rel'),
	regions json OPTIONS (field 'copyRegions'),
	on_demand_note varchar(30) OPTIONS (field 'description'),
	created date OPTIONS (field 'createdAt'),
	group_id text NOT NULL
) SERVER sel_srv OPTIONS (resource 'cluster_snapshots');
SELECT state, bytes, cluster_name, jsonb_typeof(links) AS links, regions, on_demand_note, created, group_id
  FROM sel_custom
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
 ORDER BY created DESC, bytes;

-- a value that does not fit its column is an error naming the column
CREATE FOREIGN TABLE sel_wrong (
	group_id text, cluster_name text,
	status integer, created_at timestamptz
) SERVER sel_srv OPTIONS (resource 'cluster_snapshots');
SELECT * FROM sel_wrong
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
CREATE FOREIGN TABLE sel_short (
	group_id text, cluster_name text, id text,
	description varchar(5)
) SERVER sel_srv OPTIONS (resource 'cluster_snapshots');
SELECT * FROM sel_short
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
CREATE FOREIGN TABLE sel_domain (
	group_id text, cluster_name text,
	status snapshot_state OPTIONS (field 'snapshotType')
) SERVER sel_srv OPTIONS (resource 'cluster_snapshots');
SELECT * FROM sel_domain
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- local filters, aggregates and joins on top of the scan
SELECT status, count(*), sum(storage_size_bytes)
  FROM cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n120'
 GROUP BY status ORDER BY status;
CREATE TEMP TABLE owners (cluster text, owner text);
INSERT INTO owners VALUES ('prod-1', 'payments-team'), ('prod-2', 'search-team');
SELECT o.owner, s.id, s.status
  FROM owners o JOIN cluster_snapshots s ON s.cluster_name = o.cluster
 WHERE s.group_id = '32b6e34b3d91647abb20e7b8' AND s.cluster_name = 'prod-1'
   AND s.status <> 'failed'
 ORDER BY s.id;

-- only the columns a query uses are converted
SELECT id FROM sel_short
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
 ORDER BY id;
SELECT count(*) FROM sel_domain
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- a dropped column is skipped
ALTER FOREIGN TABLE sel_custom DROP COLUMN links;
SELECT state, self_rel FROM sel_custom
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
 ORDER BY created DESC;

DROP SERVER sel_srv CASCADE;
DROP DOMAIN snapshot_state;
