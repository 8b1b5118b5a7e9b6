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
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <json.h>

#include "atlas_snapshot_fdw.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/wait_event.h"

/* How often the transfer loop wakes up to look for a query cancel */
#define POLL_INTERVAL_MS	50

/* The first allocation of a response buffer */
#define INITIAL_BODY_SIZE	(64 * 1024)

/*
 * Connection cache entry, keyed by user mapping OID.  The struct lives in
 * CacheMemoryContext; curl, body and base_url are malloc'd and freed by
 * disconnect_entry().
 */
struct AtlasConnEntry
{
	Oid			key;			/* user mapping OID: hash key, must be first */
	CURL	   *curl;			/* easy handle, NULL if not connected */
	bool		busy;			/* attached to the multi handle */
	bool		invalidated;	/* server or user mapping changed */
	uint32		server_hashvalue;	/* hash of the server OID */
	uint32		mapping_hashvalue;	/* hash of the user mapping OID */
	char	   *base_url;		/* malloc'd copy of the server's base_url */
	char	   *body;			/* malloc'd response buffer, reused */
	size_t		body_len;		/* bytes of the current response */
	size_t		body_cap;		/* allocated size of body */
	size_t		max_body;		/* max_page_bytes of the current request */
	bool		body_too_large; /* write callback stopped: over max_body */
	bool		body_oom;		/* write callback stopped: out of memory */
	char		errbuf[CURL_ERROR_SIZE];	/* libcurl's last error message */
};

static HTAB *ConnectionHash = NULL;
static CURLM *atlas_multi = NULL;

static void connect_entry(AtlasConnEntry *entry, UserMapping *user,
						  const AtlasFdwOptions *opts);
static void disconnect_entry(AtlasConnEntry *entry);
static void inval_callback(Datum arg, int cacheid, uint32 hashvalue);
static size_t write_body(char *ptr, size_t size, size_t nmemb, void *userdata);
static bool run_transfer(AtlasConnEntry *entry, CURLcode *result);
static void report_curl_error(AtlasConnEntry *entry, CURLcode rc,
							  const AtlasFdwOptions *opts);

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

	if (opts->public_key == NULL || opts->private_key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("user mapping for server \"%s\" has no Atlas credentials",
						GetForeignServer(user->serverid)->servername),
				 errhint("Set the user mapping options %s and %s.",
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
	ok &= curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_USERAGENT, ATLAS_USER_AGENT) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, entry->errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_WRITEDATA, entry) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_DIGEST) == CURLE_OK;
	/* libcurl copies both strings */
	ok &= curl_easy_setopt(curl, CURLOPT_USERNAME, opts->public_key) == CURLE_OK;
	ok &= curl_easy_setopt(curl, CURLOPT_PASSWORD, opts->private_key) == CURLE_OK;

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
 *		Release the malloc'd resources of an entry; it stays in the hash.
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
 * run_transfer
 *		Drive the entry's transfer on the multi handle until it ends.
 *
 * Returns false if a query cancel or backend termination is pending: the
 * transfer has then been detached and the caller must clean up and call
 * CHECK_FOR_INTERRUPTS().  Otherwise *result is the transfer's outcome.
 * Nothing here raises an ERROR while the handle is attached.
 */
static bool
run_transfer(AtlasConnEntry *entry, CURLcode *result)
{
	CURLMcode	mc;
	int			running = 1;
	bool		completed = true;

	*result = CURLE_OK;
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
	return completed;
}

/*
 * atlas_http_get
 *		GET base_url || path with the given API version; fill *resp.
 *
 * Returns for every HTTP status; the caller decides what a status means.
 * Network failures, timeouts and oversized bodies raise an ERROR; the
 * caller provides the error context that names the request.  The body in *resp belongs to the connection and is
 * overwritten by the next request.  The header list is malloc'd and freed
 * before any ERROR can be raised.
 */
void
atlas_http_get(AtlasConnEntry *entry, const AtlasFdwOptions *opts,
			   const char *path, const char *api_version,
			   AtlasResponse *resp)
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

	entry->body_len = 0;
	entry->max_body = opts->max_page_bytes;
	entry->body_too_large = false;
	entry->body_oom = false;
	entry->errbuf[0] = '\0';

	elog(DEBUG2, "atlas_snapshot_fdw: GET %s", path);

	headers = curl_slist_append(NULL, accept);
	if (headers == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));

	/* from here to curl_slist_free_all nothing may raise an ERROR */
	ok &= curl_easy_setopt(entry->curl, CURLOPT_URL, url) == CURLE_OK;
	ok &= curl_easy_setopt(entry->curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK;
	ok &= curl_easy_setopt(entry->curl, CURLOPT_CONNECTTIMEOUT_MS,
						   (long) opts->connect_timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(entry->curl, CURLOPT_TIMEOUT_MS,
						   (long) opts->timeout_ms) == CURLE_OK;
	completed = ok ? run_transfer(entry, &rc) : true;
	curl_easy_setopt(entry->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);

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
	if (rc != CURLE_OK)
		report_curl_error(entry, rc, opts);

	curl_easy_getinfo(entry->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = entry->body ? entry->body : "";
	resp->body_len = entry->body_len;
	pfree(url);
}

/*
 * report_curl_error
 *		Raise the ERROR for a transfer that did not complete.
 *
 * libcurl's error buffer names the host and the failing step, never
 * credentials, so it goes into the detail as it is.
 */
static void
report_curl_error(AtlasConnEntry *entry, CURLcode rc,
				  const AtlasFdwOptions *opts)
{
	const char *detail = entry->errbuf[0] ? entry->errbuf : curl_easy_strerror(rc);

	if (entry->body_too_large)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Atlas response exceeds max_page_bytes (%d bytes)",
						opts->max_page_bytes),
				 errhint("Raise the server option %s or lower the option %s.",
						 OPTION_MAX_PAGE_BYTES, OPTION_ITEMS_PER_PAGE)));
	if (entry->body_oom)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not grow the buffer for an Atlas response of %zu bytes.",
						   entry->body_len)));

	switch (rc)
	{
		case CURLE_OPERATION_TIMEDOUT:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("Atlas request timed out"),
					 errdetail_internal("%s", detail),
					 errhint("The server options %s (now %d) and %s (now %d) set the limits.",
							 OPTION_CONNECT_TIMEOUT_MS, opts->connect_timeout_ms,
							 OPTION_TIMEOUT_MS, opts->timeout_ms)));
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("could not connect to Atlas API at \"%s\"",
							entry->base_url),
					 errdetail_internal("%s", detail)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("Atlas request failed"),
					 errdetail_internal("%s", detail)));
	}
}

