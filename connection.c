/*-------------------------------------------------------------------------
 *
 * connection.c
 *		  HTTP connections to the Atlas Administration API
 *
 * One libcurl easy handle is kept per user mapping for the life of the
 * backend, so that keep-alive connections, TLS sessions and the HTTP Digest
 * nonce survive from one request to the next (one round trip per page
 * instead of two).  The handle is never curl_easy_reset: that would throw
 * the Digest state away.  Entries live in a hash table in
 * CacheMemoryContext and are rebuilt when their server or user mapping
 * changes (syscache callbacks), as postgres_fdw's connection cache is.
 *
 * Transfers run through a backend-wide multi handle so that the waiting
 * loop is ours: it checks for query cancel every POLL_INTERVAL_MS and
 * detaches the transfer before the cancel ERROR is raised.  libcurl and its
 * callbacks only ever use malloc; nothing in a callback can ereport.
 *
 * atlas_request() adds what a GET needs around one transfer: the OAuth
 * token (oauth.c), and retries with backoff for rate limits, server errors
 * and dropped connections, honouring Retry-After.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "atlas_snapshot_fdw.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

/* How often the transfer loop wakes up to look for a query cancel */
#define POLL_INTERVAL_MS	50

/* The first allocation of a response buffer */
#define INITIAL_BODY_SIZE	(64 * 1024)

/* First backoff step; doubled on every further retry */
#define RETRY_BASE_MS		500

static HTAB *ConnectionHash = NULL;
static CURLM *atlas_multi = NULL;

static void connect_entry(AtlasConnEntry *entry, UserMapping *user,
						  const AtlasFdwOptions *opts);
static void disconnect_entry(AtlasConnEntry *entry);
static void inval_callback(Datum arg, int cacheid, uint32 hashvalue);
static size_t write_body(char *ptr, size_t size, size_t nmemb, void *userdata);
static size_t read_header(char *buffer, size_t size, size_t nitems,
						  void *userdata);

/*
 * atlas_get_connection
 *		The connection of a user mapping, made or rebuilt as needed.
 *
 * The entry stays owned by the cache; callers never free it.  A handle that
 * an earlier ERROR left attached to the multi handle is detached first.
 */
AtlasConnEntry *
atlas_get_connection(UserMapping *user, const AtlasFdwOptions *opts)
{
	AtlasConnEntry *entry;
	bool		found;

	if (ConnectionHash == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(AtlasConnEntry);
		ConnectionHash = hash_create("atlas_snapshot_fdw connections", 8,
									 &ctl, HASH_ELEM | HASH_BLOBS);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, inval_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID, inval_callback, (Datum) 0);
	}

	entry = hash_search(ConnectionHash, &user->umid, HASH_ENTER, &found);
	if (!found)
	{
		/* everything but the key starts zeroed */
		memset((char *) entry + sizeof(Oid), 0, sizeof(*entry) - sizeof(Oid));
		entry->serverid = user->serverid;
	}

	/* An ERROR during a transfer can leave the handle attached. */
	if (entry->busy)
	{
		curl_multi_remove_handle(atlas_multi, entry->curl);
		entry->busy = false;
	}

	if (entry->curl != NULL && entry->invalidated)
	{
		elog(DEBUG3, "atlas_snapshot_fdw: dropping connection for user mapping %u",
			 user->umid);
		disconnect_entry(entry);
	}

	if (entry->curl == NULL)
		connect_entry(entry, user, opts);

	return entry;
}

/*
 * connect_entry
 *		Make the easy handle and set the options that hold for its lifetime.
 *
 * On ERROR the entry is left disconnected (curl == NULL), nothing leaks.
 */
