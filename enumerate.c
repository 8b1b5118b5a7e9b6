/*-------------------------------------------------------------------------
 *
 * enumerate.c
 *		  Project-wide and organization-wide snapshot scans: find the
 *		  group and cluster keys a scan was not given
 *
 * A snapshot table queried without cluster_name (or without group_id)
 * reads its keys from the inventory first:
 *	- without group_id, the organization's projects (GET /groups);
 *	- then, for each project (given or found), its clusters of the table's
 *	  kind: GET /groups/{group}/clusters for cluster_snapshots and
 *	  sharded_cluster_snapshots, /flexClusters for flex_snapshots,
 *	  /serverless for serverless_snapshots.
 * A cluster is kept only if it can have snapshots of the table's kind:
 *	- cluster_snapshots: backupEnabled true and clusterType REPLICASET;
 *	- sharded_cluster_snapshots: backupEnabled true and clusterType SHARDED
 *	  or GEOSHARDED;
 *	- flex_snapshots: every Flex cluster but those whose
 *	  backupSettings.enabled is false;
 *	- serverless_snapshots: every serverless instance.
 * Any other cluster is skipped without a request for its snapshots, and so
 * is one whose name fails a qual on cluster_name (cluster_name IN (...)
 * without group_id looks for those names in every project).
 * tenant_snapshots (retired shared tier) is not enumerated.
 *
 * The inventory requests run through a fetcher of their own (fetch.c):
 * paged, up to max_concurrency at once (the projects' cluster lists are
 * request chains like any other), retried, within max_scan_memory.  The
 * (group, cluster) pairs found are collected, at most max_request_chains of
 * them, and become the scan's request chains (keys.c).
 *
 * Memory: the pairs are palloc'd in the memory context current at the
 * call (the scan's key context); the fetcher and the parsed inventory
 * pages live in a child context deleted before returning, and with the
 * query's memory on ERROR, whose reset callbacks free the malloc'd parts.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  enumerate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json-c/json.h>

#include "atlas_snapshot_fdw.h"
#include "miscadmin.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Most pages one inventory list may have (500 items each) */
#define ENUM_MAX_PAGES			100000

/* Which inventory lists the clusters of a snapshot resource */
typedef enum EnumKind
{
	ENUM_NONE,
	ENUM_REPLICA_SET,			/* clusters: REPLICASET, backup enabled */
	ENUM_SHARDED,				/* clusters: (GEO)SHARDED, backup enabled */
	ENUM_FLEX,					/* flexClusters: backupSettings.enabled */
	ENUM_SERVERLESS				/* serverless instances: all */
} EnumKind;

/* A chain source over a list of group ids */
typedef struct GroupSource
{
	int			n;				/* number of groups */
	int			next;			/* the next one to hand out */
	char	  **texts;
	Datum	   *datums;
} GroupSource;

/* What enumeration has found so far */
typedef struct Found
{
	int			n;				/* entries used */
	int			cap;			/* entries allocated */
	char	  **groups;
	Datum	   *group_datums;
	char	  **names;
	Datum	   *name_datums;
	MemoryContext cxt;			/* where they live: the set's context */
} Found;

/* errcontext argument: the inventory request being read */
typedef struct EnumErrArg
{
	AtlasFetcher *fetcher;
	const AtlasResource *res;
	int			chain;
	int			page;
	int			page_size;
} EnumErrArg;

/*
 * enum_kind
 *		How the clusters of a snapshot resource are found.
 */
static EnumKind
enum_kind(const AtlasResource *res)
{
	if (strcmp(res->name, "cluster_snapshots") == 0)
		return ENUM_REPLICA_SET;
	if (strcmp(res->name, "sharded_cluster_snapshots") == 0)
		return ENUM_SHARDED;
	if (strcmp(res->name, "flex_snapshots") == 0)
		return ENUM_FLEX;
	if (strcmp(res->name, "serverless_snapshots") == 0)
		return ENUM_SERVERLESS;
	return ENUM_NONE;
}

