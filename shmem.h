/*-------------------------------------------------------------------------
 *
 * shmem.h
 *		  The instance-wide shared state of atlas_snapshot_fdw (shmem.c)
 *
 * One segment for the whole PostgreSQL instance, made of sections: the
 * shared OAuth tokens (oauth.c) and whatever else the backends of one
 * instance must share.  atlas_shmem_state() returns it, or NULL when there
 * is none (PostgreSQL 15 and 16 without the library in
 * shared_preload_libraries): every user of a section has a backend-local
 * way to work without it.
 *
 * Rules for every section:
 *	- its entries are fixed-size arrays (no pointers: the segment is mapped
 *	  at different addresses in different backends on the DSM-registry
 *	  path); when an array is full, the caller falls back to what a backend
 *	  does alone;
 *	- it is read and written under its own LWLock (atlas_shmem_lock), never
 *	  held across a wait, a network call, a palloc that can fail or an
 *	  ereport; a spinlock (if a section has one) guards a few loads and
 *	  stores only;
 *	- no secret is stored: a key holds a SHA-256 of the account's identity
 *	  (and of its secret, where a key must tell apart two mappings of the
 *	  same account with different secrets: atlas_shmem_make_key).
 *
 * To add a section: a struct here, a member of AtlasShmemState, its
 * initialization in atlas_shmem_init_state (shmem.c; runs once, when the
 * segment is made, in whichever process makes it), and if it needs a lock
 * of its own, a member of AtlasShmemLockId before ATLAS_SHMEM_NUM_LOCKS.
 * The segment's size is sizeof(AtlasShmemState) on both paths.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  shmem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ATLAS_SHMEM_H
#define ATLAS_SHMEM_H

#include "atlas_snapshot_fdw.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

/* The name of the segment and of its LWLock tranche */
#define ATLAS_SHMEM_NAME		"atlas_snapshot_fdw"

/* Bytes of the SHA-256 digests in keys */
#define ATLAS_SHMEM_HASH_LEN	32

/* Shared tokens: entries, and the longest token kept (longer: not shared) */
#define ATLAS_SHMEM_TOKENS		64
#define ATLAS_SHMEM_TOKEN_MAX	4096

/* Rate-limit budgets (budget.c) and statistics rows (stats.c) */
#define ATLAS_SHMEM_BUDGETS		128
#define ATLAS_SHMEM_STATS		256

/* The LWLocks of the segment, one per section */
typedef enum AtlasShmemLockId
{
	ATLAS_LOCK_TOKENS,			/* AtlasShmemState.tokens */
	ATLAS_LOCK_BUDGET,			/* AtlasShmemState.budgets */
	ATLAS_LOCK_STATS,			/* AtlasShmemState.stats, stats_reset */
	ATLAS_SHMEM_NUM_LOCKS		/* must be last */
} AtlasShmemLockId;

/*
 * What a shared entry belongs to: the database and foreign server (server
 * OIDs are per database, the segment is per instance), and a digest of
 * the account (atlas_shmem_make_key).  All zero: unused.
 */
typedef struct AtlasShmemKey
{
	Oid			dbid;			/* MyDatabaseId of the server's database */
	Oid			serverid;		/* the foreign server */
	uint8		account[ATLAS_SHMEM_HASH_LEN];	/* SHA-256, see make_key */
} AtlasShmemKey;

/*
 * One shared OAuth token (oauth.c), under ATLAS_LOCK_TOKENS.
 *
 * generation is bumped whenever the token is replaced or dropped, so a
 * backend can tell whether the token Atlas rejected is still the current
 * one.  fetcher_pid marks a token request in progress ("the fetch mark"),
 * taken by one backend at a time; it is void once fetch_deadline passes or
 * the process is gone, and is cleared by its backend when the request
 * ends, fails, is aborted, or the backend exits.
 */
typedef struct AtlasSharedToken
{
	AtlasShmemKey key;			/* whose; all zero if unused */
	bool		in_use;			/* key is set */
	bool		not_shared;		/* the token is too long for "token": each
								 * backend fetches its own */
	uint64		generation;		/* bumped on every change of the token */
	TimestampTz refresh_at;		/* when to fetch a new one (0: none) */
	TimestampTz last_used;		/* for replacing the least recently used */
	int			fetcher_pid;	/* fetch mark: its backend, or 0 */
	TimestampTz fetch_started;	/* when the mark was taken */
	TimestampTz fetch_deadline; /* the mark is void after this */
	uint64		requests;		/* token requests made for it */
	ConditionVariable cv;		/* broadcast when the mark is cleared */
	char		token[ATLAS_SHMEM_TOKEN_MAX];	/* NUL-terminated; zeroed
												 * when replaced or dropped */
} AtlasSharedToken;

