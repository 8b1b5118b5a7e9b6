/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		  The instance-wide shared state: one segment for every backend
 *
 * Where the segment comes from (atlas_shmem_state):
 *	- with the library in shared_preload_libraries (every supported
 *	  version), from the server's main shared memory: _PG_init asks for
 *	  it in shmem_request_hook (RequestAddinShmemSpace, and a named LWLock
 *	  tranche for the sections' locks) and shmem_startup_hook makes it
 *	  once, in the postmaster, as pg_stat_statements does; every backend
 *	  inherits the pointer;
 *	- on PostgreSQL 17 and later without preloading, from the DSM registry:
 *	  the first backend that asks makes a named DSM segment
 *	  (GetNamedDSMSegment, which initializes it under the registry's lock,
 *	  once, with a tranche id of its own for the locks inside), and every
 *	  other backend attaches to it, keeping the mapping for its life;
 *	- on 15 and 16 without preloading there is none: atlas_shmem_state()
 *	  returns NULL and each backend works alone, as before the segment
 *	  existed.
 * The segment lives until the server stops (a crash restart makes it
 * anew); its size is fixed, sizeof(AtlasShmemState) (shmem.h).
 *
 * Also here: the key of shared entries (a digest of the account, never the
 * secret), and the wait events of the extension (named on 17 and later).
 *
 * Nothing here holds a lock on return; what may throw says so.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "atlas_snapshot_fdw.h"
#include "common/cryptohash.h"
#include "miscadmin.h"
#include "shmem.h"
#include "storage/ipc.h"
#include "storage/shmem.h"

/* The previous hooks, called first */
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Whether _PG_init ran in shared_preload_libraries (hooks installed) */
static bool shmem_preloaded = false;

/* This process's view of the segment: NULL until attached, or if none */
static AtlasShmemState *shmem_state = NULL;
static LWLock *shmem_locks[ATLAS_SHMEM_NUM_LOCKS];

/* The wait events, once known (0: not asked for yet) */
static uint32 wait_event_transfer = 0;
static uint32 wait_event_rate_limit = 0;
static uint32 wait_event_token = 0;

static void shmem_request(void);
static void shmem_startup(void);

/*
 * atlas_shmem_init_state
 *		Initialize a new segment: every section empty.  Runs once per
 *		segment, in the process that makes it (the postmaster, or the
 *		first backend on the DSM-registry path); never throws.
 */
static void
atlas_shmem_init_state(AtlasShmemState *state)
{
	memset(state, 0, sizeof(AtlasShmemState));
	for (int i = 0; i < ATLAS_SHMEM_TOKENS; i++)
		ConditionVariableInit(&state->tokens[i].cv);
	state->stats_reset = GetCurrentTimestamp();
}

/*
 * atlas_shmem_init
 *		Called by _PG_init: when the library is being preloaded, ask for
 *		the segment and its locks (shmem_request_hook) and make it at
 *		startup (shmem_startup_hook).  Otherwise nothing: the segment, if
 *		the server has a DSM registry, is made on first use.
 */
void
atlas_shmem_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	shmem_preloaded = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;
}

/*
 * shmem_request
 *		shmem_request_hook: room for the segment and its LWLocks.
 */
static void
shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(AtlasShmemState)));
	RequestNamedLWLockTranche(ATLAS_SHMEM_NAME, ATLAS_SHMEM_NUM_LOCKS);
}

/*
 * shmem_startup
 *		shmem_startup_hook: make (or, after a crash restart's reset, make
 *		anew) the segment in the main shared memory, and point this
 *		process, and so every backend it forks, at it and at its locks.
 */
static void
shmem_startup(void)
{
	AtlasShmemState *state;
	LWLockPadded *locks;
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	state = ShmemInitStruct(ATLAS_SHMEM_NAME, sizeof(AtlasShmemState), &found);
	if (!found)
		atlas_shmem_init_state(state);
	LWLockRelease(AddinShmemInitLock);

	locks = GetNamedLWLockTranche(ATLAS_SHMEM_NAME);
	for (int i = 0; i < ATLAS_SHMEM_NUM_LOCKS; i++)
		shmem_locks[i] = &locks[i].lock;
	shmem_state = state;
}

#ifdef ATLAS_HAVE_DSM_REGISTRY
/*
 * dsm_init_state
 *		GetNamedDSMSegment's init callback: a new segment, with the locks
 *		inside it under a tranche of its own.  Runs once, in the backend
 *		that makes the segment, under the registry's lock.
 */
static void
dsm_init_state(void *ptr)
{
	AtlasShmemState *state = (AtlasShmemState *) ptr;

	atlas_shmem_init_state(state);
	state->tranche_id = LWLockNewTrancheId();
	for (int i = 0; i < ATLAS_SHMEM_NUM_LOCKS; i++)
		LWLockInitialize(&state->dsm_locks[i], state->tranche_id);
}
#endif

/*
 * atlas_shmem_state
 *		The instance-wide segment, or NULL if there is none (PostgreSQL 15
 *		and 16 without preloading; a process that is not a backend of the
 *		postmaster).
 *
 * On the DSM-registry path the first call in a backend attaches (making
 * the segment if no backend has yet) and names the locks' tranche for
 * this backend; that may throw (out of dynamic shared memory).  Later
 * calls only return the pointer.
 */
