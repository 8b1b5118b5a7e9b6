/*-------------------------------------------------------------------------
 *
 * response.c
 *		  Parse Atlas pages with json-c and turn documents into Datums
 *
 * A page is parsed once into a json-c tree that lives exactly as long as the
 * memory context the caller resets between pages: a reset callback on that
 * context releases the tree, on the next page, at the end of the scan and
 * on ERROR alike.  Rows are converted one at a time straight from the tree,
 * in the caller's (per-tuple) context, so memory is bounded by one page.
 *
 * Each column reads the JSON field named by its field option or, failing
 * that, by the resource's column table (snake_case to camelCase otherwise).
 * Dotted field names walk nested objects and arrays ("links.0.rel").  A missing key or JSON null gives
 * SQL NULL; any other value goes through the column type's input function,
 * so a value that does not fit is an ERROR naming the column, never NULL.
 *
 * utils/builtins.h is not included here: its json_object() SQL function
 * clashes with json-c's type of the same name.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  response.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json.h>

#include "access/tupdesc.h"
#include "atlas_snapshot_fdw.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* json-c nesting limit: Atlas documents are a handful of levels deep */
#define ATLAS_JSON_MAX_DEPTH	64

/* How a column's value is made from a JSON value */
typedef enum AtlasConversion
{
	CONV_TEXT,					/* text: strings as they are */
	CONV_INT8,					/* bigint: JSON integers directly */
	CONV_BOOL,					/* boolean: JSON booleans directly */
	CONV_TIMESTAMPTZ,			/* timestamptz: Atlas's UTC form directly */
	CONV_JSON,					/* json/jsonb: the serialized subtree */
	CONV_ARRAY,					/* arrays: a literal built from a JSON array */
	CONV_INPUT					/* anything else: the type's input function */
} AtlasConversion;

typedef struct AtlasColumn
{
	const char *name;			/* column name, for error context */
	int			key;			/* AtlasKeyKind echoed from the request, or -1 */
	char	  **path;			/* JSON field path segments */
	int			npath;
	AtlasConversion conv;
	FmgrInfo	infunc;			/* the type's input function */
	Oid			ioparam;
	int32		typmod;
} AtlasColumn;

struct AtlasColumnMap
{
	const char *relname;		/* foreign table name, for error context */
	int			natts;
	AtlasColumn *cols;			/* natts entries; name NULL if not produced */
	const char *current;		/* column being converted, for context */
};

struct AtlasPage
{
	json_object *root;			/* owned: released by the context callback */
	json_object *results;		/* borrowed: the results array, or NULL */
	int			nrows;
	MemoryContextCallback cb;	/* frees root when the context resets */
};

/*
 * atlas_build_column_map
 *		Resolve the columns a scan produces to JSON paths or request keys.
 *
 * used_attrs lists the attribute numbers the query reads (NIL: all); the
 * others stay NULL and cost nothing.  Allocated in the current context,
 * which must live as long as the scan.
 */
AtlasColumnMap *
atlas_build_column_map(Relation rel, const AtlasResource *res,
					   List *used_attrs)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	AtlasColumnMap *map = palloc0(sizeof(AtlasColumnMap));

	map->relname = pstrdup(RelationGetRelationName(rel));
	map->natts = tupdesc->natts;
	map->cols = palloc0(sizeof(AtlasColumn) * tupdesc->natts);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupdesc, i);
		AtlasColumn *col = &map->cols[i];
		const char *field;
		AtlasKeyKind kind;
		Oid			infunc;
		Oid			basetype;
		char	   *copy;

		if (attr->attisdropped ||
			(used_attrs != NIL && !list_member_int(used_attrs, attr->attnum)))
			continue;

		col->name = pstrdup(NameStr(attr->attname));
		col->typmod = attr->atttypmod;
		col->key = -1;

		field = atlas_column_field(RelationGetRelid(rel), attr->attnum);
		if (field == NULL && atlas_key_from_column(res, col->name, &kind) &&
			kind != ATLAS_KEY_ID)
			col->key = kind;
		if (field == NULL)
			field = atlas_default_json_field(res, col->name);

		/* split "a.b.c" into path segments */
		copy = pstrdup(field);
		col->path = palloc(sizeof(char *) * (strlen(copy) + 1));
		for (char *seg = strtok(copy, "."); seg; seg = strtok(NULL, "."))
			col->path[col->npath++] = seg;

		getTypeInputInfo(attr->atttypid, &infunc, &col->ioparam);
		fmgr_info(infunc, &col->infunc);

		basetype = getBaseType(attr->atttypid);
		if (attr->atttypid == TEXTOID)
			col->conv = CONV_TEXT;
		else if (attr->atttypid == INT8OID)
			col->conv = CONV_INT8;
		else if (attr->atttypid == BOOLOID)
			col->conv = CONV_BOOL;
		else if (attr->atttypid == TIMESTAMPTZOID)
			col->conv = CONV_TIMESTAMPTZ;
		else if (basetype == JSONOID || basetype == JSONBOID)
			col->conv = CONV_JSON;
		else if (OidIsValid(get_element_type(basetype)))
			col->conv = CONV_ARRAY;
		else
			col->conv = CONV_INPUT;
	}
	return map;
}

