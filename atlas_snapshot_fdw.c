/*-------------------------------------------------------------------------
 *
 * atlas_snapshot_fdw.c
 *		  Foreign-data wrapper for MongoDB Atlas backup snapshots
 *
 * The handler and every FDW callback: planning (which WHERE clauses become
 * request keys, costs), execution (request chains, page-at-a-time
 * streaming of rows), EXPLAIN and IMPORT FOREIGN SCHEMA.
 *
 * A scan evaluates its key expressions once per (re)scan and expands them
 * into request chains, one per combination of key values (chains.c: made one
 * at a time as the fetcher asks for them, at most max_request_chains).  Each chain is
 * one GET by id, or a list walked page by page until a page comes back
 * shorter than requested.  Only the current page is held: it lives in
 * page_cxt, which is reset before the next one is fetched.
 *
 * A scan of an async_capable table under an Append (the partitions of a
 * partitioned table, the branches of a UNION ALL) runs asynchronously:
 * the Append asks it for a row (ForeignAsyncRequest); it hands one over if
 * its page has one or the next page is ready (atlas_fetcher_poll starts
 * what may start and lets the event loop act, without waiting), and
 * otherwise leaves the request pending and gives the Append the event
 * loop's descriptor to wait on (ForeignAsyncConfigureWait; loop.c); when
 * that wakes, ForeignAsyncNotify tries again.  So the scans of all the
 * partitions keep their requests in flight at once, one event loop
 * serving them all.  The first read of an enumerating scan (its
 * inventory, enumerate.c) is still read to the end before it returns.
 *
 * A snapshot scan without group_id or cluster_name first finds the
 * clusters it reads in the inventory (enumerate.c); its costs stand for
 * elapsed time, so that such a scan joined by hash or merge join wins over
 * a nested loop of one request chain per outer row when it is faster.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  atlas_snapshot_fdw.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/sysattr.h"
#include "access/table.h"
#include "atlas_snapshot_fdw.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/execAsync.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/execnodes.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"

/* Cost of one HTTP round trip to Atlas, in units of seq_page_cost */
#define ATLAS_REQUEST_COST		1000.0
/* Per-row cost of parsing JSON and converting it, on top of cpu_tuple_cost */
#define ATLAS_ROW_COST			0.05
/* Rows a list returns when we know nothing better */
#define ATLAS_ROWS_PER_LIST		500.0
/* Rows a GET by id returns */
#define ATLAS_ROWS_PER_GET		1.0
/* Rows between two looks at the transfers in flight (a power of 2) */
#define PUMP_EVERY_ROWS			64
/* Values a parameter array is assumed to hold */
#define ATLAS_ARRAY_PARAM_SIZE	10.0
/* Projects an organization-wide scan is assumed to find */
#define ATLAS_ENUM_GROUPS		100.0
/* Clusters of a kind a project is assumed to have */
#define ATLAS_ENUM_CLUSTERS		20.0

/*
 * Planner state of a foreign table, kept in baserel->fdw_private.
 */
typedef struct AtlasFdwRelationInfo
{
	const AtlasResource *res;	/* what the table reads */
	AtlasFdwOptions opts;		/* server and table options */
	List	   *key_quals;		/* AtlasKeyQual from baserestrictinfo */
	List	   *local_conds;	/* RestrictInfos checked locally */
	double		nchains;		/* estimated request chains */
	AttrNumber	key_attnos[ATLAS_NUM_KEYS]; /* key columns, 0 if absent */
	bool		can_enumerate;	/* missing group/cluster keys are found by
								 * enumeration (enumerate.c) */
	List	   *bound_conds;	/* RestrictInfos of the partition bound that
								 * are request keys (partition_key_conds) */
} AtlasFdwRelationInfo;

/* Argument of ec_member_matches_key */
typedef struct EcMatchArg
{
	Index		relid;			/* the foreign table's range table index */
	AttrNumber	attno;			/* the key column */
} EcMatchArg;

/*
 * Indexes of the items of ForeignScan.fdw_private.  fdw_exprs holds the
 * key value expressions, in the same order as the four key lists.
 */
enum FdwScanPrivateIndex
{
	FdwScanPrivateKeyKinds,		/* Integer list of AtlasKeyKind */
	FdwScanPrivateKeyIsArray,	/* Integer list: 1 for "= ANY (array)" */
	FdwScanPrivateRequest,		/* String: first request, for EXPLAIN */
	FdwScanPrivateUsedAttrs,	/* Integer list of attnums the query reads */
	FdwScanPrivatePageSize,		/* Integer: itemsPerPage to ask for */
	FdwScanPrivateLimited,		/* Integer: 1 if a LIMIT was pushed down */
	FdwScanPrivateEnumerate,	/* String: enumeration for EXPLAIN, or "" if
								 * the scan has all its keys */
	FdwScanPrivateKeyColTypes,	/* OID list: each key column's (base) type */
	FdwScanPrivateKeyColTypmods,	/* Integer list: and its typmod */
	FdwScanPrivateFilters,		/* Integer list: each filter clause's filter
								 * (its value follows the keys' in
								 * fdw_exprs) */
	FdwScanPrivateFilterOps		/* Integer list: and its AtlasFilterOp */
};

/*
 * Execution state of a foreign scan.
 */
typedef struct AtlasFdwScanState
{
	Relation	rel;			/* the foreign table */
	const AtlasResource *res;	/* what it reads */
	AtlasFdwOptions opts;		/* merged options (holds secrets) */
	AtlasConnEntry *conn;		/* cached connection, owned by the cache */
	AtlasFetcher *fetcher;		/* runs the requests, in a child context */
	AtlasColumnMap *colmap;		/* column -> JSON path or key */

	List	   *key_kinds;		/* from fdw_private */
	List	   *key_is_array;	/* from fdw_private */
	List	   *key_coltypes;	/* from fdw_private */
	List	   *key_coltypmods; /* from fdw_private */
	List	   *key_states;		/* ExprStates of the keys' fdw_exprs */
	List	   *filter_ids;		/* from fdw_private */
	List	   *filter_ops;		/* from fdw_private */
	List	   *filter_states;	/* ExprStates of the filters' fdw_exprs */
	AtlasFilterQuery filters;	/* their parameters, in keys_cxt */

	/* request chains of the current (re)scan, in keys_cxt */
	MemoryContext keys_cxt;
	AtlasChainSet *chainset;	/* the key values; makes the chains */
	int64		nchains;		/* how many chains there are */
	AtlasRequestKeys cur_keys;	/* the keys of the chain of the page read */
	int64		finished;		/* chains read to the end */
	bool		started;		/* chains built for this (re)scan */
	int64		pages_read;		/* pages read since (re)start */
	int			page_size;		/* itemsPerPage, from the plan */

	/* current page, in page_cxt (the fetcher's reader resets it) */
	MemoryContext page_cxt;
	AtlasPage  *page;
	int			next_row;

	/* EXPLAIN ANALYZE counts requests and pages in the fetcher */
	bool		enumerate;		/* find the group/cluster keys first */
	bool		keys_ready;		/* chainset evaluated, not used yet */
	AtlasEnumeration *enumeration;	/* started, not finished, or NULL */

	/* asynchronous execution (an Append's subplan) */
	bool		async;			/* the executor runs the scan asynchronously */
	bool		starved;		/* Iterate had no row ready (not the end) */
	long		wake_ms;		/* then: the fetcher's own timer, or -1 */
	int			wait_fd;		/* the event loop's descriptor of the scan
								 * (loop.c), or -1 */
	MemoryContextCallback wait_fd_cb;	/* closes it with the query's memory */
} AtlasFdwScanState;

