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
 * A resource may also declare filter columns (events: event_type, created,
 * cluster_name), whose clauses narrow a list by query parameters.  Their
 * clauses always stay in the local conditions as well: what Atlas does
 * with the parameters only has to keep every row that passes them (a
 * time bound is widened by a second, since the API does not say whether
 * its bounds are inclusive), so the result is exact either way.
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
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

/*
 * own_column
 *		If expr is (a relabeling of) a column of baserel that reads no JSON
 *		field named by a column option (such a column is neither a request
 *		key nor a filter), return its name (palloc'd) and the Var; else NULL.
 */
static char *
own_column(PlannerInfo *root, RelOptInfo *baserel, Expr *expr, Var **column)
{
	Var		   *var;
	RangeTblEntry *rte;

	while (IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	if (!IsA(expr, Var))
		return NULL;
	var = (Var *) expr;
	if ((Index) var->varno != baserel->relid || var->varlevelsup != 0 ||
		var->varattno <= 0)
		return NULL;
	rte = planner_rt_fetch(baserel->relid, root);
	if (atlas_column_field(rte->relid, var->varattno) != NULL)
		return NULL;
	*column = var;
	return get_attname(rte->relid, var->varattno, false);
}

/*
 * key_column
 *		If expr is (a relabeling of) a column of baserel that is a request
 *		key of the resource, return true, its kind and the column itself.
 */
static bool
key_column(PlannerInfo *root, RelOptInfo *baserel, const AtlasResource *res,
		   Expr *expr, AtlasKeyKind *kind, Var **column)
{
	char	   *colname = own_column(root, baserel, expr, column);

	return colname != NULL && atlas_key_from_column(res, colname, kind);
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

	bool		has_group = false;

	*key_quals = NIL;
	*local_conds = NIL;

	/*
	 * A resource with organization endpoints reads a project's endpoint
	 * when group_id is given: org_id is then no request key but a column
	 * read from the rows, checked locally.
	 */
	if (res->org_list_path)
	{
		foreach(lc, conds)
		{
			RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
			AtlasKeyQual *kq = NULL;

			if (!ri->pseudoconstant)
				kq = key_qual_from_clause(root, baserel, res, ri->clause);
			if (kq && kq->kind == ATLAS_KEY_GROUP)
				has_group = true;
		}
	}

	foreach(lc, conds)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		AtlasKeyQual *kq = NULL;

		if (!ri->pseudoconstant)
			kq = key_qual_from_clause(root, baserel, res, ri->clause);
		if (kq && has_group && kq->kind == ATLAS_KEY_ORG)
			kq = NULL;
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
 * filter_column
 *		If expr is (a relabeling of) a column of baserel that is one of the
 *		resource's filter columns and reads its own JSON field, return its
 *		index in res->filters and the Var.
 */
static int
filter_column(PlannerInfo *root, RelOptInfo *baserel,
			  const AtlasResource *res, Expr *expr, Var **column)
{
	char	   *colname = own_column(root, baserel, expr, column);

	for (int i = 0; colname && res->filters[i].column; i++)
	{
		if (strcmp(res->filters[i].column, colname) == 0)
			return i;
	}
	return -1;
}

/*
 * filter_operator
 *		The AtlasFilterOp of operator opno applied to a filter column (on
 *		the left of it if var_left), or -1 if it is not one Atlas applies:
 *		text equality under a deterministic collation for a text filter,
 *		the timestamptz comparisons for a time filter.
 */
static int
filter_operator(const AtlasFilter *filter, Var *var, Oid opno,
				Oid inputcollid, bool var_left)
{
	RegProcedure opcode = get_opcode(opno);
	Oid			coltype = getBaseType(var->vartype);

	if (filter->kind == ATLAS_FILTER_TEXT)
	{
		if (coltype == TEXTOID && opcode == F_TEXTEQ &&
			(!OidIsValid(inputcollid) ||
			 get_collation_isdeterministic(inputcollid)))
			return ATLAS_FILTER_EQ;
		return -1;
	}
	if (coltype != TIMESTAMPTZOID)
		return -1;
	switch (opcode)
	{
		case F_TIMESTAMPTZ_LT:
			return var_left ? ATLAS_FILTER_LT : ATLAS_FILTER_GT;
		case F_TIMESTAMPTZ_LE:
			return var_left ? ATLAS_FILTER_LE : ATLAS_FILTER_GE;
		case F_TIMESTAMPTZ_GT:
			return var_left ? ATLAS_FILTER_GT : ATLAS_FILTER_LT;
		case F_TIMESTAMPTZ_GE:
			return var_left ? ATLAS_FILTER_GE : ATLAS_FILTER_LE;
		default:
			return -1;
	}
}

/*
 * atlas_filter_quals
 *		The clauses of local_conds (RestrictInfos) that can also narrow the
 *		requests: AtlasFilterQual nodes, palloc'd.  The clauses stay in
 *		local_conds.
 */
List *
atlas_filter_quals(PlannerInfo *root, RelOptInfo *baserel,
				   const AtlasResource *res, List *local_conds)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (res->filters == NULL)
		return NIL;
	foreach(lc, local_conds)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		Expr	   *clause = ri->clause;
		AtlasFilterQual *fq;
		Var		   *var;
		Expr	   *value;
		int			filter;
		int			op;

		if (ri->pseudoconstant)
			continue;
		if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
		{
			OpExpr	   *opexpr = (OpExpr *) clause;
			bool		var_left = true;

			filter = filter_column(root, baserel, res,
								   linitial(opexpr->args), &var);
			value = lsecond(opexpr->args);
			if (filter < 0)
			{
				var_left = false;
				filter = filter_column(root, baserel, res,
									   lsecond(opexpr->args), &var);
				value = linitial(opexpr->args);
			}
			if (filter < 0)
				continue;
			op = filter_operator(&res->filters[filter], var, opexpr->opno,
								 opexpr->inputcollid, var_left);
		}
		else if (IsA(clause, ScalarArrayOpExpr))
		{
			ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;

			if (!saop->useOr)
				continue;
			filter = filter_column(root, baserel, res, linitial(saop->args),
								   &var);
			if (filter < 0 || res->filters[filter].kind != ATLAS_FILTER_TEXT)
				continue;
			value = lsecond(saop->args);
			op = filter_operator(&res->filters[filter], var, saop->opno,
								 saop->inputcollid, true);
			if (op == ATLAS_FILTER_EQ)
				op = ATLAS_FILTER_ANY;
			else
				op = -1;
		}
		else
			continue;
		if (op < 0 || !value_ok(root, baserel, value))
			continue;

		fq = palloc(sizeof(AtlasFilterQual));
		fq->filter = filter;
		fq->op = (AtlasFilterOp) op;
		fq->expr = value;
		result = lappend(result, fq);
	}
	return result;
}

