--
-- events: project and organization events (the backup audit trail) and
-- organizations (resources added in 1.3)
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER ev_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER ev_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
\set g1 '''32b6e34b3d91647abb20e7b8'''
\set g2 '''5e2211c17a3e5a48f5497de3'''
\set g3 '''6b8cd3c1e8f0b0a1d2c3d4e5'''
\set o1 '''5a0a1e7e0f2912c554080adc'''
\set o2 '''5a0a1e7e0f2912c554080add'''

-- IMPORT FOREIGN SCHEMA: every field of the event views, the whole document
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas LIMIT TO (events, organizations)
	FROM SERVER ev_srv INTO atlas;
SELECT attrelid::regclass AS table_name,
       string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS columns
  FROM pg_attribute
 WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'atlas'::regnamespace)
   AND attnum > 0
 GROUP BY 1 ORDER BY 1::text;

-- organizations: the list, and one by id
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM atlas.organizations;
SELECT id, name, is_deleted, skip_default_alerts_settings, links->0->>'rel' AS link
  FROM atlas.organizations ORDER BY name;
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM atlas.organizations WHERE id = :o2;
SELECT id, name FROM atlas.organizations WHERE id = :o2;
-- no such organization (404 ORG_NOT_FOUND or RESOURCE_NOT_FOUND): no row
SELECT id, name FROM atlas.organizations WHERE id = '5a0a1e7e0f2912c554080aff';
\! python3 test/mockctl.py log --authorized | sort

-- a project's events: every column of one event
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM atlas.events WHERE group_id = :g1;
SELECT id, created, event_type, cluster_name, username, user_id, api_key_id,
       public_key, remote_address, is_global_admin, group_id, org_id
  FROM atlas.events WHERE group_id = :g1 ORDER BY created DESC, id;
SELECT hostname, port, replica_set_name, raw->>'_t' AS raw_t,
       document->>'eventTypeName' AS doc_type, links->0->>'rel' AS link
  FROM atlas.events WHERE group_id = :g1 AND event_type = 'CLUSTER_MUTATED';
\! python3 test/mockctl.py log --authorized | sort

-- an organization's events: group_id is read from the rows (none)
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM atlas.events WHERE org_id = :o1;
SELECT id, created, event_type, username, target_public_key, invoice_id,
       group_id, org_id
  FROM atlas.events WHERE org_id = :o1 ORDER BY created DESC;
SELECT count(*) FROM atlas.events WHERE org_id = :o2;

-- group_id and org_id together: the project's endpoint, org_id checked
-- against the rows' orgId
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.events WHERE group_id = :g2 AND org_id = :o1;
SELECT id, org_id FROM atlas.events WHERE group_id = :g2 AND org_id = :o1 ORDER BY id;
SELECT count(*) FROM atlas.events WHERE group_id = :g2 AND org_id = :o2;
SELECT group_id, count(*) FROM atlas.events
 WHERE group_id IN (:g1, :g2, :g3) GROUP BY 1 ORDER BY 1;
\! python3 test/mockctl.py log --authorized | sort

-- pushdown: event_type = and IN become eventType, repeated
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.events WHERE group_id = :g1 AND event_type = 'CPS_SNAPSHOT_FAILED';
SELECT id, event_type FROM atlas.events WHERE group_id = :g1 AND event_type = 'CPS_SNAPSHOT_FAILED';
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.events WHERE group_id = :g1
   AND event_type IN ('CPS_SNAPSHOT_DELETED_AUDIT', 'CPS_RESTORE_FAILED');
SELECT id, event_type FROM atlas.events WHERE group_id = :g1
   AND event_type IN ('CPS_SNAPSHOT_DELETED_AUDIT', 'CPS_RESTORE_FAILED') ORDER BY id;
-- two clauses on one column: only the values both allow are sent
SELECT id FROM atlas.events WHERE group_id = :g1
   AND event_type IN ('CPS_SNAPSHOT_DELETED_AUDIT', 'CPS_RESTORE_FAILED')
   AND event_type = ANY (ARRAY['CPS_RESTORE_FAILED', 'CPS_SNAPSHOT_FAILED']);
