/*-------------------------------------------------------------------------
 *
 * stats.c
 *		  atlas_snapshot_fdw_stats(): what the FDW has done, in the instance
 *		  or in this backend; atlas_snapshot_fdw_stats_reset()
 *
 * One row per user mapping: HTTP requests, pages, bytes, retries, rate
 * limits, OAuth tokens, errors and the last error message.  Each backend
 * counts in its connection cache (connection.c); they hold no credentials.
 *
 * With the extension's shared memory (shmem.c: the library in
 * shared_preload_libraries, or PostgreSQL 17+), the rows are the
 * instance's, cumulative since the segment was made or the last
 * atlas_snapshot_fdw_stats_reset() (scope "instance"): each backend adds
 * what its counters gained (atlas_stats_flush) at the end of every scan
 * and transaction, before the function reads the rows, and when it exits
 * (before_shmem_exit), so a backend's figures outlive it.  The table has
 * ATLAS_SHMEM_STATS rows (a row per database and user mapping); a new
 * mapping takes the row flushed least recently when it is full, whose
 * figures are lost.  Counters that backends have not flushed yet when
 * the statistics are reset (a scan still running) count after the
 * reset.  peak_in_flight is the highest of any scan, last_error the latest.
 * Without shared memory the rows are this backend's (scope "backend"),
 * as in 1.2, and the reset zeroes them.
 *
 * Like pg_stat_activity, the function shows a role only its own rows: those
 * of user mappings for the current user, and of the PUBLIC mapping of a
 * server on which the current user has no mapping of its own (the one its
 * queries use).  Superusers and members of pg_read_all_stats see every row
 * (of the current database: user mappings are per database).  The reset,
 * like pg_stat_statements_reset(), is for superusers unless granted.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "atlas_snapshot_fdw.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_user_mapping.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "shmem.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#define STATS_COLS	16

PG_FUNCTION_INFO_V1(atlas_snapshot_fdw_stats);
PG_FUNCTION_INFO_V1(atlas_snapshot_fdw_stats_reset);

/* The instance's shared memory, once attached outside any callback */
static AtlasShmemState *stats_shared = NULL;
static bool stats_attached = false;

/*
 * stats_exit
 *		before_shmem_exit callback: the backend's last counters join the
 *		instance's.  Never throws.
 */
static void
stats_exit(int code, Datum arg)
{
	atlas_connection_flush_stats();
}

/*
 * atlas_stats_attach
 *		Find out whether the instance's statistics are shared, and if so
 *		arrange for the backend's exit to flush its counters.  Called when
 *		the connection cache is made and by the SQL functions, never in a
 *		callback: attaching may throw (PostgreSQL 17+, the DSM registry).
 */
void
atlas_stats_attach(void)
{
	if (stats_attached)
		return;
	stats_shared = atlas_shmem_state();
	stats_attached = true;
	if (stats_shared != NULL)
		before_shmem_exit(stats_exit, (Datum) 0);
}

/* Add the int64 counters of cur - old to sum */
static void
add_delta(AtlasStats *sum, const AtlasStats *cur, const AtlasStats *old)
{
	sum->requests += cur->requests - old->requests;
	sum->pages += cur->pages - old->pages;
	sum->bytes += cur->bytes - old->bytes;
	sum->retries += cur->retries - old->retries;
	sum->tokens += cur->tokens - old->tokens;
	sum->errors += cur->errors - old->errors;
	sum->rate_limited += cur->rate_limited - old->rate_limited;
	sum->concurrency_cuts += cur->concurrency_cuts - old->concurrency_cuts;
	sum->rate_limit_wait_us += cur->rate_limit_wait_us - old->rate_limit_wait_us;
	sum->peak_in_flight = Max(sum->peak_in_flight, cur->peak_in_flight);
	if (cur->last_error_at > sum->last_error_at &&
		cur->last_error_at != old->last_error_at)
	{
		memcpy(sum->last_error, cur->last_error, sizeof(sum->last_error));
		sum->last_error_at = cur->last_error_at;
	}
}

