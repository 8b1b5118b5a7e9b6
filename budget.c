/*-------------------------------------------------------------------------
 *
 * budget.c
 *		  The instance's shared rate-limit budgets: one per Atlas bucket the
 *		  backends can tell apart
 *
 * Atlas limits its Admin API with token buckets per endpoint set and scope
 * (organization, project, user, IP address), shared by every client of
 * that scope.  Each scan adapts to what it sees (pace.c), but N backends
 * each spending what the answers to their own requests said remains spend
 * the bucket N times over.  With the extension's shared memory (shmem.c),
 * the backends of the instance draw on one budget per bucket instead:
 *
 *	- a bucket is identified by the server's base_url, the account (client
 *	  id or public key: the USER scope), the endpoint's path template (our
 *	  stand-in for its endpoint set, which no answer names) and the project
 *	  when the path names one (the GROUP scope).  What the path does not
 *	  show (the organization, the caller's address) is not told apart:
 *	  requests of one template to two projects of one organization-scoped
 *	  bucket have budgets of their own, each corrected by the answers'
 *	  RateLimit-Remaining, which count both;
 *	- its level is learnt from RateLimit-Remaining (RateLimit-Limit is its
 *	  capacity): the newest answer's Remaining, plus what the bucket
 *	  refilled since at the refill rate learnt from successive answers
 *	  (Remaining rising faster than the answers between them spent it),
 *	  never above the capacity, less every request that was in flight when
 *	  that answer came (Atlas may not have counted it yet: answers come
 *	  back in any order) and every request started since.  Each answer
 *	  sets the level anew, so what this counts twice lasts one answer.  A
 *	  request starts only while the level has a token for it;
 *	- a 429 sets the bucket's "not before" time from its Retry-After (1 s
 *	  without one), bounded by the max_retry_wait_ms of the scan it
 *	  answered (and by MAX_PAUSE_MS): every backend pauses, not only the
 *	  one that was answered;
 *	- a bucket nothing is known of yet (no answer) lets at most
 *	  NEW_IN_FLIGHT requests out at a time, for the whole instance, so
 *	  that 8 backends starting together learn the level from the first
 *	  answers instead of sending 8 x max_concurrency requests into it (and
 *	  the first requests of one query's scans, armed together, still go
 *	  out together); one whose answers carry no RateLimit-Remaining shares only
 *	  the pauses of 429s (each scan's AIMD does the rest, as without
 *	  shared memory).
 * With nothing in flight anywhere, and no refill rate to wait for, one
 * request may always go (a probe), so that an empty bucket is asked again
 * rather than waited on forever; the same holds PROBE_MS after the last
 * request started, whatever "in flight" says (the transfers of a backend
 * that died, or failed to start, are never answered).
 *
 * Each scan's own pacing (pace.c) stays, below the budget: a request
 * starts when both allow it.  A backend held back waits in the event loop
 * (fetch.c), with the wait event AtlasRateLimit, until the time
 * atlas_budget_take said, a transfer of its own ends, or its latch is set.
 *
 * The table holds ATLAS_SHMEM_BUDGETS buckets.  A new bucket replaces the
 * least recently used one that has nothing in flight; if every bucket has
 * requests in flight, the request goes unbudgeted (as without shared
 * memory).  Without shared memory (PostgreSQL 15 and 16 without the
 * library in shared_preload_libraries) there is no budget: each scan
 * paces itself alone.
 *
 * Locking: ATLAS_LOCK_BUDGET, exclusive, for a few loads and stores per
 * request; never held across a wait, an allocation or an ereport.
 * atlas_budget_take and atlas_budget_answer never throw: the fetcher calls
 * the latter from completion functions.  atlas_budget_key may throw (a
 * digest), and is called when a request chain first starts.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  budget.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "atlas_snapshot_fdw.h"
#include "miscadmin.h"
#include "shmem.h"
#include "utils/timestamp.h"

/* One request may go this long after the last one started, whatever */
#define PROBE_MS			1000

/*
 * Requests in flight at once on a bucket nothing is known of: well below
 * the smallest capacity Atlas's answers show (10, GET /orgs)
 */
#define NEW_IN_FLIGHT		4

/* How often a backend held back without a better time looks again */
#define POLL_MS				20

/* A 429 without Retry-After pauses this long; with it, at most MAX_PAUSE_MS */
#define DEFAULT_PAUSE_MS	1000
#define MAX_PAUSE_MS		60000

