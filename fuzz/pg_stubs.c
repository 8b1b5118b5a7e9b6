/*-------------------------------------------------------------------------
 *
 * pg_stubs.c
 *		  A minimal stand-in for the PostgreSQL backend, so that response.c
 *		  (and resource.c, for the column table) run under libFuzzer
 *
 * Memory contexts: every palloc is its own malloc, linked into its context
 * so that MemoryContextReset/Delete free it.  Reset and delete run the
 * context's reset callbacks first, newest first, exactly as mcxt.c does;
 * children are deleted on reset.  Because each chunk is a separate malloc,
 * AddressSanitizer sees every overrun and every use after a reset, and
 * LeakSanitizer sees exactly the malloc'd memory that no context owns,
 * which is the json-c trees.
 *
 * Errors: errstart/errmsg/... format into a static ErrorData-like record;
 * errfinish runs the error context callbacks and, at ERROR, siglongjmps to
 * PG_exception_stack, so the real PG_TRY/PG_CATCH macros work.  An ERROR
 * with no PG_TRY around it is a harness bug and aborts.
 *
 * Types: a small catalog (fuzz_type) and input functions that accept what
 * the real ones accept for the usual spellings of text, bigint, integer,
 * boolean, timestamptz (ISO 8601, UTC when no zone is given), date, uuid,
 * numeric, float8, json, jsonb, arrays and domains, and raise an ERROR
 * otherwise.  They are cheap approximations: close enough to exercise the
 * paths of response.c and to check its shortcuts (the timestamptz fast
 * path must agree with timestamptz_in), not a reimplementation.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  fuzz/pg_stubs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <json.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/memnodes.h"
#include "nodes/pg_list.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "fuzz_stubs.h"

/* port.h maps the libc printf family to PostgreSQL's own: use libc's */
#undef vsnprintf
#undef snprintf
#undef vfprintf
#undef fprintf
#undef printf

bool		fuzz_strict = false;
bool		fuzz_verbose = false;
int			fuzz_error_count = 0;

void
fuzz_fail(const char *fmt,...)
{
	va_list		args;

	fprintf(stderr, "\nfuzz_page: CHECK FAILED: ");
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fprintf(stderr, "\n");
	abort();
}

/* ----------------------------------------------------------------------
 * Memory contexts
 * ----------------------------------------------------------------------
 */

#define FUZZ_CHUNK_MAGIC	0x5a17c0de

typedef struct FuzzChunk
{
	struct FuzzChunk *prev;
	struct FuzzChunk *next;
	struct FuzzContext *cxt;
	Size		size;			/* requested size */
	uint64		magic;			/* FUZZ_CHUNK_MAGIC while allocated */
} FuzzChunk;

typedef struct FuzzContext
{
	MemoryContextData hdr;		/* must be first: MemoryContext points here */
	FuzzChunk	chunks;			/* list head (circular) */
} FuzzContext;

#define CHUNK_OF(p)		((FuzzChunk *) ((char *) (p) - sizeof(FuzzChunk)))
#define PAYLOAD_OF(c)	((void *) ((char *) (c) + sizeof(FuzzChunk)))

StaticAssertDecl(sizeof(FuzzChunk) % MAXIMUM_ALIGNOF == 0,
				 "chunk header must keep the payload aligned");

static long live_chunks = 0;

MemoryContext CurrentMemoryContext = NULL;
MemoryContext TopMemoryContext = NULL;
MemoryContext ErrorContext = NULL;

MemoryContext
fuzz_context_create(MemoryContext parent, const char *name)
{
	FuzzContext *fc = calloc(1, sizeof(FuzzContext));

	if (fc == NULL)
		abort();
	fc->hdr.type = T_AllocSetContext;
	fc->hdr.isReset = true;
	fc->hdr.name = name;
	fc->hdr.parent = parent;
	fc->chunks.prev = fc->chunks.next = &fc->chunks;
	if (parent)
	{
		fc->hdr.nextchild = parent->firstchild;
		if (parent->firstchild)
			parent->firstchild->prevchild = &fc->hdr;
		parent->firstchild = &fc->hdr;
	}
	return &fc->hdr;
}

MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name,
							  Size minContextSize, Size initBlockSize,
							  Size maxBlockSize)
{
	return fuzz_context_create(parent, name);
}

