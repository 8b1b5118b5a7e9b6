/*
 * fuzz_page.c: libFuzzer target for the json-c path (jsonparse.c) and the
 * JSON-to-Datum path of response.c.
 *
 * Each input is a response body.  It is parsed (atlas_json_parse, with one
 * tokener reused across inputs as a scan reuses its own, and for some
 * inputs a small memory budget), handed to a page (atlas_page_adopt;
 * single document or list envelope, chosen by the input's length), and
 * every row is converted for a table with a column of each conversion kind
 * (text, bigint, boolean, timestamptz, text[], jsonb, json, numeric and
 * uuid through their input functions, a dotted path, a request key), in a
 * UTF-8 or (by the input's length) a LATIN1 database.  An ERROR longjmps
 * back here, as PG_TRY would catch it; then the fake memory context is
 * reset, which must free the tree: LeakSanitizer reports any that escapes.
 *
 * Properties checked: a body that parses is strict UTF-8 without NUL
 * bytes (by pg_stubs.c's own check, written apart from PostgreSQL's);
 * text handed to an input function or the encoding conversion is valid
 * UTF-8 and holds no NUL; a parse never leaks, whether it succeeds, fails
 * or runs out of budget.  Built by fuzz/run.sh.
 */
#include "postgres.h"

#include <json-c/json.h>

#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/rel.h"

#include "fuzz_stubs.h"

typedef struct FuzzColumn
{
	const char *name;
	Oid			type;
} FuzzColumn;

/* names double as JSON fields (see pg_stubs.c) */
static const FuzzColumn columns[] = {
	{"group_id", TEXTOID},		/* request key */
	{"id", TEXTOID},
	{"storageSizeBytes", INT8OID},
	{"status", TEXTOID},
	{"createdAt", TIMESTAMPTZOID},
	{"copyRegions", 1009},		/* text[] */
	{"selfRel", TEXTOID},		/* field 'links.0.rel' */
	{"backupEnabled", BOOLOID},
	{"members", JSONOID},
	{"links", JSONBOID},
	{"masterKeyUUID", UUIDOID},
	{"exactSize", NUMERICOID},
	{"dropped", TEXTOID},
};
#define NCOLUMNS ((int) lengthof(columns))

static Relation
fake_relation(void)
{
	static RelationData rel;
	static FormData_pg_class relform;
	TupleDesc	desc;

	desc = calloc(1, offsetof(struct TupleDescData, attrs) +
				  NCOLUMNS * sizeof(FormData_pg_attribute));
	desc->natts = NCOLUMNS;
	for (int i = 0; i < NCOLUMNS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		snprintf(NameStr(att->attname), NAMEDATALEN, "%s", columns[i].name);
		att->atttypid = columns[i].type;
		att->atttypmod = -1;
		att->attnum = i + 1;
		att->attisdropped = (i == NCOLUMNS - 1);
	}
	snprintf(NameStr(relform.relname), NAMEDATALEN, "%s", "fuzz_snapshots");
	rel.rd_rel = &relform;
	rel.rd_att = desc;
	rel.rd_id = 16384;
	return &rel;
}

/* A text Datum must hold no NUL: PostgreSQL would cut it short */
static void
check_text(Datum d)
{
	text	   *t = (text *) DatumGetPointer(d);

	if (memchr(VARDATA(t), '\0', VARSIZE(t) - VARHDRSZ) != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Relation rel = NULL;
	static struct json_tokener *tok = NULL;
	static char fake_cxt_storage[64];
	MemoryContext cxt = (MemoryContext) fake_cxt_storage;
	AtlasRequestKeys keys;
	Datum		values[NCOLUMNS];
	bool		nulls[NCOLUMNS];
	char	   *text;
	static struct json_object *doc;	/* static: read after a longjmp */
	char		errmsg[256];
	bool		over_budget;
	size_t		budget;

	if (rel == NULL)
	{
		rel = fake_relation();
		tok = json_tokener_new_ex(ATLAS_JSON_MAX_DEPTH);
	}

	/* the body as the fetcher has it: its own buffer, NUL after it */
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	budget = (size % 7) == 0 ? 64 * 1024 : 0;

	memset(&keys, 0, sizeof(keys));
	keys.present[ATLAS_KEY_GROUP] = true;
	keys.text[ATLAS_KEY_GROUP] = "32b6e34b3d91647abb20e7b8";
	fuzz_database_encoding = (size % 5) == 0 ? PG_LATIN1 : PG_UTF8;

	doc = atlas_json_parse(tok, text, size, budget, true, errmsg,
						   sizeof(errmsg), &over_budget, NULL);
	free(text);
	if (doc != NULL && !fuzz_valid_utf8(data, size))
		abort();				/* took a body that is not UTF-8 */
	if (doc == NULL && errmsg[0] == '\0')
		abort();				/* refused without saying why */

	if (doc != NULL && sigsetjmp(fuzz_error_jump, 0) == 0)
	{
		AtlasColumnMap *map = atlas_build_column_map(rel, NULL, NIL);
		AtlasPage  *page;

		page = atlas_page_adopt(&doc, (size % 3) == 0, cxt);
		(void) atlas_page_total(page);
		(void) atlas_page_digest(page);
		for (int i = 0; i < atlas_page_nrows(page); i++)
		{
			(void) atlas_page_row_object(page, i);
			atlas_fill_row(map, page, i, &keys, values, nulls);
			for (int c = 0; c < NCOLUMNS; c++)
			{
				if (!nulls[c] && columns[c].type == TEXTOID && c != 0)
					check_text(values[c]);
			}
		}
	}
	/* an ERROR before adopt leaves the tree here */
	json_object_put(doc);
	fuzz_reset();
	return 0;
}
