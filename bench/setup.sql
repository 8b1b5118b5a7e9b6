-- bench/setup.sql: what every benchmark database starts with (\i it from
-- psql in the database): the extension, a server "b" on the mock Atlas
-- server (ATLAS_MOCK_URL) and the current user's mapping with the mock's
-- API key.  The psql variables mock_url, public_key and private_key stay
-- set for what follows.
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
SET client_min_messages = warning;
CREATE EXTENSION atlas_snapshot_fdw;
CREATE SERVER b FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER b OPTIONS (public_key :'public_key', private_key :'private_key');
