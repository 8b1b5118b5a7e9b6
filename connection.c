/*-------------------------------------------------------------------------
 *
 * connection.c
 *		  HTTP connections to the Atlas Administration API
 *
 * The libcurl easy handles of a user mapping (an entry: a main handle and
 * a pool, below) are kept for the life of the backend, so that keep-alive
 * connections, TLS sessions and each handle's HTTP Digest nonce survive
 * from one request to the next (one round trip per page instead of two).
 * A handle is never curl_easy_reset: that would throw the Digest state
 * away.  Entries live in a hash table in
 * CacheMemoryContext and are rebuilt when their server or user mapping
 * changes (syscache callbacks), as postgres_fdw's connection cache is:
 * at the end of the transaction in which the change is seen (the cached
 * OAuth token zeroed and freed with them), or at the next use if that
 * comes first.
 *
 * Each entry has a main handle (configured once from the options; used for
 * OAuth token requests, oauth.c) and a pool of handles duplicated from it
 * for the concurrent requests of the scans (fetch.c), each keeping its own
 * Digest state.  The entry and its handles ("slots") are private to this
 * file, loop.c and oauth.c (connection_int.h); others acquire a slot
 * (atlas_acquire_slot), start a transfer on it with a completion function
 * (atlas_start_get), and release it.  Every transfer runs on the one event
 * loop (loop.c); when it ends, atlas_slot_finished counts it and tells its
 * owner, who records the outcome and acts on it later, in its own scan.
 *
 * Transaction and subtransaction abort callbacks detach every transfer
 * started in what is aborted (as postgres_fdw's pgfdw_xact_callback and
 * pgfdw_subxact_callback repair their connections), telling its owner, so
 * nothing is left running for a scan that is going away.  libcurl and its
 * callbacks only ever use malloc; nothing in a callback can ereport.
 *
 * The retry policy (which failures are transient, how long to wait, how
 * often) lives here too, for every transfer: pages and token requests.
 *
 * timeout_ms and connect_timeout_ms bound the time the backend waits for a
 * transfer, not the wall time since it began: a transfer's answer may sit
 * unread while the executor is elsewhere (an idle cursor, a slow consumer),
 * and that is no reason to fail it.  So libcurl gets no CURLOPT_TIMEOUT_MS
 * (0: none); the event loop keeps each transfer's waiting time against the
 * bounds atlas_slot_prepare records, and times it out itself
 * (atlas_slot_time_out; loop.c says why and how).  CURLOPT_CONNECTTIMEOUT_MS
 * stays, for libcurl's pacing of connect attempts.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/pg_prng.h"
#include "connection_int.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

/* The first allocation of a response buffer */
#define INITIAL_BODY_SIZE	(64 * 1024)
#define MAX_BODY_HINT		(4 * 1024 * 1024)	/* most a new buffer starts with */

/* First backoff step; doubled on every further retry */
#define RETRY_BASE_MS		500
/* Least jitter added to a Retry-After wait */
#define RETRY_JITTER_MS		100
/* Doublings of RETRY_BASE_MS at most (max_retry_wait_ms caps it anyway) */
#define RETRY_MAX_DOUBLINGS	16
/* Jitter of a wait cut to max_retry_wait_ms: this fraction of it */
#define RETRY_CUT_JITTER_DIVISOR	10
/* Jitter added to a Retry-After wait: up to this fraction of it */
#define RETRY_AFTER_JITTER_DIVISOR	5
/* Milliseconds in a second */
#define MS_PER_SEC			1000
/* Header values are capped at this (a day in seconds is far less) */
#define MAX_HEADER_NUMBER	1000000000L

/* The connection entries, keyed by user mapping OID (CacheMemoryContext) */
static HTAB *ConnectionHash = NULL;

static void connect_entry(AtlasConnEntry *entry, UserMapping *user,
						  const AtlasFdwOptions *opts);
static void disconnect_entry(AtlasConnEntry *entry);
static bool entry_in_use(AtlasConnEntry *entry);
static void inval_callback(Datum arg, int cacheid, uint32 hashvalue);
static void xact_callback(XactEvent event, void *arg);
static void subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							 SubTransactionId parentSubid, void *arg);
static void detach_slot(AtlasSlot *slot, bool tell_owner);
static size_t write_body(char *ptr, size_t size, size_t nmemb, void *userdata);
static size_t read_header(char *buffer, size_t size, size_t nitems,
						  void *userdata);
static int	note_connected(void *clientp, char *conn_primary_ip,
						   char *conn_local_ip, int conn_primary_port,
						   int conn_local_port);

