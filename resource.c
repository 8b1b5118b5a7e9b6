/*-------------------------------------------------------------------------
 *
 * resource.c
 *		  The catalog of Atlas endpoints that foreign tables can read
 *
 * Each resource names its list endpoint, its single-object endpoint, the
 * API version it must be asked for, the request keys it accepts and a
 * column table (SQL name, JSON name, SQL type).  The column table is the
 * one place where irregular JSON names such as "masterKeyUUID" are spelled
 * out; IMPORT FOREIGN SCHEMA creates tables from it and scans use it to map
 * columns to fields.  Everything here is static data or palloc'd results in
 * the caller's memory context.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  resource.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "atlas_snapshot_fdw.h"
#include "utils/rel.h"

#define KEY(k)	ATLAS_KEY_BIT(ATLAS_KEY_##k)
#define GROUP_CLUSTER	(KEY(GROUP) | KEY(CLUSTER))

/* Key columns shared by every snapshot table: filled from the request */
#define SNAPSHOT_KEY_FIELDS \
	{"group_id", NULL, "text", true}, \
	{"cluster_name", NULL, "text", true}

static const AtlasField cluster_snapshot_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"id", "id", "text", false},
	{"cloud_provider", "cloudProvider", "text", false},
	{"copy_regions", "copyRegions", "text[]", false},
	{"created_at", "createdAt", "timestamptz", false},
	{"description", "description", "text", false},
	{"expires_at", "expiresAt", "timestamptz", false},
	{"frequency_type", "frequencyType", "text", false},
	{"master_key_uuid", "masterKeyUUID", "uuid", false},
	{"mongod_version", "mongodVersion", "text", false},
	{"policy_items", "policyItems", "text[]", false},
	{"replica_set_name", "replicaSetName", "text", false},
	{"snapshot_type", "snapshotType", "text", false},
	{"status", "status", "text", false},
	{"storage_size_bytes", "storageSizeBytes", "bigint", false},
	{"type", "type", "text", false},
	{"links", "links", "jsonb", false},
	{"point_in_time", NULL, "timestamptz", false},
	{"oplog_ts", NULL, "bigint", false},
	{"oplog_inc", NULL, "bigint", false},
	{NULL}
};

