/*-------------------------------------------------------------------------
 *
 * response.c
 *		  Turn parsed Atlas pages into rows of Datums
 *
 * A page is parsed once (jsonparse.c, json-c) when the scan is about to
 * read it, into a tree that lives exactly as long as the memory context
 * the caller resets between pages: a reset callback on that context frees
 * it, on the next page, at the end of the scan and on ERROR alike.  Rows
 * are converted one at a time, in the caller's (per-tuple) context, so
 * memory is bounded by one page.
 *
 * A page is a list of rows, each a JSON object of the tree (AtlasPage's
 * rows array): the items of a list's "results" array, or the document
 * itself for a GET by id.  A resource whose rows come from elsewhere in a
 * document only needs to fill that array differently.
 *
 * Each column reads the JSON field named by its field option or, failing
 * that, by the resource's column table (snake_case to camelCase otherwise).
 * Dotted field names walk nested objects and arrays ("links.0.rel").  A
 * missing key or JSON null gives SQL NULL; any other value goes through the
 * column type's input function (or an equivalent shortcut for text, bigint,
 * boolean and Atlas's UTC timestamps), so a value that does not fit is an
 * ERROR naming the column, never NULL.  Should an object repeat a key, the
 * last value counts, as in jsonb (json-c keeps the last).
 *
 * A request key column (group_id, cluster_name, oplog_ts, ...) holds the
 * value its request was made with, converted exactly as a JSON field
 * holding that value would be (convert_key): the same input function,
 * typmod and domain checks, and the same errors.
 *
 * Numbers reach input functions as json-c gives their text: a number with
 * a fraction or an exponent exactly as Atlas sent it, an integer printed
 * from its 64-bit value (the same digits, but "-0" becomes "0").  A number
 * json-c cannot give right (not finite, or at its integer clamp limits) is
 * an error when a column reads it, alone or inside a container.
 *
 * Rows are a list page's "results", or, for resources that name a rows
 * path, the document itself or arrays nested inside it
 * (atlas_page_select_rows); a field name "^a" then reads member a of the
 * element that encloses the row.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  response.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json-c/json.h>

#include "access/tupdesc.h"
#include "atlas_snapshot_fdw.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* How a column's value is made from a JSON value */
typedef enum AtlasConversion
{
	CONV_TEXT,					/* text: strings as they are */
	CONV_INT8,					/* bigint: JSON integers directly */
	CONV_BOOL,					/* boolean: JSON booleans directly */
	CONV_TIMESTAMPTZ,			/* timestamptz: Atlas's UTC form directly */
	CONV_JSON,					/* json/jsonb: the value's JSON text */
	CONV_ARRAY,					/* arrays: a literal built from a JSON array */
	CONV_INPUT					/* anything else: the type's input function */
} AtlasConversion;

typedef struct AtlasColumn
{
	const char *name;			/* column name, for error context */
	int			key;			/* AtlasKeyKind echoed from the request, or -1 */
	char	  **path;			/* JSON field path segments */
	int		   *pathlen;		/* their lengths */
	int			npath;
	int			next_same;		/* next column with the same path[0], or -1 */
	bool		parent;			/* path starts at the enclosing element ("^") */
	bool		key_json;		/* key column that reads its JSON field when
								 * the request did not give the key */
	bool		whole;			/* reads the whole row (JSON name "$") */
	bool		secret;			/* holds download links: errors hide values */
	AtlasConversion conv;
	FmgrInfo	infunc;			/* the type's input function */
	Oid			ioparam;
	int32		typmod;
} AtlasColumn;

/* Hash table slot: a top-level field name and the columns that read it */
typedef struct FieldSlot
{
	const char *name;			/* NULL if the slot is free */
	int			len;
	int			column;			/* first column (chained by next_same) */
} FieldSlot;

struct AtlasColumnMap
{
	const char *relname;		/* foreign table name, for error context */
	int			natts;
	AtlasColumn *cols;			/* natts entries; name NULL if not produced */
	FieldSlot  *fields;			/* open addressing, nfields slots */
	uint32		nfields;		/* a power of two */
	FieldSlot **used;			/* the slots in use, nused of them */
	int			nused;
	struct json_object **found; /* per column: value in this row, or NULL */
	const char *current;		/* column being converted, for context */
};