PG_FUNCTION_INFO_V1(atlas_snapshot_fdw_handler);

/* FDW callback routines */
static void atlasGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								   Oid foreigntableid);
static void atlasGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
static ForeignScan *atlasGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
										Oid foreigntableid, ForeignPath *best_path,
										List *tlist, List *scan_clauses,
										Plan *outer_plan);
static void atlasBeginForeignScan(ForeignScanState *node, int eflags);
static TupleTableSlot *atlasIterateForeignScan(ForeignScanState *node);
static void atlasReScanForeignScan(ForeignScanState *node);
static void atlasEndForeignScan(ForeignScanState *node);
static void atlasExplainForeignScan(ForeignScanState *node, ExplainState *es);
static List *atlasImportForeignSchema(ImportForeignSchemaStmt *stmt,
									  Oid serverOid);
static bool atlasIsForeignPathAsyncCapable(ForeignPath *path);
static void atlasForeignAsyncRequest(AsyncRequest *areq);
static void atlasForeignAsyncConfigureWait(AsyncRequest *areq);
static void atlasForeignAsyncNotify(AsyncRequest *areq);

/* Helper functions */
static double estimate_key_values(AtlasKeyQual *kq);
static double estimate_chains(List *key_quals);
static bool enumerating(AtlasFdwRelationInfo *fpinfo, uint32 mask);
static double enumerated_chains(uint32 mask);
static void evaluate_keys(AtlasFdwScanState *fsstate, ExprContext *econtext);
static void evaluate_filters(AtlasFdwScanState *fsstate,
							 ExprContext *econtext);
static void build_request_chains(AtlasFdwScanState *fsstate,
								 ExprContext *econtext);
static bool fetch_next_page(AtlasFdwScanState *fsstate);

/*
 * atlas_snapshot_fdw_handler
 *		The FdwRoutine of atlas_snapshot_fdw.
 */
Datum
atlas_snapshot_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = atlasGetForeignRelSize;
	routine->GetForeignPaths = atlasGetForeignPaths;
	routine->GetForeignPlan = atlasGetForeignPlan;
	routine->BeginForeignScan = atlasBeginForeignScan;
	routine->IterateForeignScan = atlasIterateForeignScan;
	routine->ReScanForeignScan = atlasReScanForeignScan;
	routine->EndForeignScan = atlasEndForeignScan;
	routine->ExplainForeignScan = atlasExplainForeignScan;
	routine->ImportForeignSchema = atlasImportForeignSchema;

	/* asynchronous execution */
	routine->IsForeignPathAsyncCapable = atlasIsForeignPathAsyncCapable;
	routine->ForeignAsyncRequest = atlasForeignAsyncRequest;
	routine->ForeignAsyncConfigureWait = atlasForeignAsyncConfigureWait;
	routine->ForeignAsyncNotify = atlasForeignAsyncNotify;

	PG_RETURN_POINTER(routine);
}

/*
 * partition_key_conds
 *		The clauses of a partition's bound (and its ancestors') that are
 *		request keys, as RestrictInfos of baserel.
 *
 * A foreign table that is a partition holds only rows within its bound
 * (PostgreSQL does not check that for foreign tables, it assumes it), so
 * its bound is a condition of every scan of it: a partition FOR VALUES IN
 * (the projects of one organization) reads those projects (group_id =
 * ANY (...)), instead of every project its credentials can see; with the
 * query's own conditions on the same key, the values both allow.  Bound
 * clauses that are no key (IS NOT NULL, a range, a hash) are left out:
 * they hold for every row the scan returns or not, as for any foreign
 * table.  Allocated in the planner's memory.
 */
static List *
partition_key_conds(PlannerInfo *root, RelOptInfo *baserel, Relation rel,
					const AtlasResource *res)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (!rel->rd_rel->relispartition)
		return NIL;
	foreach(lc, RelationGetPartitionQual(rel))
	{
		Node	   *clause = (Node *) lfirst(lc);
		RestrictInfo *ri;
		List	   *key_quals;
		List	   *local_conds;

		/* the bound's Vars are the partition's columns, as relation 1 */
		if (baserel->relid != 1)
			ChangeVarNodes(clause, 1, baserel->relid, 0);
		ri = make_simple_restrictinfo(root, (Expr *) clause);
		atlas_classify_conditions(root, baserel, res, list_make1(ri),
								  &key_quals, &local_conds);
		if (key_quals != NIL)
			result = lappend(result, ri);
	}
	return result;
}

/*
 * atlasGetForeignRelSize
 *		Classify the restrictions and estimate the number of rows.
 */
static void
atlasGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
					   Oid foreigntableid)
{
	AtlasFdwRelationInfo *fpinfo = palloc0(sizeof(AtlasFdwRelationInfo));
	ForeignTable *table = GetForeignTable(foreigntableid);
	ForeignServer *server = GetForeignServer(table->serverid);
	Relation	rel;
	uint32		mask;
	double		rows_per_chain;

	baserel->fdw_private = fpinfo;
	atlas_get_options(table, server, NULL, &fpinfo->opts);

	rel = table_open(foreigntableid, NoLock);
	fpinfo->res = atlas_resource_for_table(rel, fpinfo->opts.resource);
	for (int i = 0; i < RelationGetDescr(rel)->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), i);
		AtlasKeyKind kind;

		if (!attr->attisdropped &&
			atlas_key_from_column(fpinfo->res, NameStr(attr->attname), &kind) &&
			atlas_column_field(foreigntableid, attr->attnum) == NULL)
			fpinfo->key_attnos[kind] = attr->attnum;
	}
	fpinfo->bound_conds = partition_key_conds(root, baserel, rel, fpinfo->res);
	table_close(rel, NoLock);
	fpinfo->can_enumerate = fpinfo->opts.enumerate &&
		atlas_can_enumerate(fpinfo->res);

	atlas_classify_conditions(root, baserel, fpinfo->res,
							  list_concat_copy(baserel->baserestrictinfo,
											   fpinfo->bound_conds),
							  &fpinfo->key_quals, &fpinfo->local_conds);
	mask = atlas_key_mask(fpinfo->key_quals);

	fpinfo->nchains = estimate_chains(fpinfo->key_quals);
	if (enumerating(fpinfo, mask))
		fpinfo->nchains *= enumerated_chains(mask);
	rows_per_chain = (mask & ATLAS_ITEM_KEYS) ?
		ATLAS_ROWS_PER_GET : ATLAS_ROWS_PER_LIST;

	baserel->rows = clamp_row_est(fpinfo->nchains * rows_per_chain *
								  clauselist_selectivity(root,
														 extract_actual_clauses(fpinfo->local_conds, false),
														 baserel->relid,
														 JOIN_INNER, NULL));
	baserel->tuples = fpinfo->nchains * rows_per_chain;
}

