/*-------------------------------------------------------------------------
 *
 * deparse.c
 *		  Turn WHERE clauses into Atlas request keys, and keys into URLs
 *
 * A qual is pushed into the request only if Atlas applies exactly the same
 * semantics: "key_column = value" or "key_column = ANY (array)" (IN lists)
 * with the built-in equality operator of the column's type and a
 * deterministic collation, where the value side does not reference the
 * foreign table and is not volatile.  It is then evaluated at execution
 * time (Const, Param, stable expression, or an outer Var that the planner
 * turns into a Param for parameterized scans).  Everything else stays local.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  deparse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "atlas_snapshot_fdw.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

/*
 * key_operator_ok
 *		Whether opno is the equality Atlas applies for this key, on the
 *		expected type.
 */
static bool
key_operator_ok(AtlasKeyKind kind, Oid opno, Oid inputcollid)
{
	RegProcedure opcode = get_opcode(opno);

	switch (kind)
	{
		case ATLAS_KEY_GROUP:
		case ATLAS_KEY_CLUSTER:
		case ATLAS_KEY_ID:
			/* texteq, under a collation where equality is bytewise */
			return opcode == F_TEXTEQ &&
				(!OidIsValid(inputcollid) ||
				 get_collation_isdeterministic(inputcollid));
		case ATLAS_KEY_POINT_IN_TIME:
			return opcode == F_TIMESTAMPTZ_EQ;
		case ATLAS_KEY_OPLOG_TS:
		case ATLAS_KEY_OPLOG_INC:
			/* the value side may be any integer type */
			return opcode == F_INT8EQ ||
				opcode == F_INT84EQ || opcode == F_INT48EQ ||
				opcode == F_INT82EQ || opcode == F_INT28EQ;
		default:
			return false;
	}
}

/*
 * key_column
 *		If expr is (a relabeling of) a column of baserel that is a request
 *		key of the resource, return true and its kind.
 */
static bool
key_column(PlannerInfo *root, RelOptInfo *baserel, const AtlasResource *res,
		   Expr *expr, AtlasKeyKind *kind)
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
	return atlas_key_from_column(res, colname, kind);
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
	AtlasKeyQual *kq;

	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		Expr	   *left,
				   *right;

		if (list_length(op->args) != 2)
			return NULL;
		left = linitial(op->args);
		right = lsecond(op->args);
		if (!key_column(root, baserel, res, left, &kind))
		{
			Expr	   *tmp = left;

			left = right;
			right = tmp;
			if (!key_column(root, baserel, res, left, &kind))
				return NULL;
		}
		if (!key_operator_ok(kind, op->opno, op->inputcollid) ||
			!value_ok(root, baserel, right))
			return NULL;

		kq = palloc(sizeof(AtlasKeyQual));
		kq->kind = kind;
		kq->expr = right;
		kq->is_array = false;
		return kq;
	}

	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
		Expr	   *array = lsecond(saop->args);

		if (!saop->useOr ||
			!key_column(root, baserel, res, linitial(saop->args), &kind))
			return NULL;
		/* lists of points in time make no sense to the API */
		if (kind != ATLAS_KEY_GROUP && kind != ATLAS_KEY_CLUSTER &&
			kind != ATLAS_KEY_ID)
			return NULL;
		if (!key_operator_ok(kind, saop->opno, saop->inputcollid) ||
			!value_ok(root, baserel, array))
			return NULL;

		kq = palloc(sizeof(AtlasKeyQual));
		kq->kind = kind;
		kq->expr = array;
		kq->is_array = true;
		return kq;
	}

	return NULL;
}

/*
 * atlas_classify_conditions
 *		Split RestrictInfos into request keys and local conditions.
 *
 * key_quals receives AtlasKeyQual nodes, key_clauses the RestrictInfos they
 * came from (same order), local_conds the rest.  All palloc'd in the
 * current (planner) context.
 */
void
atlas_classify_conditions(PlannerInfo *root, RelOptInfo *baserel,
						  const AtlasResource *res, List *conds,
						  List **key_quals, List **key_clauses,
						  List **local_conds)
{
	ListCell   *lc;

	*key_quals = NIL;
	*key_clauses = NIL;
	*local_conds = NIL;

	foreach(lc, conds)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		AtlasKeyQual *kq = NULL;

		if (!ri->pseudoconstant)
			kq = key_qual_from_clause(root, baserel, res, ri->clause);
		if (kq)
		{
			*key_quals = lappend(*key_quals, kq);
			*key_clauses = lappend(*key_clauses, ri);
		}
		else
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
 * atlas_check_key_combination
 *		Reject point-in-time keys that the API refuses together.
 */
void
atlas_check_key_combination(uint32 mask)
{
	bool		pit = (mask & ATLAS_KEY_BIT(ATLAS_KEY_POINT_IN_TIME)) != 0;
	bool		ts = (mask & ATLAS_KEY_BIT(ATLAS_KEY_OPLOG_TS)) != 0;
	bool		inc = (mask & ATLAS_KEY_BIT(ATLAS_KEY_OPLOG_INC)) != 0;

	if (ts != inc)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 errmsg("conditions on \"oplog_ts\" and \"oplog_inc\" must be given together"),
				 errhint("Add \"%s = ...\" to the WHERE clause.",
						 ts ? "oplog_inc" : "oplog_ts")));
	if (pit && ts)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("conditions on \"point_in_time\" and on \"oplog_ts\"/\"oplog_inc\" are mutually exclusive"),
				 errdetail("Atlas selects a snapshot either by a point in time or by an oplog timestamp.")));
}