/*
 * parse_error_body
 *		Pull errorCode and detail out of an Atlas error document.
 *
 * Results are palloc'd (NULL where absent); the json-c tree is freed before
 * returning, so an ERROR later cannot leak it.
 */
static void
parse_error_body(const AtlasResponse *resp, char **code, char **detail)
{
	json_object *root;
	json_object *val;

	*code = *detail = NULL;
	root = json_tokener_parse(resp->body);
	if (root == NULL)
		return;
	if (json_object_is_type(root, json_type_object))
	{
		if (json_object_object_get_ex(root, "errorCode", &val) &&
			json_object_is_type(val, json_type_string))
			*code = pstrdup(json_object_get_string(val));
		if (json_object_object_get_ex(root, "detail", &val) &&
			json_object_is_type(val, json_type_string))
			*detail = pstrdup(json_object_get_string(val));
	}
	json_object_put(root);
}

/*
 * atlas_report_retired
 *		Raise the ERROR for an endpoint that Atlas has retired.
 */
void
atlas_report_retired(const AtlasResource *res, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
			 errmsg("Atlas has retired the endpoint of resource \"%s\"",
					res->name),
			 errdetail_internal("%s", detail),
			 errhint("Use resource \"%s\" instead.", res->replacement)));
}

/*
 * atlas_report_http_error
 *		Raise the ERROR for an HTTP status other than 200.
 *
 * Atlas's errorCode and detail go into the error detail; the caller's
 * error context names the request.  Neither can hold a secret: credentials
 * travel only in the Authorization header.
 */
void
atlas_report_http_error(const AtlasResponse *resp, const AtlasResource *res)
{
	char	   *code;
	char	   *detail;
	long		status = resp->status;
	int			sqlstate;

	parse_error_body(resp, &code, &detail);

	/* Retired endpoints: 410 VERSION_GONE, or 404 on a removed path */
	if (res->replacement &&
		(status == 410 ||
		 (status == 404 && code && strcmp(code, "RESOURCE_NOT_FOUND") == 0)))
		atlas_report_retired(res,
							 psprintf("HTTP status %ld, error code %s: %s",
									  status, code ? code : "none",
									  detail ? detail : ""));

	/* Flex and dedicated clusters are listed by different endpoints */
	if (code && (strcmp(code, "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API") == 0 ||
				 strcmp(code, "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Atlas cannot list this cluster through resource \"%s\"",
						res->name),
				 errdetail_internal("HTTP status %ld, error code %s: %s",
									status, code, detail ? detail : ""),
				 strcmp(code, "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API") == 0
				 ? errhint("Dedicated clusters are read with resource \"cluster_snapshots\" or \"sharded_cluster_snapshots\".")
				 : errhint("Flex clusters are read with resource \"flex_snapshots\".")));

	switch (status)
	{
		case 401:
		case 403:
			sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
			break;
		case 404:
			sqlstate = ERRCODE_FDW_TABLE_NOT_FOUND;
			break;
		default:
			sqlstate = ERRCODE_FDW_ERROR;
			break;
	}

	ereport(ERROR,
			(errcode(sqlstate),
			 status == 401 ? errmsg("Atlas rejected the credentials of the user mapping") :
			 status == 403 ? errmsg("Atlas denied access to resource \"%s\"", res->name) :
			 status == 404 ? errmsg("Atlas found no such project or cluster") :
			 status == 410 ? errmsg("Atlas has retired the endpoint of resource \"%s\"", res->name) :
			 status == 429 ? errmsg("Atlas rate limit exceeded") :
			 status >= 500 ? errmsg("Atlas API server error") :
			 status >= 300 && status < 400 ? errmsg("Atlas answered with a redirect, which is not followed") :
			 errmsg("Atlas API request failed"),
			 code ? errdetail_internal("HTTP status %ld, error code %s: %s",
									   status, code, detail ? detail : "")
			 : errdetail_internal("HTTP status %ld.", status),
			 status == 401 ? errhint("Check the options %s and %s of the user mapping and the API key's access list.",
									 OPTION_PUBLIC_KEY, OPTION_PRIVATE_KEY) :
			 status == 403 ? errhint("The API key needs the Project Read Only role on the project.") :
			 status == 429 ? errhint("Wait before retrying, or lower the request rate.") : 0));
}
