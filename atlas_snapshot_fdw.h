/*-------------------------------------------------------------------------
 *
 * atlas_snapshot_fdw.h
 *		  Foreign-data wrapper for MongoDB Atlas backup snapshots
 *
 * Shared structures and prototypes of the extension.  Each group of
 * prototypes names the file that defines it.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  atlas_snapshot_fdw.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ATLAS_SNAPSHOT_FDW_H
#define ATLAS_SNAPSHOT_FDW_H

#include <curl/curl.h>

#include "atlas_compat.h"
#include "datatype/timestamp.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "nodes/pathnodes.h"
#include "utils/relcache.h"

#define ATLAS_FDW_VERSION		"1.3"
#define ATLAS_USER_AGENT		"atlas_snapshot_fdw/" ATLAS_FDW_VERSION
#define ATLAS_API_PREFIX		"/api/atlas/v2"
#define ATLAS_DEFAULT_BASE_URL	"https://cloud.mongodb.com"
#define ATLAS_TOKEN_PATH		"/api/oauth/token"

/* option names */
#define OPTION_BASE_URL				"base_url"
#define OPTION_PUBLIC_KEY			"public_key"
#define OPTION_PRIVATE_KEY			"private_key"
#define OPTION_RESOURCE				"resource"
#define OPTION_ITEMS_PER_PAGE		"items_per_page"
#define OPTION_CONNECT_TIMEOUT_MS	"connect_timeout_ms"
#define OPTION_TIMEOUT_MS			"timeout_ms"
#define OPTION_MAX_PAGE_BYTES		"max_page_bytes"
#define OPTION_FIELD				"field"
#define OPTION_CLIENT_ID			"client_id"
#define OPTION_CLIENT_SECRET		"client_secret"
#define OPTION_MAX_RETRIES			"max_retries"
#define OPTION_MAX_RETRY_WAIT_MS	"max_retry_wait_ms"
#define OPTION_CA_FILE				"ca_file"
#define OPTION_MAX_CONCURRENCY		"max_concurrency"
#define OPTION_MAX_SCAN_MEMORY		"max_scan_memory"
#define OPTION_MAX_REQUEST_CHAINS	"max_request_chains"
#define OPTION_PROXY				"proxy"
#define OPTION_ENUMERATE			"enumerate"
#define OPTION_INCLUDE_DELETED_CLUSTERS "include_deleted_clusters"
#define OPTION_ASYNC_CAPABLE		"async_capable"

/* option defaults and limits */
#define ATLAS_MAX_ITEMS_PER_PAGE	500 /* the API's own maximum */
#define ATLAS_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define ATLAS_DEFAULT_TIMEOUT_MS	60000
#define ATLAS_DEFAULT_MAX_PAGE_BYTES (4 * 1024 * 1024)
#define ATLAS_MIN_MAX_PAGE_BYTES	1024
#define ATLAS_DEFAULT_MAX_SCAN_MEMORY (256 * 1024 * 1024)
#define ATLAS_MIN_MAX_SCAN_MEMORY	(1024 * 1024)
#define ATLAS_DEFAULT_MAX_RETRIES	3
#define ATLAS_MAX_MAX_RETRIES		10
#define ATLAS_DEFAULT_MAX_RETRY_WAIT_MS 30000
#define ATLAS_DEFAULT_MAX_CONCURRENCY 32
#define ATLAS_DEFAULT_MAX_REQUEST_CHAINS 50000

/*
 * Values that a WHERE clause (or the request itself) supplies to a request.
 * Columns whose name matches one of these take their value from the request
 * rather than from the JSON document.  Each key's descriptor (column, path
 * placeholder or query parameter, type, pattern) is in keys.c.
 */