AtlasShmemState *
atlas_shmem_state(void)
{
	if (shmem_state != NULL || shmem_preloaded)
		return shmem_state;
#ifdef ATLAS_HAVE_DSM_REGISTRY
	if (IsUnderPostmaster)
	{
		AtlasShmemState *state;
		bool		found;

		state = GetNamedDSMSegment(ATLAS_SHMEM_NAME, sizeof(AtlasShmemState),
								   dsm_init_state, &found);
		LWLockRegisterTranche(state->tranche_id, ATLAS_SHMEM_NAME);
		for (int i = 0; i < ATLAS_SHMEM_NUM_LOCKS; i++)
			shmem_locks[i] = &state->dsm_locks[i];
		shmem_state = state;
	}
#endif
	return shmem_state;
}

/*
 * atlas_shmem_lock
 *		The LWLock of a section.  Only after atlas_shmem_state() returned
 *		the segment.
 */
LWLock *
atlas_shmem_lock(AtlasShmemLockId id)
{
	Assert(shmem_state != NULL && id >= 0 && id < ATLAS_SHMEM_NUM_LOCKS);
	return shmem_locks[id];
}

/*
 * atlas_shmem_mode
 *		Where the segment comes from, in words: "shared_preload_libraries",
 *		"dsm_registry", or "none".  Does not attach.
 */
const char *
atlas_shmem_mode(void)
{
	if (shmem_preloaded)
		return shmem_state ? "shared_preload_libraries" : "none";
#ifdef ATLAS_HAVE_DSM_REGISTRY
	return IsUnderPostmaster ? "dsm_registry" : "none";
#else
	return "none";
#endif
}

/*
 * atlas_shmem_make_key
 *		The key of an account's shared entries: this database, the foreign
 *		server, and SHA-256 over the base URL, the account's identity
 *		(client id or public key) and, if secret is not NULL, its secret,
 *		each followed by a NUL.  With the secret in the digest two mappings
 *		of one client id share only if they hold the same secret: a user
 *		who knows a client id, but not its secret, gets no token through
 *		it.  The digest reveals nothing usable of a random secret.
 *
 * May throw (out of memory, a crypto library failure); the digest context
 * is freed on every path it can be.
 */
void
atlas_shmem_make_key(AtlasShmemKey *key, Oid serverid, const char *base_url,
					 const char *identity, const char *secret)
{
	static const char domain[] = "atlas_snapshot_fdw shared key";
	pg_cryptohash_ctx *ctx;
	bool		ok;

	memset(key, 0, sizeof(AtlasShmemKey));
	key->dbid = MyDatabaseId;
	key->serverid = serverid;

	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	ok = pg_cryptohash_init(ctx) == 0 &&
		pg_cryptohash_update(ctx, (const uint8 *) domain, sizeof(domain)) == 0 &&
		pg_cryptohash_update(ctx, (const uint8 *) base_url, strlen(base_url) + 1) == 0 &&
		pg_cryptohash_update(ctx, (const uint8 *) identity, strlen(identity) + 1) == 0 &&
		(secret == NULL ||
		 pg_cryptohash_update(ctx, (const uint8 *) secret, strlen(secret) + 1) == 0) &&
		pg_cryptohash_final(ctx, key->account, sizeof(key->account)) == 0;
	pg_cryptohash_free(ctx);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a SHA-256 digest")));
}

/*
 * atlas_shmem_key_equal
 *		Whether two keys are the same.
 */
bool
atlas_shmem_key_equal(const AtlasShmemKey *a, const AtlasShmemKey *b)
{
	return a->dbid == b->dbid && a->serverid == b->serverid &&
		memcmp(a->account, b->account, sizeof(a->account)) == 0;
}

/*
 * atlas_shmem_pid_alive
 *		Whether process pid may still be running (kill(pid, 0)): false only
 *		when it certainly is not.  A pid reused by another process reads as
 *		alive; callers bound such marks by time as well.  Never throws.
 */
bool
atlas_shmem_pid_alive(int pid)
{
	if (pid <= 0)
		return false;
	return kill((pid_t) pid, 0) == 0 || errno != ESRCH;
}

/*
 * atlas_wait_event_transfer, atlas_wait_event_rate_limit,
 * atlas_wait_event_token
 *		The wait events of the extension's waits, as pg_stat_activity
 *		shows them on PostgreSQL 17 and later: AtlasTransfer (waiting for
 *		Atlas to answer), AtlasRateLimit (pausing for a 429, a Retry-After
 *		or the pacing of requests), AtlasToken (waiting for another
 *		backend's token request).  "Extension" before 17.  The first call
 *		in a backend may throw (17+: no room for more custom wait events).
 */
uint32
atlas_wait_event_transfer(void)
{
	if (wait_event_transfer == 0)
		wait_event_transfer = atlas_wait_event_new("AtlasTransfer");
	return wait_event_transfer;
}

uint32
atlas_wait_event_rate_limit(void)
{
	if (wait_event_rate_limit == 0)
		wait_event_rate_limit = atlas_wait_event_new("AtlasRateLimit");
	return wait_event_rate_limit;
}

uint32
atlas_wait_event_token(void)
{
	if (wait_event_token == 0)
		wait_event_token = atlas_wait_event_new("AtlasToken");
	return wait_event_token;
}