static void *
chunk_alloc(MemoryContext context, Size size, bool zero)
{
	FuzzContext *fc = (FuzzContext *) context;
	FuzzChunk  *c;

	if (context == NULL || context->type != T_AllocSetContext)
		fuzz_fail("palloc in an invalid memory context");
	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	c = zero ? calloc(1, sizeof(FuzzChunk) + size)
		: malloc(sizeof(FuzzChunk) + size);
	if (c == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	c->magic = FUZZ_CHUNK_MAGIC;
	c->size = size;
	c->cxt = fc;
	c->next = fc->chunks.next;
	c->prev = &fc->chunks;
	fc->chunks.next->prev = c;
	fc->chunks.next = c;
	context->isReset = false;
	live_chunks++;
	return PAYLOAD_OF(c);
}

static FuzzChunk *
chunk_check(void *pointer, const char *what)
{
	FuzzChunk  *c;

	if (pointer == NULL)
		fuzz_fail("%s(NULL)", what);
	c = CHUNK_OF(pointer);
	if (c->magic != FUZZ_CHUNK_MAGIC)
		fuzz_fail("%s of a pointer that palloc did not return", what);
	return c;
}

static void
chunk_free(FuzzChunk *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->magic = 0;
	live_chunks--;
	free(c);
}

bool
fuzz_chunk_in_context(MemoryContext cxt, const void *ptr)
{
	FuzzContext *fc = (FuzzContext *) cxt;

	for (FuzzChunk *c = fc->chunks.next; c != &fc->chunks; c = c->next)
	{
		if (PAYLOAD_OF(c) == ptr)
			return true;
	}
	return false;
}

long
fuzz_live_chunks(void)
{
	return live_chunks;
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return chunk_alloc(context, size, false);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return chunk_alloc(context, size, true);
}

void *
MemoryContextAllocZeroAligned(MemoryContext context, Size size)
{
	return chunk_alloc(context, size, true);
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return chunk_alloc(context, size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
palloc(Size size)
{
	return chunk_alloc(CurrentMemoryContext, size, false);
}

void *
palloc0(Size size)
{
	return chunk_alloc(CurrentMemoryContext, size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return chunk_alloc(CurrentMemoryContext, size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void
pfree(void *pointer)
{
	chunk_free(chunk_check(pointer, "pfree"));
}

void *
repalloc(void *pointer, Size size)
{
	FuzzChunk  *old = chunk_check(pointer, "repalloc");
	void	   *p = chunk_alloc(&old->cxt->hdr, size, false);

	memcpy(p, pointer, Min(old->size, size));
	chunk_free(old);
	return p;
}

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	size_t		len = strlen(string);
	char	   *s = chunk_alloc(context, len + 1, false);

	memcpy(s, string, len + 1);
	return s;
}

char *
pstrdup(const char *in)
{
	return MemoryContextStrdup(CurrentMemoryContext, in);
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *s;

	len = strnlen(in, len);
	s = palloc(len + 1);
	memcpy(s, in, len);
	s[len] = '\0';
	return s;
}

void
MemoryContextRegisterResetCallback(MemoryContext context,
								   MemoryContextCallback *cb)
{
	cb->next = context->reset_cbs;
	context->reset_cbs = cb;
	context->isReset = false;
}

static void
call_reset_callbacks(MemoryContext context)
{
	MemoryContextCallback *cb;

	/* as mcxt.c: unlink each before calling it, newest first */
	while ((cb = context->reset_cbs) != NULL)
	{
		context->reset_cbs = cb->next;
		cb->func(cb->arg);
	}
}

void
MemoryContextDelete(MemoryContext context);

static void
reset_own(MemoryContext context)
{
	FuzzContext *fc = (FuzzContext *) context;

	call_reset_callbacks(context);
	while (fc->chunks.next != &fc->chunks)
		chunk_free(fc->chunks.next);
	context->isReset = true;
}

void
MemoryContextDeleteChildren(MemoryContext context)
{
	while (context->firstchild != NULL)
		MemoryContextDelete(context->firstchild);
}

void
MemoryContextReset(MemoryContext context)
{
	MemoryContextDeleteChildren(context);
	reset_own(context);
}

void
MemoryContextResetOnly(MemoryContext context)
{
	reset_own(context);
}

void
MemoryContextDelete(MemoryContext context)
{
	MemoryContext parent = context->parent;

	if (context == CurrentMemoryContext)
		fuzz_fail("deleting the current memory context \"%s\"", context->name);
	MemoryContextDeleteChildren(context);
	reset_own(context);
	if (parent)
	{
		if (context->prevchild)
			context->prevchild->nextchild = context->nextchild;
		else
			parent->firstchild = context->nextchild;
		if (context->nextchild)
			context->nextchild->prevchild = context->prevchild;
	}
	context->type = T_Invalid;
	free(context);
}

/* ----------------------------------------------------------------------
 * StringInfo (lib/stringinfo.c), over palloc
 * ----------------------------------------------------------------------
 */

void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	int			newlen;

	if (needed < 0 || ((Size) needed) >= (MaxAllocSize - (Size) str->len))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("out of memory")));
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	if (newlen > (int) MaxAllocSize)
		newlen = (int) MaxAllocSize;
	str->data = repalloc(str->data, newlen);
	str->maxlen = newlen;
}

void
appendBinaryStringInfo(StringInfo str, const char *data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
appendStringInfoChar(StringInfo str, char ch)
{
	if (str->len + 1 >= str->maxlen)
		enlargeStringInfo(str, 1);
	str->data[str->len++] = ch;
	str->data[str->len] = '\0';
}

void
appendStringInfoString(StringInfo str, const char *s)
{
	appendBinaryStringInfo(str, s, strlen(s));
}

void
appendStringInfo(StringInfo str, const char *fmt,...)
{
	for (;;)
	{
		va_list		args;
		int			avail = str->maxlen - str->len;
		int			n;

		va_start(args, fmt);
		n = vsnprintf(str->data + str->len, avail, fmt, args);
		va_end(args);
		if (n < 0)
			elog(ERROR, "vsnprintf failed");
		if (n < avail)
		{
			str->len += n;
			return;
		}
		enlargeStringInfo(str, n);
	}
}

/* ----------------------------------------------------------------------
 * snprintf (port/snprintf.c) and a few other src/port, src/common pieces
 * ----------------------------------------------------------------------
 */

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

int
pg_vsnprintf(char *str, size_t count, const char *fmt, va_list args)
{
	return vsnprintf(str, count, fmt, args);
}

unsigned char
pg_toupper(unsigned char ch)
{
	if (ch >= 'a' && ch <= 'z')
		ch += 'A' - 'a';
	return ch;
}

unsigned char
pg_tolower(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		ch += 'a' - 'A';
	return ch;
}

int
pg_strncasecmp(const char *s1, const char *s2, size_t n)
{
	for (; n > 0; n--, s1++, s2++)
	{
		unsigned char c1 = pg_tolower((unsigned char) *s1);
		unsigned char c2 = pg_tolower((unsigned char) *s2);

		if (c1 != c2)
			return (int) c1 - (int) c2;
		if (c1 == '\0')
			break;
	}
	return 0;
}

int
pg_strcasecmp(const char *s1, const char *s2)
{
	return pg_strncasecmp(s1, s2, SIZE_MAX);
}

void
ExceptionalCondition(const char *conditionName, const char *errorType,
					 const char *fileName, int lineNumber)
{
	fuzz_fail("%s(\"%s\", File: \"%s\", Line: %d)",
			  errorType, conditionName, fileName, lineNumber);
}

/* ----------------------------------------------------------------------
 * Lists (nodes/list.c): only what the column map reads
 * ----------------------------------------------------------------------
 */

bool
list_member_int(const List *list, int datum)
{
	if (list == NIL)
		return false;
	if (list->type != T_IntList)
		fuzz_fail("list_member_int on a list that is not an integer list");
	for (int i = 0; i < list->length; i++)
	{
		if (list->elements[i].int_value == datum)
			return true;
	}
	return false;
}

/* ----------------------------------------------------------------------
 * Error reporting (utils/error/elog.c)
 * ----------------------------------------------------------------------
 */

ErrorContextCallback *error_context_stack = NULL;
sigjmp_buf *PG_exception_stack = NULL;

static struct
{
	bool		active;
	int			elevel;
	int			sqlerrcode;
	char		message[512];
	char		detail[512];
	char		hint[512];
	char		context[1024];
} edata;

static char last_error[3072];

bool
errstart(int elevel, const char *domain)
{
	if (edata.active)
		fuzz_fail("error reported while reporting an error (level %d)", elevel);
	memset(&edata, 0, sizeof(edata));
	edata.active = true;
	edata.elevel = elevel;
	return true;				/* format every message: checks the arguments */
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

static void
format_into(char *buf, size_t size, const char *fmt, va_list args)
{
	if (!edata.active)
		fuzz_fail("error message outside errstart/errfinish");
	vsnprintf(buf, size, fmt, args);
}

#define FORMAT_INTO(field) \
	do { \
		va_list		args; \
		va_start(args, fmt); \
		format_into(edata.field, sizeof(edata.field), fmt, args); \
		va_end(args); \
	} while (0)

int
errcode(int sqlerrcode)
{
	edata.sqlerrcode = sqlerrcode;
	return 0;
}

int
errmsg(const char *fmt,...)
{
	FORMAT_INTO(message);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	FORMAT_INTO(message);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	FORMAT_INTO(detail);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	FORMAT_INTO(detail);
	return 0;
}

int
errhint(const char *fmt,...)
{
	FORMAT_INTO(hint);
	return 0;
}

int
set_errcontext_domain(const char *domain)
{
	return 0;
}

int
errcontext_msg(const char *fmt,...)
{
	char		line[512];
	va_list		args;
	size_t		len = strlen(edata.context);

	va_start(args, fmt);
	format_into(line, sizeof(line), fmt, args);
	va_end(args);
	snprintf(edata.context + len, sizeof(edata.context) - len, "%sCONTEXT:  %s",
			 len > 0 ? "\n" : "", line);
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	/* the context callbacks add their lines, as in the real errfinish */
	for (ErrorContextCallback *e = error_context_stack; e; e = e->previous)
		e->callback(e->arg);

	snprintf(last_error, sizeof(last_error), "%s:  %s%s%s%s%s%s%s (%s:%d)",
			 edata.elevel >= ERROR ? "ERROR" : "NOTICE", edata.message,
			 edata.detail[0] ? "\nDETAIL:  " : "", edata.detail,
			 edata.hint[0] ? "\nHINT:  " : "", edata.hint,
			 edata.context[0] ? "\n" : "", edata.context, filename, lineno);
	if (edata.message[0] == '\0')
		fuzz_fail("ereport without a message at %s:%d", filename, lineno);
	edata.active = false;
	if (fuzz_verbose)
		fprintf(stderr, "%s\n", last_error);
	if (edata.elevel < ERROR)
		return;
	if (edata.elevel > ERROR)
		fuzz_fail("FATAL or PANIC: %s", last_error);
	fuzz_error_count++;
	if (PG_exception_stack == NULL)
		fuzz_fail("ERROR outside PG_TRY: %s", last_error);
	siglongjmp(*PG_exception_stack, 1);
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
		fuzz_fail("PG_RE_THROW outside PG_TRY: %s", last_error);
	siglongjmp(*PG_exception_stack, 1);
}

void
FlushErrorState(void)
{
	memset(&edata, 0, sizeof(edata));
}

const char *
fuzz_last_error(void)
{
	return last_error;
}

/* ----------------------------------------------------------------------
 * The type catalog (utils/cache/lsyscache.c, fmgr.c)
 * ----------------------------------------------------------------------
 */

static const FuzzType types[] = {
	{BOOLOID, "boolean", F_BOOLIN, BOOLOID, BOOLOID, 0, 1, true},
	{INT8OID, "bigint", F_INT8IN, INT8OID, INT8OID, 0, 8, true},
	{INT4OID, "integer", F_INT4IN, INT4OID, INT4OID, 0, 4, true},
	{TEXTOID, "text", F_TEXTIN, TEXTOID, TEXTOID, 0, -1, false},
	{JSONOID, "json", F_JSON_IN, JSONOID, JSONOID, 0, -1, false},
	{FLOAT8OID, "double precision", F_FLOAT8IN, FLOAT8OID, FLOAT8OID, 0, 8, true},
	{DATEOID, "date", F_DATE_IN, DATEOID, DATEOID, 0, 4, true},
	{TIMESTAMPTZOID, "timestamptz", F_TIMESTAMPTZ_IN, TIMESTAMPTZOID,
	TIMESTAMPTZOID, 0, 8, true},
	{NUMERICOID, "numeric", F_NUMERIC_IN, NUMERICOID, NUMERICOID, 0, -1, false},
	{UUIDOID, "uuid", F_UUID_IN, UUIDOID, UUIDOID, 0, 16, false},
	{JSONBOID, "jsonb", F_JSONB_IN, JSONBOID, JSONBOID, 0, -1, false},
	{TEXTARRAYOID, "text[]", F_ARRAY_IN, TEXTOID, TEXTARRAYOID, TEXTOID, -1, false},
	{INT8ARRAYOID, "bigint[]", F_ARRAY_IN, INT8OID, INT8ARRAYOID, INT8OID, -1, false},
	{FUZZ_JSONB_DOMAIN_OID, "fuzz_jsonb_domain", F_DOMAIN_IN,
	FUZZ_JSONB_DOMAIN_OID, JSONBOID, 0, -1, false},
	{FUZZ_TEXTARRAY_DOMAIN_OID, "fuzz_textarray_domain", F_DOMAIN_IN,
	FUZZ_TEXTARRAY_DOMAIN_OID, TEXTARRAYOID, 0, -1, false},
	{FUZZ_TEXT_DOMAIN_OID, "fuzz_text_domain", F_DOMAIN_IN,
	FUZZ_TEXT_DOMAIN_OID, TEXTOID, 0, -1, false},
};

const FuzzType *
fuzz_type(Oid oid)
{
	for (size_t i = 0; i < lengthof(types); i++)
	{
		if (types[i].oid == oid)
			return &types[i];
	}
	return NULL;
}

static const FuzzType *
type_or_fail(Oid oid)
{
	const FuzzType *t = fuzz_type(oid);

	if (t == NULL)
		fuzz_fail("cache lookup failed for type %u", oid);
	return t;
}

void
getTypeInputInfo(Oid type, Oid *typInput, Oid *typIOParam)
{
	const FuzzType *t = type_or_fail(type);

	*typInput = t->infunc;
	*typIOParam = t->ioparam;
}

Oid
getBaseType(Oid typid)
{
	const FuzzType *t = fuzz_type(typid);

	return t ? t->basetype : typid;
}

Oid
getBaseTypeAndTypmod(Oid typid, int32 *typmod)
{
	return getBaseType(typid);
}

Oid
get_element_type(Oid typid)
{
	const FuzzType *t = fuzz_type(typid);

	return t ? t->elemtype : InvalidOid;
}

void
fmgr_info(Oid functionId, FmgrInfo *finfo)
{
	memset(finfo, 0, sizeof(*finfo));
	finfo->fn_oid = functionId;
	finfo->fn_nargs = 3;
	finfo->fn_strict = true;
	finfo->fn_mcxt = CurrentMemoryContext;
}

void
fmgr_info_cxt(Oid functionId, FmgrInfo *finfo, MemoryContext mcxt)
{
	fmgr_info(functionId, finfo);
	finfo->fn_mcxt = mcxt;
}

/* ----------------------------------------------------------------------
 * Input functions
 * ----------------------------------------------------------------------
 */

static void pg_attribute_noreturn()
invalid_syntax(const char *type, const char *str)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", type, str)));
	pg_unreachable();
}

static void pg_attribute_noreturn()
out_of_range(const char *type, const char *str)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value \"%s\" is out of range for type %s", str, type)));
	pg_unreachable();
}

