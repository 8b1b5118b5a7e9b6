/*-------------------------------------------------------------------------
 *
 * fetch.c
 *		  Concurrent, ordered fetching of the pages of a scan
 *
 * A scan reads its request chains (one per combination of key values) page
 * by page.  Chains come from a source (keys.c) one at a time, as the
 * fetcher needs them: it holds only the chains it has started and the scan
 * has not finished, never the whole list, which may be long.  The fetcher
 * runs up to max_concurrency transfers at once on the libcurl multi
 * interface, each on its own pool handle of the connection
 * entry, and hands each chain's pages to the scan in page order.
 *
 * What it fetches ahead (with max_concurrency above 1), in reading order
 * (chain by chain, page by page) while the window has room:
 *	- the pages of a chain once its first page has told totalCount (an
 *	  estimate: while pages come back full it keeps going, and the first
 *	  short page ends the chain whatever totalCount said);
 *	- the first page of every following chain;
 *	- with prefetch off (a LIMIT was pushed down) only the page asked for.
 * Pages are fetched ahead only as far as Atlas said they exist (totalCount
 * of the first page), and past that one at a time while pages come back
 * full, so a rate limit is not spent on guesses; should totalCount promise
 * more than there is, the pages past the short one may already have been
 * requested: they are dropped, unread, when it is read.
 *
 * When it fetches ahead, the scan reads whichever chain's next page is
 * there first (the lowest chain if several are), rather than waiting for
 * the chains before it: pages never sit in the window waiting their turn
 * while the network idles.  Rows of one chain stay in Atlas's order; rows
 * of different chains may interleave (ORDER BY fixes an order).  Without
 * fetching ahead, chains are read one after the other.
 *
 * Requests, pages waiting, and the page being read together stay within
 * max_concurrency + 1 pages: the page the scan cannot do without (the next
 * one of its lowest unfinished chain) displaces the last page fetched ahead
 * if need be.  Within that, the transfers actually in flight follow the
 * scan's adaptive limit (pace.c): schedule() asks pace_allows() before each
 * start, and complete_request() tells pace.c how each request was answered
 * (429 and 503 cut the limit, clean answers grow it, RateLimit-Remaining
 * caps what is sent).  The pacing state lives in its own struct with its
 * own functions (pace.c); a scan's next fetcher goes on from it
 * (atlas_fetcher_continue: an enumeration's inventory, then its
 * snapshots).
 *
 * Memory (max_scan_memory, "the budget"): the response bodies a scan holds
 * stay within half of it, counting a transfer in flight as max_page_bytes
 * (what it may grow to) and a body that has arrived as its buffer's size
 * (an answer that is retried, or a transfer cut off, leaves no body: its
 * handle frees it when released, connection.c);
 * a page is fetched ahead only while that holds, and the page the scan
 * waits for displaces pages fetched ahead to make room.  The other half is
 * for the parsed form (a json-c tree) of the one page the scan reads:
 * pages are parsed only when the scan is about to read them, the parse
 * stops with an error once the tree passes that half (jsonparse.c), the
 * body is freed as soon as its tree is built, and the scan frees the tree
 * when it moves on to the next page.
 *
 * Failures are retried here with backoff (a 429 also holds back every new
 * transfer of the scan until its Retry-After has passed), an expired OAuth
 * token is renewed once, and whatever remains is reported when the scan
 * reaches that page.
 *
 * The reading side is one function, atlas_fetcher_read_page, which both
 * the scan and the enumeration (enumerate.c) call: it hands over the next
 * page ready to read (parsed, adopted into the reader's page context, its
 * rows selected) or raises the page's error itself (report.c), under an
 * error context naming the request.  The rules that end a request chain
 * live there too (page_ends_chain): a short page, a single-page chain, a
 * 404 that means "nothing there", a page that repeats an earlier one; so
 * do the two that turn a page into an error (a retired list answering
 * empty, a repeated page where paging is declared).  A chain learns its
 * length (totalCount) when its first page is read; a failed answer ends
 * its chain as soon as it arrives, so that nothing is fetched past it.
 * An asynchronous scan (atlas_snapshot_fdw.c) asks atlas_fetcher_poll
 * before it reads: it starts what may start and lets the event loop act,
 * never waits, and says whether the reader would; the Append that runs
 * the scan does the waiting (loop.c).
 *
 * A scan whose keys are known when the executor starts it arms its first
 * request (atlas_fetcher_arm): whichever scan of the backend first waits
 * on Atlas sends the armed requests of all the others before it waits, so
 * that the sides of a join start together.
 *
 * Every transfer of the backend runs on the one event loop (loop.c), so a
 * scan that waits also completes the transfers of other scans (a cursor's
 * pages fetched ahead, say): each transfer is started with its request as
 * owner and complete_request as completion function, which only records
 * the outcome and cannot throw.  What may throw (a token request,
 * parsing, reporting) happens later, in the scan that owns the request.
 * While the connection's OAuth token is being fetched (oauth.c) the scan
 * starts nothing and waits in the same loop.
 *
 * Every way a request can be repeated has a bound: transient failures at
 * most max_retries times per request; a 401 with an OAuth token at most
 * once per request, and the token is renewed at most once per scan: a
 * 401 answering a token obtained during the scan is final (but for a
 * token copied from the instance-wide segment, which may be older than
 * the scan: a new one for each request at most once).
 *
 * Memory: requests live in the fetcher's context, a child of the
 * executor's per-query context.  A reset callback on it detaches every
 * running transfer and frees every body, parsed page and the scan's json-c
 * tokener, at the end of the scan and on ERROR alike.  Nothing here runs
 * inside a libcurl callback.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  fetch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json-c/json.h>

#include "atlas_snapshot_fdw.h"
#include "lib/ilist.h"
#include "shmem.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "shmem.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

typedef enum FetchState
{
	REQ_PENDING,				/* to be started */
	REQ_RUNNING,				/* attached to the multi handle */
	REQ_WAITING,				/* failed transiently; retry at not_before */
	REQ_DONE					/* result is final */
} FetchState;

typedef struct FetchRequest
{
	AtlasFetcher *fetcher;		/* owner */
	int			chain;			/* index into the fetcher's chains */
	int			page;			/* 1-based page number */
	FetchState	state;
	AtlasSlot  *slot;			/* while REQ_RUNNING */
	TimestampTz not_before;		/* while REQ_WAITING */
	uint64		token_gen;		/* OAuth token generation it was sent with */
	int			auth_retries;	/* times re-sent after a 401 (at most 1) */
	long		retry_delay_ms; /* wait before the retry, for the DEBUG log */
	uint64		pace_seq;		/* its start's sequence number (pace.c) */
	uint64		budget_seq;		/* its sequence number in the shared budget
								 * (budget.c) while started, 0: none */
	uint8		budget_key[ATLAS_BUDGET_KEY_LEN];	/* the budget's bucket */
	char	   *raw;			/* a 200 body not parsed yet (malloc'd) */
	size_t		raw_len;
	size_t		raw_cap;		/* bytes allocated for raw */
	bool		unparsed;		/* raw (NULL: empty) waits to be parsed */
	AtlasFetchResult result;	/* once REQ_DONE; retries counted before */
} FetchRequest;

/*
 * Pages of a chain remembered by their digest (atlas_page_digest), to
 * recognize a page that comes again: the last RECENT_PAGES pages read,
 * and the last page read whose number is a power of two.
 */
#define RECENT_PAGES	8

typedef struct PageDigest
{
	uint64		digest;			/* atlas_page_digest of its rows */
	int			page;			/* its page number, 0: none */
} PageDigest;

