/*-------------------------------------------------------------------------
 *
 * oauth.c
 *		  Service-account authentication: OAuth 2.0 client credentials
 *
 * Atlas recommends service accounts over API keys.  A user mapping with
 * client_id and client_secret gets its access token from
 * POST {base_url}/api/oauth/token (HTTP Basic, grant_type
 * client_credentials) and sends it as "Authorization: Bearer".  The token
 * is cached in the connection entry (malloc'd, never printed; each pool
 * handle picks up the current one by generation) until shortly before it
 * expires, dropped with the entry when the server or user
 * mapping changes, and fetched again once if Atlas answers 401.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  oauth.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json-c/json.h>

#include "atlas_snapshot_fdw.h"
#include "miscadmin.h"
#include "utils/timestamp.h"

/* Refresh this long before expiry (capped at a tenth of the lifetime) */
#define TOKEN_MARGIN_SECS	60

/*
 * atlas_oauth_forget
 *		Drop the cached token, if any.  Never throws.
 */
void
atlas_oauth_forget(AtlasConnEntry *entry)
{
	if (entry->token)
	{
		explicit_bzero(entry->token, strlen(entry->token));
		free(entry->token);
		entry->token = NULL;
	}
	entry->token_gen++;
}

/*
 * post_token_request
 *		One POST to the token endpoint; returns libcurl's result.
 *
 * Everything malloc'd for the request (headers, escaped credentials) is
 * released before returning, and the handle's Basic credentials are
 * cleared again, also when a cancel is pending (then *completed is false
 * and the caller must CHECK_FOR_INTERRUPTS).
 */
static CURLcode
post_token_request(AtlasConnEntry *entry, const AtlasFdwOptions *opts,
				   const char *url, bool *completed)
{
	CURL	   *curl = entry->main.curl;
	struct curl_slist *headers = NULL;
	struct curl_slist *more;
	char	   *id;
	char	   *secret;
	CURLcode	rc = CURLE_OUT_OF_MEMORY;
	bool		ok = true;

	*completed = true;
	/* RFC 6749 2.3.1: form-encode the client credentials for Basic */
	id = curl_easy_escape(curl, opts->client_id, 0);
	secret = curl_easy_escape(curl, opts->client_secret, 0);
	headers = curl_slist_append(NULL, "Accept: application/json");
	more = headers ? curl_slist_append(headers,
									   "Content-Type: application/x-www-form-urlencoded") : NULL;

	if (id && secret && more)
	{
		ok &= curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "grant_type=client_credentials") == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_USERNAME, id) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_PASSWORD, secret) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
							   (long) opts->connect_timeout_ms) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
							   (long) opts->timeout_ms) == CURLE_OK;
		atlas_slot_prepare(&entry->main, opts);
		if (ok)
			*completed = atlas_transfer(entry, &entry->main, &rc);
		else
			rc = CURLE_FAILED_INIT;
	}

	/* back to a plain GET handle: pool handles are duplicated from it */
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(curl, CURLOPT_USERNAME, NULL);
	curl_easy_setopt(curl, CURLOPT_PASSWORD, NULL);
	curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
	curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, NULL);
	curl_slist_free_all(headers);
	if (id)
		curl_free(id);
	if (secret)
	{
		explicit_bzero(secret, strlen(secret));
		curl_free(secret);
	}
	return rc;
}

/*
 * token_is_printable
 *		Whether a token can go into an Authorization header as it is:
 *		visible ASCII only, so that no response can smuggle a line break
 *		into our requests.
 */
static bool
token_is_printable(const char *token)
{
	if (*token == '\0')
		return false;
	for (const char *p = token; *p; p++)
	{
		if (*p < 0x21 || *p > 0x7E)
			return false;
	}
	return true;
}

/*
 * store_token
 *		Take access_token and expires_in from a token response.
 *
 * The parsed document is freed on every path, ERROR included; the token is
 * copied to malloc'd memory (the connection entry's) last, and the
 * palloc'd copy is zeroed before it is freed.  An expires_in that is
 * missing, not an integer, or not positive is an ERROR: guessing a
 * lifetime would mean one token request per API request, or a token used
 * long after it expired.
 */
