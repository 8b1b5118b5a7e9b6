/*
 * tape_consume.c: the C client's "-p tape" page consumer, which parses with
 * the FDW's own parser (../jsontape.c) instead of json-c, so that the
 * benchmark can tell the FDW's overhead over a plain C program using the
 * same parser.  Kept apart from c_client.c because jsontape.c builds
 * against PostgreSQL's headers (postgres.h redefines printf and friends).
 * Linked with libpgport for pg_snprintf.
 */
#include "postgres.h"

#include <stdlib.h>

#include "jsontape.h"

int			tape_consume(char *data, size_t len, long long *total, long long *sum);

/* An integer token's value (the pages hold plain integers) */
static long long
token_int(const AtlasJson *doc, uint32 v)
{
	return strtoll(doc->text + doc->tokens[v].start, NULL, 10);
}

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

		if (v && doc->tokens[v].type == AJ_NUMBER)
			*sum += token_int(doc, v);
		e = doc->tokens[e].next;
	}
	e = atlas_json_member(doc, 0, "totalCount", 10);
	if (e && doc->tokens[e].type == AJ_NUMBER)
		*total = token_int(doc, e);
	atlas_json_free(doc);
	return n;
}
