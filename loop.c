/*-------------------------------------------------------------------------
 *
 * loop.c
 *		  The one event loop: every HTTP transfer of the backend
 *
 * Owns the backend-wide libcurl multi handle.  libcurl tells us, through
 * CURLMOPT_SOCKETFUNCTION, which sockets it wants watched and for what
 * (kept in a malloc'd table), and through CURLMOPT_TIMERFUNCTION when it
 * next needs to act on its own (a connect timeout, a Digest round trip, a
 * new transfer to start).  atlas_loop_wait() waits for the first of: one
 * of those sockets, libcurl's timer, the caller's own timer (a retry, a
 * 429 pause), the first transfer's timeout (below), the process latch (a
 * signal: query cancel,
 * statement_timeout, termination) and postmaster death (then the backend
 * exits at once, WL_EXIT_ON_PM_DEATH); then hands what happened to
 * curl_multi_socket_action and each finished transfer to its slot's owner
 * (atlas_slot_finished, connection.c).  There is no polling tick.
 *
 * The wait set is built anew for every wait, in a memory context reset
 * after it: the sockets libcurl watches change with almost every transfer
 * (a connection is watched for writing, then reading, then not at all),
 * and a WaitEventSet cannot drop a socket.  Building it costs an
 * epoll_create1 and one epoll_ctl per socket (a few microseconds, once per
 * wait: a page has a handful of waits), and works wherever PostgreSQL's
 * WaitEventSet does.  A long-lived set around an epoll descriptor of our
 * own would save that, but only on Linux.
 *
 * Timeouts: every transfer has a clock of its own that runs only while
 * the backend is inside atlas_loop_wait, and timeout_ms (connect_timeout_ms
 * until a connection is up) bounds that clock, not the wall time since the
 * transfer began.  Transfers move only while some scan waits here: the
 * pages a cursor fetched ahead, the first requests armed by other scans,
 * the second leg of a Digest exchange, a token request, all sit answered
 * and unread while the executor is elsewhere (a cursor left idle, a slow
 * consumer, a slow plan step between two scans).  libcurl's own
 * CURLOPT_TIMEOUT_MS counts wall time and is checked before libcurl reads
 * what is already in the socket, so it failed such transfers as timeouts
 * although Atlas had answered in milliseconds; timing the wait alone makes
 * timeout_ms bound how long Atlas takes to answer, never how long the
 * executor takes to come back, and a server that stalls while the backend
 * waits is still an error within timeout_ms of waiting.  The clocks are
 * charged after each wait (loop_charge); a transfer past its bound is
 * taken off the loop and completed to its owner as CURLE_OPERATION_TIMEDOUT
 * (atlas_slot_time_out), so the error is the one libcurl's timeout gave;
 * and every wait ends by the earliest bound (loop_deadline_ms).  Re-sending
 * a request whose answer went unread instead would spend a request of the
 * rate limit for an answer already there; pausing transfers nobody waits
 * for would stall the reading of their answers in the same way.
 *
 * libcurl keeps CURLOPT_CONNECTTIMEOUT_MS (wall time), because it also
 * paces the connect attempts over a host's addresses (half the time to one
 * address when more follow); with CURLOPT_TIMEOUT_MS unset (0), a connect
 * timeout is the only timeout libcurl can report.  When it does, and the
 * transfer's clock is still under connect_timeout_ms, part of that time
 * was spent elsewhere: the transfer starts over on a new connection
 * (restart_transfer).  No request reached Atlas over a connection that was
 * never made, so nothing is repeated, and a restart costs at least
 * connect_timeout_ms of wall time, so they are few; the clock goes on
 * from where it was, so the whole connect still gets connect_timeout_ms of
 * waiting at most.
 *
 * pg_stat_activity shows a wait here as AtlasTransfer (PostgreSQL 17 and
 * later; "Extension" before), or as what the caller named for it
 * (atlas_loop_set_wait_event: AtlasRateLimit, AtlasToken).
 *
 * The loop does not look at interrupts: the caller, woken by the latch,
 * detaches what it owns and calls CHECK_FOR_INTERRUPTS.  libcurl's
 * callbacks here allocate only with malloc and never throw.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  loop.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "connection_int.h"
#include "miscadmin.h"
#include "shmem.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

/* Sockets the table has room for from the start (it grows if need be) */
#define INITIAL_SOCKETS		(2 * ATLAS_MAX_CONCURRENCY)

/* Wait events besides the sockets: the latch, postmaster death */
#define FIXED_EVENTS		2

/* A socket libcurl wants watched, and for what (CURL_POLL_IN/OUT/INOUT) */
typedef struct LoopSocket
{
	curl_socket_t fd;
	int			what;
} LoopSocket;