/*
 * estimate_key_values
 *		How many values one key qual gives its key: one for "key = value",
 *		the length of a constant array or ARRAY[...] list, and
 *		ATLAS_ARRAY_PARAM_SIZE for an array known only at execution.
 */
static double
estimate_key_values(AtlasKeyQual *kq)
{
	if (!kq->is_array)
		return 1.0;
	if (IsA(kq->expr, Const) && !((Const *) kq->expr)->constisnull)
	{
		ArrayType  *array = DatumGetArrayTypeP(((Const *) kq->expr)->constvalue);

		return ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	}
	if (IsA(kq->expr, ArrayExpr))
		return list_length(((ArrayExpr *) kq->expr)->elements);
	return ATLAS_ARRAY_PARAM_SIZE;
}

/*
 * estimate_chains
 *		How many request chains the key quals expand to: the product, over
 *		the keys some qual constrains, of the number of values each key is
 *		given (at least one, so that an empty list does not make a scan
 *		look free).  Several quals on one key intersect: the smallest
 *		count stands for the key.
 */
static double
estimate_chains(List *key_quals)
{
	double		values[ATLAS_NUM_KEYS];
	bool		constrained[ATLAS_NUM_KEYS] = {0};
	double		product = 1.0;
	ListCell   *lc;

	foreach(lc, key_quals)
	{
		AtlasKeyQual *kq = (AtlasKeyQual *) lfirst(lc);
		double		n = estimate_key_values(kq);

		values[kq->kind] = constrained[kq->kind] ?
			Min(values[kq->kind], n) : n;
		constrained[kq->kind] = true;
	}
	for (int k = 0; k < ATLAS_NUM_KEYS; k++)
	{
		if (constrained[k])
			product *= Max(values[k], 1.0);
	}
	return product;
}

/*
 * enumerating
 *		Whether a scan with these keys finds its missing group and cluster
 *		keys by enumeration (rather than being impossible).
 */
static bool
enumerating(AtlasFdwRelationInfo *fpinfo, uint32 mask)
{
	return fpinfo->can_enumerate && !atlas_keys_complete(fpinfo->res, mask);
}

/*
 * enumerated_chains
 *		The (group, cluster) pairs an enumeration is assumed to find for each
 *		combination of the keys given: estimate_chains counted the given
 *		groups and cluster names already.
 */
static double
enumerated_chains(uint32 mask)
{
	double		n = 1.0;

	if ((mask & ATLAS_KEY_BIT(ATLAS_KEY_GROUP)) == 0)
		n *= ATLAS_ENUM_GROUPS;
	if ((mask & ATLAS_KEY_BIT(ATLAS_KEY_CLUSTER)) == 0)
		n *= ATLAS_ENUM_CLUSTERS;
	return n;
}

/*
 * enumeration_requests
 *		Inventory requests an enumeration makes: /groups if no group is
 *		given, and one cluster list per project.
 */
static double
enumeration_requests(List *key_quals)
{
	uint32		mask = atlas_key_mask(key_quals);
	double		groups = 1.0;
	ListCell   *lc;

	if ((mask & ATLAS_KEY_BIT(ATLAS_KEY_GROUP)) == 0)
		return 1.0 + ATLAS_ENUM_GROUPS;	/* GET /groups, then each project */
	foreach(lc, key_quals)
	{
		AtlasKeyQual *kq = (AtlasKeyQual *) lfirst(lc);

		if (kq->kind == ATLAS_KEY_GROUP && kq->is_array)
			groups = Max(groups, ATLAS_ARRAY_PARAM_SIZE);
	}
	return groups;
}

/*
 * scan_cost
 *		Estimated rows and costs of a scan that makes nchains request
 *		chains: what matters is the number of round trips.
 */
static void
scan_cost(AtlasFdwRelationInfo *fpinfo, double nchains, bool by_id,
		  double selectivity, double *rows, Cost *startup_cost,
		  Cost *total_cost)
{
	double		fetched = nchains * (by_id ? ATLAS_ROWS_PER_GET : ATLAS_ROWS_PER_LIST);
	double		chain_pages = by_id ? 1.0 :
		floor(ATLAS_ROWS_PER_LIST / fpinfo->opts.items_per_page) + 1;
	double		window = Max(1, fpinfo->opts.max_concurrency);

	/*
	 * What a plan's cost stands for here is elapsed time: the chains of a
	 * scan run max_concurrency at a time, the pages of one chain one after
	 * the other.
	 */
	double		round_trips = Max(chain_pages, nchains * chain_pages / window);

	*rows = clamp_row_est(fetched * selectivity);
	*startup_cost = ATLAS_REQUEST_COST;
	*total_cost = round_trips * ATLAS_REQUEST_COST +
		fetched * (cpu_tuple_cost + ATLAS_ROW_COST);
}

/*
 * ec_member_matches_key
 *		generate_implied_equalities_for_column callback: does this
 *		equivalence member stand for our key column?
 */
