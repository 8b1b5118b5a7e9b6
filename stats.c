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
#include "catalog/pg_user_mapping.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#define STATS_COLS	11

PG_FUNCTION_INFO_V1(atlas_snapshot_fdw_stats);

/*
 * mapping_user_name
 *		The role a user mapping is for ("public" for PUBLIC), or NULL if the
 *		mapping is gone.
 */
static char *
mapping_user_name(Oid umid)
{
	HeapTuple	tp = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(umid));
	Oid			userid;

	if (!HeapTupleIsValid(tp))
		return NULL;
	userid = ((Form_pg_user_mapping) GETSTRUCT(tp))->umuser;
	ReleaseSysCache(tp);
	return OidIsValid(userid) ? GetUserNameFromId(userid, false) : pstrdup("public");
}

/*
 * atlas_snapshot_fdw_stats
 *		SETOF record: server_name, user_name, auth, requests, pages, bytes,
 *		retries, tokens, errors, last_error, last_error_at.
 */
Datum
atlas_snapshot_fdw_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);

	foreach(lc, atlas_connection_stats())
	{
		AtlasConnEntry *entry = (AtlasConnEntry *) lfirst(lc);
		ForeignServer *server = GetForeignServerExtended(entry->serverid,
														 FSV_MISSING_OK);
		char	   *user = mapping_user_name(entry->key);
		Datum		values[STATS_COLS];
		bool		nulls[STATS_COLS];

		if (server == NULL || user == NULL)
			continue;			/* dropped since */

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(server->servername);
		values[1] = CStringGetTextDatum(user);
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
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
