/*-------------------------------------------------------------------------
 *
 * oauth.c
 *		  Service-account authentication: OAuth 2.0 client credentials
 *
 * Atlas recommends service accounts over API keys.  A user mapping with
 * client_id and client_secret gets its access token from
 * POST {base_url}/api/oauth/token (HTTP Basic, grant_type
 * client_credentials) and sends it as "Authorization: Bearer".  The token
 * is cached in the connection entry (malloc'd, never printed; each request
 * carries the current one in an Authorization header line of its own,
 * zeroed when freed) until shortly before it expires, dropped with the
 * entry when the server or user mapping changes, and fetched again once if
 * Atlas answers 401.
 *
 * The token request is an ordinary transfer of the event loop (loop.c), on
 * the entry's main handle, under the retry policy of every transfer
 * (atlas_retry_decide).  A scan asks atlas_oauth_ready() before it starts
 * its requests; while the answer is "not yet" it starts nothing and waits
 * in its own loop, as it does for its pages.  The request's completion
 * (token_done) only records the outcome, in whichever scan waits when it
 * arrives; the next scan to ask reads it, and raises the error if there is
 * one.  An abort forgets a token request begun in what it aborts.
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

#include "access/xact.h"
#include "common/base64.h"
#include "connection_int.h"
#include "miscadmin.h"
#include "utils/timestamp.h"

/* The token endpoint, below base_url: ATLAS_TOKEN_PATH */

/* Refresh this long before expiry (capped at a fraction of the lifetime) */
#define TOKEN_MARGIN_SECS	60
#define TOKEN_MARGIN_DIVISOR	10
/* Milliseconds in a second */
#define MS_PER_SEC			1000

static void token_done(void *owner, AtlasSlot *slot,
					   const AtlasOutcome *outcome);

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
 * token_cleanup
 *		Make the main handle a plain GET handle again (pool handles are
 *		duplicated from it), without the client credentials, and zero and
 *		free what the token request allocated.  Never throws.
 */
static void
token_cleanup(AtlasConnEntry *entry)
{
	AtlasTokenRequest *tr = &entry->token_req;
	CURL	   *curl = entry->main.curl;

	if (curl)
	{
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	}
	atlas_free_headers(tr->headers);
	tr->headers = NULL;
}

/*
 * free_escaped
 *		Zero and free a string of curl_easy_escape's.
 */
static void
free_escaped(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	curl_free(s);
}

/*
 * append_basic
 *		Append "Authorization: Basic <base64(id:secret)>" (RFC 6749 2.3.1:
 *		both form-encoded first) to the token request's header list, or
 *		return NULL (the list unchanged) if out of memory.  Never throws.
 *
 * The header is ours rather than libcurl's (CURLOPT_USERNAME and
 * CURLOPT_PASSWORD), so that the client secret is kept nowhere but in the
 * list, which atlas_free_headers zeroes: libcurl copies those options into
 * the handle and into the connection it keeps alive, and frees the copies
 * without zeroing them.  Every intermediate copy is zeroed here.
 */
static struct curl_slist *
append_basic(CURL *curl, struct curl_slist *list, const char *client_id,
			 const char *client_secret)
{
	static const char prefix[] = "Authorization: Basic ";
	char	   *id = curl_easy_escape(curl, client_id, 0);
	char	   *secret = curl_easy_escape(curl, client_secret, 0);
	char	   *pair = NULL;
	char	   *line = NULL;
	size_t		pair_len = 0;
	size_t		line_len = 0;
	struct curl_slist *result = NULL;

	if (id && secret)
	{
		pair_len = strlen(id) + 1 + strlen(secret);
		/* option values are short; this keeps the sizes within an int */
		if (pair_len < (size_t) MaxAllocSize / 2)
		{
			line_len = sizeof(prefix) - 1 + pg_b64_enc_len((int) pair_len) + 1;
			pair = malloc(pair_len + 1);
			line = malloc(line_len);
		}
	}
	if (pair && line)
	{
		int			n;

		snprintf(pair, pair_len + 1, "%s:%s", id, secret);
		memcpy(line, prefix, sizeof(prefix) - 1);
		/* void *: the source is char * up to PostgreSQL 17, uint8 * since */
		n = pg_b64_encode((const void *) pair, (int) pair_len,
						  line + sizeof(prefix) - 1,
						  (int) (line_len - sizeof(prefix)));
		if (n >= 0)
		{
			line[sizeof(prefix) - 1 + n] = '\0';
			result = curl_slist_append(list, line);
		}
	}
	free_escaped(id);
	free_escaped(secret);
	if (pair)
	{
		explicit_bzero(pair, pair_len + 1);
		free(pair);
	}
	if (line)
	{
		explicit_bzero(line, line_len);
		free(line);
	}
	return result;
}