/*
 * page_reset_callback
 *		Release a page's json-c tree when its memory context goes away.
 *
 * Runs on MemoryContextReset/Delete, including during ERROR cleanup; must
 * not throw.
 */
static void
page_reset_callback(void *arg)
{
	AtlasPage  *page = (AtlasPage *) arg;

	if (page->root)
		json_object_put(page->root);
	page->root = NULL;
}

/*
 * atlas_json_parse
 *		Parse a response body with json-c; NULL and a message in errmsg if
 *		it is not exactly one JSON document.
 *
 * Never throws and never pallocs, so it may run while transfers are in
 * flight; the tree is malloc'd and belongs to the caller.
 */
json_object *
atlas_json_parse(const char *buf, size_t len, char *errmsg, size_t errmsg_len)
{
	json_tokener *tok;
	json_object *tree;
	enum json_tokener_error jerr;
	size_t		end;

	if (len > INT_MAX)
	{
		snprintf(errmsg, errmsg_len, "The response of %zu bytes is too large to parse.", len);
		return NULL;
	}
	tok = json_tokener_new_ex(ATLAS_JSON_MAX_DEPTH);
	if (tok == NULL)
	{
		snprintf(errmsg, errmsg_len, "Out of memory.");
		return NULL;
	}
	/* RFC 8259 only: no comments, single quotes, NaN or trailing commas */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	tree = json_tokener_parse_ex(tok, buf, (int) len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	/* only white space may follow the document */
	while (jerr == json_tokener_success && end < len &&
		   (buf[end] == ' ' || buf[end] == '\t' || buf[end] == '\r' ||
			buf[end] == '\n'))
		end++;

	if (jerr != json_tokener_success || tree == NULL || end < len)
	{
		if (jerr != json_tokener_success)
			snprintf(errmsg, errmsg_len, "%s at byte %zu of %zu.",
					 json_tokener_error_desc(jerr), end, len);
		else
			snprintf(errmsg, errmsg_len, "Unexpected data at byte %zu of %zu.",
					 end, len);
		if (tree)
			json_object_put(tree);
		return NULL;
	}
	return tree;
}

/*
 * atlas_json_page_rows
 *		The number of items of a parsed list page, -1 if it has no results
 *		array; *total gets totalCount, or -1.  Never throws.
 */
int
atlas_json_page_rows(json_object *tree, int64 *total)
{
	json_object *val;

	*total = -1;
	if (!json_object_is_type(tree, json_type_object))
		return -1;
	if (json_object_object_get_ex(tree, "totalCount", &val) &&
		json_object_is_type(val, json_type_int))
		*total = json_object_get_int64(val);
	if (!json_object_object_get_ex(tree, "results", &val) ||
		!json_object_is_type(val, json_type_array))
		return -1;
	return (int) json_object_array_length(val);
}

/*
 * atlas_page_adopt
 *		Make a parsed response the scan's current page.
 *
 * single: the tree is one document (a GET by id) rather than a list
 * envelope.  The tree passes to page_cxt, which frees it when it is next
 * reset or deleted; *tree is set to NULL once that is arranged (before
 * that, an ERROR leaves it with the caller).  An unexpected shape raises
 * an ERROR.
 */
AtlasPage *
atlas_page_adopt(json_object **tree, bool single, MemoryContext page_cxt)
{
	AtlasPage  *page = MemoryContextAllocZero(page_cxt, sizeof(AtlasPage));

	page->cb.func = page_reset_callback;
	page->cb.arg = page;
	MemoryContextRegisterResetCallback(page_cxt, &page->cb);
	page->root = *tree;
	*tree = NULL;

	if (!json_object_is_type(page->root, json_type_object))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("The response is not a JSON object.")));

	if (single)
	{
		page->nrows = 1;
		return page;
	}

	if (!json_object_object_get_ex(page->root, "results", &page->results) ||
		!json_object_is_type(page->results, json_type_array))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("The response has no \"results\" array.")));
	page->nrows = (int) json_object_array_length(page->results);
	return page;
}

int
atlas_page_nrows(AtlasPage *page)
{
	return page->nrows;
}

/*
 * page_row
 *		The document of one row; ERROR if it is not an object.
 */
