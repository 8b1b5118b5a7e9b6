/*-------------------------------------------------------------------------
 *
 * keys.c
 *		  The request keys: one descriptor per key, and the request paths
 *		  they make
 *
 * A request key is a column whose value a WHERE clause gives to the
 * request instead of filtering rows: group_id, org_id and cluster_name
 * fill path segments (group_id and org_id become the query parameters
 * groupId and orgId of a resource whose path has no place for them:
 * rate_limits), as do snapshot_id and database_name (the snapshot whose
 * contents are listed), id and name select the single-object endpoint,
 * and point_in_time, oplog_ts and oplog_inc become query parameters.
 * Everything the extension knows about a key is in its descriptor
 * (key_descs below):
 *	- its column name, which is also how it prints in messages and in the
 *	  placeholders of EXPLAIN ("{cluster_name}");
 *	- where its value goes: a path placeholder ("{cluster}") or a query
 *	  parameter ("pointInTimeUtcSeconds");
 *	- its type, which decides which equality operators may be pushed down
 *	  (deparse.c asks atlas_key_operator_ok), how a value is widened into
 *	  the key's type, which values the key column can hold at all, how a
 *	  value is written into the request and how into a row;
 *	- whether IN lists of it are pushed down;
 *	- the pattern Atlas requires of its values, checked before any request.
 *
 * A key column's value in a row is what the same value read from JSON
 * would give (atlas_key_row_text; response.c converts it like any field):
 * the column type's input function with its typmod, domains checked, so a
 * value the type rejects is an ERROR when a row has it, never a Datum of
 * another type.  A value the column's type would hold as a different
 * value (an integer beyond the range of an integer or smallint column, a
 * point in time finer than a timestamptz(p) column keeps) can equal no
 * value of the column: it gives no request at all, so a scan returns the
 * rows that evaluating its qual locally would (none for that value).
 *
 * The rest of the key handling uses these descriptors and nothing else:
 * which keys a resource accepts and requires is in its AtlasResource
 * (resource.c), which WHERE clauses give a key its values is decided in
 * deparse.c, and how the values of several keys combine into request
 * chains in chains.c.
 *
 * Memory: results are palloc'd in the current memory context; nothing here
 * is malloc'd, so an ERROR leaks nothing.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  keys.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "atlas_snapshot_fdw.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

/* Hexadecimal digits of an Atlas identifier (a MongoDB ObjectId) */
#define OBJECT_ID_HEX_DIGITS	24