-- values no event type can be are not sent; none left: no request
SELECT id FROM atlas.events WHERE group_id = :g1 AND event_type IN ('cps_snapshot_failed', 'CPS_SNAPSHOT_FAILED');
SELECT count(*) FROM atlas.events WHERE group_id = :g1 AND event_type = 'not a type';
SELECT count(*) FROM atlas.events WHERE group_id = :g1 AND event_type = NULL;
-- a list of more than 100 values is only checked locally
SELECT id FROM atlas.events WHERE group_id = :g1
   AND event_type = ANY (ARRAY(SELECT 'CPS_T' || g FROM generate_series(1, 100) g) || 'CPS_SNAPSHOT_FAILED'::text);
\! python3 test/mockctl.py log --authorized | sort

-- created: minDate and maxDate one second wider than the bounds, the
-- clauses checked locally, so strict and inclusive bounds are exact
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.events WHERE group_id = :g1 AND created >= '2026-11-01 00:00:00+00';
SELECT id, created FROM atlas.events WHERE group_id = :g1 AND created >= '2026-11-01 00:00:00+00' ORDER BY created, id;
SELECT id, created FROM atlas.events WHERE group_id = :g1 AND created > '2026-11-01 00:00:00+00' ORDER BY created, id;
SELECT id, created FROM atlas.events WHERE group_id = :g1 AND created <= '2026-10-31 00:00:00+00' ORDER BY created, id;
SELECT id, created FROM atlas.events WHERE group_id = :g1 AND created < '2026-10-31 00:00:00+00' ORDER BY created, id;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.events WHERE group_id = :g1
   AND created BETWEEN '2026-10-31 00:00:00.5+00' AND '2026-11-01 00:00:00+00';
SELECT id, created FROM atlas.events WHERE group_id = :g1
   AND created BETWEEN '2026-10-31 00:00:00.5+00' AND '2026-11-01 00:00:00+00' ORDER BY created, id;
-- bounds that exclude each other, infinite bounds
SELECT count(*) FROM atlas.events WHERE group_id = :g1
   AND created > '2026-11-02' AND created < '2026-11-01';
SELECT count(*) FROM atlas.events WHERE group_id = :g1 AND created > '-infinity';
\! python3 test/mockctl.py log --authorized | sort

-- cluster_name becomes clusterNames (project events only)
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.events WHERE group_id = :g1 AND cluster_name IN ('prod-2', 'shard-1');
SELECT id, cluster_name FROM atlas.events WHERE group_id = :g1 AND cluster_name IN ('prod-2', 'shard-1') ORDER BY id;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.events WHERE org_id = :o1 AND cluster_name = 'prod-1'
   AND event_type = 'JOINED_ORG';
SELECT count(*) FROM atlas.events WHERE org_id = :o1 AND cluster_name = 'prod-1';
\! python3 test/mockctl.py log --authorized | sort

-- all three, and values known only at execution (a Param): the same rows
-- as without pushdown
\! python3 test/mockctl.py reset
PREPARE audit(text[], timestamptz) AS
SELECT id, event_type, cluster_name, created FROM atlas.events
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND event_type = ANY ($1)
   AND created > $2 AND cluster_name = 'prod-1' ORDER BY created DESC;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE audit('{CPS_SNAPSHOT_FAILED,CPS_RESTORE_FAILED,CPS_SNAPSHOT_DELETED_AUDIT}', '2026-10-31');
EXECUTE audit('{CPS_SNAPSHOT_FAILED,CPS_RESTORE_FAILED,CPS_SNAPSHOT_DELETED_AUDIT}', '2026-10-31');
RESET plan_cache_mode;
\! python3 test/mockctl.py log --authorized | sort
-- without pushdown (the clauses on expressions of the columns are not
-- pushed): the same rows, compared for many bounds
CREATE TEMP TABLE bounds AS
SELECT t FROM generate_series(timestamptz '2026-10-28', '2026-11-04', interval '12 hours') t
UNION SELECT created + d FROM atlas.events, unnest(ARRAY['-1 second', '-1 microsecond', '0', '1 microsecond', '0.5 seconds']::interval[]) d
 WHERE group_id = :g1;