/* What is known about the pages of one chain (started, not finished) */
typedef struct ChainState
{
	int			chain;			/* its number, in the source's order */
	AtlasRequestKeys keys;		/* its key values (pointing into the source) */
	PageDigest	recent[RECENT_PAGES];	/* pages read, page p at
										 * (p - 1) % RECENT_PAGES */
	PageDigest	anchor;			/* the last page read numbered 2^k */
	int			issued;			/* highest page requested so far */
	int			known_pages;	/* pages it is believed to have, 0 unknown */
	int			end_page;		/* page that ended it (short or failed), or 0 */
	int			next_read;		/* page the scan reads next */
	bool		have_budget_key;	/* budget_key is set */
	uint8		budget_key[ATLAS_BUDGET_KEY_LEN];	/* its requests' bucket in
													 * the shared budget */
} ChainState;

struct AtlasFetcher
{
	AtlasConnEntry *entry;		/* connection with the handle pool */
	const AtlasFdwOptions *opts;	/* the scan's options */
	const AtlasResource *res;	/* what is fetched */
	int			page_size;		/* itemsPerPage */
	bool		prefetch;		/* fetch ahead of what the scan asked for */
	int			window;			/* max_concurrency */
	MemoryContext cxt;			/* requests and results */
	MemoryContextCallback cb;	/* releases transfers and trees */
	struct json_tokener *tok;	/* the scan's json-c tokener (malloc'd) */
	size_t		body_budget;	/* bytes of bodies held, in flight counted
								 * as max_page_bytes */
	size_t		tree_budget;	/* bytes of the tree of the page read */
	AtlasChainSource source;	/* produces the scan's chains */
	void	   *source_arg;
	bool		source_done;	/* the source has no more chains */
	int			next_chain;		/* number of the next chain it produces */
	List	   *active;			/* ChainState *, started and not finished,
								 * in chain order; in cxt */
	List	   *requests;		/* FetchRequest *, unordered */
	TimestampTz pause_until;	/* after a 429: start nothing before this */
	FetchRequest *needed;		/* the request the scan waits for, or NULL */
	int64		requests_made;	/* HTTP requests, for EXPLAIN ANALYZE */
	uint64		start_gen;		/* OAuth token generation when the scan
								 * started: a 401 to a later token (obtained
								 * during the scan, by any scan) is final */
	uint64		renew_from_gen; /* a 401 asks to replace this token, or 0 */
	TimestampTz token_wake;		/* a token request's retry is due, or 0 */
	TimestampTz scheduled_at;	/* when schedule() last looked at the clock */
	int			cut_from;		/* a completion cut the pace from this limit
								 * (0: no cut to log yet) */
	long		cut_status;		/* the HTTP status of the last cut */
	AtlasPace	pace;			/* adaptive concurrency (pace.c) */
	bool		budget;			/* the instance shares rate-limit budgets
								 * (budget.c) */
	bool		budget_held;	/* the shared budget held back a request at
								 * the last schedule() */
	TimestampTz budget_wake;	/* then: when to ask it again */
	int64		pages;			/* pages handed to the reader, for EXPLAIN
								 * ANALYZE */
	AtlasRequestKeys read_keys; /* the page waited for or read last: its */
	int			read_page;		/* chain's keys and its number, for the
								 * error context */
	bool		armed;			/* on armed_fetchers */
	dlist_node	armed_node;
	const AtlasFilterQuery *filters;	/* the scan's filter parameters, or
										 * NULL; owned by the scan */
};

/*
 * Fetchers whose first request goes out as soon as the backend waits on
 * Atlas (atlas_fetcher_arm).  Each leaves the list when it is sent, when
 * its own scan reads first, and when its memory goes away.
 */
static dlist_head armed_fetchers = DLIST_STATIC_INIT(armed_fetchers);

static void fetcher_reset_callback(void *arg);
static void release_malloced(FetchRequest *req);
static void discard_request(AtlasFetcher *f, FetchRequest *req);
static void drop_beyond_end(AtlasFetcher *f, int chain);
static void end_chain_at(ChainState *cs, int page);
static void renew_token_if_asked(AtlasFetcher *f);
static void disarm(AtlasFetcher *f);
static void complete_request(void *owner, AtlasSlot *slot,
							 const AtlasOutcome *outcome);

/*
 * atlas_fetcher_create
 *		A fetcher for one scan, in a child context of cxt.
 */