static const char *
skip_space(const char *s)
{
	while (*s && isspace((unsigned char) *s))
		s++;
	return s;
}

static Datum
make_varlena(const char *s, size_t len)
{
	text	   *t = palloc(len + VARHDRSZ);

	SET_VARSIZE(t, len + VARHDRSZ);
	memcpy(VARDATA(t), s, len);
	return PointerGetDatum(t);
}

/* scanint8 of PostgreSQL 15: [space][sign]digits[space] */
static int64
parse_int(const char *str, const char *type, int64 min, int64 max)
{
	const char *s = skip_space(str);
	bool		neg = false;
	uint64		v = 0;
	const char *digits;

	if (*s == '-' || *s == '+')
		neg = (*s++ == '-');
	digits = s;
	while (*s >= '0' && *s <= '9')
	{
		if (v > (PG_UINT64_MAX - 9) / 10)
			out_of_range(type, str);
		v = v * 10 + (*s++ - '0');
	}
	if (s == digits || *skip_space(s) != '\0')
		invalid_syntax(type, str);
	if (neg ? v > (uint64) max + 1 : v > (uint64) max)
		out_of_range(type, str);
	if (neg)
		return (v == (uint64) max + 1) ? min : -(int64) v;
	return (int64) v;
}

/* parse_bool_with_len: unique prefixes of true/false/yes/no/on/off, 1, 0 */
static bool
parse_bool(const char *str, bool *result)
{
	static const struct
	{
		const char *word;
		size_t		minlen;
		bool		value;
	}			words[] = {
		{"true", 1, true}, {"false", 1, false}, {"yes", 1, true},
		{"no", 1, false}, {"on", 2, true}, {"off", 2, false},
		{"1", 1, true}, {"0", 1, false}
	};
	const char *s = skip_space(str);
	size_t		len = strlen(s);

	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	for (size_t i = 0; i < lengthof(words); i++)
	{
		if (len >= words[i].minlen && len <= strlen(words[i].word) &&
			pg_strncasecmp(s, words[i].word, len) == 0)
		{
			*result = words[i].value;
			return true;
		}
	}
	return false;
}