SELECT count(*) AS mismatches FROM bounds b,
  LATERAL (SELECT
    (SELECT array_agg(id ORDER BY id) FROM atlas.events e WHERE e.group_id = :g1 AND e.created >= b.t) AS ge,
    (SELECT array_agg(id ORDER BY id) FROM atlas.events e WHERE e.group_id = :g1 AND e.created + '0'::interval >= b.t) AS ge_local,
    (SELECT array_agg(id ORDER BY id) FROM atlas.events e WHERE e.group_id = :g1 AND e.created > b.t) AS gt,
    (SELECT array_agg(id ORDER BY id) FROM atlas.events e WHERE e.group_id = :g1 AND e.created + '0'::interval > b.t) AS gt_local,
    (SELECT array_agg(id ORDER BY id) FROM atlas.events e WHERE e.group_id = :g1 AND e.created <= b.t) AS le,
    (SELECT array_agg(id ORDER BY id) FROM atlas.events e WHERE e.group_id = :g1 AND e.created + '0'::interval <= b.t) AS le_local,
    (SELECT array_agg(id ORDER BY id) FROM atlas.events e WHERE e.group_id = :g1 AND e.created < b.t) AS lt,
    (SELECT array_agg(id ORDER BY id) FROM atlas.events e WHERE e.group_id = :g1 AND e.created + '0'::interval < b.t) AS lt_local) r
 WHERE r.ge IS DISTINCT FROM r.ge_local OR r.gt IS DISTINCT FROM r.gt_local
    OR r.le IS DISTINCT FROM r.le_local OR r.lt IS DISTINCT FROM r.lt_local;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.events e WHERE e.group_id = :g1 AND e.created + '0'::interval >= now();

-- paging: three events a page
\! python3 test/mockctl.py reset
CREATE FOREIGN TABLE events_paged (group_id text, id text, created timestamptz,
	event_type text) SERVER ev_srv OPTIONS (resource 'events', items_per_page '3');
SELECT count(*), count(DISTINCT id) FROM events_paged WHERE group_id = :g1;
SELECT id FROM events_paged WHERE group_id = :g1 AND event_type LIKE 'CPS%' ORDER BY created DESC, id LIMIT 4;
\! python3 test/mockctl.py log --authorized | sort

-- by id, from a project and from an organization; a missing event is no row
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.events WHERE group_id = :g1 AND id = '6e0e00000000000000000004';
SELECT id, event_type, cluster_name, group_id, org_id FROM atlas.events
 WHERE group_id = :g1 AND id IN ('6e0e00000000000000000004', '6e0e00000000000000000099');
SELECT id, event_type, group_id, org_id FROM atlas.events
 WHERE org_id = :o1 AND id = '6e0e00000000000000000022';
\! python3 test/mockctl.py log --authorized | sort

-- joins: one project's events per project row
\! python3 test/mockctl.py reset
CREATE FOREIGN TABLE ev_projects (id text, name text) SERVER ev_srv OPTIONS (resource 'projects');
EXPLAIN (VERBOSE, COSTS OFF)
SELECT p.name, e.event_type FROM ev_projects p JOIN atlas.events e ON e.group_id = p.id
 WHERE e.event_type = 'CPS_SNAPSHOT_DELETED_AUDIT';
SELECT p.name, e.event_type, e.username FROM ev_projects p JOIN atlas.events e ON e.group_id = p.id
 WHERE e.event_type = 'CPS_SNAPSHOT_DELETED_AUDIT' ORDER BY 1;
\! python3 test/mockctl.py log --authorized | sort

-- errors
\set VERBOSITY terse
-- neither group_id nor org_id
SELECT * FROM atlas.events;
SELECT * FROM atlas.events WHERE event_type = 'CPS_SNAPSHOT_FAILED';
\set VERBOSITY default
SELECT * FROM atlas.events WHERE cluster_name = 'prod-1';
\set VERBOSITY terse
-- malformed keys
SELECT * FROM atlas.events WHERE org_id = 'acme';
SELECT * FROM atlas.events WHERE group_id = :g1 AND id = 'x';
-- no such project, no such organization
SELECT * FROM atlas.events WHERE group_id = '0000000000000000000000aa';
SELECT * FROM atlas.events WHERE org_id = '0000000000000000000000aa';
\set VERBOSITY default
-- 403: the role each endpoint needs
\! python3 test/mockctl.py fault '{"match": "/groups/.*/events", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the group."}'
SELECT id FROM atlas.events WHERE group_id = :g1;
\! python3 test/mockctl.py fault '{"match": "/orgs/.*/events", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the organization."}'
SELECT id FROM atlas.events WHERE org_id = :o1;
\! python3 test/mockctl.py fault '{"match": "/orgs/", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the organization."}'
SELECT id FROM atlas.organizations WHERE id = :o1;
\! python3 test/mockctl.py reset

DROP SCHEMA atlas CASCADE;
DROP SERVER ev_srv CASCADE;
