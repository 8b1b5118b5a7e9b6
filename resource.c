/*-------------------------------------------------------------------------
 *
 * resource.c
 *		  The catalog of Atlas endpoints that foreign tables can read
 *
 * Each resource names its list endpoint, its single-object endpoint, the
 * API version it must be asked for, the request keys it accepts and
 * requires (what each key is, and how it fills a path, is in keys.c) and
 * a column table (SQL name, JSON name, SQL type).  The column table is the
 * one place where irregular JSON names such as "masterKeyUUID" are spelled
 * out; IMPORT FOREIGN SCHEMA creates tables from it and scans use it to map
 * columns to fields.  Everything here is static data or palloc'd results in
 * the caller's memory context.
 *
 * Most resources are list endpoints whose rows are the "results" of each
 * page.  A resource may instead name where its rows are inside one
 * document (rows_path): the document itself (a backup schedule), or the
 * elements of arrays nested in it ("policies.policyItems"), whose columns
 * may also read the enclosing element (a JSON name "^id").
 *
 * Each resource also carries what Atlas announced for its endpoints
 * (deprecation, sunset, removal from the spec): the one calendar that
 * atlas_snapshot_fdw_endpoints() (calendar.c) lists, so that a resource
 * added here is listed there with no other change.  The clusters list
 * names the parameter that adds deleted clusters holding backups.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  resource.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "atlas_snapshot_fdw.h"
#include "utils/rel.h"

#define KEY(k)	ATLAS_KEY_BIT(ATLAS_KEY_##k)
#define GROUP_CLUSTER	(KEY(GROUP) | KEY(CLUSTER))
/* the 1.2 fields of the 1.0 resources: see AtlasResource */
#define LIST_ROWS_1_2	NULL, NULL, NULL, NULL, NULL, SNAPSHOT_ABSENT
/* a 404 by id with these codes is a missing snapshot, not an error */
#define SNAPSHOT_ABSENT	"SNAPSHOT_NOT_FOUND INVALID_SNAPSHOT_ID"
/* the calendar of a resource for which Atlas announced nothing */
#define NO_CALENDAR	{NULL, NULL, NULL}
/* the organization paths, filters and fixed query of a resource with none */
#define NO_ORG		NULL, NULL, NULL, 0, NULL, NULL
/* the fields after id_absent_codes: no deleted_param, calendar or org paths */
#define CURRENT		NULL, NO_CALENDAR, NO_ORG
/* the fields after the column table of a plain list resource */
#define LIST_ROWS	LIST_ROWS_1_2, CURRENT

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

/*
 * Backup extras (1.2).  Integers the schemas declare as int32 are integer
 * columns.  The columns a resource lists as credentials hold download
 * links that grant access to the data: IMPORT FOREIGN SCHEMA leaves them
 * out, and only a column the user declares reads them.
 */

/* DiskBackupSnapshotSchedule20240805: one document per cluster */
static const AtlasField backup_schedule_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"cluster_id", "clusterId", "text", false},
	{"auto_copy_settings_enabled", "autoCopySettingsEnabled", "boolean", false},
	{"auto_export_enabled", "autoExportEnabled", "boolean", false},
	{"copy_policy_items_enabled", "copyPolicyItemsEnabled", "boolean", false},
	{"copy_settings", "copySettings", "jsonb", false},
	{"export", "export", "jsonb", false},
	{"extra_retention_settings", "extraRetentionSettings", "jsonb", false},
	{"next_snapshot", "nextSnapshot", "timestamptz", false},
	{"policies", "policies", "jsonb", false},
	{"reference_hour_of_day", "referenceHourOfDay", "integer", false},
	{"reference_minute_of_hour", "referenceMinuteOfHour", "integer", false},
	{"restore_window_days", "restoreWindowDays", "integer", false},
	{"use_org_and_group_names_in_export_prefix", "useOrgAndGroupNamesInExportPrefix", "boolean", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

/* DiskBackupApiPolicyItem, from the schedule's policies[].policyItems[] */
static const AtlasField backup_policy_item_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"policy_id", "^id", "text", false},
	{"id", "id", "text", false},
	{"frequency_type", "frequencyType", "text", false},
	{"frequency_interval", "frequencyInterval", "integer", false},
	{"retention_unit", "retentionUnit", "text", false},
	{"retention_value", "retentionValue", "integer", false},
	{NULL}
};

