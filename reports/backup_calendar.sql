-- reports/backup_calendar.sql: one line per cluster, one character per day
-- of the last :days days (oldest left, the day of :now right), then a
-- legend line.  A day shows
--   █ (#)  at least one completed snapshot taken that day
--   × (x)  snapshots taken that day, all of them failed
--   · (.)  no snapshot that day (or none that completed or failed yet)
--          while the cluster has backup enabled
--   blank  backup is off, or the cluster was created after that day
-- Days are calendar days in the session's TimeZone.  Atlas tells only
-- whether backup is enabled now, so a cluster with backup off is blank on
-- every day.  The characters in parentheses are the ASCII ones, chosen
-- with -v ascii=1 (and by default when the client or server encoding is
-- SQL_ASCII); the others are made by the server from their code points,
-- so they reach any client encoding that has them.  Every character is one
-- column wide: the lines stay aligned in psql's aligned output.
--
-- Also leaves, for this session, the temporary view atlas_calendar (one
-- row per cluster and day: project, group_id, cluster, kind, day, state
-- 'completed', 'failed', 'none' or 'off', completed and failed counts,
-- and the day's snapshots as text), which scripts/report-html.sh draws.
--
-- Variables: days (default 30), now (default the current time), ascii.
-- Example:   psql -v days=60 -f reports/backup_calendar.sql
\if :{?days}
\else
\set days 30
\endif
\ir _defaults.sql
\ir _snapshots.sql
\if :{?ascii}
\else
SELECT pg_client_encoding() = 'SQL_ASCII'
	   OR current_setting('server_encoding') = 'SQL_ASCII' AS ascii \gset
\endif
\if :ascii
SELECT '#' AS cal_completed, 'x' AS cal_failed, '.' AS cal_none, ' ' AS cal_off \gset
\else
SELECT U&'\2588' AS cal_completed, U&'\00D7' AS cal_failed,
	   U&'\00B7' AS cal_none, ' ' AS cal_off \gset
\endif

CREATE OR REPLACE TEMP VIEW atlas_calendar AS
SELECT i.project, i.group_id, i.cluster, i.kind, d.day::date AS day,
       CASE WHEN NOT i.backup_enabled OR d.day::date < i.created::date THEN 'off'
            WHEN s.completed > 0 THEN 'completed'
            WHEN s.failed > 0 THEN 'failed'
            ELSE 'none'
       END AS state,
       coalesce(s.completed, 0) AS completed, coalesce(s.failed, 0) AS failed,
       s.snapshots
  FROM atlas_inventory i
 CROSS JOIN generate_series(:'now'::timestamptz::date - (:days - 1),
							:'now'::timestamptz::date, interval '1 day') d(day)
  LEFT JOIN (
	SELECT group_id, cluster, taken_at::date AS day,
		   count(*) FILTER (WHERE completed) AS completed,
		   count(*) FILTER (WHERE failed) AS failed,
		   string_agg(to_char(taken_at, 'HH24:MI') || ' ' || snapshot_type || ' '
					  || CASE WHEN completed THEN 'completed'
							  WHEN failed THEN 'failed' ELSE 'other' END
					  || coalesce(' ' || pg_size_pretty(storage_size_bytes), ''),
					  E'\n' ORDER BY taken_at, id) AS snapshots
	  FROM atlas_snapshots
	 WHERE taken_at <= :'now'::timestamptz
	   AND taken_at >= :'now'::timestamptz::date - (:days - 1)
	 GROUP BY group_id, cluster, taken_at::date
  ) s ON s.group_id = i.group_id AND s.cluster = i.cluster AND s.day = d.day::date;

SELECT to_char(:'now'::timestamptz::date - (:days - 1), 'YYYY-MM-DD') AS cal_first,
	   to_char(:'now'::timestamptz, 'YYYY-MM-DD') AS cal_last,
	   current_setting('TimeZone') AS cal_tz \gset
\set cal_column :cal_first ' .. ' :cal_last
\set title 'Backups per day, last ' :days ' days'
\pset title :title
SELECT project, cluster, kind,
       string_agg(CASE state WHEN 'completed' THEN :'cal_completed'
							 WHEN 'failed' THEN :'cal_failed'
							 WHEN 'none' THEN :'cal_none'
							 ELSE :'cal_off' END, '' ORDER BY day) AS :"cal_column"
  FROM atlas_calendar
 GROUP BY project, group_id, cluster, kind
 ORDER BY project, cluster;
\pset title
\qecho :cal_completed 'completed snapshot  ' :cal_failed 'only failed ones  ' :cal_none 'none, backup on   (blank) backup off or not yet created; one column a day,' :cal_first 'to' :cal_last :cal_tz