static bool
ec_member_matches_key(PlannerInfo *root, RelOptInfo *rel,
					  EquivalenceClass *ec, EquivalenceMember *em,
					  void *arg)
{
	EcMatchArg *match = (EcMatchArg *) arg;
	Expr	   *expr = em->em_expr;

	while (IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	return IsA(expr, Var) &&
		(Index) ((Var *) expr)->varno == match->relid &&
		((Var *) expr)->varattno == match->attno &&
		((Var *) expr)->varlevelsup == 0;
}

/*
 * add_param_info
 *		Remember the ParamPathInfo of a join clause that can feed a key.
 */
static List *
add_param_info(PlannerInfo *root, RelOptInfo *baserel,
			   const AtlasResource *res, RestrictInfo *rinfo, List *ppi_list)
{
	List	   *kq,
			   *lc;
	Relids		required_outer;

	if (!join_clause_is_movable_to(rinfo, baserel))
		return ppi_list;
	atlas_classify_conditions(root, baserel, res, list_make1(rinfo),
							  &kq, &lc);
	if (kq == NIL)
		return ppi_list;

	required_outer = bms_union(rinfo->clause_relids, baserel->lateral_relids);
	required_outer = bms_del_member(required_outer, baserel->relid);
	if (bms_is_empty(required_outer))
		return ppi_list;
	return list_append_unique_ptr(ppi_list,
								  get_baserel_parampathinfo(root, baserel,
															required_outer));
}

/*
 * atlasGetForeignPaths
 *		Offer the plain path, and parameterized paths whose keys come from
 *		an outer relation of a nested loop (one request chain per outer row).
 *
 * A path that lacks a required key cannot run; it gets disable_cost so
 * that any other plan wins, and GetForeignPlan reports it if chosen.
 */
static void
atlasGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	AtlasFdwRelationInfo *fpinfo = (AtlasFdwRelationInfo *) baserel->fdw_private;
	const AtlasResource *res = fpinfo->res;
	uint32		mask = atlas_key_mask(fpinfo->key_quals);
	double		local_sel;
	double		rows;
	Cost		startup_cost;
	Cost		total_cost;
	List	   *ppi_list = NIL;
	ListCell   *lc;

	local_sel = clauselist_selectivity(root,
									   extract_actual_clauses(fpinfo->local_conds, false),
									   baserel->relid, JOIN_INNER, NULL);
	scan_cost(fpinfo, fpinfo->nchains,
			  (mask & ATLAS_ITEM_KEYS) != 0, local_sel,
			  &rows, &startup_cost, &total_cost);
	if (enumerating(fpinfo, mask) && bms_is_empty(baserel->lateral_relids))
	{
		/*
		 * An enumerating scan first reads the inventory (GET /groups, then
		 * the projects' cluster lists, max_concurrency at a time), then its
		 * chains as scan_cost says.  A nested loop's parameterized scans
		 * cannot overlap (one outer row at a time): that is what makes a
		 * hash join of the whole project win over them.
		 */
		double		enum_requests = enumeration_requests(fpinfo->key_quals);
		double		window = Max(1, fpinfo->opts.max_concurrency);
		double		enum_trips;

		if ((mask & ATLAS_KEY_BIT(ATLAS_KEY_GROUP)) == 0)
			enum_trips = 1.0 + ceil((enum_requests - 1.0) / window);
		else
			enum_trips = ceil(enum_requests / window);
		startup_cost += enum_trips * ATLAS_REQUEST_COST;
		total_cost += enum_trips * ATLAS_REQUEST_COST;
	}
	else if (!atlas_keys_complete(res, mask))
	{
		/*
		 * Impossible, or (under LATERAL, whose references give keys only to
		 * the parameterized paths) an enumeration of what the outer values
		 * name: only if nothing else can run.
		 */
		total_cost += disable_cost;
	}
	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, rows, 0,
									 startup_cost, total_cost,
									 NIL, NULL, NULL, NIL, NIL));

	/* join clauses that could feed a key, directly or via eclasses */
	foreach(lc, baserel->joininfo)
		ppi_list = add_param_info(root, baserel, res,
								  lfirst_node(RestrictInfo, lc), ppi_list);
	if (baserel->has_eclass_joins)
	{
		for (int k = 0; k < ATLAS_NUM_KEYS; k++)
		{
			EcMatchArg	arg;
			List	   *clauses;
			ListCell   *lc2;

			if (fpinfo->key_attnos[k] == 0)
				continue;
			arg.relid = baserel->relid;
			arg.attno = fpinfo->key_attnos[k];
			clauses = generate_implied_equalities_for_column(root, baserel,
															 ec_member_matches_key,
															 &arg,
															 baserel->lateral_referencers);
			foreach(lc2, clauses)
				ppi_list = add_param_info(root, baserel, res,
										  lfirst_node(RestrictInfo, lc2),
										  ppi_list);
		}
	}

	foreach(lc, ppi_list)
	{
		ParamPathInfo *ppi = (ParamPathInfo *) lfirst(lc);
		List	   *key_quals,
				   *local_conds;
		uint32		param_mask;

		atlas_classify_conditions(root, baserel, res,
								  list_concat(list_concat_copy(baserel->baserestrictinfo,
															   ppi->ppi_clauses),
											  fpinfo->bound_conds),
								  &key_quals, &local_conds);
		param_mask = atlas_key_mask(key_quals);
		if (!atlas_keys_complete(res, param_mask))
			continue;
		scan_cost(fpinfo, estimate_chains(key_quals),
				  (param_mask & ATLAS_ITEM_KEYS) != 0, local_sel,
				  &rows, &startup_cost, &total_cost);
		add_path(baserel, (Path *)
				 create_foreignscan_path(root, baserel, NULL, rows, 0,
										 startup_cost, total_cost,
										 NIL, ppi->ppi_req_outer, NULL, NIL,
										 NIL));
	}
}

/*
 * missing_key_error
 *		Report that a scan lacks the WHERE conditions its endpoint needs.
 */
static void
missing_key_error(Oid foreigntableid, const AtlasResource *res, uint32 mask)
{
	uint32		missing = res->required_keys & ~mask;
	StringInfoData cols;
	int			n = 0;

	if (missing == 0 && res->any_keys != 0 && (mask & res->any_keys) == 0)
	{
		/* one of several keys will do (events: group_id or org_id) */
		initStringInfo(&cols);
		for (int k = 0; k < ATLAS_NUM_KEYS; k++)
		{
			if (res->any_keys & ATLAS_KEY_BIT(k))
				appendStringInfo(&cols, "%s\"%s\"", n++ > 0 ? " or " : "",
								 atlas_key_column_name(k));
		}
		ereport(ERROR,
				(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 errmsg("foreign table \"%s\" requires a WHERE condition on column %s",
						get_rel_name(foreigntableid), cols.data),
				 errdetail("Resource \"%s\" is read from Atlas endpoints whose path contains one of these values.",
						   res->name),
				 errhint("Add a condition such as \"%s = '...'\" or \"%s IN (...)\", or join on the column.",
						 atlas_key_column_name(pg_rightmost_one_pos32(res->any_keys)),
						 atlas_key_column_name(pg_rightmost_one_pos32(res->any_keys)))));
	}

	initStringInfo(&cols);
	for (int k = 0; k < ATLAS_NUM_KEYS; k++)
	{
		if (missing & ATLAS_KEY_BIT(k))
			appendStringInfo(&cols, "%s\"%s\"", n++ > 0 ? " and " : "",
							 atlas_key_column_name(k));
	}
	/*
	 * A snapshot's contents are not enumerated (each snapshot costs a
	 * request per database): the snapshots come from a join.
	 */
	ereport(ERROR,
			(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
			 errmsg_plural("foreign table \"%s\" requires a WHERE condition on column %s",
						   "foreign table \"%s\" requires WHERE conditions on columns %s",
						   n, get_rel_name(foreigntableid), cols.data),
			 errdetail("Resource \"%s\" is read from an Atlas endpoint whose path contains these values.",
					   res->name),
			 (missing & ATLAS_KEY_BIT(ATLAS_KEY_SNAPSHOT)) ?
			 errhint("Join on group_id, cluster_name and snapshot_id with a table of resource \"cluster_snapshots\" (snapshot_id = its id), or add a condition such as \"snapshot_id = '...'\".") :
			 errhint("Add a condition such as \"%s = '...'\" or \"%s IN (...)\", or join on the column.",
					 atlas_key_column_name(pg_rightmost_one_pos32(missing)),
					 atlas_key_column_name(pg_rightmost_one_pos32(missing)))));
}

/*
 * used_attrs
 *		The attribute numbers that the scan must produce: those of the
 *		target list and of the locally checked conditions.  A whole-row
 *		reference needs them all (NIL means all).
 */
static List *
used_attrs(RelOptInfo *baserel, List *local_conds)
{
	Bitmapset  *attrs = NULL;
	List	   *result = NIL;
	ListCell   *lc;
	int			i = -1;

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	foreach(lc, local_conds)
		pull_varattnos((Node *) lfirst_node(RestrictInfo, lc)->clause,
					   baserel->relid, &attrs);

	if (bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs))
		return NIL;
	while ((i = bms_next_member(attrs, i)) >= 0)
	{
		AttrNumber	attno = i + FirstLowInvalidHeapAttributeNumber;

		if (attno > 0)
			result = lappend_int(result, attno);
	}
	/* an empty list would mean "all": name one column anyway */
	return result != NIL ? result : list_make1_int(-1);
}

