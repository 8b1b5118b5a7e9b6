/*-------------------------------------------------------------------------
 *
 * calendar.c
 *		  The API's calendar: every endpoint the extension calls, what Atlas
 *		  announced for it, and the Deprecation and Sunset headers seen
 *
 * atlas_snapshot_fdw_endpoints() lists one row per endpoint (method, path
 * template, API version) the extension calls: the list and single-object
 * GETs of every resource in resource.c's catalog (the inventory lists
 * that enumeration reads are resources too), and the OAuth token
 * endpoint.  The list is made from the catalog each time, so a resource
 * added there is listed here with no other change.  Each row carries the
 * deprecation, sunset and removal dates of the resource's AtlasCalendar,
 * and the Deprecation (RFC 9745) and Sunset (RFC 8594) response headers
 * last seen on that endpoint in this backend, with when.
 *
 * The headers are copied into each transfer's slot by the header callback
 * (connection.c: fixed buffers, no allocation) and noted here when the
 * transfer ends (atlas_calendar_note), into static storage: noting never
 * allocates and never throws.  A concrete request path is matched to the
 * endpoint templates segment by segment; of the templates that match, the
 * one with the most literal segments wins ("/backup/snapshots/
 * shardedClusters" is the sharded list, not a snapshot by id).
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  calendar.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "atlas_snapshot_fdw.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"

/*
 * The paths of a resource: its list, its single object, and the same two
 * below an organization (resource_path)
 */
#define PATHS_PER_RESOURCE	4

/* Most endpoints remembered: PATHS_PER_RESOURCE per resource, the token's */
#define CALENDAR_MAX_ENDPOINTS	512

/* The token endpoint's slot in "seen", after the resources' */
#define TOKEN_SLOT(nres)	(PATHS_PER_RESOURCE * (nres))

/* What one endpoint's last answer with either header said */
typedef struct SeenHeaders
{
	bool		seen;			/* a header was seen on it */
	char		deprecation[ATLAS_CALENDAR_HEADER_LEN]; /* "" if absent */
	char		sunset[ATLAS_CALENDAR_HEADER_LEN];	/* "" if absent */
	TimestampTz at;				/* when the answer arrived */
} SeenHeaders;

/*
 * Indexed PATHS_PER_RESOURCE * resource + path (resource_path), then the
 * token endpoint.  Backend-lifetime static storage: written when a transfer
 * ends, where nothing may allocate.
 */
static SeenHeaders seen[CALENDAR_MAX_ENDPOINTS];

PG_FUNCTION_INFO_V1(atlas_snapshot_fdw_endpoints);

/*
 * resource_path
 *		Path template k (0 to PATHS_PER_RESOURCE - 1) of a resource: its
 *		list, its single object, its organization list, its organization
 *		single object; NULL if it has none.
 */
static const char *
resource_path(const AtlasResource *res, int k)
{
	switch (k)
	{
		case 0:
			return res->list_path;
		case 1:
			return res->get_path;
		case 2:
			return res->org_list_path;
		default:
			return res->org_get_path;
	}
}

/*
 * reads_path
 *		Whether a resource reads path template t at API version v.
 */
static bool
reads_path(const AtlasResource *res, const char *t, const char *v)
{
	if (strcmp(res->api_version, v) != 0)
		return false;
	for (int k = 0; k < PATHS_PER_RESOURCE; k++)
	{
		const char *p = resource_path(res, k);

		if (p && strcmp(p, t) == 0)
			return true;
	}
	return false;
}

/*
 * template_match
 *		Whether path (no query, n bytes, below ATLAS_API_PREFIX) matches the
 *		template, each {placeholder} standing for one non-empty segment;
 *		returns the number of literal segments matched, or -1.  Never
 *		throws, never allocates.
 */
static int
template_match(const char *tmpl, const char *path, size_t n)
{
	const char *t = tmpl;
	const char *p = path;
	const char *end = path + n;
	int			literal = 0;

	while (*t && p < end)
	{
		size_t		tl,
					pl;

		if (*t != '/' || *p != '/')
			return -1;
		t++;
		p++;
		tl = strcspn(t, "/");
		pl = 0;
		while (p + pl < end && p[pl] != '/')
			pl++;
		if (tl > 1 && t[0] == '{' && t[tl - 1] == '}')
		{
			if (pl == 0)
				return -1;
		}
		else if (tl != pl || strncmp(t, p, tl) != 0)
			return -1;
		else
			literal++;
		t += tl;
		p += pl;
	}
	return (*t == '\0' && p == end) ? literal : -1;
}