AtlasFetcher *
atlas_fetcher_create(AtlasConnEntry *entry, const AtlasFdwOptions *opts,
					 const AtlasResource *res, int page_size, bool prefetch,
					 MemoryContext cxt)
{
	MemoryContext fcxt = AllocSetContextCreate(cxt, "atlas_snapshot_fdw fetcher",
											   ALLOCSET_DEFAULT_SIZES);
	AtlasFetcher *f = MemoryContextAllocZero(fcxt, sizeof(AtlasFetcher));

	f->entry = entry;
	f->start_gen = atlas_conn_token_gen(entry);
	f->opts = opts;
	f->res = res;
	f->page_size = page_size;
	f->prefetch = prefetch;
	f->window = Max(1, Min(opts->max_concurrency, ATLAS_MAX_CONCURRENCY));
	atlas_pace_init(&f->pace, f->window);
	f->budget = atlas_budget_enabled();
	f->body_budget = (size_t) opts->max_scan_memory / 2;
	f->tree_budget = (size_t) opts->max_scan_memory / 2;
	f->cxt = fcxt;
	f->cb.func = fetcher_reset_callback;
	f->cb.arg = f;
	MemoryContextRegisterResetCallback(fcxt, &f->cb);
	f->tok = json_tokener_new_ex(ATLAS_JSON_MAX_DEPTH);
	if (f->tok == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	return f;
}

/*
 * fetcher_reset_callback
 *		Detach running transfers and free parsed pages when the fetcher's
 *		context goes away (end of scan, or ERROR).  Must not throw.
 */
static void
fetcher_reset_callback(void *arg)
{
	AtlasFetcher *f = (AtlasFetcher *) arg;
	ListCell   *lc;

	disarm(f);
	foreach(lc, f->requests)
		release_malloced((FetchRequest *) lfirst(lc));
	f->requests = NIL;
	if (f->tok)
		json_tokener_free(f->tok);
	f->tok = NULL;
}

/* Whether the chain is a GET by id (its document is the one row) */
static bool
by_id_chain(AtlasFetcher *f, const ChainState *cs)
{
	return atlas_keys_select_item(f->res, &cs->keys);
}

/* Whether the chain is read with one request: a GET by id, or no paging */
static bool
single_page_chain(AtlasFetcher *f, const ChainState *cs)
{
	return by_id_chain(f, cs) || f->res->paging == ATLAS_PAGING_NONE;
}

/*
 * free_chain
 *		Forget a chain's state.
 */
static void
free_chain(AtlasFetcher *f, ChainState *cs)
{
	f->active = list_delete_ptr(f->active, cs);
	pfree(cs);
}

/*
 * atlas_fetcher_start
 *		Forget everything (a rescan) and get ready to fetch the chains that
 *		source(arg, ...) produces.  The source is asked for a chain only
 *		when the fetcher starts it; the keys it fills in must stay valid
 *		until the next atlas_fetcher_start.  It must not throw.
 */
void
atlas_fetcher_start(AtlasFetcher *f, AtlasChainSource source, void *arg)
{
	disarm(f);
	while (f->requests != NIL)
		discard_request(f, (FetchRequest *) linitial(f->requests));
	while (f->active != NIL)
		free_chain(f, (ChainState *) linitial(f->active));

	f->source = source;
	f->source_arg = arg;
	f->source_done = false;
	f->next_chain = 0;
}

/*
 * chain_state
 *		The state of a started, unfinished chain, or NULL.  The list holds
 *		about as many chains as there are transfers in flight.
 */
static ChainState *
chain_state(AtlasFetcher *f, int chain)
{
	ListCell   *lc;

	foreach(lc, f->active)
	{
		ChainState *cs = (ChainState *) lfirst(lc);

		if (cs->chain == chain)
			return cs;
	}
	return NULL;
}

/*
 * must_chain_state
 *		chain_state, for a chain that must be there.
 */
static ChainState *
must_chain_state(AtlasFetcher *f, int chain)
{
	ChainState *cs = chain_state(f, chain);

	if (cs == NULL)
		elog(ERROR, "atlas_snapshot_fdw: request chain %d is not active", chain);
	return cs;
}

/*
 * next_chain
 *		Start the source's next chain, or return NULL if it has no more.
 *		The source does constant work per chain.
 */
static ChainState *
next_chain(AtlasFetcher *f)
{
	ChainState *cs;
	MemoryContext oldcxt;

	if (f->source_done)
		return NULL;
	cs = MemoryContextAllocZero(f->cxt, sizeof(ChainState));
	if (!f->source(f->source_arg, &cs->keys))
	{
		pfree(cs);
		f->source_done = true;
		return NULL;
	}
	cs->chain = f->next_chain++;
	cs->next_read = 1;
	if (single_page_chain(f, cs))
		cs->known_pages = 1;
	oldcxt = MemoryContextSwitchTo(f->cxt);
	f->active = lappend(f->active, cs);
	MemoryContextSwitchTo(oldcxt);
	return cs;
}

/*
 * budget_answer
 *		Tell the shared budget (budget.c) how a request it let start was
 *		answered (outcome NULL: abandoned, or detached).  Never throws.
 */
static void
budget_answer(FetchRequest *req, const AtlasOutcome *outcome)
{
	if (req->budget_seq == 0)
		return;
	if (outcome == NULL || outcome->detached || outcome->rc != CURLE_OK)
		atlas_budget_answer(req->budget_key, req->budget_seq, 0, -1, -1, -1,
							0);
	else
		atlas_budget_answer(req->budget_key, req->budget_seq,
							outcome->status, outcome->rl_remaining,
							outcome->rl_limit, outcome->retry_after_ms,
							req->fetcher->opts->max_retry_wait_ms);
	req->budget_seq = 0;
}

/*
 * release_malloced
 *		Detach a request's transfer and free its page, parsed or not (the
 *		malloc'd parts).  Never throws: the reset callback uses it.
 */
static void
release_malloced(FetchRequest *req)
{
	if (req->state == REQ_RUNNING && req->slot)
	{
		atlas_release_slot(req->slot);
		req->slot = NULL;
		req->state = REQ_PENDING;
	}
	budget_answer(req, NULL);
	json_object_put(req->result.doc);
	req->result.doc = NULL;
	free(req->raw);
	req->raw = NULL;
	req->result.body = NULL;	/* was req->raw, if set */
	req->raw_cap = 0;
}

/*
 * discard_request
 *		Drop a request: abort its transfer, free its result.
 */
static void
discard_request(AtlasFetcher *f, FetchRequest *req)
{
	release_malloced(req);
	f->requests = list_delete_ptr(f->requests, req);
	if (req->result.parse_error)
		pfree(req->result.parse_error);
	pfree(req);
}

static FetchRequest *
find_request(AtlasFetcher *f, int chain, int page)
{
	ListCell   *lc;

	foreach(lc, f->requests)
	{
		FetchRequest *req = (FetchRequest *) lfirst(lc);

		if (req->chain == chain && req->page == page)
			return req;
	}
	return NULL;
}

static FetchRequest *
new_request(AtlasFetcher *f, int chain, int page)
{
	FetchRequest *req = MemoryContextAllocZero(f->cxt, sizeof(FetchRequest));
	MemoryContext oldcxt;

	req->fetcher = f;
	req->chain = chain;
	req->page = page;
	req->state = REQ_PENDING;
	/* the list must live as long as the fetcher, whatever the caller's context */
	oldcxt = MemoryContextSwitchTo(f->cxt);
	f->requests = lappend(f->requests, req);
	MemoryContextSwitchTo(oldcxt);
	{
		ChainState *cs = must_chain_state(f, chain);

		cs->issued = Max(cs->issued, page);
	}
	return req;
}

/*
 * count_running
 *		The fetcher's transfers in flight.
 */
static int
count_running(AtlasFetcher *f)
{
	int			n = 0;
	ListCell   *lc;

	foreach(lc, f->requests)
	{
		if (((FetchRequest *) lfirst(lc))->state == REQ_RUNNING)
			n++;
	}
	return n;
}

/*
 * pace_allows
 *		Whether the adaptive limit (pace.c) lets one more transfer start.
 */
static bool
pace_allows(AtlasFetcher *f)
{
	return atlas_pace_may_start(&f->pace, count_running(f));
}

/* (chain, page) order: the order in which the scan reads pages */
static bool
precedes(const FetchRequest *a, const FetchRequest *b)
{
	return a->chain < b->chain || (a->chain == b->chain && a->page < b->page);
}

/*
 * budget_allows
 *		Whether the shared budget of the request's bucket lets it start now
 *		(then it counts as started there: req->budget_seq); if not, the
 *		fetcher is held back until f->budget_wake.  The chain's bucket is
 *		named when it first sends (may throw: a digest).
 */
static bool
budget_allows(AtlasFetcher *f, FetchRequest *req)
{
	ChainState *cs = must_chain_state(f, req->chain);
	TimestampTz wake;

	if (!cs->have_budget_key)
	{
		bool		by_id = by_id_chain(f, cs);
		const char *template = by_id ? f->res->get_path : f->res->list_path;
		bool		grouped = strstr(template, "{group}") != NULL &&
			cs->keys.present[ATLAS_KEY_GROUP];

		atlas_budget_key(cs->budget_key, f->opts->base_url,
						 atlas_conn_auth(f->entry) == ATLAS_AUTH_OAUTH ?
						 f->opts->client_id : f->opts->public_key,
						 template,
						 grouped ? cs->keys.text[ATLAS_KEY_GROUP] : NULL);
		cs->have_budget_key = true;
	}
	Assert(req->budget_seq == 0);
	if (atlas_budget_take(cs->budget_key, &req->budget_seq, &wake))
	{
		memcpy(req->budget_key, cs->budget_key, ATLAS_BUDGET_KEY_LEN);
		return true;
	}
	if (!f->budget_held || wake < f->budget_wake)
		f->budget_wake = wake;
	f->budget_held = true;
	return false;
}

/*
 * start_request
 *		Start a request's transfer on a free handle of the connection.
 *		Returns false if none is free.  The caller has made sure of the
 *		OAuth token (atlas_oauth_ready).
 */
static bool
start_request(AtlasFetcher *f, FetchRequest *req)
{
	AtlasSlot  *slot;
	char	   *path;

	if (f->budget && !budget_allows(f, req))
		return false;
	slot = atlas_acquire_slot(f->entry, f->window);
	if (slot == NULL)
	{
		budget_answer(req, NULL);	/* not sent after all */
		return false;
	}
	path = atlas_request_path(f->res, &must_chain_state(f, req->chain)->keys,
							  req->page, f->page_size, f->filters, f->opts);
	elog(DEBUG2, "atlas_snapshot_fdw: GET %s", path);
	atlas_start_get(slot, path, f->res->api_version, f->opts,
					complete_request, req);
	pfree(path);
	req->token_gen = atlas_conn_token_gen(f->entry);
	req->slot = slot;
	req->state = REQ_RUNNING;
	f->requests_made++;
	req->pace_seq = atlas_pace_started(&f->pace, count_running(f));
	return true;
}

/*
 * pages_for_total
 *		The pages a list of "total" items takes, counting the final short
 *		(possibly empty) page that proves the list has ended.
 */
static int
pages_for_total(AtlasFetcher *f, int64 total)
{
	int64		pages = total / f->page_size + 1;

	return (int) Min(pages, (int64) INT_MAX / 2);
}

/*
 * window_bytes
 *		The bytes of response bodies the fetcher holds or may soon hold: a
 *		transfer in flight counts as max_page_bytes (what it may grow to),
 *		a body that has arrived as its buffer's size.
 */
static size_t
window_bytes(AtlasFetcher *f)
{
	size_t		bytes = 0;
	ListCell   *lc;

	foreach(lc, f->requests)
	{
		FetchRequest *req = (FetchRequest *) lfirst(lc);

		if (req->state == REQ_RUNNING)
			bytes += (size_t) f->opts->max_page_bytes;
		else if (req->state == REQ_DONE)
			bytes += req->raw_cap;	/* a non-200 body is raw too */
	}
	return bytes;
}

/*
 * fits_in_window
 *		Whether one more transfer keeps the bodies within their budget.
 */
static bool
fits_in_window(AtlasFetcher *f)
{
	return window_bytes(f) + (size_t) f->opts->max_page_bytes <= f->body_budget;
}

/*
 * speculative_next
 *		The next page worth fetching ahead, in reading order, if any.
 *
 * Only pages known to exist are fetched ahead: the pages of a chain up to
 * what its first page said (or, while pages come back full, the next one),
 * and the first page of a following chain, which every chain has (the
 * source's next chain, started here).
 */
static bool
speculative_next(AtlasFetcher *f, int *chain, int *page)
{
	ListCell   *lc;
	ChainState *cs;

	foreach(lc, f->active)
	{
		int			limit;

		cs = (ChainState *) lfirst(lc);
		if (cs->end_page > 0)
			limit = cs->end_page;
		else if (cs->known_pages > 0)
			limit = cs->known_pages;
		else
			limit = 1;			/* not measured yet: its first page only */

		if (cs->issued < limit)
		{
			*chain = cs->chain;
			*page = cs->issued + 1;
			return true;
		}
	}
	if ((cs = next_chain(f)) == NULL)
		return false;
	*chain = cs->chain;
	*page = 1;
	return true;
}

/*
 * renew_token_if_asked
 *		Drop the OAuth token a 401 rejected, unless another scan has
 *		replaced it since, so that a new one is fetched before anything
 *		else starts (token_ready).
 */
static void
renew_token_if_asked(AtlasFetcher *f)
{
	uint64		from = f->renew_from_gen;

	if (from == 0)
		return;
	f->renew_from_gen = 0;
	atlas_oauth_renew(f->entry, from);
}

/*
 * token_ready
 *		Whether the connection has the OAuth token requests need (always,
 *		for API keys); if not, its token request moves along (oauth.c), and
 *		f->token_wake says when its retry is due.  An ERROR of the token
 *		endpoint is raised here, in the scan that waits for the token.
 */
static bool
token_ready(AtlasFetcher *f)
{
	f->token_wake = 0;
	return atlas_oauth_ready(f->entry, f->opts, &f->token_wake);
}

/*
 * token_ready_once
 *		token_ready, asked at most once per schedule() and only when a
 *		request is about to start: a scan with nothing to send (pumping
 *		while it converts rows, say) starts no token request that nobody
 *		would wait for.  *asked is -1 before the first call.
 */
static bool
token_ready_once(AtlasFetcher *f, int *asked)
{
	if (*asked < 0)
		*asked = token_ready(f) ? 1 : 0;
	return *asked == 1;
}

/*
 * schedule
 *		Start what may start: requests that wait for a slot or whose retry
 *		time has come (in reading order), then pages fetched ahead while
 *		the window has room.  "needed" is the request the scan waits for;
 *		it may displace a page fetched ahead to stay within the window.
 */
static void
schedule(AtlasFetcher *f, FetchRequest *needed)
{
	TimestampTz now = GetCurrentTimestamp();
	int			outstanding = 0;
	int			token = -1;		/* token_ready_once: not asked yet */
	ListCell   *lc;

	f->scheduled_at = now;
	f->budget_held = false;
	if (f->cut_from != 0)
	{
		elog(DEBUG1, "atlas_snapshot_fdw: HTTP %ld: transfers in flight cut from %d to %d",
			 f->cut_status, f->cut_from, f->pace.limit);
		f->cut_from = 0;
	}
	renew_token_if_asked(f);
	if (now < f->pause_until)
		return;

	foreach(lc, f->requests)
		outstanding++;

	for (;;)
	{
		FetchRequest *best = NULL;
		bool		retry;

		foreach(lc, f->requests)
		{
			FetchRequest *req = (FetchRequest *) lfirst(lc);

			if ((req->state == REQ_PENDING ||
				 (req->state == REQ_WAITING && req->not_before <= now)) &&
				(best == NULL || precedes(req, best)))
				best = req;
		}
		if (best == NULL)
			break;

		/*
		 * The page the scan needs makes room by dropping the last ones
		 * ahead, in number and in bytes; a page ahead waits for room.
		 */
		while (best == needed &&
			   (outstanding > f->window || !fits_in_window(f)))
		{
			FetchRequest *last = NULL;

			foreach(lc, f->requests)
			{
				FetchRequest *req = (FetchRequest *) lfirst(lc);

				if (req != needed && precedes(needed, req) &&
					(last == NULL || precedes(last, req)))
					last = req;
			}
			if (last == NULL)
				break;
			{
				ChainState *lcs = must_chain_state(f, last->chain);

				lcs->issued = Min(lcs->issued, last->page - 1);
			}
			discard_request(f, last);
			outstanding--;
		}
		if (best != needed && !fits_in_window(f))
			break;
		if (!pace_allows(f))
			break;
		if (!token_ready_once(f, &token))
			break;
		retry = best->state == REQ_WAITING;
		if (!start_request(f, best))
			break;
		if (retry)
			elog(DEBUG1, "atlas_snapshot_fdw: retrying page %d of request chain %d after %ld ms (%d of %d)",
				 best->page, best->chain + 1, best->retry_delay_ms,
				 best->result.retries, f->opts->max_retries);
	}

	while (f->prefetch && f->window > 1 && outstanding < f->window &&
		   fits_in_window(f))
	{
		int			chain;
		int			page;
		FetchRequest *req;

		if (!pace_allows(f) || f->budget_held)
			break;
		if (!speculative_next(f, &chain, &page))
			break;
		if (!token_ready_once(f, &token))
			break;
		req = new_request(f, chain, page);
		outstanding++;
		if (!start_request(f, req))
			break;				/* stays pending until a slot frees up */
	}
}

/*
 * parse_page
 *		Parse a request's 200 body (json-c, within the tree's half of the
 *		budget).
 *
 * Called when the scan is about to read the page.  The body is freed once
 * parsed, whatever the outcome; a body that does not parse leaves the
 * reason in the result.  A query cancel during the parse is an ERROR,
 * after which the fetcher's reset callback frees the body.
 */
static void
parse_page(AtlasFetcher *f, FetchRequest *req)
{
	char		errmsg[ATLAS_JSON_ERRMSG_LEN];
	size_t		tree_bytes = 0;
	bool		over_budget = false;

	if (!req->unparsed)
		return;
	/* measuring the tree costs a walk of malloc's free lists: only to log it */
	req->result.doc = atlas_json_parse(f->tok, req->raw ? req->raw : "",
									   req->raw_len, f->tree_budget, true,
									   errmsg, sizeof(errmsg), &over_budget,
									   message_level_is_interesting(DEBUG2) ?
									   &tree_bytes : NULL);
	req->unparsed = false;
	free(req->raw);
	req->raw = NULL;
	req->raw_cap = 0;
	if (req->result.doc == NULL)
	{
		req->result.parse_error = MemoryContextStrdup(f->cxt, errmsg);
		req->result.over_budget = over_budget;
	}
	elog(DEBUG2, "atlas_snapshot_fdw: page %d of request chain %d: %zu bytes, parsed into %zu",
		 req->page, req->chain + 1, req->raw_len, tree_bytes);
}

/*
 * pace_answer
 *		Tell the pacing (pace.c) how a request was answered, and count a
 *		rate limit and a cut in the connection's statistics.  Never throws
 *		(complete_request): a cut is logged at DEBUG1 only, which allocates
 *		nothing unless the message is wanted.
 */
static void
pace_answer(AtlasFetcher *f, FetchRequest *req, const AtlasOutcome *outcome)
{
	AtlasStats *stats = atlas_conn_stats(f->entry);
	long		status = outcome->status;
	int			before = f->pace.limit;

	if (status == 429 || status == 503)
		stats->rate_limited++;
	if (atlas_pace_answer(&f->pace, req->pace_seq, status,
						  outcome->rl_remaining, outcome->rl_limit))
	{
		stats->concurrency_cuts++;
		/* logged by the owning scan (schedule): nothing is logged here */
		if (f->cut_from == 0)
			f->cut_from = before;
		f->cut_status = status;
	}
	stats->peak_in_flight = Max(stats->peak_in_flight, f->pace.peak);
}

/*
 * complete_request
 *		Completion function of a request's transfer (AtlasTransferDone):
 *		take its outcome, mark it for a retry, or keep its result and learn
 *		from it where its chain ends; then release the handle.
 *
 * It may run while another scan waits (the event loop is shared), or in a
 * (sub)transaction abort that detached the transfer (then the request
 * waits to be started again), so it only records state and never throws:
 * no allocation, no parsing, no token request.  The scan that owns the
 * request renews the token it asks for (renew_token_if_asked), and reports
 * its failure when it reads the page.  The response buffer, malloc'd,
 * passes to the request.
 */
static void
complete_request(void *owner, AtlasSlot *slot, const AtlasOutcome *outcome)
{
	FetchRequest *req = (FetchRequest *) owner;
	AtlasFetcher *f = req->fetcher;
	AtlasConnEntry *entry = f->entry;
	ChainState *cs = chain_state(f, req->chain);
	CURLcode	rc = outcome->rc;
	long		status = outcome->status;
	long		delay;

	Assert(req->slot == slot);
	req->slot = NULL;
	budget_answer(req, outcome);
	if (outcome->detached)
	{
		atlas_release_slot(slot);
		req->state = REQ_PENDING;
		return;
	}
	if (rc == CURLE_OK)
		pace_answer(f, req, outcome);

	/*
	 * A 401 to an OAuth token: ask again once with a new token, unless the
	 * token was obtained during this scan (then access is really denied and
	 * the 401 is final); a token copied from the instance-wide segment
	 * during the scan may be older than the scan (oauth.c).  The renewal
	 * itself waits for the owning scan.
	 */
	if (rc == CURLE_OK && status == 401 &&
		atlas_conn_auth(entry) == ATLAS_AUTH_OAUTH &&
		req->auth_retries == 0 &&
		(req->token_gen <= f->start_gen ||
		 atlas_oauth_token_copied(entry, req->token_gen)))
	{
		req->auth_retries++;
		/* the request is repeated: a retry in the statistics */
		atlas_conn_stats(entry)->retries++;
		if (req->token_gen == atlas_conn_token_gen(entry))
			f->renew_from_gen = req->token_gen;
		req->state = REQ_PENDING;
		atlas_release_slot(slot);
		return;
	}

	if (atlas_retry_decide(entry, outcome, &req->result.retries,
						   f->opts->max_retries, f->opts->max_retry_wait_ms,
						   &req->not_before, &delay))
	{
		req->retry_delay_ms = delay;
		req->state = REQ_WAITING;
		if (status == 429)
			f->pause_until = Max(f->pause_until, req->not_before);
		atlas_release_slot(slot);
		return;
	}

	req->state = REQ_DONE;
	req->result.rc = rc;
	req->result.status = status;
	req->result.body_too_large = outcome->body_too_large;
	req->result.body_oom = outcome->body_oom;
	snprintf(req->result.errbuf, sizeof(req->result.errbuf), "%s",
			 outcome->errbuf);

	/* keep the response buffer itself: no copy (NULL: empty body) */
	if (rc == CURLE_OK)
		req->raw = atlas_slot_take_body(slot, &req->raw_len, &req->raw_cap);
	atlas_release_slot(slot);
	if (rc == CURLE_OK && status == 200)
		req->unparsed = true;	/* parsed when the scan reads it */
	else
	{
		/* a non-200 body stays malloc'd; released with the request */
		req->result.body = req->raw;
		req->result.body_len = req->raw ? req->raw_len : 0;
		/* the scan stops here and reports the failure */
		if (cs)
			end_chain_at(cs, req->page);
	}
	drop_beyond_end(f, req->chain);
}

/*
 * discard_chain_after
 *		Discard the requests of a chain for pages after after_page (all of
 *		them with 0), sparing the one the scan waits for.
 */
static void
discard_chain_after(AtlasFetcher *f, int chain, int after_page)
{
	bool		again = true;

	while (again)
	{
		ListCell   *lc;

		again = false;
		foreach(lc, f->requests)
		{
			FetchRequest *req = (FetchRequest *) lfirst(lc);

			if (req->chain == chain && req->page > after_page &&
				req != f->needed)
			{
				discard_request(f, req);
				again = true;
				break;
			}
		}
	}
}

/*
 * drop_beyond_end
 *		Discard the requests of a chain past its end page.
 */
static void
drop_beyond_end(AtlasFetcher *f, int chain)
{
	ChainState *cs = chain_state(f, chain);

	if (cs && cs->end_page > 0)
		discard_chain_after(f, chain, cs->end_page);
}

/*
 * abort_all
 *		Detach every running transfer of the fetcher (before a cancel ERROR).
 */
static void
abort_all(AtlasFetcher *f)
{
	ListCell   *lc;

	foreach(lc, f->requests)
	{
		FetchRequest *req = (FetchRequest *) lfirst(lc);

		if (req->state == REQ_RUNNING && req->slot)
		{
			atlas_release_slot(req->slot);
			req->slot = NULL;
			req->state = REQ_PENDING;
		}
	}
}

/*
 * next_ready_request
 *		The request the scan may read now, or NULL: the page it needs, or,
 *		when pages are fetched ahead, the next page of any chain that has
 *		arrived (of the lowest such chain).
 */
static FetchRequest *
next_ready_request(AtlasFetcher *f, FetchRequest *needed)
{
	FetchRequest *best = NULL;
	ListCell   *lc;

	if (needed->state == REQ_DONE)
		return needed;
	if (!f->prefetch || f->window <= 1)
		return NULL;
	foreach(lc, f->requests)
	{
		FetchRequest *req = (FetchRequest *) lfirst(lc);
		ChainState *cs = chain_state(f, req->chain);

		if (req->state == REQ_DONE && cs &&
			req->page == cs->next_read &&
			(best == NULL || req->chain < best->chain))
			best = req;
	}
	return best;
}

/*
 * rate_limit_wait
 *		Whether the fetcher waits for a retry with nothing in flight: a scan
 *		held back by a rate limit (or other transient failure), whose wait
 *		is counted for EXPLAIN ANALYZE and the statistics.
 */
static bool
rate_limit_wait(AtlasFetcher *f, TimestampTz now)
{
	bool		waiting = f->pause_until > now || f->budget_held;
	ListCell   *lc;

	foreach(lc, f->requests)
	{
		FetchRequest *req = (FetchRequest *) lfirst(lc);

		if (req->state == REQ_RUNNING)
			return false;
		if (req->state == REQ_WAITING)
			waiting = true;
	}
	return waiting;
}

/*
 * disarm
 *		Take a fetcher off the list of armed fetchers, if it is on it.
 *		Never throws (the reset callback uses it).
 */
static void
disarm(AtlasFetcher *f)
{
	if (f->armed)
		dlist_delete(&f->armed_node);
	f->armed = false;
}

/*
 * atlas_fetcher_arm
 *		Have the first request of the fetcher's first chain sent as soon as
 *		the backend waits on Atlas for anything (send_armed), rather than
 *		when the scan first reads.
 *
 * BeginForeignScan arms the scans whose keys are known then, so that the
 * first requests of all the scans of a query go out together when the
 * first of them waits: the two sides of a join read their cluster lists
 * at the same time instead of one after the other.  A scan that nothing
 * waits for (one the planner proved empty) sends nothing.  Call after
 * atlas_fetcher_start.
 */
void
atlas_fetcher_arm(AtlasFetcher *f)
{
	if (!f->armed)
		dlist_push_tail(&armed_fetchers, &f->armed_node);
	f->armed = true;
}

/*
 * send_first
 *		Start the request for the first page of a fetcher's first chain, if
 *		nothing has been asked yet; its connection has a valid token, if it
 *		needs one (send_armed).  With no free pool handle the request stays
 *		pending until the scan reads.
 */
static void
send_first(AtlasFetcher *f)
{
	ChainState *cs;

	if (f->requests != NIL)
		return;
	cs = f->active != NIL ? (ChainState *) linitial(f->active) : next_chain(f);
	if (cs == NULL)
		return;
	(void) start_request(f, new_request(f, cs->chain, cs->next_read));
}

/*
 * send_armed
 *		Send the first requests of the armed fetchers (the other scans of
 *		the query) before the backend waits.  A fetcher whose connection
 *		has no valid OAuth token yet stays armed: the scan that waits is
 *		typically obtaining it (a transfer of the loop), and the armed
 *		requests go out on a later turn of its wait, once the token is
 *		there.  Nothing here waits.
 */
static void
send_armed(void)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &armed_fetchers)
	{
		AtlasFetcher *f = dlist_container(AtlasFetcher, armed_node, iter.cur);

		/* it stays armed while its token is being obtained (by anyone) */
		if (!atlas_oauth_token_valid(f->entry))
			continue;
		disarm(f);
		send_first(f);
	}
}

