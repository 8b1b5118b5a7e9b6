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

/* The LWLocks of the segment, one per section */
typedef enum AtlasShmemLockId
{
	ATLAS_LOCK_TOKENS,			/* AtlasShmemState.tokens */
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

/* The segment */
typedef struct AtlasShmemState
{
	int			tranche_id;		/* of dsm_locks (DSM-registry path) */
	LWLock		dsm_locks[ATLAS_SHMEM_NUM_LOCKS];	/* DSM-registry path only */
	AtlasSharedToken tokens[ATLAS_SHMEM_TOKENS];
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
