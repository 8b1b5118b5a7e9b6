#!/bin/sh
# cancel_observer.sh WORD: wait (at most 10 s) for another session's active
# query that contains the quoted literal 'WORD', print its wait event, then
# cancel it.  The wait event of a wait for Atlas is AtlasTransfer on
# PostgreSQL 17 and later and "Extension" before (no custom wait events):
# either prints as AtlasTransfer, so that the output is the same on every
# version; any other event prints as it is.
# Used by sql/cancel.sql; connects like pg_regress does (PG* environment).
pattern=$1
i=0
while [ $i -lt 100 ]; do
	out=$(psql -X -At -d contrib_regression -c "
		SELECT wait_event_type || ' ' ||
		       CASE WHEN wait_event = CASE WHEN current_setting('server_version_num')::int >= 170000
		                                   THEN 'AtlasTransfer' ELSE 'Extension' END
		            THEN 'AtlasTransfer' ELSE wait_event END ||
		       ' cancel=' || pg_cancel_backend(pid)
		  FROM pg_stat_activity
		 WHERE state = 'active' AND pid <> pg_backend_pid()
		   AND query LIKE '%''$pattern''%'
		   AND wait_event_type = 'Extension'")
	if [ -n "$out" ]; then
		echo "observer saw: $out"
		exit 0
	fi
	sleep 0.1
	i=$((i + 1))
done
echo "observer saw nothing"
exit 1