/*
 * wake_timeout_ms
 *		Milliseconds until the fetcher has something to do of its own: a
 *		retry is due, its 429 pause or its token request's retry wait ends
 *		(0 if one is due now), or -1 if nothing of its own is timed.
 *
 * Only times after the last schedule() count: a retry that was due then
 * and did not start waits for a transfer to end (a free handle, room in
 * the window or under the adaptive limit), which wakes the loop anyway;
 * counting it would make every wait return at once, a busy loop for as
 * long as that transfer runs.
 */
static long
wake_timeout_ms(AtlasFetcher *f, TimestampTz now)
{
	TimestampTz since = f->scheduled_at;
	TimestampTz wake = f->token_wake > since ? f->token_wake : 0;
	ListCell   *lc;

	foreach(lc, f->requests)
	{
		FetchRequest *req = (FetchRequest *) lfirst(lc);

		if (req->state == REQ_WAITING && req->not_before > since &&
			(wake == 0 || req->not_before < wake))
			wake = req->not_before;
	}
	if (f->pause_until > since && (wake == 0 || f->pause_until < wake))
		wake = f->pause_until;
	if (f->budget_held && (wake == 0 || f->budget_wake < wake))
		wake = f->budget_wake;
	if (wake == 0)
		return -1;
	return Max(TimestampDifferenceMilliseconds(now, wake), 0);
}