struct AtlasPage
{
	struct json_object *doc;	/* owned: freed by the context callback */
	struct json_object **rows;	/* each row's object (in doc) */
	struct json_object **parents;	/* per row: its enclosing element, or NULL */
	int			nrows;
	int64		total;			/* a list page's totalCount, or -1 */
	MemoryContextCallback cb;	/* frees doc when the context resets */
};

/* FNV-1a: the field names are short */
static inline uint32
field_hash(const char *s, int len)
{
	uint32		h = 2166136261u;

	for (int i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 16777619u;
	return h;
}

/*
 * field_slot
 *		The hash table slot of top-level field name[len]: the one holding
 *		it, or the free one where it would go.
 */
static inline FieldSlot *
field_slot(const AtlasColumnMap *map, const char *name, int len)
{
	uint32		h = field_hash(name, len) & (map->nfields - 1);

	for (;;)
	{
		FieldSlot  *slot = &map->fields[h];

		if (slot->name == NULL ||
			(slot->len == len && memcmp(slot->name, name, len) == 0))
			return slot;
		h = (h + 1) & (map->nfields - 1);
	}
}

/*
 * add_field
 *		Enter column i under its first path segment.
 */
static void
add_field(AtlasColumnMap *map, int i)
{
	AtlasColumn *col = &map->cols[i];
	FieldSlot  *slot = field_slot(map, col->path[0], col->pathlen[0]);

	if (slot->name == NULL)
	{
		slot->name = col->path[0];
		slot->len = col->pathlen[0];
		map->used[map->nused++] = slot;
	}
	else
		col->next_same = slot->column;
	slot->column = i;
}

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
	map->found = palloc0(sizeof(struct json_object *) * Max(tupdesc->natts, 1));
	/* at most half full */
	map->nfields = 8;
	while (map->nfields < 2 * (uint32) tupdesc->natts)
		map->nfields *= 2;
	map->fields = palloc0(sizeof(FieldSlot) * map->nfields);
	map->used = palloc0(sizeof(FieldSlot *) * Max(tupdesc->natts, 1));

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
		col->next_same = -1;

		/* an item key (id, name) is read from the item Atlas returns */
		field = atlas_column_field(RelationGetRelid(rel), attr->attnum);
		if (field == NULL && atlas_key_from_column(res, col->name, &kind) &&
			kind != ATLAS_KEY_ID && kind != ATLAS_KEY_NAME)
		{
			col->key = kind;
			/* the column table names a field: read it when not asked for */
			for (const AtlasField *f = res ? res->fields : NULL; f && f->column; f++)
			{
				if (f->json && strcmp(f->column, col->name) == 0)
					col->key_json = true;
			}
		}
		if (field == NULL)
			field = atlas_default_json_field(res, col->name);
		if (col->key < 0 && strcmp(field, "$") == 0)
		{
			col->whole = true;
			field = "";
		}

		/* "^a.b": a path below the row's enclosing element */
		if (col->key < 0 && field[0] == '^')
		{
			col->parent = true;
			field++;
		}

		/* split "a.b.c" into path segments */
		copy = pstrdup(field);
		col->path = palloc(sizeof(char *) * (strlen(copy) + 1));
		col->pathlen = palloc(sizeof(int) * (strlen(copy) + 1));
		for (char *seg = strtok(copy, "."); seg; seg = strtok(NULL, "."))
		{
			col->pathlen[col->npath] = strlen(seg);
			col->path[col->npath++] = seg;
		}
		if ((col->key < 0 || col->key_json) && col->npath > 0 && !col->parent)
			add_field(map, i);
		col->secret = col->key < 0 && col->npath > 0 && !col->parent &&
			atlas_is_credential_field(res, col->path[0]);

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
 *		Free a page's tree when its memory context goes away.
 *
 * Runs on MemoryContextReset/Delete, including during ERROR cleanup; must
 * not throw.
 */
static void
page_reset_callback(void *arg)
{
	AtlasPage  *page = (AtlasPage *) arg;

	json_object_put(page->doc);
	page->doc = NULL;
}

/*
 * results_array
 *		A list page's "results" array, or NULL if it has none.
 */
static struct json_object *
results_array(struct json_object *doc)
{
	struct json_object *v;

	if (json_object_object_get_ex(doc, "results", &v) &&
		json_object_is_type(v, json_type_array))
		return v;
	return NULL;
}

/*
 * page_total
 *		A list page's totalCount, or -1 if it has none that tells anything.
 */
static int64
page_total(struct json_object *doc)
{
	struct json_object *v;
	int64		total;

	if (!json_object_object_get_ex(doc, "totalCount", &v) ||
		!json_object_is_type(v, json_type_int))
		return -1;
	total = Max(json_object_get_int64(v), -1);
	/* json-c's clamp limits tell nothing */
	return total == PG_INT64_MAX ? -1 : total;
}

/*
 * atlas_page_adopt
 *		Make a parsed response the scan's current page.
 *
 * single: the document is one item (a GET by id) rather than a list
 * envelope, whose "results" become the rows and whose totalCount is kept
 * (atlas_page_total): the one place that reads the envelope.  The tree
 * passes to page_cxt, which frees it when it is next reset or deleted;
 * *doc is set to NULL once that is arranged (before that, an ERROR leaves
 * it with the caller).  An unexpected shape raises an ERROR.
 */
AtlasPage *
atlas_page_adopt(struct json_object **doc, bool single, MemoryContext page_cxt)
{
	AtlasPage  *page = MemoryContextAllocZero(page_cxt, sizeof(AtlasPage));
	struct json_object *d;
	struct json_object *results;

	page->cb.func = page_reset_callback;
	page->cb.arg = page;
	MemoryContextRegisterResetCallback(page_cxt, &page->cb);
	d = page->doc = *doc;
	*doc = NULL;
	page->total = -1;

	if (!json_object_is_type(d, json_type_object))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("The response is not a JSON object.")));

	if (single)
	{
		page->nrows = 1;
		page->rows = MemoryContextAlloc(page_cxt, sizeof(struct json_object *));
		page->rows[0] = d;
		return page;
	}

	results = results_array(d);
	if (results == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("The response has no \"results\" array.")));
	if (json_object_array_length(results) > (size_t) INT_MAX / sizeof(struct json_object *))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Atlas response has too many items")));
	page->total = page_total(d);
	page->nrows = (int) json_object_array_length(results);
	page->rows = MemoryContextAlloc(page_cxt,
									sizeof(struct json_object *) * Max(page->nrows, 1));
	for (int i = 0; i < page->nrows; i++)
		page->rows[i] = json_object_array_get_idx(results, i);
	return page;
}