/* How much a shared rate-limit budget knows of its Atlas bucket */
typedef enum AtlasBudgetState
{
	ATLAS_BUDGET_NEW,			/* no answer yet: one request at a time */
	ATLAS_BUDGET_LEVEL,			/* answers tell RateLimit-Remaining */
	ATLAS_BUDGET_BLIND			/* answers carry no RateLimit-Remaining:
								 * only a 429's pause is shared */
} AtlasBudgetState;

/*
 * One Atlas rate-limit bucket as the backends of the instance see it
 * (budget.c), under ATLAS_LOCK_BUDGET.  Its level is the RateLimit-
 * Remaining of the newest answer, plus what the bucket refilled since at
 * the learnt rate (at most its capacity), less the requests that were in
 * flight then and those started since.
 */
typedef struct AtlasSharedBudget
{
	bool		in_use;
	uint8		key[ATLAS_SHMEM_HASH_LEN];	/* budget.c's digest of
											 * base_url, account, scope */
	AtlasBudgetState state;
	TimestampTz last_used;		/* for replacing the least recently used */
	TimestampTz not_before;		/* after a 429: nobody starts before this */
	uint64		started;		/* requests started: sequence numbers */
	int			in_flight;		/* started, not answered (may be high by
								 * the transfers of a backend that died) */
	TimestampTz last_start;		/* when the newest request started */
	int64		sync_remaining; /* RateLimit-Remaining of the newest answer */
	int			sync_in_flight; /* requests in flight when it came */
	uint64		sync_started;	/* "started" when it came */
	TimestampTz sync_at;		/* when it came */
	uint64		answered;		/* answers that took a token (not 429) */
	int64		capacity;		/* RateLimit-Limit, 0 if never sent */
	double		refill_per_sec; /* learnt refill rate, 0 if unknown */
	uint64		est_answered;	/* the refill estimate's last anchor: */
	int64		est_remaining;	/* answers, Remaining and time */
	TimestampTz est_at;
	int64		rate_limited;	/* answers 429 */
	int64		waits;			/* times a backend was held back */
} AtlasSharedBudget;

/*
 * The statistics of one user mapping for the instance (stats.c), under
 * ATLAS_LOCK_STATS: what every backend's scans added when they flushed
 * (end of transaction, atlas_snapshot_fdw_stats(), backend exit).
 */
typedef struct AtlasSharedStats
{
	bool		in_use;
	Oid			dbid;			/* database of the user mapping */
	Oid			umid;			/* the user mapping */
	Oid			serverid;		/* its server */
	int			auth;			/* AtlasAuthKind */
	TimestampTz last_flush;		/* for replacing the least recently used */
	AtlasStats	stats;			/* sums (peak_in_flight: the highest) */
} AtlasSharedStats;

/* The segment */
typedef struct AtlasShmemState
{
	int			tranche_id;		/* of dsm_locks (DSM-registry path) */
	LWLock		dsm_locks[ATLAS_SHMEM_NUM_LOCKS];	/* DSM-registry path only */
	AtlasSharedToken tokens[ATLAS_SHMEM_TOKENS];
	AtlasSharedBudget budgets[ATLAS_SHMEM_BUDGETS];
	TimestampTz stats_reset;	/* last atlas_snapshot_fdw_stats_reset(), or
								 * when the segment was made */
	uint64		stats_generation;	/* bumped by every reset */
	AtlasSharedStats stats[ATLAS_SHMEM_STATS];
} AtlasShmemState;

/* in shmem.c */
extern void atlas_shmem_init(void);
extern AtlasShmemState *atlas_shmem_state(void);
extern LWLock *atlas_shmem_lock(AtlasShmemLockId id);
extern const char *atlas_shmem_mode(void);
extern void atlas_shmem_make_key(AtlasShmemKey *key, Oid serverid,
								 const char *base_url, const char *identity,
								 const char *secret);
extern bool atlas_shmem_key_equal(const AtlasShmemKey *a,
								  const AtlasShmemKey *b);
extern bool atlas_shmem_pid_alive(int pid);
extern uint32 atlas_wait_event_transfer(void);
extern uint32 atlas_wait_event_rate_limit(void);
extern uint32 atlas_wait_event_token(void);

#endif							/* ATLAS_SHMEM_H */