static const AtlasField sharded_snapshot_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"id", "id", "text", false},
	{"config_server_type", "configServerType", "text", false},
	{"created_at", "createdAt", "timestamptz", false},
	{"description", "description", "text", false},
	{"expires_at", "expiresAt", "timestamptz", false},
	{"frequency_type", "frequencyType", "text", false},
	{"master_key_uuid", "masterKeyUUID", "uuid", false},
	{"members", "members", "jsonb", false},
	{"mongod_version", "mongodVersion", "text", false},
	{"policy_items", "policyItems", "text[]", false},
	{"snapshot_ids", "snapshotIds", "text[]", false},
	{"snapshot_type", "snapshotType", "text", false},
	{"status", "status", "text", false},
	{"storage_size_bytes", "storageSizeBytes", "bigint", false},
	{"type", "type", "text", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

static const AtlasField serverless_snapshot_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"id", "id", "text", false},
	{"created_at", "createdAt", "timestamptz", false},
	{"expires_at", "expiresAt", "timestamptz", false},
	{"frequency_type", "frequencyType", "text", false},
	{"mongod_version", "mongodVersion", "text", false},
	{"serverless_instance_name", "serverlessInstanceName", "text", false},
	{"snapshot_type", "snapshotType", "text", false},
	{"status", "status", "text", false},
	{"storage_size_bytes", "storageSizeBytes", "bigint", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

/* Flex and the retired shared tier (M2/M5) share one snapshot shape */
static const AtlasField flex_snapshot_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"id", "id", "text", false},
	{"expiration", "expiration", "timestamptz", false},
	{"finish_time", "finishTime", "timestamptz", false},
	{"mongodb_version", "mongoDBVersion", "text", false},
	{"scheduled_time", "scheduledTime", "timestamptz", false},
	{"start_time", "startTime", "timestamptz", false},
	{"status", "status", "text", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

static const AtlasField project_fields[] = {
	{"id", "id", "text", true},
	{"name", "name", "text", true},
	{"org_id", "orgId", "text", true},
	{"cluster_count", "clusterCount", "bigint", false},
	{"created", "created", "timestamptz", false},
	{"region_usage_restrictions", "regionUsageRestrictions", "text", false},
	{"tags", "tags", "jsonb", false},
	{"with_default_alerts_settings", "withDefaultAlertsSettings", "boolean", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

static const AtlasField cluster_fields[] = {
	{"group_id", NULL, "text", true},
	{"id", "id", "text", false},
	{"name", "name", "text", true},
	{"accept_data_risks_and_force_replica_set_reconfig", "acceptDataRisksAndForceReplicaSetReconfig", "timestamptz", false},
	{"adaptive_capacity", "adaptiveCapacity", "text", false},
	{"advanced_configuration", "advancedConfiguration", "jsonb", false},
	{"backup_enabled", "backupEnabled", "boolean", false},
	{"bi_connector", "biConnector", "jsonb", false},
	{"cluster_type", "clusterType", "text", false},
	{"config_server_management_mode", "configServerManagementMode", "text", false},
	{"config_server_type", "configServerType", "text", false},
	{"connection_strings", "connectionStrings", "jsonb", false},
	{"create_date", "createDate", "timestamptz", false},
	{"disk_warming_mode", "diskWarmingMode", "text", false},
	{"effective_replication_specs", "effectiveReplicationSpecs", "jsonb", false},
	{"encryption_at_rest_provider", "encryptionAtRestProvider", "text", false},
	{"feature_compatibility_version", "featureCompatibilityVersion", "text", false},
	{"feature_compatibility_version_expiration_date", "featureCompatibilityVersionExpirationDate", "timestamptz", false},
	{"global_cluster_self_managed_sharding", "globalClusterSelfManagedSharding", "boolean", false},
	{"internal_cluster_role", "internalClusterRole", "text", false},
	{"labels", "labels", "jsonb", false},
	{"mongodb_employee_access_grant", "mongoDBEmployeeAccessGrant", "jsonb", false},
	{"mongodb_major_version", "mongoDBMajorVersion", "text", false},
	{"mongodb_version", "mongoDBVersion", "text", false},
	{"paused", "paused", "boolean", false},
	{"pit_enabled", "pitEnabled", "boolean", false},
	{"redact_client_log_data", "redactClientLogData", "boolean", false},
	{"replica_set_scaling_strategy", "replicaSetScalingStrategy", "text", false},
	{"replication_specs", "replicationSpecs", "jsonb", false},
	{"retain_backups", "retainBackups", "boolean", false},
	{"root_cert_type", "rootCertType", "text", false},
	{"state_name", "stateName", "text", false},
	{"tags", "tags", "jsonb", false},
	{"termination_protection_enabled", "terminationProtectionEnabled", "boolean", false},
	{"use_aws_time_based_snapshot_copy_for_fast_initial_sync", "useAwsTimeBasedSnapshotCopyForFastInitialSync", "boolean", false},
	{"version_release_system", "versionReleaseSystem", "text", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

static const AtlasField serverless_instance_fields[] = {
	{"group_id", NULL, "text", true},
	{"id", "id", "text", false},
	{"name", "name", "text", true},
	{"connection_strings", "connectionStrings", "jsonb", false},
	{"create_date", "createDate", "timestamptz", false},
	{"mongodb_version", "mongoDBVersion", "text", false},
	{"provider_settings", "providerSettings", "jsonb", false},
	{"serverless_backup_options", "serverlessBackupOptions", "jsonb", false},
	{"state_name", "stateName", "text", false},
	{"tags", "tags", "jsonb", false},
	{"termination_protection_enabled", "terminationProtectionEnabled", "boolean", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

static const AtlasField flex_cluster_fields[] = {
	{"group_id", NULL, "text", true},
	{"id", "id", "text", false},
	{"name", "name", "text", true},
	{"backup_settings", "backupSettings", "jsonb", false},
	{"cluster_type", "clusterType", "text", false},
	{"connection_strings", "connectionStrings", "jsonb", false},
	{"create_date", "createDate", "timestamptz", false},
	{"mongodb_version", "mongoDBVersion", "text", false},
	{"provider_settings", "providerSettings", "jsonb", false},
	{"state_name", "stateName", "text", false},
	{"tags", "tags", "jsonb", false},
	{"termination_protection_enabled", "terminationProtectionEnabled", "boolean", false},
	{"version_release_system", "versionReleaseSystem", "text", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

static const AtlasResource resources[] = {
	{
		"cluster_snapshots",
		"/groups/{group}/clusters/{cluster}/backup/snapshots",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/{id}",
		"2023-01-01", ATLAS_PAGING_DECLARED,
		GROUP_CLUSTER | KEY(ID) | KEY(POINT_IN_TIME) | KEY(OPLOG_TS) | KEY(OPLOG_INC),
		GROUP_CLUSTER, NULL, cluster_snapshot_fields
	},
	{
		"sharded_cluster_snapshots",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/shardedClusters",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/shardedCluster/{id}",
		"2023-01-01", ATLAS_PAGING_UNDECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, NULL, sharded_snapshot_fields
	},
	{
		"serverless_snapshots",
		"/groups/{group}/serverless/{cluster}/backup/snapshots",
		"/groups/{group}/serverless/{cluster}/backup/snapshots/{id}",
		"2023-01-01", ATLAS_PAGING_DECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, "flex_snapshots", serverless_snapshot_fields
	},
	{
		"flex_snapshots",
		"/groups/{group}/flexClusters/{cluster}/backup/snapshots",
		"/groups/{group}/flexClusters/{cluster}/backup/snapshots/{id}",
		"2024-11-13", ATLAS_PAGING_DECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, NULL, flex_snapshot_fields
	},
	{
		"tenant_snapshots",
		"/groups/{group}/clusters/{cluster}/backup/tenant/snapshots",
		"/groups/{group}/clusters/{cluster}/backup/tenant/snapshots/{id}",
		"2023-01-01", ATLAS_PAGING_NONE, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, "flex_snapshots", flex_snapshot_fields
	},
	{
		"projects", "/groups", NULL,
		"2023-01-01", ATLAS_PAGING_DECLARED, 0, 0, NULL, project_fields
	},
	{
		"clusters", "/groups/{group}/clusters", NULL,
		"2024-08-05", ATLAS_PAGING_DECLARED, KEY(GROUP), KEY(GROUP), NULL, cluster_fields
	},
	{
		"serverless_instances", "/groups/{group}/serverless", NULL,
		"2023-01-01", ATLAS_PAGING_DECLARED, KEY(GROUP), KEY(GROUP), "flex_clusters",
		serverless_instance_fields
	},
	{
		"flex_clusters", "/groups/{group}/flexClusters", NULL,
		"2024-11-13", ATLAS_PAGING_DECLARED, KEY(GROUP), KEY(GROUP), NULL, flex_cluster_fields
	},
};

/* Column names of the request keys, indexed by AtlasKeyKind */
static const char *const key_columns[ATLAS_NUM_KEYS] = {
	"group_id", "cluster_name", "id", "point_in_time", "oplog_ts", "oplog_inc"
};

/* Path placeholders, indexed by AtlasKeyKind (NULL: not a path segment) */
static const char *const key_placeholders[ATLAS_NUM_KEYS] = {
	"{group}", "{cluster}", "{id}", NULL, NULL, NULL
};

/*
 * atlas_find_resource
 *		Look up a resource by its option value; NULL if there is none.
 */
const AtlasResource *
atlas_find_resource(const char *name)
{
	for (size_t i = 0; i < lengthof(resources); i++)
	{
		if (strcmp(resources[i].name, name) == 0)
			return &resources[i];
	}
	return NULL;
}

/*
 * atlas_all_resources
 *		The whole catalog, in IMPORT FOREIGN SCHEMA order.
 */
const AtlasResource *
atlas_all_resources(int *count)
{
	*count = lengthof(resources);
	return resources;
}

/*
 * atlas_valid_resource_names
 *		A palloc'd, comma-separated list of resource names for hints.
 */
char *
atlas_valid_resource_names(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (size_t i = 0; i < lengthof(resources); i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", resources[i].name);
	return buf.data;
}

/*
 * atlas_resource_for_table
 *		The resource a foreign table reads.
 *
 * "option" is the table's resource option or NULL, in which case the table's
 * own name is used (as postgres_fdw defaults table_name).  Raises an ERROR
 * naming the valid resources if neither names one.
 */
const AtlasResource *
atlas_resource_for_table(Relation rel, const char *option)
{
	const char *name = option ? option : RelationGetRelationName(rel);
	const AtlasResource *res = atlas_find_resource(name);

	if (res == NULL && option == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 errmsg("foreign table \"%s\" has no resource option",
						RelationGetRelationName(rel)),
				 errhint("Set the table option resource to one of: %s.",
						 atlas_valid_resource_names())));
	if (res == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPTION_RESOURCE, name),
				 errhint("Valid resources are: %s.",
						 atlas_valid_resource_names())));
	return res;
}

/*
 * atlas_key_from_column
 *		Whether a column of this name is a request key of the resource.
 */
bool
atlas_key_from_column(const AtlasResource *res, const char *colname,
					  AtlasKeyKind *kind)
{
	for (int k = 0; k < ATLAS_NUM_KEYS; k++)
	{
		if ((res->keys & ATLAS_KEY_BIT(k)) &&
			strcmp(key_columns[k], colname) == 0)
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
	Assert(kind >= 0 && kind < ATLAS_NUM_KEYS);
	return key_columns[kind];
}

/*
 * atlas_default_json_field
 *		The JSON field a column reads when it has no field option.
 *
 * The resource's column table wins; other names are converted from
 * snake_case to camelCase ("storage_size_bytes" -> "storageSizeBytes").
 * The result is static data or palloc'd in the current context.
 */
const char *
atlas_default_json_field(const AtlasResource *res, const char *colname)
{
	StringInfoData buf;
	bool		upper = false;

	for (const AtlasField *f = res->fields; f->column; f++)
	{
		if (f->json && strcmp(f->column, colname) == 0)
			return f->json;
	}

	initStringInfo(&buf);
	for (const char *p = colname; *p; p++)
	{
		if (*p == '_' && buf.len > 0)
			upper = true;
		else
		{
			appendStringInfoChar(&buf, upper ? pg_toupper((unsigned char) *p) : *p);
			upper = false;
		}
	}
	return buf.data;
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
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			appendStringInfoChar(buf, (char) *p);
		else
			appendStringInfo(buf, "%%%02X", *p);
	}
}

/*
 * atlas_append_path
 *		Append ATLAS_API_PREFIX and a path template with its keys filled in.
 *
 * keyvals is indexed by AtlasKeyKind.  With placeholders, a missing value is
 * shown as "{column_name}" (for EXPLAIN of parameterized scans); otherwise
 * every key the template names must be present.
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
				const char *ph = key_placeholders[k];
				size_t		len;

				if (ph == NULL || strncmp(p, ph, (len = strlen(ph))) != 0)
					continue;
				if (keyvals && keyvals[k])
					append_escaped(buf, keyvals[k]);
				else if (placeholders)
					appendStringInfo(buf, "{%s}", key_columns[k]);
				else
					elog(ERROR, "no value for path key \"%s\"", key_columns[k]);
				p += len;
				matched = true;
				break;
			}
		}
		if (!matched)
			appendStringInfoChar(buf, *p++);
	}
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
	return n == 24;
}

/* Whether s matches ^[a-zA-Z0-9][a-zA-Z0-9-]*$ */
static bool
is_cluster_name(const char *s)
{
	if (!isalnum((unsigned char) *s))
		return false;
	for (; *s; s++)
	{
		if (!isalnum((unsigned char) *s) && *s != '-')
			return false;
	}
	return true;
}

/*
 * atlas_validate_key_value
 *		Check a path value against the API's pattern before any request.
 *
 * Atlas would answer a malformed value with a 400; rejecting it here gives
 * a message that names the column and the expected form.
 */
void
atlas_validate_key_value(AtlasKeyKind kind, const char *value)
{
	switch (kind)
	{
		case ATLAS_KEY_GROUP:
		case ATLAS_KEY_ID:
			if (!is_object_id(value))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for column \"%s\": \"%s\"",
								key_columns[kind], value),
						 errdetail("Atlas identifiers are 24 lowercase hexadecimal digits.")));
			break;
		case ATLAS_KEY_CLUSTER:
			if (!is_cluster_name(value))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for column \"%s\": \"%s\"",
								key_columns[kind], value),
						 errdetail("Atlas cluster names start with a letter or digit and contain only letters, digits and hyphens.")));
			break;
		default:
			break;
	}
}