/* The Unix epoch in seconds since the PostgreSQL epoch (2000-01-01) */
#define UNIX_EPOCH_OFFSET_SECS \
	((double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/*
 * The type of a key column: which equality operators the planner may push
 * down for it, and how its values are written into a request.
 */
typedef enum KeyType
{
	KEY_TYPE_TEXT,				/* text: texteq under a deterministic
								 * collation; sent as given, URL-escaped */
	KEY_TYPE_TIMESTAMPTZ,		/* timestamptz: sent as whole seconds since
								 * the Unix epoch, rounded down */
	KEY_TYPE_BIGINT				/* any integer type compared with any
								 * integer type: widened to bigint, sent
								 * in decimal */
} KeyType;

/* Everything about one request key */
typedef struct KeyDesc
{
	const char *column;			/* SQL column name; how the key prints */
	const char *placeholder;	/* path template placeholder, or NULL */
	const char *param;			/* query parameter, or NULL */
	const char *alt_param;		/* query parameter of a placeholder key, for
								 * a resource whose template lacks it */
	KeyType		type;			/* operators, widening, text form */
	bool		lists;			/* "= ANY (array)" and IN lists pushed */
	bool		(*valid) (const char *value);	/* the API's pattern, or NULL */
	const char *invalid_detail; /* errdetail when a value fails valid */
} KeyDesc;

static bool is_object_id(const char *s);
static bool is_cluster_name(const char *s);
static bool is_nonempty(const char *s);

#define OBJECT_ID_DETAIL \
	gettext_noop("Atlas identifiers are 24 lowercase hexadecimal digits.")
#define CLUSTER_NAME_DETAIL \
	gettext_noop("Atlas cluster names start with a letter or digit and contain only letters, digits and hyphens.")
#define NONEMPTY_DETAIL \
	gettext_noop("MongoDB database and collection names are not empty.")

/*
 * The descriptors, indexed by AtlasKeyKind.  Query parameters are written
 * in this order; lists of points in time make no sense to the API.
 */
static const KeyDesc key_descs[ATLAS_NUM_KEYS] = {
	[ATLAS_KEY_GROUP] = {
		"group_id", "{group}", NULL, "groupId", KEY_TYPE_TEXT, true,
		is_object_id, OBJECT_ID_DETAIL
	},
	[ATLAS_KEY_CLUSTER] = {
		"cluster_name", "{cluster}", NULL, NULL, KEY_TYPE_TEXT, true,
		is_cluster_name, CLUSTER_NAME_DETAIL
	},
	[ATLAS_KEY_ID] = {
		"id", "{id}", NULL, NULL, KEY_TYPE_TEXT, true,
		is_object_id, OBJECT_ID_DETAIL
	},
	[ATLAS_KEY_POINT_IN_TIME] = {
		"point_in_time", NULL, "pointInTimeUtcSeconds", NULL, KEY_TYPE_TIMESTAMPTZ,
		false, NULL, NULL
	},
	[ATLAS_KEY_OPLOG_TS] = {
		"oplog_ts", NULL, "oplogTs", NULL, KEY_TYPE_BIGINT, false, NULL, NULL
	},
	[ATLAS_KEY_OPLOG_INC] = {
		"oplog_inc", NULL, "oplogInc", NULL, KEY_TYPE_BIGINT, false, NULL, NULL
	},
	[ATLAS_KEY_SNAPSHOT] = {
		"snapshot_id", "{snapshot}", NULL, NULL, KEY_TYPE_TEXT, true,
		is_object_id, OBJECT_ID_DETAIL
	},
	/* the API declares no pattern: any name but "", URL-escaped */
	[ATLAS_KEY_DATABASE] = {
		"database_name", "{database}", NULL, NULL, KEY_TYPE_TEXT, true,
		is_nonempty, NONEMPTY_DETAIL
	},
	[ATLAS_KEY_NAME] = {
		"name", "{name}", NULL, NULL, KEY_TYPE_TEXT, true,
		is_nonempty, NONEMPTY_DETAIL
	},
	[ATLAS_KEY_ORG] = {
		"org_id", "{org}", NULL, "orgId", KEY_TYPE_TEXT, true,
		is_object_id, OBJECT_ID_DETAIL
	},
};

/* The descriptor of a key */
static inline const KeyDesc *
key_desc(AtlasKeyKind kind)
{
	Assert(kind >= 0 && kind < ATLAS_NUM_KEYS);
	return &key_descs[kind];
}

/* Whether c is an ASCII letter or digit (whatever the locale says) */
static inline bool
is_ascii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		(c >= 'A' && c <= 'Z');
}

/* Whether s matches ^[a-f0-9]{24}$ */
static bool
is_object_id(const char *s)
{
	int			n = 0;

	for (; *s; s++, n++)
	{
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	}
	return n == OBJECT_ID_HEX_DIGITS;
}

/* Whether s matches ^[a-zA-Z0-9][a-zA-Z0-9-]*$ */
static bool
is_cluster_name(const char *s)
{
	if (!is_ascii_alnum((unsigned char) *s))
		return false;
	for (; *s; s++)
	{
		if (!is_ascii_alnum((unsigned char) *s) && *s != '-')
			return false;
	}
	return true;
}

/* Whether s is not empty: an empty path segment would change the path */
static bool
is_nonempty(const char *s)
{
	return *s != '\0';
}

/*
 * atlas_is_cluster_name
 *		Whether s can be an Atlas cluster name (^[a-zA-Z0-9][a-zA-Z0-9-]*$).
 */
bool
atlas_is_cluster_name(const char *s)
{
	return is_cluster_name(s);
}

/*
 * atlas_is_event_type
 *		Whether s can be an Atlas event type name: upper-case letters,
 *		digits and underscores, as every member of the spec's enums.
 */
bool
atlas_is_event_type(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
			  *s == '_'))
			return false;
	}
	return true;
}

