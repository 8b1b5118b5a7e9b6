/*-------------------------------------------------------------------------
 *
 * report.c
 *		  The ERRORs that Atlas and the network can cause
 *
 * Every function here raises an ERROR (they never return) with an errcode,
 * a primary message in the PostgreSQL style, Atlas's own errorCode and
 * detail (remote text, so errdetail_internal) and a hint where the user
 * can act.  Callers provide the error context that names the request.  No
 * message contains a credential or a token: those travel only in
 * Authorization headers, which nothing here sees.
 *
 * Text from the server is untrusted: it reaches a message (and the server
 * log) only through atlas_server_text(), which bounds its length and
 * escapes control characters, so that a response cannot flood the log or
 * forge log lines.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  report.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <json-c/json.h>

#include "atlas_snapshot_fdw.h"
#include "mb/pg_wchar.h"

/*
 * atlas_retry_note
 *		" Gave up after N retries." for details, or "" if there were none.
 */
const char *
atlas_retry_note(int retries)
{
	if (retries <= 0)
		return "";
	return psprintf(retries == 1 ? " Gave up after %d retry." :
					" Gave up after %d retries.", retries);
}

/*
 * atlas_server_text
 *		Untrusted server text made fit for a message: control characters
 *		escaped (\n, \r, \t, \xNN) and cut after about max_bytes bytes, on
 *		a character boundary, with "..." to show the cut.
 *
 * text must be valid in the server encoding (atlas_parse_error_body's
 * results are).  The result is palloc'd in the current context; NULL in,
 * NULL out.
 */
char *
atlas_server_text(const char *text, int max_bytes)
{
	StringInfoData buf;
	int			len;
	int			keep;

	if (text == NULL)
		return NULL;
	len = strlen(text);
	keep = len > max_bytes ? pg_mbcliplen(text, len, max_bytes) : len;

	initStringInfo(&buf);
	for (int i = 0; i < keep; i++)
	{
		unsigned char c = (unsigned char) text[i];

		if (c == '\n')
			appendStringInfoString(&buf, "\\n");
		else if (c == '\r')
			appendStringInfoString(&buf, "\\r");
		else if (c == '\t')
			appendStringInfoString(&buf, "\\t");
		else if (c < 0x20 || c == 0x7F)
			appendStringInfo(&buf, "\\x%02X", c);
		else
			appendStringInfoChar(&buf, (char) c);
	}
	if (keep < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * atlas_report_curl_error
 *		Raise the ERROR for a transfer that did not complete.
 *
 * errbuf is libcurl's message for the transfer; it names the host and the
 * failing step, never credentials, so it goes into the detail as it is.
 * too_large and oom say the write callback stopped the transfer.
 */
void
atlas_report_curl_error(const char *base_url, CURLcode rc, const char *errbuf,
						bool too_large, bool oom, const AtlasFdwOptions *opts,
						int retries)
{
	const char *detail = atlas_server_text(errbuf[0] ? errbuf : curl_easy_strerror(rc),
										   ATLAS_MAX_SERVER_TEXT);

	if (too_large)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Atlas response exceeds max_page_bytes (%d bytes)",
						opts->max_page_bytes),
				 errhint("Raise the server option %s or lower the option %s.",
						 OPTION_MAX_PAGE_BYTES, OPTION_ITEMS_PER_PAGE)));
	if (oom)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not grow the buffer for an Atlas response.")));

	switch (rc)
	{
		case CURLE_OPERATION_TIMEDOUT:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("Atlas request timed out"),
					 errdetail_internal("%s.%s", detail, atlas_retry_note(retries)),
					 errhint("The server options %s (now %d) and %s (now %d) set the limits.",
							 OPTION_CONNECT_TIMEOUT_MS, opts->connect_timeout_ms,
							 OPTION_TIMEOUT_MS, opts->timeout_ms)));
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("could not connect to Atlas API at \"%s\"",
							base_url),
					 errdetail_internal("%s.%s", detail, atlas_retry_note(retries))));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("Atlas request failed"),
					 errdetail_internal("%s.%s", detail, atlas_retry_note(retries))));
	}
}