static json_object *
page_row(AtlasPage *page, int rowno)
{
	json_object *doc;

	Assert(rowno >= 0 && rowno < page->nrows);
	doc = page->results ? json_object_array_get_idx(page->results, rowno)
		: page->root;
	if (!json_object_is_type(doc, json_type_object))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("Item %d of \"results\" is not a JSON object.",
						   rowno + 1)));
	return doc;
}

/*
 * atlas_page_row_id
 *		The "id" of a row, or NULL; points into the page's tree.
 */
const char *
atlas_page_row_id(AtlasPage *page, int rowno)
{
	json_object *id;

	if (json_object_object_get_ex(page_row(page, rowno), "id", &id) &&
		json_object_is_type(id, json_type_string))
		return json_object_get_string(id);
	return NULL;
}

/* errcontext callback naming the column being converted */
static void
conversion_error_callback(void *arg)
{
	AtlasColumnMap *map = (AtlasColumnMap *) arg;

	if (map->current)
		errcontext("column \"%s\" of foreign table \"%s\"",
				   map->current, map->relname);
}

/*
 * string_value
 *		A JSON string as a server-encoding C string of *len bytes.
 *
 * Atlas sends UTF-8.  A string with an escaped NUL (\u0000) cannot be a
 * PostgreSQL text value and would be cut short by input functions, and
 * invalid UTF-8 must not reach the database: both are errors.  The result
 * points into the tree unless it had to be converted.
 */
static const char *
string_value(json_object *val, int *len)
{
	const char *s = json_object_get_string(val);

	*len = json_object_get_string_len(val);
	if ((int) strlen(s) != *len)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("JSON string in Atlas response contains a NUL character")));
	s = pg_any_to_server(s, *len, PG_UTF8);
	*len = strlen(s);
	return s;
}

/*
 * check_integer
 *		Refuse an integer that json-c had to clamp: json-c keeps the nearest
 *		int64 (or uint64) for a number beyond their range, and passing that
 *		on would be a silently wrong value.
 */
static void
check_integer(json_object *val)
{
	if (json_object_get_int64(val) == PG_INT64_MIN ||
		json_object_get_uint64(val) == PG_UINT64_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("integer in Atlas response is out of range")));
}

/*
 * json_text
 *		The text form of a JSON value: strings (checked, see string_value)
 *		as they are, everything else serialized.  Points into the tree or
 *		is palloc'd; valid while the page lives.
 */
static const char *
json_text(json_object *val)
{
	int			len;

	if (json_object_is_type(val, json_type_string))
		return string_value(val, &len);
	if (json_object_is_type(val, json_type_int))
		check_integer(val);
	return json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
										  JSON_C_TO_STRING_NOSLASHESCAPE);
}

/*
 * array_literal
 *		Build an array input literal ("{"a","b",NULL}") from a JSON array.
 *		Any other value is passed on as text for the input function to
 *		reject.
 */
static char *
array_literal(json_object *val)
{
	StringInfoData buf;
	size_t		n;

	if (!json_object_is_type(val, json_type_array))
		return pstrdup(json_text(val));

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	n = json_object_array_length(val);
	for (size_t i = 0; i < n; i++)
	{
		json_object *elem = json_object_array_get_idx(val, i);

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (elem == NULL)
		{
			appendStringInfoString(&buf, "NULL");
			continue;
		}
		appendStringInfoChar(&buf, '"');
		for (const char *p = json_text(elem); *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendStringInfoChar(&buf, '\\');
			appendStringInfoChar(&buf, *p);
		}
		appendStringInfoChar(&buf, '"');
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * make_text
 *		A text Datum from len bytes (cstring_to_text_with_len, which lives in
 *		utils/builtins.h).
 */
static Datum
make_text(const char *s, int len)
{
	text	   *result = (text *) palloc(len + VARHDRSZ);

	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), s, len);
	return PointerGetDatum(result);
}

/*
 * digits
 *		The value of n decimal digits at s, or -1 if one is not a digit.
 */