/*
 * atlas_key_from_column
 *		Whether a column of this name is a request key of the resource, and
 *		which.
 */
bool
atlas_key_from_column(const AtlasResource *res, const char *colname,
					  AtlasKeyKind *kind)
{
	for (int k = 0; k < ATLAS_NUM_KEYS; k++)
	{
		if ((res->keys & ATLAS_KEY_BIT(k)) &&
			strcmp(key_descs[k].column, colname) == 0)
		{
			*kind = (AtlasKeyKind) k;
			return true;
		}
	}
	return false;
}

/*
 * atlas_key_column_name
 *		The column name of a request key, for messages and EXPLAIN.
 */
const char *
atlas_key_column_name(AtlasKeyKind kind)
{
	return key_desc(kind)->column;
}

/*
 * atlas_key_takes_list
 *		Whether "key = ANY (array)" (an IN list) may give a key its values.
 */
bool
atlas_key_takes_list(AtlasKeyKind kind)
{
	return key_desc(kind)->lists;
}

/*
 * atlas_key_operator_ok
 *		Whether opno, applied with collation inputcollid, is the equality
 *		Atlas applies to this key, so that a qual using it may be pushed
 *		down.
 */
bool
atlas_key_operator_ok(AtlasKeyKind kind, Oid opno, Oid inputcollid)
{
	RegProcedure opcode = get_opcode(opno);

	switch (key_desc(kind)->type)
	{
		case KEY_TYPE_TEXT:
			/* texteq, under a collation where equality is bytewise */
			return opcode == F_TEXTEQ &&
				(!OidIsValid(inputcollid) ||
				 get_collation_isdeterministic(inputcollid));
		case KEY_TYPE_TIMESTAMPTZ:
			return opcode == F_TIMESTAMPTZ_EQ;
		case KEY_TYPE_BIGINT:
			/* the column and the value may each be any integer type */
			return opcode == F_INT8EQ || opcode == F_INT4EQ ||
				opcode == F_INT2EQ ||
				opcode == F_INT84EQ || opcode == F_INT48EQ ||
				opcode == F_INT82EQ || opcode == F_INT28EQ ||
				opcode == F_INT42EQ || opcode == F_INT24EQ;
	}
	return false;
}

/*
 * atlas_key_datum
 *		A key value in the key's own type: *result gets it, and the result
 *		says whether the key column can hold it at all.
 *
 * valtype is the type of the value expression: an integer key accepts any
 * integer type, widened here to bigint; the other keys already have their
 * key's type.  coltype and coltypmod are the key column's (a domain's base
 * type and typmod).  False for a value the column's type would hold as a
 * different value, which no row can have (see the head of this file): an
 * integer beyond the range of a smallint or integer column, a point in
 * time that a timestamptz(p) column would round.  Text values are always
 * held (a typmod or domain that rejects one raises an ERROR when a row
 * has it, as for a JSON field).  A by-value result never points into the
 * argument.
 */
