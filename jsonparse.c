/*-------------------------------------------------------------------------
 *
 * jsonparse.c
 *		  Parse Atlas's JSON with json-c, within a memory budget
 *
 * Every body the extension reads from Atlas (list pages, single items,
 * OAuth token answers, error documents) goes through atlas_json_parse:
 *
 *	- the whole body must be valid UTF-8 by PostgreSQL's own check
 *	  (pg_encoding_verifymbstr, the test behind pg_verify_mbstr), which
 *	  also refuses NUL bytes, overlong forms and encoded surrogates;
 *	- json-c's tokener parses it in strict mode (JSON_TOKENER_STRICT), at
 *	  most ATLAS_JSON_MAX_DEPTH levels deep, fed a slice at a time, so
 *	  that the memory the tree takes can be watched while it grows
 *	  (glibc's mallinfo2: bytes in use) and the parse stopped as soon as
 *	  it passes the caller's budget;
 *	- numbers that json-c gives wrongly, non-finite doubles (NaN,
 *	  Infinity, 1e400) and integers at its clamp limits INT64_MIN and
 *	  UINT64_MAX (which is what it makes of any integer beyond them), are
 *	  refused by
 *	  atlas_json_check_numbers when a value is read: a column's value, or
 *	  every number inside a container that becomes json, jsonb or an
 *	  array.  A number no column reads costs nothing and changes nothing.
 *
 * What json-c accepts beyond that (raw control characters inside strings;
 * unpaired \u surrogate escapes, which it turns into U+FFFD) is accepted.
 *
 * json-c allocates with malloc.  On a parse failure the partial tree is
 * freed and a message left for the caller; on an ERROR (a query cancel,
 * looked for between slices when the caller allows it) the partial tree is
 * freed before the ERROR goes on.  The caller owns the tree it gets and
 * frees it with json_object_put.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  jsonparse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <malloc.h>

#include <json-c/json.h>

#include "atlas_snapshot_fdw.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"

/* mallinfo2 appeared in glibc 2.33; elsewhere only the text is bounded */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#define HAVE_MALLINFO2 1
#endif

/*
 * Slices fed to the tokener.  A byte of JSON costs json-c at most about
 * 270 bytes of tree (an empty object "{}," 795 with its array slot; an
 * empty array "[]," some 350), so a slice of 1/320 of what is left of the
 * budget cannot pass it, and the check after each slice stops the parse
 * before it does.  Each look at the allocator walks its free lists (some
 * 40 us in a backend), so slices are as large as that allows: a real page
 * of 330 kB is one slice under the default budget, and costs no look at
 * all.  At most 1 MB: a few milliseconds of parsing between looks for a
 * query cancel.
 */
#define MIN_SLICE		1024
#define MAX_SLICE		(1024 * 1024)
#define SLICE_DIVISOR	320

/*
 * atlas_json_in_use
 *		Bytes the process has malloc'd and not freed (0 without glibc's
 *		mallinfo2).
 */
size_t
atlas_json_in_use(void)
{
#ifdef HAVE_MALLINFO2
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#else
	return 0;
#endif
}

/*
 * interrupt_point
 *		Take a pending query cancel (or termination), freeing what the
 *		parse holds first.
 */
static void
interrupt_point(struct json_tokener *tok)
{
	if (!INTERRUPTS_PENDING_CONDITION())
		return;
	PG_TRY();
	{
		CHECK_FOR_INTERRUPTS();
	}
	PG_CATCH();
	{
		json_tokener_reset(tok);	/* frees a partial tree */
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * atlas_json_check_numbers
 *		Refuse the numbers in value v (and, for a container, every number
 *		inside it) that json-c cannot give right: non-finite doubles, and
 *		integers at json-c's clamp limits.  json-c (0.14 and later, the
 *		first with uint64 values) reads an integer with strtoll when it
 *		has a minus sign, else with strtoull, and ignores their ERANGE: any
 *		integer below INT64_MIN becomes INT64_MIN, any above UINT64_MAX
 *		becomes UINT64_MAX, so those two values are ambiguous and refused.
 *		Every other integer is exact: INT64_MAX itself is kept as an int64
 *		(json-c makes a uint64 only of values above it), which
 *		json_object_get_uint64 tells from a larger uint64 (for which
 *		json_object_get_int64 also answers INT64_MAX).
 *
 * Raises an ERROR (the caller's error context names the column); the tree
 * must be owned by a memory context (a page), since interrupts are taken.
 * Depth is bounded by the tokener's (ATLAS_JSON_MAX_DEPTH).
 */
void
atlas_json_check_numbers(struct json_object *v)
{
	const char *why = NULL;

	switch (json_object_get_type(v))
	{
		case json_type_double:
			if (!isfinite(json_object_get_double(v)))
				why = "The number is not finite.";
			break;
		case json_type_int:
			{
				int64		i = json_object_get_int64(v);

				if (i == PG_INT64_MIN ||
					(i == PG_INT64_MAX &&
					 json_object_get_uint64(v) == PG_UINT64_MAX))
					why = "An integer beyond 64 bits cannot be read exactly.";
			}
			break;
		case json_type_array:
			{
				size_t		n = json_object_array_length(v);

				for (size_t i = 0; i < n; i++)
				{
					CHECK_FOR_INTERRUPTS();
					atlas_json_check_numbers(json_object_array_get_idx(v, i));
				}
			}
			break;
		case json_type_object:
			{
				struct json_object_iter it;

				json_object_object_foreachC(v, it)
				{
					CHECK_FOR_INTERRUPTS();
					atlas_json_check_numbers(it.val);
				}
			}
			break;
		default:
			break;
	}
	if (why)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("number in Atlas response is out of range"),
				 errdetail("%s", why)));
}