/* DiskBackupSnapshotRestoreJob */
static const AtlasField restore_job_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"id", "id", "text", false},
	{"cancelled", "cancelled", "boolean", false},
	{"delivery_type", "deliveryType", "text", false},
	{"desired_timestamp", "desiredTimestamp", "jsonb", false},
	{"expired", "expired", "boolean", false},
	{"expires_at", "expiresAt", "timestamptz", false},
	{"failed", "failed", "boolean", false},
	{"finished_at", "finishedAt", "timestamptz", false},
	{"oplog_inc", "oplogInc", "integer", false},
	{"oplog_ts", "oplogTs", "integer", false},
	{"point_in_time_utc_seconds", "pointInTimeUTCSeconds", "integer", false},
	{"snapshot_id", "snapshotId", "text", false},
	{"target_cluster_name", "targetClusterName", "text", false},
	{"target_group_id", "targetGroupId", "text", false},
	{"timestamp", "timestamp", "timestamptz", false},
	{"links", "links", "jsonb", false},
	{"delivery_url", "deliveryUrl", "text[]", false},
	{"private_download_delivery_urls", "privateDownloadDeliveryUrls", "jsonb", false},
	{"components", "components", "jsonb", false},
	{NULL}
};

static const char *const restore_job_credentials[] = {
	"delivery_url", "private_download_delivery_urls", "components", NULL
};

/* FlexBackupRestoreJob20241113 */
static const AtlasField flex_restore_job_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"id", "id", "text", false},
	{"delivery_type", "deliveryType", "text", false},
	{"expiration_date", "expirationDate", "timestamptz", false},
	{"instance_name", "instanceName", "text", false},
	{"project_id", "projectId", "text", false},
	{"restore_finished_date", "restoreFinishedDate", "timestamptz", false},
	{"restore_scheduled_date", "restoreScheduledDate", "timestamptz", false},
	{"snapshot_finished_date", "snapshotFinishedDate", "timestamptz", false},
	{"snapshot_id", "snapshotId", "text", false},
	{"status", "status", "text", false},
	{"target_deployment_item_name", "targetDeploymentItemName", "text", false},
	{"target_project_id", "targetProjectId", "text", false},
	{"links", "links", "jsonb", false},
	{"snapshot_url", "snapshotUrl", "text", false},
	{NULL}
};

static const char *const flex_restore_job_credentials[] = {
	"snapshot_url", NULL
};