static bool
parse_uuid(const char *str, unsigned char *out)
{
	const char *s = str;
	bool		braces = false;

	if (*s == '{')
	{
		braces = true;
		s++;
	}
	for (int i = 0; i < 16; i++)
	{
		if (!isxdigit((unsigned char) s[0]) || !isxdigit((unsigned char) s[1]))
			return false;
		out[i] = (unsigned char) strtol((char[3]) {s[0], s[1], '\0'}, NULL, 16);
		s += 2;
		if (s[0] == '-' && (i % 2) == 1 && i < 15)
			s++;
	}
	if (braces && *s++ != '}')
		return false;
	return *s == '\0';
}

/* numeric_in: [space][sign](digits[.digits]|.digits)[e[sign]digits][space], NaN, Infinity */
static bool
parse_numeric(const char *str)
{
	const char *s = skip_space(str);
	bool		have_digits = false;

	if (pg_strncasecmp(s, "NaN", 3) == 0)
		s += 3;
	else
	{
		if (*s == '+' || *s == '-')
			s++;
		if (pg_strncasecmp(s, "Infinity", 8) == 0)
			s += 8;
		else if (pg_strncasecmp(s, "inf", 3) == 0)
			s += 3;
		else
		{
			while (isdigit((unsigned char) *s))
				s++, have_digits = true;
			if (*s == '.')
				for (s++; isdigit((unsigned char) *s); s++)
					have_digits = true;
			if (!have_digits)
				return false;
			if (*s == 'e' || *s == 'E')
			{
				const char *e = ++s;

				if (*s == '+' || *s == '-')
					s++;
				e = s;
				while (isdigit((unsigned char) *s))
					s++;
				if (s == e)
					return false;
			}
		}
	}
	return *skip_space(s) == '\0';
}