/*
 * atlas_page_select_rows
 *		Make the rows of a single-document page those that a resource's
 *		rows_path names inside the document.
 *
 * rows_path "" keeps the document as the one row; row_marker, if set, is
 * a member without which the document counts as no row at all (an answer
 * that stands for "nothing configured").  Otherwise rows_path is a dotted
 * list of members, each naming an array (or an object, taken as one
 * element) inside every element found by the step before, starting at the
 * document: "policies.policyItems" gives every policy item of every
 * policy.  Each row remembers the element that encloses it (the document
 * for a one-step path), which columns read with a JSON name "^member".
 * Non-object elements are skipped; a missing member or JSON null gives no
 * rows.  The row arrays are allocated in page_cxt.
 *
 * This is the one place that walks a document for rows (with the "^"
 * path step of atlas_fill_row).
 */
void
atlas_page_select_rows(AtlasPage *page, const char *rows_path,
					   const char *row_marker, MemoryContext page_cxt)
{
	struct json_object *doc = page->doc;
	struct json_object **cur;	/* elements of the current step */
	struct json_object **cur_parent;	/* and the element enclosing each */
	int			ncur = 1;
	char	   *path;

	Assert(page->nrows == 1 && page->rows[0] == doc);
	if (*rows_path == '\0')
	{
		if (row_marker &&
			!json_object_object_get_ex(doc, row_marker, NULL))
			page->nrows = 0;
		return;
	}

	cur = MemoryContextAlloc(page_cxt, sizeof(struct json_object *));
	cur_parent = MemoryContextAlloc(page_cxt, sizeof(struct json_object *));
	cur[0] = cur_parent[0] = doc;
	path = MemoryContextStrdup(page_cxt, rows_path);
	for (char *seg = strtok(path, "."); seg; seg = strtok(NULL, "."))
	{
		int			nnext = 0;
		Size		cap = 0;
		struct json_object **next;
		struct json_object **next_parent;

		/* first count, so that the arrays are allocated once */
		for (int i = 0; i < ncur; i++)
		{
			struct json_object *v = NULL;

			CHECK_FOR_INTERRUPTS();
			if (!json_object_object_get_ex(cur[i], seg, &v) || v == NULL)
				continue;
			if (json_object_is_type(v, json_type_array))
				cap += json_object_array_length(v);
			else if (json_object_is_type(v, json_type_object))
				cap++;
		}
		/* a page is at most max_page_bytes: the count fits an int */
		if (cap > (Size) INT_MAX / sizeof(struct json_object *))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many rows in one Atlas document")));
		next = MemoryContextAlloc(page_cxt,
								  sizeof(struct json_object *) * Max(cap, 1));
		next_parent = MemoryContextAlloc(page_cxt,
										 sizeof(struct json_object *) * Max(cap, 1));

		for (int i = 0; i < ncur; i++)
		{
			struct json_object *v = NULL;

			if (!json_object_object_get_ex(cur[i], seg, &v) || v == NULL)
				continue;
			if (json_object_is_type(v, json_type_object))
			{
				next_parent[nnext] = cur[i];
				next[nnext++] = v;
			}
			else if (json_object_is_type(v, json_type_array))
			{
				size_t		n = json_object_array_length(v);

				for (size_t k = 0; k < n; k++)
				{
					struct json_object *e = json_object_array_get_idx(v, k);

					CHECK_FOR_INTERRUPTS();
					if (json_object_is_type(e, json_type_object))
					{
						next_parent[nnext] = cur[i];
						next[nnext++] = e;
					}
				}
			}
		}
		cur = next;
		cur_parent = next_parent;
		ncur = nnext;
	}
	page->rows = cur;
	page->parents = cur_parent;
	page->nrows = ncur;
}