/* Copy a header value into a SeenHeaders field (both sized alike) */
static void
copy_header(char *dst, const char *src)
{
	size_t		len = strnlen(src, ATLAS_CALENDAR_HEADER_LEN - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Record an answer's headers on one endpoint; never throws */
static void
note_seen(SeenHeaders *s, const char *deprecation, const char *sunset)
{
	s->seen = true;
	copy_header(s->deprecation, deprecation);
	copy_header(s->sunset, sunset);
	s->at = GetCurrentTimestamp();
}

/*
 * atlas_calendar_note
 *		Remember the Deprecation and Sunset headers ("" when absent) of an
 *		answer to url (base_url, path, query) on the endpoint it matches.
 *
 * Called when a transfer ends (connection.c), in whichever scan waits:
 * never throws, never allocates.  An answer without either header changes
 * nothing (the last ones seen stay).  A URL that matches no endpoint is
 * ignored.
 */
void
atlas_calendar_note(const char *url, const char *deprecation,
					const char *sunset)
{
	int			nres;
	const AtlasResource *res = atlas_all_resources(&nres);
	const char *path;
	size_t		n;
	int			best = -1;
	int			best_literal = -1;
	size_t		plen = strlen(ATLAS_API_PREFIX);

	if (url == NULL || (deprecation[0] == '\0' && sunset[0] == '\0'))
		return;
	/* base_url is scheme://host[:port], without a path */
	path = strstr(url, "://");
	if (path == NULL)
		return;
	path = strchr(path + 3, '/');
	if (path == NULL)
		return;
	n = strcspn(path, "?#");

	if (n == strlen(ATLAS_TOKEN_PATH) &&
		strncmp(path, ATLAS_TOKEN_PATH, n) == 0)
		best = TOKEN_SLOT(nres);
	else if (n > plen && strncmp(path, ATLAS_API_PREFIX, plen) == 0)
	{
		for (int i = 0; i < nres; i++)
		{
			for (int k = 0; k < PATHS_PER_RESOURCE; k++)
			{
				const char *tmpl = resource_path(&res[i], k);
				int			literal;

				if (tmpl == NULL)
					continue;
				literal = template_match(tmpl, path + plen, n - plen);
				if (literal > best_literal)
				{
					best_literal = literal;
					best = PATHS_PER_RESOURCE * i + k;
				}
			}
		}
	}
	if (best < 0 || best >= CALENDAR_MAX_ENDPOINTS)
		return;
	if (best == TOKEN_SLOT(nres))
	{
		note_seen(&seen[best], deprecation, sunset);
		return;
	}

	/* every resource reading that endpoint at that version shares it */
	{
		const AtlasResource *b = &res[best / PATHS_PER_RESOURCE];
		const char *btmpl = resource_path(b, best % PATHS_PER_RESOURCE);

		for (int i = 0; i < nres; i++)
		{
			if (strcmp(res[i].api_version, b->api_version) != 0)
				continue;
			for (int k = 0; k < PATHS_PER_RESOURCE; k++)
			{
				const char *t = resource_path(&res[i], k);

				if (t && strcmp(t, btmpl) == 0 &&
					PATHS_PER_RESOURCE * i + k < CALENDAR_MAX_ENDPOINTS)
					note_seen(&seen[PATHS_PER_RESOURCE * i + k], deprecation,
							  sunset);
			}
		}
	}
}

/*
 * date_datum
 *		A "YYYY-MM-DD" calendar date as a date Datum (the strings are the
 *		catalog's own: a malformed one is an ERROR of date_in).
 */
static Datum
date_datum(const char *text)
{
	return DirectFunctionCall1(date_in, CStringGetDatum(text));
}

/*
 * header_time
 *		A Deprecation or Sunset header's moment: "@seconds" (RFC 9745's
 *		structured date) or an HTTP-date (RFC 8594, and the older
 *		Deprecation drafts); false if it is neither.
 */
static bool
header_time(const char *value, TimestampTz *result)
{
	time_t		when;

	if (value[0] == '@')
	{
		char	   *end;
		long long	secs;

		errno = 0;
		secs = strtoll(value + 1, &end, 10);
		if (errno != 0 || end == value + 1 || *end != '\0')
			return false;
		when = (time_t) secs;
		if ((long long) when != secs)
			return false;
	}
	else
	{
		when = curl_getdate(value, NULL);
		if (when == -1)
			return false;
	}
	*result = time_t_to_timestamptz((pg_time_t) when);
	return true;
}

/*
 * One endpoint of the listing: the first resource that calls it, and
 * which of its paths.
 */
typedef struct EndpointRow
{
	int			resource;		/* index in the catalog, or -1: token */
	int			which;			/* its path: see resource_path */
} EndpointRow;

/*
 * atlas_snapshot_fdw_endpoints
 *		SQL function: one row per endpoint the extension calls (see the file
 *		header).  Materialized in the query's memory; reads the catalog and
 *		this backend's headers seen, nothing else.
 */
Datum
atlas_snapshot_fdw_endpoints(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nres;
	const AtlasResource *res = atlas_all_resources(&nres);
	EndpointRow *rows;
	int			nrows = 0;

	if (TOKEN_SLOT(nres) >= CALENDAR_MAX_ENDPOINTS)
		elog(ERROR, "atlas_snapshot_fdw: more than %d endpoints",
			 CALENDAR_MAX_ENDPOINTS);

	InitMaterializedSRF(fcinfo, 0);

	rows = palloc(sizeof(EndpointRow) * (PATHS_PER_RESOURCE * nres + 1));
	for (int i = 0; i < nres; i++)
	{
		for (int k = 0; k < PATHS_PER_RESOURCE; k++)
		{
			const char *t = resource_path(&res[i], k);
			bool		dup = false;

			if (t == NULL)
				continue;
			for (int r = 0; r < nrows && !dup; r++)
			{
				const AtlasResource *o = &res[rows[r].resource];
				const char *ot = resource_path(o, rows[r].which);

				dup = strcmp(ot, t) == 0 &&
					strcmp(o->api_version, res[i].api_version) == 0;
			}
			if (!dup)
			{
				rows[nrows].resource = i;
				rows[nrows].which = k;
				nrows++;
			}
		}
	}
	rows[nrows].resource = -1;
	rows[nrows].which = 0;
	nrows++;

	for (int r = 0; r < nrows; r++)
	{
		Datum		values[13];
		bool		nulls[13];
		const SeenHeaders *s;
		TimestampTz ts;
		int			col = 0;

		memset(nulls, 0, sizeof(nulls));
		if (rows[r].resource < 0)
		{
			values[col++] = CStringGetTextDatum("POST");
			values[col++] = CStringGetTextDatum(ATLAS_TOKEN_PATH);
			nulls[col++] = true;	/* api_version: none */
			values[col++] = PointerGetDatum(construct_empty_array(TEXTOID));
			values[col++] = BoolGetDatum(false);
			nulls[col++] = true;
			nulls[col++] = true;
			nulls[col++] = true;
			s = &seen[TOKEN_SLOT(nres)];
		}
		else
		{
			const AtlasResource *a = &res[rows[r].resource];
			const char *t = resource_path(a, rows[r].which);
			StringInfoData path;
			Datum	   *names = palloc(sizeof(Datum) * nres);
			int			nnames = 0;

			/* every resource that reads this endpoint at this version */
			for (int i = 0; i < nres; i++)
			{
				if (reads_path(&res[i], t, a->api_version))
					names[nnames++] = CStringGetTextDatum(res[i].name);
			}
			initStringInfo(&path);
			appendStringInfo(&path, "%s%s", ATLAS_API_PREFIX, t);
			values[col++] = CStringGetTextDatum("GET");
			values[col++] = CStringGetTextDatum(path.data);
			values[col++] = CStringGetTextDatum(a->api_version);
			values[col++] = PointerGetDatum(construct_array(names, nnames,
															TEXTOID, -1,
															false,
															TYPALIGN_INT));
			values[col++] = BoolGetDatum(a->calendar.deprecated != NULL ||
										 a->calendar.removed != NULL);
			if (a->calendar.deprecated && a->calendar.deprecated[0])
				values[col] = date_datum(a->calendar.deprecated);
			else
				nulls[col] = true;
			col++;
			if (a->calendar.sunset)
				values[col] = date_datum(a->calendar.sunset);
			else
				nulls[col] = true;
			col++;
			if (a->calendar.removed)
				values[col] = date_datum(a->calendar.removed);
			else
				nulls[col] = true;
			col++;
			s = &seen[PATHS_PER_RESOURCE * rows[r].resource + rows[r].which];
		}

		/* the headers last seen on it in this backend */
		if (s->seen && s->deprecation[0])
			values[col] = CStringGetTextDatum(s->deprecation);
		else
			nulls[col] = true;
		col++;
		if (s->seen && s->sunset[0])
			values[col] = CStringGetTextDatum(s->sunset);
		else
			nulls[col] = true;
		col++;
		if (s->seen && s->deprecation[0] && header_time(s->deprecation, &ts))
			values[col] = TimestampTzGetDatum(ts);
		else
			nulls[col] = true;
		col++;
		if (s->seen && s->sunset[0] && header_time(s->sunset, &ts))
			values[col] = TimestampTzGetDatum(ts);
		else
			nulls[col] = true;
		col++;
		if (s->seen)
			values[col] = TimestampTzGetDatum(s->at);
		else
			nulls[col] = true;
		col++;
		Assert(col == lengthof(values));

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
