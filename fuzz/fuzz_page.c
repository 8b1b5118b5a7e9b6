/*-------------------------------------------------------------------------
 *
 * fuzz_page.c
 *		  libFuzzer target for the page parser and the JSON-to-Datum path
 *		  of response.c
 *
 * Each input is a response body.  It goes through response.c twice, the
 * way atlas_snapshot_fdw.c uses it:
 *
 *	 1. as a list page: atlas_json_parse, atlas_json_page_rows,
 *		atlas_page_adopt(single = false) into a page context, then for every
 *		row atlas_page_row_id and atlas_fill_row in a per-tuple context that
 *		is reset after each row; the page context is reset at the end;
 *	 2. as a single document (a GET by id): the same with single = true, and
 *		the page context is deleted rather than reset.
 *
 * The foreign table is a fake Relation for the cluster_snapshots resource
 * (its column table comes from the real resource.c) with every column of
 * that resource plus columns that reach each conversion of response.c:
 * text, bigint, boolean, timestamptz, json, jsonb, arrays, domains over
 * jsonb/text[]/text, types converted by their input function (uuid,
 * numeric, integer, double precision, date), dotted field options through
 * objects and arrays, request-key columns, and a dropped column.  Column
 * maps are built once with atlas_build_column_map: one for all columns and
 * one per column (a used_attrs list of one), and when a row fails with the
 * full map each column is tried on its own, so one bad field does not
 * hide the others.
 *
 * An ERROR longjmps to the PG_TRY around the call, as in the backend.
 * Besides the sanitizers (ASan, UBSan, and LeakSanitizer, which reports any
 * json-c tree that no reset callback freed), the harness checks what
 * response.c produced against an independent reading of the same input
 * with json-c:
 *	- the body is accepted when json-c reads one document followed by
 *	  white space only, and the row count and shape errors agree;
 *	- a missing field or JSON null is SQL NULL, any other value is not;
 *	- text, bigint, boolean, timestamptz, array elements and json values
 *	  equal the JSON value (the timestamptz fast path must agree with
 *	  timestamptz_in, here pg_stubs.c's version of it);
 *	- request keys are echoed, dropped and unused columns are NULL;
 *	- by-reference Datums live in the per-tuple context;
 *	- a conversion error names its column in the error context;
 *	- no palloc'd chunk outlives the input, error_context_stack is
 *	  restored.
 *
 * Environment: ATLAS_FUZZ_PRINT=1 prints every step (to reproduce a
 * crash: ATLAS_FUZZ_PRINT=1 ./fuzz_page crash-file).  ATLAS_FUZZ_STRICT=1
 * adds the checks that text handed to PostgreSQL is valid UTF-8 without
 * NUL bytes and that trailing NUL bytes make a body invalid; response.c
 * does not pass them yet (see fuzz/run.sh).
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  fuzz/fuzz_page.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include <json.h>

#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "atlas_snapshot_fdw.h"
#include "fuzz_stubs.h"

#undef fprintf
#undef printf
#undef snprintf

#define NO_KEY	(-1)

/* How the harness expects a column to be filled (mirrors response.c) */
typedef enum FuzzKind
{
	K_TEXT,
	K_INT8,
	K_BOOL,
	K_TIMESTAMPTZ,
	K_JSON,
	K_ARRAY,
	K_INPUT
} FuzzKind;

typedef struct FuzzColumn
{
	const char *name;			/* column name */
	Oid			type;			/* column type */
	const char *field;			/* field option, or NULL */
	const char *json;			/* the JSON path it must read, or NULL */
	int			key;			/* AtlasKeyKind it echoes, or NO_KEY */
	bool		dropped;
} FuzzColumn;