bool
atlas_key_datum(AtlasKeyKind kind, Datum value, Oid valtype, Oid coltype,
				int32 coltypmod, Datum *result)
{
	*result = value;
	switch (key_desc(kind)->type)
	{
		case KEY_TYPE_TEXT:
			return true;
		case KEY_TYPE_TIMESTAMPTZ:
			{
				TimestampTz ts = DatumGetTimestampTz(value);

				if (coltypmod < 0 || coltypmod >= MAX_TIMESTAMP_PRECISION ||
					TIMESTAMP_NOT_FINITE(ts))
					return true;
				return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_scale,
															   value,
															   Int32GetDatum(coltypmod))) == ts;
			}
		case KEY_TYPE_BIGINT:
			{
				int64		i;

				switch (valtype)
				{
					case INT2OID:
						i = (int64) DatumGetInt16(value);
						break;
					case INT4OID:
						i = (int64) DatumGetInt32(value);
						break;
					default:
						i = DatumGetInt64(value);
						break;
				}
				*result = Int64GetDatum(i);
				if (coltype == INT2OID)
					return i >= PG_INT16_MIN && i <= PG_INT16_MAX;
				if (coltype == INT4OID)
					return i >= PG_INT32_MIN && i <= PG_INT32_MAX;
				return true;
			}
	}
	return true;
}

/*
 * atlas_key_text
 *		A key value (as made by atlas_key_datum) as it is sent to Atlas,
 *		palloc'd.
 *
 * A text key is sent as it is, once it matches the API's pattern (ERROR if
 * not); a point in time as whole seconds since the Unix epoch, rounded
 * down (ERROR if infinite); an integer in decimal.
 */
char *
atlas_key_text(AtlasKeyKind kind, Datum value)
{
	const KeyDesc *d = key_desc(kind);

	switch (d->type)
	{
		case KEY_TYPE_TEXT:
			{
				char	   *s = TextDatumGetCString(value);

				atlas_validate_key_value(kind, s);
				return s;
			}
		case KEY_TYPE_TIMESTAMPTZ:
			{
				TimestampTz ts = DatumGetTimestampTz(value);

				if (TIMESTAMP_NOT_FINITE(ts))
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("%s must be a finite timestamp",
									d->column)));
				return psprintf("%.0f", floor((double) ts / USECS_PER_SEC) +
								UNIX_EPOCH_OFFSET_SECS);
			}
		case KEY_TYPE_BIGINT:
			return psprintf(INT64_FORMAT, DatumGetInt64(value));
	}
	elog(ERROR, "unexpected key type %d", (int) d->type);
	return NULL;				/* keep compiler quiet */
}

/*
 * atlas_key_row_text
 *		A key value as a row of Atlas would carry it in JSON, for its
 *		column's value (response.c converts it as it converts a field).
 *
 * text is the value as sent (atlas_key_text), value the value in the
 * key's type (atlas_key_datum).  *is_number is set for an integer key,
 * whose decimal text is that of a JSON number; the other keys give the
 * contents of a JSON string: a text key as sent (the same text: it is sent
 * unchanged), a point in time in ISO 8601 in UTC with its microseconds
 * (what was asked for, not the whole seconds sent).  The result is text
 * itself or palloc'd.
 */
const char *
atlas_key_row_text(AtlasKeyKind kind, const char *text, Datum value,
				   bool *is_number)
{
	*is_number = false;
	switch (key_desc(kind)->type)
	{
		case KEY_TYPE_TEXT:
			return text;
		case KEY_TYPE_BIGINT:
			*is_number = true;
			return text;
		case KEY_TYPE_TIMESTAMPTZ:
			{
				TimestampTz ts = DatumGetTimestampTz(value);
				struct pg_tm tm;
				fsec_t		fsec;
				char		buf[MAXDATELEN + 1];

				/* atlas_key_text refused infinite ones before any request */
				if (TIMESTAMP_NOT_FINITE(ts) ||
					timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("timestamp out of range")));
				EncodeDateTime(&tm, fsec, true, 0, NULL, USE_XSD_DATES, buf);
				return pstrdup(buf);
			}
	}
	elog(ERROR, "unexpected key type %d", (int) key_desc(kind)->type);
	return NULL;				/* keep compiler quiet */
}

