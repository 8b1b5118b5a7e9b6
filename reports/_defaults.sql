-- reports/_defaults.sql: default values of the report variables (not a
-- report).  Each may be set with psql -v name=value.
--   now    the moment the report is for (default: the current time)
--   hours  age after which a cluster is overdue (default 24)
--   days   window of the expiring and failed reports (default 7)
\if :{?now}
\else
\set now now
\endif
\if :{?hours}
\else
\set hours 24
\endif
\if :{?days}
\else
\set days 7
\endif
\set QUIET on
SET client_min_messages = warning;
\pset footer off
\pset null '-'