/*
 * wait_for_readable_page
 *		Run transfers until there is a page for the scan to read (see
 *		next_ready_request), and return its request.
 *
 * Each turn starts what may start, then waits in the event loop (loop.c)
 * for a transfer, libcurl's timer, our own timers (retries, a 429 pause)
 * or the latch, with no polling tick.  A query cancel or termination is
 * seen when the latch wakes us: every transfer of the scan is detached
 * before CHECK_FOR_INTERRUPTS raises it.
 */
static FetchRequest *
wait_for_readable_page(AtlasFetcher *f, FetchRequest *needed)
{
	FetchRequest *ready;

	f->needed = needed;
	disarm(f);
	for (;;)
	{
		TimestampTz now;
		bool		held_back;

		schedule(f, needed);
		/* after schedule(), which may have obtained an OAuth token */
		if (!dlist_is_empty(&armed_fetchers))
			send_armed();
		if ((ready = next_ready_request(f, needed)) != NULL)
		{
			/* send what may go ahead while the scan reads this page */
			if (f->prefetch && f->window > 1)
				atlas_loop_wait(0);
			break;
		}

		/*
		 * A cancel, statement_timeout or termination: detach the scan's
		 * transfers first, so that nothing is attached while the ERROR
		 * unwinds.  Should ProcessInterrupts decide not to raise it after
		 * all, the detached requests are simply sent again.  While
		 * interrupts are held off, the scan goes on waiting (the latch is
		 * reset by the wait, so this does not spin).
		 */
		if ((QueryCancelPending || ProcDiePending) &&
			INTERRUPTS_CAN_BE_PROCESSED())
		{
			abort_all(f);
			f->needed = NULL;
			CHECK_FOR_INTERRUPTS();
			f->needed = needed;
			continue;
		}
		CHECK_FOR_INTERRUPTS();

		now = GetCurrentTimestamp();
		held_back = rate_limit_wait(f, now);
		/* what pg_stat_activity shows for the wait (shmem.c) */
		if (atlas_oauth_waiting(f->entry))
			atlas_loop_set_wait_event(atlas_wait_event_token());
		else if (held_back || f->pause_until > now)
			atlas_loop_set_wait_event(atlas_wait_event_rate_limit());
		atlas_loop_wait(wake_timeout_ms(f, now));
		if (held_back)
		{
			long		secs;
			int			usecs;
			int64		waited;

			TimestampDifference(now, GetCurrentTimestamp(), &secs, &usecs);
			waited = (int64) secs * USECS_PER_SEC + usecs;
			f->pace.wait_us += waited;
			atlas_conn_stats(f->entry)->rate_limit_wait_us += waited;
		}
	}
	f->needed = NULL;
	return ready;
}

