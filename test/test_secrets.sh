#!/usr/bin/env bash
# test_secrets.sh: prove that no credential or token reaches EXPLAIN, an
# error message, its context, the statistics, a DEBUG message or the server
# log, on every path that handles one.
#
# pg_stat_activity, the statistics and EXPLAIN are printed into the same
# file, so a token that reached any of them fails the test.
#
# Runs inside a throwaway cluster (PG* environment set, e.g. by
# throwaway_cluster -o logging_collector=on) against the mock Atlas server
# (ATLAS_MOCK_URL and the ATLAS_MOCK_* credentials exported).  Everything
# the session prints goes to one file, at client_min_messages = debug5 and
# log_min_messages = debug5; then that file and the server log are searched
# for each secret.  Prints "secrets: N passed, M failed"; exits non-zero on
# any failure.
set -u
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
wrong_secret=not-the-secret-7d41c9e2

python3 test/mockctl.py reset >/dev/null
psql -X -a -d contrib_regression -v ON_ERROR_STOP=0 \
	-v wrong_secret="$wrong_secret" >"$out" 2>&1 <<'SQL'
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
SET client_min_messages = debug5;
SET log_min_messages = debug5;
SET log_error_verbosity = verbose;
\set VERBOSITY verbose
CREATE SERVER sec_key FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '1', max_retry_wait_ms '10');
CREATE SERVER sec_sa FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '1', max_retry_wait_ms '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER sec_key
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE USER MAPPING FOR CURRENT_USER SERVER sec_sa
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE sec_key_snaps (group_id text, cluster_name text, id text)
	SERVER sec_key OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE sec_sa_snaps (group_id text, cluster_name text, id text)
	SERVER sec_sa OPTIONS (resource 'cluster_snapshots');
-- EXPLAIN and EXPLAIN ANALYZE, both kinds of credentials
EXPLAIN (VERBOSE, ANALYZE) SELECT * FROM sec_key_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('prod-1', 'n600');
EXPLAIN (VERBOSE, ANALYZE) SELECT * FROM sec_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('prod-1', 'n600');
-- a revoked token is renewed
\! python3 test/mockctl.py revoke-tokens
SELECT count(*) FROM sec_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
-- errors of every kind
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 503, "count": 2}'
SELECT count(*) FROM sec_key_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "truncated", "count": 2}'
SELECT count(*) FROM sec_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "invalid_json"}'
SELECT count(*) FROM sec_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "status", "status": 500, "count": 2}'
\! python3 test/mockctl.py revoke-tokens
SELECT count(*) FROM sec_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
SELECT count(*) FROM sec_key_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'nosuch';
ALTER USER MAPPING FOR CURRENT_USER SERVER sec_key OPTIONS (SET private_key :'wrong_secret');
SELECT count(*) FROM sec_key_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
ALTER USER MAPPING FOR CURRENT_USER SERVER sec_sa OPTIONS (SET client_secret :'wrong_secret');
SELECT count(*) FROM sec_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
SELECT * FROM atlas_snapshot_fdw_stats();
-- what monitoring shows of the backends, this one included
SELECT pid, backend_type, state, wait_event_type, wait_event, query FROM pg_stat_activity;
-- restore jobs: imported tables leave download links out; a declared link
-- column of the wrong type fails without showing the link
ALTER USER MAPPING FOR CURRENT_USER SERVER sec_sa OPTIONS (SET client_secret :'client_secret');
CREATE SCHEMA sec_atlas;
IMPORT FOREIGN SCHEMA atlas LIMIT TO (restore_jobs, flex_restore_jobs) FROM SERVER sec_sa INTO sec_atlas;
EXPLAIN (VERBOSE, ANALYZE) SELECT * FROM sec_atlas.restore_jobs WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
SELECT * FROM sec_atlas.restore_jobs WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
SELECT * FROM sec_atlas.flex_restore_jobs WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'flex-1';
CREATE FOREIGN TABLE sec_links (group_id text, cluster_name text, delivery_url int[], snapshot_url int)
	SERVER sec_sa OPTIONS (resource 'restore_jobs');
SELECT * FROM sec_links WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
ALTER FOREIGN TABLE sec_links OPTIONS (SET resource 'flex_restore_jobs');
SELECT * FROM sec_links WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'flex-1';
DROP SCHEMA sec_atlas CASCADE;
DROP FOREIGN TABLE sec_links;
-- what other roles can see
CREATE ROLE sec_reader;
GRANT USAGE ON FOREIGN SERVER sec_key TO sec_reader;
SET ROLE sec_reader;
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname LIKE 'sec%';
SELECT * FROM sec_key_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
RESET ROLE;
DROP OWNED BY sec_reader;
DROP ROLE sec_reader;
DROP SERVER sec_key, sec_sa CASCADE;
SELECT pg_current_logfile() AS logfile \gset
\! echo "---- server log follows"
SELECT pg_read_file(:'logfile');
SQL

python3 test/mockctl.py issued-tokens >"$out.tokens"
basic=$(printf '%s:%s' "$ATLAS_MOCK_CLIENT_ID" "$ATLAS_MOCK_CLIENT_SECRET" | base64 -w0)
passed=0
failed=0
check() {
	local what=$1 value=$2
	if [ -z "$value" ]; then
		return
	fi
	if grep -qF -- "$value" "$out"; then
		echo "FAIL: $what appears in the session output or server log" >&2
		grep -nF -- "$value" "$out" | head -3 >&2
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
}

# the session must have done its work: tokens issued, queries answered
if ! grep -q "server log follows" "$out" || [ ! -s "$out.tokens" ] ||
	! grep -q "Atlas Requests" "$out"; then
	echo "FAIL: the secrets session did not run as expected" >&2
	tail -20 "$out" >&2
	failed=$((failed + 1))
fi
check "the API private key" "$ATLAS_MOCK_PRIVATE_KEY"
check "the service account secret" "$ATLAS_MOCK_CLIENT_SECRET"
check "a wrong secret" "$wrong_secret"
check "the Basic authorization value" "$basic"
check "a restore download link" "dl-token-7c1e9a"
while read -r token; do
	check "an OAuth access token" "$token"
done <"$out.tokens"
rm -f "$out.tokens"

echo "secrets: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