/* Answers at least this far apart give a refill estimate */
#define REFILL_SAMPLE_MS	500

/* Spend the learnt refill rate with this margin */
#define REFILL_MARGIN		0.9

/*
 * atlas_budget_enabled
 *		Whether the instance shares rate-limit budgets (its shared memory
 *		is there).  May throw on first use on PostgreSQL 17+ (attaching the
 *		DSM segment): call it when a scan starts.
 */
bool
atlas_budget_enabled(void)
{
	return atlas_shmem_state() != NULL;
}

/*
 * atlas_budget_key
 *		The digest naming the bucket of a request: base_url, account
 *		(identity: client id or public key), path template and project
 *		(group: NULL if the path names none).  May throw.
 */
void
atlas_budget_key(uint8 *digest, const char *base_url, const char *identity,
				 const char *template, const char *group)
{
	AtlasShmemKey key;
	char	   *scope = psprintf("budget %s %s %s", identity ? identity : "",
								 template, group ? group : "");

	atlas_shmem_make_key(&key, InvalidOid, base_url, scope, NULL);
	memcpy(digest, key.account, ATLAS_BUDGET_KEY_LEN);
	pfree(scope);
}

/* The bucket of a key, or NULL; with the lock held */
static AtlasSharedBudget *
find_budget(AtlasShmemState *s, const uint8 *key)
{
	for (int i = 0; i < ATLAS_SHMEM_BUDGETS; i++)
	{
		AtlasSharedBudget *b = &s->budgets[i];

		if (b->in_use && memcmp(b->key, key, ATLAS_BUDGET_KEY_LEN) == 0)
			return b;
	}
	return NULL;
}

/*
 * new_budget
 *		A free entry for key, or the least recently used one with nothing
 *		in flight (or whose last request started over PROBE_MS ago); NULL
 *		if none.  With the lock held.
 */
static AtlasSharedBudget *
new_budget(AtlasShmemState *s, const uint8 *key, TimestampTz now)
{
	AtlasSharedBudget *victim = NULL;

	for (int i = 0; i < ATLAS_SHMEM_BUDGETS; i++)
	{
		AtlasSharedBudget *b = &s->budgets[i];

		if (!b->in_use)
		{
			victim = b;
			break;
		}
		if ((b->in_flight == 0 ||
			 TimestampDifferenceExceeds(b->last_start, now, PROBE_MS)) &&
			b->not_before <= now &&
			(victim == NULL || b->last_used < victim->last_used))
			victim = b;
	}
	if (victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(AtlasSharedBudget));
	victim->in_use = true;
	memcpy(victim->key, key, ATLAS_BUDGET_KEY_LEN);
	victim->state = ATLAS_BUDGET_NEW;
	return victim;
}

/* Seconds from a to b (negative if b is earlier) */
static double
secs_between(TimestampTz a, TimestampTz b)
{
	return (double) (b - a) / USECS_PER_SEC;
}

/*
 * atlas_budget_take
 *		Whether a request of the bucket "key" may start now.  If so, it is
 *		counted as started, and *seq is its sequence number, to give back
 *		with its answer (0: not budgeted, the table being full).  If not,
 *		*wake is when to ask again.  Never throws.
 */