int
atlas_page_nrows(AtlasPage *page)
{
	return page->nrows;
}

/*
 * atlas_page_total
 *		The totalCount of a list page, or -1 if it has none (or is one
 *		document).
 */
int64
atlas_page_total(AtlasPage *page)
{
	return page->total;
}

/*
 * atlas_page_row_object
 *		The JSON object of one row, or NULL if the row is not an object.
 *		Never throws.
 */
struct json_object *
atlas_page_row_object(AtlasPage *page, int rowno)
{
	struct json_object *obj;

	Assert(rowno >= 0 && rowno < page->nrows);
	obj = page->rows[rowno];
	return json_object_is_type(obj, json_type_object) ? obj : NULL;
}

/*
 * page_row
 *		The object of one row; ERROR if it is not an object.
 */
static struct json_object *
page_row(AtlasPage *page, int rowno)
{
	struct json_object *obj;

	Assert(rowno >= 0 && rowno < page->nrows);
	obj = page->rows[rowno];
	if (!json_object_is_type(obj, json_type_object))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("Item %d of \"results\" is not a JSON object.",
						   rowno + 1)));
	return obj;
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
 * to_server
 *		A NUL-terminated string of *len bytes of UTF-8 (checked when the
 *		page was parsed) in the server encoding: s itself where that is
 *		UTF-8, else a palloc'd conversion (*len is updated).
 */
static const char *
to_server(const char *s, int *len)
{
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		s = pg_any_to_server(s, *len, PG_UTF8);
		*len = strlen(s);
	}
	return s;
}

/*
 * atlas_json_utf8
 *		The contents of string value v as a palloc'd, NUL-terminated UTF-8
 *		string (not converted to the server encoding); *len gets its
 *		length.  NULL if v is not a string or holds \u0000.  Throws nothing
 *		but out of memory, so error reporting can use it.
 */
char *
atlas_json_utf8(struct json_object *v, int *len)
{
	const char *s;
	int			n;

	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	n = json_object_get_string_len(v);
	if (memchr(s, '\0', n) != NULL)
		return NULL;
	*len = n;
	return pnstrdup(s, n);
}