static void
connect_entry(AtlasConnEntry *entry, UserMapping *user,
			  const AtlasFdwOptions *opts)
{
	CURL	   *curl;
	bool		ok = true;
	bool		http = strncmp(opts->base_url, "http://", 7) == 0;

	if (opts->client_id != NULL && opts->client_secret != NULL)
		entry->auth = ATLAS_AUTH_OAUTH;
	else if (opts->public_key != NULL && opts->private_key != NULL)
		entry->auth = ATLAS_AUTH_DIGEST;
	else
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("user mapping for server \"%s\" has no Atlas credentials",
						GetForeignServer(user->serverid)->servername),
				 errhint("Set the user mapping options %s and %s (service account) or %s and %s (API key).",
						 OPTION_CLIENT_ID, OPTION_CLIENT_SECRET,
						 OPTION_PUBLIC_KEY, OPTION_PRIVATE_KEY)));

	if (atlas_multi == NULL)
	{
		atlas_multi = curl_multi_init();
		if (atlas_multi == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a libcurl multi handle.")));
	}

	curl = curl_easy_init();
	if (curl == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a libcurl handle.")));

	entry->base_url = strdup(opts->base_url);
	if (entry->base_url == NULL)
	{
		curl_easy_cleanup(curl);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	}

	/* The backend owns the signals; libcurl must not touch SIGALRM. */
	ok &= curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	/* Plain http only reaches here for loopback hosts (see option.c). */
	ok &= curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
						   http ? "http,https" : "https") == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https") == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
	if (opts->ca_file)
		ok &= curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_USERAGENT, ATLAS_USER_AGENT) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, entry->errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_WRITEDATA, entry) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_HEADERDATA, entry) == CURLE_OK;
	if (entry->auth == ATLAS_AUTH_DIGEST)
	{
		/* libcurl copies both strings */
		ok &= curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_DIGEST) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_USERNAME, opts->public_key) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_PASSWORD, opts->private_key) == CURLE_OK;
	}

	if (!ok)
	{
		curl_easy_cleanup(curl);
		free(entry->base_url);
		entry->base_url = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not configure libcurl handle"),
				 errdetail("libcurl %s lacks a required feature.",
						   curl_version_info(CURLVERSION_NOW)->version)));
	}

	entry->curl = curl;
	entry->invalidated = false;
	entry->server_hashvalue = GetSysCacheHashValue1(FOREIGNSERVEROID,
													ObjectIdGetDatum(user->serverid));
	entry->mapping_hashvalue = GetSysCacheHashValue1(USERMAPPINGOID,
													 ObjectIdGetDatum(user->umid));
	elog(DEBUG3, "atlas_snapshot_fdw: new connection for user mapping %u",
		 user->umid);
}

/*
 * disconnect_entry
 *		Release the malloc'd resources of an entry; it stays in the hash
 *		(with its statistics).
 */
static void
disconnect_entry(AtlasConnEntry *entry)
{
	if (entry->busy)
	{
		curl_multi_remove_handle(atlas_multi, entry->curl);
		entry->busy = false;
	}
	if (entry->curl)
		curl_easy_cleanup(entry->curl);
	entry->curl = NULL;
	atlas_oauth_forget(entry);
	free(entry->base_url);
	entry->base_url = NULL;
	free(entry->body);
	entry->body = NULL;
	entry->body_len = entry->body_cap = 0;
}

/*
 * inval_callback
 *		Syscache callback: mark entries whose server or user mapping changed.
 *
 * The handle is closed at its next use, never here: a callback may run in
 * the middle of a scan that still holds the entry.
 */
static void
inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	AtlasConnEntry *entry;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = (AtlasConnEntry *) hash_seq_search(&scan)))
	{
		if (entry->curl == NULL)
			continue;
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && entry->server_hashvalue == hashvalue) ||
			(cacheid == USERMAPPINGOID && entry->mapping_hashvalue == hashvalue))
			entry->invalidated = true;
	}
}

/*
 * write_body
 *		libcurl write callback: append to the entry's malloc'd buffer.
 *
 * Never throws: it reports failure as a short write and records the reason
 * (over max_page_bytes, or out of memory) in the entry.
 */
static size_t
write_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	AtlasConnEntry *entry = (AtlasConnEntry *) userdata;
	size_t		n = size * nmemb;
	size_t		need = entry->body_len + n + 1;

	if (entry->body_len + n > entry->max_body)
	{
		entry->body_too_large = true;
		return 0;
	}
	if (need > entry->body_cap)
	{
		size_t		cap = Max(entry->body_cap, INITIAL_BODY_SIZE);
		char	   *grown;

		while (cap < need)
			cap *= 2;
		grown = realloc(entry->body, cap);
		if (grown == NULL)
		{
			entry->body_oom = true;
			return 0;
		}
		entry->body = grown;
		entry->body_cap = cap;
	}
	memcpy(entry->body + entry->body_len, ptr, n);
	entry->body_len += n;
	entry->body[entry->body_len] = '\0';
	return n;
}

/*
 * read_header
 *		libcurl header callback: remember Retry-After (delay in seconds).
 *
 * Never throws.  The HTTP-date form of Retry-After is ignored (backoff
 * applies instead).
 */