bool
atlas_budget_take(const uint8 *key, uint64 *seq, TimestampTz *wake)
{
	AtlasShmemState *s = atlas_shmem_state();
	TimestampTz now = GetCurrentTimestamp();
	AtlasSharedBudget *b;
	bool		ok;

	*seq = 0;
	*wake = 0;
	if (s == NULL)
		return true;
	LWLockAcquire(atlas_shmem_lock(ATLAS_LOCK_BUDGET), LW_EXCLUSIVE);
	b = find_budget(s, key);
	if (b == NULL)
		b = new_budget(s, key, now);
	if (b == NULL)
	{
		LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_BUDGET));
		return true;			/* table full of busy buckets: unbudgeted */
	}
	b->last_used = now;

	if (now < b->not_before)
	{
		ok = false;
		*wake = b->not_before;
	}
	else
	{
		bool		probe = b->in_flight <= 0 ||
			TimestampDifferenceExceeds(b->last_start, now, PROBE_MS);

		switch (b->state)
		{
			case ATLAS_BUDGET_NEW:
				ok = probe || b->in_flight < NEW_IN_FLIGHT;
				*wake = TimestampTzPlusMilliseconds(now, POLL_MS);
				break;
			case ATLAS_BUDGET_LEVEL:
				{
					double		level = b->sync_remaining +
						REFILL_MARGIN * b->refill_per_sec *
						Max(secs_between(b->sync_at, now), 0);
					double		avail;

					if (b->capacity > 0 && level > b->capacity)
						level = b->capacity;
					avail = level - b->sync_in_flight -
						(double) (b->started - b->sync_started);
					if (avail >= 1.0)
						ok = true;
					else if (b->refill_per_sec > 0)
					{
						/* the time the bucket takes to refill one token */
						double		ms = (1.0 - avail) * 1000.0 /
							(REFILL_MARGIN * b->refill_per_sec);

						ok = false;
						*wake = TimestampTzPlusMilliseconds(now,
															(long) Min(Max(ms, 1.0), (double) PROBE_MS));
						/* the last resort: nothing in flight for long */
						if (TimestampDifferenceExceeds(b->last_start, now, PROBE_MS))
							ok = true;
					}
					else
					{
						ok = probe;
						*wake = TimestampTzPlusMilliseconds(now, POLL_MS);
					}
				}
				break;
			case ATLAS_BUDGET_BLIND:
			default:
				ok = true;
				break;
		}
	}
	if (ok)
	{
		*seq = ++b->started;
		b->in_flight++;
		b->last_start = now;
		*wake = 0;
	}
	else
		b->waits++;
	LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_BUDGET));
	return ok;
}

/*
 * atlas_budget_answer
 *		Learn from the answer to the request numbered seq of bucket "key":
 *		status (0: no answer, the transfer failed or was abandoned; 401:
 *		tells nothing of the bucket), RateLimit-Remaining and -Limit (-1:
 *		not sent) and Retry-After in ms (-1: none), which pauses the bucket
 *		for at most max_pause_ms (the scan's max_retry_wait_ms).  Never
 *		throws.
 */
void
atlas_budget_answer(const uint8 *key, uint64 seq, long status,
					long remaining, long limit, long retry_after_ms,
					long max_pause_ms)
{
	AtlasShmemState *s;
	AtlasSharedBudget *b;
	TimestampTz now;

	if (seq == 0 || (s = atlas_shmem_state()) == NULL)
		return;
	now = GetCurrentTimestamp();
	LWLockAcquire(atlas_shmem_lock(ATLAS_LOCK_BUDGET), LW_EXCLUSIVE);
	b = find_budget(s, key);
	/* a bucket replaced since the request started knows nothing of it */
	if (b == NULL || seq > b->started)
	{
		LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_BUDGET));
		return;
	}
	if (b->in_flight > 0)
		b->in_flight--;
	if (status == 0 || status == 401)
	{
		LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_BUDGET));
		return;
	}
	if (limit > 0)
		b->capacity = limit;
	if (status == 429)
	{
		long		pause = Min(retry_after_ms >= 0 ? retry_after_ms : DEFAULT_PAUSE_MS,
								Min(Max(max_pause_ms, 0), (long) MAX_PAUSE_MS));
		TimestampTz until = TimestampTzPlusMilliseconds(now, pause);

		b->rate_limited++;
		if (until > b->not_before)
			b->not_before = until;
		if (remaining < 0 && b->state != ATLAS_BUDGET_BLIND)
			remaining = 0;		/* an empty bucket answers 429 */
	}
	if (status != 429)
		b->answered++;
	if (remaining >= 0)
	{
		/* the refill rate: what came back beyond what was spent */
		if (b->est_at != 0 &&
			TimestampDifferenceExceeds(b->est_at, now, REFILL_SAMPLE_MS))
		{
			double		rate = ((double) remaining - b->est_remaining +
								(double) (b->answered - b->est_answered)) /
				secs_between(b->est_at, now);

			if (rate > 0)
				b->refill_per_sec = b->refill_per_sec > 0 ?
					0.7 * b->refill_per_sec + 0.3 * rate : rate;
			b->est_at = 0;
		}
		if (b->est_at == 0)
		{
			b->est_at = now;
			b->est_remaining = remaining;
			b->est_answered = b->answered;
		}
		b->sync_remaining = remaining;
		b->sync_in_flight = b->in_flight;
		b->sync_started = b->started;
		b->sync_at = now;
		b->state = ATLAS_BUDGET_LEVEL;
	}
	else if (status >= 200 && status < 300)
		b->state = ATLAS_BUDGET_BLIND;
	LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_BUDGET));
}