static void
store_token(AtlasConnEntry *entry, const char *body)
{
	char		why[256];
	bool		over_budget;
	struct json_object *doc = atlas_json_parse(NULL, body, strlen(body),
											   ATLAS_SMALL_DOC_BUDGET, false,
											   why, sizeof(why),
											   &over_budget, NULL);
	char	   *token = NULL;
	int64		expires_in = 0;
	bool		expires_ok = false;

	PG_TRY();
	{
		struct json_object *v;
		int			len;

		if (json_object_is_type(doc, json_type_object))
		{
			if (json_object_object_get_ex(doc, "expires_in", &v) &&
				json_object_is_type(v, json_type_int))
			{
				expires_in = json_object_get_int64(v);
				expires_ok = expires_in > 0;
			}
			if (json_object_object_get_ex(doc, "access_token", &v))
			{
				char	   *s = atlas_json_utf8(v, &len);

				if (s && token_is_printable(s))
					token = strdup(s);
				if (s)
				{
					explicit_bzero(s, strlen(s));
					pfree(s);
				}
			}
		}
	}
	PG_FINALLY();
	{
		json_object_put(doc);
	}
	PG_END_TRY();

	if (token == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("The token endpoint answered without an access token.")));
	if (!expires_ok)
	{
		explicit_bzero(token, strlen(token));
		free(token);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("The token endpoint answered without a positive integer \"expires_in\".")));
	}

	entry->token = token;
	entry->token_gen++;
	/* a day is plenty: Atlas's tokens last an hour */
	expires_in = Min(expires_in, (int64) SECS_PER_DAY);
	expires_in -= Min((int64) TOKEN_MARGIN_SECS, expires_in / 10);
	entry->token_refresh_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														  Max(expires_in, 0) * 1000);
	entry->stats.tokens++;
}

/*
 * atlas_oauth_token
 *		Make sure the entry holds a valid access token; with force, fetch a
 *		new one whatever the cache says.
 *
 * Transient failures of the token endpoint are retried like any request.
 * A rejected client gives ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
 * neither the secret nor the token appears in any message.
 */
void
atlas_oauth_token(AtlasConnEntry *entry, const AtlasFdwOptions *opts, bool force)
{
	char	   *url;
	CURLcode	rc;
	long		status = 0;
	int			retries = 0;
	bool		completed;

	if (!force && entry->token && GetCurrentTimestamp() < entry->token_refresh_at)
		return;
	atlas_oauth_forget(entry);

	url = psprintf("%s/api/oauth/token", entry->base_url);
	elog(DEBUG2, "atlas_snapshot_fdw: POST /api/oauth/token");
	for (;;)
	{
		rc = post_token_request(entry, opts, url, &completed);
		if (!completed)
		{
			CHECK_FOR_INTERRUPTS();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("canceling statement due to user request")));
		}
		status = 0;
		if (rc == CURLE_OK)
			curl_easy_getinfo(entry->main.curl, CURLINFO_RESPONSE_CODE, &status);
		if (!atlas_is_transient(rc, status, &entry->main) ||
			retries >= opts->max_retries)
			break;
		retries++;
		entry->stats.retries++;
		atlas_wait_before_retry(retries, entry->main.retry_after_ms,
								opts->max_retry_wait_ms);
	}

	if (rc != CURLE_OK)
		atlas_report_curl_error(entry->base_url, rc, entry->main.errbuf,
								entry->main.body_too_large,
								entry->main.body_oom, opts, retries);
	if (status != 200)
	{
		char	   *code;
		char	   *detail;

		atlas_parse_error_body(entry->main.body ? entry->main.body : "",
							   &code, &detail);
		ereport(ERROR,
				(errcode(status == 400 || status == 401 || status == 403
						 ? ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION
						 : ERRCODE_FDW_ERROR),
				 status == 400 || status == 401 || status == 403
				 ? errmsg("Atlas rejected the service account credentials of the user mapping")
				 : errmsg("could not obtain an Atlas access token"),
				 code ? errdetail_internal("HTTP status %ld, error code %s: %s%s",
										   status,
										   atlas_server_text(code, ATLAS_MAX_SERVER_TEXT),
										   detail ? atlas_server_text(detail, ATLAS_MAX_SERVER_TEXT) : "",
										   atlas_retry_note(retries))
				 : errdetail_internal("HTTP status %ld.%s", status,
									  atlas_retry_note(retries)),
				 status == 400 || status == 401 || status == 403
				 ? errhint("Check the options %s and %s of the user mapping.",
						   OPTION_CLIENT_ID, OPTION_CLIENT_SECRET) : 0,
				 errcontext("remote request: POST /api/oauth/token")));
	}
	PG_TRY();
	{
		store_token(entry, entry->main.body ? entry->main.body : "");
	}
	PG_FINALLY();
	{
		/* the response held the token: leave no copy of it behind */
		if (entry->main.body)
			explicit_bzero(entry->main.body, entry->main.body_len);
	}
	PG_END_TRY();
	pfree(url);
}
