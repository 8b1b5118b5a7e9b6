/*
 * pg_stubs.c: the few PostgreSQL backend functions that response.c and
 * jsonparse.c call, for running them outside a backend under libFuzzer
 * (pg_encoding_verifymbstr and pg_toupper come from PostgreSQL's own
 * libpgcommon and libpgport).
 *
 * Memory: palloc and friends allocate from an arena that fuzz_page.c
 * resets after every input, running the reset callbacks registered on the
 * fake memory context first (as MemoryContextReset does), so a parsed
 * document that response.c fails to hand to its context shows up as a leak.
 * Errors: an ERROR (errfinish at level ERROR) longjmps back to the harness,
 * like PG_TRY/PG_CATCH.  Type input functions are not run: the stub makes a text
 * value of the string, which is enough to reach every conversion path of response.c.
 */
#include "postgres.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "fuzz_stubs.h"

ErrorContextCallback *error_context_stack = NULL;
sigjmp_buf *PG_exception_stack = NULL;

/* no interrupts arrive under the fuzzer */
volatile sig_atomic_t InterruptPending = false;

void
ProcessInterrupts(void)
{
}

/* the parser bounds the depth (ATLAS_JSON_MAX_DEPTH); ASan sees overflows */
void
check_stack_depth(void)
{
}

void
pg_re_throw(void)
{
	abort();
}

sigjmp_buf	fuzz_error_jump;
int			fuzz_errors = 0;

static void **arena = NULL;
static size_t arena_len = 0;
static size_t arena_cap = 0;
static MemoryContextCallback *callbacks = NULL;

static void fuzz_error(void);

const int	day_tab[2][13] = {
	{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0},
	{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0}
};

static void *
arena_alloc(size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
		abort();
	if (arena_len == arena_cap)
	{
		arena_cap = arena_cap ? arena_cap * 2 : 256;
		arena = realloc(arena, arena_cap * sizeof(void *));
	}
	arena[arena_len++] = p;
	return p;
}

void
fuzz_reset(void)
{
	/* callbacks first (they free parsed documents), newest first */
	while (callbacks)
	{
		MemoryContextCallback *cb = callbacks;

		callbacks = cb->next;
		cb->func(cb->arg);
	}
	for (size_t i = 0; i < arena_len; i++)
		free(arena[i]);
	arena_len = 0;
	error_context_stack = NULL;
}

void *
palloc(Size size)
{
	return arena_alloc(size);
}

void *
palloc0(Size size)
{
	return arena_alloc(size);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return arena_alloc(size);
}

char *
pstrdup(const char *in)
{
	size_t		len = strlen(in);
	char	   *out = arena_alloc(len + 1);

	memcpy(out, in, len);
	return out;
}

void
MemoryContextRegisterResetCallback(MemoryContext context, MemoryContextCallback *cb)
{
	cb->next = callbacks;
	callbacks = cb;
}

/* StringInfo over the arena: enough for array literals */
void
initStringInfo(StringInfo str)
{
	str->maxlen = 64;
	str->data = arena_alloc(str->maxlen);
	str->len = 0;
	str->cursor = 0;
}

static void
enlarge(StringInfo str, int needed)
{
	if (str->len + needed + 1 > str->maxlen)
	{
		int			newlen = (str->len + needed + 1) * 2;
		char	   *data = arena_alloc(newlen);

		memcpy(data, str->data, str->len + 1);
		str->data = data;
		str->maxlen = newlen;
	}
}

void
appendStringInfoChar(StringInfo str, char ch)
{
	enlarge(str, 1);
	str->data[str->len++] = ch;
	str->data[str->len] = '\0';
}

void
appendStringInfoString(StringInfo str, const char *s)
{
	int			len = strlen(s);

	enlarge(str, len);
	memcpy(str->data + str->len, s, len + 1);
	str->len += len;
}

/* port.h maps the libc names to PostgreSQL's own; use libc's here */
#undef vsnprintf

int
pg_snprintf(char *str, size_t count, const char *fmt,...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vsnprintf(str, count, fmt, args);
	va_end(args);
	return n;
}

bool
list_member_int(const List *list, int datum)
{
	return true;
}

/* ereport: remember nothing, jump back to the harness on ERROR */
static int	pending_level;

bool
errstart(int elevel, const char *domain)
{
	pending_level = elevel;
	return elevel >= ERROR;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	/* call the context callbacks, as the real errfinish does */
	for (ErrorContextCallback *e = error_context_stack; e; e = e->previous)
		e->callback(e->arg);
	if (pending_level >= ERROR)
		fuzz_error();
}

int
errcode(int sqlerrcode)
{
	return 0;
}

int
errmsg(const char *fmt,...)
{
	return 0;
}

int
errdetail(const char *fmt,...)
{
	return 0;
}

int
errcontext_msg(const char *fmt,...)
{
	return 0;
}

int
set_errcontext_domain(const char *domain)
{
	return 0;
}

/* types: the stub input function copies the text */
void
getTypeInputInfo(Oid type, Oid *typInput, Oid *typIOParam)
{
	*typInput = type;
	*typIOParam = type;
}

void
fmgr_info(Oid functionId, FmgrInfo *finfo)
{
	memset(finfo, 0, sizeof(*finfo));
	finfo->fn_oid = functionId;
}

