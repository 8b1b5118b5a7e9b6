/*-------------------------------------------------------------------------
 *
 * option.c
 *		  Option validation and extraction for atlas_snapshot_fdw
 *
 * A static table says which option is valid on which catalog object; the
 * validator checks names, values, where secrets may live and which options
 * only superusers may set.  atlas_get_options() merges the options of a
 * server, user mapping and foreign table into an AtlasFdwOptions.  The
 * module's _PG_init lives here too.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  option.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "access/reloptions.h"
#include "atlas_snapshot_fdw.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

/*
 * Describes a valid option: its name and the catalog of the objects that
 * may carry it.
 */
typedef struct AtlasFdwOption
{
	const char *keyword;
	Oid			optcontext;		/* OID of catalog in which option may appear */
} AtlasFdwOption;

static const AtlasFdwOption valid_options[] = {
	{OPTION_BASE_URL, ForeignServerRelationId},
	{OPTION_CONNECT_TIMEOUT_MS, ForeignServerRelationId},
	{OPTION_TIMEOUT_MS, ForeignServerRelationId},
	{OPTION_MAX_PAGE_BYTES, ForeignServerRelationId},
	{OPTION_ITEMS_PER_PAGE, ForeignServerRelationId},
	{OPTION_MAX_RETRIES, ForeignServerRelationId},
	{OPTION_MAX_RETRY_WAIT_MS, ForeignServerRelationId},
	{OPTION_CA_FILE, ForeignServerRelationId},
	{OPTION_MAX_CONCURRENCY, ForeignServerRelationId},
	{OPTION_MAX_SCAN_MEMORY, ForeignServerRelationId},
	{OPTION_MAX_REQUEST_CHAINS, ForeignServerRelationId},
	{OPTION_PROXY, ForeignServerRelationId},
	{OPTION_ENUMERATE, ForeignServerRelationId},
	{OPTION_PUBLIC_KEY, UserMappingRelationId},
	{OPTION_PRIVATE_KEY, UserMappingRelationId},
	{OPTION_CLIENT_ID, UserMappingRelationId},
	{OPTION_CLIENT_SECRET, UserMappingRelationId},
	{OPTION_RESOURCE, ForeignTableRelationId},
	{OPTION_ITEMS_PER_PAGE, ForeignTableRelationId},
	{OPTION_MAX_REQUEST_CHAINS, ForeignTableRelationId},
	{OPTION_ENUMERATE, ForeignTableRelationId},
	{OPTION_FIELD, AttributeRelationId},
	{NULL, InvalidOid}
};

PG_FUNCTION_INFO_V1(atlas_snapshot_fdw_validator);

static int	int_option(DefElem *def, int min, int max);
static void check_memory_options(int page_bytes, int scan_memory);
static bool is_user_mapping_option(const char *keyword);
static void check_credentials(bool has_public, bool has_private, bool has_id,
							  bool has_secret);

/*
 * _PG_init
 *		Library load: reserve our GUC prefix, initialize libcurl once, and
 *		when preloaded, ask for the instance-wide segment (shmem.c).
 *
 * libcurl keeps using malloc for its whole life (see connection.c); its
 * global state lives until the backend exits.
 */
void
_PG_init(void)
{
	CURLcode	rc;

	MarkGUCPrefixReserved("atlas_snapshot_fdw");
	atlas_shmem_init();

	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not initialize libcurl"),
				 errdetail_internal("%s", curl_easy_strerror(rc))));
}

/*
 * atlas_snapshot_fdw_validator
 *		Validate the options of a server, user mapping, foreign table or
 *		column of atlas_snapshot_fdw.
 *
 * Raises an ERROR for an unknown option (with a hint listing the valid ones),
 * for a secret outside a user mapping, for an invalid value, and for a
 * base_url set by a non-superuser.
 */