/*
 * atlas_validate_key_value
 *		Check a key value against the API's pattern before any request.
 *
 * Atlas would answer a malformed value with a 400; rejecting it here gives
 * a message that names the column and the expected form.  Also checks
 * what the inventory returns (enumerate.c) before it goes into a path.
 */
void
atlas_validate_key_value(AtlasKeyKind kind, const char *value)
{
	const KeyDesc *d = key_desc(kind);

	if (d->valid && !d->valid(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for column \"%s\": \"%s\"",
						d->column, value),
				 errdetail("%s", _(d->invalid_detail))));
}

/*
 * atlas_check_key_combination
 *		Reject point-in-time keys that the API refuses together; mask is a
 *		set of ATLAS_KEY_BIT.
 */
void
atlas_check_key_combination(uint32 mask)
{
	const char *pit_col = key_descs[ATLAS_KEY_POINT_IN_TIME].column;
	const char *ts_col = key_descs[ATLAS_KEY_OPLOG_TS].column;
	const char *inc_col = key_descs[ATLAS_KEY_OPLOG_INC].column;
	bool		pit = (mask & ATLAS_KEY_BIT(ATLAS_KEY_POINT_IN_TIME)) != 0;
	bool		ts = (mask & ATLAS_KEY_BIT(ATLAS_KEY_OPLOG_TS)) != 0;
	bool		inc = (mask & ATLAS_KEY_BIT(ATLAS_KEY_OPLOG_INC)) != 0;

	if (ts != inc)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 errmsg("conditions on \"%s\" and \"%s\" must be given together",
						ts_col, inc_col),
				 errhint("Add \"%s = ...\" to the WHERE clause.",
						 ts ? inc_col : ts_col)));
	if (pit && ts)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("conditions on \"%s\" and on \"%s\"/\"%s\" are mutually exclusive",
						pit_col, ts_col, inc_col),
				 errdetail("Atlas selects a snapshot either by a point in time or by an oplog timestamp.")));
}

/*
 * atlas_keys_select_item
 *		Whether a chain with these keys reads the resource's single-object
 *		endpoint (its document is the one row) rather than its list.
 */
bool
atlas_keys_select_item(const AtlasResource *res, const AtlasRequestKeys *keys)
{
	return res->get_path != NULL &&
		(keys->present[ATLAS_KEY_ID] || keys->present[ATLAS_KEY_NAME]);
}

/*
 * append_escaped
 *		Percent-encode everything but RFC 3986 unreserved characters.
 */
static void
append_escaped(StringInfo buf, const char *value)
{
	for (const unsigned char *p = (const unsigned char *) value; *p; p++)
	{
		if (is_ascii_alnum(*p) ||
			*p == '-' || *p == '.' || *p == '_' || *p == '~')
			appendStringInfoChar(buf, (char) *p);
		else
			appendStringInfo(buf, "%%%02X", *p);
	}
}

/*
 * append_key_value
 *		Append a key's value, URL-escaped, or (value NULL) its "{column}"
 *		placeholder.
 */
static void
append_key_value(StringInfo buf, const KeyDesc *d, const char *value)
{
	if (value)
		append_escaped(buf, value);
	else
		appendStringInfo(buf, "{%s}", d->column);
}

/*
 * atlas_append_path
 *		Append ATLAS_API_PREFIX and a path template with its keys filled in.
 *
 * keyvals is indexed by AtlasKeyKind and may be NULL (no values).  With
 * placeholders, a missing value is shown as "{column_name}" (EXPLAIN of
 * parameterized scans, enumeration text); otherwise every key the template
 * names must have a value (elog ERROR if not).
 */
