-- reports/_report_html.sql: the HTML backup report, written to standard
-- output by scripts/report-html.sh (not a report of its own: run that).
--
-- One self-contained page: an inline <style>, no script, no font, no image
-- and no link to anything outside the page.  It holds
--   * the backup calendar (backup_calendar.sql's atlas_calendar view) as
--     inline SVG: one row per cluster (<g class="cal-row" data-project
--     data-cluster data-kind>), one <rect class="d-STATE"> per day with a
--     <title> tooltip listing that day's snapshots;
--   * snapshot storage per project and month as inline SVG bars (one <rect
--     class="bar" data-bytes> per project and month, tooltip with the
--     figures), and storage_by_project_month.sql's table;
--   * overdue_clusters.sql's, failed_snapshots.sql's,
--     retained_backups.sql's and backup_audit.sql's tables.
-- The tables are those scripts themselves, printed by psql's html format,
-- so their figures are the psql reports' figures.  Every text taken from
-- Atlas is escaped (pg_temp.html_escape).
--
-- Variables: those of the reports: now, hours (default 24), days (the
-- calendar's default 30, the failed report's default 7, or both the value
-- given), ascii (ignored: the calendar is drawn).
\set QUIET on
SET client_min_messages = warning;
\if :{?days}
\set html_days_given 1
\else
\set html_days_given 0
\endif

CREATE OR REPLACE FUNCTION pg_temp.html_escape(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$SELECT replace(replace(replace(replace(replace($1, '&', '&amp;'),
	'<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')$$;

-- the calendar: its view, its output discarded
\o /dev/null
\ir backup_calendar.sql
\o
\pset format unaligned
\pset tuples_only on
\pset title

SELECT format($html$<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Atlas backup report, %1$s</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; }
p.meta { color: #555; margin-top: 0; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 12px; fill: #1b1b1b; }
svg text.small { font-size: 10px; fill: #555; }
.d-completed { fill: #2e7d32; }
.d-failed { fill: #c62828; }
.d-none { fill: #f9a825; }
.d-off { fill: #e6e6e6; }
.bar { fill: #1565c0; }
.legend span { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 1em; vertical-align: -0.1em; }
table.report { border-collapse: collapse; margin: 0.5em 0 1em 0; }
table.report caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
table.report th, table.report td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
table.report th { background: #f2f2f2; }
</style>
</head>
<body>
<h1>Atlas backup report</h1>
<p class="meta">For %1$s (%2$s); overdue after %3$s hours.</p>
$html$,
	pg_temp.html_escape(to_char(:'now'::timestamptz, 'YYYY-MM-DD HH24:MI')),
	pg_temp.html_escape(current_setting('TimeZone')),
	pg_temp.html_escape(:'hours'));

-- the calendar as SVG: the labels' column as wide as the longest label
-- needs (about 7 px a character), then 16 px a day; 18 px a cluster
SELECT greatest(120, 16 + 7 * max(length(project || ' / ' || cluster || ' (' || kind || ')'))) AS html_lw
  FROM atlas_inventory \gset
SELECT format($html$<h2 id="calendar">Backups per day, last %1$s days</h2>
<p class="legend"><span class="swatch" style="background:#2e7d32"></span>completed snapshot<span class="swatch" style="background:#c62828"></span>only failed ones<span class="swatch" style="background:#f9a825"></span>none, backup on<span class="swatch" style="background:#e6e6e6"></span>backup off or not yet created</p>
<svg class="calendar" width="%2$s" height="%3$s" viewBox="0 0 %2$s %3$s" role="img" aria-label="Backups per day and cluster">
%4$s
%5$s
</svg>
$html$,
	:days, :html_lw + :days * 16 + 40, 40 + count(*) * 18,
	-- the day labels: every 7th day back from the last one, with its date
	(SELECT string_agg(format('<text class="small" x="%s" y="12">%s</text>',
							  :html_lw + n * 16,
							  to_char(:'now'::timestamptz::date - (:days - 1) + n, 'MM-DD')),
					   '' ORDER BY n)
	   FROM generate_series(0, :days - 1) n
	  WHERE (:days - 1 - n) % 7 = 0),
	string_agg(row_svg, E'\n' ORDER BY r))
  FROM (SELECT r, format('<g class="cal-row" data-project="%s" data-cluster="%s" data-kind="%s"><text x="0" y="%s">%s</text>%s</g>',
						 pg_temp.html_escape(project), pg_temp.html_escape(cluster), kind,
						 32 + r * 18,
						 pg_temp.html_escape(project || ' / ' || cluster || ' (' || kind || ')'),
						 (SELECT string_agg(format('<rect class="d-%s" x="%s" y="%s" width="14" height="14"><title>%s</title></rect>',
												   c.state, :html_lw + (c.day - (:'now'::timestamptz::date - (:days - 1))) * 16,
												   20 + r * 18,
												   pg_temp.html_escape(c.cluster || ', ' || to_char(c.day, 'YYYY-MM-DD') || ': '
														|| CASE c.state
															 WHEN 'off' THEN 'backup off or cluster not yet created'
															 WHEN 'none' THEN 'no snapshot'
															 ELSE c.completed || ' completed, ' || c.failed || ' failed'
														   END
														|| coalesce(E'\n' || c.snapshots, ''))),
											'' ORDER BY c.day)
							FROM atlas_calendar c
						   WHERE c.group_id = i.group_id AND c.cluster = i.cluster)) AS row_svg
		  FROM (SELECT *, row_number() OVER (ORDER BY project, cluster, group_id) - 1 AS r
				  FROM atlas_inventory) i) rows;

-- storage per project and month as SVG bars (each project's bars
-- relative to its own largest month, the figure written over each bar;
-- Flex snapshots have no size)
WITH m AS (
	SELECT project, date_trunc('month', taken_at) AS month, count(*) AS snapshots,
		   coalesce(sum(storage_size_bytes), 0) AS bytes
	  FROM atlas_snapshots
	 WHERE taken_at <= :'now'::timestamptz
	 GROUP BY project, date_trunc('month', taken_at)
), months AS (
	SELECT month, row_number() OVER (ORDER BY month) - 1 AS x
	  FROM (SELECT DISTINCT month FROM m) d
), projects AS (
	SELECT project, row_number() OVER (ORDER BY project) - 1 AS y
	  FROM (SELECT DISTINCT project FROM m) d
)
SELECT format($html$<h2 id="storage">Snapshot storage per project and month</h2>
<svg class="storage" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="Snapshot storage per project and month">
%s
</svg>
$html$,
	220 + (SELECT count(*) FROM months) * 64, 20 + (SELECT count(*) FROM projects) * 130,
	220 + (SELECT count(*) FROM months) * 64, 20 + (SELECT count(*) FROM projects) * 130,
	coalesce((SELECT string_agg(format('<text x="0" y="%s">%s</text>', 20 + p.y * 130 + 60,
									   pg_temp.html_escape(p.project)), '' ORDER BY p.y)
				FROM projects p), '')
	|| coalesce(string_agg(format(
		'<rect class="bar" data-project="%s" data-month="%s" data-bytes="%s" x="%s" y="%s" width="40" height="%s"><title>%s</title></rect>'
		'<text class="small" x="%s" y="%s">%s</text><text class="small" x="%s" y="%s">%s</text>',
		pg_temp.html_escape(m.project), to_char(m.month, 'YYYY-MM'), m.bytes,
		220 + mo.x * 64, 20 + p.y * 130 + 100 - m.h, m.h,
		pg_temp.html_escape(m.project || ', ' || to_char(m.month, 'YYYY-MM') || ': '
							|| m.snapshots || ' snapshots, ' || pg_size_pretty(m.bytes)),
		220 + mo.x * 64, 20 + p.y * 130 + 96 - m.h,
		pg_size_pretty(m.bytes),
		220 + mo.x * 64, 20 + p.y * 130 + 114, to_char(m.month, 'YYYY-MM')),
		'' ORDER BY p.y, mo.x), ''))
  FROM (SELECT m.*, CASE WHEN m.bytes > 0
							THEN greatest(2, round(90.0 * m.bytes / max(m.bytes) OVER (PARTITION BY m.project)))
							ELSE 0 END AS h
		  FROM m) m
  JOIN months mo USING (month) JOIN projects p USING (project);

-- the psql reports' own tables
\pset format html
\pset tuples_only off
\pset tableattr 'class="report"'
\ir storage_by_project_month.sql
\pset format unaligned
\pset tuples_only on
SELECT '<h2 id="overdue">Overdue clusters</h2>';
\pset format html
\pset tuples_only off
\ir overdue_clusters.sql
\pset format unaligned
\pset tuples_only on
SELECT '<h2 id="failed">Failed snapshots</h2>';
\if :html_days_given
\else
\unset days
\endif
\pset format html
\pset tuples_only off
\ir failed_snapshots.sql
\pset format unaligned
\pset tuples_only on
SELECT '<h2 id="retained">Deleted clusters that still hold backups</h2>';
\pset format html
\pset tuples_only off
\ir retained_backups.sql
SELECT '<h2 id="audit">Backup audit trail</h2>';
\pset format html
\pset tuples_only off
\ir backup_audit.sql
\pset format unaligned
\pset tuples_only on
SELECT E'<p class="meta">Made by atlas_snapshot_fdw''s scripts/report-html.sh.</p>\n</body>\n</html>';