static float8
parse_float8(const char *str)
{
	const char *s = skip_space(str);
	char	   *end;
	double		v;

	if (*s == '\0')
		invalid_syntax("double precision", str);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *skip_space(end) != '\0')
		invalid_syntax("double precision", str);
	/* strtod also takes hex floats and "infinity" spellings; so be it */
	if (errno == ERANGE && (v == 0.0 || isinf(v)))
		out_of_range("double precision", str);
	return v;
}

/* fuzz_date2j: the Julian day number of a Gregorian date */
static int
fuzz_date2j(int y, int m, int d)
{
	int			a = (14 - m) / 12;
	int			yy = y + 4800 - a;
	int			mm = m + 12 * a - 3;

	return d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - yy / 100 + yy / 400 - 32045;
}

const int	day_tab[2][13] =
{
	{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0},
	{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0}
};

int
tm2timestamp(struct pg_tm *tm, fsec_t fsec, int *tzp, Timestamp *result)
{
	int64		days;

	if (tm->tm_year < 1 || tm->tm_year > 294276 || tm->tm_mon < 1 ||
		tm->tm_mon > 12)
		return -1;
	days = fuzz_date2j(tm->tm_year, tm->tm_mon, tm->tm_mday) - POSTGRES_EPOCH_JDATE;
	*result = days * USECS_PER_DAY +
		(((int64) tm->tm_hour * MINS_PER_HOUR + tm->tm_min) * SECS_PER_MINUTE +
		 tm->tm_sec) * USECS_PER_SEC + fsec;
	if (tzp != NULL)
		*result += (int64) *tzp * USECS_PER_SEC;
	if (!IS_VALID_TIMESTAMP(*result))
		return -1;
	return 0;
}