static CURLM *loop_multi = NULL;	/* every transfer of the backend */
static int	loop_transfers = 0;	/* easy handles on it */
static LoopSocket *loop_sockets = NULL; /* malloc'd table */
static int	loop_nsockets = 0;
static int	loop_maxsockets = 0;
static bool loop_timer_set = false; /* libcurl asked to be called back */
static TimestampTz loop_timer_at = 0;	/* at this time */
static MemoryContext loop_cxt = NULL;	/* one wait's set and events */
static uint32 loop_wait_event = 0;	/* of the next wait; 0: AtlasTransfer */
/* the slots whose transfers are on the multi handle (AtlasSlot.loop_node) */
static dlist_head loop_slots = DLIST_STATIC_INIT(loop_slots);

/*
 * socket_callback
 *		CURLMOPT_SOCKETFUNCTION: remember what libcurl wants of a socket.
 *
 * Never throws, allocates with malloc only.  Returns -1 if the table
 * cannot grow (libcurl then fails the transfer).
 */
static int
socket_callback(CURL *easy, curl_socket_t fd, int what, void *userp,
				void *socketp)
{
	int			i;

	for (i = 0; i < loop_nsockets; i++)
	{
		if (loop_sockets[i].fd == fd)
			break;
	}
	if (what == CURL_POLL_REMOVE)
	{
		if (i < loop_nsockets)
			loop_sockets[i] = loop_sockets[--loop_nsockets];
		return 0;
	}
	if (i == loop_nsockets)
	{
		if (loop_nsockets == loop_maxsockets)
		{
			int			newmax = loop_maxsockets * 2;
			LoopSocket *grown;

			if (newmax > INT_MAX / (int) sizeof(LoopSocket))
				return -1;
			grown = realloc(loop_sockets, newmax * sizeof(LoopSocket));
			if (grown == NULL)
				return -1;
			loop_sockets = grown;
			loop_maxsockets = newmax;
		}
		loop_sockets[loop_nsockets].fd = fd;
		loop_nsockets++;
	}
	loop_sockets[i].what = what;
	return 0;
}

/*
 * timer_callback
 *		CURLMOPT_TIMERFUNCTION: remember when libcurl wants to act (-1:
 *		never).  Never throws (GetCurrentTimestamp only reads the clock).
 */
static int
timer_callback(CURLM *multi, long timeout_ms, void *userp)
{
	loop_timer_set = timeout_ms >= 0;
	if (loop_timer_set)
		loop_timer_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													timeout_ms);
	return 0;
}

/*
 * loop_init
 *		Make the multi handle and the socket table, once per backend.
 *
 * On ERROR nothing is left half made.
 */
static void
loop_init(void)
{
	CURLM	   *multi;

	if (loop_multi != NULL)
		return;
	if (loop_cxt == NULL)
		loop_cxt = AllocSetContextCreate(TopMemoryContext,
										 "atlas_snapshot_fdw event loop",
										 ALLOCSET_SMALL_SIZES);
	if (loop_sockets == NULL)
	{
		loop_sockets = malloc(INITIAL_SOCKETS * sizeof(LoopSocket));
		if (loop_sockets == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		loop_maxsockets = INITIAL_SOCKETS;
	}
	multi = curl_multi_init();
	if (multi == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a libcurl multi handle.")));
	if (curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_callback) != CURLM_OK ||
		curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_callback) != CURLM_OK)
	{
		curl_multi_cleanup(multi);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not configure libcurl multi handle")));
	}
	loop_multi = multi;
}

/*
 * atlas_loop_add
 *		Put a prepared slot's easy handle on the multi handle, its clock at
 *		zero.  False if libcurl refuses it; an ERROR only if the loop cannot
 *		be made.
 */
bool
atlas_loop_add(AtlasSlot *slot)
{
	Assert(!slot->in_loop);
	loop_init();
	if (curl_multi_add_handle(loop_multi, slot->curl) != CURLM_OK)
		return false;
	slot->in_loop = true;
	slot->connected = false;
	slot->waited_us = 0;
	dlist_push_tail(&loop_slots, &slot->loop_node);
	loop_transfers++;
	return true;
}

/*
 * atlas_loop_remove
 *		Take a slot's easy handle off the multi handle, aborting its
 *		transfer if it is still running; nothing if it is not on it.  Never
 *		throws.
 */
void
atlas_loop_remove(AtlasSlot *slot)
{
	if (!slot->in_loop)
		return;
	(void) curl_multi_remove_handle(loop_multi, slot->curl);
	dlist_delete(&slot->loop_node);
	slot->in_loop = false;
	loop_transfers--;
}

