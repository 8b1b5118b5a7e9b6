--
-- backup_extras: schedules, policy items, restore and export jobs, export
-- buckets and compliance policies (resources added in 1.2)
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER bx_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER bx_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
\set g1 '''32b6e34b3d91647abb20e7b8'''
\set g2 '''5e2211c17a3e5a48f5497de3'''
\set g3 '''6b8cd3c1e8f0b0a1d2c3d4e5'''

-- IMPORT FOREIGN SCHEMA creates the new tables, without download links
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas LIMIT TO (backup_schedules, backup_policy_items,
	restore_jobs, flex_restore_jobs, export_jobs, export_buckets,
	backup_compliance_policies) FROM SERVER bx_srv INTO atlas;
SELECT attrelid::regclass AS table_name,
       string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS columns
  FROM pg_attribute
 WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'atlas'::regnamespace)
   AND attnum > 0
 GROUP BY 1 ORDER BY 1::text;
SELECT count(*) AS download_link_columns FROM information_schema.columns
 WHERE table_schema = 'atlas'
   AND column_name IN ('delivery_url', 'private_download_delivery_urls', 'components', 'snapshot_url')
   AND table_name IN ('restore_jobs', 'flex_restore_jobs');

-- schedules: one document per cluster, one row
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.backup_schedules WHERE group_id = :g1 AND cluster_name = 'prod-1';
SELECT group_id, cluster_name, cluster_id, auto_export_enabled, next_snapshot,
       reference_hour_of_day, reference_minute_of_hour, restore_window_days,
       export->>'exportBucketId' AS export_bucket, jsonb_array_length(policies) AS policies,
       links->0->>'rel' AS link
  FROM atlas.backup_schedules WHERE group_id = :g1 AND cluster_name IN ('prod-1', 'prod-2', 'shard-1')
 ORDER BY cluster_name;
-- a cluster without backup has no schedule: no row, not an error
SELECT count(*) FROM atlas.backup_schedules WHERE group_id = :g1 AND cluster_name = 'nobackup-1';
\! python3 test/mockctl.py log --authorized | sort

-- policy items: rows from inside the schedule, with the enclosing policy's id
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.backup_policy_items WHERE group_id = :g1 AND cluster_name = 'prod-1';
SELECT * FROM atlas.backup_policy_items
 WHERE group_id = :g1 AND cluster_name IN ('prod-1', 'prod-2', 'nobackup-1')
 ORDER BY cluster_name, id;
SELECT * FROM atlas.backup_policy_items WHERE group_id = :g2 AND cluster_name = 'stage-1';
-- a declared column may read any member of the enclosing policy
CREATE FOREIGN TABLE policy_members (group_id text, cluster_name text,
	policy_id text, id text, policy_items_count int OPTIONS (field '^policyItems'))
	SERVER bx_srv OPTIONS (resource 'backup_policy_items');
SELECT * FROM policy_members WHERE group_id = :g1 AND cluster_name = 'prod-2';
ALTER FOREIGN TABLE policy_members ALTER COLUMN policy_items_count TYPE jsonb;
SELECT id, jsonb_array_length(policy_items_count) AS items FROM policy_members
 WHERE group_id = :g1 AND cluster_name = 'prod-2';
DROP FOREIGN TABLE policy_members;

-- each snapshot's retention rule, through its policy item ids
IMPORT FOREIGN SCHEMA atlas LIMIT TO (cluster_snapshots, clusters, projects)
	FROM SERVER bx_srv INTO atlas;
SELECT s.id, s.created_at, s.frequency_type, p.frequency_type AS rule,
       p.retention_value || ' ' || p.retention_unit AS keep
  FROM atlas.cluster_snapshots s
  LEFT JOIN atlas.backup_policy_items p
    ON p.group_id = s.group_id AND p.cluster_name = s.cluster_name AND p.id = ANY (s.policy_items)
 WHERE s.group_id = :g1 AND s.cluster_name = 'prod-1'
 ORDER BY s.created_at;

-- parameterized joins with clusters and projects: one request per cluster
CREATE FOREIGN TABLE my_clusters (group_id text, name text)
	SERVER bx_srv OPTIONS (resource 'clusters');