/*
 * atlas_get_connection
 *		The connection of a user mapping, made or rebuilt as needed.
 *
 * The entry stays owned by the cache; callers never free it.
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
		ctl.hcxt = CacheMemoryContext;
		ConnectionHash = hash_create("atlas_snapshot_fdw connections", 8,
									 &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, inval_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID, inval_callback, (Datum) 0);
		RegisterXactCallback(xact_callback, NULL);
		RegisterSubXactCallback(subxact_callback, NULL);
	}
	/* whether the counters join the instance's (may throw: attaching) */
	atlas_stats_attach();

	entry = hash_search(ConnectionHash, &user->umid, HASH_ENTER, &found);
	if (!found)
	{
		/* everything but the key starts zeroed */
		memset((char *) entry + sizeof(Oid), 0, sizeof(*entry) - sizeof(Oid));
		entry->serverid = user->serverid;
		entry->main.entry = entry;
		for (int i = 0; i < ATLAS_MAX_CONCURRENCY; i++)
			entry->pool[i].entry = entry;
	}

	/*
	 * Rebuild a changed connection, unless another scan of this query is
	 * still using its handles (a scan inside a function called by a scan):
	 * then the change takes effect with the next query.
	 */
	if (entry->connected && entry->invalidated && !entry_in_use(entry))
	{
		elog(DEBUG3, "atlas_snapshot_fdw: dropping connection for user mapping %u",
			 user->umid);
		disconnect_entry(entry);
	}

	if (!entry->connected)
		connect_entry(entry, user, opts);

	return entry;
}

/*
 * entry_in_use
 *		Whether a scan has a transfer on one of the entry's handles.
 *
 * Scans release their slots when their memory goes away (at the end of
 * the scan and on ERROR, see fetch.c), and an abort detaches what it
 * aborts, so this is true only while another scan is running or a token
 * request is underway.
 */
static bool
entry_in_use(AtlasConnEntry *entry)
{
	if (entry->main.attached)
		return true;
	for (int i = 0; i < ATLAS_MAX_CONCURRENCY; i++)
	{
		if (entry->pool[i].in_use)
			return true;
	}
	return false;
}

/*
 * connect_entry
 *		Make the main handle and set the options that hold for its lifetime;
 *		pool handles are duplicated from it.
 *
 * On ERROR the entry is left disconnected, nothing leaks.
 */
static void
connect_entry(AtlasConnEntry *entry, UserMapping *user,
			  const AtlasFdwOptions *opts)
{
	CURL	   *curl;
	bool		ok = true;
	bool		http;

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

	/* the URL rules again: the catalog may hold an older value (url.c) */
	http = atlas_check_base_url(opts->base_url);
	if (opts->proxy)
		atlas_check_proxy_url(opts->proxy);

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

	/*
	 * A proxy only if the server says so: "" keeps libcurl from reading the
	 * postmaster's http_proxy, https_proxy and ALL_PROXY, and an empty
	 * no-proxy list keeps it from reading no_proxy.
	 */
	ok &= curl_easy_setopt(curl, CURLOPT_PROXY,
						   opts->proxy ? opts->proxy : "") == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_NOPROXY, "") == CURLE_OK;
	if (opts->proxy && opts->ca_file)
		ok &= curl_easy_setopt(curl, CURLOPT_PROXY_CAINFO, opts->ca_file) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_USERAGENT, ATLAS_USER_AGENT) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, note_connected) == CURLE_OK;
	if (entry->auth == ATLAS_AUTH_DIGEST)
	{
		/*
		 * libcurl copies both strings, and keeps them for the handle's life
		 * (every new nonce needs the key again): see README, Security
		 */
		ok &= curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_DIGEST) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_USERNAME, opts->public_key) == CURLE_OK;
		ok &= curl_easy_setopt(curl, CURLOPT_PASSWORD, opts->private_key) == CURLE_OK;
	}
	ok &= curl_easy_setopt(curl, CURLOPT_WRITEDATA, &entry->main) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_HEADERDATA, &entry->main) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, entry->main.errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_PRIVATE, &entry->main) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_PREREQDATA, &entry->main) == CURLE_OK;

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

	entry->main.curl = curl;
	entry->connected = true;
	entry->invalidated = false;
	entry->server_hashvalue = GetSysCacheHashValue1(FOREIGNSERVEROID,
													ObjectIdGetDatum(user->serverid));
	entry->mapping_hashvalue = GetSysCacheHashValue1(USERMAPPINGOID,
													 ObjectIdGetDatum(user->umid));
	elog(DEBUG3, "atlas_snapshot_fdw: new connection for user mapping %u",
		 user->umid);
}

/*
 * pool_slot
 *		Pool slot i of the entry, its handle duplicated from the main one on
 *		first use (options and credentials, not connections or Digest state).
 *
 * Never while a token request runs on the main handle (it then holds the
 * client credentials, and a POST).
 */