/*
 * bound_us
 *		How long a transfer may be waited for, in microseconds: timeout_ms,
 *		and no more than connect_timeout_ms while it has no connection.
 */
static int64
bound_us(const AtlasSlot *slot)
{
	int			ms = slot->timeout_ms;

	if (!slot->connected)
		ms = Min(ms, slot->connect_timeout_ms);
	return (int64) ms * 1000;
}

/*
 * loop_deadline_ms
 *		Milliseconds of waiting until the first transfer reaches its bound
 *		(rounded up: a wait that ends early would only wait again), 0 if one
 *		has, -1 if no transfer is on the loop.
 */
static long
loop_deadline_ms(void)
{
	dlist_iter	iter;
	int64		least = -1;

	dlist_foreach(iter, &loop_slots)
	{
		AtlasSlot  *slot = dlist_container(AtlasSlot, loop_node, iter.cur);
		int64		left = Max(bound_us(slot) - slot->waited_us, 0);

		if (least < 0 || left < least)
			least = left;
	}
	if (least < 0)
		return -1;
	return (long) ((least + 999) / 1000);
}

/*
 * loop_charge
 *		Add the time since "started" (when the wait began) to the clock of
 *		every transfer on the loop.  Never throws.
 */
static void
loop_charge(TimestampTz started)
{
	TimestampTz now = GetCurrentTimestamp();
	int64		spent = now > started ? (int64) (now - started) : 0;
	dlist_iter	iter;

	dlist_foreach(iter, &loop_slots)
	{
		AtlasSlot  *slot = dlist_container(AtlasSlot, loop_node, iter.cur);

		slot->waited_us += spent;
	}
}

/*
 * restart_transfer
 *		Start a slot's transfer over (its connect timed out in libcurl
 *		while its clock says the backend was elsewhere for part of that
 *		time: see the header comment), keeping its clock.  False if libcurl
 *		refuses; then the slot is off the loop and its owner is to be told
 *		of the timeout.  Never throws.
 */
static bool
restart_transfer(AtlasSlot *slot)
{
	if (curl_multi_remove_handle(loop_multi, slot->curl) != CURLM_OK)
		return false;
	atlas_slot_rewind(slot);
	slot->connected = false;
	if (curl_multi_add_handle(loop_multi, slot->curl) != CURLM_OK)
	{
		dlist_delete(&slot->loop_node);
		slot->in_loop = false;
		loop_transfers--;
		return false;
	}
	return true;
}

/*
 * dispatch_completions
 *		Hand every finished transfer to its slot, and so to its owner, or
 *		start it over if libcurl's wall-clock connect timeout ended it
 *		before connect_timeout_ms of waiting.  Never throws: owners only
 *		record the outcome.
 */
static void
dispatch_completions(void)
{
	CURLMsg    *msg;
	int			queued;

	while ((msg = curl_multi_info_read(loop_multi, &queued)) != NULL)
	{
		/* msg does not survive curl_multi_remove_handle: copy it */
		CURL	   *curl = msg->easy_handle;
		CURLcode	rc = msg->data.result;
		AtlasSlot  *slot = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(curl, CURLINFO_PRIVATE, (char **) &slot);
		if (rc == CURLE_OPERATION_TIMEDOUT && slot != NULL && slot->in_loop &&
			slot->waited_us < (int64) slot->connect_timeout_ms * 1000 &&
			restart_transfer(slot))
			continue;
		atlas_slot_finished(curl, rc);
	}
}

/*
 * expire_overdue
 *		Time out every transfer whose clock has reached its bound: taken off
 *		the loop, its owner told CURLE_OPERATION_TIMEDOUT.  Never throws.
 */
static void
expire_overdue(void)
{
	for (;;)
	{
		AtlasSlot  *late = NULL;
		dlist_iter	iter;

		dlist_foreach(iter, &loop_slots)
		{
			AtlasSlot  *slot = dlist_container(AtlasSlot, loop_node, iter.cur);

			if (slot->waited_us >= bound_us(slot))
			{
				late = slot;
				break;
			}
		}
		if (late == NULL)
			break;
		/* takes it off the list: the loop ends */
		atlas_slot_time_out(late);
	}
}

/*
 * curl_timeout_ms
 *		Milliseconds until libcurl's timer is due (0 if it is), -1 if none.
 */
static long
curl_timeout_ms(void)
{
	if (!loop_timer_set)
		return -1;
	return Max(TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
											   loop_timer_at), 0);
}

/*
 * wait_for_events
 *		Wait on the latch, postmaster death and the sockets "watched" (for
 *		what libcurl wants of them) for at most wait_ms (-1: no limit),
 *		as wait event wait_event; returns the number of events stored in
 *		"events".
 *
 * The set is made in loop_cxt and freed before returning, on ERROR too.
 * Exits the process if the postmaster dies.
 */