typedef enum AtlasKeyKind
{
	ATLAS_KEY_GROUP,			/* group_id: {group} path segment */
	ATLAS_KEY_CLUSTER,			/* cluster_name: {cluster} path segment */
	ATLAS_KEY_ID,				/* id: {id}, the single-object GET */
	ATLAS_KEY_POINT_IN_TIME,	/* point_in_time: pointInTimeUtcSeconds */
	ATLAS_KEY_OPLOG_TS,			/* oplog_ts: oplogTs */
	ATLAS_KEY_OPLOG_INC,		/* oplog_inc: oplogInc */
	ATLAS_KEY_SNAPSHOT,			/* snapshot_id: {snapshot} path segment */
	ATLAS_KEY_DATABASE,			/* database_name: {database} path segment */
	ATLAS_KEY_NAME,				/* name: {name}, the single-object GET of
								 * items known by name (a snapshot's
								 * databases and collections) */
	ATLAS_KEY_ORG,				/* org_id: {org} path segment */
	ATLAS_NUM_KEYS
} AtlasKeyKind;

#define ATLAS_KEY_BIT(k)	(1U << (k))

/* The keys that select one item: the resource's single-object endpoint */
#define ATLAS_ITEM_KEYS \
	(ATLAS_KEY_BIT(ATLAS_KEY_ID) | ATLAS_KEY_BIT(ATLAS_KEY_NAME))

/*
 * A column that IMPORT FOREIGN SCHEMA creates for a resource, and the JSON
 * field it reads.  The same table drives the default column-to-field
 * mapping, so irregular JSON names (masterKeyUUID) need no guessing.
 */
typedef struct AtlasField
{
	const char *column;			/* SQL column name */
	const char *json;			/* JSON field name, NULL for request keys */
	const char *type;			/* SQL type name for IMPORT FOREIGN SCHEMA */
	bool		not_null;		/* declare NOT NULL on import */
} AtlasField;

/*
 * How a list endpoint pages.  The sharded-cluster list returns a paginated
 * envelope but declares no paging parameters: we send them and stop if the
 * server answers the same page twice.
 */
typedef enum AtlasPaging
{
	ATLAS_PAGING_NONE,			/* one request returns everything */
	ATLAS_PAGING_DECLARED,		/* pageNum/itemsPerPage are part of the API */
	ATLAS_PAGING_UNDECLARED		/* sent, but a repeated page ends the list */
} AtlasPaging;

/*
 * What Atlas announced for the endpoints of a resource (its list and
 * single-object GETs at its API version): dates as "YYYY-MM-DD", NULL if
 * none was announced.  atlas_snapshot_fdw_endpoints() shows them.
 */
typedef struct AtlasCalendar
{
	const char *deprecated;		/* deprecation date; "" when the spec marks
								 * it deprecated without a date */
	const char *sunset;			/* the spec's x-sunset of the version */
	const char *removed;		/* the date by which the spec dropped it */
} AtlasCalendar;

/*
 * A column whose WHERE clauses narrow a list by query parameters:
 * the rows still pass the clause locally, so what is sent only needs to
 * select a superset of them.
 */
typedef enum AtlasFilterKind
{
	ATLAS_FILTER_TEXT,			/* "= value", "= ANY (array)": param
								 * repeated once per value */
	ATLAS_FILTER_TIME			/* "< <= > >=" a timestamptz: param holds
								 * the lower bound, max_param the upper */
} AtlasFilterKind;

typedef struct AtlasFilter
{
	const char *column;			/* SQL column name */
	AtlasFilterKind kind;
	const char *param;			/* query parameter (lower bound for TIME) */
	const char *max_param;		/* TIME: upper bound parameter */
	bool		group_only;		/* only the group endpoint takes it */
	bool		(*valid) (const char *value);	/* TEXT: values no row can
												 * hold are not sent, or
												 * NULL */
} AtlasFilter;

/*
 * One Atlas list endpoint exposed as a foreign table.  Paths are templates
 * below ATLAS_API_PREFIX in which {group}, {cluster} and {id} are replaced
 * by URL-escaped key values.
 */