/*
 * atlas_stats_flush
 *		Add what the counters of a user mapping (cur) gained since the last
 *		flush (flushed) to the instance's row of the mapping, and remember
 *		cur as flushed.  Nothing without shared memory.  A mapping without
 *		a row takes a free one, or the one flushed least recently.  Never
 *		throws: transaction and exit callbacks use it.
 */
void
atlas_stats_flush(Oid umid, Oid serverid, int auth, const AtlasStats *cur,
				  AtlasStats *flushed)
{
	AtlasShmemState *s = stats_shared;
	AtlasSharedStats *row = NULL;
	AtlasSharedStats *victim = NULL;
	TimestampTz now;

	if (s == NULL || memcmp(cur, flushed, sizeof(AtlasStats)) == 0)
		return;
	now = GetCurrentTimestamp();
	LWLockAcquire(atlas_shmem_lock(ATLAS_LOCK_STATS), LW_EXCLUSIVE);
	for (int i = 0; i < ATLAS_SHMEM_STATS; i++)
	{
		AtlasSharedStats *r = &s->stats[i];

		if (r->in_use && r->dbid == MyDatabaseId && r->umid == umid)
		{
			row = r;
			break;
		}
		if (!r->in_use)
		{
			if (victim == NULL || victim->in_use)
				victim = r;
		}
		else if (victim == NULL ||
				 (victim->in_use && r->last_flush < victim->last_flush))
			victim = r;
	}
	if (row == NULL)
	{
		/* a new row: a free one, else the one flushed least recently */
		row = victim;
		memset(row, 0, sizeof(AtlasSharedStats));
		row->in_use = true;
		row->dbid = MyDatabaseId;
		row->umid = umid;
	}
	row->serverid = serverid;
	row->auth = auth;
	row->last_flush = now;
	add_delta(&row->stats, cur, flushed);
	LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_STATS));
	*flushed = *cur;
}

/*
 * instance_rows
 *		A palloc'd copy of the instance's rows of this database; *n of
 *		them.  The copy is made under the lock, into memory allocated
 *		before taking it.
 */
static AtlasConnStats *
instance_rows(AtlasShmemState *s, int *n)
{
	AtlasConnStats *rows = palloc0(sizeof(AtlasConnStats) * ATLAS_SHMEM_STATS);

	*n = 0;
	LWLockAcquire(atlas_shmem_lock(ATLAS_LOCK_STATS), LW_SHARED);
	for (int i = 0; i < ATLAS_SHMEM_STATS; i++)
	{
		AtlasSharedStats *r = &s->stats[i];

		if (!r->in_use || r->dbid != MyDatabaseId)
			continue;
		rows[*n].umid = r->umid;
		rows[*n].serverid = r->serverid;
		rows[*n].auth = (AtlasAuthKind) r->auth;
		rows[*n].stats = r->stats;
		(*n)++;
	}
	LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_STATS));
	return rows;
}

/*
 * mapping_user
 *		The role a user mapping is for (InvalidOid for PUBLIC).  Returns
 *		false if the mapping is gone.
 */
static bool
mapping_user(Oid umid, Oid *userid)
{
	HeapTuple	tp = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(umid));

	if (!HeapTupleIsValid(tp))
		return false;
	*userid = ((Form_pg_user_mapping) GETSTRUCT(tp))->umuser;
	ReleaseSysCache(tp);
	return true;
}

/*
 * mapping_visible
 *		Whether the current user may see the statistics of a user mapping
 *		of role mapuser (InvalidOid: PUBLIC) on server serverid.
 *
 * Its own mappings, and a PUBLIC mapping that it uses because it has none
 * of its own on that server; everything for superusers and members of
 * pg_read_all_stats.
 */
static bool
mapping_visible(Oid mapuser, Oid serverid, bool see_all)
{
	Oid			me = GetUserId();

	if (see_all || mapuser == me)
		return true;
	if (OidIsValid(mapuser))
		return false;
	return !SearchSysCacheExists2(USERMAPPINGUSERSERVER,
								  ObjectIdGetDatum(me),
								  ObjectIdGetDatum(serverid));
}