Datum
atlas_snapshot_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options_list = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *cell;
	bool		has_public = false;
	bool		has_private = false;
	bool		has_id = false;
	bool		has_secret = false;
	int			page_bytes = ATLAS_DEFAULT_MAX_PAGE_BYTES;
	int			scan_memory = ATLAS_DEFAULT_MAX_SCAN_MEMORY;

	foreach(cell, options_list)
	{
		DefElem    *def = (DefElem *) lfirst(cell);
		bool		valid = false;

		for (const AtlasFdwOption *opt = valid_options; opt->keyword; opt++)
		{
			if (opt->optcontext == catalog &&
				strcmp(opt->keyword, def->defname) == 0)
				valid = true;
		}

		if (!valid)
		{
			StringInfoData buf;

			/* Secrets get a message of their own: they belong elsewhere. */
			if (is_user_mapping_option(def->defname))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("option \"%s\" is allowed only in a user mapping",
								def->defname),
						 errhint("Credentials are kept in user mappings, which only their owner and superusers can read.")));

			initStringInfo(&buf);
			for (const AtlasFdwOption *opt = valid_options; opt->keyword; opt++)
			{
				if (opt->optcontext == catalog)
					appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
									 opt->keyword);
			}
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 buf.len > 0
					 ? errhint("Valid options in this context are: %s.", buf.data)
					 : errhint("There are no valid options in this context.")));
		}

		if (strcmp(def->defname, OPTION_BASE_URL) == 0 ||
			strcmp(def->defname, OPTION_CA_FILE) == 0 ||
			strcmp(def->defname, OPTION_PROXY) == 0)
		{
			/* where the backend connects, and whom it trusts */
			if (!superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("permission denied to set option \"%s\"",
								def->defname),
						 errhint("Only superusers can change where and how the server connects.")));
			if (strcmp(def->defname, OPTION_BASE_URL) == 0)
				(void) atlas_check_base_url(defGetString(def));
			else if (strcmp(def->defname, OPTION_PROXY) == 0)
				atlas_check_proxy_url(defGetString(def));
			else if (!is_absolute_path(defGetString(def)))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must be an absolute path",
								OPTION_CA_FILE)));
		}
		else if (strcmp(def->defname, OPTION_MAX_RETRIES) == 0)
			(void) int_option(def, 0, ATLAS_MAX_MAX_RETRIES);
		else if (strcmp(def->defname, OPTION_MAX_RETRY_WAIT_MS) == 0)
			(void) int_option(def, 0, INT_MAX);
		else if (strcmp(def->defname, OPTION_MAX_CONCURRENCY) == 0)
			(void) int_option(def, 1, ATLAS_MAX_CONCURRENCY);
		else if (strcmp(def->defname, OPTION_ITEMS_PER_PAGE) == 0)
			(void) int_option(def, 1, ATLAS_MAX_ITEMS_PER_PAGE);
		else if (strcmp(def->defname, OPTION_MAX_REQUEST_CHAINS) == 0)
			(void) int_option(def, 1, INT_MAX);
		else if (strcmp(def->defname, OPTION_ENUMERATE) == 0)
			(void) defGetBoolean(def);
		else if (strcmp(def->defname, OPTION_CONNECT_TIMEOUT_MS) == 0 ||
				 strcmp(def->defname, OPTION_TIMEOUT_MS) == 0)
			(void) int_option(def, 1, INT_MAX);
		else if (strcmp(def->defname, OPTION_MAX_PAGE_BYTES) == 0)
			page_bytes = int_option(def, ATLAS_MIN_MAX_PAGE_BYTES, INT_MAX);
		else if (strcmp(def->defname, OPTION_MAX_SCAN_MEMORY) == 0)
			scan_memory = int_option(def, ATLAS_MIN_MAX_SCAN_MEMORY, INT_MAX);
		else if (strcmp(def->defname, OPTION_RESOURCE) == 0)
		{
			char	   *value = defGetString(def);

			if (atlas_find_resource(value) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								OPTION_RESOURCE, value),
						 errhint("Valid resources are: %s.",
								 atlas_valid_resource_names())));
		}
		else if (strcmp(def->defname, OPTION_FIELD) == 0)
		{
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must not be empty", OPTION_FIELD)));
		}
		else if (strcmp(def->defname, OPTION_PUBLIC_KEY) == 0)
			has_public = true;
		else if (strcmp(def->defname, OPTION_PRIVATE_KEY) == 0)
			has_private = true;
		else if (strcmp(def->defname, OPTION_CLIENT_ID) == 0)
			has_id = true;
		else if (strcmp(def->defname, OPTION_CLIENT_SECRET) == 0)
			has_secret = true;
	}

	if (catalog == UserMappingRelationId)
		check_credentials(has_public, has_private, has_id, has_secret);
	if (catalog == ForeignServerRelationId)
		check_memory_options(page_bytes, scan_memory);

	PG_RETURN_VOID();
}

