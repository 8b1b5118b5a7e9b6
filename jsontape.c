/*-------------------------------------------------------------------------
 *
 * jsontape.c
 *		  A strict, allocation-light JSON parser for Atlas pages
 *
 * A page is parsed once into a "tape": one flat array of tokens, one per
 * JSON value (and one per object key), in document order.  A token records
 * where its text lies in the document and, for arrays and objects, how many
 * elements or members it has and where the next value after it starts, so
 * a reader can step over a whole subtree at once.  Strings are not copied
 * or unescaped: a token points at the bytes between the quotes and says
 * whether they hold escapes or non-ASCII characters, and the rare value
 * that needs it is unescaped when it is converted.  Numbers keep their
 * exact text, so a numeric column gets every digit Atlas sent.
 *
 * It reads every Atlas response: pages, OAuth token answers and error
 * bodies.  It replaced json-c trees, which cost a malloc per value and a
 * hash table per object (parsing into them was most of a scan's time); the
 * tape costs two mallocs per page and about 20 bytes a value.
 *
 * The grammar is RFC 8259 and nothing more: no comments, single quotes,
 * NaN, trailing commas, leading zeros or unescaped control characters.  The
 * text must be valid UTF-8 (RFC 8259 section 8.1), checked as strictly as
 * PostgreSQL's own pg_utf8_islegal: no overlong forms, surrogates or code
 * points beyond U+10FFFF; \u escapes must pair surrogates correctly.
 * Nesting is limited to ATLAS_JSON_MAX_DEPTH.
 *
 * Contract: nothing here throws, pallocs or touches backend state, so it
 * runs anywhere (the fuzzer runs it outside a backend).  Documents are
 * malloc'd and freed with atlas_json_free.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  jsontape.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "jsontape.h"

/* Byte classes inside a string */
#define SC_PLAIN	0			/* ASCII that stands for itself */
#define SC_QUOTE	1
#define SC_ESCAPE	2
#define SC_CONTROL	3			/* below 0x20: must be escaped */
#define SC_HIGH		4			/* 0x80 and above: part of a UTF-8 sequence */

static uint8 string_class[256];
static bool string_class_ready = false;

typedef struct JsonParser
{
	const unsigned char *s;		/* the text */
	size_t		len;
	size_t		pos;			/* next byte to read */
	AtlasJsonToken *tokens;		/* malloc'd, grows */
	uint32		ntokens;
	uint32		cap;
	const char *error;			/* what went wrong, NULL while all is well */
	size_t		error_pos;		/* where */
} JsonParser;

static void
init_string_class(void)
{
	for (int c = 0; c < 256; c++)
	{
		if (c < 0x20)
			string_class[c] = SC_CONTROL;
		else if (c >= 0x80)
			string_class[c] = SC_HIGH;
		else
			string_class[c] = SC_PLAIN;
	}
	string_class['"'] = SC_QUOTE;
	string_class['\\'] = SC_ESCAPE;
	string_class_ready = true;
}

/* Record a failure at pos; returns false for the caller to pass on */
static bool
fail(JsonParser *p, const char *what, size_t pos)
{
	if (p->error == NULL)
	{
		p->error = what;
		p->error_pos = pos;
	}
	return false;
}

static inline void
skip_ws(JsonParser *p)
{
	while (p->pos < p->len)
	{
		unsigned char c = p->s[p->pos];

		if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
			break;
		p->pos++;
	}
}

/*
 * new_token
 *		Append a token; UINT32_MAX (and an error) if memory runs out.
 */
static inline uint32
new_token(JsonParser *p, AtlasJsonType type, size_t start)
{
	AtlasJsonToken *t;

	if (p->ntokens == p->cap)
	{
		uint32		cap = p->cap * 2;
		AtlasJsonToken *grown;

		if (cap <= p->cap ||
			(grown = realloc(p->tokens, sizeof(AtlasJsonToken) * (size_t) cap)) == NULL)
		{
			fail(p, "Out of memory", start);
			return UINT32_MAX;
		}
		p->tokens = grown;
		p->cap = cap;
	}
	t = &p->tokens[p->ntokens];
	t->start = (uint32) start;
	t->len = 0;
	t->count = 0;
	t->next = p->ntokens + 1;
	t->type = (uint8) type;
	t->flags = 0;
	return p->ntokens++;
}