/*
 * Reading pages: the one reader of the scan and of the enumeration
 */

/*
 * advance_to_needed_page
 *		The page the scan cannot do without: the next page of its lowest
 *		unfinished chain, which is started (taken from the source) if no
 *		chain is.  False once every chain is finished.
 */
static bool
advance_to_needed_page(AtlasFetcher *f, int *chain, int *page)
{
	ChainState *cs;

	/* finished chains leave the list: its head is the lowest unfinished */
	cs = f->active != NIL ? (ChainState *) linitial(f->active) : next_chain(f);
	if (cs == NULL)
		return false;
	*chain = cs->chain;
	*page = cs->next_read;
	return true;
}

/*
 * await_page
 *		The request of the next page the scan reads, fetched if need be and
 *		parsed if it is a 200; the chain's next_read moves past it.
 *
 * It is the needed page (chain, page), or, when pages are fetched ahead,
 * the next page of another chain that arrived first.  The request stays
 * the fetcher's: the reader discards it once the page is adopted.
 */
static FetchRequest *
await_page(AtlasFetcher *f, int chain, int page)
{
	FetchRequest *req;

	Assert(page == must_chain_state(f, chain)->next_read);
	req = find_request(f, chain, page);
	if (req == NULL)
		req = new_request(f, chain, page);
	req = wait_for_readable_page(f, req);
	parse_page(f, req);
	must_chain_state(f, req->chain)->next_read++;
	return req;
}