static size_t
read_header(char *buffer, size_t size, size_t nitems, void *userdata)
{
	AtlasConnEntry *entry = (AtlasConnEntry *) userdata;
	size_t		n = size * nitems;
	static const char name[] = "retry-after:";

	if (n > sizeof(name) - 1 &&
		pg_strncasecmp(buffer, name, sizeof(name) - 1) == 0)
	{
		long		secs = 0;
		size_t		i = sizeof(name) - 1;
		bool		digits = false;

		while (i < n && (buffer[i] == ' ' || buffer[i] == '\t'))
			i++;
		while (i < n && buffer[i] >= '0' && buffer[i] <= '9' && secs < 86400)
		{
			secs = secs * 10 + (buffer[i++] - '0');
			digits = true;
		}
		if (digits)
			entry->retry_after_ms = secs * 1000;
	}
	return n;
}

/*
 * atlas_transfer
 *		Drive the entry's prepared transfer on the multi handle until it
 *		ends.
 *
 * Returns false if a query cancel or backend termination is pending: the
 * transfer has then been detached and the caller must release what it
 * allocated for the transfer and call CHECK_FOR_INTERRUPTS().  Otherwise
 * *result is the transfer's outcome.  Nothing here raises an ERROR while
 * the handle is attached.
 */
bool
atlas_transfer(AtlasConnEntry *entry, CURLcode *result)
{
	CURLMcode	mc;
	int			running = 1;
	bool		completed = true;

	*result = CURLE_OK;
	entry->body_len = 0;
	entry->body_too_large = false;
	entry->body_oom = false;
	entry->retry_after_ms = -1;
	entry->errbuf[0] = '\0';

	mc = curl_multi_add_handle(atlas_multi, entry->curl);
	if (mc != CURLM_OK)
	{
		*result = CURLE_FAILED_INIT;
		return true;
	}
	entry->busy = true;

	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	for (;;)
	{
		mc = curl_multi_perform(atlas_multi, &running);
		if (mc != CURLM_OK || running == 0)
			break;
		if (QueryCancelPending || ProcDiePending)
		{
			completed = false;
			break;
		}
		mc = curl_multi_poll(atlas_multi, NULL, 0, POLL_INTERVAL_MS, NULL);
		if (mc != CURLM_OK)
			break;
	}
	pgstat_report_wait_end();

	if (completed)
	{
		CURLMsg    *msg;
		int			queued;

		if (mc != CURLM_OK)
			*result = CURLE_RECV_ERROR;
		while ((msg = curl_multi_info_read(atlas_multi, &queued)) != NULL)
		{
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == entry->curl)
				*result = msg->data.result;
		}
	}

	curl_multi_remove_handle(atlas_multi, entry->curl);
	entry->busy = false;
	entry->stats.requests++;
	entry->stats.bytes += entry->body_len;
	return completed;
}

/*
 * get_once
 *		One GET of base_url || path; returns libcurl's result and fills
 *		*resp on success.
 *
 * The header list is malloc'd and freed before any ERROR can be raised
 * (the cancel ERROR included).
 */