/*
 * utf8_sequence
 *		The length of the valid UTF-8 sequence at s (at most n bytes
 *		available), or 0 if it is not one.  Same rules as pg_utf8_islegal.
 */
static int
utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	int			len;

	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;			/* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F;			/* no surrogates */
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		len = 4;
		if (c == 0xF0)
			lo = 0x90;			/* no overlong forms */
		else if (c == 0xF4)
			hi = 0x8F;			/* nothing beyond U+10FFFF */
	}
	else
		return 0;

	if (n < (size_t) len || s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < len; i++)
	{
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	}
	return len;
}

/* The value of four hex digits at s, or -1 */
static int
hex4(const unsigned char *s)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		unsigned char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * word_is_plain
 *		Whether none of the 8 bytes of w needs a closer look: no quote, no
 *		backslash, no control character, nothing beyond ASCII.  The classic
 *		"has a zero byte" bit trick, exact for the first such byte; a false
 *		answer only sends the caller to the byte-by-byte loop.
 */
static inline bool
word_is_plain(uint64 w)
{
	const uint64 ones = UINT64CONST(0x0101010101010101);
	const uint64 highs = UINT64CONST(0x8080808080808080);
	uint64		quote = w ^ (ones * '"');
	uint64		escape = w ^ (ones * '\\');
	uint64		special = ((quote - ones) & ~quote) |
		((escape - ones) & ~escape) |
		(w - ones * 0x20) |		/* control characters (borrow) */
		w;						/* bytes beyond ASCII */

	return (special & highs) == 0;
}

/*
 * scan_string
 *		Read a string whose opening quote is at pos into token t: its
 *		contents' span and flags.  Leaves pos after the closing quote.
 */
static bool
scan_string(JsonParser *p, uint32 t)
{
	const unsigned char *s = p->s;
	size_t		len = p->len;
	size_t		pos = p->pos + 1;
	size_t		start = pos;
	uint8		flags = 0;

	for (;;)
	{
		unsigned char c;

		/* the common case: a run of plain ASCII, eight bytes at a time */
		while (pos + 8 <= len)
		{
			uint64		w;

			memcpy(&w, s + pos, 8);
			if (!word_is_plain(w))
				break;
			pos += 8;
		}
		while (pos < len && string_class[s[pos]] == SC_PLAIN)
			pos++;
		if (pos >= len)
			return fail(p, "Unexpected end of data in a string", pos);
		c = s[pos];
		switch (string_class[c])
		{
			case SC_QUOTE:
				p->tokens[t].start = (uint32) start;
				p->tokens[t].len = (uint32) (pos - start);
				p->tokens[t].flags = flags;
				p->pos = pos + 1;
				return true;
			case SC_CONTROL:
				return fail(p, "Unescaped control character in a string", pos);
			case SC_HIGH:
				{
					int			n = utf8_sequence(s + pos, len - pos);

					if (n == 0)
						return fail(p, "Invalid UTF-8", pos);
					flags |= AJ_NONASCII;
					pos += n;
					break;
				}
			case SC_ESCAPE:
				flags |= AJ_ESCAPED;
				if (pos + 1 >= len)
					return fail(p, "Unexpected end of data in a string", pos);
				switch (s[pos + 1])
				{
					case '"':
					case '\\':
					case '/':
					case 'b':
					case 'f':
					case 'n':
					case 'r':
					case 't':
						pos += 2;
						break;
					case 'u':
						{
							int			cp;

							if (pos + 6 > len || (cp = hex4(s + pos + 2)) < 0)
								return fail(p, "Invalid \\u escape", pos);
							pos += 6;
							if (cp >= 0xDC00 && cp <= 0xDFFF)
								return fail(p, "Unpaired Unicode surrogate", pos - 6);
							if (cp >= 0xD800 && cp <= 0xDBFF)
							{
								int			lo;

								if (pos + 6 > len || s[pos] != '\\' || s[pos + 1] != 'u' ||
									(lo = hex4(s + pos + 2)) < 0 ||
									lo < 0xDC00 || lo > 0xDFFF)
									return fail(p, "Unpaired Unicode surrogate", pos - 6);
								pos += 6;
							}
							if (cp > 0x7F)
								flags |= AJ_NONASCII;
							break;
						}
					default:
						return fail(p, "Invalid escape in a string", pos);
				}
				break;
		}
	}
}