/* One text filter's values, while atlas_filter_query computes them */
typedef struct TextValues
{
	bool		constrained;	/* some clause restricted the values */
	bool		unknown;		/* some value is known only at execution */
	List	   *values;			/* char *, distinct, in the order given */
} TextValues;

/*
 * text_values
 *		The non-null texts of one evaluated text clause (an array's
 *		elements for ATLAS_FILTER_ANY), palloc'd, in the order given.
 *		An array of more than ATLAS_MAX_FILTER_VALUES elements sets
 *		*too_many and gives NIL: such a clause narrows no request (so that
 *		the quadratic intersections below stay small).
 */
static List *
text_values(const AtlasFilterValue *v, bool *too_many)
{
	List	   *result = NIL;

	*too_many = false;
	if (v->op == ATLAS_FILTER_ANY)
	{
		ArrayType  *array = DatumGetArrayTypeP(v->value);
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;

		if (ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)) >
			ATLAS_MAX_FILTER_VALUES)
		{
			*too_many = true;
			return NIL;
		}
		deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &nelems);
		for (int i = 0; i < nelems; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (!nulls[i])
				result = lappend(result, TextDatumGetCString(elems[i]));
		}
	}
	else
		result = list_make1(TextDatumGetCString(v->value));
	return result;
}

/* Whether list (of char *) holds s */
static bool
text_member(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		CHECK_FOR_INTERRUPTS();
		if (strcmp((char *) lfirst(lc), s) == 0)
			return true;
	}
	return false;
}