/*
 * inventory_resource
 *		The resource that lists the clusters of a kind.
 */
static const AtlasResource *
inventory_resource(EnumKind kind)
{
	const char *name;
	const AtlasResource *res;

	switch (kind)
	{
		case ENUM_FLEX:
			name = "flex_clusters";
			break;
		case ENUM_SERVERLESS:
			name = "serverless_instances";
			break;
		default:
			name = "clusters";
			break;
	}
	res = atlas_find_resource(name);
	if (res == NULL)
		elog(ERROR, "atlas_snapshot_fdw: no resource \"%s\"", name);
	return res;
}

/*
 * atlas_can_enumerate
 *		Whether a scan of this resource can find its group and cluster keys.
 */
bool
atlas_can_enumerate(const AtlasResource *res)
{
	return enum_kind(res) != ENUM_NONE;
}

/*
 * atlas_enumeration_text
 *		What enumeration requests a scan with these keys (a mask of
 *		ATLAS_KEY_BIT) makes, for EXPLAIN (VERBOSE); palloc'd.
 */
char *
atlas_enumeration_text(const AtlasResource *res, uint32 mask)
{
	const AtlasResource *inv = inventory_resource(enum_kind(res));
	StringInfoData buf;

	initStringInfo(&buf);
	if ((mask & ATLAS_KEY_BIT(ATLAS_KEY_GROUP)) == 0)
		appendStringInfo(&buf, "GET %s/groups, then ", ATLAS_API_PREFIX);
	appendStringInfoString(&buf, "GET ");
	atlas_append_path(&buf, inv->list_path, NULL, true);
	appendStringInfoString(&buf, " per project, then the snapshots of each ");
	switch (enum_kind(res))
	{
		case ENUM_REPLICA_SET:
			appendStringInfoString(&buf, "REPLICASET cluster with backup enabled");
			break;
		case ENUM_SHARDED:
			appendStringInfoString(&buf, "SHARDED or GEOSHARDED cluster with backup enabled");
			break;
		case ENUM_FLEX:
			appendStringInfoString(&buf, "Flex cluster with backup enabled");
			break;
		default:
			appendStringInfoString(&buf, "serverless instance");
			break;
	}
	if (mask & ATLAS_KEY_BIT(ATLAS_KEY_CLUSTER))
		appendStringInfoString(&buf, " whose name the WHERE clause allows");
	return buf.data;
}

/* AtlasChainSource: one chain with no keys (GET /groups) */
static bool
one_chain(void *arg, AtlasRequestKeys *keys)
{
	bool	   *given = (bool *) arg;

	if (*given)
		return false;
	*given = true;
	memset(keys, 0, sizeof(*keys));
	return true;
}

/* AtlasChainSource: one chain per group.  Never throws. */
static bool
group_chain(void *arg, AtlasRequestKeys *keys)
{
	GroupSource *gs = (GroupSource *) arg;

	if (gs->next >= gs->n)
		return false;
	memset(keys, 0, sizeof(*keys));
	keys->present[ATLAS_KEY_GROUP] = true;
	keys->text[ATLAS_KEY_GROUP] = gs->texts[gs->next];
	keys->datum[ATLAS_KEY_GROUP] = gs->datums[gs->next];
	gs->next++;
	return true;
}

/* errcontext callback naming the inventory request */
static void
enum_error_callback(void *arg)
{
	EnumErrArg *ea = (EnumErrArg *) arg;
	const AtlasRequestKeys *keys = atlas_fetcher_chain_keys(ea->fetcher,
															ea->chain);
	AtlasRequestKeys none;

	if (keys == NULL)
	{
		memset(&none, 0, sizeof(none));
		keys = &none;
	}
	errcontext("remote request: GET %s",
			   atlas_request_path(ea->res, keys, ea->page, ea->page_size));
}


/*
 * too_many_chains
 *		The enumeration found more clusters than max_request_chains allows.
 */