typedef struct AtlasResource
{
	const char *name;			/* value of the resource option */
	const char *list_path;		/* list endpoint template */
	const char *get_path;		/* single-object endpoint, or NULL */
	const char *api_version;	/* Accept: application/vnd.atlas.X+json */
	AtlasPaging paging;			/* how the list endpoint pages */
	uint32		keys;			/* ATLAS_KEY_BIT mask of accepted keys */
	uint32		required_keys;	/* keys the list endpoint cannot do without */
	const char *replacement;	/* for retired resources: the successor */
	const AtlasField *fields;	/* column table, NULL-terminated */
	/* added in 1.2; zero for the list endpoints above */
	const char *rows_path;		/* NULL: the list's "results"; "": the
								 * document is the row; "a.b": each element
								 * of array b in each element of array a */
	const char *row_marker;		/* with rows_path "": a document without
								 * this member is no row, or NULL */
	const char *absent_codes;	/* space-separated errorCodes of a 404 that
								 * means "nothing there": zero rows */
	const char *role;			/* Atlas role the endpoint needs, NULL for
								 * Project Read Only */
	const char *const *credentials; /* columns holding download links, which
									 * grant access to data: never imported,
									 * read only when declared; or NULL */
	const char *id_absent_codes;	/* space-separated errorCodes of a 404 by
									 * id that mean "no such item": zero rows */
	/* zero where they do not apply */
	const char *deleted_param;	/* boolean query parameter that adds the
								 * deleted clusters holding backups to the
								 * list (include_deleted_clusters), or NULL */
	AtlasCalendar calendar;		/* what Atlas announced for its endpoints */
	const char *org_list_path;	/* with org_id and no group_id: the list */
	const char *org_get_path;	/* and the single-object endpoint */
	const char *org_role;		/* role the org endpoints need */
	uint32		any_keys;		/* at least one of these keys is required */
	const AtlasFilter *filters; /* filter columns, NULL-terminated, or NULL */
	const char *fixed_query;	/* parameters sent with every request, or
								 * NULL */
} AtlasResource;

/*
 * A WHERE clause on a filter column (deparse.c): the clause itself stays
 * in the local conditions.
 */
typedef enum AtlasFilterOp
{
	ATLAS_FILTER_EQ,
	ATLAS_FILTER_ANY,			/* = ANY (array) */
	ATLAS_FILTER_LT,
	ATLAS_FILTER_LE,
	ATLAS_FILTER_GT,
	ATLAS_FILTER_GE
} AtlasFilterOp;

typedef struct AtlasFilterQual
{
	int			filter;			/* index in the resource's filters */
	AtlasFilterOp op;
	Expr	   *expr;			/* value side, evaluated at execution */
} AtlasFilterQual;

/* One evaluated filter value (or, for EXPLAIN, one not known yet) */
typedef struct AtlasFilterValue
{
	int			filter;
	AtlasFilterOp op;
	bool		known;			/* false: shown as a placeholder */
	bool		isnull;
	Datum		value;
	Oid			valtype;		/* the array type for ATLAS_FILTER_ANY */
} AtlasFilterValue;

/* The filter parameters of a scan, for either endpoint */
typedef struct AtlasFilterQuery
{
	char	   *group;			/* "&a=b&c=d" for the group endpoint, or "" */
	char	   *org;			/* the same for the org endpoint */
	bool		none;			/* no row can pass: make no request */
} AtlasFilterQuery;

/* Most values a repeated filter parameter carries; more are not sent */
#define ATLAS_MAX_FILTER_VALUES	100

/* Options resolved for one scan; lives in the planner's or executor's memory */
typedef struct AtlasFdwOptions
{
	char	   *base_url;		/* server: scheme://host[:port], no slash */
	int			connect_timeout_ms; /* server */
	int			timeout_ms;		/* server */
	int			max_page_bytes; /* server */
	int			items_per_page; /* server, overridden by table */
	int			max_retries;	/* server */
	int			max_retry_wait_ms;	/* server */
	char	   *ca_file;		/* server: extra CA bundle, or NULL */
	int			max_concurrency;	/* server: transfers in flight per scan */
	int			max_scan_memory;	/* server: bytes a scan holds for pages */
	int			max_request_chains; /* server, overridden by table */
	char	   *proxy;			/* server: proxy URL, or NULL for none */
	bool		enumerate;		/* server, overridden by table: find missing
								 * group and cluster keys (enumerate.c) */
	bool		include_deleted_clusters;	/* server, overridden by table:
											 * cluster lists include deleted
											 * clusters holding backups */
	bool		async_capable;	/* server, overridden by table: scanned
								 * concurrently with the other subplans of an
								 * Append (asynchronous execution) */
	char	   *public_key;		/* user mapping; never printed */
	char	   *private_key;	/* user mapping; secret, never printed */
	char	   *client_id;		/* user mapping; never printed */
	char	   *client_secret;	/* user mapping; secret, never printed */
	char	   *resource;		/* table; NULL means the table's name */
} AtlasFdwOptions;