/*
 * error_field
 *		The string value of the first of two members of object doc, as a
 *		palloc'd string fit for the server encoding, or NULL.
 *
 * It goes into the report of another error, so it must not raise one of
 * its own: a string holding \u0000 is left out, and where the server
 * encoding is not UTF-8, characters beyond ASCII become '?'.
 */
static char *
error_field(struct json_object *doc, const char *name, const char *alt)
{
	struct json_object *v;
	char	   *s;
	int			len;

	if (!json_object_object_get_ex(doc, name, &v))
		(void) json_object_object_get_ex(doc, alt, &v);
	if (v == NULL || (s = atlas_json_utf8(v, &len)) == NULL)
		return NULL;
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		char	   *out = s;

		/* one '?' per character: drop the continuation bytes */
		for (char *p = s; *p; p++)
		{
			if ((unsigned char) *p < 0x80)
				*out++ = *p;
			else if (((unsigned char) *p & 0xC0) != 0x80)
				*out++ = '?';
		}
		*out = '\0';
	}
	return s;
}

/*
 * atlas_parse_error_body
 *		Pull errorCode and detail out of an Atlas error document (or error
 *		and error_description out of an OAuth error).
 *
 * Results are palloc'd (NULL where absent, or if the body is not JSON);
 * the parsed document is freed on every path, ERROR included.
 */
void
atlas_parse_error_body(const char *body, char **code, char **detail)
{
	char		why[ATLAS_JSON_ERRMSG_LEN];
	bool		over_budget;
	struct json_object *doc;

	*code = *detail = NULL;
	doc = atlas_json_parse(NULL, body, strlen(body), ATLAS_SMALL_DOC_BUDGET,
						   false, why, sizeof(why), &over_budget, NULL);
	if (doc == NULL)
		return;
	PG_TRY();
	{
		if (json_object_is_type(doc, json_type_object))
		{
			*code = error_field(doc, "errorCode", "error");
			*detail = error_field(doc, "detail", "error_description");
		}
	}
	PG_FINALLY();
	{
		json_object_put(doc);
	}
	PG_END_TRY();
}

/*
 * atlas_report_retired
 *		Raise the ERROR for an endpoint that Atlas has retired.
 */
void
atlas_report_retired(const AtlasResource *res, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
			 errmsg("Atlas has retired the endpoint of resource \"%s\"",
					res->name),
			 errdetail_internal("%s", detail),
			 errhint("Use resource \"%s\" instead.", res->replacement)));
}

/*
 * report_http_error
 *		Raise the ERROR for an HTTP status other than 200, from the answer
 *		as the fetcher kept it (status, body, retries).
 */