static const FuzzColumn columns[] = {
	/* the cluster_snapshots column table, in its order */
	{"group_id", TEXTOID, NULL, NULL, ATLAS_KEY_GROUP},
	{"cluster_name", TEXTOID, NULL, NULL, ATLAS_KEY_CLUSTER},
	{"id", TEXTOID, NULL, "id", NO_KEY},
	{"cloud_provider", TEXTOID, NULL, "cloudProvider", NO_KEY},
	{"copy_regions", TEXTARRAYOID, NULL, "copyRegions", NO_KEY},
	{"created_at", TIMESTAMPTZOID, NULL, "createdAt", NO_KEY},
	{"description", TEXTOID, NULL, "description", NO_KEY},
	{"expires_at", TIMESTAMPTZOID, NULL, "expiresAt", NO_KEY},
	{"frequency_type", TEXTOID, NULL, "frequencyType", NO_KEY},
	{"master_key_uuid", UUIDOID, NULL, "masterKeyUUID", NO_KEY},
	{"mongod_version", TEXTOID, NULL, "mongodVersion", NO_KEY},
	{"policy_items", TEXTARRAYOID, NULL, "policyItems", NO_KEY},
	{"replica_set_name", TEXTOID, NULL, "replicaSetName", NO_KEY},
	{"snapshot_type", TEXTOID, NULL, "snapshotType", NO_KEY},
	{"status", TEXTOID, NULL, "status", NO_KEY},
	{"storage_size_bytes", INT8OID, NULL, "storageSizeBytes", NO_KEY},
	{"type", TEXTOID, NULL, "type", NO_KEY},
	{"links", JSONBOID, NULL, "links", NO_KEY},
	{"point_in_time", TIMESTAMPTZOID, NULL, NULL, ATLAS_KEY_POINT_IN_TIME},
	{"oplog_ts", INT8OID, NULL, NULL, ATLAS_KEY_OPLOG_TS},
	{"oplog_inc", INT8OID, NULL, NULL, ATLAS_KEY_OPLOG_INC},
	/* not in the column table: camelCase of the name */
	{"backup_enabled", BOOLOID, NULL, "backupEnabled", NO_KEY},
	{"members", JSONOID, NULL, "members", NO_KEY},
	{"tags", FUZZ_JSONB_DOMAIN_OID, NULL, "tags", NO_KEY},
	{"sizes", INT8ARRAYOID, NULL, "sizes", NO_KEY},
	/* field options: dotted paths and other types for the same fields */
	{"self_href", TEXTOID, "links.0.href", "links.0.href", NO_KEY},
	{"next_rel", TEXTOID, "links.1.rel", "links.1.rel", NO_KEY},
	{"member_set", TEXTOID, "members.0.replicaSetName", "members.0.replicaSetName", NO_KEY},
	{"size_numeric", NUMERICOID, "storageSizeBytes", "storageSizeBytes", NO_KEY},
	{"size_int4", INT4OID, "storageSizeBytes", "storageSizeBytes", NO_KEY},
	{"size_float8", FLOAT8OID, "storageSizeBytes", "storageSizeBytes", NO_KEY},
	{"created_date", DATEOID, "createdAt", "createdAt", NO_KEY},
	{"created_text", TEXTOID, "createdAt", "createdAt", NO_KEY},
	{"regions", FUZZ_TEXTARRAY_DOMAIN_OID, "copyRegions", "copyRegions", NO_KEY},
	{"status_domain", FUZZ_TEXT_DOMAIN_OID, "status", "status", NO_KEY},
	{"........pg.dropped.36........", TEXTOID, NULL, NULL, NO_KEY, true},
};

#define NCOLUMNS	((int) lengthof(columns))

/* Built once by LLVMFuzzerInitialize */
static MemoryContext scan_cxt;	/* the scan's maps and keys */
static Relation rel;
static AtlasColumnMap *map_all;
static AtlasColumnMap *map_one[NCOLUMNS];
static AtlasRequestKeys keys;
static long baseline_chunks;

/* An independent reading of the input */
typedef struct FuzzRef
{
	json_object *root;			/* first document, or NULL */
	bool		valid;			/* one document and white space only */
	bool		nul_tail;		/* ... except for NUL bytes */
	bool		strict_valid;	/* valid, and strict JSON in UTF-8 */
} FuzzRef;

/* the input being run, for messages and the clamping check */
static const uint8_t *cur_data;
static size_t cur_size;

/* option.c's part: the field option of a column */
const char *
atlas_column_field(Oid relid, AttrNumber attnum)
{
	if (relid != RelationGetRelid(rel) || attnum < 1 || attnum > NCOLUMNS)
		fuzz_fail("atlas_column_field(%u, %d): no such column", relid, attnum);
	return columns[attnum - 1].field;
}

