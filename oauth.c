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
 * Shared tokens.  When the instance-wide segment exists (shmem.c: the
 * library in shared_preload_libraries, or PostgreSQL 17 and later), the
 * token of a (database, server, account) is one for the whole instance,
 * in the segment's token section (AtlasSharedToken), keyed by a SHA-256
 * of base_url, client_id and client_secret, never the secret itself: a
 * mapping with the right client id but another secret shares nothing.
 * A backend that needs a token copies the shared one if it is valid
 * (into malloc'd memory, as a fetched one); if there is none, the first
 * backend to look takes the entry's "fetch mark" (its pid, the time, and
 * a deadline) and fetches it as above, then publishes it; every other
 * backend waits for it, in its own event loop (so that its other
 * transfers go on), woken by the entry's condition variable and, as a
 * bound, every TOKEN_POLL_MS (wait event AtlasToken).  So 20 backends
 * that start together make one token request, not 20 (Atlas allows 100
 * active tokens per service account, and about 10 token requests a
 * minute).
 *
 * The fetch mark is cleared when the request ends (published, failed, or
 * aborted with its transaction) and when the backend exits
 * (before_shmem_exit).  A mark whose backend is gone (kill(pid, 0): a
 * backend killed without running its exit callbacks) or whose deadline
 * has passed is void, and the next backend to look takes it over.  The
 * deadline bounds the request with its own bounds: every attempt's
 * timeout_ms plus every retry's max_retry_wait_ms, and a second.  A token
 * request that fails raises its ERROR in the backend that made it only;
 * the waiting backends then try themselves, one at a time.
 *
 * A 401 renews the token once for everyone: a backend that sees a 401
 * for the shared token of generation g drops it only if it is still
 * generation g (the first to see it), and the next backend to need a
 * token fetches one; the others find the generation moved on and take
 * the new token.  A change of the server or user mapping drops the
 * shared token in the same way, once.  The shared copy is zeroed
 * (explicit_bzero) whenever it is replaced or dropped.  Without the
 * segment, or when its token section is full (ATLAS_SHMEM_TOKENS entries
 * all being fetched), or for a token longer than ATLAS_SHMEM_TOKEN_MAX,
 * each backend fetches and keeps its own token, as without sharing.
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
#include "shmem.h"
#include "storage/ipc.h"
#include "utils/timestamp.h"

/* The token endpoint, below base_url */
#define ATLAS_TOKEN_PATH	"/api/oauth/token"

/* Refresh this long before expiry (capped at a fraction of the lifetime) */
#define TOKEN_MARGIN_SECS	60
#define TOKEN_MARGIN_DIVISOR	10
/* Milliseconds in a second */
#define MS_PER_SEC			1000

/*
 * The start of Atlas's error_description when a service account has the
 * most active tokens Atlas allows (a 403 access_denied of the token
 * endpoint)
 */
#define TOKEN_LIMIT_TEXT	"Access Token limit reached"

/* Wait for another backend's token request at most this long at a time */
#define TOKEN_POLL_MS		100
/* A fetch mark outlives its request's own bounds by this much */
#define TOKEN_MARK_SLACK_MS	1000

/* What the shared token section says to do (shared_token_get) */
typedef enum SharedTokenAction
{
	SHARED_NONE,				/* no sharing: fetch a token of our own */
	SHARED_COPIED,				/* a valid token was copied into the entry */
	SHARED_WAIT,				/* another backend fetches it: wait */
	SHARED_FETCH				/* we hold the fetch mark: fetch it */
} SharedTokenAction;

/* Whether the exit callback that clears our fetch marks is registered */
static bool mark_exit_registered = false;

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
	entry->shared_gen = 0;
}

/*
 * find_shared_token
 *		The token section's entry of a key, or NULL.  The caller holds
 *		ATLAS_LOCK_TOKENS.
 */
static AtlasSharedToken *
find_shared_token(AtlasShmemState *state, const AtlasShmemKey *key)
{
	for (int i = 0; i < ATLAS_SHMEM_TOKENS; i++)
	{
		AtlasSharedToken *e = &state->tokens[i];

		if (e->in_use && atlas_shmem_key_equal(&e->key, key))
			return e;
	}
	return NULL;
}

