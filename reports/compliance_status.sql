-- reports/compliance_status.sql: projects without an ACTIVE Backup
-- Compliance Policy (none at all, or one still being enabled, updated or
-- disabled).
--
-- Example:   psql -f reports/compliance_status.sql
-- Reads backup_compliance_policies (role Project Owner).
\ir _defaults.sql
\pset title 'Projects without an active Backup Compliance Policy'
SELECT p.name AS project, coalesce(c.state, 'none') AS policy,
       c.authorized_email, to_char(c.updated_date, 'YYYY-MM-DD') AS updated
  FROM atlas.projects p
  LEFT JOIN atlas.backup_compliance_policies c ON c.group_id = p.id
 WHERE c.state IS DISTINCT FROM 'ACTIVE'
 ORDER BY p.name;
\pset title