static AtlasSlot *
pool_slot(AtlasConnEntry *entry, int i)
{
	AtlasSlot  *slot = &entry->pool[i];
	bool		ok = true;

	Assert(i >= 0 && i < ATLAS_MAX_CONCURRENCY);
	Assert(!entry->main.attached);
	if (slot->curl)
		return slot;

	slot->curl = curl_easy_duphandle(entry->main.curl);
	if (slot->curl == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a libcurl handle.")));
	ok &= curl_easy_setopt(slot->curl, CURLOPT_WRITEDATA, slot) == CURLE_OK;
	ok &= curl_easy_setopt(slot->curl, CURLOPT_HEADERDATA, slot) == CURLE_OK;
	ok &= curl_easy_setopt(slot->curl, CURLOPT_ERRORBUFFER, slot->errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(slot->curl, CURLOPT_PRIVATE, slot) == CURLE_OK;
	ok &= curl_easy_setopt(slot->curl, CURLOPT_PREREQDATA, slot) == CURLE_OK;
	if (!ok)
	{
		curl_easy_cleanup(slot->curl);
		slot->curl = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not configure libcurl handle")));
	}
	return slot;
}

/*
 * atlas_acquire_slot
 *		A free handle among the first "limit" of the entry's pool, now the
 *		caller's until atlas_release_slot; NULL if none is free (or a token
 *		request holds the main handle they are duplicated from).
 *
 * ERROR only if a new handle cannot be made; nothing is acquired then.
 */
AtlasSlot *
atlas_acquire_slot(AtlasConnEntry *entry, int limit)
{
	if (entry->main.attached)
		return NULL;
	for (int i = 0; i < Min(limit, ATLAS_MAX_CONCURRENCY); i++)
	{
		if (!entry->pool[i].in_use)
		{
			AtlasSlot  *slot = pool_slot(entry, i);

			slot->in_use = true;
			return slot;
		}
	}
	return NULL;
}

/*
 * atlas_release_slot
 *		The caller is done with a slot: its transfer, if still running, is
 *		aborted (its owner not told), and the slot is free again.  Never
 *		throws.
 *
 * A free slot holds no response buffer: what its last transfer left and
 * nobody took (the body of an answer to be retried, a 401, a transfer
 * detached half way) is freed here.  Scans count the bodies they hold
 * against max_scan_memory (fetch.c), and a body left in a free slot would
 * be held by nobody's count, for as long as the backend lives.
 */
void
atlas_release_slot(AtlasSlot *slot)
{
	detach_slot(slot, false);
	slot->in_use = false;
	free(slot->body);
	slot->body = NULL;
	slot->body_len = slot->body_cap = 0;
}

/*
 * free_slot
 *		Free a slot's malloc'd resources.  Never throws.
 */
static void
free_slot(AtlasSlot *slot)
{
	atlas_release_slot(slot);
	if (slot->curl)
		curl_easy_cleanup(slot->curl);
	slot->curl = NULL;
}

/*
 * disconnect_entry
 *		Release the malloc'd resources of an entry; it stays in the hash
 *		(with its statistics).
 */
static void
disconnect_entry(AtlasConnEntry *entry)
{
	for (int i = 0; i < ATLAS_MAX_CONCURRENCY; i++)
		free_slot(&entry->pool[i]);
	atlas_oauth_abort(entry, 0);
	atlas_oauth_drop(entry);
	free_slot(&entry->main);
	free(entry->base_url);
	entry->base_url = NULL;
	entry->connected = false;
}

/*
 * inval_callback
 *		Syscache callback: mark entries whose server or user mapping changed.
 *
 * The handles are closed at the end of the transaction (xact_callback) or
 * at the next use, never here: a callback may run in the middle of a scan
 * that still holds the entry.
 */
static void
inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	AtlasConnEntry *entry;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = (AtlasConnEntry *) hash_seq_search(&scan)))
	{
		if (!entry->connected)
			continue;
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && entry->server_hashvalue == hashvalue) ||
			(cacheid == USERMAPPINGOID && entry->mapping_hashvalue == hashvalue))
			entry->invalidated = true;
	}
}

/*
 * detach_all
 *		Detach every transfer started at transaction nesting level
 *		nest_level or deeper (1: all), telling each owner, and forget a
 *		token request begun there.  Never throws.
 */
static void
detach_all(int nest_level)
{
	HASH_SEQ_STATUS scan;
	AtlasConnEntry *entry;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = (AtlasConnEntry *) hash_seq_search(&scan)))
	{
		for (int i = 0; i < ATLAS_MAX_CONCURRENCY; i++)
		{
			AtlasSlot  *slot = &entry->pool[i];

			if (slot->attached && slot->nest_level >= nest_level)
				detach_slot(slot, true);
		}
		atlas_oauth_abort(entry, nest_level);
	}
}

/*
 * adopt_all
 *		A subtransaction at nesting level nest_level commits: what was
 *		started in it or deeper now belongs to its parent, so that only an
 *		abort of the parent (or of a transaction above) detaches it, not
 *		the abort of a later sibling at the same level.  Never throws.
 */
static void
adopt_all(int nest_level)
{
	HASH_SEQ_STATUS scan;
	AtlasConnEntry *entry;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = (AtlasConnEntry *) hash_seq_search(&scan)))
	{
		for (int i = 0; i < ATLAS_MAX_CONCURRENCY; i++)
		{
			AtlasSlot  *slot = &entry->pool[i];

			if (slot->attached && slot->nest_level >= nest_level)
				slot->nest_level = nest_level - 1;
		}
		if (entry->token_req.state != TOKEN_IDLE &&
			entry->token_req.nest_level >= nest_level)
			entry->token_req.nest_level = nest_level - 1;
	}
}