static int
wait_for_events(const LoopSocket *watched, int nsockets, long wait_ms,
				WaitEvent *events, uint32 wait_event)
{
	WaitEventSet *volatile set = NULL;
	volatile int nready = 0;

	PG_TRY();
	{
		set = atlas_create_wait_event_set(loop_cxt, nsockets + FIXED_EVENTS);
		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		for (int i = 0; i < nsockets; i++)
		{
			uint32		ev = 0;

			if (watched[i].what & CURL_POLL_IN)
				ev |= WL_SOCKET_READABLE;
			if (watched[i].what & CURL_POLL_OUT)
				ev |= WL_SOCKET_WRITEABLE;
			if (ev != 0)
				AddWaitEventToSet(set, ev, watched[i].fd, NULL, NULL);
		}
		nready = WaitEventSetWait(set, wait_ms, events,
								  nsockets + FIXED_EVENTS, wait_event);
	}
	PG_CATCH();
	{
		if (set != NULL)
			FreeWaitEventSet(set);
		PG_RE_THROW();
	}
	PG_END_TRY();
	FreeWaitEventSet(set);
	return nready;
}

/*
 * atlas_loop_set_wait_event
 *		Name the next wait of atlas_loop_wait (a wait event of shmem.c);
 *		the one after it is AtlasTransfer again.  Never throws.
 */
void
atlas_loop_set_wait_event(uint32 wait_event)
{
	loop_wait_event = wait_event;
}

/*
 * atlas_loop_wait
 *		Wait until a socket libcurl watches is ready, libcurl's timer,
 *		timeout_ms (the caller's timer; -1: none) or a transfer's bound is
 *		due, or the latch is set; then let libcurl act, charge the time to
 *		the clock of every transfer on the loop, and tell the owners of
 *		finished and timed-out transfers.  With timeout_ms 0 it only acts
 *		on what is ready now.
 *
 * The caller checks for interrupts afterwards: this only resets the
 * latch.  Exits the process if the postmaster dies.  The wait set and its
 * epoll descriptor are freed on ERROR too; an ERROR here can only come
 * from making the set, before anything was handed to libcurl.
 */
void
atlas_loop_wait(long timeout_ms)
{
	TimestampTz started = GetCurrentTimestamp();
	long		wait_ms = timeout_ms;
	long		curl_ms;
	long		deadline_ms;
	int			nsockets = loop_nsockets;
	LoopSocket *watched;
	WaitEvent  *events;
	int			nready;
	int			running;
	bool		timed_out;
	uint32		wait_event = loop_wait_event;

	loop_wait_event = 0;
	loop_init();
	if (wait_event == 0)
		wait_event = atlas_wait_event_transfer();
	curl_ms = curl_timeout_ms();
	if (curl_ms >= 0 && (wait_ms < 0 || curl_ms < wait_ms))
		wait_ms = curl_ms;
	deadline_ms = loop_deadline_ms();
	if (deadline_ms >= 0 && (wait_ms < 0 || deadline_ms < wait_ms))
		wait_ms = deadline_ms;
	if (wait_ms < 0 && loop_transfers == 0)
		elog(ERROR, "atlas_snapshot_fdw: waiting with no transfer and no timer");

	/* a copy: libcurl changes the table while it acts on the sockets */
	watched = MemoryContextAlloc(loop_cxt, Max(nsockets, 1) * sizeof(LoopSocket));
	memcpy(watched, loop_sockets, nsockets * sizeof(LoopSocket));
	events = MemoryContextAlloc(loop_cxt,
								(nsockets + FIXED_EVENTS) * sizeof(WaitEvent));

	nready = wait_for_events(watched, nsockets, wait_ms, events, wait_event);

	for (int i = 0; i < nready; i++)
	{
		int			mask = 0;

		if (events[i].events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			continue;
		}
		if (events[i].events & WL_SOCKET_READABLE)
			mask |= CURL_CSELECT_IN;
		if (events[i].events & WL_SOCKET_WRITEABLE)
			mask |= CURL_CSELECT_OUT;
		if (mask != 0)
			(void) curl_multi_socket_action(loop_multi, events[i].fd, mask,
											&running);
	}

	/* libcurl's own timer, if due: timeouts, and transfers to begin */
	curl_ms = curl_timeout_ms();
	timed_out = curl_ms == 0;
	if (timed_out)
		(void) curl_multi_socket_action(loop_multi, CURL_SOCKET_TIMEOUT, 0,
										&running);

	MemoryContextReset(loop_cxt);
	loop_charge(started);
	dispatch_completions();
	expire_overdue();
}
