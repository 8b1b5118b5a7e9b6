/*-------------------------------------------------------------------------
 *
 * response.c
 *		  Turn parsed Atlas pages into rows of Datums
 *
 * A page is parsed once (jsontape.c) into a token array that lives exactly
 * as long as the memory context the caller resets between pages: a reset
 * callback on that context frees it, on the next page, at the end of the
 * scan and on ERROR alike.  Rows are converted one at a time straight from
 * the page's text, in the caller's (per-tuple) context, so memory is
 * bounded by one page.
 *
 * Each column reads the JSON field named by its field option or, failing
 * that, by the resource's column table (snake_case to camelCase otherwise).
 * Dotted field names walk nested objects and arrays ("links.0.rel").  A
 * missing key or JSON null gives SQL NULL; any other value goes through the
 * column type's input function (or an equivalent shortcut for text, bigint,
 * boolean and Atlas's UTC timestamps), so a value that does not fit is an
 * ERROR naming the column, never NULL.  Should an object repeat a key, the
 * last value counts, as in jsonb.
 *
 * Rows are a list page's "results", or, for resources that name a rows
 * path, the document itself or arrays nested inside it
 * (atlas_page_select_rows); a field name "^a" then reads member a of the
 * element that encloses the row.
 *
 * The members of a row are matched to columns in one pass through a small
 * hash table of the top-level field names the query reads.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  response.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupdesc.h"
#include "atlas_snapshot_fdw.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "jsontape.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/datetime.h"
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
	uint32	   *found;			/* per column: value token of this row, or 0 */
	const char *current;		/* column being converted, for context */
};

struct AtlasPage
{
	AtlasJson  *doc;			/* owned: freed by the context callback */
	uint32	   *rows;			/* token of each row's object */
	uint32	   *parents;		/* per row: its enclosing element, or NULL */
	int			nrows;
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
	}
	else
		col->next_same = slot->column;
	slot->column = i;
}

/*
 * lookup_field
 *		The first column reading top-level field name[len], or -1.
 */
static inline int
lookup_field(const AtlasColumnMap *map, const char *name, int len)
{
	const FieldSlot *slot = field_slot(map, name, len);

	return slot->name ? slot->column : -1;
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
	map->found = palloc0(sizeof(uint32) * Max(tupdesc->natts, 1));
	/* at most half full */
	map->nfields = 8;
	while (map->nfields < 2 * (uint32) tupdesc->natts)
		map->nfields *= 2;
	map->fields = palloc0(sizeof(FieldSlot) * map->nfields);

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

		field = atlas_column_field(RelationGetRelid(rel), attr->attnum);
		if (field == NULL && atlas_key_from_column(res, col->name, &kind) &&
			kind != ATLAS_KEY_ID)
			col->key = kind;
		if (field == NULL)
			field = atlas_default_json_field(res, col->name);

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
		if (col->key < 0 && col->npath > 0 && !col->parent)
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
 *		Free a page's document when its memory context goes away.
 *
 * Runs on MemoryContextReset/Delete, including during ERROR cleanup; must
 * not throw.
 */
static void
page_reset_callback(void *arg)
{
	AtlasPage  *page = (AtlasPage *) arg;

	atlas_json_free(page->doc);
	page->doc = NULL;
}

/*
 * results_array
 *		The token of a list page's "results" array, or 0 if it has none.
 */
static uint32
results_array(const AtlasJson *doc)
{
	uint32		v = atlas_json_member(doc, 0, "results", strlen("results"));

	return (v && doc->tokens[v].type == AJ_ARRAY) ? v : 0;
}

/*
 * atlas_json_page_rows
 *		The number of items of a parsed list page, -1 if it has no results
 *		array; *total gets totalCount, or -1.  Never throws.
 */
int
atlas_json_page_rows(AtlasJson *doc, int64 *total)
{
	uint32		v;

	*total = -1;
	if (doc->tokens[0].type != AJ_OBJECT)
		return -1;
	v = atlas_json_member(doc, 0, "totalCount", strlen("totalCount"));
	if (v && !atlas_json_int64(doc, v, total))
		*total = -1;
	v = results_array(doc);
	return v ? (int) doc->tokens[v].count : -1;
}

/*
 * atlas_page_adopt
 *		Make a parsed response the scan's current page.
 *
 * single: the document is one item (a GET by id) rather than a list
 * envelope.  The document passes to page_cxt, which frees it when it is
 * next reset or deleted; *doc is set to NULL once that is arranged (before
 * that, an ERROR leaves it with the caller).  An unexpected shape raises
 * an ERROR.
 */
AtlasPage *
atlas_page_adopt(AtlasJson **doc, bool single, MemoryContext page_cxt)
{
	AtlasPage  *page = MemoryContextAllocZero(page_cxt, sizeof(AtlasPage));
	AtlasJson  *d;
	uint32		results;
	uint32		e;

	page->cb.func = page_reset_callback;
	page->cb.arg = page;
	MemoryContextRegisterResetCallback(page_cxt, &page->cb);
	d = page->doc = *doc;
	*doc = NULL;

	if (d->tokens[0].type != AJ_OBJECT)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("The response is not a JSON object.")));

	if (single)
	{
		page->nrows = 1;
		page->rows = MemoryContextAllocZero(page_cxt, sizeof(uint32));
		return page;
	}

	results = results_array(d);
	if (results == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected Atlas response"),
				 errdetail("The response has no \"results\" array.")));
	page->nrows = (int) d->tokens[results].count;
	page->rows = MemoryContextAlloc(page_cxt, sizeof(uint32) * Max(page->nrows, 1));
	e = results + 1;
	for (int i = 0; i < page->nrows; i++)
	{
		page->rows[i] = e;
		e = d->tokens[e].next;
	}
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
 * This is the one place that walks a document for rows: a parser other
 * than jsontape needs to reimplement only this function (and the "^" path
 * step of atlas_fill_row).
 */