/*
 * mark_is_live
 *		Whether an entry's fetch mark holds: taken by another process that
 *		may still be running, its deadline not passed.  The caller holds
 *		ATLAS_LOCK_TOKENS.
 */
static bool
mark_is_live(const AtlasSharedToken *e, TimestampTz now)
{
	return e->fetcher_pid != 0 && e->fetcher_pid != MyProcPid &&
		now < e->fetch_deadline && atlas_shmem_pid_alive(e->fetcher_pid);
}

/*
 * zero_shared_token
 *		Zero an entry's token and make it due, a new generation.  The
 *		caller holds ATLAS_LOCK_TOKENS exclusively.
 */
static void
zero_shared_token(AtlasSharedToken *e)
{
	explicit_bzero(e->token, sizeof(e->token));
	e->refresh_at = 0;
	e->generation++;
}

/*
 * claim_shared_token
 *		A free entry for a key, or the least recently used one whose mark
 *		is not live (its token zeroed), or NULL if every entry is being
 *		fetched.  The caller holds ATLAS_LOCK_TOKENS exclusively.
 */
static AtlasSharedToken *
claim_shared_token(AtlasShmemState *state, const AtlasShmemKey *key,
				   TimestampTz now)
{
	AtlasSharedToken *victim = NULL;

	for (int i = 0; i < ATLAS_SHMEM_TOKENS; i++)
	{
		AtlasSharedToken *e = &state->tokens[i];

		if (!e->in_use)
		{
			victim = e;
			break;
		}
		if (!mark_is_live(e, now) && e->fetcher_pid != MyProcPid &&
			(victim == NULL || e->last_used < victim->last_used))
			victim = e;
	}
	if (victim == NULL)
		return NULL;
	zero_shared_token(victim);
	victim->key = *key;
	victim->in_use = true;
	victim->not_shared = false;
	victim->fetcher_pid = 0;
	victim->requests = 0;
	return victim;
}

/*
 * shared_token_exit
 *		before_shmem_exit callback: clear the fetch marks this backend
 *		holds, and wake their waiters, so that an exiting backend (a
 *		pg_terminate_backend, a FATAL) leaves no one waiting for it.
 */
static void
shared_token_exit(int code, Datum arg)
{
	AtlasShmemState *state = atlas_shmem_state();

	if (state == NULL)
		return;
	LWLockAcquire(atlas_shmem_lock(ATLAS_LOCK_TOKENS), LW_EXCLUSIVE);
	for (int i = 0; i < ATLAS_SHMEM_TOKENS; i++)
	{
		AtlasSharedToken *e = &state->tokens[i];

		if (e->in_use && e->fetcher_pid == MyProcPid)
		{
			e->fetcher_pid = 0;
			ConditionVariableBroadcast(&e->cv);
		}
	}
	LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_TOKENS));
}

/*
 * shared_token_get
 *		Look at the shared token of the entry's account (see the header
 *		comment): copy it if it is valid, or wait for the backend that
 *		fetches it, or take the fetch mark.
 *
 * SHARED_COPIED: entry->token (malloc'd) and its refresh time are set.
 * SHARED_WAIT: *wake_at is lowered to when to look again, and this
 * backend is on the entry's condition variable (its latch is set when
 * the mark is cleared).  SHARED_FETCH: entry->token_mark is set.
 * SHARED_NONE: no segment, a token too long to share, or no room.
 * Throws only before it takes the lock (the key's digest, attaching the
 * segment) or after releasing it (out of memory for the copy).
 */