/*
 * subxact_callback
 *		When a subtransaction aborts, detach the transfers started in it
 *		(their owners start them again if they live on, as a cursor of the
 *		outer transaction does); when it commits, its parent adopts them.
 *		Never throws.
 */
static void
subxact_callback(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		detach_all(GetCurrentTransactionNestLevel());
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		adopt_all(GetCurrentTransactionNestLevel());
}

/*
 * xact_callback
 *		When a transaction aborts, detach every transfer; at its end, add
 *		the connections' new counters to the instance's statistics (with
 *		shared memory, stats.c), and close the connections whose server or
 *		user mapping changed (or was dropped), and with them the handles
 *		holding its credentials and its cached token.
 *
 * No scan runs past the end of its transaction (a WITH HOLD cursor is
 * materialized at commit), so even a connection that an aborted scan still
 * holds can go: when that scan's memory goes away later, releasing its
 * already released handles does nothing.  Never throws.
 */
static void
xact_callback(XactEvent event, void *arg)
{
	HASH_SEQ_STATUS scan;
	AtlasConnEntry *entry;

	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		detach_all(1);
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
		return;
	hash_seq_init(&scan, ConnectionHash);
	while ((entry = (AtlasConnEntry *) hash_seq_search(&scan)))
	{
		/* what the transaction did joins the instance's statistics */
		atlas_stats_flush(entry->key, entry->serverid, entry->auth,
						  &entry->stats, &entry->flushed);
		if (entry->connected && entry->invalidated)
		{
			elog(DEBUG3, "atlas_snapshot_fdw: closing the connection of a changed user mapping at transaction end");
			disconnect_entry(entry);
		}
	}
}

/*
 * write_body
 *		libcurl write callback: append to the slot's malloc'd buffer.
 *
 * Never throws: it reports failure as a short write and records the reason
 * (over max_page_bytes, or out of memory) in the slot.
 */
static size_t
write_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	AtlasSlot  *slot = (AtlasSlot *) userdata;
	size_t		n = size * nmemb;
	size_t		need = slot->body_len + n + 1;

	if (slot->body_len + n > slot->max_body)
	{
		slot->body_too_large = true;
		return 0;
	}
	if (need > slot->body_cap)
	{
		size_t		cap = Max(Max(slot->body_cap, slot->body_hint), INITIAL_BODY_SIZE);
		char	   *grown;

		while (cap < need)
			cap *= 2;
		/* never more than a body may take (scans count what they hold) */
		cap = Min(cap, slot->max_body + 1);
		grown = realloc(slot->body, cap);
		if (grown == NULL)
		{
			slot->body_oom = true;
			return 0;
		}
		slot->body = grown;
		slot->body_cap = cap;
	}
	memcpy(slot->body + slot->body_len, ptr, n);
	slot->body_len += n;
	slot->body[slot->body_len] = '\0';
	return n;
}

/*
 * header_number
 *		The non-negative integer value of header line "buffer" (n bytes) if
 *		it is header "name" (lower case, with its colon), else -1.  Values
 *		are capped at MAX_HEADER_NUMBER.  Never throws, never allocates: it runs in the
 *		header callback.
 */
static long
header_number(const char *buffer, size_t n, const char *name)
{
	size_t		len = strlen(name);
	size_t		i = len;
	long		v = 0;
	bool		digits = false;

	if (n <= len || pg_strncasecmp(buffer, name, len) != 0)
		return -1;
	while (i < n && (buffer[i] == ' ' || buffer[i] == '\t'))
		i++;
	while (i < n && buffer[i] >= '0' && buffer[i] <= '9')
	{
		if (v < MAX_HEADER_NUMBER)
			v = v * 10 + (buffer[i] - '0');
		i++;
		digits = true;
	}
	return digits ? Min(v, MAX_HEADER_NUMBER) : -1;
}

/*
 * read_rate_limit_header
 *		Remember RateLimit-Limit and RateLimit-Remaining (the bucket's size
 *		and the tokens left in it), when Atlas sends them.  For the header
 *		callback: never throws, never allocates.
 */
static void
read_rate_limit_header(AtlasSlot *slot, const char *buffer, size_t n)
{
	long		v;

	if ((v = header_number(buffer, n, "ratelimit-limit:")) >= 0)
		slot->rl_limit = v;
	else if ((v = header_number(buffer, n, "ratelimit-remaining:")) >= 0)
		slot->rl_remaining = v;
}

/*
 * header_text
 *		If header line "buffer" (n bytes) is header "name" (lower case, with
 *		its colon), copy its value, without surrounding blanks and the line
 *		end, into dst (ATLAS_CALENDAR_HEADER_LEN bytes; a longer value is
 *		cut) and return true.  For the header callback: never throws, never
 *		allocates; atlas_calendar_note reads the copies once the transfer
 *		has ended.
 */
