--
-- malformed: pages that are not strict JSON are refused, and values that
-- cannot be PostgreSQL values are errors, never silently altered; valid
-- escapes, big numbers and repeated keys come through exactly.  What json-c
-- accepts beyond RFC 8259 (raw control characters in strings, an unpaired
-- surrogate escape as U+FFFD) comes through as json-c gives it
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER bad_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER bad_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE bad_snaps (
	group_id text NOT NULL, cluster_name text NOT NULL, id text,
	status text, storage_size_bytes bigint,
	exact_size numeric OPTIONS (field 'storageSizeBytes'),
	created_at timestamptz, description text, links jsonb,
	regions text[] OPTIONS (field 'copyRegions')
) SERVER bad_srv OPTIONS (resource 'cluster_snapshots');
CREATE VIEW bad_page AS
	SELECT id, status, storage_size_bytes, description FROM bad_snaps
	 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py reset
\set VERBOSITY default

-- single quotes, comments, NaN and trailing commas are not JSON
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eydyZXN1bHRzJzpbeyJzdGF0dXMiOid4JywvKmMqLyJzdG9yYWdlU2l6ZUJ5dGVzIjpOYU4sfSxdLH0="}'
SELECT * FROM bad_page;

-- NaN on its own
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJzdGF0dXMiOiJjb21wbGV0ZWQiLCJzdG9yYWdlU2l6ZUJ5dGVzIjpOYU59XX0="}'
SELECT * FROM bad_page;

-- a number with a leading zero
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJzdG9yYWdlU2l6ZUJ5dGVzIjowMTJ9XX0="}'
SELECT * FROM bad_page;

-- a NUL byte after the document
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbXX0A"}'
SELECT * FROM bad_page;

-- invalid UTF-8 in a string
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJzdGF0dXMiOiL//iJ9XX0="}'
SELECT * FROM bad_page;

-- an unescaped control character in a string
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJzdGF0dXMiOiJhCWIifV19"}'
SELECT * FROM bad_page;

-- a lone surrogate escape
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJzdGF0dXMiOiJcdWQ4MDB4In1dfQ=="}'
SELECT * FROM bad_page;

-- nesting beyond 64 levels
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJsaW5rcyI6W1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW11dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV19XX0="}'
SELECT * FROM bad_page;

-- an escaped NUL cannot be text (nor be cut short before an input function)
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJpZCI6ImEiLCJzdGF0dXMiOiJjb21wbGV0ZWRcdTAwMDA7IERST1AifV19"}'
SELECT status FROM bad_page;

\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJpZCI6ImEiLCJzdG9yYWdlU2l6ZUJ5dGVzIjoiMTJcdTAwMDBqdW5rIn1dfQ=="}'
SELECT storage_size_bytes FROM bad_page;

\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJpZCI6ImEiLCJjcmVhdGVkQXQiOiIyMDI2LTExLTAxXHUwMDAwZ2FyYmFnZSJ9XX0="}'
SELECT created_at FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- an integer beyond bigint is an error, not a clamped value
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJpZCI6ImEiLCJzdG9yYWdlU2l6ZUJ5dGVzIjotOTk5OTk5OTk5OTk5OTk5OTk5OTl9XX0="}'
SELECT storage_size_bytes FROM bad_page;

-- a numeric column gets every digit Atlas sent
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJpZCI6ImEiLCJzdG9yYWdlU2l6ZUJ5dGVzIjoxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTB9LHsiaWQiOiJiIiwic3RvcmFnZVNpemVCeXRlcyI6LTEuNWUtM30seyJpZCI6ImMiLCJzdG9yYWdlU2l6ZUJ5dGVzIjo5MDA3MTk5MjU0NzQwOTkzfV19"}'
SELECT id, exact_size FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' ORDER BY id;

-- json-c keeps every digit of a number with a fraction or an exponent, and
-- of an integer within 64 bits (beyond them it clamps: an error above)
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJpZCI6ImEiLCJzdG9yYWdlU2l6ZUJ5dGVzIjoxODQ0Njc0NDA3MzcwOTU1MTYxNH0seyJpZCI6ImIiLCJzdG9yYWdlU2l6ZUJ5dGVzIjotMS41ZS0zfSx7ImlkIjoiYyIsInN0b3JhZ2VTaXplQnl0ZXMiOjkwMDcxOTkyNTQ3NDA5OTN9LHsiaWQiOiJkIiwic3RvcmFnZVNpemVCeXRlcyI6MS41MH0seyJpZCI6ImUiLCJzdG9yYWdlU2l6ZUJ5dGVzIjotOTIyMzM3MjAzNjg1NDc3NTgwN31dfQ=="}'
SELECT id, exact_size FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' ORDER BY id;

