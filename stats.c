/*-------------------------------------------------------------------------
 *
 * stats.c
 *		  atlas_snapshot_fdw_stats(): what the FDW has done in this backend
 *
 * One row per user mapping this backend has talked to Atlas with: HTTP
 * requests, pages, bytes, retries, OAuth tokens, errors and the last error
 * message.  Counters live in the connection cache (connection.c) and last
 * as long as the backend; they hold no credentials.
 *
 * Like pg_stat_activity, the function shows a role only its own rows: those
 * of user mappings for the current user, and of the PUBLIC mapping of a
 * server on which the current user has no mapping of its own (the one its
 * queries use).  Superusers and members of pg_read_all_stats see every row.
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
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#define STATS_COLS	15

PG_FUNCTION_INFO_V1(atlas_snapshot_fdw_stats);

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
 *		retries, tokens, errors, last_error, last_error_at, and since 1.2
 *		rate_limited, concurrency_cuts, rate_limit_wait_ms, peak_in_flight:
 *		the rows the current user may see (see mapping_visible).  Under a
 *		1.1 declaration (library updated, ALTER EXTENSION not yet run) only
 *		its first 11 columns are returned.
 */
Datum
atlas_snapshot_fdw_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;
	bool		see_all = superuser() ||
		has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);

	InitMaterializedSRF(fcinfo, 0);

	foreach(lc, atlas_connection_stats())
	{
		AtlasConnStats *entry = (AtlasConnStats *) lfirst(lc);
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
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
