/*-------------------------------------------------------------------------
 *
 * jsontape.h
 *		  A parsed JSON document as a flat array of tokens (see jsontape.c)
 *
 * Token 0 is the root value.  The members of an object are pairs of
 * tokens, a string key followed by its value; the elements of an array
 * follow it one value after another.  "next" of any token is the index of
 * the first token after that value and everything inside it, so
 *
 *		for (i = 0, k = obj + 1; i < count; i++, k = tokens[k + 1].next)
 *
 * walks the keys of an object, and
 *
 *		for (i = 0, e = arr + 1; i < count; i++, e = tokens[e].next)
 *
 * the elements of an array.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  jsontape.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ATLAS_JSONTAPE_H
#define ATLAS_JSONTAPE_H

/* Nesting limit: Atlas documents are a handful of levels deep */
#define ATLAS_JSON_MAX_DEPTH	64

typedef enum AtlasJsonType
{
	AJ_NULL,
	AJ_FALSE,
	AJ_TRUE,
	AJ_NUMBER,
	AJ_STRING,
	AJ_ARRAY,
	AJ_OBJECT
} AtlasJsonType;

/* token flags */
#define AJ_ESCAPED		0x01	/* string: holds backslash escapes */
#define AJ_NONASCII		0x02	/* string: holds characters beyond ASCII */
#define AJ_INTEGER		0x04	/* number: no fraction, no exponent */

typedef struct AtlasJsonToken
{
	uint32		start;			/* offset of the text: a string's contents
								 * (after the quote), else the first byte */
	uint32		len;			/* bytes of that text (a container's with its
								 * brackets, a string's without quotes) */
	uint32		next;			/* first token after this value */
	uint32		count;			/* array elements or object members */
	uint8		type;			/* AtlasJsonType */
	uint8		flags;			/* AJ_* flags */
} AtlasJsonToken;

/* A parsed document: malloc'd, freed with atlas_json_free */
typedef struct AtlasJson
{
	const char *text;			/* the document's bytes */
	size_t		len;
	bool		owns_text;		/* atlas_json_free frees text too */
	AtlasJsonToken *tokens;
	uint32		ntokens;
} AtlasJson;

extern AtlasJson *atlas_json_parse(const char *text, size_t len, bool owns_text,
								   char *errmsg, size_t errmsg_len);
extern void atlas_json_free(AtlasJson *doc);
extern uint32 atlas_json_member(const AtlasJson *doc, uint32 obj,
								const char *key, size_t keylen);
extern bool atlas_json_key_equals(const AtlasJson *doc, uint32 k,
								  const char *key, size_t keylen);
extern int	atlas_json_unescape(const AtlasJson *doc, uint32 k, char *out);
extern bool atlas_json_int64(const AtlasJson *doc, uint32 v, int64 *result);

#endif							/* ATLAS_JSONTAPE_H */
