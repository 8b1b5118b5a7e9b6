/*-------------------------------------------------------------------------
 *
 * deparse.c
 *		  Decide which WHERE clauses give request keys their values
 *
 * A qual is pushed into the request only if Atlas applies exactly the same
 * semantics: "key_column = value" or "key_column = ANY (array)" (IN lists)
 * with the built-in equality operator of the column's type and a
 * deterministic collation, where the value side does not reference the
 * foreign table and is not volatile.  It is then evaluated at execution
 * time (Const, Param, stable expression, or an outer Var that the planner
 * turns into a Param for parameterized scans).  Everything else stays local,
 * and so does a qual on a name key (a database or collection looked up by
 * name), which is also pushed: Atlas looks the name up, and the row that
 * comes back is checked against the qual.
 *
 * What a key is (its column, type, operators, whether it takes IN lists)
 * comes from its descriptor in keys.c; this file only matches clauses
 * against it, and shows the first request of a plan for EXPLAIN.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  deparse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "atlas_snapshot_fdw.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

/*
 * key_column
 *		If expr is (a relabeling of) a column of baserel that is a request
 *		key of the resource, return true, its kind and the column itself.
 */
static bool
key_column(PlannerInfo *root, RelOptInfo *baserel, const AtlasResource *res,
		   Expr *expr, AtlasKeyKind *kind, Var **column)
{
	Var		   *var;
	RangeTblEntry *rte;
	char	   *colname;

	while (IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	if (!IsA(expr, Var))
		return false;
	var = (Var *) expr;
	if ((Index) var->varno != baserel->relid || var->varlevelsup != 0 ||
		var->varattno <= 0)
		return false;

	rte = planner_rt_fetch(baserel->relid, root);
	colname = get_attname(rte->relid, var->varattno, false);

	/* a column that reads a JSON field is not a request key */
	if (atlas_column_field(rte->relid, var->varattno) != NULL)
		return false;
	*column = var;
	return atlas_key_from_column(res, colname, kind);
}

/*
 * make_key_qual
 *		An AtlasKeyQual for the column var, palloc'd.  The column's type is
 *		kept (a domain's base type and typmod): which values it can hold
 *		decides which give requests (atlas_key_datum).
 */
static AtlasKeyQual *
make_key_qual(AtlasKeyKind kind, Var *var, Expr *expr, bool is_array)
{
	AtlasKeyQual *kq = palloc(sizeof(AtlasKeyQual));

	kq->kind = kind;
	kq->expr = expr;
	kq->is_array = is_array;
	kq->coltypmod = var->vartypmod;
	kq->coltype = getBaseTypeAndTypmod(var->vartype, &kq->coltypmod);
	return kq;
}

/*
 * value_ok
 *		Whether expr can be evaluated before the scan: no reference to the
 *		foreign table itself, nothing volatile, no subplans.
 */
static bool
value_ok(PlannerInfo *root, RelOptInfo *baserel, Expr *expr)
{
	return !bms_is_member(baserel->relid, pull_varnos(root, (Node *) expr)) &&
		!contain_volatile_functions((Node *) expr) &&
		!contain_subplans((Node *) expr);
}

/*
 * key_qual_from_clause
 *		Recognize "key = value", "value = key" and "key = ANY (array)".
 */
static AtlasKeyQual *
key_qual_from_clause(PlannerInfo *root, RelOptInfo *baserel,
					 const AtlasResource *res, Expr *clause)
{
	AtlasKeyKind kind;
	Var		   *var;

	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		Expr	   *left,
				   *right;

		if (list_length(op->args) != 2)
			return NULL;
		left = linitial(op->args);
		right = lsecond(op->args);
		if (!key_column(root, baserel, res, left, &kind, &var))
		{
			Expr	   *tmp = left;

			left = right;
			right = tmp;
			if (!key_column(root, baserel, res, left, &kind, &var))
				return NULL;
		}
		if (!atlas_key_operator_ok(kind, op->opno, op->inputcollid) ||
			!value_ok(root, baserel, right))
			return NULL;

		return make_key_qual(kind, var, right, false);
	}

	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
		Expr	   *array = lsecond(saop->args);

		if (!saop->useOr ||
			!key_column(root, baserel, res, linitial(saop->args), &kind, &var))
			return NULL;
		if (!atlas_key_takes_list(kind) ||
			!atlas_key_operator_ok(kind, saop->opno, saop->inputcollid) ||
			!value_ok(root, baserel, array))
			return NULL;

		return make_key_qual(kind, var, array, true);
	}

	return NULL;
}

/*
 * atlas_classify_conditions
 *		Split RestrictInfos into request keys and local conditions.
 *
 * key_quals receives AtlasKeyQual nodes, local_conds the RestrictInfos
 * that are not key quals and those on a name key (checked again).  All
 * palloc'd in the current (planner) context.
 */
void
atlas_classify_conditions(PlannerInfo *root, RelOptInfo *baserel,
						  const AtlasResource *res, List *conds,
						  List **key_quals, List **local_conds)
{
	ListCell   *lc;

	*key_quals = NIL;
	*local_conds = NIL;

	foreach(lc, conds)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		AtlasKeyQual *kq = NULL;

		if (!ri->pseudoconstant)
			kq = key_qual_from_clause(root, baserel, res, ri->clause);
		if (kq)
			*key_quals = lappend(*key_quals, kq);

		/*
		 * A name is looked up by Atlas, whose comparison of names the API
		 * does not define (MongoDB names differ in more than case): the
		 * qual is checked again on the row that comes back.
		 */
		if (kq == NULL || kq->kind == ATLAS_KEY_NAME)
			*local_conds = lappend(*local_conds, ri);
	}
}

/*
 * atlas_key_mask
 *		The set of key kinds a list of AtlasKeyQuals provides.
 */
uint32
atlas_key_mask(List *key_quals)
{
	uint32		mask = 0;
	ListCell   *lc;

	foreach(lc, key_quals)
		mask |= ATLAS_KEY_BIT(((AtlasKeyQual *) lfirst(lc))->kind);
	return mask;
}

/*
 * atlas_deparse_request
 *		The first request of a scan, for EXPLAIN VERBOSE.
 *
 * Keys given by a single constant are shown with their value; parameters,
 * IN lists, other expressions and a constant its column cannot hold (which
 * makes no request: atlas_key_datum) as a {column} placeholder.
 */
char *
atlas_deparse_request(const AtlasResource *res, List *key_quals,
					  int items_per_page, const AtlasFdwOptions *opts)
{
	AtlasRequestKeys keys;
	ListCell   *lc;

	memset(&keys, 0, sizeof(keys));
	foreach(lc, key_quals)
	{
		AtlasKeyQual *kq = (AtlasKeyQual *) lfirst(lc);
		Const	   *c = IsA(kq->expr, Const) ? (Const *) kq->expr : NULL;
		Datum		value;

		keys.present[kq->kind] = true;
		if (c && !kq->is_array && !c->constisnull && keys.text[kq->kind] == NULL &&
			atlas_key_datum(kq->kind, c->constvalue, c->consttype,
							kq->coltype, kq->coltypmod, &value))
			keys.text[kq->kind] = atlas_key_text(kq->kind, value);
	}
	return atlas_request_path(res, &keys, 1,
							  atlas_keys_select_item(res, &keys) ? 0 : items_per_page,
							  opts);
}
