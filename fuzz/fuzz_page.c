/*
 * fuzz_page.c: libFuzzer target for the page parser and the JSON-to-Datum
 * path of response.c.
 *
 * Each input is a response body.  It is parsed (atlas_json_parse), handed
 * to a page (atlas_page_adopt; single document or list envelope, chosen by
 * the input's length), and every row is converted for a table with a
 * column of each conversion kind (text, bigint, boolean, timestamptz,
 * text[], jsonb, json, a type through its input function, a dotted path,
 * a request key).  An ERROR longjmps back here, as PG_TRY would catch it;
 * then the fake memory context is reset, which must free the json-c tree:
 * LeakSanitizer reports any tree that escapes.  Built by fuzz/run.sh.
 */
#include "postgres.h"

#include <json.h>

#include "access/tupdesc.h"
#include "catalog/pg_type.h"
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Relation rel = NULL;
	static char fake_cxt_storage[64];
	MemoryContext cxt = (MemoryContext) fake_cxt_storage;
	AtlasRequestKeys keys;
	Datum		values[NCOLUMNS];
	bool		nulls[NCOLUMNS];

	if (rel == NULL)
		rel = fake_relation();

	memset(&keys, 0, sizeof(keys));
	keys.present[ATLAS_KEY_GROUP] = true;
	keys.datum[ATLAS_KEY_GROUP] = (Datum) 0;

	if (sigsetjmp(fuzz_error_jump, 0) == 0)
	{
		AtlasColumnMap *map = atlas_build_column_map(rel, NULL, NIL);
		char		errmsg[256];
		int64		total;
		json_object *tree = atlas_json_parse((const char *) data, size,
											 errmsg, sizeof(errmsg));

		if (tree != NULL)
		{
			AtlasPage  *page;

			(void) atlas_json_page_rows(tree, &total);
			page = atlas_page_adopt(&tree, (size % 3) == 0, cxt);
			for (int i = 0; i < atlas_page_nrows(page); i++)
			{
				(void) atlas_page_row_id(page, i);
				atlas_fill_row(map, page, i, &keys, values, nulls);
			}
		}
	}
	fuzz_reset();
	return 0;
}