/*
 * json_string
 *		The contents of string value v, in the server encoding (json-c's
 *		own buffer where that is UTF-8, else palloc'd); *len gets its
 *		length.
 *
 * A string with an escaped NUL (\u0000) cannot be a PostgreSQL text value
 * and would be cut short by input functions: that is an error, as is a
 * character the server encoding lacks.
 */
static const char *
json_string(struct json_object *v, int *len)
{
	const char *s = json_object_get_string(v);

	*len = json_object_get_string_len(v);
	if (memchr(s, '\0', *len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("JSON string in Atlas response contains a NUL character")));
	return to_server(s, len);
}

/*
 * json_serialized
 *		The JSON text of a value (json-c's own buffer, kept with the tree),
 *		in the server encoding.  A number with a fraction or an exponent
 *		keeps the text Atlas sent; containers are written compactly.
 */
static const char *
json_serialized(struct json_object *v)
{
	size_t		n;
	const char *s = json_object_to_json_string_length(v,
													  JSON_C_TO_STRING_PLAIN |
													  JSON_C_TO_STRING_NOSLASHESCAPE,
													  &n);
	int			len = (int) n;

	return to_server(s, &len);
}

/*
 * json_text
 *		The text form of a (non-null) JSON value: a string's contents (see
 *		json_string), any other value's JSON text.
 */
static const char *
json_text(struct json_object *v)
{
	int			len;

	if (json_object_is_type(v, json_type_string))
		return json_string(v, &len);
	return json_serialized(v);
}

/*
 * array_literal
 *		Build an array input literal ("{"a","b",NULL}") from a JSON array.
 *		Any other value is passed on as text for the input function to
 *		reject.
 */