/*
 * atlas_fetcher_error_context
 *		errcontext callback (arg: the fetcher) naming the request of the
 *		page being waited for, or of the page read last.
 *
 * The reader sets it up while it reads; the enumeration also around its
 * use of a page's items, whose errors belong to that request too.
 */
void
atlas_fetcher_error_context(void *arg)
{
	AtlasFetcher *f = (AtlasFetcher *) arg;

	errcontext("remote request: GET %s",
			   atlas_request_path(f->res, &f->read_keys, f->read_page,
								  f->page_size, f->filters, f->opts));
}

/*
 * end_chain_at
 *		Record that a chain ends at this page: nothing past it is fetched
 *		ahead, and what was is dropped (drop_beyond_end).
 */
static void
end_chain_at(ChainState *cs, int page)
{
	cs->end_page = cs->end_page ? Min(cs->end_page, page) : page;
}

/*
 * absent_answer
 *		Whether a 404 stands for "nothing there" rather than an error: the
 *		errorCodes a resource declares for a missing item of a GET by id
 *		(SNAPSHOT_NOT_FOUND, RESTORE_JOB_NOT_FOUND, ...), and for its list
 *		request those that mean the project or cluster has nothing of the
 *		kind (a cluster without backup has no schedule, a project may have
 *		no compliance policy).  A missing project or cluster, or a retired
 *		endpoint (other codes, or no Atlas error document), is still an
 *		error.
 */
static bool
absent_answer(const AtlasResource *res, const AtlasFetchResult *result,
			  bool by_id)
{
	char	   *code;
	char	   *detail;
	bool		absent;

	if (result->rc != CURLE_OK || result->status != 404)
		return false;
	atlas_parse_error_body(result->body ? result->body : "", &code, &detail);
	absent = atlas_code_listed(by_id ? res->id_absent_codes : res->absent_codes,
							   code);
	if (code)
		pfree(code);
	if (detail)
		pfree(detail);
	return absent;
}

/*
 * repeated_page
 *		The number of an earlier page of the chain that this page (page_num,
 *		read in order after the pages before it) repeats, or 0; remembers
 *		this page for the pages after it.
 *
 * A server that ignores pageNum answers with the same page forever, and
 * one whose paging wraps around with the same few pages over and over:
 * either would be read without end.  Pages are compared by a digest of
 * their rows (every value of every row), whatever the resource's items
 * look like, and only a constant number of them is kept per chain: the
 * last RECENT_PAGES pages, which find a cycle of up to that many pages at
 * its first repeated page, and the last page numbered a power of two,
 * which finds any longer cycle: once that page is in the cycle and the
 * cycle is no longer than its number, the page one cycle after it comes
 * before the next power of two.  A cycle of L pages starting at page m is
 * thus found by page 3 * Max(m, L) at the latest.
 *
 * Two pages of a list never have the same rows unless the server repeats
 * itself (items carry their ids), or the list shifted by exactly a page
 * between two requests.
 */
static int
repeated_page(ChainState *cs, int page_num, AtlasPage *page)
{
	uint64		digest = atlas_page_digest(page);
	int			earlier = 0;
	PageDigest *slot;

	for (int i = 0; i < RECENT_PAGES; i++)
	{
		if (cs->recent[i].page > 0 && cs->recent[i].digest == digest)
			earlier = Max(earlier, cs->recent[i].page);
	}
	if (cs->anchor.page > 0 && cs->anchor.digest == digest)
		earlier = Max(earlier, cs->anchor.page);
	if (earlier > 0)
		return earlier;

	slot = &cs->recent[(page_num - 1) % RECENT_PAGES];
	slot->digest = digest;
	slot->page = page_num;
	if ((page_num & (page_num - 1)) == 0)
		cs->anchor = *slot;
	return 0;
}

/*
 * page_ends_chain
 *		Apply the rules for the end of a chain to a page just read, and
 *		record what they say (end_chain_at, or how many pages the chain is
 *		now known to have).  Returns whether the chain ends with it; sets
 *		*drop if its rows are not to be read.
 *
 * page is NULL for a 404 that means "nothing there" (absent_answer): the
 * chain ends.  Otherwise a chain ends with its one page (a GET by id, a
 * list that does not page), with a page shorter than asked for, and, where
 * the list does not declare paging, with a page that repeats an earlier
 * one (repeated_page; dropped: its rows were read already); where paging
 * is declared a repeated page is an ERROR, and so is an empty first page
 * of a retired resource's own list (ATLAS_READ_TABLE: past their sunset,
 * deprecated lists answer with nothing; an inventory list read for
 * enumeration may just be empty).  A full page tells that the chain goes on, for as many
 * pages as its first page's totalCount says.
 */
static bool
page_ends_chain(AtlasFetcher *f, ChainState *cs, int page_num,
				AtlasPage *page, AtlasReadFor purpose, bool *drop)
{
	const AtlasResource *res = f->res;
	bool		by_id = by_id_chain(f, cs);
	bool		ends;
	int			nrows;
	int			earlier;

	*drop = false;
	if (page == NULL)
	{
		end_chain_at(cs, page_num);
		return true;
	}
	nrows = atlas_page_nrows(page);
	ends = single_page_chain(f, cs) || nrows < f->page_size;

	if (purpose == ATLAS_READ_TABLE && res->replacement && !by_id &&
		nrows == 0 && page_num == 1)
		atlas_report_retired(res, "The list is empty, as Atlas lists of this kind are after their sunset date.");
	if (nrows > 0 && !single_page_chain(f, cs) &&
		(earlier = repeated_page(cs, page_num, page)) > 0)
	{
		if (res->paging != ATLAS_PAGING_UNDECLARED)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("Atlas returned the same page twice"),
					 errdetail("Page %d has the same items as page %d.",
							   page_num, earlier)));
		*drop = true;
		ends = true;
	}

	if (ends)
		end_chain_at(cs, page_num);
	else
	{
		int64		total = atlas_page_total(page);
		int			known = page_num + 1;

		if (page_num == 1 && total >= 0)
			known = Max(known, pages_for_total(f, total));
		cs->known_pages = Max(cs->known_pages, known);
	}
	return ends;
}

/*
 * finish_chain
 *		The reader has finished a chain: drop anything left of it, and its
 *		state.
 */
static void
finish_chain(AtlasFetcher *f, ChainState *cs)
{
	/* the scan waits for nothing now (set while wait_for_readable_page runs) */
	f->needed = NULL;
	discard_chain_after(f, cs->chain, 0);
	free_chain(f, cs);
}

