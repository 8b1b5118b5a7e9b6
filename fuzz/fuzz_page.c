/*
 * fuzz_page.c: libFuzzer target for the page parser (jsontape.c) and the
 * JSON-to-Datum path of response.c.
 *
 * Each input is a response body.  It is parsed (atlas_json_parse), handed
 * to a page (atlas_page_adopt; single document or list envelope, chosen by
 * the input's length), and every row is converted for a table with a
 * column of each conversion kind (text, bigint, boolean, timestamptz,
 * text[], jsonb, json, a type through its input function, a dotted path,
 * a request key), in a UTF-8 or (by the input's length) a LATIN1 database.
 * An ERROR longjmps back here, as PG_TRY would catch it; then the fake
 * memory context is reset, which must free the document: LeakSanitizer
 * reports any that escapes.
 *
 * The parser is also checked against json-c in strict mode, a parser
 * written by others: whatever ours accepts, json-c must accept, and a
 * document json-c accepts must be accepted by ours unless it is something
 * ours refuses on purpose (invalid UTF-8, NUL bytes, \u escapes that may
 * hold a lone surrogate, nesting beyond the limit).  And text handed on
 * must never contain a NUL (pg_stubs.c checks its encoding).  Built by
 * fuzz/run.sh.
 */
#include "postgres.h"

#include <ctype.h>
#include <json.h>

#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "jsontape.h"
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

/*
 * json_c_accepts
 *		Whether json-c, strict, takes the input as one document with
 *		nothing but white space after it.
 */
static bool
json_c_accepts(const uint8_t *data, size_t size)
{
	json_tokener *tok = json_tokener_new_ex(ATLAS_JSON_MAX_DEPTH + 2);
	char	   *buf = malloc(size + 1);
	json_object *tree;
	bool		ok;
	size_t		end;

	/* a space ends a top-level number, which json-c would wait on */
	memcpy(buf, data, size);
	buf[size] = ' ';
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	tree = json_tokener_parse_ex(tok, buf, (int) size + 1);
	/* a JSON null parses to a NULL tree */
	ok = json_tokener_get_error(tok) == json_tokener_success;
	end = json_tokener_get_parse_end(tok);
	while (ok && end <= size && buf[end] && strchr(" \t\r\n", buf[end]))
		end++;
	ok = ok && end == size + 1;
	json_object_put(tree);
	json_tokener_free(tok);
	free(buf);
	return ok;
}

/*
 * Whether the input has a control character: json-c takes them unescaped
 * inside strings, which RFC 8259 (and our parser) does not
 */
static bool
has_control(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
	{
		if (data[i] < 0x20)
			return true;
	}
	return false;
}

/*
 * Whether the input may hold a number that json-c takes and RFC 8259 does
 * not: a leading zero ("00", "-01"), a point or an exponent without digits
 * after it ("7.", "1e"), a sign without digits, NaN, Infinity.  Strings may trip it too;
 * that only skips a check.
 */
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
static bool
has_lax_number(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
	{
		uint8_t		next = i + 1 < size ? data[i + 1] : 0;
		uint8_t		prev = i > 0 ? data[i - 1] : 0;

		if (data[i] == '0' && IS_DIGIT(next) &&
			!(IS_DIGIT(prev) || prev == '.' || prev == 'e' || prev == 'E' ||
			  prev == '+' || prev == '-'))
			return true;
		if (data[i] == '0' && prev == '-' && IS_DIGIT(next))
			return true;
		if ((data[i] == '.' || data[i] == '-' || data[i] == '+') && !IS_DIGIT(next))
			return true;
		/* NaN and Infinity, in any case */
		if (i + 2 < size && ((tolower(data[i]) == 'n' && tolower(data[i + 1]) == 'a' &&
							  tolower(data[i + 2]) == 'n') ||
							 (tolower(data[i]) == 'i' && tolower(data[i + 1]) == 'n' &&
							  tolower(data[i + 2]) == 'f')))
			return true;
		if ((data[i] == 'e' || data[i] == 'E') && IS_DIGIT(prev) &&
			!(IS_DIGIT(next) || next == '+' || next == '-'))
			return true;
	}
	return false;
}

/* Whether the input could nest deeper than our limit */
static bool
may_nest_too_deep(const uint8_t *data, size_t size)
{
	size_t		open = 0;

	for (size_t i = 0; i < size; i++)
		open += (data[i] == '[' || data[i] == '{');
	return open >= ATLAS_JSON_MAX_DEPTH;
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
	static char fake_cxt_storage[64];
	MemoryContext cxt = (MemoryContext) fake_cxt_storage;
	AtlasRequestKeys keys;
	Datum		values[NCOLUMNS];
	bool		nulls[NCOLUMNS];
	char	   *text;
	AtlasJson  *doc;
	char		errmsg[256];
	bool		ours;
	bool		theirs;

	if (rel == NULL)
		rel = fake_relation();

	/* the parser on its own, against json-c */
	text = malloc(size ? size : 1);
	memcpy(text, data, size);
	doc = atlas_json_parse(text, size, true, errmsg, sizeof(errmsg));
	ours = doc != NULL;
	if (doc)
		atlas_json_free(doc);
	else
		free(text);
	theirs = json_c_accepts(data, size);
	if (ours && !theirs)
		abort();				/* we accepted what is not JSON */
	if (theirs && !ours && fuzz_valid_utf8(data, size) && !has_control(data, size) &&
		!has_lax_number(data, size) &&
		memmem(data, size, "\\u", 2) == NULL && !may_nest_too_deep(data, size))
		abort();				/* we refused a valid document */

	memset(&keys, 0, sizeof(keys));
	keys.present[ATLAS_KEY_GROUP] = true;
	keys.datum[ATLAS_KEY_GROUP] = (Datum) 0;
	fuzz_database_encoding = (size % 5) == 0 ? PG_LATIN1 : PG_UTF8;

	if (sigsetjmp(fuzz_error_jump, 0) == 0)
	{
		AtlasColumnMap *map = atlas_build_column_map(rel, NULL, NIL);
		int64		total;

		text = malloc(size ? size : 1);
		memcpy(text, data, size);
		doc = atlas_json_parse(text, size, true, errmsg, sizeof(errmsg));
		if (doc == NULL)
			free(text);
		else
		{
			AtlasPage  *page;

			(void) atlas_json_page_rows(doc, &total);
			page = atlas_page_adopt(&doc, (size % 3) == 0, cxt);
			for (int i = 0; i < atlas_page_nrows(page); i++)
			{
				(void) atlas_page_row_id(page, i);
				atlas_fill_row(map, page, i, &keys, values, nulls);
				for (int c = 0; c < NCOLUMNS; c++)
				{
					if (!nulls[c] && columns[c].type == TEXTOID && c != 0)
						check_text(values[c]);
				}
			}
		}
	}
	fuzz_reset();
	return 0;
}
