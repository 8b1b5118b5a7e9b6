/*-------------------------------------------------------------------------
 *
 * connection_int.h
 *		  Private to the connection cache: connection.c, its event loop
 *		  (loop.c) and its token requests (oauth.c)
 *
 * The rest of the extension sees AtlasConnEntry and AtlasSlot only as
 * opaque pointers, through the functions under "in connection.c" in
 * atlas_snapshot_fdw.h.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  connection_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CONNECTION_INT_H
#define CONNECTION_INT_H

#include "atlas_snapshot_fdw.h"
#include "lib/ilist.h"
#include "shmem.h"

/*
 * One libcurl easy handle with what a transfer on it needs: its response
 * buffer, why its callbacks stopped a transfer, and who is told when the
 * transfer ends.  Slots live inside a connection entry; libcurl's callbacks
 * only ever touch their own slot.
 */
struct AtlasSlot
{
	CURL	   *curl;			/* easy handle, NULL until first used */
	AtlasConnEntry *entry;		/* the connection it belongs to */
	bool		in_use;			/* acquired, not released yet */
	bool		attached;		/* its transfer is on the loop's multi handle */
	int			nest_level;		/* transaction nesting level it was started
								 * at (a subtransaction abort detaches it) */
	AtlasTransferDone done;		/* told the outcome, while attached */
	void	   *owner;			/* done's first argument */
	struct curl_slist *headers; /* request headers while attached (with
								 * the bearer token: atlas_free_headers) */
	char	   *body;			/* response buffer (malloc'd), reused */
	size_t		body_len;		/* bytes of the current response */
	size_t		body_cap;		/* allocated size of body */
	size_t		body_hint;		/* size to start a new buffer with */
	size_t		max_body;		/* max_page_bytes of the current request */
	bool		body_too_large; /* write callback stopped: over max_body */
	bool		body_oom;		/* write callback stopped: out of memory */
	long		retry_after_ms; /* Retry-After of the last response, or -1 */
	long		rl_limit;		/* RateLimit-Limit of the last response, or -1 */
	long		rl_remaining;	/* RateLimit-Remaining of it, or -1 */
	char		deprecation[ATLAS_CALENDAR_HEADER_LEN]; /* Deprecation header of
														 * the last response,
														 * or "" */
	char		sunset[ATLAS_CALENDAR_HEADER_LEN];	/* its Sunset header, or "" */
	size_t		header_bytes;	/* header bytes of the current response */
	bool		headers_too_large;	/* header callback stopped: over
									 * ATLAS_MAX_HEADER_BYTES */
	char		errbuf[CURL_ERROR_SIZE];	/* libcurl's last error message */

	/*
	 * The transfer's clock (loop.c): time the backend spent inside
	 * atlas_loop_wait while the transfer was on the loop, against the
	 * bounds of the request that started it.
	 */
	dlist_node	loop_node;		/* in the loop's list, while in_loop */
	bool		in_loop;		/* the easy handle is on the multi handle */
	bool		connected;		/* a connection is up for it (libcurl's
								 * CURLOPT_PREREQFUNCTION was called) */
	int64		waited_us;		/* waited for it so far, in microseconds */
	int			connect_timeout_ms; /* bound on waited_us until connected */
	int			timeout_ms;		/* bound on waited_us in all */
};

/* Where the entry's OAuth token request is (oauth.c) */
typedef enum AtlasTokenState
{
	TOKEN_IDLE,					/* none: the token is valid, or not asked for */
	TOKEN_RUNNING,				/* the POST is on the multi handle */
	TOKEN_WAITING,				/* failed transiently; again at not_before */
	TOKEN_DONE					/* finished: outcome to be read by a scan */
} AtlasTokenState;

/* The token request of one entry: a transfer on its "main" slot */
typedef struct AtlasTokenRequest
{
	AtlasTokenState state;
	int			retries;		/* attempts repeated so far */
	int			max_retries;	/* of the scan that asked for the token */
	int			max_wait_ms;	/* its max_retry_wait_ms */
	int			nest_level;		/* transaction nesting level it began at */
	TimestampTz not_before;		/* while TOKEN_WAITING */
	AtlasOutcome outcome;		/* once TOKEN_DONE (errbuf: the slot's) */
	struct curl_slist *headers; /* while running (malloc'd by libcurl),
								 * with the client's Basic credentials
								 * (secret: atlas_free_headers) */
} AtlasTokenRequest;

/*
 * Per-backend connection state for one user mapping, kept in a hash table
 * in CacheMemoryContext (see connection.c).  Everything behind a pointer is
 * malloc'd and released by the connection cache.  "main" is the template
 * the pool's handles are duplicated from, and serves the token request;
 * "pool" serves the scans' concurrent requests, each slot with its own
 * Digest nonce.
 */
struct AtlasConnEntry
{
	Oid			key;			/* user mapping OID: hash key, must be first */
	Oid			serverid;		/* the mapping's server */
	bool		connected;		/* main.curl is set up */
	bool		invalidated;	/* server or user mapping changed */
	uint32		server_hashvalue;	/* hash of the server OID */
	uint32		mapping_hashvalue;	/* hash of the user mapping OID */
	AtlasAuthKind auth;			/* how requests authenticate */
	char	   *base_url;		/* the server's base_url */
	char	   *token;			/* OAuth bearer token (secret), or NULL */
	uint64		token_gen;		/* bumped whenever token changes */
	TimestampTz token_refresh_at;	/* when to fetch a new token */
	AtlasTokenRequest token_req;	/* the token request, if one is underway */
	AtlasShmemKey token_key;	/* key of the shared token (oauth.c), set
								 * when the shared token was last looked at */
	uint64		shared_gen;		/* generation of the shared token "token"
								 * was copied from or published as; 0 if
								 * it is this backend's alone */
	bool		token_mark;		/* this backend holds the fetch mark of
								 * token_key's shared token */
	bool		token_waiting;	/* waiting for another backend's token
								 * request */
	uint64		copied_gen;		/* token_gen of the last token copied from
								 * the segment, or 0 */
	AtlasSlot	main;			/* the template handle; token requests */
	AtlasSlot	pool[ATLAS_MAX_CONCURRENCY];	/* scan requests */
	AtlasStats	stats;			/* counters for atlas_snapshot_fdw_stats() */
	AtlasStats	flushed;		/* what of them the instance's statistics
								 * have (stats.c), with shared memory */
};

/* in connection.c */
extern void atlas_slot_prepare(AtlasSlot *slot, const AtlasFdwOptions *opts);
extern void atlas_slot_attach(AtlasSlot *slot, AtlasTransferDone done,
							  void *owner);
extern void atlas_slot_finished(CURL *curl, CURLcode rc);
extern void atlas_free_headers(struct curl_slist *list);
extern void atlas_slot_rewind(AtlasSlot *slot);
extern void atlas_slot_time_out(AtlasSlot *slot);

/* in loop.c */
extern bool atlas_loop_add(AtlasSlot *slot);
extern void atlas_loop_remove(AtlasSlot *slot);

/* in oauth.c */
extern void atlas_oauth_forget(AtlasConnEntry *entry);
extern void atlas_oauth_drop(AtlasConnEntry *entry);
extern void atlas_oauth_abort(AtlasConnEntry *entry, int nest_level);

#endif							/* CONNECTION_INT_H */
