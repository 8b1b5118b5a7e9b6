/*-------------------------------------------------------------------------
 *
 * fuzz_stubs.h
 *		  What pg_stubs.c offers the libFuzzer harness (fuzz_page.c)
 *
 * pg_stubs.c stands in for the PostgreSQL backend functions that
 * response.c and resource.c link against.  Beyond the backend's own API
 * (palloc, ereport, PG_TRY, InputFunctionCall, ...), it exports a few
 * helpers the harness uses to check what response.c produced.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  fuzz/fuzz_stubs.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FUZZ_STUBS_H
#define FUZZ_STUBS_H

#include "datatype/timestamp.h"
#include "utils/palloc.h"

/* Types that exist only in the harness: domains over built-in types */
#define FUZZ_JSONB_DOMAIN_OID		90001	/* domain over jsonb */
#define FUZZ_TEXTARRAY_DOMAIN_OID	90002	/* domain over text[] */
#define FUZZ_TEXT_DOMAIN_OID		90003	/* domain over text */

/* What the stub catalog knows about a type */
typedef struct FuzzType
{
	Oid			oid;
	const char *name;
	Oid			infunc;			/* input function (F_xxx) */
	Oid			ioparam;		/* element type for arrays, else oid */
	Oid			basetype;		/* base type for domains, else oid */
	Oid			elemtype;		/* element type for arrays, else 0 */
	int16		typlen;			/* -1 varlena, else fixed length */
	bool		byval;
} FuzzType;

extern const FuzzType *fuzz_type(Oid oid);

/*
 * The array_in stub returns this varlena instead of a real ArrayType: the
 * elements as the literal spelled them (after unquoting), so the harness
 * can compare them with the JSON array.  Each element is a 1-byte null
 * flag, a 4-byte length and the bytes.
 */
typedef struct FuzzArray
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		nelems;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} FuzzArray;

/* run-time switches, from the environment (see fuzz_page.c) */
extern bool fuzz_strict;		/* ATLAS_FUZZ_STRICT: encoding checks */
extern bool fuzz_verbose;		/* ATLAS_FUZZ_PRINT: print what happens */

/* memory contexts */
extern MemoryContext fuzz_context_create(MemoryContext parent, const char *name);
extern bool fuzz_chunk_in_context(MemoryContext cxt, const void *ptr);
extern long fuzz_live_chunks(void);

/* the last ERROR: message, detail and context lines, for printing */
extern const char *fuzz_last_error(void);
extern int	fuzz_error_count;

/* checks shared by the input-function stubs and the harness */
extern bool fuzz_utf8_valid(const char *s, size_t len);
extern bool fuzz_parse_timestamptz(const char *s, size_t len,
								   TimestampTz *result);

/* a harness failure: print and abort (libFuzzer records the input) */
extern void fuzz_fail(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();

#endif							/* FUZZ_STUBS_H */