void
atlas_append_path(StringInfo buf, const char *template,
				  char *const *keyvals, bool placeholders)
{
	const char *p = template;

	appendStringInfoString(buf, ATLAS_API_PREFIX);
	while (*p)
	{
		bool		matched = false;

		if (*p == '{')
		{
			for (int k = 0; k < ATLAS_NUM_KEYS; k++)
			{
				const KeyDesc *d = &key_descs[k];
				const char *value = keyvals ? keyvals[k] : NULL;
				size_t		len;

				if (d->placeholder == NULL ||
					strncmp(p, d->placeholder,
							(len = strlen(d->placeholder))) != 0)
					continue;
				if (value == NULL && !placeholders)
					elog(ERROR, "no value for path key \"%s\"", d->column);
				append_key_value(buf, d, value);
				p += len;
				matched = true;
				break;
			}
		}
		if (!matched)
			appendStringInfoChar(buf, *p++);
	}
}

/*
 * atlas_request_path
 *		The path and query string of one request of a chain, palloc'd.
 *
 * With an id or name key the single-object endpoint is used; otherwise
 * the list endpoint with paging (if the resource pages) and the query
 * parameters of the keys present, the filter parameters (filters, or
 * NULL), then the resource's deleted_param when opts (NULL: the defaults)
 * include deleted clusters.  A resource with organization endpoints uses
 * them for a chain with org_id and no group_id.  Key texts that are NULL
 * are shown as {column} placeholders (EXPLAIN of parameterized scans).
 */
char *
atlas_request_path(const AtlasResource *res, const AtlasRequestKeys *keys,
				   int page_num, int items_per_page,
				   const AtlasFilterQuery *filters,
				   const AtlasFdwOptions *opts)
{
	StringInfoData buf;
	char		sep = '?';
	bool		org = atlas_org_endpoint(res, keys) && res->org_list_path;
	const char *list_path = org ? res->org_list_path : res->list_path;

	initStringInfo(&buf);
	if (atlas_keys_select_item(res, keys))
	{
		atlas_append_path(&buf, org ? res->org_get_path : res->get_path,
						  keys->text, true);
		if (res->fixed_query)
			appendStringInfo(&buf, "?%s", res->fixed_query);
		return buf.data;
	}

	atlas_append_path(&buf, list_path, keys->text, true);
	if (res->paging != ATLAS_PAGING_NONE)
	{
		appendStringInfo(&buf, "?pageNum=%d&itemsPerPage=%d",
						 page_num, items_per_page);
		sep = '&';
	}
	for (int k = 0; k < ATLAS_NUM_KEYS; k++)
	{
		const KeyDesc *d = &key_descs[k];
		const char *param = d->param;

		/* a path key of a template without its placeholder: a filter */
		if (param == NULL && d->alt_param != NULL &&
			strstr(list_path, d->placeholder) == NULL)
			param = d->alt_param;
		if (param == NULL || !keys->present[k])
			continue;
		appendStringInfo(&buf, "%c%s=", sep, param);
		append_key_value(&buf, d, keys->text[k]);
		sep = '&';
	}
	if (res->deleted_param && (opts == NULL || opts->include_deleted_clusters))
	{
		appendStringInfo(&buf, "%c%s=true", sep, res->deleted_param);
		sep = '&';
	}
	if (res->fixed_query)
	{
		appendStringInfo(&buf, "%c%s", sep, res->fixed_query);
		sep = '&';
	}
	if (filters)
	{
		const char *q = org ? filters->org : filters->group;

		/* each parameter of q starts with '&' */
		if (q && q[0] != '\0')
			appendStringInfo(&buf, "%c%s", sep, q + 1);
	}
	return buf.data;
}

/*
 * atlas_filter_append
 *		Append "&param=value" to buf, the value URL-escaped, or (value
 *		NULL) "&param={column}" (EXPLAIN of a value known only at
 *		execution).
 */
void
atlas_filter_append(StringInfo buf, const char *param, const char *value,
					const char *column)
{
	appendStringInfo(buf, "&%s=", param);
	if (value)
		append_escaped(buf, value);
	else
		appendStringInfo(buf, "{%s}", column);
}