/*
 * check_memory_options
 *		Half of max_scan_memory is for the response bodies a scan holds, and
 *		the page it waits for must fit in it.
 */
static void
check_memory_options(int page_bytes, int scan_memory)
{
	if (page_bytes > scan_memory / 2)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("\"%s\" must be at most half of \"%s\"",
						OPTION_MAX_PAGE_BYTES, OPTION_MAX_SCAN_MEMORY),
				 errdetail("%s is %d bytes and %s is %d bytes.",
						   OPTION_MAX_PAGE_BYTES, page_bytes,
						   OPTION_MAX_SCAN_MEMORY, scan_memory)));
}

/*
 * check_credentials
 *		A user mapping holds exactly one complete set of credentials: an API
 *		key (Digest) or a service account (OAuth).
 */
static void
check_credentials(bool has_public, bool has_private, bool has_id,
				  bool has_secret)
{
	if ((has_public || has_private) && (has_id || has_secret))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("a user mapping takes either an API key or a service account, not both"),
				 errhint("Use %s and %s for a service account, or %s and %s for an API key.",
						 OPTION_CLIENT_ID, OPTION_CLIENT_SECRET,
						 OPTION_PUBLIC_KEY, OPTION_PRIVATE_KEY)));
	if (has_public != has_private)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 errmsg("options \"%s\" and \"%s\" must be given together",
						OPTION_PUBLIC_KEY, OPTION_PRIVATE_KEY),
				 errhint("An Atlas API key is a public key and a private key.")));
	if (has_id != has_secret)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 errmsg("options \"%s\" and \"%s\" must be given together",
						OPTION_CLIENT_ID, OPTION_CLIENT_SECRET),
				 errhint("An Atlas service account is a client ID and a client secret.")));
	if (!has_public && !has_id)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 errmsg("a user mapping for atlas_snapshot_fdw needs Atlas credentials"),
				 errhint("Use %s and %s for a service account, or %s and %s for an API key.",
						 OPTION_CLIENT_ID, OPTION_CLIENT_SECRET,
						 OPTION_PUBLIC_KEY, OPTION_PRIVATE_KEY)));
}

/* Whether an option belongs in a user mapping (credentials) */
static bool
is_user_mapping_option(const char *keyword)
{
	for (const AtlasFdwOption *opt = valid_options; opt->keyword; opt++)
	{
		if (opt->optcontext == UserMappingRelationId &&
			strcmp(opt->keyword, keyword) == 0)
			return true;
	}
	return false;
}

/*
 * int_option
 *		Parse an integer option and check its range; ERROR if it is invalid.
 */
static int
int_option(DefElem *def, int min, int max)
{
	char	   *value = defGetString(def);
	int			result;

	if (!parse_int(value, &result, 0, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for integer option \"%s\": \"%s\"",
						def->defname, value)));
	if (result < min || result > max)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("value %d is out of range for option \"%s\"",
						result, def->defname),
				 max == INT_MAX
				 ? errdetail("Valid values are at least %d.", min)
				 : errdetail("Valid values are between %d and %d.", min, max)));
	return result;
}

/*
 * atlas_get_options
 *		Merge defaults, server, user mapping and table options.
 *
 * table and user may be NULL.  Strings point into the catalog option lists
 * (palloc'd in the current context); base_url loses any trailing slash.
 */