/*
 * append_time
 *		Append "&param=YYYY-MM-DDTHH:MM:SSZ" for secs, seconds since the
 *		PostgreSQL epoch, if it is a date Atlas can take (years 1 to 9999);
 *		otherwise nothing (the bound is then not sent).
 */
static void
append_time(StringInfo buf, const char *param, int64 secs)
{
	struct pg_tm tm;
	fsec_t		fsec;
	TimestampTz ts;

	if (secs > PG_INT64_MAX / USECS_PER_SEC ||
		secs < PG_INT64_MIN / USECS_PER_SEC)
		return;
	ts = secs * USECS_PER_SEC;
	if (!IS_VALID_TIMESTAMP(ts) ||
		timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0 ||
		tm.tm_year < 1 || tm.tm_year > 9999)
		return;
	appendStringInfo(buf, "&%s=%04d-%02d-%02dT%02d:%02d:%02dZ", param,
					 tm.tm_year, tm.tm_mon, tm.tm_mday,
					 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * atlas_filter_query
 *		The filter parameters that the values of a scan's filter clauses
 *		give, for the group and the organization endpoint, palloc'd.
 *
 * A text filter sends each value its clauses allow (several clauses on one
 * column intersect), once per value; values no row can hold (the filter's
 * pattern) are left out; a clause of more than ATLAS_MAX_FILTER_VALUES
 * values narrows nothing (it is only checked locally).  A time filter sends the latest lower bound, rounded down
 * to a whole second and one second earlier, and the earliest upper bound,
 * rounded up and one second later; an infinite bound is not sent.
 * query->none is set when no row can pass (a NULL value, no value left,
 * bounds that exclude each other): the scan then makes no request.
 * Values not known (EXPLAIN of a Param) are shown as {column}.
 */
void
atlas_filter_query(const AtlasResource *res, const AtlasFilterValue *vals,
				   int nvals, AtlasFilterQuery *query)
{
	StringInfoData group;
	StringInfoData org;

	initStringInfo(&group);
	initStringInfo(&org);
	query->none = false;

	for (int f = 0; res->filters && res->filters[f].column; f++)
	{
		const AtlasFilter *filter = &res->filters[f];
		StringInfoData part;

		initStringInfo(&part);
		if (filter->kind == ATLAS_FILTER_TEXT)
		{
			TextValues tv = {0};
			ListCell   *lc;
			int			n = 0;

			for (int i = 0; i < nvals; i++)
			{
				const AtlasFilterValue *v = &vals[i];
				List	   *these;
				bool		too_many;

				if (v->filter != f)
					continue;
				if (!v->known)
				{
					tv.unknown = true;
					continue;
				}
				if (v->isnull)
				{
					query->none = true;
					continue;
				}
				these = text_values(v, &too_many);
				if (too_many)
					continue;
				if (!tv.constrained)
				{
					foreach(lc, these)
					{
						if (!text_member(tv.values, lfirst(lc)))
							tv.values = lappend(tv.values, lfirst(lc));
					}
				}
				else
				{
					List	   *kept = NIL;

					foreach(lc, tv.values)
					{
						if (text_member(these, lfirst(lc)))
							kept = lappend(kept, lfirst(lc));
					}
					tv.values = kept;
				}
				tv.constrained = true;
			}
			if (tv.constrained)
			{
				foreach(lc, tv.values)
				{
					if (filter->valid == NULL || filter->valid(lfirst(lc)))
						n++;
				}
				if (n == 0)
					query->none = true;
				else if (n <= ATLAS_MAX_FILTER_VALUES)
				{
					foreach(lc, tv.values)
					{
						if (filter->valid == NULL || filter->valid(lfirst(lc)))
							atlas_filter_append(&part, filter->param,
												lfirst(lc), filter->column);
					}
				}
			}
			else if (tv.unknown)
				atlas_filter_append(&part, filter->param, NULL,
									filter->column);
		}
		else
		{
			bool		have_lo = false,
						have_hi = false,
						unknown_lo = false,
						unknown_hi = false;
			TimestampTz lo = 0,
						hi = 0;

			for (int i = 0; i < nvals; i++)
			{
				const AtlasFilterValue *v = &vals[i];
				TimestampTz ts;

				if (v->filter != f)
					continue;
				if (!v->known)
				{
					if (v->op == ATLAS_FILTER_GT || v->op == ATLAS_FILTER_GE)
						unknown_lo = true;
					else
						unknown_hi = true;
					continue;
				}
				if (v->isnull)
				{
					query->none = true;
					continue;
				}
				ts = DatumGetTimestampTz(v->value);
				if (v->op == ATLAS_FILTER_GT || v->op == ATLAS_FILTER_GE)
				{
					if (!have_lo || ts > lo)
						lo = ts;
					have_lo = true;
				}
				else
				{
					if (!have_hi || ts < hi)
						hi = ts;
					have_hi = true;
				}
			}
			if (have_lo && have_hi && lo > hi)
				query->none = true;
			if (have_lo && !TIMESTAMP_NOT_FINITE(lo))
			{
				int64		secs = lo / USECS_PER_SEC;

				if (lo % USECS_PER_SEC < 0)
					secs--;
				append_time(&part, filter->param, secs - 1);
			}
			else if (!have_lo && unknown_lo)
				atlas_filter_append(&part, filter->param, NULL, filter->column);
			if (have_hi && !TIMESTAMP_NOT_FINITE(hi))
			{
				int64		secs = hi / USECS_PER_SEC;

				if (hi % USECS_PER_SEC > 0)
					secs++;
				append_time(&part, filter->max_param, secs + 1);
			}
			else if (!have_hi && unknown_hi)
				atlas_filter_append(&part, filter->max_param, NULL,
									filter->column);
		}
		appendStringInfoString(&group, part.data);
		if (!filter->group_only)
			appendStringInfoString(&org, part.data);
		pfree(part.data);
	}
	query->group = group.data;
	query->org = org.data;
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
 * makes no request: atlas_key_datum) as a {column} placeholder.  Filter
 * parameters are shown as atlas_filter_query makes them from constants;
 * a filter value of another kind of expression as {column}.
 */
char *
atlas_deparse_request(const AtlasResource *res, List *key_quals,
					  List *filter_quals, int items_per_page,
					  const AtlasFdwOptions *opts)
{
	AtlasRequestKeys keys;
	AtlasFilterQuery query;
	AtlasFilterValue *vals;
	int			nvals = 0;
	ListCell   *lc;

	vals = palloc0(sizeof(AtlasFilterValue) * Max(list_length(filter_quals), 1));
	foreach(lc, filter_quals)
	{
		AtlasFilterQual *fq = (AtlasFilterQual *) lfirst(lc);
		AtlasFilterValue *v = &vals[nvals++];

		v->filter = fq->filter;
		v->op = fq->op;
		v->valtype = exprType((Node *) fq->expr);
		if (IsA(fq->expr, Const))
		{
			v->known = true;
			v->isnull = ((Const *) fq->expr)->constisnull;
			v->value = ((Const *) fq->expr)->constvalue;
		}
	}
	atlas_filter_query(res, vals, nvals, &query);

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
							  &query, opts);
}
