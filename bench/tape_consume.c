/*
 * tape_consume.c: the C client's "-t" (tape) page consumer, which parses with
 * the FDW's own parser (../jsontape.c) instead of json-c, so that the
 * benchmark can tell the FDW's overhead over a plain C program using the
 * same parser.  Kept apart from c_client.c because jsontape.c builds
 * against PostgreSQL's headers (postgres.h redefines printf and friends).
 * Linked with libpgport for pg_snprintf.
 */
#include "postgres.h"

#include "jsontape.h"

int			tape_consume(char *data, size_t len, long long *total, long long *sum);

/*
 * tape_consume
 *		Parse one page; returns its item count (-1 if it is not a page) and
 *		adds every storageSizeBytes to *sum; *total gets totalCount or -1.
 */
int
tape_consume(char *data, size_t len, long long *total, long long *sum)
{
	char		errmsg[256];
	AtlasJson  *doc = atlas_json_parse(data, len, false, errmsg, sizeof(errmsg));
	uint32		results;
	uint32		e;
	int64		value;
	int			n;

	*total = -1;
	if (doc == NULL)
		return -1;
	results = atlas_json_member(doc, 0, "results", 7);
	if (results == 0 || doc->tokens[results].type != AJ_ARRAY)
	{
		atlas_json_free(doc);
		return -1;
	}
	n = (int) doc->tokens[results].count;
	e = results + 1;
	for (int i = 0; i < n; i++)
	{
		uint32		v = atlas_json_member(doc, e, "storageSizeBytes", 16);

		if (v && atlas_json_int64(doc, v, &value))
			*sum += value;
		e = doc->tokens[e].next;
	}
	e = atlas_json_member(doc, 0, "totalCount", 10);
	if (e && atlas_json_int64(doc, e, &value))
		*total = value;
	atlas_json_free(doc);
	return n;
}