void
atlas_get_options(ForeignTable *table, ForeignServer *server,
				  UserMapping *user, AtlasFdwOptions *opts)
{
	List	   *options = NIL;
	ListCell   *lc;
	size_t		len;

	memset(opts, 0, sizeof(*opts));
	opts->base_url = ATLAS_DEFAULT_BASE_URL;
	opts->connect_timeout_ms = ATLAS_DEFAULT_CONNECT_TIMEOUT_MS;
	opts->timeout_ms = ATLAS_DEFAULT_TIMEOUT_MS;
	opts->max_page_bytes = ATLAS_DEFAULT_MAX_PAGE_BYTES;
	opts->items_per_page = ATLAS_MAX_ITEMS_PER_PAGE;
	opts->max_retries = ATLAS_DEFAULT_MAX_RETRIES;
	opts->max_retry_wait_ms = ATLAS_DEFAULT_MAX_RETRY_WAIT_MS;
	opts->max_concurrency = ATLAS_DEFAULT_MAX_CONCURRENCY;
	opts->max_scan_memory = ATLAS_DEFAULT_MAX_SCAN_MEMORY;
	opts->max_request_chains = ATLAS_DEFAULT_MAX_REQUEST_CHAINS;
	opts->enumerate = true;

	/* later lists override earlier ones: table beats server */
	options = list_concat(options, server->options);
	if (user)
		options = list_concat(options, user->options);
	if (table)
		options = list_concat(options, table->options);

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, OPTION_BASE_URL) == 0)
			opts->base_url = pstrdup(defGetString(def));
		else if (strcmp(def->defname, OPTION_CONNECT_TIMEOUT_MS) == 0)
			opts->connect_timeout_ms = int_option(def, 1, INT_MAX);
		else if (strcmp(def->defname, OPTION_TIMEOUT_MS) == 0)
			opts->timeout_ms = int_option(def, 1, INT_MAX);
		else if (strcmp(def->defname, OPTION_MAX_PAGE_BYTES) == 0)
			opts->max_page_bytes = int_option(def, ATLAS_MIN_MAX_PAGE_BYTES, INT_MAX);
		else if (strcmp(def->defname, OPTION_ITEMS_PER_PAGE) == 0)
			opts->items_per_page = int_option(def, 1, ATLAS_MAX_ITEMS_PER_PAGE);
		else if (strcmp(def->defname, OPTION_MAX_RETRIES) == 0)
			opts->max_retries = int_option(def, 0, ATLAS_MAX_MAX_RETRIES);
		else if (strcmp(def->defname, OPTION_MAX_RETRY_WAIT_MS) == 0)
			opts->max_retry_wait_ms = int_option(def, 0, INT_MAX);
		else if (strcmp(def->defname, OPTION_CA_FILE) == 0)
			opts->ca_file = defGetString(def);
		else if (strcmp(def->defname, OPTION_PROXY) == 0)
			opts->proxy = defGetString(def);
		else if (strcmp(def->defname, OPTION_MAX_CONCURRENCY) == 0)
			opts->max_concurrency = int_option(def, 1, ATLAS_MAX_CONCURRENCY);
		else if (strcmp(def->defname, OPTION_MAX_SCAN_MEMORY) == 0)
			opts->max_scan_memory = int_option(def, ATLAS_MIN_MAX_SCAN_MEMORY, INT_MAX);
		else if (strcmp(def->defname, OPTION_MAX_REQUEST_CHAINS) == 0)
			opts->max_request_chains = int_option(def, 1, INT_MAX);
		else if (strcmp(def->defname, OPTION_ENUMERATE) == 0)
			opts->enumerate = defGetBoolean(def);
		else if (strcmp(def->defname, OPTION_CLIENT_ID) == 0)
			opts->client_id = defGetString(def);
		else if (strcmp(def->defname, OPTION_CLIENT_SECRET) == 0)
			opts->client_secret = defGetString(def);
		else if (strcmp(def->defname, OPTION_PUBLIC_KEY) == 0)
			opts->public_key = defGetString(def);
		else if (strcmp(def->defname, OPTION_PRIVATE_KEY) == 0)
			opts->private_key = defGetString(def);
		else if (strcmp(def->defname, OPTION_RESOURCE) == 0)
			opts->resource = defGetString(def);
	}
	check_memory_options(opts->max_page_bytes, opts->max_scan_memory);

	len = strlen(opts->base_url);
	if (len > 0 && opts->base_url[len - 1] == '/')
	{
		opts->base_url = pstrdup(opts->base_url);
		opts->base_url[len - 1] = '\0';
	}
}

/*
 * atlas_column_field
 *		The column's field option, or NULL if it has none.
 */
const char *
atlas_column_field(Oid relid, AttrNumber attnum)
{
	ListCell   *lc;

	foreach(lc, GetForeignColumnOptions(relid, attnum))
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, OPTION_FIELD) == 0)
			return defGetString(def);
	}
	return NULL;
}