static FuzzKind
column_kind(Oid type)
{
	const FuzzType *t = fuzz_type(type);

	if (type == TEXTOID)
		return K_TEXT;
	if (type == INT8OID)
		return K_INT8;
	if (type == BOOLOID)
		return K_BOOL;
	if (type == TIMESTAMPTZOID)
		return K_TIMESTAMPTZ;
	if (t->basetype == JSONOID || t->basetype == JSONBOID)
		return K_JSON;
	if (fuzz_type(t->basetype)->elemtype != InvalidOid)
		return K_ARRAY;
	return K_INPUT;
}

static Relation
make_relation(void)
{
	Relation	r = calloc(1, sizeof(RelationData));
	TupleDesc	desc = calloc(1, offsetof(struct TupleDescData, attrs) +
							  NCOLUMNS * sizeof(FormData_pg_attribute));

	desc->natts = NCOLUMNS;
	desc->tdtypeid = RECORDOID;
	desc->tdtypmod = -1;
	desc->tdrefcount = -1;
	for (int i = 0; i < NCOLUMNS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const FuzzType *t = fuzz_type(columns[i].type);

		snprintf(NameStr(att->attname), NAMEDATALEN, "%s", columns[i].name);
		att->atttypid = columns[i].dropped ? InvalidOid : columns[i].type;
		att->atttypmod = -1;
		att->attnum = i + 1;
		att->attlen = t->typlen;
		att->attbyval = t->byval;
		att->attisdropped = columns[i].dropped;
	}
	r->rd_rel = calloc(1, sizeof(FormData_pg_class));
	snprintf(NameStr(r->rd_rel->relname), NAMEDATALEN, "%s", "fuzz_snapshots");
	r->rd_id = 16384;
	r->rd_att = desc;
	return r;
}

static List *
int_list1(int value)
{
	List	   *l = palloc0(offsetof(List, initial_elements) + sizeof(ListCell));

	l->type = T_IntList;
	l->length = l->max_length = 1;
	l->elements = l->initial_elements;
	l->initial_elements[0].int_value = value;
	return l;
}

/* textin's counterpart, for the harness's own key values */
static text *
make_text_value(const char *s)
{
	size_t		len = strlen(s);
	text	   *t = palloc(len + VARHDRSZ);

	SET_VARSIZE(t, len + VARHDRSZ);
	memcpy(VARDATA(t), s, len);
	return t;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const AtlasResource *res;
	MemoryContext old;
	const char *e;

	e = getenv("ATLAS_FUZZ_PRINT");
	fuzz_verbose = e != NULL && *e != '\0' && strcmp(e, "0") != 0;
	e = getenv("ATLAS_FUZZ_STRICT");
	fuzz_strict = e != NULL && *e != '\0' && strcmp(e, "0") != 0;

	TopMemoryContext = fuzz_context_create(NULL, "TopMemoryContext");
	CurrentMemoryContext = TopMemoryContext;
	scan_cxt = fuzz_context_create(TopMemoryContext, "fuzz scan");
	rel = make_relation();
	res = atlas_find_resource("cluster_snapshots");
	if (res == NULL)
		fuzz_fail("resource.c has no cluster_snapshots resource");

	old = MemoryContextSwitchTo(scan_cxt);
	PG_TRY();
	{
		map_all = atlas_build_column_map(rel, res, NIL);
		for (int i = 0; i < NCOLUMNS; i++)
		{
			if (!columns[i].dropped)
				map_one[i] = atlas_build_column_map(rel, res, int_list1(i + 1));
		}
	}
	PG_CATCH();
	{
		fuzz_fail("atlas_build_column_map failed: %s", fuzz_last_error());
	}
	PG_END_TRY();

	memset(&keys, 0, sizeof(keys));
	keys.present[ATLAS_KEY_GROUP] = true;
	keys.text[ATLAS_KEY_GROUP] = pstrdup("5f4007f327a3bd7b6f4103c5");
	keys.datum[ATLAS_KEY_GROUP] =
		PointerGetDatum(make_text_value(keys.text[ATLAS_KEY_GROUP]));
	keys.present[ATLAS_KEY_POINT_IN_TIME] = true;
	keys.text[ATLAS_KEY_POINT_IN_TIME] = pstrdup("1793836800");
	keys.datum[ATLAS_KEY_POINT_IN_TIME] = TimestampTzGetDatum(846489600000000);
	MemoryContextSwitchTo(old);
	baseline_chunks = fuzz_live_chunks();
	return 0;
}