void
atlas_page_select_rows(AtlasPage *page, const char *rows_path,
					   const char *row_marker, MemoryContext page_cxt)
{
	const AtlasJson *doc = page->doc;
	uint32	   *cur;			/* elements of the current step */
	uint32	   *cur_parent;		/* and the element enclosing each */
	int			ncur = 1;
	char	   *path;

	Assert(page->nrows == 1 && page->rows[0] == 0);
	if (*rows_path == '\0')
	{
		if (row_marker &&
			atlas_json_member(doc, 0, row_marker, strlen(row_marker)) == 0)
			page->nrows = 0;
		return;
	}

	cur = MemoryContextAlloc(page_cxt, sizeof(uint32));
	cur_parent = MemoryContextAlloc(page_cxt, sizeof(uint32));
	cur[0] = cur_parent[0] = 0;
	path = MemoryContextStrdup(page_cxt, rows_path);
	for (char *seg = strtok(path, "."); seg; seg = strtok(NULL, "."))
	{
		int			nnext = 0;
		Size		cap = 0;
		uint32	   *next;
		uint32	   *next_parent;

		/* first count, so that the arrays are allocated once */
		for (int i = 0; i < ncur; i++)
		{
			uint32		v = atlas_json_member(doc, cur[i], seg, strlen(seg));

			CHECK_FOR_INTERRUPTS();
			if (v == 0)
				continue;
			if (doc->tokens[v].type == AJ_ARRAY)
				cap += doc->tokens[v].count;
			else if (doc->tokens[v].type == AJ_OBJECT)
				cap++;
		}
		/* a page is at most max_page_bytes: the count fits an int */
		if (cap > (Size) INT_MAX / sizeof(uint32))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many rows in one Atlas document")));
		next = MemoryContextAlloc(page_cxt, sizeof(uint32) * Max(cap, 1));
		next_parent = MemoryContextAlloc(page_cxt, sizeof(uint32) * Max(cap, 1));

		for (int i = 0; i < ncur; i++)
		{
			uint32		v = atlas_json_member(doc, cur[i], seg, strlen(seg));

			if (v == 0)
				continue;
			if (doc->tokens[v].type == AJ_OBJECT)
			{
				next_parent[nnext] = cur[i];
				next[nnext++] = v;
			}
			else if (doc->tokens[v].type == AJ_ARRAY)
			{
				uint32		e = v + 1;

				for (uint32 k = 0; k < doc->tokens[v].count; k++)
				{
					CHECK_FOR_INTERRUPTS();
					if (doc->tokens[e].type == AJ_OBJECT)
					{
						next_parent[nnext] = cur[i];
						next[nnext++] = e;
					}
					e = doc->tokens[e].next;
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
 * page_row
 *		The object token of one row; ERROR if it is not an object.
 */
static uint32
page_row(AtlasPage *page, int rowno)
{
	uint32		obj;

	Assert(rowno >= 0 && rowno < page->nrows);
	obj = page->rows[rowno];
	if (page->doc->tokens[obj].type != AJ_OBJECT)
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
 * in_server_encoding
 *		A palloc'd, NUL-terminated UTF-8 string of *len bytes (checked by
 *		the parser) in the server encoding: s itself unless it holds
 *		characters beyond ASCII that need converting (*len is updated).
 */
static char *
in_server_encoding(char *s, int *len, bool nonascii)
{
	if (nonascii && GetDatabaseEncoding() != PG_UTF8)
	{
		s = pg_any_to_server(s, *len, PG_UTF8);
		*len = strlen(s);
	}
	return s;
}

/*
 * to_server
 *		A palloc'd, NUL-terminated copy of len bytes of the page's UTF-8 in
 *		the server encoding.
 */
static char *
to_server(const char *s, int len, bool nonascii)
{
	return in_server_encoding(pnstrdup(s, len), &len, nonascii);
}

/*
 * atlas_json_utf8
 *		The contents of string token v, unescaped, as a palloc'd,
 *		NUL-terminated UTF-8 string (not converted to the server encoding;
 *		the parser has checked it); *len gets its length.  NULL if v is not
 *		a string or holds \u0000.  Throws nothing but out of memory, so
 *		error reporting can use it.
 */
char *
atlas_json_utf8(const AtlasJson *doc, uint32 v, int *len)
{
	const AtlasJsonToken *t = &doc->tokens[v];
	char	   *buf;
	int			n;

	if (t->type != AJ_STRING)
		return NULL;
	buf = palloc(t->len + 1);
	if (t->flags & AJ_ESCAPED)
	{
		n = atlas_json_unescape(doc, v, buf);
		if (n < 0)
		{
			pfree(buf);
			return NULL;
		}
	}
	else
	{
		memcpy(buf, doc->text + t->start, t->len);
		n = t->len;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * atlas_json_string
 *		The contents of string token v as a palloc'd, NUL-terminated string
 *		in the server encoding; *len gets its length.
 *
 * A string with an escaped NUL (\u0000) cannot be a PostgreSQL text value
 * and would be cut short by input functions: that is an error, as is a
 * character the server encoding lacks.
 */
char *
atlas_json_string(const AtlasJson *doc, uint32 v, int *len)
{
	char	   *s = atlas_json_utf8(doc, v, len);

	Assert(doc->tokens[v].type == AJ_STRING);
	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("JSON string in Atlas response contains a NUL character")));
	return in_server_encoding(s, len, doc->tokens[v].flags & AJ_NONASCII);
}

/*
 * json_text
 *		The text form of a JSON value: a string's contents (see
 *		atlas_json_string), any other value's JSON text.  palloc'd.
 */
static const char *
json_text(const AtlasJson *doc, uint32 v)
{
	const AtlasJsonToken *t = &doc->tokens[v];
	int			len;

	if (t->type == AJ_STRING)
		return atlas_json_string(doc, v, &len);
	/* a container may hold any character; scalars are ASCII */
	return to_server(doc->text + t->start, t->len,
					 t->type == AJ_ARRAY || t->type == AJ_OBJECT);
}

/*
 * array_literal
 *		Build an array input literal ("{"a","b",NULL}") from a JSON array.
 *		Any other value is passed on as text for the input function to
 *		reject.
 */
static char *
array_literal(const AtlasJson *doc, uint32 v)
{
	StringInfoData buf;
	uint32		e = v + 1;

	if (doc->tokens[v].type != AJ_ARRAY)
		return pstrdup(json_text(doc, v));

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (uint32 i = 0; i < doc->tokens[v].count; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (doc->tokens[e].type == AJ_NULL)
			appendStringInfoString(&buf, "NULL");
		else
		{
			appendStringInfoChar(&buf, '"');
			for (const char *p = json_text(doc, e); *p; p++)
			{
				if (*p == '"' || *p == '\\')
					appendStringInfoChar(&buf, '\\');
				appendStringInfoChar(&buf, *p);
			}
			appendStringInfoChar(&buf, '"');
		}
		e = doc->tokens[e].next;
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
convert_value(AtlasColumn *col, const AtlasJson *doc, uint32 v)
{
	const AtlasJsonToken *t = &doc->tokens[v];

	switch (col->conv)
	{
		case CONV_TEXT:
			if (t->type == AJ_STRING)
			{
				int			len;
				const char *s;

				/* the common case: plain ASCII, straight from the page */
				if (t->flags == 0)
					return make_text(doc->text + t->start, t->len);
				s = atlas_json_string(doc, v, &len);
				return make_text(s, len);
			}
			break;
		case CONV_INT8:
			{
				int64		i;

				/* anything else goes through int8in, which explains */
				if (atlas_json_int64(doc, v, &i))
					return Int64GetDatum(i);
			}
			break;
		case CONV_BOOL:
			if (t->type == AJ_TRUE || t->type == AJ_FALSE)
				return BoolGetDatum(t->type == AJ_TRUE);
			break;
		case CONV_TIMESTAMPTZ:
			{
				TimestampTz ts;

				if (t->type == AJ_STRING && t->flags == 0 &&
					parse_utc_timestamp(doc->text + t->start, t->len, &ts))
					return TimestampTzGetDatum(ts);
			}
			break;
		case CONV_ARRAY:
			return InputFunctionCall(&col->infunc, array_literal(doc, v),
									 col->ioparam, col->typmod);
		case CONV_JSON:
			/* the value's own JSON text, strings with their quotes */
			if (t->type == AJ_STRING)
				return InputFunctionCall(&col->infunc,
										 to_server(doc->text + t->start - 1, t->len + 2,
												   t->flags & AJ_NONASCII),
										 col->ioparam, col->typmod);
			break;
		case CONV_INPUT:
			break;
	}
	return InputFunctionCall(&col->infunc, (char *) json_text(doc, v),
							 col->ioparam, col->typmod);
}

/*
 * convert_secret_value
 *		convert_value for a column that holds download links, which grant
 *		access to data: if the type's input function rejects the value, its
 *		message (which quotes the value) is replaced by one that does not,
 *		so the link reaches neither the client nor the server log.
 */
static Datum
convert_secret_value(AtlasColumn *col, const AtlasJson *doc, uint32 v)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	Datum		result = (Datum) 0;

	PG_TRY();
	{
		result = convert_value(col, doc, v);
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
 *		zero-based index into an array ("links.0.rel").  0 if there is no
 *		such member.
 */
static uint32
path_step(const AtlasJson *doc, uint32 v, const char *segment, int seglen)
{
	const AtlasJsonToken *t = &doc->tokens[v];

	if (t->type == AJ_OBJECT)
		return atlas_json_member(doc, v, segment, seglen);
	if (t->type == AJ_ARRAY && seglen <= 9 &&
		(int) strspn(segment, "0123456789") == seglen)
	{
		long		idx = strtol(segment, NULL, 10);
		uint32		e = v + 1;

		if (idx >= (long) t->count)
			return 0;
		for (long i = 0; i < idx; i++)
			e = doc->tokens[e].next;
		return e;
	}
	return 0;
}

/*
 * match_members
 *		Find, in one pass over the members of row object obj, the value of
 *		every column's first path segment: map->found[i] (0 if missing).
 */
static void
match_members(AtlasColumnMap *map, const AtlasJson *doc, uint32 obj)
{
	const AtlasJsonToken *tokens = doc->tokens;
	uint32		k = obj + 1;

	memset(map->found, 0, sizeof(uint32) * map->natts);
	for (uint32 m = 0; m < tokens[obj].count; m++)
	{
		const AtlasJsonToken *key = &tokens[k];
		int			c;

		if (!(key->flags & AJ_ESCAPED))
			c = lookup_field(map, doc->text + key->start, key->len);
		else
		{
			char	   *buf = palloc(key->len + 1);
			int			n = atlas_json_unescape(doc, k, buf);

			c = n < 0 ? -1 : lookup_field(map, buf, n);
			pfree(buf);
		}
		for (; c >= 0; c = map->cols[c].next_same)
			map->found[c] = k + 1;
		k = tokens[k + 1].next;
	}
}

/*
 * atlas_page_row_id
 *		The "id" of a row, palloc'd, or NULL.
 */
const char *
atlas_page_row_id(AtlasPage *page, int rowno)
{
	const AtlasJson *doc = page->doc;
	uint32		id = atlas_json_member(doc, page_row(page, rowno), "id", 2);
	int			len;

	if (id && doc->tokens[id].type == AJ_STRING)
		return atlas_json_string(doc, id, &len);
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
	const AtlasJson *doc = page->doc;
	ErrorContextCallback errcallback;

	match_members(map, doc, page_row(page, rowno));

	errcallback.callback = conversion_error_callback;
	errcallback.arg = map;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (int i = 0; i < map->natts; i++)
	{
		AtlasColumn *col = &map->cols[i];
		uint32		v;

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

		if (!col->parent)
			v = map->found[i];
		else if (page->parents && col->npath > 0)
			v = path_step(doc, page->parents[rowno], col->path[0],
						  col->pathlen[0]);
		else
			v = 0;
		for (int s = 1; s < col->npath && v; s++)
			v = path_step(doc, v, col->path[s], col->pathlen[s]);
		if (v == 0 || doc->tokens[v].type == AJ_NULL)
			continue;			/* missing, or JSON null */

		map->current = col->name;
		if (col->secret)
			values[i] = convert_secret_value(col, doc, v);
		else
			values[i] = convert_value(col, doc, v);
		isnull[i] = false;
	}
	map->current = NULL;
	error_context_stack = errcallback.previous;
}