static bool
header_text(const char *buffer, size_t n, const char *name, char *dst)
{
	size_t		len = strlen(name);
	size_t		i = len;

	if (n <= len || pg_strncasecmp(buffer, name, len) != 0)
		return false;
	while (i < n && (buffer[i] == ' ' || buffer[i] == '\t'))
		i++;
	while (n > i && (buffer[n - 1] == '\r' || buffer[n - 1] == '\n' ||
					 buffer[n - 1] == ' ' || buffer[n - 1] == '\t'))
		n--;
	len = Min(n - i, (size_t) ATLAS_CALENDAR_HEADER_LEN - 1);
	memcpy(dst, buffer + i, len);
	dst[len] = '\0';
	return true;
}

/*
 * read_header
 *		libcurl header callback: bound the size of a response's headers and
 *		remember its Retry-After (seconds, or an HTTP-date), in ms, its
 *		RateLimit-Limit and RateLimit-Remaining, and its Deprecation and
 *		Sunset headers (copied into the slot's fixed buffers).
 *
 * Never throws, never allocates.  Headers over ATLAS_MAX_HEADER_BYTES for
 * one response (a Digest exchange has two) stop the transfer: the slot
 * records why and explain_stop() says it.  An unreadable
 * Retry-After is ignored (backoff applies instead).
 */
static size_t
read_header(char *buffer, size_t size, size_t nitems, void *userdata)
{
	AtlasSlot  *slot = (AtlasSlot *) userdata;
	size_t		n = size * nitems;
	static const char name[] = "retry-after:";

	/* a status line starts a response (a 401 challenge, then the answer) */
	if (n >= 5 && strncmp(buffer, "HTTP/", 5) == 0)
	{
		slot->header_bytes = 0;
		slot->retry_after_ms = -1;
		slot->rl_limit = -1;
		slot->rl_remaining = -1;
		slot->deprecation[0] = '\0';
		slot->sunset[0] = '\0';
	}
	if (n > ATLAS_MAX_HEADER_BYTES - slot->header_bytes)
	{
		slot->headers_too_large = true;
		return 0;
	}
	slot->header_bytes += n;
	read_rate_limit_header(slot, buffer, n);
	if (!header_text(buffer, n, "deprecation:", slot->deprecation))
		(void) header_text(buffer, n, "sunset:", slot->sunset);

	if (n > sizeof(name) - 1 &&
		pg_strncasecmp(buffer, name, sizeof(name) - 1) == 0)
	{
		long		secs = 0;
		size_t		i = sizeof(name) - 1;
		bool		digits = false;

		while (i < n && (buffer[i] == ' ' || buffer[i] == '\t'))
			i++;
		while (i < n && buffer[i] >= '0' && buffer[i] <= '9' && secs < SECS_PER_DAY)
		{
			secs = secs * 10 + (buffer[i++] - '0');
			digits = true;
		}
		if (!digits && i < n)
		{
			/* RFC 9110 10.2.3: an HTTP-date, read by libcurl's own parser */
			char		date[128];
			size_t		len = Min(n - i, sizeof(date) - 1);
			time_t		when;

			memcpy(date, buffer + i, len);
			date[len] = '\0';
			when = curl_getdate(date, NULL);
			if (when != -1)
			{
				time_t		now = time(NULL);

				secs = when > now ? (long) Min(when - now, (time_t) SECS_PER_DAY) : 0;
				digits = true;
			}
		}
		if (digits)
			slot->retry_after_ms = Min(secs, (long) SECS_PER_DAY) * MS_PER_SEC;
	}
	return n;
}

/*
 * note_connected
 *		libcurl's CURLOPT_PREREQFUNCTION, called once a connection is up
 *		(or reused) and before the request goes out on it: from now on the
 *		transfer's clock is bounded by timeout_ms alone (loop.c).  Never
 *		throws, never allocates.
 */
static int
note_connected(void *clientp, char *conn_primary_ip, char *conn_local_ip,
			   int conn_primary_port, int conn_local_port)
{
	((AtlasSlot *) clientp)->connected = true;
	return CURL_PREREQFUNC_OK;
}

/*
 * atlas_slot_prepare
 *		Reset a slot's response state before a transfer, and record the
 *		bounds on the time the backend may wait for it (the event loop
 *		enforces them, loop.c).
 */
void
atlas_slot_prepare(AtlasSlot *slot, const AtlasFdwOptions *opts)
{
	slot->max_body = opts->max_page_bytes;
	slot->connect_timeout_ms = opts->connect_timeout_ms;
	slot->timeout_ms = opts->timeout_ms;
	atlas_slot_rewind(slot);
}

/*
 * atlas_slot_rewind
 *		Reset a slot's response state: before a transfer, and when the
 *		event loop starts one over (loop.c).  Never throws.
 */
void
atlas_slot_rewind(AtlasSlot *slot)
{
	slot->body_len = 0;
	if (slot->body)
		slot->body[0] = '\0';
	slot->body_too_large = false;
	slot->body_oom = false;
	slot->retry_after_ms = -1;
	slot->rl_limit = -1;
	slot->rl_remaining = -1;
	slot->deprecation[0] = '\0';
	slot->sunset[0] = '\0';
	slot->header_bytes = 0;
	slot->headers_too_large = false;
	slot->errbuf[0] = '\0';
}