-- INT64_MAX is exact (json-c keeps it as an int64), as bigint and as
-- numeric; one more is beyond bigint (int8in says so) and exact as numeric;
-- INT64_MIN and UINT64_MAX are json-c's clamp limits, which it gives for
-- any integer beyond them: errors, as bigint and as numeric
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "count": 2, "body": "{\"results\":[{\"id\":\"a\",\"storageSizeBytes\":9223372036854775807}]}"}'
SELECT id, storage_size_bytes FROM bad_page;
SELECT id, exact_size FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "count": 2, "body": "{\"results\":[{\"id\":\"b\",\"storageSizeBytes\":9223372036854775808}]}"}'
SELECT id, storage_size_bytes FROM bad_page;
SELECT id, exact_size FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "count": 2, "body": "{\"results\":[{\"id\":\"c\",\"storageSizeBytes\":18446744073709551615}]}"}'
SELECT id, storage_size_bytes FROM bad_page;
SELECT id, exact_size FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "count": 2, "body": "{\"results\":[{\"id\":\"d\",\"storageSizeBytes\":-9223372036854775808}]}"}'
SELECT id, storage_size_bytes FROM bad_page;
SELECT id, exact_size FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- json-c also takes single-quoted keys and a number ending in a point
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eydyZXN1bHRzJzpbeyJpZCI6ImEiLCdzdG9yYWdlU2l6ZUJ5dGVzJzo3Ln1dfQ=="}'
SELECT id, exact_size FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- a number beyond double's range is not finite
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJpZCI6ImEiLCJzdGF0dXMiOiJ4Iiwic3RvcmFnZVNpemVCeXRlcyI6MWU0MDB9XX0="}'
SELECT * FROM bad_page;

-- such numbers are errors where a column reads them, inside json too;
-- a field no column reads changes nothing
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "count": 2, "body_b64": "eyJyZXN1bHRzIjpbeyJpZCI6ImEiLCJsaW5rcyI6W3sicmVsIjoic2VsZiIsIngiOi05OTk5OTk5OTk5OTk5OTk5OTk5OX1dLCJzdG9yYWdlU2l6ZUJ5dGVzIjpOYU59XX0="}'
SELECT id FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
SELECT id, links FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- overlong UTF-8 (which json-c takes) is refused by PostgreSQL's check
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJzdGF0dXMiOiLAryJ9XX0="}'
SELECT * FROM bad_page;

-- escapes are decoded; a repeated key counts once, with its last value (as in jsonb)
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body_b64": "eyJyZXN1bHRzIjpbeyJpZCI6ImEiLCJzdGF0dXMiOiJmaXJzdCIsImRlc2NyaXB0aW9uIjoiY2FmXHUwMGU5IFx1ZDgzZFx1ZGUwMCBcInFcIiBcXCBcLyBcdTAwYzUiLCJzdGF0dXMiOiJzZWNvbmQiLCJsaW5rcyI6W3sicmVsIjoic1x1MDBlOWxmIiwieCI6MS41MH1dLCJjb3B5UmVnaW9ucyI6WyJldVwiMSIsbnVsbCwiXHUwMGU5Il19XX0="}'
SELECT status, description, description = E'caf\u00e9 \U0001F600 "q" \\ / \u00c5' AS decoded, links, regions
  FROM bad_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- reporting an error never raises another: an error detail that cannot
-- be a PostgreSQL string is left out, and the HTTP error stands
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "status": 500, "count": -1, "body": "{\"errorCode\": \"BROKEN\", \"detail\": \"a\\u0000b\"}"}'
SELECT * FROM bad_page;
\! python3 test/mockctl.py reset

-- an item that is not a JSON object is an error when its row is read,
-- first on its page or not
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body": "{\"results\": [1]}"}'
SELECT * FROM bad_page;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "raw", "body": "{\"results\": [{\"id\": \"a\"}, \"b\"]}"}'
SELECT id FROM bad_page;

-- the session still works
\! python3 test/mockctl.py reset
SELECT count(*) FROM bad_page;

DROP SERVER bad_srv CASCADE;
\! python3 test/mockctl.py reset