static CURLcode
get_once(AtlasConnEntry *entry, const AtlasFdwOptions *opts,
		 const char *path, const char *api_version, AtlasResponse *resp)
{
	char		accept[128];
	char	   *url;
	struct curl_slist *headers;
	CURLcode	rc = CURLE_OK;
	bool		ok = true;
	bool		completed;

	snprintf(accept, sizeof(accept),
			 "Accept: application/vnd.atlas.%s+json", api_version);
	url = psprintf("%s%s", entry->base_url, path);
	elog(DEBUG2, "atlas_snapshot_fdw: GET %s", path);

	headers = curl_slist_append(NULL, accept);
	if (headers == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));

	/* from here to curl_slist_free_all nothing may raise an ERROR */
	entry->max_body = opts->max_page_bytes;
	ok &= curl_easy_setopt(entry->curl, CURLOPT_HTTPGET, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(entry->curl, CURLOPT_URL, url) == CURLE_OK;
	ok &= curl_easy_setopt(entry->curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK;
	ok &= curl_easy_setopt(entry->curl, CURLOPT_CONNECTTIMEOUT_MS,
						   (long) opts->connect_timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(entry->curl, CURLOPT_TIMEOUT_MS,
						   (long) opts->timeout_ms) == CURLE_OK;
	completed = ok ? atlas_transfer(entry, &rc) : true;
	curl_easy_setopt(entry->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	pfree(url);

	if (!completed)
	{
		CHECK_FOR_INTERRUPTS();
		/* ProcessInterrupts chose not to act: cancel all the same */
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling statement due to user request")));
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not set up Atlas request")));

	resp->status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(entry->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = entry->body ? entry->body : "";
	resp->body_len = entry->body_len;
	return rc;
}

/*
 * atlas_is_transient
 *		Whether a failed exchange is worth repeating: rate limits, server
 *		errors and connections that broke before an answer came through.
 *		Timeouts are not repeated: the user already waited timeout_ms.
 */
bool
atlas_is_transient(CURLcode rc, long status, const AtlasConnEntry *entry)
{
	if (rc != CURLE_OK)
		return !entry->body_too_large && !entry->body_oom &&
			(rc == CURLE_COULDNT_CONNECT || rc == CURLE_GOT_NOTHING ||
			 rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
			 rc == CURLE_PARTIAL_FILE);
	return status == 429 || status == 500 || status == 502 ||
		status == 503 || status == 504;
}

/*
 * atlas_wait_before_retry
 *		Sleep before retry number "attempt" (1-based), interruptibly.
 *
 * Retry-After wins when the server sent it; otherwise exponential backoff
 * with jitter (half to all of RETRY_BASE_MS * 2^(attempt-1)).  Either is
 * capped by max_retry_wait_ms.
 */
void
atlas_wait_before_retry(int attempt, long retry_after_ms, int max_wait_ms)
{
	long		delay;
	TimestampTz deadline;

	if (retry_after_ms >= 0)
		delay = retry_after_ms;
	else
	{
		long		step = (long) RETRY_BASE_MS << Min(attempt - 1, 16);

		delay = step / 2 + (long) (pg_prng_double(&pg_global_prng_state) * (step / 2));
	}
	delay = Min(delay, (long) max_wait_ms);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), delay);

	for (;;)
	{
		long		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
																deadline);

		CHECK_FOR_INTERRUPTS();
		if (remaining <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 remaining, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * atlas_request
 *		GET base_url || path with the given API version; fill *resp.
 *
 * Authenticates (Digest, or a cached OAuth token fetched and refreshed as
 * needed, once more after a 401), and repeats transient failures up to
 * max_retries times.  Returns for every final HTTP status: the caller
 * decides what it means.  A transfer that never completes raises an
 * ERROR; the caller provides the error context that names the request.
 * The body in *resp belongs to the connection and is overwritten by the
 * next request.
 */
void
atlas_request(AtlasConnEntry *entry, const AtlasFdwOptions *opts,
			  const char *path, const char *api_version, AtlasResponse *resp)
{
	bool		refreshed = false;
	CURLcode	rc;

	resp->retries = 0;
	for (;;)
	{
		if (entry->auth == ATLAS_AUTH_OAUTH)
			atlas_oauth_token(entry, opts, false);

		rc = get_once(entry, opts, path, api_version, resp);

		/* an expired or revoked token: fetch a new one, once */
		if (rc == CURLE_OK && resp->status == 401 &&
			entry->auth == ATLAS_AUTH_OAUTH && !refreshed)
		{
			atlas_oauth_token(entry, opts, true);
			refreshed = true;
			continue;
		}

		if (!atlas_is_transient(rc, resp->status, entry) ||
			resp->retries >= opts->max_retries)
			break;

		resp->retries++;
		entry->stats.retries++;
		elog(DEBUG1, "atlas_snapshot_fdw: retrying GET %s (%d of %d) after %s",
			 path, resp->retries, opts->max_retries,
			 rc != CURLE_OK ? curl_easy_strerror(rc) : "a transient HTTP status");
		atlas_wait_before_retry(resp->retries, entry->retry_after_ms,
						  opts->max_retry_wait_ms);
	}

	if (rc != CURLE_OK)
		atlas_report_curl_error(entry, rc, opts, resp->retries);
}

/*
 * atlas_note_error
 *		Record the message of an ERROR about to be raised for this entry.
 */
void
atlas_note_error(AtlasConnEntry *entry, const char *message)
{
	entry->stats.errors++;
	strlcpy(entry->stats.last_error, message, sizeof(entry->stats.last_error));
	entry->stats.last_error_at = GetCurrentTimestamp();
}

/*
 * atlas_connection_stats
 *		A palloc'd list of copies of every entry's statistics, for
 *		atlas_snapshot_fdw_stats().
 */
List *
atlas_connection_stats(void)
{
	HASH_SEQ_STATUS scan;
	AtlasConnEntry *entry;
	List	   *result = NIL;

	if (ConnectionHash == NULL)
		return NIL;
	hash_seq_init(&scan, ConnectionHash);
	while ((entry = (AtlasConnEntry *) hash_seq_search(&scan)))
	{
		AtlasConnEntry *copy = palloc(sizeof(AtlasConnEntry));

		memcpy(copy, entry, sizeof(AtlasConnEntry));
		/* nothing behind a pointer leaves the cache */
		copy->curl = NULL;
		copy->token = NULL;
		copy->body = NULL;
		copy->base_url = NULL;
		result = lappend(result, copy);
	}
	return result;
}