/*
 * limited_page_size
 *		The page size to ask for, smaller than items_per_page when a LIMIT
 *		bounds the rows the scan must return.
 *
 * That holds only if the table is the query's only relation, nothing is
 * filtered locally and nothing (ORDER BY, grouping, aggregates, which make
 * the planner leave limit_tuples unset) needs the rows beyond the limit.
 * The Limit node above the scan then stops before a further page is asked.
 * *limited tells whether a LIMIT was pushed down (whatever its size): the
 * scan then fetches nothing ahead and reads its chains one after the other.
 */
static int
limited_page_size(PlannerInfo *root, RelOptInfo *baserel, List *local_conds,
				  int items_per_page, bool *limited)
{
	*limited = false;
	if (root->limit_tuples <= 0 || local_conds != NIL ||
		root->parse->sortClause != NIL ||
		bms_membership(root->all_baserels) != BMS_SINGLETON ||
		!bms_is_member(baserel->relid, root->all_baserels))
		return items_per_page;
	*limited = true;
	return (int) Max(1.0, Min(root->limit_tuples, (double) items_per_page));
}

/*
 * atlasGetForeignPlan
 *		Move the key quals into fdw_exprs; everything else is checked
 *		locally.
 *
 * scan_clauses includes the join clauses of a parameterized path, so outer
 * values that reach a key become Params of fdw_exprs.
 */
static ForeignScan *
atlasGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
					Oid foreigntableid, ForeignPath *best_path,
					List *tlist, List *scan_clauses, Plan *outer_plan)
{
	AtlasFdwRelationInfo *fpinfo = (AtlasFdwRelationInfo *) baserel->fdw_private;
	const AtlasResource *res = fpinfo->res;
	List	   *key_quals;
	List	   *local_conds;
	List	   *filter_quals;
	List	   *filter_ids = NIL;
	List	   *filter_ops = NIL;
	List	   *fdw_exprs = NIL;
	List	   *kinds = NIL;
	List	   *is_array = NIL;
	List	   *coltypes = NIL;
	List	   *coltypmods = NIL;
	List	   *fdw_private;
	ListCell   *lc;
	uint32		mask;
	int			page_size;
	bool		limited;

	atlas_classify_conditions(root, baserel, res,
							  list_concat_copy(scan_clauses,
											   fpinfo->bound_conds),
							  &key_quals, &local_conds);

	filter_quals = atlas_filter_quals(root, baserel, res, local_conds);
	mask = atlas_key_mask(key_quals);
	if (!atlas_keys_complete(res, mask) && !enumerating(fpinfo, mask))
		missing_key_error(foreigntableid, res, mask);
	atlas_check_key_combination(mask);

	foreach(lc, key_quals)
	{
		AtlasKeyQual *kq = (AtlasKeyQual *) lfirst(lc);

		fdw_exprs = lappend(fdw_exprs, kq->expr);
		kinds = lappend_int(kinds, kq->kind);
		is_array = lappend_int(is_array, kq->is_array ? 1 : 0);
		coltypes = lappend_oid(coltypes, kq->coltype);
		coltypmods = lappend_int(coltypmods, kq->coltypmod);
	}
	foreach(lc, filter_quals)
	{
		AtlasFilterQual *fq = (AtlasFilterQual *) lfirst(lc);

		fdw_exprs = lappend(fdw_exprs, fq->expr);
		filter_ids = lappend_int(filter_ids, fq->filter);
		filter_ops = lappend_int(filter_ops, fq->op);
	}

	page_size = limited_page_size(root, baserel, local_conds,
								  fpinfo->opts.items_per_page, &limited);
	fdw_private = list_make5(kinds, is_array,
							 makeString(atlas_deparse_request(res, key_quals,
															  filter_quals,
															  page_size,
															  &fpinfo->opts)),
							 used_attrs(baserel, local_conds),
							 makeInteger(page_size));
	fdw_private = lappend(fdw_private, makeInteger(limited ? 1 : 0));
	fdw_private = lappend(fdw_private,
						  makeString(enumerating(fpinfo, mask) ?
									 atlas_enumeration_text(res, mask,
															&fpinfo->opts) :
									 pstrdup("")));
	fdw_private = lappend(fdw_private, coltypes);
	fdw_private = lappend(fdw_private, coltypmods);
	fdw_private = lappend(fdw_private, filter_ids);
	fdw_private = lappend(fdw_private, filter_ops);

	return make_foreignscan(tlist,
							extract_actual_clauses(local_conds, false),
							baserel->relid,
							fdw_exprs,
							fdw_private,
							NIL,
							NIL,
							outer_plan);
}

/*
 * atlasBeginForeignScan
 *		Resolve options, the column map and the connection; for a scan whose
 *		keys need no executor parameter, evaluate them and arm its first
 *		request (or its enumeration's), which another scan's wait sends.
 *
 * Does nothing in EXPLAIN-only mode.  The contexts made here are
 * children of the executor's per-query context and go away with it, also
 * on ERROR; their reset callbacks free any parsed page.
 */
