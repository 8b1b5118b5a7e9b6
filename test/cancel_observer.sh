#!/bin/sh
# cancel_observer.sh WORD: wait (at most 10 s) for another session's active
# query that contains the quoted literal 'WORD', print its wait event, then
# cancel it.
# Used by sql/cancel.sql; connects like pg_regress does (PG* environment).
pattern=$1
i=0
while [ $i -lt 100 ]; do
	out=$(psql -X -At -d contrib_regression -c "
		SELECT wait_event_type || ' ' || wait_event || ' cancel=' || pg_cancel_backend(pid)
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