/*
 * atlas_snapshot_fdw_stats
 *		SETOF record: server_name, user_name, auth, requests, pages, bytes,
 *		retries, tokens, errors, last_error, last_error_at, since 1.2
 *		rate_limited, concurrency_cuts, rate_limit_wait_ms, peak_in_flight,
 *		and since 1.3 scope ("instance" or "backend"): the rows the current
 *		user may see (see mapping_visible).  Under an older declaration
 *		(library updated, ALTER EXTENSION not yet run) only its columns are
 *		returned.
 */
Datum
atlas_snapshot_fdw_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		see_all = superuser() ||
		has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	AtlasConnStats *rows;
	int			nrows = 0;
	const char *scope;

	InitMaterializedSRF(fcinfo, 0);

	atlas_stats_attach();
	if (stats_shared != NULL)
	{
		/* this backend's latest counters first */
		atlas_connection_flush_stats();
		rows = instance_rows(stats_shared, &nrows);
		scope = "instance";
	}
	else
	{
		List	   *list = atlas_connection_stats();
		ListCell   *lc;

		rows = palloc0(sizeof(AtlasConnStats) * Max(list_length(list), 1));
		foreach(lc, list)
			rows[nrows++] = *(AtlasConnStats *) lfirst(lc);
		scope = "backend";
	}

	for (int i = 0; i < nrows; i++)
	{
		AtlasConnStats *entry = &rows[i];
		ForeignServer *server = GetForeignServerExtended(entry->serverid,
														 FSV_MISSING_OK);
		Oid			mapuser;
		Datum		values[STATS_COLS];
		bool		nulls[STATS_COLS];

		if (server == NULL || !mapping_user(entry->umid, &mapuser))
			continue;			/* dropped since */
		if (!mapping_visible(mapuser, entry->serverid, see_all))
			continue;

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(server->servername);
		values[1] = CStringGetTextDatum(OidIsValid(mapuser) ?
										GetUserNameFromId(mapuser, false) :
										"public");
		values[2] = CStringGetTextDatum(entry->auth == ATLAS_AUTH_OAUTH ?
										"service account" : "API key");
		values[3] = Int64GetDatum(entry->stats.requests);
		values[4] = Int64GetDatum(entry->stats.pages);
		values[5] = Int64GetDatum(entry->stats.bytes);
		values[6] = Int64GetDatum(entry->stats.retries);
		values[7] = Int64GetDatum(entry->stats.tokens);
		values[8] = Int64GetDatum(entry->stats.errors);
		values[9] = CStringGetTextDatum(entry->stats.last_error);
		nulls[9] = entry->stats.last_error[0] == '\0';
		values[10] = TimestampTzGetDatum(entry->stats.last_error_at);
		nulls[10] = entry->stats.last_error_at == 0;
		values[11] = Int64GetDatum(entry->stats.rate_limited);
		values[12] = Int64GetDatum(entry->stats.concurrency_cuts);
		values[13] = Float8GetDatum((double) entry->stats.rate_limit_wait_us / 1000.0);
		values[14] = Int32GetDatum(entry->stats.peak_in_flight);
		values[15] = CStringGetTextDatum(scope);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * atlas_snapshot_fdw_stats_reset
 *		Reset the statistics: the instance's (every database's rows) with
 *		shared memory, else this backend's.  Returns the time of the reset.
 *		EXECUTE is revoked from PUBLIC (superusers, or whom they grant it).
 */
Datum
atlas_snapshot_fdw_stats_reset(PG_FUNCTION_ARGS)
{
	TimestampTz now = GetCurrentTimestamp();

	atlas_stats_attach();
	if (stats_shared != NULL)
	{
		LWLockAcquire(atlas_shmem_lock(ATLAS_LOCK_STATS), LW_EXCLUSIVE);
		for (int i = 0; i < ATLAS_SHMEM_STATS; i++)
			memset(&stats_shared->stats[i], 0, sizeof(AtlasSharedStats));
		stats_shared->stats_reset = now;
		stats_shared->stats_generation++;
		LWLockRelease(atlas_shmem_lock(ATLAS_LOCK_STATS));
	}
	atlas_connection_reset_stats(stats_shared != NULL);
	PG_RETURN_TIMESTAMPTZ(now);
}