static bool
digits_at(const char *s, size_t len, size_t pos, int n, int *value)
{
	*value = 0;
	if (pos + n > len)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (s[pos + i] < '0' || s[pos + i] > '9')
			return false;
		*value = *value * 10 + (s[pos + i] - '0');
	}
	return true;
}

/*
 * fuzz_parse_timestamptz
 *		The ISO 8601 subset of timestamptz_in, in UTC when no zone is given:
 *		[space]YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][Z|(+|-)HH[[:]MM]][space],
 *		plus "infinity", "-infinity" and "epoch".  len bytes of s are read
 *		(a NUL among them is not accepted).
 */
bool
fuzz_parse_timestamptz(const char *s, size_t len, TimestampTz *result)
{
	size_t		p = 0;
	int			y,
				mo,
				d,
				h = 0,
				mi = 0,
				sec = 0;
	int64		usec = 0;
	int64		zone = 0;
	int64		days;

	while (p < len && isspace((unsigned char) s[p]))
		p++;
	while (len > p && isspace((unsigned char) s[len - 1]))
		len--;
	if (len - p == 8 && pg_strncasecmp(s + p, "infinity", 8) == 0)
	{
		*result = DT_NOEND;
		return true;
	}
	if (len - p == 9 && pg_strncasecmp(s + p, "-infinity", 9) == 0)
	{
		*result = DT_NOBEGIN;
		return true;
	}
	if (len - p == 5 && pg_strncasecmp(s + p, "epoch", 5) == 0)
	{
		*result = -((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)) * USECS_PER_DAY;
		return true;
	}
	if (!digits_at(s, len, p, 4, &y) || p + 4 >= len || s[p + 4] != '-' ||
		!digits_at(s, len, p + 5, 2, &mo) || p + 7 >= len || s[p + 7] != '-' ||
		!digits_at(s, len, p + 8, 2, &d))
		return false;
	p += 10;
	if (p < len && (s[p] == 'T' || s[p] == 't' || s[p] == ' '))
	{
		p++;
		if (!digits_at(s, len, p, 2, &h) || p + 2 >= len || s[p + 2] != ':' ||
			!digits_at(s, len, p + 3, 2, &mi))
			return false;
		p += 5;
		if (p < len && s[p] == ':')
		{
			if (!digits_at(s, len, p + 1, 2, &sec))
				return false;
			p += 3;
			if (p < len && s[p] == '.')
			{
				char		frac[32] = "0.";
				size_t		n = 0;

				for (p++; p < len && s[p] >= '0' && s[p] <= '9'; p++)
				{
					if (n < sizeof(frac) - 3)
						frac[2 + n++] = s[p];
				}
				/* timestamptz_in rounds to microseconds with rint() */
				usec = (int64) rint(strtod(frac, NULL) * 1000000.0);
			}
		}
	}
	if (p < len && (s[p] == 'Z' || s[p] == 'z'))
		p++;
	else if (p < len && (s[p] == '+' || s[p] == '-'))
	{
		int			sign = s[p] == '-' ? -1 : 1;
		int			zh,
					zm = 0;

		if (!digits_at(s, len, p + 1, 2, &zh))
			return false;
		p += 3;
		if (p < len && s[p] == ':')
			p++;
		if (digits_at(s, len, p, 2, &zm))
			p += 2;
		if (zh > 15 || zm > 59)
			return false;
		zone = sign * ((int64) zh * 3600 + zm * 60);
	}
	if (p != len)
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > day_tab[isleap(y)][mo - 1] ||
		h > 24 || mi > 59 || sec > 60 ||
		(h == 24 && (mi != 0 || sec != 0 || usec != 0)))
		return false;
	days = fuzz_date2j(y, mo, d) - POSTGRES_EPOCH_JDATE;
	*result = days * USECS_PER_DAY +
		(((int64) h * 60 + mi) * 60 + sec - zone) * USECS_PER_SEC + usec;
	return IS_VALID_TIMESTAMP(*result);
}