/*
 * A key qual pushed into the request: "column = expr" (is_array false) or
 * "column = ANY (array expr)" / "column IN (...)" (is_array true).
 */
typedef struct AtlasKeyQual
{
	AtlasKeyKind kind;
	Expr	   *expr;			/* value side, evaluated at execution */
	bool		is_array;
	Oid			coltype;		/* the key column's type (a domain's base) */
	int32		coltypmod;		/* and its typmod (a domain's, for one) */
} AtlasKeyQual;

/*
 * The key values of one request chain (one list, paged, or one GET).
 * datum is the value in the key's own type (text, bigint widened from any
 * integer type, timestamptz), text the value as sent to Atlas; a row's key
 * column is made from them as from a JSON field (atlas_key_row_text,
 * response.c).
 */
typedef struct AtlasRequestKeys
{
	bool		present[ATLAS_NUM_KEYS];
	Datum		datum[ATLAS_NUM_KEYS];
	char	   *text[ATLAS_NUM_KEYS];
} AtlasRequestKeys;

/* How a user mapping authenticates */
typedef enum AtlasAuthKind
{
	ATLAS_AUTH_DIGEST,			/* API key: HTTP Digest */
	ATLAS_AUTH_OAUTH			/* service account: OAuth 2.0 bearer token */
} AtlasAuthKind;

/* What the FDW has done for one user mapping in this backend */
typedef struct AtlasStats
{
	int64		requests;		/* HTTP exchanges, retries and tokens included */
	int64		pages;			/* pages parsed */
	int64		bytes;			/* response bytes received */
	int64		retries;		/* requests repeated: after a transient failure,
								 * or with a renewed OAuth token */
	int64		tokens;			/* OAuth tokens obtained */
	int64		errors;			/* scans that ended in an ERROR, cancels not
								 * counted */
	char		last_error[256];	/* message of the last error, or "" */
	TimestampTz last_error_at;	/* when it happened, 0 if never */
	int64		rate_limited;	/* answers 429 or 503 */
	int64		concurrency_cuts;	/* times a scan halved its concurrency */
	int64		rate_limit_wait_us; /* time scans waited after a rate limit
									 * with nothing in flight */
	int			peak_in_flight; /* most transfers one scan had in flight */
} AtlasStats;

/* Most header bytes one response may have; more is a transfer error */
#define ATLAS_MAX_HEADER_BYTES	(64 * 1024)

/* Most bytes of server text (Atlas's detail, errorCode) put in a message */
#define ATLAS_MAX_SERVER_TEXT	1024

#define ATLAS_MAX_CONCURRENCY	64

/*
 * The connection of one user mapping, and one transfer handle of it: both
 * private to connection.c (see connection_int.h).  The rest of the code
 * acquires a handle, starts a transfer on it, and is told its outcome.
 */
typedef struct AtlasConnEntry AtlasConnEntry;
typedef struct AtlasSlot AtlasSlot;

/*
 * What a finished transfer left, handed to its owner's completion
 * function.  The response body stays in the slot (atlas_slot_take_body).
 */
typedef struct AtlasOutcome
{
	bool		detached;		/* taken off unfinished by a (sub)transaction
								 * abort: nothing below is set */
	CURLcode	rc;				/* transfer outcome */
	long		status;			/* HTTP status, 0 if no answer */
	size_t		body_len;		/* bytes of the response body */
	bool		body_too_large; /* write callback stopped: over max_page_bytes */
	bool		body_oom;		/* write callback stopped: out of memory */
	long		retry_after_ms; /* Retry-After, or -1 */
	long		rl_limit;		/* RateLimit-Limit, or -1 */
	long		rl_remaining;	/* RateLimit-Remaining, or -1 */
	const char *errbuf;			/* why the transfer failed ("" if unknown) */
} AtlasOutcome;

/*
 * An owner's completion function.  It runs in whichever scan waits when
 * the transfer ends (or in a transaction abort), so it records state only:
 * it must not throw, and must release the slot or start it again.
 */