/*
 * scan_number
 *		Read a number at pos (RFC 8259 grammar) into token t.
 */
static bool
scan_number(JsonParser *p, uint32 t)
{
	const unsigned char *s = p->s;
	size_t		len = p->len;
	size_t		pos = p->pos;
	uint8		flags = AJ_INTEGER;

	if (s[pos] == '-')
		pos++;
	if (pos < len && s[pos] == '0')
		pos++;
	else if (pos < len && s[pos] >= '1' && s[pos] <= '9')
	{
		while (pos < len && s[pos] >= '0' && s[pos] <= '9')
			pos++;
	}
	else
		return fail(p, "Invalid number", p->pos);

	if (pos < len && s[pos] == '.')
	{
		flags = 0;
		pos++;
		if (pos >= len || s[pos] < '0' || s[pos] > '9')
			return fail(p, "Invalid number", p->pos);
		while (pos < len && s[pos] >= '0' && s[pos] <= '9')
			pos++;
	}
	if (pos < len && (s[pos] == 'e' || s[pos] == 'E'))
	{
		flags = 0;
		pos++;
		if (pos < len && (s[pos] == '+' || s[pos] == '-'))
			pos++;
		if (pos >= len || s[pos] < '0' || s[pos] > '9')
			return fail(p, "Invalid number", p->pos);
		while (pos < len && s[pos] >= '0' && s[pos] <= '9')
			pos++;
	}
	p->tokens[t].len = (uint32) (pos - p->pos);
	p->tokens[t].flags = flags;
	p->pos = pos;
	return true;
}

/* Read the literal word (true, false, null) at pos into token t */
static bool
scan_literal(JsonParser *p, uint32 t, const char *word)
{
	size_t		n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, "Unexpected character", p->pos);
	p->tokens[t].len = (uint32) n;
	p->pos += n;
	return true;
}

/*
 * parse
 *		The parser proper: values in document order, with an explicit stack
 *		of the open arrays and objects instead of recursion.
 */