/* ----------------------------------------------------------------------
 * The reference reading
 * ----------------------------------------------------------------------
 */

static void
ref_parse(const uint8_t *data, size_t size, FuzzRef *ref)
{
	json_tokener *tok = json_tokener_new_ex(64);
	size_t		end;
	enum json_tokener_error jerr;

	memset(ref, 0, sizeof(*ref));
	if (tok == NULL || size > INT_MAX)
		abort();
	ref->root = json_tokener_parse_ex(tok, (const char *) data, (int) size);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr != json_tokener_success || ref->root == NULL)
	{
		json_object_put(ref->root);
		ref->root = NULL;
		return;
	}
	while (end < size && strchr(" \t\r\n", data[end]) != NULL && data[end] != '\0')
		end++;
	ref->valid = (end == size);
	while (end < size && (data[end] == '\0' || strchr(" \t\r\n", data[end]) != NULL))
	{
		if (data[end] == '\0')
			ref->nul_tail = true;
		end++;
	}
	if (end < size)
		ref->nul_tail = false;

	/* the same with json-c's strict mode and UTF-8 validation */
	if (ref->valid)
	{
		json_object *obj;

		tok = json_tokener_new_ex(64);
		if (tok == NULL)
			abort();
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
							   JSON_TOKENER_ALLOW_TRAILING_CHARS);
		obj = json_tokener_parse_ex(tok, (const char *) data, (int) size);
		ref->strict_valid = json_tokener_get_error(tok) == json_tokener_success &&
			obj != NULL;
		json_tokener_free(tok);
		json_object_put(obj);
	}
}

/* bytes for a message: printable ASCII as is, the rest as \xNN */
static const char *
escape(const char *s, size_t len)
{
	static char buf[4][512];
	static int	next = 0;
	char	   *out = buf[next++ % 4];
	size_t		o = 0;

	for (size_t i = 0; i < len && o < sizeof(buf[0]) - 8; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = c;
		else
			o += snprintf(out + o, 5, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

/*
 * Whether a JSON value holds an integer that json-c clamped: it reads
 * integers beyond int64/uint64 as INT64_MIN or UINT64_MAX.  Seen as a
 * clamp when the input does not spell that value itself.
 */
static bool
contains_clamped(json_object *val, int depth)
{
	if (depth > 70 || val == NULL)
		return false;
	switch (json_object_get_type(val))
	{
		case json_type_int:
			if (json_object_get_int64(val) == PG_INT64_MIN)
				return memmem(cur_data, cur_size, "-9223372036854775808", 20) == NULL;
			if (json_object_get_uint64(val) == PG_UINT64_MAX)
				return memmem(cur_data, cur_size, "18446744073709551615", 20) == NULL;
			return false;
		case json_type_array:
			for (size_t i = 0; i < json_object_array_length(val); i++)
			{
				if (contains_clamped(json_object_array_get_idx(val, i), depth + 1))
					return true;
			}
			return false;
		case json_type_object:
			{
				json_object_object_foreach(val, k, v)
				{
					(void) k;
					if (contains_clamped(v, depth + 1))
						return true;
				}
				return false;
			}
		default:
			return false;
	}
}

/* the value at a dotted path, as response.c's path_step defines it */
static json_object *
ref_walk(json_object *doc, const char *path)
{
	char		buf[256];
	json_object *val = doc;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *seg = strtok(buf, "."); seg && val; seg = strtok(NULL, "."))
	{
		if (json_object_is_type(val, json_type_object))
		{
			if (!json_object_object_get_ex(val, seg, &val))
				val = NULL;
		}
		else if (json_object_is_type(val, json_type_array) &&
				 strspn(seg, "0123456789") == strlen(seg) && strlen(seg) < 10)
		{
			size_t		idx = (size_t) atol(seg);

			val = idx < json_object_array_length(val)
				? json_object_array_get_idx(val, idx) : NULL;
		}
		else
			val = NULL;
	}
	return val;
}

static const char *
ref_serialize(json_object *val)
{
	return json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
										  JSON_C_TO_STRING_NOSLASHESCAPE);
}

/*
 * The text an input function gets for a JSON value: a string as it is (up
 * to its first NUL, unless strict: then all of it), anything else
 * serialized.
 */
static const char *
ref_text(json_object *val, size_t *len)
{
	const char *s;

	if (json_object_is_type(val, json_type_string))
	{
		s = json_object_get_string(val);
		*len = fuzz_strict ? (size_t) json_object_get_string_len(val) : strlen(s);
		return s;
	}
	s = ref_serialize(val);
	*len = strlen(s);
	return s;
}

/* ----------------------------------------------------------------------
 * Checks of one converted row
 * ----------------------------------------------------------------------
 */

static void
check_varlena(const FuzzColumn *col, Datum d, MemoryContext tuple_cxt,
			  const char **data, size_t *len)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	volatile char sink = 0;

	if (!fuzz_chunk_in_context(tuple_cxt, v))
		fuzz_fail("column \"%s\": by-reference value not allocated in the per-tuple context",
				  col->name);
	if (VARATT_IS_EXTENDED(v) || VARSIZE(v) < VARHDRSZ)
		fuzz_fail("column \"%s\": not a plain 4-byte-header varlena", col->name);
	*data = VARDATA(v);
	*len = VARSIZE(v) - VARHDRSZ;
	for (size_t i = 0; i < *len; i++)	/* ASan checks every byte */
		sink ^= (*data)[i];
	(void) sink;
}