static void
too_many_chains(Relation rel, int max_chains)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("scan of foreign table \"%s\" would make more request chains than option \"%s\" allows (%d)",
					RelationGetRelationName(rel), OPTION_MAX_REQUEST_CHAINS,
					max_chains),
			 errdetail("The projects searched have more clusters with snapshots than that."),
			 errhint("Give group_id or cluster_name conditions, or raise \"%s\" on the foreign server or table.",
					 OPTION_MAX_REQUEST_CHAINS)));
}

/*
 * found_add
 *		Append one (group, name) pair, in found->cxt.  Returns false, and
 *		adds nothing, if there are max_chains already.
 */
static bool
found_add(Found *found, const char *group, Datum group_datum,
		  const char *name, int max_chains)
{
	MemoryContext oldcxt;

	if (found->n >= max_chains)
		return false;
	oldcxt = MemoryContextSwitchTo(found->cxt);
	if (found->n == found->cap)
	{
		int			cap = found->cap == 0 ? 16 : found->cap;

		/* bounded by max_request_chains (an int): double without overflow */
		cap = cap > INT_MAX / 2 ? INT_MAX : cap * 2;
		if (found->cap == 0)
		{
			found->groups = palloc(mul_size(cap, sizeof(char *)));
			found->group_datums = palloc(mul_size(cap, sizeof(Datum)));
			found->names = palloc(mul_size(cap, sizeof(char *)));
			found->name_datums = palloc(mul_size(cap, sizeof(Datum)));
		}
		else
		{
			found->groups = repalloc(found->groups, mul_size(cap, sizeof(char *)));
			found->group_datums = repalloc(found->group_datums, mul_size(cap, sizeof(Datum)));
			found->names = repalloc(found->names, mul_size(cap, sizeof(char *)));
			found->name_datums = repalloc(found->name_datums, mul_size(cap, sizeof(Datum)));
		}
		found->cap = cap;
	}
	found->groups[found->n] = pstrdup(group);
	found->group_datums[found->n] = group_datum != (Datum) 0 ? group_datum :
		atlas_text_datum(group, strlen(group));
	found->names[found->n] = pstrdup(name);
	found->name_datums[found->n] = atlas_text_datum(name, strlen(name));
	found->n++;
	MemoryContextSwitchTo(oldcxt);
	return true;
}