/*
 * start_token_request
 *		Start one POST to the token endpoint on the entry's main handle, a
 *		transfer of the event loop.
 *
 * The client's credentials go in a Basic Authorization header line of our
 * own (append_basic), never into libcurl's options.  On ERROR nothing is
 * attached and nothing it allocated is left (its header lines, the
 * credentials among them, are zeroed and freed).
 */
static void
start_token_request(AtlasConnEntry *entry, const AtlasFdwOptions *opts)
{
	AtlasTokenRequest *tr = &entry->token_req;
	CURL	   *curl = entry->main.curl;
	char	   *url;
	bool		ok = true;

	tr->headers = curl_slist_append(NULL, "Accept: application/json");
	if (tr->headers &&
		(curl_slist_append(tr->headers,
						   "Content-Type: application/x-www-form-urlencoded") == NULL ||
		 append_basic(curl, tr->headers, opts->client_id,
					  opts->client_secret) == NULL))
		ok = false;
	if (!ok || tr->headers == NULL)
	{
		token_cleanup(entry);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	}

	url = psprintf("%s%s", entry->base_url, ATLAS_TOKEN_PATH);
	ok &= curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK;
	pfree(url);
	ok &= curl_easy_setopt(curl, CURLOPT_HTTPHEADER, tr->headers) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "grant_type=client_credentials") == CURLE_OK;
	/* timeout_ms is enforced by the event loop, on waiting time (loop.c) */
	ok &= curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
						   (long) opts->connect_timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 0L) == CURLE_OK;
	if (!ok)
	{
		token_cleanup(entry);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not set up Atlas request"),
				 errcontext("remote request: POST %s", ATLAS_TOKEN_PATH)));
	}
	atlas_slot_prepare(&entry->main, opts);
	PG_TRY();
	{
		atlas_slot_attach(&entry->main, token_done, entry);
	}
	PG_CATCH();
	{
		token_cleanup(entry);
		PG_RE_THROW();
	}
	PG_END_TRY();
	tr->state = TOKEN_RUNNING;
}

/*
 * token_done
 *		Completion function of the token request: clear the credentials off
 *		the handle, then record the outcome (or plan a retry).
 *
 * Runs in whichever scan waits, or in an abort (detached: the request is
 * forgotten).  Records state only; never throws.  The response body stays
 * in the main slot until a scan reads it (atlas_oauth_ready).
 */
static void
token_done(void *owner, AtlasSlot *slot, const AtlasOutcome *outcome)
{
	AtlasConnEntry *entry = (AtlasConnEntry *) owner;
	AtlasTokenRequest *tr = &entry->token_req;
	long		delay_ms;

	token_cleanup(entry);
	if (outcome->detached)
	{
		tr->state = TOKEN_IDLE;
		return;
	}
	if (atlas_retry_decide(entry, outcome, &tr->retries, tr->max_retries,
						   tr->max_wait_ms, &tr->not_before, &delay_ms))
	{
		tr->state = TOKEN_WAITING;
		return;
	}
	tr->outcome = *outcome;
	tr->outcome.errbuf = NULL;	/* it is the main slot's errbuf */
	tr->state = TOKEN_DONE;
}

/*
 * atlas_oauth_abort
 *		Forget a token request begun at transaction nesting level
 *		nest_level or deeper (0: any), detaching it if it is running.
 *		Never throws.
 */