static void
expect_bytes(const FuzzColumn *col, const char *what, const char *got,
			 size_t gotlen, const char *want, size_t wantlen)
{
	if (gotlen != wantlen || memcmp(got, want, gotlen) != 0)
		fuzz_fail("column \"%s\": %s is \"%s\" (%zu bytes), expected \"%s\" (%zu bytes)",
				  col->name, what, escape(got, gotlen), gotlen,
				  escape(want, wantlen), wantlen);
}

static void
check_array(const FuzzColumn *col, const char *data, size_t len, json_object *ref)
{
	const FuzzArray *a = (const FuzzArray *) (data - VARHDRSZ);
	const char *p = a->data;
	int			n = (int) json_object_array_length(ref);

	if (a->nelems != n)
		fuzz_fail("column \"%s\": %d array elements, the JSON array has %d",
				  col->name, a->nelems, n);
	for (int i = 0; i < n; i++)
	{
		json_object *elem = json_object_array_get_idx(ref, i);
		bool		isnull = *p++;
		int32		elen;

		memcpy(&elen, p, sizeof(elen));
		p += sizeof(elen);
		if (isnull != (elem == NULL))
			fuzz_fail("column \"%s\": element %d is %sNULL, the JSON element %s",
					  col->name, i + 1, isnull ? "" : "not ",
					  elem ? "is not null" : "is null");
		if (elem != NULL)
		{
			size_t		wlen;
			const char *want = ref_text(elem, &wlen);

			expect_bytes(col, "an array element", p, elen, want, wlen);
		}
		p += elen;
	}
	if (p != data + len)
		fuzz_fail("column \"%s\": trailing bytes in the array", col->name);
}