static bool
parse(JsonParser *p)
{
	uint32		stack[ATLAS_JSON_MAX_DEPTH];
	int			depth = 0;
	uint32		t;

	skip_ws(p);
	for (;;)
	{
		/* a value starts here */
		if (p->pos >= p->len)
			return fail(p, "Unexpected end of data", p->pos);
		switch (p->s[p->pos])
		{
			case '{':
			case '[':
				{
					bool		is_object = (p->s[p->pos] == '{');

					t = new_token(p, is_object ? AJ_OBJECT : AJ_ARRAY, p->pos);
					if (t == UINT32_MAX)
						return false;
					if (depth == ATLAS_JSON_MAX_DEPTH)
						return fail(p, "Nesting too deep", p->pos);
					p->pos++;
					skip_ws(p);
					if (p->pos < p->len && p->s[p->pos] == (is_object ? '}' : ']'))
					{
						p->pos++;
						p->tokens[t].len = (uint32) (p->pos - p->tokens[t].start);
						goto value_done;
					}
					stack[depth++] = t;
					if (is_object)
						goto member;
					continue;	/* the first element */
				}
			case '"':
				t = new_token(p, AJ_STRING, p->pos);
				if (t == UINT32_MAX || !scan_string(p, t))
					return false;
				break;
			case 't':
				t = new_token(p, AJ_TRUE, p->pos);
				if (t == UINT32_MAX || !scan_literal(p, t, "true"))
					return false;
				break;
			case 'f':
				t = new_token(p, AJ_FALSE, p->pos);
				if (t == UINT32_MAX || !scan_literal(p, t, "false"))
					return false;
				break;
			case 'n':
				t = new_token(p, AJ_NULL, p->pos);
				if (t == UINT32_MAX || !scan_literal(p, t, "null"))
					return false;
				break;
			case '-':
			case '0':
			case '1':
			case '2':
			case '3':
			case '4':
			case '5':
			case '6':
			case '7':
			case '8':
			case '9':
				t = new_token(p, AJ_NUMBER, p->pos);
				if (t == UINT32_MAX || !scan_number(p, t))
					return false;
				break;
			default:
				return fail(p, "Unexpected character", p->pos);
		}

value_done:
		/* a value (scalar, or a container just closed) has ended */
		for (;;)
		{
			AtlasJsonToken *top;
			unsigned char c;

			skip_ws(p);
			if (depth == 0)
			{
				if (p->pos < p->len)
					return fail(p, "Unexpected data after the document", p->pos);
				return true;
			}
			top = &p->tokens[stack[depth - 1]];
			top->count++;
			if (p->pos >= p->len)
				return fail(p, "Unexpected end of data", p->pos);
			c = p->s[p->pos];
			if (c == ',')
			{
				p->pos++;
				skip_ws(p);
				if (top->type == AJ_OBJECT)
					goto member;
				break;			/* the next element */
			}
			if (c != (top->type == AJ_OBJECT ? '}' : ']'))
				return fail(p, "Unexpected character", p->pos);
			/* close the container: it is a finished value of its parent */
			p->pos++;
			top->len = (uint32) (p->pos - top->start);
			top->next = p->ntokens;
			depth--;
		}
		continue;

member:
		/* an object member: "key" : value */
		if (p->pos >= p->len || p->s[p->pos] != '"')
			return fail(p, p->pos >= p->len ? "Unexpected end of data" :
						"Expected a string as object key", p->pos);
		t = new_token(p, AJ_STRING, p->pos);
		if (t == UINT32_MAX || !scan_string(p, t))
			return false;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':')
			return fail(p, "Expected ':' after an object key", p->pos);
		p->pos++;
		skip_ws(p);
	}
}

/*
 * atlas_json_parse
 *		Parse len bytes at text into a document.
 *
 * On success the document owns text (which must be malloc'd) when
 * owns_text is true; the caller keeps it otherwise and must keep it alive
 * as long as the document.  On failure returns NULL with a sentence in
 * errmsg, and text stays the caller's.  Never throws.
 */
AtlasJson *
atlas_json_parse(const char *text, size_t len, bool owns_text,
				 char *errmsg, size_t errmsg_len)
{
	JsonParser	p;
	AtlasJson  *doc;

	if (!string_class_ready)
		init_string_class();
	if (len >= UINT32_MAX)
	{
		snprintf(errmsg, errmsg_len, "The response of %zu bytes is too large to parse.", len);
		return NULL;
	}

	memset(&p, 0, sizeof(p));
	p.s = (const unsigned char *) text;
	p.len = len;
	/* Atlas documents run at about one value per 16 bytes */
	p.cap = (uint32) Min(len / 16 + 64, (size_t) 1 << 20);
	p.tokens = malloc(sizeof(AtlasJsonToken) * p.cap);
	doc = malloc(sizeof(AtlasJson));
	if (p.tokens == NULL || doc == NULL)
	{
		free(p.tokens);
		free(doc);
		snprintf(errmsg, errmsg_len, "Out of memory.");
		return NULL;
	}

	if (!parse(&p))
	{
		free(p.tokens);
		free(doc);
		snprintf(errmsg, errmsg_len, "%s at byte %zu of %zu.",
				 p.error, p.error_pos, len);
		return NULL;
	}

	doc->text = text;
	doc->len = len;
	doc->owns_text = owns_text;
	doc->tokens = p.tokens;
	doc->ntokens = p.ntokens;
	return doc;
}

/*
 * atlas_json_free
 *		Free a document (and its text, if it owns it).  NULL is allowed.
 */
void
atlas_json_free(AtlasJson *doc)
{
	if (doc == NULL)
		return;
	if (doc->owns_text)
		free(unconstify(char *, doc->text));
	free(doc->tokens);
	free(doc);
}

/*
 * atlas_json_member
 *		The value of member "key" (keylen bytes) of object token obj, or 0
 *		if there is none (token 0, the root, is never a member).  Keys with
 *		escapes are compared unescaped.  Should the key be repeated, the
 *		last value counts, as in jsonb.
 */