static void
atlasBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	AtlasFdwScanState *fsstate;
	RangeTblEntry *rte;
	ForeignTable *table;
	ForeignServer *server;
	UserMapping *user;
	Oid			userid;
	bool		prefetch;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	fsstate = palloc0(sizeof(AtlasFdwScanState));
	node->fdw_state = fsstate;
	fsstate->rel = node->ss.ss_currentRelation;
	fsstate->async = node->ss.ps.async_capable;
	fsstate->wait_fd = -1;

	rte = exec_rt_fetch(fsplan->scan.scanrelid, estate);
	userid = atlas_scan_check_as_user(fsplan, estate);
	if (!OidIsValid(userid))
		userid = GetUserId();
	table = GetForeignTable(rte->relid);
	server = GetForeignServer(table->serverid);
	user = GetUserMapping(userid, server->serverid);

	atlas_get_options(table, server, user, &fsstate->opts);
	fsstate->res = atlas_resource_for_table(fsstate->rel, fsstate->opts.resource);
	fsstate->colmap = atlas_build_column_map(fsstate->rel, fsstate->res,
											 list_nth(fsplan->fdw_private,
													  FdwScanPrivateUsedAttrs));
	fsstate->conn = atlas_get_connection(user, &fsstate->opts);

	fsstate->key_kinds = list_nth(fsplan->fdw_private, FdwScanPrivateKeyKinds);
	fsstate->key_is_array = list_nth(fsplan->fdw_private, FdwScanPrivateKeyIsArray);
	fsstate->key_coltypes = list_nth(fsplan->fdw_private, FdwScanPrivateKeyColTypes);
	fsstate->key_coltypmods = list_nth(fsplan->fdw_private, FdwScanPrivateKeyColTypmods);
	fsstate->filter_ids = list_nth(fsplan->fdw_private, FdwScanPrivateFilters);
	fsstate->filter_ops = list_nth(fsplan->fdw_private, FdwScanPrivateFilterOps);
	{
		/* fdw_exprs: the keys' values, then the filters' */
		int			nkeys = list_length(fsstate->key_kinds);

		fsstate->key_states =
			ExecInitExprList(list_truncate(list_copy(fsplan->fdw_exprs), nkeys),
							 (PlanState *) node);
		fsstate->filter_states =
			ExecInitExprList(list_copy_tail(fsplan->fdw_exprs, nkeys),
							 (PlanState *) node);
	}
	fsstate->page_size = intVal(list_nth(fsplan->fdw_private, FdwScanPrivatePageSize));
	fsstate->enumerate = strVal(list_nth(fsplan->fdw_private,
										 FdwScanPrivateEnumerate))[0] != '\0';

	fsstate->keys_cxt = AllocSetContextCreate(estate->es_query_cxt,
											  "atlas_snapshot_fdw request keys",
											  ALLOCSET_SMALL_SIZES);
	fsstate->page_cxt = AllocSetContextCreate(estate->es_query_cxt,
											  "atlas_snapshot_fdw page data",
											  ALLOCSET_DEFAULT_SIZES);
	/* with a LIMIT pushed down, fetch nothing the scan has not asked for */
	prefetch = intVal(list_nth(fsplan->fdw_private, FdwScanPrivateLimited)) == 0;
	fsstate->fetcher = atlas_fetcher_create(fsstate->conn, &fsstate->opts,
											fsstate->res, fsstate->page_size,
											prefetch, estate->es_query_cxt);

	/*
	 * A scan whose keys no outer row supplies arms its first request now
	 * (the first inventory request, if it enumerates): it goes out as soon
	 * as any scan of the backend waits on Atlas (fetch.c), so it overlaps
	 * whatever the query reads before this scan, typically the other side
	 * of a join, instead of following it.  One request at most, so that a
	 * scan the executor never reads (the inner side of a join whose outer
	 * side is empty) costs one request.  Not if the keys use any executor
	 * parameter: an outer row's (extParam), or the output of an initPlan
	 * attached to this very node (in allParam only), which ExecInitNode sets
	 * up only after this function returns.
	 */
	if (prefetch && bms_is_empty(fsplan->scan.plan.allParam))
	{
		evaluate_keys(fsstate, node->ss.ps.ps_ExprContext);
		if (!fsstate->enumerate)
		{
			build_request_chains(fsstate, node->ss.ps.ps_ExprContext);
			atlas_fetcher_arm(fsstate->fetcher);
		}
	}
}

/* AtlasChainSource with no chain at all */
static bool
no_chains(void *arg, AtlasRequestKeys *keys)
{
	return false;
}

/*
 * evaluate_filters
 *		Evaluate the filter clauses' values into the scan's filter
 *		parameters (atlas_filter_query), in the current memory context
 *		(keys_cxt), and hand them to the fetcher for the chains to come.
 */
static void
evaluate_filters(AtlasFdwScanState *fsstate, ExprContext *econtext)
{
	int			n = list_length(fsstate->filter_states);
	AtlasFilterValue *vals = palloc0(sizeof(AtlasFilterValue) * Max(n, 1));
	ListCell   *lc_state,
			   *lc_id,
			   *lc_op;
	int			i = 0;

	forthree(lc_state, fsstate->filter_states, lc_id, fsstate->filter_ids,
			 lc_op, fsstate->filter_ops)
	{
		ExprState  *state = (ExprState *) lfirst(lc_state);
		AtlasFilterValue *v = &vals[i++];

		v->filter = lfirst_int(lc_id);
		v->op = (AtlasFilterOp) lfirst_int(lc_op);
		v->known = true;
		v->valtype = exprType((Node *) state->expr);
		v->value = ExecEvalExpr(state, econtext, &v->isnull);
	}
	atlas_filter_query(fsstate->res, vals, n, &fsstate->filters);
	atlas_fetcher_set_filters(fsstate->fetcher, &fsstate->filters);
}

/*
 * evaluate_keys
 *		Evaluate the key expressions into a new chain set and, for a scan
 *		that enumerates, arm the enumeration's first inventory request
 *		(enumerate.c), unless the keys allow no chain at all.
 *
 * Each key's values are the intersection of what its quals allow.
 * Everything is allocated in keys_cxt, reset here.
 */
static void
evaluate_keys(AtlasFdwScanState *fsstate, ExprContext *econtext)
{
	MemoryContext oldcxt;
	ListCell   *lc_state,
			   *lc_kind,
			   *lc_array,
			   *lc_type,
			   *lc_typmod;

	/* the fetcher lets go of the chains (their keys) before they go */
	atlas_fetcher_start(fsstate->fetcher, no_chains, NULL);
	fsstate->enumeration = NULL;
	MemoryContextReset(fsstate->keys_cxt);
	oldcxt = MemoryContextSwitchTo(fsstate->keys_cxt);
	fsstate->chainset = atlas_chain_set_create();

	forfive(lc_state, fsstate->key_states, lc_kind, fsstate->key_kinds,
			lc_array, fsstate->key_is_array, lc_type, fsstate->key_coltypes,
			lc_typmod, fsstate->key_coltypmods)
	{
		ExprState  *state = (ExprState *) lfirst(lc_state);
		bool		isnull;
		Datum		value = ExecEvalExpr(state, econtext, &isnull);

		atlas_chain_set_add(fsstate->chainset,
							(AtlasKeyKind) lfirst_int(lc_kind),
							lfirst_int(lc_array) != 0,
							exprType((Node *) state->expr),
							lfirst_oid(lc_type), lfirst_int(lc_typmod),
							value, isnull);
	}
	evaluate_filters(fsstate, econtext);
	/* keys that allow no chain at all need no inventory either */
	if (fsstate->enumerate && !atlas_chain_set_empty(fsstate->chainset))
	{
		fsstate->enumeration = atlas_enumeration_start(fsstate->chainset,
													   fsstate->conn,
													   &fsstate->opts,
													   fsstate->res,
													   fsstate->fetcher);
	}
	fsstate->keys_ready = true;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * build_request_chains
 *		Get ready to make the request chains of a (re)scan: evaluate the
 *		keys (unless BeginForeignScan already did), finish an enumeration.
 *
 * The chains are the cartesian product of the keys' values, in the order
 * the values were given (groups outermost), made one at a time as the
 * fetcher asks (chains.c).  A key with no value means no request at all;
 * more chains than max_request_chains is an ERROR before any request.
 */
static void
build_request_chains(AtlasFdwScanState *fsstate, ExprContext *econtext)
{
	MemoryContext oldcxt;

	if (!fsstate->keys_ready)
		evaluate_keys(fsstate, econtext);
	fsstate->keys_ready = false;	/* a rescan evaluates them again */

	oldcxt = MemoryContextSwitchTo(fsstate->keys_cxt);
	if (fsstate->enumeration)
	{
		AtlasEnumeration *en = fsstate->enumeration;

		fsstate->enumeration = NULL;
		atlas_enumeration_finish(en, fsstate->rel);
	}
	fsstate->nchains = atlas_chain_set_count(fsstate->chainset, fsstate->rel,
											 fsstate->opts.max_request_chains);
	/* filter values no row can pass: no request at all */
	if (fsstate->filters.none)
		fsstate->nchains = 0;

	memset(&fsstate->cur_keys, 0, sizeof(fsstate->cur_keys));
	fsstate->finished = 0;
	fsstate->page = NULL;
	fsstate->next_row = 0;
	fsstate->started = true;
	fsstate->pages_read = 0;
	MemoryContextSwitchTo(oldcxt);
	if (fsstate->filters.none)
		atlas_fetcher_start(fsstate->fetcher, no_chains, NULL);
	else
		atlas_fetcher_start(fsstate->fetcher, atlas_chain_set_next,
							fsstate->chainset);
}

/*
 * note_scan_error
 *		Record the message of the ERROR being raised in the connection's
 *		statistics.  Runs in PG_CATCH: it copies the error data into the
 *		scan's key context and must not throw.
 */
static void
note_scan_error(AtlasFdwScanState *fsstate)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(fsstate->keys_cxt);
	ErrorData  *edata = CopyErrorData();

	/* a cancel, statement_timeout or termination is not Atlas's error */
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_OPERATOR_INTERVENTION)
		atlas_note_error(fsstate->conn, edata->message ? edata->message : "");
	FreeErrorData(edata);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * fetch_next_page
 *		Make the next page of the scan's request chains the current one
 *		(see atlas_fetcher_read_page: the reader resets page_cxt, and
 *		raises any error of the page).  Returns false when every chain is
 *		done, keeping the last page: a rescan may rewind.
 *
 * A page may be NULL or hold zero rows; the caller just asks again.  An
 * ERROR is recorded in the connection's statistics (note_scan_error).
 */