/*
 * atlas_slot_attach
 *		Put a prepared slot's transfer on the event loop; "done" is told its
 *		outcome (atlas_slot_finished), or that an abort detached it.
 *
 * On ERROR the slot is not attached; its request headers are freed.
 */
void
atlas_slot_attach(AtlasSlot *slot, AtlasTransferDone done, void *owner)
{
	Assert(!slot->attached);
	slot->done = done;
	slot->owner = owner;
	slot->nest_level = GetCurrentTransactionNestLevel();
	if (!atlas_loop_add(slot))
	{
		detach_slot(slot, false);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not set up Atlas request")));
	}
	slot->attached = true;
}

/*
 * atlas_free_headers
 *		Zero every line of a request header list, then free it.  Never
 *		throws.
 *
 * Header lists carry credentials (a bearer token, a token request's Basic
 * credentials): libcurl keeps only a pointer to the list (CURLOPT_HTTPHEADER),
 * no copy of it, so zeroing the lines here leaves none of them behind in
 * freed memory but for the request text libcurl builds from them while
 * sending (see README, Security).
 */
void
atlas_free_headers(struct curl_slist *list)
{
	for (struct curl_slist *line = list; line; line = line->next)
	{
		if (line->data)
			explicit_bzero(line->data, strlen(line->data));
	}
	curl_slist_free_all(list);
}

/*
 * append_bearer
 *		Append "Authorization: Bearer <token>" to a request header list, or
 *		return NULL (the list unchanged) if out of memory.  Never throws.
 *
 * The header is ours rather than libcurl's (CURLOPT_XOAUTH2_BEARER), so that
 * the token lives only in the list, which atlas_free_headers zeroes: a
 * string option is copied into the handle, and freed without being zeroed
 * when it is replaced.
 */
static struct curl_slist *
append_bearer(struct curl_slist *list, const char *token)
{
	static const char prefix[] = "Authorization: Bearer ";
	size_t		len = sizeof(prefix) - 1 + strlen(token) + 1;
	char	   *line = malloc(len);
	struct curl_slist *result;

	if (line == NULL)
		return NULL;
	snprintf(line, len, "%s%s", prefix, token);
	result = curl_slist_append(list, line);
	explicit_bzero(line, len);
	free(line);
	return result;
}

/*
 * atlas_start_get
 *		Start GET {base_url}{path} (Accept: the API version's media type) on
 *		an acquired slot, with the entry's current OAuth token in its own
 *		Authorization header (append_bearer); done(owner, ...) is told how
 *		it ended.
 *
 * The caller must have a valid token first (atlas_oauth_ready).  On ERROR
 * nothing is attached and the slot is released.
 */
void
atlas_start_get(AtlasSlot *slot, const char *path, const char *api_version,
				const AtlasFdwOptions *opts, AtlasTransferDone done,
				void *owner)
{
	AtlasConnEntry *entry = slot->entry;
	char		accept[128];

	Assert(slot->in_use && !slot->attached);
	PG_TRY();
	{
		/* locals of the block: nothing the longjmp to PG_CATCH could clobber */
		char	   *url = psprintf("%s%s", entry->base_url, path);
		bool		ok = true;

		snprintf(accept, sizeof(accept),
				 "Accept: application/vnd.atlas.%s+json", api_version);
		atlas_slot_prepare(slot, opts);
		slot->headers = curl_slist_append(NULL, accept);
		if (slot->headers && entry->auth == ATLAS_AUTH_OAUTH &&
			append_bearer(slot->headers, entry->token ? entry->token : "") == NULL)
			ok = false;
		if (slot->headers == NULL || !ok)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		ok &= curl_easy_setopt(slot->curl, CURLOPT_HTTPGET, 1L) == CURLE_OK;
		ok &= curl_easy_setopt(slot->curl, CURLOPT_URL, url) == CURLE_OK;
		ok &= curl_easy_setopt(slot->curl, CURLOPT_HTTPHEADER, slot->headers) == CURLE_OK;
		/* timeout_ms is enforced by the event loop, on waiting time */
		ok &= curl_easy_setopt(slot->curl, CURLOPT_CONNECTTIMEOUT_MS,
							   (long) opts->connect_timeout_ms) == CURLE_OK;
		ok &= curl_easy_setopt(slot->curl, CURLOPT_TIMEOUT_MS, 0L) == CURLE_OK;
		pfree(url);
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("could not set up Atlas request")));
		atlas_slot_attach(slot, done, owner);
	}
	PG_CATCH();
	{
		atlas_release_slot(slot);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * explain_stop
 *		After a transfer that our header callback stopped, put the reason in
 *		the slot's error buffer in place of libcurl's generic one.  Never
 *		throws.
 */
static void
explain_stop(AtlasSlot *slot)
{
	if (slot->headers_too_large)
		snprintf(slot->errbuf, sizeof(slot->errbuf),
				 "The response headers exceed %d bytes",
				 ATLAS_MAX_HEADER_BYTES);
}

/*
 * detach_slot
 *		Take a slot's transfer off the event loop (aborting it if it is
 *		still running) and free its request headers; with tell_owner, its
 *		owner learns that it was detached.  Never throws.
 */
static void
detach_slot(AtlasSlot *slot, bool tell_owner)
{
	bool		was_attached = slot->attached;

	if (slot->attached)
	{
		atlas_loop_remove(slot);
		slot->attached = false;
	}
	if (slot->curl)
		curl_easy_setopt(slot->curl, CURLOPT_HTTPHEADER, NULL);
	atlas_free_headers(slot->headers);
	slot->headers = NULL;
	if (was_attached && tell_owner && slot->done)
	{
		AtlasOutcome outcome;

		memset(&outcome, 0, sizeof(outcome));
		outcome.detached = true;
		outcome.errbuf = "";
		slot->done(slot->owner, slot, &outcome);
	}
}

/*
 * atlas_slot_finished
 *		A transfer on the event loop has ended (loop.c): count it, take it
 *		off the loop, and tell its owner how it went.
 *
 * Runs in whichever scan waits; never throws, and neither may the owner.
 */
void
atlas_slot_finished(CURL *curl, CURLcode rc)
{
	AtlasSlot  *slot = NULL;
	AtlasOutcome outcome;

	curl_easy_getinfo(curl, CURLINFO_PRIVATE, (char **) &slot);
	if (slot == NULL || !slot->attached)
		return;
	memset(&outcome, 0, sizeof(outcome));
	outcome.rc = rc;
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &outcome.status);
	explain_stop(slot);
	outcome.body_len = slot->body_len;
	outcome.body_too_large = slot->body_too_large;
	outcome.body_oom = slot->body_oom;
	outcome.retry_after_ms = slot->retry_after_ms;
	outcome.rl_limit = slot->rl_limit;
	outcome.rl_remaining = slot->rl_remaining;
	outcome.errbuf = slot->errbuf;
	slot->entry->stats.requests++;
	slot->entry->stats.bytes += slot->body_len;
	if (outcome.status != 0 && (slot->deprecation[0] || slot->sunset[0]))
	{
		char	   *url = NULL;

		/* the API's calendar (calendar.c): static storage, never throws */
		if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK)
			atlas_calendar_note(url, slot->deprecation, slot->sunset);
	}
	detach_slot(slot, false);
	slot->done(slot->owner, slot, &outcome);
}