typedef void (*AtlasTransferDone) (void *owner, AtlasSlot *slot,
								   const AtlasOutcome *outcome);

/* What atlas_connection_stats() returns: counters, no pointer, no secret */
typedef struct AtlasConnStats
{
	Oid			umid;			/* user mapping */
	Oid			serverid;		/* its server */
	AtlasAuthKind auth;			/* how requests authenticate */
	AtlasStats	stats;
} AtlasConnStats;

/* in option.c */
extern void _PG_init(void);
extern void atlas_get_options(ForeignTable *table, ForeignServer *server,
							  UserMapping *user, AtlasFdwOptions *opts);
extern const char *atlas_column_field(Oid relid, AttrNumber attnum);

/* in resource.c */
extern const AtlasResource *atlas_find_resource(const char *name);
extern const AtlasResource *atlas_resource_for_table(Relation rel,
													 const char *option);
extern const AtlasResource *atlas_all_resources(int *count);
extern char *atlas_valid_resource_names(void);
extern const char *atlas_default_json_field(const AtlasResource *res,
											const char *colname);
extern bool atlas_code_listed(const char *codes, const char *code);
extern bool atlas_is_credential_column(const AtlasResource *res,
									   const char *column);
extern bool atlas_is_credential_field(const AtlasResource *res,
									  const char *json);
extern bool atlas_keys_complete(const AtlasResource *res, uint32 mask);
extern bool atlas_org_endpoint(const AtlasResource *res,
							   const AtlasRequestKeys *keys);

/* in calendar.c */

/* Room for a Deprecation or Sunset header's value (longer ones are cut) */
#define ATLAS_CALENDAR_HEADER_LEN	128

extern void atlas_calendar_note(const char *url, const char *deprecation,
								const char *sunset);

/* in keys.c */
extern bool atlas_key_from_column(const AtlasResource *res, const char *colname,
								  AtlasKeyKind *kind);
extern const char *atlas_key_column_name(AtlasKeyKind kind);
extern bool atlas_key_takes_list(AtlasKeyKind kind);
extern bool atlas_key_operator_ok(AtlasKeyKind kind, Oid opno,
								  Oid inputcollid);
extern bool atlas_key_datum(AtlasKeyKind kind, Datum value, Oid valtype,
							Oid coltype, int32 coltypmod, Datum *result);
extern char *atlas_key_text(AtlasKeyKind kind, Datum value);
extern const char *atlas_key_row_text(AtlasKeyKind kind, const char *text,
									  Datum value, bool *is_number);
extern void atlas_validate_key_value(AtlasKeyKind kind, const char *value);
extern void atlas_check_key_combination(uint32 mask);
extern bool atlas_keys_select_item(const AtlasResource *res,
								   const AtlasRequestKeys *keys);
extern void atlas_append_path(StringInfo buf, const char *template,
							  char *const *keyvals, bool placeholders);
extern char *atlas_request_path(const AtlasResource *res,
								const AtlasRequestKeys *keys,
								int page_num, int items_per_page,
								const AtlasFilterQuery *filters,
								const AtlasFdwOptions *opts);
extern bool atlas_is_event_type(const char *s);
extern void atlas_filter_append(StringInfo buf, const char *param,
								const char *value, const char *column);
extern bool atlas_is_cluster_name(const char *s);

/* in deparse.c */
extern void atlas_classify_conditions(PlannerInfo *root, RelOptInfo *baserel,
									  const AtlasResource *res, List *conds,
									  List **key_quals, List **local_conds);
extern List *atlas_filter_quals(PlannerInfo *root, RelOptInfo *baserel,
								const AtlasResource *res, List *local_conds);
extern void atlas_filter_query(const AtlasResource *res,
							   const AtlasFilterValue *vals, int nvals,
							   AtlasFilterQuery *query);
extern uint32 atlas_key_mask(List *key_quals);
extern char *atlas_deparse_request(const AtlasResource *res, List *key_quals,
								   List *filter_quals, int items_per_page,
								   const AtlasFdwOptions *opts);

/* in chains.c */
typedef struct AtlasChainSet AtlasChainSet;