static bool
fetch_next_page(AtlasFdwScanState *fsstate)
{
	volatile bool found = false;	/* set in PG_TRY, read after it */

	PG_TRY();
	{
		AtlasPageRead rd;

		if (atlas_fetcher_read_page(fsstate->fetcher, fsstate->page_cxt,
									ATLAS_READ_TABLE, &rd))
		{
			found = true;
			fsstate->page = rd.page;
			fsstate->next_row = 0;
			fsstate->cur_keys = rd.keys;	/* the rows echo them */
			fsstate->pages_read++;
			if (rd.chain_ended)
				fsstate->finished++;
		}
	}
	PG_CATCH();
	{
		fsstate->page = NULL;	/* page_cxt may have been reset */
		note_scan_error(fsstate);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return found;
}

/*
 * page_ready
 *		For an asynchronous scan: whether the next page can be read without
 *		waiting (atlas_fetcher_poll, which never waits); if not, wake_ms
 *		says when the fetcher has something of its own to do.  An ERROR
 *		(of a token request) is recorded like an error of a page.
 */
static bool
page_ready(AtlasFdwScanState *fsstate)
{
	volatile bool ready = false;	/* set in PG_TRY, read after it */

	PG_TRY();
	{
		long		wake_ms;

		ready = atlas_fetcher_poll(fsstate->fetcher, &wake_ms);
		fsstate->wake_ms = wake_ms;
	}
	PG_CATCH();
	{
		note_scan_error(fsstate);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return ready;
}

/*
 * start_scan
 *		build_request_chains for the executor's first read of a (re)scan:
 *		an ERROR of its enumeration (an inventory request, too many
 *		projects or clusters) or of its chain count is the scan's, and is
 *		recorded in the connection's statistics (note_scan_error) like an
 *		error of its pages.
 */
static void
start_scan(AtlasFdwScanState *fsstate, ExprContext *econtext)
{
	PG_TRY();
	{
		build_request_chains(fsstate, econtext);
	}
	PG_CATCH();
	{
		note_scan_error(fsstate);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * atlasIterateForeignScan
 *		Return the next row, fetching pages as they run out.
 *
 * Runs in the per-tuple context: the row's Datums are built there and the
 * page itself stays in page_cxt.  An asynchronous scan returns an empty
 * slot with "starved" set when its next page is not there yet.
 */
static TupleTableSlot *
atlasIterateForeignScan(ForeignScanState *node)
{
	AtlasFdwScanState *fsstate = (AtlasFdwScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	if (!fsstate->started)
		start_scan(fsstate, node->ss.ps.ps_ExprContext);

	while (fsstate->page == NULL ||
		   fsstate->next_row >= atlas_page_nrows(fsstate->page))
	{
		/* asynchronous: no waiting here, the Append waits (see above) */
		if (fsstate->async && !page_ready(fsstate))
		{
			fsstate->starved = true;
			return ExecClearTuple(slot);
		}
		if (!fetch_next_page(fsstate))
			return ExecClearTuple(slot);
	}

	/* keep the transfers of pages ahead flowing while rows are converted */
	if ((fsstate->next_row & (PUMP_EVERY_ROWS - 1)) == PUMP_EVERY_ROWS - 1)
		atlas_fetcher_pump(fsstate->fetcher);

	ExecClearTuple(slot);
	atlas_fill_row(fsstate->colmap, fsstate->page, fsstate->next_row++,
				   &fsstate->cur_keys,
				   slot->tts_values, slot->tts_isnull);
	return ExecStoreVirtualTuple(slot);
}

/*
 * atlasReScanForeignScan
 *		Restart the scan.
 *
 * New parameter values mean new chains.  Otherwise a scan whose only page
 * is still in memory is rewound; any other scan fetches again from the
 * first page.
 */
static void
atlasReScanForeignScan(ForeignScanState *node)
{
	AtlasFdwScanState *fsstate = (AtlasFdwScanState *) node->fdw_state;

	if (!fsstate->started)
		return;
	/* nothing read yet (the first request may be on its way): keep it */
	if (node->ss.ps.chgParam == NULL && fsstate->pages_read == 0 &&
		fsstate->page == NULL)
		return;
	if (node->ss.ps.chgParam == NULL && fsstate->nchains == 1 &&
		fsstate->pages_read == 1 && fsstate->page != NULL &&
		fsstate->finished == 1)
	{
		fsstate->next_row = 0;
		return;
	}
	fsstate->started = false;
	MemoryContextReset(fsstate->page_cxt);
	fsstate->page = NULL;
}

/*
 * atlasIsForeignPathAsyncCapable
 *		Whether a scan may run asynchronously under an Append: the
 *		async_capable option, where the event loop can be waited on through
 *		one descriptor (loop.c).
 */
static bool
atlasIsForeignPathAsyncCapable(ForeignPath *path)
{
	AtlasFdwRelationInfo *fpinfo =
		(AtlasFdwRelationInfo *) path->path.parent->fdw_private;

	return fpinfo->opts.async_capable && atlas_loop_async_supported();
}

/*
 * produce_tuple
 *		Answer an Append's request with the scan's next row, the end of the
 *		scan, or "pending" when its next page has not arrived (the scan
 *		then waits with the Append).  Never waits.
 *
 * Runs the node (ExecProcNode), so that local quals and the projection
 * apply as in a synchronous scan; an ERROR of the scan propagates, and the
 * query's memory going away detaches the scan's transfers (fetch.c).
 */
static void
produce_tuple(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;
	AtlasFdwScanState *fsstate = (AtlasFdwScanState *) node->fdw_state;
	TupleTableSlot *result;

	fsstate->starved = false;
	fsstate->wake_ms = -1;
	result = ExecProcNode((PlanState *) node);
	if (!TupIsNull(result))
		ExecAsyncRequestDone(areq, result);
	else if (fsstate->starved)
		ExecAsyncRequestPending(areq);
	else
		ExecAsyncRequestDone(areq, NULL);
}

/*
 * atlasForeignAsyncRequest
 *		An Append asks for a row (its first request starts the scan's
 *		requests, as a synchronous scan's first read does).
 */
static void
atlasForeignAsyncRequest(AsyncRequest *areq)
{
	produce_tuple(areq);
}

/*
 * close_wait_fd
 *		Reset callback of the query's memory: close the scan's descriptor
 *		of the event loop.  Never throws.
 */
static void
close_wait_fd(void *arg)
{
	AtlasFdwScanState *fsstate = (AtlasFdwScanState *) arg;

	atlas_loop_async_close(fsstate->wait_fd);
	fsstate->wait_fd = -1;
}

/*
 * atlasForeignAsyncConfigureWait
 *		Before the Append waits: answer the request now if the scan's page
 *		arrived meanwhile (while another scan waited, say); otherwise add
 *		the scan's own descriptor of the event loop to the Append's wait
 *		set, with the loop's timer armed for what the scan waits for.
 *
 * Each scan registers a descriptor of its own (a dup, loop.c), so that
 * several scans of one Append never add the same descriptor to its set;
 * all of them wake when the loop has news.  The descriptor is made once
 * per scan, closed when the query's memory goes away, on ERROR too.
 */
static void
atlasForeignAsyncConfigureWait(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;
	AtlasFdwScanState *fsstate = (AtlasFdwScanState *) node->fdw_state;
	AppendState *requestor = (AppendState *) areq->requestor;

	Assert(areq->callback_pending);
	if (!IsA(requestor, AppendState))
		elog(ERROR, "atlas_snapshot_fdw: unexpected asynchronous requestor of type %d",
			 (int) nodeTag(requestor));

	/* as Notify would: the Append takes the answer with the others' */
	areq->callback_pending = false;
	produce_tuple(areq);
	ExecAsyncResponse(areq);
	if (areq->request_complete)
		return;
	Assert(areq->callback_pending);

	if (fsstate->wait_fd < 0)
	{
		fsstate->wait_fd = atlas_loop_async_open();
		fsstate->wait_fd_cb.func = close_wait_fd;
		fsstate->wait_fd_cb.arg = fsstate;
		MemoryContextRegisterResetCallback(node->ss.ps.state->es_query_cxt,
										   &fsstate->wait_fd_cb);
	}
	/* without synchronous subplans left the Append waits, no timeout */
	atlas_loop_async_arm(fsstate->wake_ms, requestor->as_syncdone);
	AddWaitEventToSet(requestor->as_eventset, WL_SOCKET_READABLE,
					  fsstate->wait_fd, NULL, areq);
}

/*
 * atlasForeignAsyncNotify
 *		The scan's descriptor woke the Append: let the loop act, and answer
 *		the request if the page is there now.
 */
static void
atlasForeignAsyncNotify(AsyncRequest *areq)
{
	produce_tuple(areq);
}

/*
 * atlasEndForeignScan
 *		Nothing to release: the contexts go with the executor's, and the
 *		connection stays cached.  What the scan did joins the instance's
 *		statistics now (with shared memory, stats.c), not only at the end
 *		of the transaction.
 */
static void
atlasEndForeignScan(ForeignScanState *node)
{
	if (node->fdw_state != NULL)
		atlas_connection_flush_stats();
}

/*
 * explain_pace
 *		EXPLAIN ANALYZE lines of a scan's adaptive concurrency: answers 429
 *		or 503, the time it waited after them with nothing in flight, and
 *		the most transfers it had in flight.  Only with COSTS, like the
 *		request counts: the numbers vary from run to run.
 */
static void
explain_pace(const AtlasPace *pace, ExplainState *es)
{
	ExplainPropertyInteger("Atlas Rate Limited", NULL, pace->rate_limited, es);
	ExplainPropertyFloat("Atlas Rate Limit Wait", "ms",
						 (double) pace->wait_us / 1000.0, 3, es);
	ExplainPropertyInteger("Atlas Peak In Flight", NULL, pace->peak, es);
}

/*
 * atlasExplainForeignScan
 *		Show the first request under VERBOSE, and under ANALYZE (with
 *		COSTS) how many requests and pages the scan made, and how it was
 *		paced (explain_pace).
 */
static void
atlasExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	AtlasFdwScanState *fsstate = (AtlasFdwScanState *) node->fdw_state;

	const char *enumeration = strVal(list_nth(fsplan->fdw_private,
											  FdwScanPrivateEnumerate));

	if (es->verbose && enumeration[0] != '\0')
		ExplainPropertyText("Atlas Enumeration", enumeration, es);
	if (es->verbose)
		ExplainPropertyText("Atlas Request",
							psprintf("GET %s",
									 strVal(list_nth(fsplan->fdw_private,
													 FdwScanPrivateRequest))),
							es);
	if (es->analyze && es->costs && fsstate)
	{
		/* the fetcher's counts include an enumeration's (enumerate.c) */
		ExplainPropertyInteger("Atlas Requests", NULL,
							   atlas_fetcher_requests(fsstate->fetcher), es);
		ExplainPropertyInteger("Atlas Pages", NULL,
							   atlas_fetcher_pages(fsstate->fetcher), es);
		explain_pace(atlas_fetcher_pace(fsstate->fetcher), es);
	}
}

/*
 * atlasImportForeignSchema
 *		CREATE FOREIGN TABLE commands for every resource, from the column
 *		tables in resource.c; no network access.
 *
 * PostgreSQL applies LIMIT TO / EXCEPT to what is returned.
 */
static List *
atlasImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	List	   *commands = NIL;
	const AtlasResource *resources;
	int			nresources;

	if (strcmp(stmt->remote_schema, "atlas") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("schema \"%s\" is not present on foreign server \"%s\"",
						stmt->remote_schema, server->servername),
				 errhint("atlas_snapshot_fdw offers one remote schema, \"atlas\".")));

	resources = atlas_all_resources(&nresources);
	for (int i = 0; i < nresources; i++)
	{
		const AtlasResource *res = &resources[i];
		StringInfoData buf;

		initStringInfo(&buf);
		appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (",
						 quote_identifier(res->name));
		for (const AtlasField *f = res->fields; f->column; f++)
		{
			/* download links grant access to data: declared by choice only */
			if (atlas_is_credential_column(res, f->column))
				continue;
			appendStringInfo(&buf, "%s\n  %s %s%s",
							 f == res->fields ? "" : ",",
							 quote_identifier(f->column), f->type,
							 f->not_null ? " NOT NULL" : "");
		}
		appendStringInfo(&buf, "\n) SERVER %s OPTIONS (resource %s)",
						 quote_identifier(server->servername),
						 quote_literal_cstr(res->name));
		commands = lappend(commands, buf.data);
	}
	return commands;
}