/*
 * describe
 *		Write "<what> at byte <pos> of <len>." into errmsg.
 */
static void
describe(char *errmsg, size_t errmsg_len, const char *what, size_t pos,
		 size_t len)
{
	snprintf(errmsg, errmsg_len, "%c%s at byte %zu of %zu.",
			 pg_toupper((unsigned char) what[0]), what + 1, pos, len);
}

/*
 * atlas_json_parse
 *		Parse len bytes of text (a response body) into a json-c tree.
 *
 * tok is the scan's tokener (json_tokener_new_ex(ATLAS_JSON_MAX_DEPTH)),
 * or NULL for one used just this once.  budget (0: none) bounds the
 * growth of the process's malloc'd bytes while the tree is built.
 * interruptible (only with the caller's tok): a pending query cancel is
 * taken between slices (an ERROR, after the partial tree is freed);
 * otherwise nothing here throws.
 *
 * Returns the tree (the caller frees it with json_object_put), or NULL
 * with a message (a detail sentence) in errmsg, and *over_budget set if
 * the reason is the budget.  *tree_bytes, if not NULL, gets the growth
 * measured.
 */
struct json_object *
atlas_json_parse(struct json_tokener *tok, const char *text, size_t len,
				 size_t budget, bool interruptible, char *errmsg,
				 size_t errmsg_len, bool *over_budget, size_t *tree_bytes)
{
	struct json_tokener *own = NULL;
	struct json_object *tree = NULL;
	enum json_tokener_error jerr = json_tokener_continue;
	size_t		start = 0;
	size_t		used = 0;
	size_t		off = 0;
	size_t		slice = 0;
	int			ok;

	Assert(tok != NULL || !interruptible);
	*over_budget = false;
	if (tree_bytes)
		*tree_bytes = 0;
	errmsg[0] = '\0';

	if (len > (size_t) INT_MAX)
	{
		snprintf(errmsg, errmsg_len, "The response is %zu bytes long.", len);
		return NULL;
	}
	ok = pg_encoding_verifymbstr(PG_UTF8, text, (int) len);
	if (ok != (int) len)
	{
		describe(errmsg, errmsg_len,
				 text[ok] == '\0' ? "NUL character" : "invalid UTF-8", ok, len);
		return NULL;
	}

	if (tok == NULL)
	{
		tok = own = json_tokener_new_ex(ATLAS_JSON_MAX_DEPTH);
		if (tok == NULL)
		{
			snprintf(errmsg, errmsg_len, "Out of memory.");
			return NULL;
		}
	}
	else
		json_tokener_reset(tok);

	/*
	 * Not JSON_TOKENER_VALIDATE_UTF8: the check above has covered every
	 * byte, more strictly (json-c takes overlong forms), and json-c's own
	 * would cost a fifth of the parse again.
	 */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);

	/* where the tree starts from, unless it fits in one slice unmeasured */
	if (tree_bytes ||
		(budget > 0 && len > Min(Max(budget / SLICE_DIVISOR, MIN_SLICE), MAX_SLICE)))
		start = atlas_json_in_use();

	while (off < len)
	{
		if (budget > 0)
		{
			size_t		now = off > 0 ? atlas_json_in_use() : start;

			used = now > start ? now - start : 0;
			if (used > budget)
			{
				*over_budget = true;
				snprintf(errmsg, errmsg_len,
						 "Its parsed form took more than %zu bytes by byte %zu of %zu.",
						 budget, off, len);
				break;
			}
			slice = Max((budget - used) / SLICE_DIVISOR, MIN_SLICE);
			slice = Min(slice, MAX_SLICE);
		}
		else
			slice = MAX_SLICE;
		slice = Min(slice, len - off);

		if (interruptible)
			interrupt_point(tok);
		tree = json_tokener_parse_ex(tok, text + off, (int) slice);
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_continue)
			break;
		off += slice;
	}

	if (*over_budget)
		;
	else if (jerr == json_tokener_continue)
	{
		/* all fed: a NUL tells the tokener that the text ends (a number) */
		tree = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_success)
			describe(errmsg, errmsg_len, json_tokener_error_desc(jerr), len, len);
	}
	else if (jerr != json_tokener_success)
		describe(errmsg, errmsg_len, json_tokener_error_desc(jerr),
				 off + json_tokener_get_parse_end(tok), len);
	else
	{
		/*
		 * The document ended inside this slice, and the tokener took the
		 * white space after it; anything in later slices must be white
		 * space too.
		 */
		size_t		end = off + json_tokener_get_parse_end(tok);

		while (end < len && (text[end] == ' ' || text[end] == '\t' ||
							 text[end] == '\r' || text[end] == '\n'))
			end++;
		if (end < len)
		{
			describe(errmsg, errmsg_len, "unexpected data after the document",
					 end, len);
			json_object_put(tree);
			tree = NULL;
		}
	}

	/* "null" parses to no tree at all: never what Atlas answers */
	if (errmsg[0] == '\0' && tree == NULL)
		snprintf(errmsg, errmsg_len, "The document is null.");

	if (errmsg[0] != '\0')
	{
		json_tokener_reset(tok);
		json_object_put(tree);
		tree = NULL;
	}
	else if (tree_bytes)
	{
		size_t		now = atlas_json_in_use();

		*tree_bytes = now > start ? now - start : 0;
	}
	if (own)
		json_tokener_free(own);
	return tree;
}