Oid
getBaseType(Oid typid)
{
	return typid;
}

Oid
get_element_type(Oid typid)
{
	return typid == 1009 ? 25 : InvalidOid;	/* text[] */
}

Datum
InputFunctionCall(FmgrInfo *flinfo, char *str, Oid typioparam, int32 typmod)
{
	size_t		len;
	text	   *result;

	if (str == NULL || !fuzz_valid_utf8((const unsigned char *) str, strlen(str)))
		abort();				/* never NULL; checked UTF-8 (stub encoding) */
	/* as text, whatever the type: the harness checks text columns */
	len = strlen(str);
	result = palloc(len + VARHDRSZ);
	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), str, len);
	return PointerGetDatum(result);
}

int
tm2timestamp(struct pg_tm *tm, fsec_t fsec, int *tzp, Timestamp *result)
{
	*result = ((((int64) tm->tm_year * 372 + tm->tm_mon * 31 + tm->tm_mday) * 24
				+ tm->tm_hour) * 60 + tm->tm_min) * 60 + tm->tm_sec;
	*result = *result * 1000000 + fsec;
	return 0;
}

/* an ERROR raised by a stub */
static void
fuzz_error(void)
{
	fuzz_errors++;
	siglongjmp(fuzz_error_jump, 1);
}

/*
 * The database encoding: UTF-8, or LATIN1 for inputs the harness picks, so
 * that both ways of response.c's to_server run.
 */
int			fuzz_database_encoding = PG_UTF8;

int
GetDatabaseEncoding(void)
{
	return fuzz_database_encoding;
}

/*
 * fuzz_valid_utf8
 *		Strict UTF-8 (no overlong forms, surrogates or code points beyond
 *		U+10FFFF, no NUL), written independently of PostgreSQL's check.
 */
bool
fuzz_valid_utf8(const unsigned char *p, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		uint32		cp;
		int			extra;

		if (p[i] == 0)
			return false;
		if (p[i] < 0x80)
		{
			i++;
			continue;
		}
		if ((p[i] & 0xE0) == 0xC0)
			extra = 1, cp = p[i] & 0x1F;
		else if ((p[i] & 0xF0) == 0xE0)
			extra = 2, cp = p[i] & 0x0F;
		else if ((p[i] & 0xF8) == 0xF0)
			extra = 3, cp = p[i] & 0x07;
		else
			return false;
		if (i + extra >= len)
			return false;
		for (int k = 1; k <= extra; k++)
		{
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
			(extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += extra + 1;
	}
	return true;
}

/*
 * Whatever reaches the server-encoding conversion has been checked by the
 * parser: invalid UTF-8 here is a bug, not an input error.
 */
char *
pg_any_to_server(const char *s, int len, int encoding)
{
	if (!fuzz_valid_utf8((const unsigned char *) s, len))
		abort();
	return (char *) s;
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out = palloc(len + 1);

	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return palloc(size);
}

void
pfree(void *pointer)
{
	/* the arena frees everything after the input */
}

/*
 * keys.c's and resource.c's part: group_id is a request key, every other
 * column reads a JSON field of its own name
 */
bool
atlas_key_from_column(const AtlasResource *res, const char *colname,
					  AtlasKeyKind *kind)
{
	if (strcmp(colname, "group_id") == 0)
	{
		*kind = ATLAS_KEY_GROUP;
		return true;
	}
	return false;
}

/* a text key's value in a row is the text it was sent as */
const char *
atlas_key_row_text(AtlasKeyKind kind, const char *text, Datum value,
				   bool *is_number)
{
	*is_number = false;
	return text;
}

/* utils/json.c's: a JSON string literal (for a key column of type json) */
void
escape_json(StringInfo buf, const char *str)
{
	appendStringInfoChar(buf, '"');
	for (const unsigned char *p = (const unsigned char *) str; *p; p++)
	{
		if (*p == '"' || *p == '\\')
		{
			appendStringInfoChar(buf, '\\');
			appendStringInfoChar(buf, (char) *p);
		}
		else if (*p < 0x20)
		{
			char		hex[8];

			snprintf(hex, sizeof(hex), "\\u%04x", *p);
			appendStringInfoString(buf, hex);
		}
		else
			appendStringInfoChar(buf, (char) *p);
	}
	appendStringInfoChar(buf, '"');
}

const char *
atlas_default_json_field(const AtlasResource *res, const char *colname)
{
	return colname;
}

const char *
atlas_column_field(Oid relid, AttrNumber attnum)
{
	return attnum == 7 ? "links.0.rel" : NULL;
}

/*
 * For the backup extras (1.2): rows inside a document and download-link
 * columns.  No fuzzed column is a download link, so the error-replacing
 * path (PG_TRY) never runs here; its symbols only have to link.
 */
bool
atlas_is_credential_field(const AtlasResource *res, const char *json)
{
	return false;
}

MemoryContext CurrentMemoryContext = NULL;

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	return pstrdup(string);
}

ErrorData *
CopyErrorData(void)
{
	abort();
}

void
FreeErrorData(ErrorData *edata)
{
	abort();
}

void
FlushErrorState(void)
{
	abort();
}
