--
-- urls: the rules for base_url and proxy, checked when the option is set
-- and again where the connection is made
--
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY

-- plain http only towards 127.0.0.0/8, ::1 or localhost: anything else is
-- a host name that DNS could send anywhere
CREATE SERVER url_s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://127.0.0.1.5:9');
CREATE SERVER url_s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://127.300.0.1:9');
CREATE SERVER url_s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://127.example.com/');
CREATE SERVER url_s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://localhost.example.com');
CREATE SERVER url_s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://[::2]:9');
CREATE SERVER url_s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://[::ffff:127.0.0.1]:9');
CREATE SERVER url_s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'https://x/a b');
CREATE SERVER url_s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'https://:443');
CREATE SERVER url_ok1 FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://127.1.2.3:9');
CREATE SERVER url_ok2 FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://localhost:9/');
CREATE SERVER url_ok3 FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://[::1]:9');
-- libcurl writes the numeric forms of an IPv4 address as a dotted quad
CREATE SERVER url_ok4 FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://2130706433:9');
CREATE SERVER url_ok5 FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://127.1:9');

-- proxy: http:// or https://, a host and a port, no credentials
CREATE SERVER url_p FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (proxy 'socks5://127.0.0.1:1080');
CREATE SERVER url_p FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (proxy 'http://someone:pa55word@proxy.example:3128');
CREATE SERVER url_p FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (proxy 'http://proxy.example:3128/path');
CREATE SERVER url_p FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (proxy 'http://proxy.example:3128/?q');
CREATE SERVER url_p FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (proxy 'http://');
CREATE SERVER url_p FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (proxy 'http://proxy.example:3128/');
CREATE SERVER url_p2 FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (proxy 'https://proxy.example');
ALTER SERVER url_p OPTIONS (SET proxy 'http://10.1.2.3:8080');

-- only superusers set it
CREATE ROLE url_user;
GRANT USAGE ON FOREIGN DATA WRAPPER atlas_snapshot_fdw TO url_user;
SET ROLE url_user;
CREATE SERVER url_mine FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (proxy 'http://proxy.example:3128');
CREATE SERVER url_mine FOREIGN DATA WRAPPER atlas_snapshot_fdw;
ALTER SERVER url_mine OPTIONS (ADD proxy 'http://proxy.example:3128');
RESET ROLE;
DROP SERVER url_mine;

-- a value that reached the catalog without the validator is refused where
-- the connection is made, before any request
ALTER FOREIGN DATA WRAPPER atlas_snapshot_fdw NO VALIDATOR;
CREATE SERVER url_bad FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url 'http://127.0.0.1.5:9');
CREATE SERVER url_badproxy FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', proxy 'ftp://127.0.0.1:9');
ALTER FOREIGN DATA WRAPPER atlas_snapshot_fdw VALIDATOR atlas_snapshot_fdw_validator;
CREATE USER MAPPING FOR CURRENT_USER SERVER url_bad
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE USER MAPPING FOR CURRENT_USER SERVER url_badproxy
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE url_bad_projects (id text) SERVER url_bad OPTIONS (resource 'projects');
CREATE FOREIGN TABLE url_badproxy_projects (id text) SERVER url_badproxy OPTIONS (resource 'projects');
SELECT count(*) FROM url_bad_projects;
SELECT count(*) FROM url_badproxy_projects;

DROP SERVER url_ok1, url_ok2, url_ok3, url_ok4, url_ok5, url_p, url_p2, url_bad, url_badproxy CASCADE;
DROP OWNED BY url_user;
DROP ROLE url_user;
