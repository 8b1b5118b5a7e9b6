-- reports/backup_audit.sql: the backup audit trail of the last :days days:
-- who deleted snapshots or changed their retention or schedule, changes
-- of the Backup Compliance Policy, failed snapshots and failed restores,
-- in every project, newest first.
--
-- Variables: days (default 7), now (default the current time).
-- Example:   psql -v days=30 -f reports/backup_audit.sql
-- Reads projects and events (role Project Read Only).  The event types
-- and the time window are sent to Atlas (eventType, minDate, maxDate):
-- one request chain per project returns only these events.
\ir _defaults.sql
\set title 'Backup audit trail of the last ' :days ' days'
\pset title :title
SELECT to_char(e.created, 'YYYY-MM-DD HH24:MI') AS "when", p.name AS project,
       coalesce(e.cluster_name, '') AS cluster,
       CASE
         WHEN e.event_type = 'CPS_SNAPSHOT_DELETED_AUDIT' THEN 'snapshot deleted'
         WHEN e.event_type = 'CPS_SNAPSHOT_RETENTION_MODIFIED_AUDIT' THEN 'retention changed'
         WHEN e.event_type = 'CPS_SNAPSHOT_SCHEDULE_UPDATED_AUDIT' THEN 'schedule changed'
         WHEN e.event_type LIKE 'CPS_DATA_PROTECTION_%' THEN 'compliance policy'
         WHEN e.event_type LIKE 'CPS_RESTORE%' OR e.event_type LIKE 'CPS_COLLECTION_RESTORE%' THEN 'restore failed'
         ELSE 'snapshot failed'
       END AS what,
       e.event_type,
       coalesce(e.username, 'API key ' || e.public_key, 'Atlas') AS who
  FROM atlas.projects p
  JOIN atlas.events e ON e.group_id = p.id
 WHERE e.event_type IN ('CPS_SNAPSHOT_DELETED_AUDIT',
                        'CPS_SNAPSHOT_RETENTION_MODIFIED_AUDIT',
                        'CPS_SNAPSHOT_SCHEDULE_UPDATED_AUDIT',
                        'CPS_DATA_PROTECTION_ENABLE_REQUESTED',
                        'CPS_DATA_PROTECTION_ENABLED',
                        'CPS_DATA_PROTECTION_UPDATE_REQUESTED',
                        'CPS_DATA_PROTECTION_UPDATED',
                        'CPS_DATA_PROTECTION_DISABLE_REQUESTED',
                        'CPS_DATA_PROTECTION_DISABLED',
                        'CPS_DATA_PROTECTION_APPROVED_FOR_DISABLEMENT',
                        'CPS_SNAPSHOT_FAILED',
                        'CPS_SNAPSHOT_FALLBACK_FAILED',
                        'CPS_COPY_SNAPSHOT_FAILED',
                        'CPS_RESTORE_FAILED',
                        'CPS_COLLECTION_RESTORE_FAILED')
   AND e.created > :'now'::timestamptz - make_interval(days => :days)
   AND e.created <= :'now'::timestamptz
 ORDER BY e.created DESC, p.name, e.id;
\pset title