EXPLAIN (VERBOSE, COSTS OFF)
SELECT c.name, p.frequency_type, p.retention_value
  FROM my_clusters c JOIN atlas.backup_policy_items p
    ON p.group_id = c.group_id AND p.cluster_name = c.name
 WHERE c.group_id = :g1;
DROP FOREIGN TABLE my_clusters;
\! python3 test/mockctl.py reset
SELECT c.name, p.frequency_type, p.retention_value, p.retention_unit
  FROM atlas.projects pr
  JOIN atlas.clusters c ON c.group_id = pr.id
  JOIN atlas.backup_policy_items p ON p.group_id = c.group_id AND p.cluster_name = c.name
 ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort

-- restore jobs: list, by id, IN lists; download links only when declared
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.restore_jobs
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND id = '6b1e00000000000000000002';
SELECT id, snapshot_id, delivery_type, target_cluster_name, target_group_id, cancelled,
       failed, expired, timestamp, finished_at, expires_at, desired_timestamp,
       jsonb_array_length(links) AS links
  FROM atlas.restore_jobs WHERE group_id = :g1 AND cluster_name IN ('prod-1', 'prod-2', 'shard-1')
 ORDER BY id;
SELECT id, delivery_type FROM atlas.restore_jobs
 WHERE group_id = :g1 AND cluster_name = 'prod-1'
   AND id IN ('6b1e00000000000000000003', 'ffffffffffffffffffffffff')
 ORDER BY id;
\! python3 test/mockctl.py log --authorized | sort
-- by id, only a missing job is zero rows: a missing cluster is an error
SELECT id FROM atlas.restore_jobs
 WHERE group_id = :g1 AND cluster_name = 'nosuch' AND id = '6b1e00000000000000000003';
SELECT id FROM atlas.export_buckets WHERE group_id = :g1 AND id = 'ffffffffffffffffffffffff';
CREATE FOREIGN TABLE my_restores (group_id text, cluster_name text, id text,
	delivery_type text, delivery_url text[], private_download_delivery_urls jsonb)
	SERVER bx_srv OPTIONS (resource 'restore_jobs');
SELECT id, delivery_type, cardinality(delivery_url) AS urls,
       delivery_url[1] LIKE 'https://restore-%' AS is_link,
       private_download_delivery_urls->0->>'endpointId' AS endpoint
  FROM my_restores WHERE group_id = :g1 AND cluster_name = 'prod-1' ORDER BY id;
-- a link in a column of the wrong type: the error does not show it
ALTER FOREIGN TABLE my_restores ALTER COLUMN delivery_url TYPE int[];
SELECT id, delivery_url FROM my_restores
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND id = '6b1e00000000000000000002';
CREATE FOREIGN TABLE my_links (group_id text, cluster_name text, id text,
	link int OPTIONS (field 'privateDownloadDeliveryUrls.0.deliveryUrl'))
	SERVER bx_srv OPTIONS (resource 'restore_jobs');
SELECT id, link FROM my_links
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND id = '6b1e00000000000000000002';
DROP FOREIGN TABLE my_restores, my_links;

-- Flex restore jobs
SELECT id, instance_name, delivery_type, status, project_id, target_project_id,
       target_deployment_item_name, restore_scheduled_date, restore_finished_date,
       expiration_date, snapshot_finished_date
  FROM atlas.flex_restore_jobs WHERE group_id = :g1 AND cluster_name IN ('flex-1', 'flex-2')
 ORDER BY id;
SELECT id, status FROM atlas.flex_restore_jobs
 WHERE group_id = :g1 AND cluster_name = 'flex-1' AND id = '6b2e00000000000000000002';
CREATE FOREIGN TABLE my_flex_restores (group_id text, cluster_name text, id text,
	snapshot_url text) SERVER bx_srv OPTIONS (resource 'flex_restore_jobs');
SELECT id, snapshot_url IS NOT NULL AS has_link FROM my_flex_restores
 WHERE group_id = :g1 AND cluster_name = 'flex-1' ORDER BY id;
DROP FOREIGN TABLE my_flex_restores;
\set VERBOSITY default
SELECT count(*) FROM atlas.flex_restore_jobs WHERE group_id = :g1 AND cluster_name = 'prod-1';