/*
 * atlas_slot_time_out
 *		The event loop's clock says the backend has waited for this
 *		transfer as long as it may (loop.c): abort it and complete it to
 *		its owner as libcurl's own timeout would, CURLE_OPERATION_TIMEDOUT
 *		with a message in libcurl's words (the time is the time waited).
 *		Takes the slot off the loop in any case.  Never throws.
 */
void
atlas_slot_time_out(AtlasSlot *slot)
{
	long		waited_ms = (long) (slot->waited_us / 1000);
	bool		connecting = !slot->connected;

	/* abort first: libcurl may write errbuf as it lets go of the transfer */
	atlas_loop_remove(slot);
	if (connecting)
		snprintf(slot->errbuf, sizeof(slot->errbuf),
				 "Connection timed out after %ld milliseconds of waiting",
				 waited_ms);
	else
		snprintf(slot->errbuf, sizeof(slot->errbuf),
				 "Operation timed out after %ld milliseconds of waiting with %zu bytes received",
				 waited_ms, slot->body_len);
	atlas_slot_finished(slot->curl, CURLE_OPERATION_TIMEDOUT);
}

/*
 * atlas_slot_take_body
 *		The caller takes the slot's response buffer (malloc'd, NUL-
 *		terminated; NULL if there was no body) and will free it: the next
 *		response starts a new one, sized for a body like this one (at most
 *		MAX_BODY_HINT; it grows as needed).  Never throws.
 */
char *
atlas_slot_take_body(AtlasSlot *slot, size_t *len, size_t *cap)
{
	char	   *body = slot->body;

	*len = slot->body_len;
	*cap = slot->body_cap;
	if (body)
		slot->body_hint = Min(slot->body_len + 1, (size_t) MAX_BODY_HINT);
	slot->body = NULL;
	slot->body_len = slot->body_cap = 0;
	return body;
}

/*
 * atlas_conn_base_url, atlas_conn_auth, atlas_conn_token_gen,
 * atlas_conn_stats
 *		What the rest of the extension may know of a connection: its
 *		base_url, how it authenticates, its OAuth token's generation (not
 *		the token), and its counters (to be updated in place).
 */
const char *
atlas_conn_base_url(AtlasConnEntry *entry)
{
	return entry->base_url;
}

AtlasAuthKind
atlas_conn_auth(AtlasConnEntry *entry)
{
	return entry->auth;
}

uint64
atlas_conn_token_gen(AtlasConnEntry *entry)
{
	return entry->token_gen;
}

AtlasStats *
atlas_conn_stats(AtlasConnEntry *entry)
{
	return &entry->stats;
}

/*
 * is_transient
 *		Whether a failed exchange is worth repeating: rate limits, server
 *		errors and connections that broke before an answer came through.
 *		Timeouts are not repeated: the backend already waited timeout_ms
 *		for the answer (time spent elsewhere does not count, loop.c).
 */
