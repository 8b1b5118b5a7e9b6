/*-------------------------------------------------------------------------
 *
 * url.c
 *		  The rules for the base_url and proxy options
 *
 * Both are checked twice: by the validator when the option is set, and
 * again when a connection is made from them (connection.c), so that a
 * catalog value that predates a rule, or reached the catalog another way,
 * is never used.  URLs are split by libcurl's own URL parser (curl_url),
 * the one that later reads them for the transfer, so that what is checked
 * is what libcurl connects to; it also writes numeric IPv4 forms such as
 * "127.1" or "2130706433" as a dotted quad.
 *
 * Plain http is allowed only towards a loopback host: an IPv4 literal in
 * 127.0.0.0/8, the IPv6 literal ::1, or the name "localhost" (which
 * libcurl resolves itself, without DNS).  Anything else, "127.0.0.1.5" or
 * "127.300.0.1" included, is a host name that DNS could send anywhere.
 *
 * Neither URL may carry credentials: a user name or password in them would
 * be a secret outside a user mapping.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  url.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "atlas_snapshot_fdw.h"

/* The parts of a URL that the rules look at, palloc'd; NULL if absent */
typedef struct UrlParts
{
	char	   *scheme;
	char	   *host;
	char	   *user;
	char	   *password;
	char	   *options;
	char	   *path;
	char	   *query;
	char	   *fragment;
} UrlParts;

/*
 * get_part
 *		One part of a parsed URL, palloc'd, or NULL if it has none.
 */
static char *
get_part(CURLU *h, CURLUPart what)
{
	char	   *value = NULL;
	char	   *result = NULL;

	if (curl_url_get(h, what, &value, 0) == CURLUE_OK && value != NULL)
	{
		/* pstrdup may throw: free libcurl's copy first */
		size_t		len = strlen(value);

		result = palloc(len + 1);
		memcpy(result, value, len + 1);
		curl_free(value);
	}
	return result;
}

/*
 * split_url
 *		Parse url with libcurl.  Returns libcurl's verdict; on CURLUE_OK the
 *		parts are filled in (palloc'd in the current context).
 *
 * The CURLU handle is malloc'd: it is released on every path, ERROR
 * (out of memory while copying a part) included.
 */
static CURLUcode
split_url(const char *url, UrlParts *parts)
{
	CURLU	   *volatile h = curl_url();	/* volatile: used in PG_FINALLY */
	volatile CURLUcode rc;		/* volatile: set in PG_TRY, read after */

	memset(parts, 0, sizeof(*parts));
	if (h == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	PG_TRY();
	{
		rc = curl_url_set(h, CURLUPART_URL, url, 0);
		if (rc == CURLUE_OK)
		{
			parts->scheme = get_part(h, CURLUPART_SCHEME);
			parts->host = get_part(h, CURLUPART_HOST);
			parts->user = get_part(h, CURLUPART_USER);
			parts->password = get_part(h, CURLUPART_PASSWORD);
			parts->options = get_part(h, CURLUPART_OPTIONS);
			parts->path = get_part(h, CURLUPART_PATH);
			parts->query = get_part(h, CURLUPART_QUERY);
			parts->fragment = get_part(h, CURLUPART_FRAGMENT);
		}
	}
	PG_FINALLY();
	{
		curl_url_cleanup(h);
	}
	PG_END_TRY();
	return rc;
}

/*
 * atlas_is_loopback_host
 *		Whether a host, as libcurl's URL parser writes it, is loopback:
 *		127.0.0.0/8, [::1] or localhost.
 */
bool
atlas_is_loopback_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char		buf[INET6_ADDRSTRLEN + 2];
	size_t		len = strlen(host);

	if (pg_strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (len > 2 && len < sizeof(buf) && host[0] == '[' && host[len - 1] == ']')
	{
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) == 1)
			return IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return false;
}

/*
 * atlas_check_base_url
 *		Accept "https://host[:port][/path]", or "http://" towards a loopback
 *		host; ERROR otherwise.  Returns true if the URL is plain http.
 *
 * Credentials, query strings and fragments are refused: the first would be
 * a secret outside a user mapping, the others would corrupt request URLs.
 */
bool
atlas_check_base_url(const char *url)
{
	UrlParts	parts;
	CURLUcode	rc;
	bool		https;

	if (strncmp(url, "https://", 8) == 0)
		https = true;
	else if (strncmp(url, "http://", 7) == 0)
		https = false;
	else
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_BASE_URL, url),
				 errdetail("The URL must start with \"https://\".")));

	rc = split_url(url, &parts);
	if (strpbrk(url, "@?# ") != NULL ||
		(rc == CURLUE_OK &&
		 (parts.user || parts.password || parts.options || parts.query ||
		  parts.fragment)))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_BASE_URL, url),
				 errdetail("The URL must not contain credentials, spaces, a query or a fragment.")));
	if (rc == CURLUE_NO_HOST || (rc == CURLUE_OK &&
								 (parts.host == NULL || parts.host[0] == '\0')))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_BASE_URL, url),
				 errdetail("The URL has no host name.")));
	if (rc != CURLUE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_BASE_URL, url),
				 errdetail("libcurl could not parse it: %s.",
						   curl_url_strerror(rc))));

	if (!https && !atlas_is_loopback_host(parts.host))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_BASE_URL, url),
				 errdetail("Plain http is allowed only for loopback hosts; use https.")));
	return !https;
}

/*
 * atlas_check_proxy_url
 *		Accept "http://host[:port]" or "https://host[:port]" (an optional
 *		trailing slash) as a proxy; ERROR otherwise.
 *
 * Credentials are refused (they would be secrets outside a user mapping;
 * the message does not repeat such a URL), and so are other schemes
 * (SOCKS), paths, queries and fragments.
 */
void
atlas_check_proxy_url(const char *url)
{
	UrlParts	parts;
	CURLUcode	rc;

	if (strncmp(url, "https://", 8) != 0 &&
		strncmp(url, "http://", 7) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_PROXY, url),
				 errdetail("The proxy URL must start with \"http://\" or \"https://\".")));

	rc = split_url(url, &parts);
	if (strchr(url, '@') != NULL ||
		(rc == CURLUE_OK && (parts.user || parts.password || parts.options)))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\"", OPTION_PROXY),
				 errdetail("The proxy URL must not contain credentials.")));
	if (rc == CURLUE_NO_HOST || (rc == CURLUE_OK &&
								 (parts.host == NULL || parts.host[0] == '\0')))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_PROXY, url),
				 errdetail("The URL has no host name.")));
	if (rc != CURLUE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_PROXY, url),
				 errdetail("libcurl could not parse it: %s.",
						   curl_url_strerror(rc))));
	if ((parts.path && strcmp(parts.path, "/") != 0) || parts.query ||
		parts.fragment)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_PROXY, url),
				 errdetail("The proxy URL must not contain a path, a query or a fragment.")));
}