bool
fuzz_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	while (p < end)
	{
		unsigned char c = *p;
		int			n;
		uint32		cp;

		if (c == 0)
			return false;		/* no server encoding accepts NUL */
		if (c < 0x80)
		{
			p++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if (end - p <= n)
			return false;
		for (int i = 1; i <= n; i++)
		{
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
			(n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		p += n + 1;
	}
	return true;
}

/* json_in/jsonb_in: strict JSON, one value, white space around it */
static void
check_json(const char *str, bool jsonb)
{
	json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	json_object *obj;
	enum json_tokener_error jerr;
	size_t		len = strlen(str);
	size_t		end;

	if (tok == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, str, (int) len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue)
	{
		/* a bare number at the end of the input: feed the terminator */
		json_object_put(obj);
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	else
		end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	json_object_put(obj);
	if (jerr != json_tokener_success || *skip_space(str + end) != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s", jsonb ? "jsonb" : "json"),
				 errdetail("%s", json_tokener_error_desc(jerr))));
	if (jsonb && strstr(str, "\\u0000") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("unsupported Unicode escape sequence"),
				 errdetail("\\u0000 cannot be converted to text.")));
}

static Datum call_input(Oid infunc, char *str, Oid ioparam);

/*
 * array_in, for one-dimensional (or nested, flattened) literals:
 * {elem,"quoted \"elem\"",NULL}.  Each element goes through the element
 * type's input function; the result is a FuzzArray.
 */
static Datum
array_input(char *str, Oid elemtype)
{
	const FuzzType *et = type_or_fail(elemtype);
	StringInfoData out;
	StringInfoData elem;
	const char *s = skip_space(str);
	int			depth = 0;
	int32		nelems = 0;
	bool		expect_elem = true;

	if (*s != '{')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("malformed array literal: \"%s\"", str),
				 errdetail("Array value must start with \"{\" or dimension information.")));
	initStringInfo(&out);
	appendBinaryStringInfo(&out, "\0\0\0\0\0\0\0\0", 8);
	initStringInfo(&elem);
	for (;;)
	{
		bool		quoted = false;
		bool		isnull;

		s = skip_space(s);
		if (*s == '{')
		{
			depth++;
			s++;
			expect_elem = true;
			continue;
		}
		if (*s == '}' && depth > 0)
		{
			s++;
			if (--depth == 0)
				break;
			expect_elem = false;
			continue;
		}
		if (*s == ',' && !expect_elem)
		{
			s++;
			expect_elem = true;
			continue;
		}
		if (*s == '\0' || *s == '}' || *s == ',' || !expect_elem)
			goto malformed;

		/* one element */
		resetStringInfo(&elem);
		if (*s == '"')
		{
			quoted = true;
			for (s++; *s != '"'; s++)
			{
				if (*s == '\\')
					s++;
				if (*s == '\0')
					goto malformed;
				appendStringInfoChar(&elem, *s);
			}
			s++;
		}
		else
		{
			int			keep = 0;

			for (; *s && *s != ',' && *s != '}'; s++)
			{
				if (*s == '"' || *s == '{')
					goto malformed;
				if (*s == '\\')
				{
					if (*++s == '\0')
						goto malformed;
					appendStringInfoChar(&elem, *s);
					keep = elem.len;
					continue;
				}
				appendStringInfoChar(&elem, *s);
				if (!isspace((unsigned char) *s))
					keep = elem.len;
			}
			elem.len = keep;	/* trailing white space is dropped */
			elem.data[keep] = '\0';
		}
		isnull = !quoted && pg_strcasecmp(elem.data, "NULL") == 0;
		if (!isnull)
			(void) call_input(et->infunc, elem.data, et->ioparam);
		appendStringInfoChar(&out, isnull ? 1 : 0);
		appendBinaryStringInfo(&out, (char *) &elem.len, sizeof(int32));
		appendBinaryStringInfo(&out, elem.data, elem.len);
		nelems++;
		expect_elem = false;
	}
	if (*skip_space(s) != '\0')
		goto malformed;
	SET_VARSIZE(out.data, out.len);
	((FuzzArray *) out.data)->nelems = nelems;
	return PointerGetDatum(out.data);