/* A string member of a JSON object, or NULL */
static const char *
json_string_member(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(obj, key, &v) &&
		json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* A boolean member of a JSON object, or dflt if it is absent or not one */
static bool
json_bool_member(struct json_object *obj, const char *key, bool dflt)
{
	struct json_object *v;

	if (json_object_object_get_ex(obj, key, &v) &&
		json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return dflt;
}

/*
 * cluster_matches
 *		Whether an inventory item can have snapshots of the table's kind.
 */
static bool
cluster_matches(EnumKind kind, struct json_object *item)
{
	const char *type;
	struct json_object *settings;

	switch (kind)
	{
		case ENUM_REPLICA_SET:
		case ENUM_SHARDED:
			if (!json_bool_member(item, "backupEnabled", false))
				return false;
			type = json_string_member(item, "clusterType");
			if (type == NULL)
				return false;
			if (kind == ENUM_REPLICA_SET)
				return strcmp(type, "REPLICASET") == 0;
			return strcmp(type, "SHARDED") == 0 ||
				strcmp(type, "GEOSHARDED") == 0;
		case ENUM_FLEX:
			if (json_object_object_get_ex(item, "backupSettings", &settings) &&
				json_object_is_type(settings, json_type_object))
				return json_bool_member(settings, "enabled", true);
			return true;
		case ENUM_SERVERLESS:
			return true;
		case ENUM_NONE:
			break;
	}
	return false;
}

/*
 * read_inventory
 *		Read every page of every chain of a fetcher over an inventory list,
 *		calling visit for each item, until *stop is set; errors are
 *		reported as a scan's are.
 *
 * The parsed pages stay owned by the fetcher and are freed as each is
 * released (or by its context's reset callback on ERROR).
 */
static void
read_inventory(AtlasFetcher *f, const AtlasFdwOptions *opts,
			   AtlasConnEntry *conn, const AtlasResource *inv, int page_size,
			   void (*visit) (void *arg, const AtlasRequestKeys *keys,
							  struct json_object *item),
			   void *arg, const bool *stop)
{
	EnumErrArg ea;
	ErrorContextCallback errcallback;
	int			chain;
	int			page;

	ea.fetcher = f;
	ea.res = inv;
	ea.chain = 0;
	ea.page = 1;
	ea.page_size = page_size;
	errcallback.callback = enum_error_callback;
	errcallback.arg = &ea;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	while (!*stop && atlas_fetcher_needed(f, &chain, &page))
	{
		AtlasFetchResult *result;
		const AtlasRequestKeys *keys;
		struct json_object *results;
		int64		total;
		int			nrows;
		bool		chain_ends;
		const char *first_id = NULL;

		CHECK_FOR_INTERRUPTS();
		ea.chain = chain;
		ea.page = page;
		result = atlas_fetcher_next(f, &chain, &page);
		ea.chain = chain;
		ea.page = page;
		atlas_conn_stats(conn)->pages++;
		keys = atlas_fetcher_chain_keys(f, chain);
		if (keys == NULL)
			elog(ERROR, "atlas_snapshot_fdw: no keys for request chain %d", chain);
		atlas_report_page_error(result, atlas_conn_base_url(conn), opts, inv);

		nrows = atlas_json_page_rows(result->doc, &total);
		if (nrows < 0 ||
			!json_object_object_get_ex(result->doc, "results", &results) ||
			!json_object_is_type(results, json_type_array))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
					 errmsg("unexpected Atlas response"),
					 errdetail("An inventory list page has no \"results\" array.")));

		for (int i = 0; i < nrows; i++)
		{
			struct json_object *item = json_object_array_get_idx(results, i);

			CHECK_FOR_INTERRUPTS();
			if (!json_object_is_type(item, json_type_object))
				continue;
			if (i == 0)
				first_id = json_string_member(item, "id");
			visit(arg, keys, item);
		}

		chain_ends = inv->paging == ATLAS_PAGING_NONE || nrows < page_size;
		if (!chain_ends && nrows > 0 &&
			atlas_fetcher_repeated_page(f, chain, first_id))
		{
			if (inv->paging != ATLAS_PAGING_UNDECLARED)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("Atlas returned the same page twice"),
						 errdetail("Page %d starts with the same item as page %d.",
								   page, page - 1)));
			chain_ends = true;
		}
		if (!chain_ends && page >= ENUM_MAX_PAGES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("Atlas inventory list has more than %d pages",
							ENUM_MAX_PAGES)));
		atlas_fetcher_release(f, chain, page);
		if (chain_ends)
			atlas_fetcher_chain_done(f, chain);
	}
	error_context_stack = errcallback.previous;
}

/* Arguments of the two visit callbacks */
typedef struct VisitArg
{
	EnumKind	kind;
	AtlasChainSet *set;			/* the scan's keys (for cluster_name) */
	Found	   *found;			/* projects or clusters found */
	int			max_chains;
	bool		over;			/* more pairs than max_chains: stop */
} VisitArg;

/* visit callback of GET /groups: collect project ids */
static void
visit_group(void *arg, const AtlasRequestKeys *keys, struct json_object *item)
{
	VisitArg   *va = (VisitArg *) arg;
	const char *id = json_string_member(item, "id");

	if (id == NULL)
		return;
	atlas_validate_key_value(ATLAS_KEY_GROUP, id);
	(void) found_add(va->found, id, (Datum) 0, "", INT_MAX);
}

/* visit callback of a cluster list: collect the clusters to scan */
static void
visit_cluster(void *arg, const AtlasRequestKeys *keys,
			  struct json_object *item)
{
	VisitArg   *va = (VisitArg *) arg;
	const char *name = json_string_member(item, "name");