-- export jobs and buckets
SELECT id, snapshot_id, export_bucket_id, state, state_reason->>'errorCode' AS error,
       export_status, created_at, finished_at, prefix
  FROM atlas.export_jobs WHERE group_id = :g1 AND cluster_name = 'prod-1' ORDER BY id;
SELECT id, state FROM atlas.export_jobs
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND id = '6b3e00000000000000000002';
SELECT * FROM atlas.export_buckets WHERE group_id IN (:g1, :g2) ORDER BY id;
-- the bucket by id carries its region (the list does not)
SELECT id, bucket_name, region FROM atlas.export_buckets
 WHERE group_id = :g1 AND id = '6c0b00000000000000000001';
SELECT j.id, j.state, b.bucket_name, b.cloud_provider
  FROM atlas.export_jobs j JOIN atlas.export_buckets b
    ON b.group_id = j.group_id AND b.id = j.export_bucket_id
 WHERE j.group_id = :g1 AND j.cluster_name = 'prod-1' ORDER BY j.id;

-- compliance policies: one row per project that has one
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.backup_compliance_policies WHERE group_id = :g1;
SELECT * FROM atlas.backup_compliance_policies WHERE group_id IN (:g1, :g2, :g3) ORDER BY group_id;
SELECT p.name, coalesce(c.state, 'none') AS policy
  FROM atlas.projects p LEFT JOIN atlas.backup_compliance_policies c ON c.group_id = p.id
 ORDER BY p.name;
\! python3 test/mockctl.py log --authorized | sort
-- a project that does not exist is still an error
SELECT count(*) FROM atlas.backup_compliance_policies WHERE group_id = 'ffffffffffffffffffffffff';
-- an answer without a policy (200, no projectId) is no row either
\! python3 test/mockctl.py fault '{"match": "backupCompliancePolicy", "kind": "raw", "body": "{}"}'
SELECT count(*) FROM atlas.backup_compliance_policies WHERE group_id = :g1;

-- required keys
SELECT count(*) FROM atlas.backup_schedules WHERE group_id = :g1;
SELECT count(*) FROM atlas.export_buckets;

-- errors name the role the endpoint needs
\! python3 test/mockctl.py fault '{"match": "backupCompliancePolicy", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the group."}'
SELECT count(*) FROM atlas.backup_compliance_policies WHERE group_id = :g1;
\! python3 test/mockctl.py fault '{"match": "restoreJobs", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the group."}'
SELECT count(*) FROM atlas.restore_jobs WHERE group_id = :g1 AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "/exports", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the group."}'
SELECT count(*) FROM atlas.export_jobs WHERE group_id = :g1 AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "exportBuckets", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the group."}'
SELECT count(*) FROM atlas.export_buckets WHERE group_id = :g1;
-- a lasting server error on the schedule, after the retries
\set VERBOSITY terse
ALTER SERVER bx_srv OPTIONS (ADD max_retries '2', ADD max_retry_wait_ms '1');
\! python3 test/mockctl.py fault '{"match": "backup/schedule", "kind": "status", "status": 503, "count": -1}'
SELECT count(*) FROM atlas.backup_policy_items WHERE group_id = :g1 AND cluster_name = 'prod-1';
\! python3 test/mockctl.py reset
-- a schedule that is not JSON, and one whose policies are not arrays
\! python3 test/mockctl.py fault '{"match": "backup/schedule", "kind": "invalid_json"}'
SELECT count(*) FROM atlas.backup_policy_items WHERE group_id = :g1 AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "backup/schedule", "kind": "raw", "body": "{\"policies\": {\"id\": \"x\", \"policyItems\": [1, {\"id\": \"y\"}, null]}}"}'
SELECT policy_id, id FROM atlas.backup_policy_items WHERE group_id = :g1 AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "backup/schedule", "kind": "raw", "body": "[]"}'
SELECT count(*) FROM atlas.backup_schedules WHERE group_id = :g1 AND cluster_name = 'prod-1';
\set VERBOSITY default


DROP SCHEMA atlas CASCADE;
DROP SERVER bx_srv CASCADE;