static SharedTokenAction
shared_token_get(AtlasConnEntry *entry, const AtlasFdwOptions *opts,
				 TimestampTz *wake_at)
{
	AtlasShmemState *state = atlas_shmem_state();
	AtlasSharedToken *e;
	TimestampTz now;
	SharedTokenAction action;
	char	   *copy = NULL;
	bool		copy_failed = false;
	int			taken_from = 0;

	if (state == NULL)
		return SHARED_NONE;
	atlas_shmem_make_key(&entry->token_key, entry->serverid, opts->base_url,
						 opts->client_id, opts->client_secret);
	if (!mark_exit_registered)
	{
		before_shmem_exit(shared_token_exit, (Datum) 0);
		mark_exit_registered = true;
	}

	now = GetCurrentTimestamp();
	LWLockAcquire(atlas_shmem_lock(ATLAS_LOCK_TOKENS), LW_EXCLUSIVE);
	e = find_shared_token(state, &entry->token_key);
	if (e == NULL)
		e = claim_shared_token(state, &entry->token_key, now);
	if (e == NULL || e->not_shared)
		action = SHARED_NONE;
	else if (e->token[0] != '\0' && now < e->refresh_at)
	{
		/* malloc never throws: the lock is released before any ERROR */
		copy = strdup(e->token);
		copy_failed = copy == NULL;
		entry->token_refresh_at = e->refresh_at;
		entry->shared_gen = e->generation;
		action = SHARED_COPIED;
	}
	else if (mark_is_live(e, now))
	{
		ConditionVariablePrepareToSleep(&e->cv);
		*wake_at = Min(TimestampTzPlusMilliseconds(now, TOKEN_POLL_MS),
					   e->fetch_deadline);
		action = SHARED_WAIT;
	}
	else
	{
		int64		bound_ms;

		/* the request's own bounds: every attempt and every retry wait */
		bound_ms = ((int64) opts->max_retries + 1) * opts->timeout_ms +
			(int64) opts->max_retries * opts->max_retry_wait_ms +
			TOKEN_MARK_SLACK_MS;
		if (e->fetcher_pid != 0 && e->fetcher_pid != MyProcPid)
			taken_from = e->fetcher_pid;
		e->fetcher_pid = MyProcPid;
		e->fetch_started = now;
		e->fetch_deadline = TimestampTzPlusMilliseconds(now, bound_ms);
		e->requests++;
		entry->token_mark = true;
		action = SHARED_FETCH;
	}
	if (e != NULL)
		e->last_used = now;
	LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_TOKENS));

	entry->token_waiting = action == SHARED_WAIT;
	if (action != SHARED_WAIT)
		(void) ConditionVariableCancelSleep();
	if (taken_from != 0)
		elog(DEBUG1, "atlas_snapshot_fdw: taking over the token request of process %d",
			 taken_from);
	if (copy_failed)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (copy != NULL)
	{
		entry->token = copy;
		entry->token_gen++;
	}
	return action;
}

/*
 * shared_token_release
 *		Clear this backend's fetch mark on the entry's shared token, if it
 *		holds one, and publish "token" (the entry's new token, or NULL) in
 *		it if the shared token is not valid already.  Wakes the waiters.
 *		Never throws (the lock is held for loads and stores only).
 */
static void
shared_token_release(AtlasConnEntry *entry, const char *token)
{
	AtlasShmemState *state;
	AtlasSharedToken *e;

	if (!entry->token_mark)
		return;
	entry->token_mark = false;
	state = atlas_shmem_state();
	Assert(state != NULL);
	LWLockAcquire(atlas_shmem_lock(ATLAS_LOCK_TOKENS), LW_EXCLUSIVE);
	e = find_shared_token(state, &entry->token_key);
	if (e != NULL)
	{
		if (token != NULL &&
			(e->token[0] == '\0' || GetCurrentTimestamp() >= e->refresh_at))
		{
			size_t		len = strlen(token);

			zero_shared_token(e);
			if (len < sizeof(e->token))
			{
				memcpy(e->token, token, len + 1);
				e->refresh_at = entry->token_refresh_at;
				entry->shared_gen = e->generation;
			}
			else
				e->not_shared = true;
		}
		if (e->fetcher_pid == MyProcPid)
			e->fetcher_pid = 0;
		ConditionVariableBroadcast(&e->cv);
	}
	LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_TOKENS));
}

/*
 * shared_token_drop
 *		Drop the shared token the entry's token came from, if it is still
 *		that generation (the first backend to drop it does; the others find
 *		a new generation, or none, and do nothing).  Never throws.
 */