	if (name == NULL || !cluster_matches(va->kind, item) ||
		!atlas_chain_set_allows(va->set, ATLAS_KEY_CLUSTER, name))
		return;
	atlas_validate_key_value(ATLAS_KEY_CLUSTER, name);
	if (!va->over &&
		!found_add(va->found, keys->text[ATLAS_KEY_GROUP],
				   keys->datum[ATLAS_KEY_GROUP], name, va->max_chains))
		va->over = true;		/* reported once the reading stops */
}

/*
 * atlas_enumerate_chains
 *		Find the (group, cluster) pairs a scan without all of its keys
 *		reads, and make them the chain set's groups and clusters.
 *
 * *requests is increased by the inventory requests made (EXPLAIN
 * ANALYZE).  More pairs than max_request_chains is an ERROR before any
 * snapshot request.
 */
void
atlas_enumerate_chains(AtlasChainSet *set, AtlasConnEntry *conn,
					   const AtlasFdwOptions *opts, const AtlasResource *res,
					   Relation rel, int64 *requests)
{
	EnumKind	kind = enum_kind(res);
	const AtlasResource *inv = inventory_resource(kind);
	const AtlasResource *projects = atlas_find_resource("projects");
	MemoryContext setcxt = CurrentMemoryContext;
	MemoryContext enumcxt;
	int			page_size = opts->items_per_page;
	GroupSource gs;
	Found		groups;
	Found		clusters;
	VisitArg	va;
	AtlasFetcher *f;

	if (kind == ENUM_NONE || projects == NULL)
		elog(ERROR, "atlas_snapshot_fdw: resource \"%s\" cannot be enumerated",
			 res->name);

	enumcxt = AllocSetContextCreate(setcxt, "atlas_snapshot_fdw enumeration",
									ALLOCSET_DEFAULT_SIZES);
	memset(&groups, 0, sizeof(groups));
	memset(&clusters, 0, sizeof(clusters));
	groups.cxt = enumcxt;
	clusters.cxt = setcxt;
	va.kind = kind;
	va.set = set;
	va.max_chains = opts->max_request_chains;
	va.over = false;

	memset(&gs, 0, sizeof(gs));
	if (atlas_chain_set_constrained(set, ATLAS_KEY_GROUP))
		gs.n = atlas_chain_set_values(set, ATLAS_KEY_GROUP, &gs.texts,
									  &gs.datums);
	else
	{
		bool		given = false;

		f = atlas_fetcher_create(conn, opts, projects, page_size, true,
								 enumcxt);
		atlas_fetcher_start(f, one_chain, &given);
		va.found = &groups;
		read_inventory(f, opts, conn, projects, page_size, visit_group, &va,
					   &va.over);
		*requests += atlas_fetcher_requests(f);
		gs.n = groups.n;
		gs.texts = groups.groups;
		gs.datums = groups.group_datums;
	}

	if (gs.n > 0)
	{
		f = atlas_fetcher_create(conn, opts, inv, page_size, true, enumcxt);
		atlas_fetcher_start(f, group_chain, &gs);
		va.found = &clusters;
		read_inventory(f, opts, conn, inv, page_size, visit_cluster, &va,
					   &va.over);
		*requests += atlas_fetcher_requests(f);
	}
	if (va.over)
		too_many_chains(rel, opts->max_request_chains);

	/* group values found by GET /groups must outlive enumcxt */
	if (!atlas_chain_set_constrained(set, ATLAS_KEY_GROUP))
	{
		for (int i = 0; i < clusters.n; i++)
			clusters.group_datums[i] =
				datumCopy(clusters.group_datums[i], false, -1);
	}
	MemoryContextDelete(enumcxt);

	atlas_chain_set_use_pairs(set, clusters.n, clusters.groups,
							  clusters.group_datums, clusters.names,
							  clusters.name_datums);
}