/* What a scan's request chains are made of, for atlas_too_many_chains */
typedef enum AtlasChainLevel
{
	ATLAS_CHAINS_KEYS,			/* combinations of the key values given */
	ATLAS_CHAINS_PROJECTS,		/* enumeration: projects' cluster lists */
	ATLAS_CHAINS_CLUSTERS		/* enumeration: clusters found */
} AtlasChainLevel;

extern void atlas_too_many_chains(Relation rel, AtlasChainLevel level,
								  int64 count, int max_chains);

extern AtlasChainSet *atlas_chain_set_create(void);
extern void atlas_chain_set_add(AtlasChainSet *set, AtlasKeyKind kind,
								bool is_array, Oid valtype, Oid coltype,
								int32 coltypmod, Datum value, bool isnull);
extern int64 atlas_chain_set_count(AtlasChainSet *set, Relation rel,
								   int max_chains);
extern bool atlas_chain_set_next(void *arg, AtlasRequestKeys *keys);
extern bool atlas_chain_set_constrained(AtlasChainSet *set, AtlasKeyKind kind);
extern bool atlas_chain_set_empty(AtlasChainSet *set);
extern int	atlas_chain_set_values(AtlasChainSet *set, AtlasKeyKind kind,
								   char ***texts, Datum **datums);
extern bool atlas_chain_set_allows(AtlasChainSet *set, AtlasKeyKind kind,
								   const char *text);
extern void atlas_chain_set_use_pairs(AtlasChainSet *set, int n,
									  char **groups, Datum *group_datums,
									  char **clusters, Datum *cluster_datums);

/* in enumerate.c */
struct AtlasFetcher;			/* fetch.c */
extern bool atlas_can_enumerate(const AtlasResource *res);
extern char *atlas_enumeration_text(const AtlasResource *res, uint32 mask,
									const AtlasFdwOptions *opts);
typedef struct AtlasEnumeration AtlasEnumeration;

extern AtlasEnumeration *atlas_enumeration_start(AtlasChainSet *set,
												 AtlasConnEntry *conn,
												 const AtlasFdwOptions *opts,
												 const AtlasResource *res,
												 struct AtlasFetcher *scan_fetcher);
extern void atlas_enumeration_finish(AtlasEnumeration *en, Relation rel);

/* in url.c */
extern bool atlas_is_loopback_host(const char *host);
extern bool atlas_check_base_url(const char *url);
extern void atlas_check_proxy_url(const char *url);

/* in connection.c */
extern AtlasConnEntry *atlas_get_connection(UserMapping *user,
											const AtlasFdwOptions *opts);
extern AtlasSlot *atlas_acquire_slot(AtlasConnEntry *entry, int limit);
extern void atlas_start_get(AtlasSlot *slot, const char *path,
							const char *api_version,
							const AtlasFdwOptions *opts,
							AtlasTransferDone done, void *owner);
extern void atlas_release_slot(AtlasSlot *slot);
extern char *atlas_slot_take_body(AtlasSlot *slot, size_t *len, size_t *cap);
extern const char *atlas_conn_base_url(AtlasConnEntry *entry);
extern AtlasAuthKind atlas_conn_auth(AtlasConnEntry *entry);
extern uint64 atlas_conn_token_gen(AtlasConnEntry *entry);
extern AtlasStats *atlas_conn_stats(AtlasConnEntry *entry);
extern bool atlas_retry_decide(AtlasConnEntry *entry,
							   const AtlasOutcome *outcome, int *retries,
							   int max_retries, int max_wait_ms,
							   TimestampTz *not_before, long *delay_ms);
extern void atlas_note_error(AtlasConnEntry *entry, const char *message);
extern List *atlas_connection_stats(void);
extern void atlas_connection_flush_stats(void);
extern void atlas_connection_reset_stats(bool shared);

/* in stats.c */
extern void atlas_stats_attach(void);
extern void atlas_stats_flush(Oid umid, Oid serverid, int auth,
							  const AtlasStats *cur, AtlasStats *flushed);