static int
digits(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * parse_utc_timestamp
 *		Parse the form Atlas uses for every timestamp, "YYYY-MM-DDTHH:MM:SSZ"
 *		with optional fractional seconds, into a TimestampTz.
 *
 * Returns false for anything else (other offsets, out-of-range fields),
 * which then goes through timestamptz_in: this is only a shortcut, and it
 * never accepts what timestamptz_in would reject.
 */
static bool
parse_utc_timestamp(const char *s, int len, TimestampTz *result)
{
	struct pg_tm tm;
	fsec_t		fsec = 0;
	int			i = 19;

	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z')
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4);
	tm.tm_mon = digits(s + 5, 2);
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	if (tm.tm_year < 1 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
		tm.tm_mday > day_tab[isleap(tm.tm_year)][tm.tm_mon - 1] ||
		tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
		tm.tm_sec < 0 || tm.tm_sec > 59)
		return false;

	if (s[i] == '.')
	{
		int			scale = 100000;

		for (i++; i < len - 1; i++)
		{
			if (s[i] < '0' || s[i] > '9')
				return false;
			fsec += (s[i] - '0') * scale;
			scale /= 10;
		}
		/* more than microseconds would need rounding: leave it to the input function */
		if (scale == 100000 || len - 21 > 6)
			return false;
	}
	if (i != len - 1)
		return false;
	return tm2timestamp(&tm, fsec, NULL, result) == 0 && IS_VALID_TIMESTAMP(*result);
}

/*
 * convert_value
 *		One JSON value (not null) to a Datum of the column's type.
 */
static Datum
convert_value(AtlasColumn *col, json_object *val)
{
	switch (col->conv)
	{
		case CONV_TEXT:
			if (json_object_is_type(val, json_type_string))
			{
				int			len;
				const char *s = string_value(val, &len);

				return make_text(s, len);
			}
			break;
		case CONV_INT8:
			if (json_object_is_type(val, json_type_int))
			{
				int64		v = json_object_get_int64(val);

				/* the extremes may be clamped: json_text checks them */
				if (v != PG_INT64_MAX && v != PG_INT64_MIN)
					return Int64GetDatum(v);
			}
			break;
		case CONV_BOOL:
			if (json_object_is_type(val, json_type_boolean))
				return BoolGetDatum(json_object_get_boolean(val));
			break;
		case CONV_TIMESTAMPTZ:
			{
				TimestampTz ts;

				/* only ASCII digits and separators pass: no NUL, no encoding */
				if (json_object_is_type(val, json_type_string) &&
					parse_utc_timestamp(json_object_get_string(val),
										json_object_get_string_len(val), &ts))
					return TimestampTzGetDatum(ts);
			}
			break;
		case CONV_ARRAY:
			return InputFunctionCall(&col->infunc, array_literal(val),
									 col->ioparam, col->typmod);
		case CONV_JSON:
			{
				const char *json = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
																  JSON_C_TO_STRING_NOSLASHESCAPE);

				/* json-c passes string bytes through: check the encoding */
				return InputFunctionCall(&col->infunc,
										 pg_any_to_server(json, strlen(json), PG_UTF8),
										 col->ioparam, col->typmod);
			}
		case CONV_INPUT:
			break;
	}
	return InputFunctionCall(&col->infunc, (char *) json_text(val),
							 col->ioparam, col->typmod);
}

/*
 * path_step
 *		One step of a field path: a key of an object, or a zero-based index
 *		into an array ("links.0.rel").  NULL if there is no such member.
 */
static json_object *
path_step(json_object *val, const char *segment)
{
	json_object *member;

	if (json_object_is_type(val, json_type_object))
		return json_object_object_get_ex(val, segment, &member) ? member : NULL;
	if (json_object_is_type(val, json_type_array) &&
		strspn(segment, "0123456789") == strlen(segment))
	{
		long		idx = strtol(segment, NULL, 10);

		if (idx < (long) json_object_array_length(val))
			return json_object_array_get_idx(val, idx);
	}
	return NULL;
}

/*
 * atlas_fill_row
 *		Convert row rowno of the page into values/isnull (natts entries).
 *
 * Datums are allocated in the current memory context (the executor's
 * per-tuple context).  Conversion errors carry the column and table name.
 */
void
atlas_fill_row(AtlasColumnMap *map, AtlasPage *page, int rowno,
			   const AtlasRequestKeys *keys, Datum *values, bool *isnull)
{
	json_object *doc = page_row(page, rowno);
	ErrorContextCallback errcallback;

	errcallback.callback = conversion_error_callback;
	errcallback.arg = map;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (int i = 0; i < map->natts; i++)
	{
		AtlasColumn *col = &map->cols[i];
		json_object *val = doc;

		values[i] = (Datum) 0;
		isnull[i] = true;
		if (col->name == NULL)
			continue;			/* dropped, or not used by the query */

		if (col->key >= 0)
		{
			/* echo the value asked for, so a rechecked qual holds */
			if (keys->present[col->key])
			{
				values[i] = keys->datum[col->key];
				isnull[i] = false;
			}
			continue;
		}

		for (int s = 0; s < col->npath && val; s++)
			val = path_step(val, col->path[s]);
		if (val == NULL)
			continue;			/* missing, or JSON null */

		map->current = col->name;
		values[i] = convert_value(col, val);
		isnull[i] = false;
	}
	map->current = NULL;
	error_context_stack = errcallback.previous;
}