static char *
array_literal(struct json_object *v)
{
	StringInfoData buf;
	size_t		n;

	if (!json_object_is_type(v, json_type_array))
		return pstrdup(json_text(v));

	n = json_object_array_length(v);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(v, i);

		CHECK_FOR_INTERRUPTS();
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (e == NULL)
			appendStringInfoString(&buf, "NULL");
		else
		{
			appendStringInfoChar(&buf, '"');
			for (const char *p = json_text(e); *p; p++)
			{
				if (*p == '"' || *p == '\\')
					appendStringInfoChar(&buf, '\\');
				appendStringInfoChar(&buf, *p);
			}
			appendStringInfoChar(&buf, '"');
		}
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * atlas_text_datum
 *		A text Datum of len bytes at s, palloc'd in the current context
 *		(cstring_to_text_with_len, whose header utils/builtins.h clashes
 *		with json-c's json_object).
 */
Datum
atlas_text_datum(const char *s, int len)
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
 * convert_string
 *		The contents of a JSON string, s[len] (NUL-terminated, in the
 *		server encoding), to a Datum of the column's type: what a field
 *		holding that string gives, and what a key column holds
 *		(convert_key).
 */
static Datum
convert_string(AtlasColumn *col, const char *s, int len)
{
	switch (col->conv)
	{
		case CONV_TEXT:
			return atlas_text_datum(s, len);
		case CONV_TIMESTAMPTZ:
			{
				TimestampTz ts;

				if (parse_utc_timestamp(s, len, &ts))
					return TimestampTzGetDatum(ts);
			}
			break;
		case CONV_JSON:
			{
				/* the string's JSON text, with its quotes */
				StringInfoData buf;

				initStringInfo(&buf);
				escape_json(&buf, s);
				return InputFunctionCall(&col->infunc, buf.data,
										 col->ioparam, col->typmod);
			}
		case CONV_INT8:
		case CONV_BOOL:
		case CONV_ARRAY:
		case CONV_INPUT:
			break;
	}
	return InputFunctionCall(&col->infunc, (char *) s, col->ioparam,
							 col->typmod);
}

/*
 * convert_value
 *		One JSON value (not null) to a Datum of the column's type.
 */
static Datum
convert_value(AtlasColumn *col, struct json_object *v)
{
	enum json_type type = json_object_get_type(v);

	/* a string's text is its contents; the json types keep its quotes */
	if (type == json_type_string && col->conv != CONV_JSON)
	{
		int			len;
		const char *s = json_string(v, &len);

		return convert_string(col, s, len);
	}

	/* numbers json-c cannot give right are errors, in containers too */
	if (type != json_type_string && type != json_type_boolean)
		atlas_json_check_numbers(v);

	switch (col->conv)
	{
		case CONV_INT8:
			/* anything else goes through int8in, which explains */
			if (type == json_type_int)
			{
				int64		i = json_object_get_int64(v);

				/* json-c answers PG_INT64_MAX for any larger uint64 too */
				if (i != PG_INT64_MAX ||
					json_object_get_uint64(v) == (uint64) PG_INT64_MAX)
					return Int64GetDatum(i);
			}
			break;
		case CONV_BOOL:
			if (type == json_type_boolean)
				return BoolGetDatum(json_object_get_boolean(v));
			break;
		case CONV_ARRAY:
			return InputFunctionCall(&col->infunc, array_literal(v),
									 col->ioparam, col->typmod);
		case CONV_JSON:
			/* the value's own JSON text, strings with their quotes */
			return InputFunctionCall(&col->infunc, (char *) json_serialized(v),
									 col->ioparam, col->typmod);
		case CONV_TEXT:
		case CONV_TIMESTAMPTZ:
		case CONV_INPUT:
			break;
	}
	return InputFunctionCall(&col->infunc, (char *) json_text(v),
							 col->ioparam, col->typmod);
}

/*
 * convert_key
 *		The value of a key column: the chain's key value, converted as the
 *		same value read from a JSON field would be (atlas_key_row_text: a
 *		JSON string, or a JSON number for an integer key), so the column's
 *		input function, typmod and domain apply, and a value the type
 *		rejects is an ERROR naming the column.
 */
static Datum
convert_key(AtlasColumn *col, const AtlasRequestKeys *keys)
{
	bool		is_number;
	const char *s = atlas_key_row_text((AtlasKeyKind) col->key,
									   keys->text[col->key],
									   keys->datum[col->key], &is_number);

	if (!is_number)
		return convert_string(col, s, strlen(s));
	/* an exact integer (a bigint Datum): convert_value's shortcut */
	if (col->conv == CONV_INT8)
		return keys->datum[col->key];
	return InputFunctionCall(&col->infunc, (char *) s, col->ioparam,
							 col->typmod);
}

/*
 * convert_secret_value
 *		convert_value for a column that holds download links, which grant
 *		access to data: if the type's input function rejects the value, its
 *		message (which quotes the value) is replaced by one that does not,
 *		so the link reaches neither the client nor the server log.
 */
static Datum
convert_secret_value(AtlasColumn *col, struct json_object *v)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	Datum		result = (Datum) 0;

	PG_TRY();
	{
		result = convert_value(col, v);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			sqlerrcode;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		sqlerrcode = edata->sqlerrcode;
		FreeErrorData(edata);
		if (sqlerrcode == ERRCODE_QUERY_CANCELED ||
			sqlerrcode == ERRCODE_OUT_OF_MEMORY)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(sqlerrcode),
				 errmsg("could not convert a download link to the type of its column"),
				 errdetail("The value is a download link, which is not shown.")));
	}
	PG_END_TRY();
	return result;
}

/*
 * path_step
 *		One step of a field path below value v: a key of an object, or a
 *		zero-based index into an array ("links.0.rel").  NULL if there is
 *		no such member (or it is null).
 */
static struct json_object *
path_step(struct json_object *v, const char *segment, int seglen)
{
	struct json_object *m;

	if (json_object_is_type(v, json_type_object))
		return json_object_object_get_ex(v, segment, &m) ? m : NULL;
	if (json_object_is_type(v, json_type_array) && seglen <= 9 &&
		(int) strspn(segment, "0123456789") == seglen)
	{
		long		idx = strtol(segment, NULL, 10);

		if (idx >= (long) json_object_array_length(v))
			return NULL;
		return json_object_array_get_idx(v, idx);
	}
	return NULL;
}

/*
 * match_members
 *		Find in row object obj the value of every column's first path
 *		segment: map->found[i] (NULL if missing or null).  One hash lookup
 *		in json-c's table per distinct field the query reads.
 */