malformed:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("malformed array literal: \"%s\"", str)));
	pg_unreachable();
}

static Datum
call_input(Oid infunc, char *str, Oid ioparam)
{
	switch (infunc)
	{
		case F_TEXTIN:
			return make_varlena(str, strlen(str));
		case F_INT8IN:
			return Int64GetDatum(parse_int(str, "bigint", PG_INT64_MIN, PG_INT64_MAX));
		case F_INT4IN:
			return Int32GetDatum((int32) parse_int(str, "integer", PG_INT32_MIN, PG_INT32_MAX));
		case F_BOOLIN:
			{
				bool		b;

				if (!parse_bool(str, &b))
					invalid_syntax("boolean", str);
				return BoolGetDatum(b);
			}
		case F_TIMESTAMPTZ_IN:
			{
				TimestampTz ts;

				if (!fuzz_parse_timestamptz(str, strlen(str), &ts))
					invalid_syntax("timestamp with time zone", str);
				return TimestampTzGetDatum(ts);
			}
		case F_DATE_IN:
			{
				TimestampTz ts;
				char		day[11];

				if (!fuzz_parse_timestamptz(str, strlen(str), &ts))
				{
					/* YYYY-MM-DD alone is fine too */
					const char *t = skip_space(str);

					if (strlen(t) < 10)
						invalid_syntax("date", str);
					memcpy(day, t, 10);
					day[10] = '\0';
					if (!fuzz_parse_timestamptz(day, 10, &ts))
						invalid_syntax("date", str);
				}
				return Int32GetDatum((int32) (ts / USECS_PER_DAY));
			}
		case F_UUID_IN:
			{
				unsigned char *u = palloc(16);

				if (!parse_uuid(str, u))
					invalid_syntax("uuid", str);
				return PointerGetDatum(u);
			}
		case F_NUMERIC_IN:
			if (!parse_numeric(str))
				invalid_syntax("numeric", str);
			return make_varlena(str, strlen(str));
		case F_FLOAT8IN:
			return Float8GetDatum(parse_float8(str));
		case F_JSON_IN:
		case F_JSONB_IN:
			check_json(str, infunc == F_JSONB_IN);
			return make_varlena(str, strlen(str));
		case F_ARRAY_IN:
			return array_input(str, ioparam);
		case F_DOMAIN_IN:
			{
				/* no constraints: the base type's input function */
				const FuzzType *dom = type_or_fail(ioparam);
				const FuzzType *base = type_or_fail(dom->basetype);

				return call_input(base->infunc, str, base->ioparam);
			}
	}
	fuzz_fail("no input function stub for function %u", infunc);
}

Datum
InputFunctionCall(FmgrInfo *flinfo, char *str, Oid typioparam, int32 typmod)
{
	if (str == NULL)
		fuzz_fail("InputFunctionCall with a NULL string: the value would be "
				  "(Datum) 0 but not null");
	if (fuzz_strict && !fuzz_utf8_valid(str, strlen(str)))
		fuzz_fail("input function %u called with a string that is not valid UTF-8",
				  flinfo->fn_oid);
	return call_input(flinfo->fn_oid, str, typioparam);
}