/* in loop.c */
extern void atlas_loop_wait(long timeout_ms);
extern void atlas_loop_set_wait_event(uint32 wait_event);
extern bool atlas_loop_async_supported(void);
extern int	atlas_loop_async_open(void);
extern void atlas_loop_async_close(int fd);
extern void atlas_loop_async_arm(long wake_ms, bool waits);
/* in budget.c: the instance's shared rate-limit budgets */
#define ATLAS_BUDGET_KEY_LEN	32
extern bool atlas_budget_enabled(void);
extern void atlas_budget_key(uint8 *digest, const char *base_url,
							 const char *identity, const char *template,
							 const char *group);
extern bool atlas_budget_take(const uint8 *key, uint64 *seq,
							  TimestampTz *wake);
extern void atlas_budget_answer(const uint8 *key, uint64 seq, long status,
								long remaining, long limit,
								long retry_after_ms, long max_pause_ms);

/* in pace.c */

/* Adaptive concurrency of one scan (see pace.c); no pointers, no cleanup */
typedef struct AtlasPace
{
	int			max;			/* max_concurrency */
	int			limit;			/* transfers that may be in flight, 1..max */
	int			clean;			/* clean answers since the limit changed */
	uint64		started;		/* transfers started: sequence numbers */
	uint64		cut_seq;		/* started at the last cut: answers to these
								 * do not cut again */
	bool		have_remaining; /* the newest answer had RateLimit-Remaining */
	int64		remaining;		/* its value (capped by RateLimit-Limit) */
	uint64		remaining_seq;	/* sequence number of that answer's request */
	int64		rate_limited;	/* answers 429 or 503 */
	int64		cuts;			/* times the limit was halved */
	int			peak;			/* most transfers in flight */
	int64		in_flight_sum;	/* sum of in flight at each start (mean) */
	int64		wait_us;		/* waited after a rate limit, nothing in
								 * flight */
} AtlasPace;

extern void atlas_pace_init(AtlasPace *p, int max_concurrency);
extern bool atlas_pace_may_start(const AtlasPace *p, int running);
extern uint64 atlas_pace_started(AtlasPace *p, int running);
extern bool atlas_pace_answer(AtlasPace *p, uint64 seq, long status,
							  long remaining, long limit);

/* in fetch.c */
typedef struct AtlasFetcher AtlasFetcher;

/* What a finished request left: a parsed page, or why there is none */
typedef struct AtlasFetchResult
{
	CURLcode	rc;				/* transfer outcome */
	long		status;			/* HTTP status, 0 if no answer */
	int			retries;		/* attempts repeated */
	struct json_object *doc;	/* parsed 200 body; adopt to take it */
	char	   *parse_error;	/* why a 200 body did not parse, or NULL */
	bool		over_budget;	/* parse_error: the memory budget */
	char	   *body;			/* non-200 body (NUL-terminated), or NULL */
	size_t		body_len;
	bool		body_too_large; /* transfer stopped at max_page_bytes */
	bool		body_oom;		/* transfer stopped: out of memory */
	char		errbuf[CURL_ERROR_SIZE];	/* libcurl's message */
} AtlasFetchResult;

extern AtlasFetcher *atlas_fetcher_create(AtlasConnEntry *entry,
										  const AtlasFdwOptions *opts,
										  const AtlasResource *res,
										  int page_size, bool prefetch,
										  MemoryContext cxt);
/* Fills keys with the next request chain; false when there is none */
typedef bool (*AtlasChainSource) (void *arg, AtlasRequestKeys *keys);

extern void atlas_fetcher_start(AtlasFetcher *f, AtlasChainSource source,
								void *arg);

/* What a page is read for: the rules differ in one point (see fetch.c) */
typedef enum AtlasReadFor
{
	ATLAS_READ_TABLE,			/* the rows of the table's own resource */
	ATLAS_READ_INVENTORY		/* enumeration's inventory lists (enumerate.c) */
} AtlasReadFor;

/* A page handed to its reader by atlas_fetcher_read_page */
typedef struct AtlasPageRead
{
	struct AtlasPage *page;		/* its rows, in the reader's page context, or
								 * NULL: nothing to read (a 404 that means
								 * "nothing there", a repeated page that ends
								 * its list) */
	AtlasRequestKeys keys;		/* its chain's key values */
	int			page_num;		/* its page number, from 1 */
	bool		chain_ended;	/* it was its chain's last page */
} AtlasPageRead;