/*
 * atlas_fetcher_read_page
 *		Hand the reader the next page of some unfinished chain: the lowest
 *		one, or, when pages are fetched ahead, whichever has its next page
 *		first.  Returns false, doing nothing, when every chain is done.
 *
 * page_cxt is the reader's: it is reset (freeing the previous page) before
 * the next page is read, and the page's tree and row arrays live there
 * until it is next reset or deleted; what reading allocates besides lands
 * there too.  rd->page may be NULL (nothing to read in it) or hold no
 * rows: the reader just asks again.  Every error of the page (transfer,
 * HTTP status, JSON, shape, a retired list, a repeated page) is raised
 * here, through report.c, with the error context naming the request; on
 * ERROR the fetcher's and page_cxt's reset callbacks free what is
 * malloc'd.  Counts the page in the connection's statistics and for
 * EXPLAIN ANALYZE (atlas_fetcher_pages) once it is adopted.
 */
bool
atlas_fetcher_read_page(AtlasFetcher *f, MemoryContext page_cxt,
						AtlasReadFor purpose, AtlasPageRead *rd)
{
	const AtlasResource *res = f->res;
	ErrorContextCallback errcallback;
	MemoryContext oldcxt;
	FetchRequest *req;
	ChainState *cs;
	AtlasPage  *page = NULL;
	int			chain;
	int			page_num;
	bool		by_id;
	bool		drop;

	if (!advance_to_needed_page(f, &chain, &page_num))
		return false;

	CHECK_FOR_INTERRUPTS();
	MemoryContextReset(page_cxt);
	oldcxt = MemoryContextSwitchTo(page_cxt);

	/* names the page waited for, then the one read */
	f->read_keys = must_chain_state(f, chain)->keys;
	f->read_page = page_num;
	errcallback.callback = atlas_fetcher_error_context;
	errcallback.arg = f;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	req = await_page(f, chain, page_num);
	cs = must_chain_state(f, req->chain);
	f->read_keys = cs->keys;
	f->read_page = req->page;
	by_id = by_id_chain(f, cs);

	if (!absent_answer(res, &req->result, by_id))
	{
		atlas_report_page_error(&req->result, atlas_conn_base_url(f->entry), f->opts,
								res, atlas_org_endpoint(res, &cs->keys));
		page = atlas_page_adopt(&req->result.doc,
								by_id || res->rows_path != NULL, page_cxt);
		if (res->rows_path && !by_id)
			atlas_page_select_rows(page, res->rows_path, res->row_marker,
								   page_cxt);
		f->pages++;
		atlas_conn_stats(f->entry)->pages++;
	}

	rd->keys = cs->keys;
	rd->page_num = req->page;
	rd->chain_ended = page_ends_chain(f, cs, req->page, page, purpose,
									  &drop);
	rd->page = drop ? NULL : page;

	drop_beyond_end(f, cs->chain);
	discard_request(f, req);
	if (rd->chain_ended)
		finish_chain(f, cs);

	error_context_stack = errcallback.previous;
	MemoryContextSwitchTo(oldcxt);
	return true;
}

/*
 * atlas_fetcher_pump
 *		Move running transfers along without waiting: read what has
 *		arrived, send what may go.  The scan calls it while it converts
 *		rows, so that responses keep flowing (a sender blocks once the
 *		socket buffer is full) and the requests they make room for go out.
 */
void
atlas_fetcher_pump(AtlasFetcher *f)
{
	ListCell   *lc;

	foreach(lc, f->requests)
	{
		if (((FetchRequest *) lfirst(lc))->state == REQ_RUNNING)
		{
			atlas_loop_wait(0);
			schedule(f, NULL);
			return;
		}
	}
}

/*
 * atlas_fetcher_poll
 *		Whether atlas_fetcher_read_page would return without waiting (a page
 *		is ready, or every chain is done), after starting what may start
 *		and letting the loop act on what is ready now; never waits.
 *
 * The asynchronous scan (an Append's subplan) asks this before it reads,
 * and has the Append wait for the loop's descriptor (loop.c) while the
 * answer is no; *wake_ms is then when the fetcher has something of its own
 * to do (a retry, the end of a 429 pause, a token request's retry; -1:
 * nothing timed), for the loop's timer.  Interrupts are the Append's: it
 * waits on the latch and checks for them.  An ERROR of a token request is
 * raised here, as in atlas_fetcher_read_page.
 */
bool
atlas_fetcher_poll(AtlasFetcher *f, long *wake_ms)
{
	FetchRequest *needed;
	bool		ready;
	int			chain;
	int			page;

	*wake_ms = -1;
	if (!advance_to_needed_page(f, &chain, &page))
		return true;
	needed = find_request(f, chain, page);
	if (needed == NULL)
		needed = new_request(f, chain, page);
	f->needed = needed;
	disarm(f);
	for (int turn = 0; turn < 2; turn++)
	{
		schedule(f, needed);
		if (!dlist_is_empty(&armed_fetchers))
			send_armed();
		ready = next_ready_request(f, needed) != NULL;
		if (ready || turn == 1)
			break;
		atlas_loop_wait(0);
	}
	if (!ready)
		*wake_ms = wake_timeout_ms(f, GetCurrentTimestamp());
	f->needed = NULL;
	return ready;
}

/*
 * atlas_fetcher_continue
 *		Have fetcher "to" go on from where fetcher "from" is: what "from"
 *		learned of Atlas's rate limit (its pacing: the adaptive limit, the
 *		bucket's RateLimit-Remaining and the requests started since, the
 *		pause after a 429) and its counts for EXPLAIN ANALYZE (requests,
 *		pages, rate limits, cuts, waits, peak in flight).
 *
 * A scan that enumerates reads with up to three fetchers, one after the
 * other (GET /groups, the cluster lists, the snapshots; enumerate.c), and
 * each goes on from the one before: a bucket the inventory emptied is not
 * met by max_concurrency requests at once in the snapshot phase, and the
 * scan's counts (its own fetcher's) include the inventory.  "to" keeps
 * its own max_concurrency.  Call it while "from" has nothing left to
 * read (its answers, if any still come, are no longer counted) and
 * before "to" starts anything.  Never throws.
 */
void
atlas_fetcher_continue(AtlasFetcher *to, const AtlasFetcher *from)
{
	int			max = to->pace.max;

	to->pace = from->pace;
	to->pace.max = max;
	to->pace.limit = Max(1, Min(to->pace.limit, max));
	to->pause_until = Max(to->pause_until, from->pause_until);
	to->requests_made = from->requests_made;
	to->pages = from->pages;
}

/*
 * atlas_fetcher_requests
 *		HTTP requests started so far, for EXPLAIN ANALYZE.
 */
int64
atlas_fetcher_requests(AtlasFetcher *f)
{
	return f->requests_made;
}

/*
 * atlas_fetcher_pages
 *		Pages handed to the reader so far, for EXPLAIN ANALYZE.
 */
int64
atlas_fetcher_pages(AtlasFetcher *f)
{
	return f->pages;
}

/*
 * atlas_fetcher_pace
 *		The scan's pacing state (rate limits, waits, peak in flight), for
 *		EXPLAIN ANALYZE.
 */
const AtlasPace *
atlas_fetcher_pace(AtlasFetcher *f)
{
	return &f->pace;
}

/*
 * atlas_fetcher_set_filters
 *		Send these filter parameters with every request of the chains the
 *		fetcher is started on next (NULL: none).  The scan owns them and
 *		keeps them until it starts the fetcher again.
 */
void
atlas_fetcher_set_filters(AtlasFetcher *f, const AtlasFilterQuery *filters)
{
	f->filters = filters;
}