/* DiskBackupExportJob */
static const AtlasField export_job_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"id", "id", "text", false},
	{"components", "components", "jsonb", false},
	{"created_at", "createdAt", "timestamptz", false},
	{"custom_data", "customData", "jsonb", false},
	{"export_bucket_id", "exportBucketId", "text", false},
	{"export_status", "exportStatus", "jsonb", false},
	{"finished_at", "finishedAt", "timestamptz", false},
	{"prefix", "prefix", "text", false},
	{"snapshot_id", "snapshotId", "text", false},
	{"state", "state", "text", false},
	{"state_reason", "stateReason", "jsonb", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

/* DiskBackupSnapshotExportBucketResponse (2024-05-30): AWS, AZURE, GCP */
static const AtlasField export_bucket_fields[] = {
	{"group_id", NULL, "text", true},
	{"id", "_id", "text", false},
	{"bucket_name", "bucketName", "text", false},
	{"cloud_provider", "cloudProvider", "text", false},
	{"iam_role_id", "iamRoleId", "text", false},
	{"region", "region", "text", false},
	{"require_private_networking", "requirePrivateNetworking", "boolean", false},
	{"role_id", "roleId", "text", false},
	{"service_url", "serviceUrl", "text", false},
	{"tenant_id", "tenantId", "uuid", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

/* DataProtectionSettings20231001: one document per project, if any */
static const AtlasField compliance_policy_fields[] = {
	{"group_id", NULL, "text", true},
	{"project_id", "projectId", "text", false},
	{"state", "state", "text", false},
	{"authorized_email", "authorizedEmail", "text", false},
	{"authorized_user_first_name", "authorizedUserFirstName", "text", false},
	{"authorized_user_last_name", "authorizedUserLastName", "text", false},
	{"copy_protection_enabled", "copyProtectionEnabled", "boolean", false},
	{"deletable", "deletable", "boolean", false},
	{"encryption_at_rest_enabled", "encryptionAtRestEnabled", "boolean", false},
	{"on_demand_policy_item", "onDemandPolicyItem", "jsonb", false},
	{"pit_enabled", "pitEnabled", "boolean", false},
	{"restore_window_days", "restoreWindowDays", "integer", false},
	{"scheduled_policy_items", "scheduledPolicyItems", "jsonb", false},
	{"updated_date", "updatedDate", "timestamptz", false},
	{"updated_user", "updatedUser", "text", false},
	{NULL}
};

/*
 * Collection restores and snapshot contents, API version 2025-03-12:
 * the schemas of that version's ApiAtlasCollectionRestoreJobResponse,
 * DiskBackupDatabaseResponse and DiskBackupCollectionResponse.  A job has
 * no links; int32 fields are integer columns, int64 ones bigint.
 */
static const AtlasField collection_restore_job_fields[] = {
	SNAPSHOT_KEY_FIELDS,
	{"id", "id", "text", false},
	{"collection_suffix", "collectionSuffix", "text", false},
	{"collections", "collections", "jsonb", false},
	{"created_at", "createdAt", "timestamptz", false},
	{"database_suffix", "databaseSuffix", "text", false},
	{"databases", "databases", "jsonb", false},
	{"error_message", "errorMessage", "text", false},
	{"finished_at", "finishedAt", "timestamptz", false},
	{"index_status", "indexStatus", "jsonb", false},
	{"index_strategy", "indexStrategy", "text", false},
	{"oplog_inc", "oplogInc", "integer", false},
	{"oplog_ts", "oplogTs", "integer", false},
	{"point_in_time_utc_seconds", "pointInTimeUtcSeconds", "integer", false},
	{"restored_documents", "restoredDocuments", "bigint", false},
	{"snapshot_id", "snapshotId", "text", false},
	{"state", "state", "text", false},
	{"target_cluster_name", "targetClusterName", "text", false},
	{"target_group_id", "targetGroupId", "text", false},
	{"total_documents", "totalDocuments", "bigint", false},
	{"write_strategy", "writeStrategy", "text", false},
	{NULL}
};

/* Key columns of a snapshot's contents: the snapshot is in the path */
#define SNAPSHOT_CONTENT_KEY_FIELDS \
	SNAPSHOT_KEY_FIELDS, \
	{"snapshot_id", NULL, "text", true}

static const AtlasField snapshot_database_fields[] = {
	SNAPSHOT_CONTENT_KEY_FIELDS,
	{"name", "name", "text", true},
	{"links", "links", "jsonb", false},
	{NULL}
};

/*
 * Events: EventViewForNdsGroup and EventViewForOrg, the union of the
 * members of their views, plus clusterName, which Atlas sends on project
 * events about a cluster although no view declares it.  group_id and
 * org_id are request keys that read groupId and orgId when the request
 * did not give them (project events carry their orgId; organization
 * events have no groupId).  raw comes with includeRaw=true, which every
 * request sends; document is the whole event.
 */
static const AtlasField event_fields[] = {
	{"group_id", "groupId", "text", false},
	{"org_id", "orgId", "text", false},
	{"id", "id", "text", true},
	{"created", "created", "timestamptz", true},
	{"event_type", "eventTypeName", "text", true},
	{"cluster_name", "clusterName", "text", false},
	{"username", "username", "text", false},
	{"user_id", "userId", "text", false},
	{"api_key_id", "apiKeyId", "text", false},
	{"public_key", "publicKey", "text", false},
	{"remote_address", "remoteAddress", "text", false},
	{"is_global_admin", "isGlobalAdmin", "boolean", false},
	{"delegate_principal", "delegatePrincipal", "jsonb", false},
	{"alert_id", "alertId", "text", false},
	{"alert_config_id", "alertConfigId", "text", false},
	{"db_user_username", "dbUserUsername", "text", false},
	{"hostname", "hostname", "text", false},
	{"port", "port", "integer", false},
	{"replica_set_name", "replicaSetName", "text", false},
	{"shard_name", "shardName", "text", false},
	{"database", "database", "text", false},
	{"collection", "collection", "text", false},
	{"op_type", "opType", "text", false},
	{"team_id", "teamId", "text", false},
	{"target_public_key", "targetPublicKey", "text", false},
	{"target_username", "targetUsername", "text", false},
	{"whitelist_entry", "whitelistEntry", "text", false},
	{"resource_id", "resourceId", "text", false},
	{"resource_type", "resourceType", "text", false},
	{"invoice_id", "invoiceId", "text", false},
	{"payment_id", "paymentId", "text", false},
	{"current_value", "currentValue", "jsonb", false},
	{"metric_name", "metricName", "text", false},
	{"links", "links", "jsonb", false},
	{"raw", "raw", "jsonb", false},
	{"document", "$", "jsonb", false},
	{NULL}
};

/*
 * The WHERE clauses that narrow an event list: eventType and clusterNames
 * repeat once per value, minDate and maxDate bound created (the API does
 * not say whether inclusively: deparse.c widens them by a second).  The
 * organization endpoint has no clusterNames.
 */
static const AtlasFilter event_filters[] = {
	{"event_type", ATLAS_FILTER_TEXT, "eventType", NULL, false,
	atlas_is_event_type},
	{"created", ATLAS_FILTER_TIME, "minDate", "maxDate", false, NULL},
	{"cluster_name", ATLAS_FILTER_TEXT, "clusterNames", NULL, true,
	atlas_is_cluster_name},
	{NULL}
};

/* AtlasOrganization */
static const AtlasField organization_fields[] = {
	{"id", "id", "text", true},
	{"name", "name", "text", true},
	{"is_deleted", "isDeleted", "boolean", false},
	{"skip_default_alerts_settings", "skipDefaultAlertsSettings", "boolean", false},
	{"links", "links", "jsonb", false},
	{NULL}
};

static const AtlasField snapshot_collection_fields[] = {
	SNAPSHOT_CONTENT_KEY_FIELDS,
	{"database_name", NULL, "text", true},
	{"name", "name", "text", true},
	{"links", "links", "jsonb", false},
	{NULL}
};

#define SNAPSHOT_CONTENTS	(GROUP_CLUSTER | KEY(SNAPSHOT))

/*
 * A 404 that means "nothing there" for a snapshot's contents: a missing
 * snapshot has no databases (as a missing snapshot by id is no row), and
 * a missing database or collection (the spec names only the generic
 * RESOURCE_NOT_FOUND for them) is none.  A missing project or cluster is
 * still an error.
 */
#define SNAPSHOT_CONTENT_ABSENT	SNAPSHOT_ABSENT " RESOURCE_NOT_FOUND"

/*
 * RateLimitEndpointSetResponse (listRateLimits, 2025-03-12): one Atlas
 * rate-limit bucket definition (endpoint set and scope); group_id and
 * org_id are the filters it was asked with (groupId: the project's
 * GROUP-scoped sets, orgId: the organization's ORGANIZATION-scoped ones)
 */
static const AtlasField rate_limit_fields[] = {
	{"group_id", NULL, "text", false},
	{"org_id", NULL, "text", false},
	{"endpoint_set_id", "endpointSetId", "text", false},
	{"endpoint_set_name", "endpointSetName", "text", false},
	{"scope", "scope", "text", false},
	{"capacity", "capacity.value", "bigint", false},
	{"capacity_default", "capacity.defaultValue", "bigint", false},
	{"refill_rate", "refillRate.value", "bigint", false},
	{"refill_rate_default", "refillRate.defaultValue", "bigint", false},
	{"refill_duration_seconds", "refillDurationSeconds.value", "bigint", false},
	{"refill_duration_seconds_default", "refillDurationSeconds.defaultValue", "bigint", false},
	{"endpoints", "endpoints", "jsonb", false},
	{NULL}
};

static const AtlasResource resources[] = {
	{
		"cluster_snapshots",
		"/groups/{group}/clusters/{cluster}/backup/snapshots",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/{id}",
		"2023-01-01", ATLAS_PAGING_DECLARED,
		GROUP_CLUSTER | KEY(ID) | KEY(POINT_IN_TIME) | KEY(OPLOG_TS) | KEY(OPLOG_INC),
		GROUP_CLUSTER, NULL, cluster_snapshot_fields, LIST_ROWS
	},
	{
		"sharded_cluster_snapshots",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/shardedClusters",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/shardedCluster/{id}",
		"2023-01-01", ATLAS_PAGING_UNDECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, NULL, sharded_snapshot_fields, LIST_ROWS
	},
	{
		"serverless_snapshots",
		"/groups/{group}/serverless/{cluster}/backup/snapshots",
		"/groups/{group}/serverless/{cluster}/backup/snapshots/{id}",
		"2023-01-01", ATLAS_PAGING_DECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, "flex_snapshots", serverless_snapshot_fields, LIST_ROWS_1_2,
		NULL, {"", "2026-01-22", NULL}, NO_ORG
	},
	{
		"flex_snapshots",
		"/groups/{group}/flexClusters/{cluster}/backup/snapshots",
		"/groups/{group}/flexClusters/{cluster}/backup/snapshots/{id}",
		"2024-11-13", ATLAS_PAGING_DECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, NULL, flex_snapshot_fields, LIST_ROWS
	},
	{
		"tenant_snapshots",
		"/groups/{group}/clusters/{cluster}/backup/tenant/snapshots",
		"/groups/{group}/clusters/{cluster}/backup/tenant/snapshots/{id}",
		"2023-01-01", ATLAS_PAGING_NONE, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, "flex_snapshots", flex_snapshot_fields, LIST_ROWS_1_2,
		NULL, {"2025-06-11", "2026-01-22", "2026-04-17"}, NO_ORG
	},
	{
		"projects", "/groups", NULL,
		"2023-01-01", ATLAS_PAGING_DECLARED, 0, 0, NULL, project_fields, LIST_ROWS
	},
	{
		"clusters", "/groups/{group}/clusters", NULL,
		"2024-08-05", ATLAS_PAGING_DECLARED, KEY(GROUP), KEY(GROUP), NULL, cluster_fields, LIST_ROWS_1_2,
		"includeDeletedWithRetainedBackups", NO_CALENDAR, NO_ORG
	},
	{
		"serverless_instances", "/groups/{group}/serverless", NULL,
		"2023-01-01", ATLAS_PAGING_DECLARED, KEY(GROUP), KEY(GROUP), "flex_clusters",
		serverless_instance_fields, LIST_ROWS_1_2, NULL, {"", "2027-01-18", NULL},
		NO_ORG
	},
	{
		"flex_clusters", "/groups/{group}/flexClusters", NULL,
		"2024-11-13", ATLAS_PAGING_DECLARED, KEY(GROUP), KEY(GROUP), NULL, flex_cluster_fields, LIST_ROWS
	},
	{
		"backup_schedules",
		"/groups/{group}/clusters/{cluster}/backup/schedule", NULL,
		"2024-08-05", ATLAS_PAGING_NONE, GROUP_CLUSTER, GROUP_CLUSTER, NULL,
		backup_schedule_fields, "", NULL, "BACKUP_CONFIG_NOT_FOUND", NULL, NULL,
		NULL,
		CURRENT
	},
	{
		"backup_policy_items",
		"/groups/{group}/clusters/{cluster}/backup/schedule", NULL,
		"2024-08-05", ATLAS_PAGING_NONE, GROUP_CLUSTER, GROUP_CLUSTER, NULL,
		backup_policy_item_fields, "policies.policyItems", NULL,
		"BACKUP_CONFIG_NOT_FOUND", NULL, NULL, NULL,
		CURRENT
	},
	{
		"restore_jobs",
		"/groups/{group}/clusters/{cluster}/backup/restoreJobs",
		"/groups/{group}/clusters/{cluster}/backup/restoreJobs/{id}",
		"2023-01-01", ATLAS_PAGING_DECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, NULL, restore_job_fields, NULL, NULL, NULL,
		"Project Backup Manager", restore_job_credentials,
		"RESTORE_JOB_NOT_FOUND RESTORE_JOB_NOT_FOUND_IN_GROUP INVALID_JOB_ID",
		CURRENT
	},
	{
		"flex_restore_jobs",
		"/groups/{group}/flexClusters/{cluster}/backup/restoreJobs",
		"/groups/{group}/flexClusters/{cluster}/backup/restoreJobs/{id}",
		"2024-11-13", ATLAS_PAGING_DECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, NULL, flex_restore_job_fields, NULL, NULL, NULL, NULL,
		flex_restore_job_credentials, "RESOURCE_NOT_FOUND",
		CURRENT
	},
	{
		"export_jobs",
		"/groups/{group}/clusters/{cluster}/backup/exports",
		"/groups/{group}/clusters/{cluster}/backup/exports/{id}",
		"2023-01-01", ATLAS_PAGING_DECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, NULL, export_job_fields, NULL, NULL, NULL,
		"Project Backup Manager", NULL, "RESOURCE_NOT_FOUND",
		CURRENT
	},
	{
		"export_buckets",
		"/groups/{group}/backup/exportBuckets",
		"/groups/{group}/backup/exportBuckets/{id}",
		"2024-05-30", ATLAS_PAGING_DECLARED, KEY(GROUP) | KEY(ID), KEY(GROUP),
		NULL, export_bucket_fields, NULL, NULL, NULL, NULL, NULL,
		"EXPORT_BUCKET_NOT_FOUND",
		CURRENT
	},
	{
		"backup_compliance_policies",
		"/groups/{group}/backupCompliancePolicy", NULL,
		"2023-10-01", ATLAS_PAGING_NONE, KEY(GROUP), KEY(GROUP), NULL,
		compliance_policy_fields, "", "projectId", "RESOURCE_NOT_FOUND",
		"Project Owner", NULL, NULL,
		CURRENT
	},
	{
		"collection_restore_jobs",
		"/groups/{group}/clusters/{cluster}/collectionRestoreJobs",
		"/groups/{group}/clusters/{cluster}/collectionRestoreJobs/{id}",
		"2025-03-12", ATLAS_PAGING_DECLARED, GROUP_CLUSTER | KEY(ID),
		GROUP_CLUSTER, NULL, collection_restore_job_fields, NULL, NULL, NULL,
		"Project Backup Manager", NULL, "RESOURCE_NOT_FOUND",
		CURRENT
	},
	{
		"snapshot_databases",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/{snapshot}/databases",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/{snapshot}/databases/{name}",
		"2025-03-12", ATLAS_PAGING_DECLARED, SNAPSHOT_CONTENTS | KEY(NAME),
		SNAPSHOT_CONTENTS, NULL, snapshot_database_fields, NULL, NULL,
		SNAPSHOT_ABSENT, "Project Backup Manager", NULL,
		SNAPSHOT_CONTENT_ABSENT, CURRENT
	},
	{
		"snapshot_collections",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/{snapshot}/databases/{database}/collections",
		"/groups/{group}/clusters/{cluster}/backup/snapshots/{snapshot}/databases/{database}/collections/{name}",
		"2025-03-12", ATLAS_PAGING_DECLARED,
		SNAPSHOT_CONTENTS | KEY(DATABASE) | KEY(NAME),
		SNAPSHOT_CONTENTS | KEY(DATABASE), NULL, snapshot_collection_fields,
		NULL, NULL, SNAPSHOT_CONTENT_ABSENT, "Project Backup Manager", NULL,
		SNAPSHOT_CONTENT_ABSENT, CURRENT
	},
	{
		"events",
		"/groups/{group}/events",
		"/groups/{group}/events/{id}",
		"2023-01-01", ATLAS_PAGING_DECLARED,
		KEY(GROUP) | KEY(ORG) | KEY(ID), 0, NULL, event_fields,
		NULL, NULL, NULL, NULL, NULL, "RESOURCE_NOT_FOUND",
		NULL, NO_CALENDAR,
		"/orgs/{org}/events", "/orgs/{org}/events/{id}",
		"Organization Member", KEY(GROUP) | KEY(ORG), event_filters,
		"includeRaw=true"
	},
	{
		"organizations", "/orgs", "/orgs/{id}",
		"2023-01-01", ATLAS_PAGING_DECLARED, KEY(ID), 0, NULL,
		organization_fields, NULL, NULL, NULL, "Organization Member", NULL,
		"RESOURCE_NOT_FOUND ORG_NOT_FOUND", CURRENT
	},
	{
		"rate_limits", "/rateLimits", NULL,
		"2025-03-12", ATLAS_PAGING_DECLARED, KEY(GROUP) | KEY(ORG), 0, NULL,
		rate_limit_fields, NULL, NULL, NULL, "Organization Read Only", NULL,
		NULL, CURRENT
	},
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
 * atlas_code_listed
 *		Whether errorCode code is in codes, a space-separated list (NULL:
 *		empty).  Resources list the codes of a 404 that means "nothing
 *		there" (zero rows) rather than a missing project or cluster.
 */
bool
atlas_code_listed(const char *codes, const char *code)
{
	const char *p = codes;
	size_t		len;

	if (p == NULL || code == NULL)
		return false;
	len = strlen(code);
	while (*p)
	{
		size_t		n = strcspn(p, " ");

		if (n == len && strncmp(p, code, n) == 0)
			return true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

/*
 * atlas_is_credential_column
 *		Whether a column of the resource's table holds download links.
 */
bool
atlas_is_credential_column(const AtlasResource *res, const char *column)
{
	if (res->credentials == NULL)
		return false;
	for (const char *const *c = res->credentials; *c; c++)
	{
		if (strcmp(*c, column) == 0)
			return true;
	}
	return false;
}

/*
 * atlas_is_credential_field
 *		Whether a JSON member of the resource's rows holds download links
 *		(whatever the column reading it is called).
 */
bool
atlas_is_credential_field(const AtlasResource *res, const char *json)
{
	if (res->credentials == NULL)
		return false;
	for (const char *const *c = res->credentials; *c; c++)
	{
		if (strcmp(atlas_default_json_field(res, *c), json) == 0)
			return true;
	}
	return false;
}

/*
 * atlas_keys_complete
 *		Whether a scan with the keys of mask (ATLAS_KEY_BIT) can make its
 *		requests: it has every key the resource requires, and one of those
 *		of which it requires at least one (group_id or org_id for events).
 */
bool
atlas_keys_complete(const AtlasResource *res, uint32 mask)
{
	return (mask & res->required_keys) == res->required_keys &&
		(res->any_keys == 0 || (mask & res->any_keys) != 0);
}

/*
 * atlas_org_endpoint
 *		Whether a chain with these keys reads an organization's endpoint:
 *		the resource's own (organizations), or, for a resource with
 *		organization endpoints, a chain with org_id and no group_id.
 */
bool
atlas_org_endpoint(const AtlasResource *res, const AtlasRequestKeys *keys)
{
	if (strncmp(res->list_path, "/orgs", 5) == 0)
		return true;
	return res->org_list_path != NULL && keys->present[ATLAS_KEY_ORG] &&
		!keys->present[ATLAS_KEY_GROUP];
}