static void
shared_token_drop(AtlasConnEntry *entry)
{
	AtlasShmemState *state;
	AtlasSharedToken *e;

	if (entry->shared_gen == 0 || (state = atlas_shmem_state()) == NULL)
		return;
	LWLockAcquire(atlas_shmem_lock(ATLAS_LOCK_TOKENS), LW_EXCLUSIVE);
	e = find_shared_token(state, &entry->token_key);
	if (e != NULL && e->generation == entry->shared_gen)
		zero_shared_token(e);
	LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_TOKENS));
	entry->shared_gen = 0;
}

/*
 * atlas_oauth_drop
 *		The server or user mapping changed: drop the cached token, and the
 *		shared one it came from (once for the instance: shared_token_drop),
 *		so that the change takes effect with a new token.  Never throws.
 */
void
atlas_oauth_drop(AtlasConnEntry *entry)
{
	shared_token_drop(entry);
	atlas_oauth_forget(entry);
}

/*
 * atlas_oauth_waiting
 *		Whether the entry waits for another backend's token request (for
 *		the wait event of the wait).  Never throws.
 */
bool
atlas_oauth_waiting(AtlasConnEntry *entry)
{
	return entry->token_waiting;
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
		shared_token_release(entry, NULL);
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

	entry->token_waiting = false;
	if (tr->state == TOKEN_IDLE || tr->nest_level < nest_level)
		return;
	shared_token_release(entry, NULL);
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
 * A rejected client gives ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION; a
 * service account at Atlas's limit of active tokens (403 access_denied,
 * "Access Token limit reached") ERRCODE_CONFIGURATION_LIMIT_EXCEEDED, with
 * a hint on sharing tokens: the credentials are right, and the same
 * request succeeds once older tokens expire.  A 429 of the token endpoint
 * (about 10 requests a minute per address and client) was retried like
 * any transient answer, after its Retry-After (atlas_retry_decide).
 * Neither the secret nor the token appears in any message.  The response
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
		if (status == 403 && detail != NULL &&
			strstr(detail, TOKEN_LIMIT_TEXT) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("the Atlas service account has reached its limit of active access tokens"),
					 errdetail_internal("HTTP status %ld, error code %s: %s%s",
										status,
										code ? atlas_server_text(code, ATLAS_MAX_SERVER_TEXT) : "",
										atlas_server_text(detail, ATLAS_MAX_SERVER_TEXT),
										atlas_retry_note(retries)),
					 errhint("Tokens stay active for an hour after they are issued. "
							 "With atlas_snapshot_fdw in shared_preload_libraries "
							 "(or on PostgreSQL 17 and later) all backends share one "
							 "token per server and service account; other programs "
							 "using the service account count against the same limit."),
					 errcontext("remote request: POST %s", ATLAS_TOKEN_PATH)));
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
			switch (shared_token_get(entry, opts, wake_at))
			{
				case SHARED_COPIED:
					return true;
				case SHARED_WAIT:
					return false;
				case SHARED_NONE:
				case SHARED_FETCH:
					break;
			}
			tr->retries = 0;
			tr->max_retries = opts->max_retries;
			tr->max_wait_ms = opts->max_retry_wait_ms;
			tr->nest_level = GetCurrentTransactionNestLevel();
			elog(DEBUG2, "atlas_snapshot_fdw: POST %s", ATLAS_TOKEN_PATH);
			PG_TRY();
			{
				start_token_request(entry, opts);
			}
			PG_CATCH();
			{
				shared_token_release(entry, NULL);
				PG_RE_THROW();
			}
			PG_END_TRY();
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
			PG_TRY();
			{
				finish_token_request(entry, opts);
			}
			PG_CATCH();
			{
				/* the waiting backends try for themselves */
				shared_token_release(entry, NULL);
				PG_RE_THROW();
			}
			PG_END_TRY();
			shared_token_release(entry, entry->token);
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
	{
		shared_token_drop(entry);
		atlas_oauth_forget(entry);
	}
}