static void
match_members(AtlasColumnMap *map, struct json_object *obj)
{
	for (int f = 0; f < map->nused; f++)
	{
		struct json_object *value = NULL;

		(void) json_object_object_get_ex(obj, map->used[f]->name, &value);
		for (int c = map->used[f]->column; c >= 0; c = map->cols[c].next_same)
			map->found[c] = value;
	}
}

/*
 * digest_value
 *		Fold one JSON value (its type, and its contents, recursively) into
 *		the running digest h.  Allocates nothing: strings are read in
 *		place, numbers as their 64-bit values.  Depth is bounded by the
 *		parser (ATLAS_JSON_MAX_DEPTH).
 */
static uint64
digest_value(struct json_object *v, uint64 h)
{
	enum json_type type = json_object_get_type(v);

	check_stack_depth();
	h = hash_uint32_extended((uint32) type, h);
	switch (type)
	{
		case json_type_null:
			break;
		case json_type_boolean:
			h = hash_uint32_extended(json_object_get_boolean(v) ? 1 : 0, h);
			break;
		case json_type_int:
			{
				int64		i = json_object_get_int64(v);

				h = hash_bytes_extended((const unsigned char *) &i,
										sizeof(i), h);
			}
			break;
		case json_type_double:
			{
				double		d = json_object_get_double(v);

				h = hash_bytes_extended((const unsigned char *) &d,
										sizeof(d), h);
			}
			break;
		case json_type_string:
			h = hash_bytes_extended((const unsigned char *) json_object_get_string(v),
									json_object_get_string_len(v), h);
			break;
		case json_type_array:
			{
				size_t		n = json_object_array_length(v);

				h = hash_uint32_extended((uint32) n, h);
				for (size_t i = 0; i < n; i++)
					h = digest_value(json_object_array_get_idx(v, i), h);
			}
			break;
		case json_type_object:
			{
				json_object_object_foreach(v, key, val)
				{
					h = hash_bytes_extended((const unsigned char *) key,
											(int) strlen(key), h);
					h = digest_value(val, h);
				}
			}
			break;
	}
	return h;
}

/*
 * atlas_page_digest
 *		A 64-bit digest of a page's rows (every value of every row, in
 *		order), so that a page can be recognized when it comes again
 *		without keeping it.  Two pages with the same rows have the same
 *		digest; two different ones, with a chance of one in 2^64.
 *		Allocates nothing; costs one walk of the rows.
 */
uint64
atlas_page_digest(AtlasPage *page)
{
	uint64		h = hash_uint32_extended((uint32) page->nrows, 0);

	for (int i = 0; i < page->nrows; i++)
	{
		CHECK_FOR_INTERRUPTS();
		h = digest_value(page->rows[i], h);
	}
	return h;
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
	ErrorContextCallback errcallback;

	match_members(map, page_row(page, rowno));

	errcallback.callback = conversion_error_callback;
	errcallback.arg = map;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (int i = 0; i < map->natts; i++)
	{
		AtlasColumn *col = &map->cols[i];
		struct json_object *v;

		values[i] = (Datum) 0;
		isnull[i] = true;
		if (col->name == NULL)
			continue;			/* dropped, or not used by the query */

		if (col->key >= 0)
		{
			/* the value asked for, as a JSON field holding it would give */
			if (keys->present[col->key])
			{
				map->current = col->name;
				values[i] = convert_key(col, keys);
				isnull[i] = false;
				continue;
			}
			if (!col->key_json)
				continue;
		}

		if (col->whole)
			v = page_row(page, rowno);
		else if (!col->parent)
			v = map->found[i];
		else if (page->parents && col->npath > 0)
			v = path_step(page->parents[rowno], col->path[0],
						  col->pathlen[0]);
		else
			v = NULL;
		for (int s = 1; s < col->npath && v; s++)
			v = path_step(v, col->path[s], col->pathlen[s]);
		if (v == NULL)
			continue;			/* missing, or JSON null */

		map->current = col->name;
		if (col->secret)
			values[i] = convert_secret_value(col, v);
		else
			values[i] = convert_value(col, v);
		isnull[i] = false;
	}
	map->current = NULL;
	error_context_stack = errcallback.previous;
}