/*
 * atlas_key_datum
 *		A key value in the type of its column, for echoing into the row.
 *
 * valtype is the type of the value expression: the integer keys accept
 * any integer type and are widened to bigint; the others already have
 * their column's type.
 */
Datum
atlas_key_datum(AtlasKeyKind kind, Datum value, Oid valtype)
{
	if (kind != ATLAS_KEY_OPLOG_TS && kind != ATLAS_KEY_OPLOG_INC)
		return value;
	switch (valtype)
	{
		case INT2OID:
			return Int64GetDatum((int64) DatumGetInt16(value));
		case INT4OID:
			return Int64GetDatum((int64) DatumGetInt32(value));
		default:
			return value;
	}
}

/*
 * atlas_key_text
 *		A key value (as made by atlas_key_datum) as it is sent to Atlas,
 *		palloc'd.
 *
 * Path keys are sent as they are (after pattern validation); a point in
 * time is sent as whole seconds since the Unix epoch, rounded down.
 */
char *
atlas_key_text(AtlasKeyKind kind, Datum value)
{
	switch (kind)
	{
		case ATLAS_KEY_GROUP:
		case ATLAS_KEY_CLUSTER:
		case ATLAS_KEY_ID:
			{
				char	   *s = TextDatumGetCString(value);

				atlas_validate_key_value(kind, s);
				return s;
			}
		case ATLAS_KEY_POINT_IN_TIME:
			{
				TimestampTz ts = DatumGetTimestampTz(value);
				double		secs;

				if (TIMESTAMP_NOT_FINITE(ts))
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("point_in_time must be a finite timestamp")));
				secs = floor((double) ts / USECS_PER_SEC) +
					(double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
				return psprintf("%.0f", secs);
			}
		case ATLAS_KEY_OPLOG_TS:
		case ATLAS_KEY_OPLOG_INC:
			return psprintf(INT64_FORMAT, DatumGetInt64(value));
		default:
			elog(ERROR, "unexpected key kind %d", (int) kind);
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * atlas_request_path
 *		The path and query string of one request, palloc'd.
 *
 * With an id key the single-object endpoint is used; otherwise the list
 * endpoint with paging and point-in-time parameters.  Key texts that are
 * NULL are shown as {column} placeholders (EXPLAIN of parameterized scans).
 */
char *
atlas_request_path(const AtlasResource *res, const AtlasRequestKeys *keys,
				   int page_num, int items_per_page)
{
	StringInfoData buf;
	char	   *const *text = keys->text;
	char		sep = '?';

	initStringInfo(&buf);
	if (keys->present[ATLAS_KEY_ID] && res->get_path)
	{
		atlas_append_path(&buf, res->get_path, text, true);
		return buf.data;
	}

	atlas_append_path(&buf, res->list_path, text, true);
	if (res->paging != ATLAS_PAGING_NONE)
	{
		appendStringInfo(&buf, "?pageNum=%d&itemsPerPage=%d",
						 page_num, items_per_page);
		sep = '&';
	}
	for (int k = ATLAS_KEY_POINT_IN_TIME; k <= ATLAS_KEY_OPLOG_INC; k++)
	{
		static const char *const params[] = {
			[ATLAS_KEY_POINT_IN_TIME] = "pointInTimeUtcSeconds",
			[ATLAS_KEY_OPLOG_TS] = "oplogTs",
			[ATLAS_KEY_OPLOG_INC] = "oplogInc",
		};

		if (!keys->present[k])
			continue;
		appendStringInfo(&buf, "%c%s=", sep, params[k]);
		if (text[k])
			appendStringInfoString(&buf, text[k]);
		else
			appendStringInfo(&buf, "{%s}", atlas_key_column_name(k));
		sep = '&';
	}
	return buf.data;
}

/*
 * atlas_deparse_request
 *		The first request of a scan, for EXPLAIN VERBOSE.
 *
 * Keys given by a single constant are shown with their value; parameters,
 * IN lists and other expressions as a {column} placeholder.
 */
char *
atlas_deparse_request(const AtlasResource *res, List *key_quals,
					  int items_per_page)
{
	AtlasRequestKeys keys;
	ListCell   *lc;

	memset(&keys, 0, sizeof(keys));
	foreach(lc, key_quals)
	{
		AtlasKeyQual *kq = (AtlasKeyQual *) lfirst(lc);
		Const	   *c = IsA(kq->expr, Const) ? (Const *) kq->expr : NULL;

		keys.present[kq->kind] = true;
		if (c && !kq->is_array && !c->constisnull && keys.text[kq->kind] == NULL)
			keys.text[kq->kind] =
				atlas_key_text(kq->kind, atlas_key_datum(kq->kind, c->constvalue,
														 c->consttype));
	}
	return atlas_request_path(res, &keys, 1,
							  keys.present[ATLAS_KEY_ID] ? 0 : items_per_page);
}