static bool
is_transient(const AtlasOutcome *outcome)
{
	CURLcode	rc = outcome->rc;
	long		status = outcome->status;

	if (rc != CURLE_OK)
		return !outcome->body_too_large && !outcome->body_oom &&
			(rc == CURLE_COULDNT_CONNECT || rc == CURLE_GOT_NOTHING ||
			 rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
			 rc == CURLE_PARTIAL_FILE);
	return status == 429 || status == 500 || status == 502 ||
		status == 503 || status == 504;
}

/*
 * retry_delay
 *		How long to wait before retry number "attempt" (1-based), in ms.
 *
 * Every wait has jitter, so that transfers that failed together do not
 * come back together.  Retry-After, when the server sent it, is the least
 * wait: up to a fifth more (at least RETRY_JITTER_MS) is added.  Otherwise
 * exponential backoff: half to all of RETRY_BASE_MS * 2^(attempt-1).  Both
 * stay within max_retry_wait_ms; a wait cut to it keeps a tenth of it as
 * jitter.
 */
static long
retry_delay(int attempt, long retry_after_ms, int max_wait_ms)
{
	double		r = pg_prng_double(&pg_global_prng_state);
	long		max_wait = Max(max_wait_ms, 0);
	long		lo;
	long		span;

	if (retry_after_ms >= 0)
	{
		lo = Min(retry_after_ms, max_wait);
		span = Min(Max(lo / RETRY_AFTER_JITTER_DIVISOR, (long) RETRY_JITTER_MS),
				   max_wait - lo);
		if (span <= 0)
		{
			/* cut to max_retry_wait_ms: jitter below it */
			span = max_wait / RETRY_CUT_JITTER_DIVISOR;
			lo = max_wait - span;
		}
	}
	else
	{
		long		step = Min((long) RETRY_BASE_MS << Min(attempt - 1, RETRY_MAX_DOUBLINGS),
						   max_wait);

		lo = step / 2;
		span = step - lo;
	}
	return lo + (long) (r * span);
}

/*
 * atlas_retry_decide
 *		The retry policy of every transfer: whether a finished one is sent
 *		again (a transient failure, fewer than max_retries times so far),
 *		and if so when.
 *
 * If so, counts the retry in *retries and the statistics, and sets
 * *not_before and *delay_ms (retry_delay, from the answer's
 * Retry-After).  Records state only, never throws: completion functions
 * call it.
 */
bool
atlas_retry_decide(AtlasConnEntry *entry, const AtlasOutcome *outcome,
				   int *retries, int max_retries, int max_wait_ms,
				   TimestampTz *not_before, long *delay_ms)
{
	if (!is_transient(outcome) || *retries >= max_retries)
		return false;
	(*retries)++;
	entry->stats.retries++;
	*delay_ms = retry_delay(*retries, outcome->retry_after_ms, max_wait_ms);
	*not_before = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											  *delay_ms);
	return true;
}

/*
 * atlas_note_error
 *		Record the message of an ERROR about to be raised for this entry.
 */
void
atlas_note_error(AtlasConnEntry *entry, const char *message)
{
	entry->stats.errors++;
	snprintf(entry->stats.last_error, sizeof(entry->stats.last_error), "%s",
			 message);
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
		AtlasConnStats *copy = palloc0(sizeof(AtlasConnStats));

		/* only the counters leave the cache, never a pointer or secret */
		copy->umid = entry->key;
		copy->serverid = entry->serverid;
		copy->auth = entry->auth;
		copy->stats = entry->stats;
		result = lappend(result, copy);
	}
	return result;
}

/*
 * atlas_connection_flush_stats
 *		Add every entry's counters not yet added to the instance's
 *		statistics (stats.c; nothing without shared memory).  Never throws:
 *		the backend's exit callback uses it.
 */
void
atlas_connection_flush_stats(void)
{
	HASH_SEQ_STATUS scan;
	AtlasConnEntry *entry;

	if (ConnectionHash == NULL)
		return;
	hash_seq_init(&scan, ConnectionHash);
	while ((entry = (AtlasConnEntry *) hash_seq_search(&scan)))
		atlas_stats_flush(entry->key, entry->serverid, entry->auth,
						  &entry->stats, &entry->flushed);
}

/*
 * atlas_connection_reset_stats
 *		atlas_snapshot_fdw_stats_reset() in this backend: with shared memory
 *		(the instance's rows are reset by stats.c) the counters so far are
 *		marked as added, so that none of them count after the reset;
 *		without it, they are zeroed.
 */
void
atlas_connection_reset_stats(bool shared)
{
	HASH_SEQ_STATUS scan;
	AtlasConnEntry *entry;

	if (ConnectionHash == NULL)
		return;
	hash_seq_init(&scan, ConnectionHash);
	while ((entry = (AtlasConnEntry *) hash_seq_search(&scan)))
	{
		if (shared)
			entry->flushed = entry->stats;
		else
		{
			memset(&entry->stats, 0, sizeof(AtlasStats));
			memset(&entry->flushed, 0, sizeof(AtlasStats));
		}
	}
}