extern bool atlas_fetcher_read_page(AtlasFetcher *f, MemoryContext page_cxt,
									AtlasReadFor purpose, AtlasPageRead *rd);
extern void atlas_fetcher_error_context(void *arg);
extern int64 atlas_fetcher_requests(AtlasFetcher *f);
extern int64 atlas_fetcher_pages(AtlasFetcher *f);
extern void atlas_fetcher_pump(AtlasFetcher *f);
extern bool atlas_fetcher_poll(AtlasFetcher *f, long *wake_ms);
extern void atlas_fetcher_arm(AtlasFetcher *f);
extern const AtlasPace *atlas_fetcher_pace(AtlasFetcher *f);
extern void atlas_fetcher_continue(AtlasFetcher *to, const AtlasFetcher *from);
extern void atlas_fetcher_set_filters(AtlasFetcher *f,
									  const AtlasFilterQuery *filters);

/* in oauth.c */
extern bool atlas_oauth_ready(AtlasConnEntry *entry,
							  const AtlasFdwOptions *opts,
							  TimestampTz *wake_at);
extern void atlas_oauth_renew(AtlasConnEntry *entry, uint64 rejected_gen);
extern bool atlas_oauth_token_valid(AtlasConnEntry *entry);
extern bool atlas_oauth_waiting(AtlasConnEntry *entry);
extern bool atlas_oauth_token_copied(AtlasConnEntry *entry, uint64 gen);

/* in report.c */
extern void atlas_report_curl_error(const char *base_url, CURLcode rc,
									const char *errbuf, bool too_large,
									bool oom, const AtlasFdwOptions *opts,
									int retries);
extern void atlas_report_page_error(const AtlasFetchResult *result,
									const char *base_url,
									const AtlasFdwOptions *opts,
									const AtlasResource *res,
									bool org_endpoint);
extern void atlas_report_retired(const AtlasResource *res, const char *detail);
extern void atlas_parse_error_body(const char *body, char **code,
								   char **detail);
extern const char *atlas_retry_note(int retries);
extern char *atlas_server_text(const char *text, int max_bytes);

/* in jsonparse.c */
struct json_object;
struct json_tokener;

/* Nesting limit: Atlas documents are a handful of levels deep */
#define ATLAS_JSON_MAX_DEPTH	64

/* Budget for parsing a token answer or an error document */
#define ATLAS_SMALL_DOC_BUDGET	(16 * 1024 * 1024)

/* Room for the reason a document did not parse (atlas_json_parse) */
#define ATLAS_JSON_ERRMSG_LEN	256

extern struct json_object *atlas_json_parse(struct json_tokener *tok,
											const char *text, size_t len,
											size_t budget, bool interruptible,
											char *errmsg, size_t errmsg_len,
											bool *over_budget,
											size_t *tree_bytes);
extern size_t atlas_json_in_use(void);
extern void atlas_json_check_numbers(struct json_object *v);

/* in response.c */
typedef struct AtlasColumnMap AtlasColumnMap;
typedef struct AtlasPage AtlasPage;

extern AtlasColumnMap *atlas_build_column_map(Relation rel,
											  const AtlasResource *res,
											  List *used_attrs);
extern char *atlas_json_utf8(struct json_object *v, int *len);
extern AtlasPage *atlas_page_adopt(struct json_object **doc, bool single,
								   MemoryContext page_cxt);
extern void atlas_page_select_rows(AtlasPage *page, const char *rows_path,
								   const char *row_marker,
								   MemoryContext page_cxt);
extern int	atlas_page_nrows(AtlasPage *page);
extern int64 atlas_page_total(AtlasPage *page);
extern struct json_object *atlas_page_row_object(AtlasPage *page, int rowno);
extern uint64 atlas_page_digest(AtlasPage *page);
extern Datum atlas_text_datum(const char *s, int len);
extern void atlas_fill_row(AtlasColumnMap *map, AtlasPage *page, int rowno,
						   const AtlasRequestKeys *keys,
						   Datum *values, bool *isnull);

#endif							/* ATLAS_SNAPSHOT_FDW_H */