static void
report_http_error(const AtlasFetchResult *result, const AtlasResource *res,
				  bool org_endpoint)
{
	char	   *code;
	char	   *detail;
	char	   *fulldetail;
	long		status = result->status;
	int			retries = result->retries;
	int			sqlstate;

	atlas_parse_error_body(result->body ? result->body : "", &code, &detail);
	if (code && detail)
		fulldetail = psprintf("HTTP status %ld, error code %s: %s%s",
							  status,
							  atlas_server_text(code, ATLAS_MAX_SERVER_TEXT),
							  atlas_server_text(detail, ATLAS_MAX_SERVER_TEXT),
							  atlas_retry_note(retries));
	else if (code)
		fulldetail = psprintf("HTTP status %ld, error code %s.%s",
							  status,
							  atlas_server_text(code, ATLAS_MAX_SERVER_TEXT),
							  atlas_retry_note(retries));
	else
		fulldetail = psprintf("HTTP status %ld.%s", status,
							  atlas_retry_note(retries));

	/* Retired endpoints: 410 VERSION_GONE, or 404 on a removed path */
	if (res->replacement &&
		(status == 410 ||
		 (status == 404 && code && strcmp(code, "RESOURCE_NOT_FOUND") == 0)))
		atlas_report_retired(res, fulldetail);

	/* Flex and dedicated clusters are listed by different endpoints */
	if (code && (strcmp(code, "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API") == 0 ||
				 strcmp(code, "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Atlas cannot list this cluster through resource \"%s\"",
						res->name),
				 errdetail_internal("%s", fulldetail),
				 strcmp(res->name, "collection_restore_jobs") == 0 ||
				 strncmp(res->name, "snapshot_", 9) == 0
				 ? errhint("Atlas restores collections and lists snapshot contents of dedicated clusters only.")
				 : strstr(res->name, "restore_jobs") != NULL
				 ? (strcmp(code, "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API") == 0
					? errhint("Restore jobs of dedicated clusters are read with resource \"restore_jobs\".")
					: errhint("Restore jobs of Flex clusters are read with resource \"flex_restore_jobs\"."))
				 : strcmp(code, "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API") == 0
				 ? errhint("Dedicated clusters are read with resource \"cluster_snapshots\" or \"sharded_cluster_snapshots\".")
				 : errhint("Flex clusters are read with resource \"flex_snapshots\".")));

	switch (status)
	{
		case 401:
		case 403:
			sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
			break;
		case 404:
			sqlstate = ERRCODE_FDW_TABLE_NOT_FOUND;
			break;
		default:
			sqlstate = ERRCODE_FDW_ERROR;
			break;
	}

	ereport(ERROR,
			(errcode(sqlstate),
			 status == 401 ? errmsg("Atlas rejected the credentials of the user mapping") :
			 status == 403 ? errmsg("Atlas denied access to resource \"%s\"", res->name) :
			 status == 404 && org_endpoint ? errmsg("Atlas found no such organization") :
			 status == 404 ? errmsg("Atlas found no such project or cluster") :
			 status == 410 ? errmsg("Atlas has retired the endpoint of resource \"%s\"", res->name) :
			 status == 429 ? errmsg("Atlas rate limit exceeded") :
			 status >= 500 ? errmsg("Atlas API server error") :
			 status >= 300 && status < 400 ? errmsg("Atlas answered with a redirect, which is not followed") :
			 errmsg("Atlas API request failed"),
			 errdetail_internal("%s", fulldetail),
			 status == 401 ? errhint("Check the credentials in the user mapping and the API access list of the key or service account.") :
			 status == 403 && org_endpoint ?
			 errhint("The API key or service account needs the %s role in the organization.",
					 res->org_role ? res->org_role : "Organization Member") :
			 status == 403 && res->org_list_path == NULL &&
			 (res->keys & ATLAS_KEY_BIT(ATLAS_KEY_ORG)) ?
			 errhint("The API key or service account needs the Organization Read Only role on the organization of org_id, or Project Read Only on the project of group_id.") :
			 status == 403 ? errhint("The API key or service account needs the %s role on the project.",
									 res->role ? res->role : "Project Read Only") :
			 status == 429 ? errhint("Wait before retrying, or raise the server options %s and %s.",
									 OPTION_MAX_RETRIES, OPTION_MAX_RETRY_WAIT_MS) : 0));
}

/*
 * atlas_report_page_error
 *		Raise the ERROR for a page that did not arrive as parsed JSON: a
 *		transfer that did not complete, an answer other than 200, a parsed
 *		tree over its half of max_scan_memory, or a body that did not parse.
 *		Returns (doing nothing) for a 200 page that parsed.
 *
 * res names the resource whose endpoint answered, for the HTTP error's
 * message and hints; org_endpoint says that it was an organization's
 * endpoint (a 403 then names the organization role, a 404 the
 * organization).
 */
void
atlas_report_page_error(const AtlasFetchResult *result, const char *base_url,
						const AtlasFdwOptions *opts, const AtlasResource *res,
						bool org_endpoint)
{
	if (result->rc != CURLE_OK)
		atlas_report_curl_error(base_url, result->rc, result->errbuf,
								result->body_too_large, result->body_oom,
								opts, result->retries);
	if (result->status != 200)
		report_http_error(result, res, org_endpoint);
	if (result->parse_error && result->over_budget)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("parsed Atlas response exceeds half of max_scan_memory (%d bytes)",
						opts->max_scan_memory),
				 errdetail_internal("%s", result->parse_error),
				 errhint("Raise the server option %s or lower the option %s.",
						 OPTION_MAX_SCAN_MEMORY, OPTION_ITEMS_PER_PAGE)));
	if (result->parse_error)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("could not parse Atlas response as JSON"),
				 errdetail_internal("%s", result->parse_error)));
}
