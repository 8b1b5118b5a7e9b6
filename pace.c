/*-------------------------------------------------------------------------
 *
 * pace.c
 *		  Adaptive concurrency of a scan: how many transfers may be in flight
 *
 * Atlas rate-limits its Admin API with token buckets: an empty bucket
 * answers 429 with Retry-After in whole seconds, and answers may carry
 * RateLimit-Limit and RateLimit-Remaining.  A scan starts fast, with up to
 * max_concurrency transfers in flight, and adapts (AIMD, as TCP does):
 *	- a 429 or 503 halves the limit (multiplicative decrease), once per
 *	  round trip: answers to requests started before the cut do not cut
 *	  again, since they say nothing about the new limit;
 *	- every PACE_GROWTH_WINDOWS windows' worth of clean answers (as many
 *	  as the limit each) raise it by one (additive increase), never above
 *	  max_concurrency;
 *	- when answers carry RateLimit-Remaining, a request starts only while
 *	  the requests started since the newest such answer's request are fewer
 *	  than the tokens it said remain: the scan spends the bucket, never
 *	  more, and lets it refill at its own rate.
 * One transfer may always be in flight, so a scan always makes progress
 * (an empty bucket's Remaining of 0 is probed, one request at a time).
 *
 * The state is a plain struct inside the fetcher (fetch.c), in the scan's
 * memory; these functions do no allocation and never throw, so that they
 * may run while a completion is handed over (fetch.c's complete_request).
 * A scan that reads with several fetchers in turn (an enumeration's
 * inventory, then the snapshots) hands the struct on from one to the next
 * (atlas_fetcher_continue): what it learned of the rate limit, sequence
 * numbers included, holds for its next requests whichever fetcher sends
 * them.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  pace.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "atlas_snapshot_fdw.h"

/*
 * Clean windows (answers as many as the limit, about a round trip each) per
 * step of growth.  Atlas's buckets refill over seconds, a round trip takes
 * tens of milliseconds: growing by one every round trip would be back at a
 * rate the bucket cannot sustain long before the bucket shows it, and every
 * transfer in flight when it runs dry is answered 429.
 */
#define PACE_GROWTH_WINDOWS 4

/*
 * atlas_pace_init
 *		Start a scan's pacing: the limit at max_concurrency (start fast),
 *		nothing known of the bucket.
 */
void
atlas_pace_init(AtlasPace *p, int max_concurrency)
{
	memset(p, 0, sizeof(AtlasPace));
	p->max = Max(1, max_concurrency);
	p->limit = p->max;
}

/*
 * atlas_pace_may_start
 *		Whether one more transfer may start, with "running" in flight.
 *
 * With RateLimit-Remaining known, the newest answer's figure bounds both
 * the transfers started since that request and all those in flight: when
 * answers come back out of order, an older request still in flight may or
 * may not have been counted by the bucket, and it is assumed it was not.
 */
bool
atlas_pace_may_start(const AtlasPace *p, int running)
{
	if (running <= 0)
		return true;			/* always one: progress */
	if (running >= p->limit)
		return false;
	if (p->have_remaining &&
		((int64) (p->started - p->remaining_seq) >= p->remaining ||
		 running >= p->remaining))
		return false;			/* the bucket has no token for it */
	return true;
}

/*
 * atlas_pace_started
 *		Count a transfer that started, with "running" now in flight; returns
 *		its sequence number, to give back with its answer.
 */
uint64
atlas_pace_started(AtlasPace *p, int running)
{
	p->peak = Max(p->peak, running);
	p->in_flight_sum += running;
	return ++p->started;
}

/*
 * atlas_pace_answer
 *		Learn from the answer (HTTP status) to the request numbered seq:
 *		cut on a 429 or 503, grow on a clean answer; remember the bucket's
 *		RateLimit-Remaining (-1: not sent), capped by RateLimit-Limit (-1:
 *		not sent).  Returns true if it cut the limit (a limit of 1 is
 *		never cut).
 */
bool
atlas_pace_answer(AtlasPace *p, uint64 seq, long status,
				  long remaining, long limit)
{
	bool		cut = false;

	/* the newest answer tells how full the bucket is, or that it is unknown */
	if (seq >= p->remaining_seq)
	{
		p->remaining_seq = seq;
		p->have_remaining = remaining >= 0;
		p->remaining = remaining;
		if (limit >= 0 && p->remaining > limit)
			p->remaining = limit;
	}

	if (status == 429 || status == 503)
	{
		p->rate_limited++;
		if (seq > p->cut_seq)
		{
			/* a new round trip: cut (at 1 already, only start it anew) */
			cut = p->limit > 1;
			p->limit = Max(1, p->limit / 2);
			p->cut_seq = p->started;
			p->clean = 0;
			if (cut)
				p->cuts++;
		}
	}
	else if (status >= 200 && status < 500)
	{
		if (++p->clean >= p->limit * PACE_GROWTH_WINDOWS)
		{
			p->clean = 0;
			if (p->limit < p->max)
				p->limit++;
		}
	}
	return cut;
}
