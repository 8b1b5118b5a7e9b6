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
 * Enumeration only saves requests: a scan that enumerates returns the rows
 * that naming every cluster (group_id and cluster_name) would, whatever
 * plan the planner picks.  So a cluster is skipped only when its inventory
 * item says it cannot have snapshots of the table's kind, and read
 * otherwise:
 *	- cluster_snapshots and sharded_cluster_snapshots skip a cluster whose
 *	  backupEnabled is false, and one whose clusterType names the other
 *	  kind (REPLICASET for the sharded table; SHARDED or GEOSHARDED for the
 *	  replica-set table).  The spec marks clusterType optional: a cluster
 *	  without it, or with a type this code does not know, is read by both
 *	  tables, since both endpoints answer for any dedicated cluster (with
 *	  an empty list for the other kind), as they do for a named cluster
 *	  (DEBUG1 names it); so is one without backupEnabled;
 *	- a deleted cluster that still holds backups (the list has it with
 *	  include_deleted_clusters, the default, and marks it retainBackups
 *	  true) is not skipped for backupEnabled false: its retained snapshots
 *	  are read by the table of its clusterType, as a live cluster's;
 *	- flex_snapshots skips the Flex clusters whose backupSettings.enabled
 *	  is false;
 *	- serverless_snapshots reads every serverless instance.
 * A cluster whose name fails a qual on cluster_name is skipped too
 * (cluster_name IN (...) without group_id looks for those names in every
 * project).  tenant_snapshots (retired shared tier) is not enumerated.
 *
 * The inventory requests run through fetchers of their own (fetch.c):
 * paged, up to max_concurrency at once (the projects' cluster lists are
 * request chains like any other), retried, within max_scan_memory.  Each
 * level is bounded by max_request_chains before the requests it costs
 * (atlas_too_many_chains, the same error as for key values):
 *	- projects: the group_id values given, or the projects GET /groups
 *	  lists (read to the end and counted), each one cluster-list chain;
 *	- clusters: the (group, cluster) pairs found, read to the end of every
 *	  cluster list and counted, each one snapshot chain.
 * Only the first max_request_chains of each level are kept, so the ids and
 * names held stay within that many (each at most a key's length) whatever
 * the organization's size; max_scan_memory bounds the pages read.  The
 * pairs become the scan's request chains (chains.c).
 *
 * The fetchers go on one from the other, from the scan's own and back to
 * it (atlas_fetcher_continue): what the inventory learned of the rate limit
 * paces the snapshot requests, and the scan's counts for EXPLAIN ANALYZE
 * include the inventory's requests, pages and rate limits.  Its errors are
 * the scan's (atlas_snapshot_fdw.c counts them in the statistics).
 *
 * An enumeration runs in two steps so that its first round trip overlaps
 * whatever runs before the scan reads (issue 17: the other side of a join,
 * which reads the same cluster list):
 *	- atlas_enumeration_start, from BeginForeignScan when the key values
 *	  are known then (no parameter from an outer row), arms the first
 *	  inventory request, which goes out as soon as the backend waits on
 *	  Atlas for anything;
 *	- atlas_enumeration_finish, when the scan first needs its chains, reads
 *	  the inventory to the end.
 *
 * Memory: the pairs are palloc'd in the memory context current at the
 * start (the scan's key context); the fetcher and the parsed inventory
 * pages live in a child context deleted when the enumeration finishes, and
 * with the query's memory on ERROR, whose reset callbacks free the
 * malloc'd parts.
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
 *		ATLAS_KEY_BIT) makes with these options, for EXPLAIN (VERBOSE);
 *		palloc'd.
 */
char *
atlas_enumeration_text(const AtlasResource *res, uint32 mask,
					   const AtlasFdwOptions *opts)
{
	const AtlasResource *inv = inventory_resource(enum_kind(res));
	bool		deleted = inv->deleted_param && opts->include_deleted_clusters;
	StringInfoData buf;

	initStringInfo(&buf);
	if ((mask & ATLAS_KEY_BIT(ATLAS_KEY_GROUP)) == 0)
		appendStringInfo(&buf, "GET %s/groups, then ", ATLAS_API_PREFIX);
	appendStringInfoString(&buf, "GET ");
	atlas_append_path(&buf, inv->list_path, NULL, true);
	if (deleted)
		appendStringInfo(&buf, "?%s=true", inv->deleted_param);
	appendStringInfoString(&buf, " per project, then the snapshots of each ");
	switch (enum_kind(res))
	{
		case ENUM_REPLICA_SET:
			appendStringInfo(&buf, "cluster with backup enabled%s that is not SHARDED or GEOSHARDED",
							 deleted ? " or deleted with retained backups" : "");
			break;
		case ENUM_SHARDED:
			appendStringInfo(&buf, "cluster with backup enabled%s that is not REPLICASET",
							 deleted ? " or deleted with retained backups" : "");
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
 *		Whether an inventory item may have snapshots of the table's kind:
 *		false only if the item says it cannot (see the file header).
 */
static bool
cluster_matches(EnumKind kind, struct json_object *item)
{
	const char *type;
	struct json_object *settings;
	bool		sharded;

	switch (kind)
	{
		case ENUM_REPLICA_SET:
		case ENUM_SHARDED:
			/* a deleted cluster's backups are off, its snapshots kept */
			if (!json_bool_member(item, "backupEnabled", true) &&
				!json_bool_member(item, "retainBackups", false))
				return false;
			type = json_string_member(item, "clusterType");
			if (type != NULL && strcmp(type, "REPLICASET") == 0)
				return kind == ENUM_REPLICA_SET;
			sharded = type != NULL && (strcmp(type, "SHARDED") == 0 ||
									   strcmp(type, "GEOSHARDED") == 0);
			if (sharded)
				return kind == ENUM_SHARDED;
			/* absent or unknown: both endpoints answer for it */
			elog(DEBUG1, "atlas_snapshot_fdw: cluster \"%s\" of clusterType \"%s\" is read as a replica set and as a sharded cluster",
				 json_string_member(item, "name") ? json_string_member(item, "name") : "",
				 type ? type : "(absent)");
			return true;
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
 *		calling visit for each item that is a JSON object.
 *
 * The pages are read as a scan reads its own (atlas_fetcher_read_page:
 * the same errors, the same rules for the end of a list), into a context
 * of their own under the current one, deleted before returning (and with
 * the query's memory on ERROR, whose reset callback frees the tree).
 * Errors of visit, and the bound on pages, carry the error context of the
 * request whose page is being read.
 */
static void
read_inventory(AtlasFetcher *f,
			   void (*visit) (void *arg, const AtlasRequestKeys *keys,
							  struct json_object *item),
			   void *arg)
{
	MemoryContext page_cxt;
	ErrorContextCallback errcallback;
	AtlasPageRead rd;

	page_cxt = AllocSetContextCreate(CurrentMemoryContext,
									 "atlas_snapshot_fdw inventory page",
									 ALLOCSET_DEFAULT_SIZES);
	errcallback.callback = atlas_fetcher_error_context;
	errcallback.arg = f;

	while (atlas_fetcher_read_page(f, page_cxt, ATLAS_READ_INVENTORY, &rd))
	{
		int			nrows = rd.page ? atlas_page_nrows(rd.page) : 0;

		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;
		for (int i = 0; i < nrows; i++)
		{
			struct json_object *item = atlas_page_row_object(rd.page, i);

			CHECK_FOR_INTERRUPTS();
			if (item != NULL)
				visit(arg, &rd.keys, item);
		}
		if (!rd.chain_ended && rd.page_num >= ENUM_MAX_PAGES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("Atlas inventory list has more than %d pages",
							ENUM_MAX_PAGES)));
		error_context_stack = errcallback.previous;
	}
	MemoryContextDelete(page_cxt);
}

/* Arguments of the two visit callbacks */
typedef struct VisitArg
{
	EnumKind	kind;
	AtlasChainSet *set;			/* the scan's keys (for cluster_name) */
	Found	   *found;			/* projects or clusters found */
	int			max_chains;		/* most kept in found */
	int64		count;			/* how many there are, kept or not */
} VisitArg;

/*
 * visit callback of GET /groups: count the projects, keep the ids of the
 * first max_chains (more is an error once the list is read)
 */
static void
visit_group(void *arg, const AtlasRequestKeys *keys, struct json_object *item)
{
	VisitArg   *va = (VisitArg *) arg;
	const char *id = json_string_member(item, "id");

	if (id == NULL)
		return;
	atlas_validate_key_value(ATLAS_KEY_GROUP, id);
	va->count++;
	(void) found_add(va->found, id, (Datum) 0, "", va->max_chains);
}

/*
 * visit callback of a cluster list: count the clusters to scan, keep the
 * first max_chains (more is an error once the lists are read)
 */
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
	va->count++;
	(void) found_add(va->found, keys->text[ATLAS_KEY_GROUP],
					 keys->datum[ATLAS_KEY_GROUP], name, va->max_chains);
}

/*
 * What an enumeration keeps between its start and its finish: the
 * fetcher of the inventory list being read, and what it found so far.
 * Lives in its own context (enumcxt), a child of the chain set's.
 */
struct AtlasEnumeration
{
	const AtlasResource *inv;	/* the cluster list of the table's kind */
	AtlasChainSet *set;			/* the scan's keys; gets the pairs */
	AtlasConnEntry *conn;
	const AtlasFdwOptions *opts;
	AtlasFetcher *scan_fetcher; /* the scan's: its pacing and counts go on
								 * into the inventory's and come back */
	MemoryContext enumcxt;		/* all but the pairs (in the set's context) */
	bool		groups_given;	/* group_id was given: no GET /groups */
	int64		groups_over;	/* group_id values given beyond
								 * max_request_chains: their number, or 0 */
	bool		given;			/* one_chain's state */
	AtlasFetcher *fetcher;		/* GET /groups, or the cluster lists */
	bool		reading_groups; /* fetcher is GET /groups */
	GroupSource gs;
	Found		groups;
	Found		clusters;
	VisitArg	va;
};

/*
 * inventory_fetcher
 *		A fetcher, in the enumeration's context, over the inventory list
 *		"list" for the chains that source(arg) makes: paged by
 *		items_per_page, fetching ahead, going on from "prev" (the scan's
 *		fetcher, or the inventory's before it: atlas_fetcher_continue).
 */
static AtlasFetcher *
inventory_fetcher(AtlasEnumeration *en, const AtlasResource *list,
				  AtlasChainSource source, void *arg, AtlasFetcher *prev)
{
	AtlasFetcher *f = atlas_fetcher_create(en->conn, en->opts, list,
										   en->opts->items_per_page, true,
										   en->enumcxt);

	atlas_fetcher_continue(f, prev);
	atlas_fetcher_start(f, source, arg);
	return f;
}

/*
 * atlas_enumeration_start
 *		Get ready to find the (group, cluster) pairs a scan without all of
 *		its keys reads, and arm its first inventory request (GET /groups,
 *		or the first page of the first project's cluster list): it goes out
 *		as soon as the backend waits on Atlas for anything (fetch.c).
 *
 * So when another scan of the query reads first (the other side of a
 * join, reading the same cluster list), the two requests run together,
 * and by the time this scan reads its keys (atlas_enumeration_finish) the
 * first inventory page has often arrived.  A request that fails is
 * reported only when it is read; a scan that never reads leaves nothing
 * behind (the fetcher's context goes with the query's).  More group_id
 * values than max_request_chains arm nothing: atlas_enumeration_finish
 * reports them.  scan_fetcher is the scan's own, idle until the
 * enumeration finishes.  Allocates in the current memory context (the
 * chain set's).
 */
AtlasEnumeration *
atlas_enumeration_start(AtlasChainSet *set, AtlasConnEntry *conn,
						const AtlasFdwOptions *opts, const AtlasResource *res,
						AtlasFetcher *scan_fetcher)
{
	EnumKind	kind = enum_kind(res);
	const AtlasResource *projects = atlas_find_resource("projects");
	MemoryContext setcxt = CurrentMemoryContext;
	AtlasEnumeration *en;

	if (kind == ENUM_NONE || projects == NULL)
		elog(ERROR, "atlas_snapshot_fdw: resource \"%s\" cannot be enumerated",
			 res->name);

	en = palloc0(sizeof(AtlasEnumeration));
	en->inv = inventory_resource(kind);
	en->set = set;
	en->conn = conn;
	en->opts = opts;
	en->scan_fetcher = scan_fetcher;
	en->enumcxt = AllocSetContextCreate(setcxt, "atlas_snapshot_fdw enumeration",
										ALLOCSET_DEFAULT_SIZES);
	en->groups.cxt = en->enumcxt;
	en->clusters.cxt = setcxt;
	en->va.kind = kind;
	en->va.set = set;
	en->va.max_chains = opts->max_request_chains;

	en->groups_given = atlas_chain_set_constrained(set, ATLAS_KEY_GROUP);
	if (en->groups_given)
	{
		en->gs.n = atlas_chain_set_values(set, ATLAS_KEY_GROUP, &en->gs.texts,
										  &en->gs.datums);
		if (en->gs.n > opts->max_request_chains)
			en->groups_over = en->gs.n;
		else if (en->gs.n > 0)
			en->fetcher = inventory_fetcher(en, en->inv, group_chain, &en->gs,
											scan_fetcher);
	}
	else
	{
		en->fetcher = inventory_fetcher(en, projects, one_chain, &en->given,
										scan_fetcher);
		en->reading_groups = true;
	}
	if (en->fetcher)
		atlas_fetcher_arm(en->fetcher);
	return en;
}

/*
 * atlas_enumeration_finish
 *		Read the rest of the inventory and make the pairs found the chain
 *		set's groups and clusters.
 *
 * More projects than max_request_chains is an ERROR before any cluster
 * list is asked for, more clusters one before any snapshot request.  The
 * scan's fetcher goes on from the last inventory fetcher (pacing, counts).
 * The enumeration's context is deleted; the pairs stay in the chain
 * set's.
 */
void
atlas_enumeration_finish(AtlasEnumeration *en, Relation rel)
{
	const AtlasFdwOptions *opts = en->opts;

	if (en->groups_over > 0)
		atlas_too_many_chains(rel, ATLAS_CHAINS_PROJECTS, en->groups_over,
							  opts->max_request_chains);
	if (en->reading_groups)
	{
		AtlasFetcher *groups_fetcher = en->fetcher;

		en->va.found = &en->groups;
		en->va.count = 0;
		read_inventory(groups_fetcher, visit_group, &en->va);
		atlas_fetcher_continue(en->scan_fetcher, groups_fetcher);
		if (en->va.count > opts->max_request_chains)
			atlas_too_many_chains(rel, ATLAS_CHAINS_PROJECTS, en->va.count,
								  opts->max_request_chains);
		en->gs.n = en->groups.n;
		en->gs.texts = en->groups.groups;
		en->gs.datums = en->groups.group_datums;
		en->fetcher = NULL;
		if (en->gs.n > 0)
			en->fetcher = inventory_fetcher(en, en->inv, group_chain, &en->gs,
											groups_fetcher);
	}
	if (en->fetcher)
	{
		en->va.found = &en->clusters;
		en->va.count = 0;
		read_inventory(en->fetcher, visit_cluster, &en->va);
		atlas_fetcher_continue(en->scan_fetcher, en->fetcher);
		if (en->va.count > opts->max_request_chains)
			atlas_too_many_chains(rel, ATLAS_CHAINS_CLUSTERS, en->va.count,
								  opts->max_request_chains);
	}

	/* group values found by GET /groups must outlive enumcxt */
	if (!en->groups_given)
	{
		for (int i = 0; i < en->clusters.n; i++)
			en->clusters.group_datums[i] =
				datumCopy(en->clusters.group_datums[i], false, -1);
	}
	MemoryContextDelete(en->enumcxt);

	atlas_chain_set_use_pairs(en->set, en->clusters.n, en->clusters.groups,
							  en->clusters.group_datums, en->clusters.names,
							  en->clusters.name_datums);
	pfree(en);
}