uint32
atlas_json_member(const AtlasJson *doc, uint32 obj, const char *key,
				  size_t keylen)
{
	const AtlasJsonToken *o = &doc->tokens[obj];
	uint32		k = obj + 1;
	uint32		found = 0;

	if (o->type != AJ_OBJECT)
		return 0;
	for (uint32 i = 0; i < o->count; i++)
	{
		if (atlas_json_key_equals(doc, k, key, keylen))
			found = k + 1;
		k = doc->tokens[k + 1].next;
	}
	return found;
}

/*
 * atlas_json_key_equals
 *		Whether string token k is exactly "key".
 */
bool
atlas_json_key_equals(const AtlasJson *doc, uint32 k, const char *key,
					  size_t keylen)
{
	const AtlasJsonToken *t = &doc->tokens[k];

	if (!(t->flags & AJ_ESCAPED))
		return t->len == keylen &&
			memcmp(doc->text + t->start, key, keylen) == 0;
	else
	{
		char		small[256];
		char	   *buf = small;
		bool		equal;

		/* unescaping never lengthens a string */
		if (keylen > t->len)
			return false;
		if (t->len > sizeof(small) && (buf = malloc(t->len)) == NULL)
			return false;
		equal = atlas_json_unescape(doc, k, buf) == (int) keylen &&
			memcmp(buf, key, keylen) == 0;
		if (buf != small)
			free(buf);
		return equal;
	}
}

/*
 * atlas_json_int64
 *		The value of number token v if it is an integer that fits int64;
 *		false for anything else (a fraction, an exponent, too many digits).
 */
bool
atlas_json_int64(const AtlasJson *doc, uint32 v, int64 *result)
{
	const AtlasJsonToken *t = &doc->tokens[v];
	const char *s = doc->text + t->start;
	const char *end = s + t->len;
	bool		neg = false;
	uint64		r = 0;
	uint64		limit;

	if (t->type != AJ_NUMBER || !(t->flags & AJ_INTEGER))
		return false;
	if (*s == '-')
	{
		neg = true;
		s++;
	}
	limit = neg ? (uint64) PG_INT64_MAX + 1 : (uint64) PG_INT64_MAX;
	for (; s < end; s++)
	{
		uint64		digit = *s - '0';

		if (r > (limit - digit) / 10)
			return false;
		r = r * 10 + digit;
	}
	/* -(r - 1) - 1: no overflow for INT64_MIN */
	*result = (neg && r > 0) ? -(int64) (r - 1) - 1 : (int64) r;
	return true;
}

/* Append code point cp to out as UTF-8; returns bytes written */
static int
put_utf8(char *out, int cp)
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xC0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xE0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

/*
 * atlas_json_unescape
 *		Write the UTF-8 contents of string token k to out, which has room
 *		for the token's len bytes (unescaping never lengthens a string).
 *		Returns the length, or -1 if the string holds \u0000, which no
 *		PostgreSQL string can.  Not NUL-terminated.  The parser has checked
 *		every escape, so nothing else can go wrong here.
 */
int
atlas_json_unescape(const AtlasJson *doc, uint32 k, char *out)
{
	const AtlasJsonToken *t = &doc->tokens[k];
	const unsigned char *s = (const unsigned char *) doc->text + t->start;
	const unsigned char *end = s + t->len;
	char	   *o = out;

	while (s < end)
	{
		if (*s != '\\')
		{
			*o++ = (char) *s++;
			continue;
		}
		switch (s[1])
		{
			case 'b':
				*o++ = '\b';
				break;
			case 'f':
				*o++ = '\f';
				break;
			case 'n':
				*o++ = '\n';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case 't':
				*o++ = '\t';
				break;
			case 'u':
				{
					int			cp = hex4(s + 2);

					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(s + 8) - 0xDC00);
						s += 6;
					}
					if (cp == 0)
						return -1;
					o += put_utf8(o, cp);
					s += 6;
					continue;
				}
			default:			/* " \ / */
				*o++ = (char) s[1];
				break;
		}
		s += 2;
	}
	return (int) (o - out);
}