static void
check_value(int c, Datum d, json_object *ref, MemoryContext tuple_cxt)
{
	const FuzzColumn *col = &columns[c];
	const FuzzType *t = fuzz_type(col->type);
	const char *data = NULL;
	size_t		len = 0;

	if (!t->byval)
	{
		if (t->typlen == -1)
			check_varlena(col, d, tuple_cxt, &data, &len);
		else if (!fuzz_chunk_in_context(tuple_cxt, DatumGetPointer(d)))
			fuzz_fail("column \"%s\": by-reference value not allocated in the per-tuple context",
					  col->name);
	}

	switch (column_kind(col->type))
	{
		case K_TEXT:
			{
				size_t		wlen;
				const char *want;

				if (json_object_is_type(ref, json_type_string))
				{
					want = json_object_get_string(ref);
					wlen = json_object_get_string_len(ref);
				}
				else
					want = ref_text(ref, &wlen);
				expect_bytes(col, "the text", data, len, want, wlen);
				if (fuzz_strict && !fuzz_utf8_valid(data, len))
					fuzz_fail("column \"%s\": text with a NUL byte or invalid UTF-8",
							  col->name);
				break;
			}
		case K_INT8:
			if (json_object_is_type(ref, json_type_int))
			{
				int64		v = json_object_get_int64(ref);

				if (v != PG_INT64_MIN && v != PG_INT64_MAX && DatumGetInt64(d) != v)
					fuzz_fail("column \"%s\": " INT64_FORMAT ", expected " INT64_FORMAT,
							  col->name, DatumGetInt64(d), v);
			}
			break;
		case K_BOOL:
			if (json_object_is_type(ref, json_type_boolean) &&
				DatumGetBool(d) != (bool) json_object_get_boolean(ref))
				fuzz_fail("column \"%s\": wrong boolean", col->name);
			break;
		case K_TIMESTAMPTZ:
			{
				size_t		wlen;
				const char *s = ref_text(ref, &wlen);
				TimestampTz want;

				if (!fuzz_parse_timestamptz(s, wlen, &want))
					fuzz_fail("column \"%s\": \"%s\" accepted, but timestamptz_in rejects it",
							  col->name, escape(s, wlen));
				if (DatumGetTimestampTz(d) != want)
					fuzz_fail("column \"%s\": \"%s\" gave " INT64_FORMAT
							  ", timestamptz_in gives " INT64_FORMAT,
							  col->name, escape(s, wlen), DatumGetTimestampTz(d), want);
				break;
			}
		case K_JSON:
			{
				const char *want = ref_serialize(ref);

				expect_bytes(col, "the json", data, len, want, strlen(want));
				break;
			}
		case K_ARRAY:
			if (json_object_is_type(ref, json_type_array))
				check_array(col, data, len, ref);
			break;
		case K_INPUT:
			break;
	}
}

static void
print_value(int c, Datum d)
{
	const FuzzType *t = fuzz_type(columns[c].type);

	fprintf(stderr, "    %s = ", columns[c].name);
	if (column_kind(columns[c].type) == K_ARRAY)
	{
		const FuzzArray *a = (const FuzzArray *) DatumGetPointer(d);
		const char *p = a->data;

		fprintf(stderr, "array[");
		for (int i = 0; i < a->nelems; i++)
		{
			bool		isnull = *p++;
			int32		elen;

			memcpy(&elen, p, sizeof(elen));
			p += sizeof(elen);
			fprintf(stderr, "%s%s%.*s%s", i ? ", " : "", isnull ? "NULL" : "'",
					isnull ? 0 : elen, p, isnull ? "" : "'");
			p += elen;
		}
		fprintf(stderr, "]\n");
	}
	else if (t->typlen == -1)
		fprintf(stderr, "'%.*s'\n", (int) VARSIZE(DatumGetPointer(d)) - VARHDRSZ,
				VARDATA(DatumGetPointer(d)));
	else if (t->oid == UUIDOID)
		fprintf(stderr, "uuid\n");
	else if (t->oid == BOOLOID)
		fprintf(stderr, "%s\n", DatumGetBool(d) ? "true" : "false");
	else if (t->oid == FLOAT8OID)
		fprintf(stderr, "%g\n", DatumGetFloat8(d));
	else if (t->oid == INT4OID || t->oid == DATEOID)
		fprintf(stderr, "%d\n", DatumGetInt32(d));
	else
		fprintf(stderr, INT64_FORMAT "\n", DatumGetInt64(d));
}

/*
 * Check one row that atlas_fill_row converted.  only: the one column the
 * map produces, or -1 for all.
 */
static void
check_row(int only, const Datum *values, const bool *nulls, json_object *doc,
		  MemoryContext tuple_cxt)
{
	for (int c = 0; c < NCOLUMNS; c++)
	{
		const FuzzColumn *col = &columns[c];
		json_object *ref;

		if (col->dropped || (only >= 0 && only != c))
		{
			if (!nulls[c] || values[c] != (Datum) 0)
				fuzz_fail("column \"%s\" is not produced but is not NULL", col->name);
			continue;
		}
		if (fuzz_verbose && !nulls[c])
			print_value(c, values[c]);
		if (col->key != NO_KEY)
		{
			if (nulls[c] != !keys.present[col->key] ||
				(!nulls[c] && values[c] != keys.datum[col->key]))
				fuzz_fail("column \"%s\" does not echo its request key", col->name);
			continue;
		}
		ref = ref_walk(doc, col->json);
		if (ref == NULL && !nulls[c])
			fuzz_fail("column \"%s\": field \"%s\" is missing or null, but the column is not NULL",
					  col->name, col->json);
		if (ref != NULL && nulls[c])
			fuzz_fail("column \"%s\": field \"%s\" has a value (%s), but the column is NULL",
					  col->name, col->json, ref_serialize(ref));
		if (ref != NULL)
			check_value(c, values[c], ref, tuple_cxt);
		if (ref != NULL && fuzz_strict && contains_clamped(ref, 0))
			fuzz_fail("column \"%s\": field \"%s\" holds an integer beyond 64 bits that "
					  "json-c clamped, and it was converted without an error",
					  col->name, col->json);
	}
}