void
atlas_oauth_abort(AtlasConnEntry *entry, int nest_level)
{
	AtlasTokenRequest *tr = &entry->token_req;

	if (tr->state == TOKEN_IDLE || tr->nest_level < nest_level)
		return;
	/* an answer nobody read may hold a token: leave no copy of it behind */
	if (entry->main.body)
		explicit_bzero(entry->main.body, entry->main.body_len);
	if (entry->main.attached)
		atlas_release_slot(&entry->main);
	token_cleanup(entry);
	tr->state = TOKEN_IDLE;
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
 * palloc'd copy and the tree's are zeroed before they are freed.  An expires_in that is
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
				/* json-c frees its strings without zeroing them */
				if (json_object_is_type(v, json_type_string))
					explicit_bzero((char *) json_object_get_string(v),
								   json_object_get_string_len(v));
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
	expires_in -= Min((int64) TOKEN_MARGIN_SECS, expires_in / TOKEN_MARGIN_DIVISOR);
	entry->token_refresh_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														  Max(expires_in, 0) * MS_PER_SEC);
	entry->stats.tokens++;
}

/*
 * finish_token_request
 *		Read the outcome of a finished token request: store the token, or
 *		raise the error.
 *
 * A rejected client gives ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
 * neither the secret nor the token appears in any message.  The response
 * body is zeroed whatever happens (it may hold a token).
 */
static void
finish_token_request(AtlasConnEntry *entry, const AtlasFdwOptions *opts)
{
	AtlasTokenRequest *tr = &entry->token_req;
	const AtlasOutcome *out = &tr->outcome;
	long		status = out->status;
	int			retries = tr->retries;

	if (out->rc != CURLE_OK)
		atlas_report_curl_error(entry->base_url, out->rc, entry->main.errbuf,
								out->body_too_large, out->body_oom, opts,
								retries);
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
				 errcontext("remote request: POST %s", ATLAS_TOKEN_PATH)));
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
}

/*
 * atlas_oauth_ready
 *		Whether the entry holds a valid access token (always, for API keys).
 *
 * If not, moves its token request along without waiting: starts it (or
 * its retry, once the retry's time has come), or reads its outcome, which
 * stores the token or raises the error.  While it returns false the
 * caller starts nothing, waits in the event loop (the token request is a
 * transfer of it) at most until *wake_at (lowered to the retry's time if
 * one waits; 0: no time of its own), and asks again.
 */
bool
atlas_oauth_ready(AtlasConnEntry *entry, const AtlasFdwOptions *opts,
				  TimestampTz *wake_at)
{
	AtlasTokenRequest *tr = &entry->token_req;

	if (entry->auth != ATLAS_AUTH_OAUTH)
		return true;
	switch (tr->state)
	{
		case TOKEN_IDLE:
			if (entry->token && GetCurrentTimestamp() < entry->token_refresh_at)
				return true;
			atlas_oauth_forget(entry);
			tr->retries = 0;
			tr->max_retries = opts->max_retries;
			tr->max_wait_ms = opts->max_retry_wait_ms;
			tr->nest_level = GetCurrentTransactionNestLevel();
			elog(DEBUG2, "atlas_snapshot_fdw: POST %s", ATLAS_TOKEN_PATH);
			start_token_request(entry, opts);
			return false;
		case TOKEN_RUNNING:
			return false;
		case TOKEN_WAITING:
			if (GetCurrentTimestamp() < tr->not_before)
			{
				if (*wake_at == 0 || tr->not_before < *wake_at)
					*wake_at = tr->not_before;
				return false;
			}
			start_token_request(entry, opts);
			return false;
		case TOKEN_DONE:
			tr->state = TOKEN_IDLE;
			finish_token_request(entry, opts);
			return true;
	}
	return false;				/* keep the compiler quiet */
}

/*
 * atlas_oauth_token_valid
 *		Whether requests can go now without a token request first: an API
 *		key, or a cached token not yet due for renewal.  Looks only; never
 *		throws, starts nothing.
 */
bool
atlas_oauth_token_valid(AtlasConnEntry *entry)
{
	return entry->auth != ATLAS_AUTH_OAUTH ||
		(entry->token != NULL && entry->token_req.state == TOKEN_IDLE &&
		 GetCurrentTimestamp() < entry->token_refresh_at);
}

/*
 * atlas_oauth_renew
 *		A request sent with token generation rejected_gen was answered 401:
 *		drop that token, unless it has been replaced already (or a token
 *		request is underway), so that the next atlas_oauth_ready fetches a
 *		new one.  Never throws.
 */
void
atlas_oauth_renew(AtlasConnEntry *entry, uint64 rejected_gen)
{
	if (entry->token_gen == rejected_gen &&
		entry->token_req.state == TOKEN_IDLE)
		atlas_oauth_forget(entry);
}