/*
 * Convert row rowno with one map, as the executor would: in the per-tuple
 * context, inside PG_TRY.  Returns whether it converted without ERROR.
 */
static bool
convert_row(AtlasPage *page, int rowno, AtlasColumnMap *map, int only,
			json_object *doc, MemoryContext tuple_cxt)
{
	Datum		values[NCOLUMNS];
	bool		nulls[NCOLUMNS];
	const char *volatile id = NULL;
	volatile bool ok = false;
	bool		is_object = json_object_is_type(doc, json_type_object);
	MemoryContext old = MemoryContextSwitchTo(tuple_cxt);

	PG_TRY();
	{
		ErrorContextCallback *before = error_context_stack;

		id = atlas_page_row_id(page, rowno);
		atlas_fill_row(map, page, rowno, &keys, values, nulls);
		if (error_context_stack != before)
			fuzz_fail("atlas_fill_row left error_context_stack changed");
		ok = true;
	}
	PG_CATCH();
	{
		FlushErrorState();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);

	if (fuzz_verbose)
		fprintf(stderr, "  row %d (%s): %s\n", rowno,
				only < 0 ? "all columns" : columns[only].name,
				ok ? "converted" : "ERROR");
	if (!is_object)
	{
		if (ok)
			fuzz_fail("row %d is not a JSON object but was converted", rowno);
		return false;
	}
	if (!ok)
	{
		char		want[128];

		/* the error context names the column (objects never fail otherwise) */
		snprintf(want, sizeof(want), "column \"%s\" of foreign table \"fuzz_snapshots\"",
				 only >= 0 ? columns[only].name : "");
		if (strstr(fuzz_last_error(), only >= 0 ? want : "of foreign table \"fuzz_snapshots\"") == NULL)
			fuzz_fail("conversion error without the column in its context: %s",
					  fuzz_last_error());
		return false;
	}
	{
		json_object *ref_id;
		bool		has_id = json_object_object_get_ex(doc, "id", &ref_id) &&
			json_object_is_type(ref_id, json_type_string);

		if (has_id != (id != NULL) ||
			(has_id && strcmp(id, json_object_get_string(ref_id)) != 0))
			fuzz_fail("atlas_page_row_id of row %d is wrong", rowno);
	}
	check_row(only, values, nulls, doc, tuple_cxt);
	return true;
}

/* ----------------------------------------------------------------------
 * One pass over the input
 * ----------------------------------------------------------------------
 */

/* atlas_page_adopt's argument; static so that it survives the longjmp */
static json_object *adopt_tree;

static void
run_pass(const uint8_t *data, size_t size, bool single, const FuzzRef *ref,
		 MemoryContext input_cxt)
{
	char		errbuf[256];
	json_object *tree;
	MemoryContext page_cxt;
	MemoryContext tuple_cxt;
	AtlasPage  *volatile page = NULL;
	json_object *ref_results = NULL;
	bool		shape_ok;
	int			nrows;

	memset(errbuf, 'x', sizeof(errbuf));
	tree = atlas_json_parse((const char *) data, size, errbuf, sizeof(errbuf));
	if (fuzz_verbose)
		fprintf(stderr, "%s pass: %s%s\n", single ? "single-document" : "list-page",
				tree ? "parsed" : "not parsed: ", tree ? "" : errbuf);
	if (tree == NULL)
	{
		if (memchr(errbuf, '\0', sizeof(errbuf)) == NULL || errbuf[0] == '\0')
			fuzz_fail("atlas_json_parse failed without a message");
		if (ref->valid)
			fuzz_fail("atlas_json_parse rejected a valid body: %s", errbuf);
		return;
	}
	if (!ref->valid && !(ref->nul_tail && !fuzz_strict))
		fuzz_fail("atlas_json_parse accepted a body with trailing data%s",
				  ref->nul_tail ? " (NUL bytes)" : "");
	if (fuzz_strict && !ref->strict_valid)
		fuzz_fail("atlas_json_parse accepted a body that is not strict JSON in UTF-8 "
				  "(json-c's lenient mode: comments, single quotes, trailing commas, "
				  "TRUE, invalid UTF-8, ...)");
	shape_ok = json_object_is_type(ref->root, json_type_object);
	if (shape_ok && !single)
		shape_ok = json_object_object_get_ex(ref->root, "results", &ref_results) &&
			json_object_is_type(ref_results, json_type_array);
	if (!single)
	{
		int64		total;
		int64		want_total = -1;
		json_object *tc;
		int			n = atlas_json_page_rows(tree, &total);

		if (json_object_is_type(ref->root, json_type_object) &&
			json_object_object_get_ex(ref->root, "totalCount", &tc) &&
			json_object_is_type(tc, json_type_int))
			want_total = json_object_get_int64(tc);
		if (n != (shape_ok ? (int) json_object_array_length(ref_results) : -1) ||
			total != want_total)
			fuzz_fail("atlas_json_page_rows: %d rows, total " INT64_FORMAT, n, total);
	}

	page_cxt = fuzz_context_create(input_cxt, "atlas_snapshot_fdw page data");
	tuple_cxt = fuzz_context_create(input_cxt, "ExprContext");
	adopt_tree = tree;
	PG_TRY();
	{
		page = atlas_page_adopt(&adopt_tree, single, page_cxt);
	}
	PG_CATCH();
	{
		if (fuzz_verbose)
			fprintf(stderr, "  atlas_page_adopt: ERROR\n");
		FlushErrorState();
	}
	PG_END_TRY();

	if (adopt_tree != NULL)
		fuzz_fail("atlas_page_adopt did not take the tree");
	if ((page != NULL) != shape_ok)
		fuzz_fail("atlas_page_adopt %s a page of the wrong shape",
				  page ? "accepted" : "rejected");

	nrows = page ? atlas_page_nrows(page) : 0;
	if (page && nrows != (single ? 1 : (int) json_object_array_length(ref_results)))
		fuzz_fail("atlas_page_nrows is %d", nrows);

	for (int i = 0; i < nrows; i++)
	{
		json_object *doc = single ? ref->root
			: json_object_array_get_idx(ref_results, i);

		if (!convert_row(page, i, map_all, -1, doc, tuple_cxt) &&
			json_object_is_type(doc, json_type_object))
		{
			/* some column failed: try each one on its own */
			for (int c = 0; c < NCOLUMNS; c++)
			{
				if (map_one[c] == NULL)
					continue;
				convert_row(page, i, map_one[c], c, doc, tuple_cxt);
				MemoryContextReset(tuple_cxt);
			}
		}
		MemoryContextReset(tuple_cxt);
	}

	/* the end of the page: the reset callback must free the tree */
	if (single)
		MemoryContextDelete(page_cxt);
	else
	{
		MemoryContextReset(page_cxt);
		MemoryContextDelete(page_cxt);
	}
	MemoryContextDelete(tuple_cxt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzRef		ref;
	MemoryContext input_cxt;

	if (size > 1024 * 1024)
		return -1;
	cur_data = data;
	cur_size = size;
	ref_parse(data, size, &ref);
	input_cxt = fuzz_context_create(TopMemoryContext, "fuzz input");

	run_pass(data, size, false, &ref, input_cxt);
	run_pass(data, size, true, &ref, input_cxt);

	json_object_put(ref.root);
	MemoryContextDelete(input_cxt);
	if (CurrentMemoryContext != TopMemoryContext)
		fuzz_fail("CurrentMemoryContext not restored");
	if (error_context_stack != NULL || PG_exception_stack != NULL)
		fuzz_fail("error stacks not restored");
	if (fuzz_live_chunks() != baseline_chunks)
		fuzz_fail("%ld palloc'd chunks outlived the input",
				  fuzz_live_chunks() - baseline_chunks);
	return 0;
}
