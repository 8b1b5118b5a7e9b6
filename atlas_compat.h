/*-------------------------------------------------------------------------
 *
 * atlas_compat.h
 *		  One source for PostgreSQL 15, 16, 17 and 18
 *
 * Every PG_VERSION_NUM test of the extension lives here, so that the code
 * itself is written once, against the newest server API.  Where a newer
 * server changed an API, this header defines the newer form on the older
 * servers (as pgvector and the contrib modules do), and the callers use
 * only that.  Where an API that exists in every supported version does the
 * job (snprintf instead of strlcpy, whose declaration the packaged server
 * headers of 17 and 18 may assume from a newer C library), the code uses
 * that instead, and nothing is needed here.
 *
 * Included by atlas_snapshot_fdw.h, after postgres.h; defines no objects,
 * only macros and inline functions that allocate nothing and cannot fail.
 *
 * Copyright (c) 2026, atlas_snapshot_fdw developers
 *
 * IDENTIFICATION
 *		  atlas_compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ATLAS_COMPAT_H
#define ATLAS_COMPAT_H

#include "commands/explain.h"
#include "executor/executor.h"
#include "nodes/plannodes.h"
#include "optimizer/pathnode.h"
#include "utils/wait_event.h"

#if PG_VERSION_NUM < 150000
#error "atlas_snapshot_fdw requires PostgreSQL 15 or later"
#endif

/*
 * 16 moved the varlena macros (SET_VARSIZE, VARDATA, ...) out of postgres.h
 * into varatt.h.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * 18 moved ExplainState to commands/explain_state.h and the
 * ExplainProperty* functions to commands/explain_format.h; commands/
 * explain.h had both before.
 */
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif

/*
 * create_foreignscan_path(), in the form of 18: 17 added fdw_restrictinfo
 * (restriction clauses of a pushed-down join, NIL for a base relation) and
 * 18 added disabled_nodes (the count of disabled nodes in the path).  On
 * older servers the extra arguments are dropped; callers pass 0 and NIL, so
 * the path is the same on every version.  The parenthesized name calls the
 * server's function and is never expanded again.
 */
#if PG_VERSION_NUM < 170000
#define create_foreignscan_path(root, rel, target, rows, disabled_nodes, \
								startup_cost, total_cost, pathkeys, \
								required_outer, fdw_outerpath, \
								fdw_restrictinfo, fdw_private) \
	(create_foreignscan_path) ((root), (rel), (target), (rows), \
							   (startup_cost), (total_cost), (pathkeys), \
							   (required_outer), (fdw_outerpath), \
							   (fdw_private))
#elif PG_VERSION_NUM < 180000
#define create_foreignscan_path(root, rel, target, rows, disabled_nodes, \
								startup_cost, total_cost, pathkeys, \
								required_outer, fdw_outerpath, \
								fdw_restrictinfo, fdw_private) \
	(create_foreignscan_path) ((root), (rel), (target), (rows), \
							   (startup_cost), (total_cost), (pathkeys), \
							   (required_outer), (fdw_outerpath), \
							   (fdw_restrictinfo), (fdw_private))
#endif

/*
 * atlas_create_wait_event_set
 *		CreateWaitEventSet: 17 replaced its MemoryContext by a ResourceOwner
 *		(the set is then allocated in TopMemoryContext).  The caller frees
 *		the set itself, on ERROR too (loop.c), so none is given on 17+.
 */
#if PG_VERSION_NUM >= 170000
#define atlas_create_wait_event_set(cxt, nevents) \
	CreateWaitEventSet(NULL, (nevents))
#else
#define atlas_create_wait_event_set(cxt, nevents) \
	CreateWaitEventSet((cxt), (nevents))
#endif

/*
 * atlas_scan_check_as_user
 *		The user whose permissions a foreign scan runs with, InvalidOid for
 *		the current user.
 *
 * 16 moved permission checking from RangeTblEntry.checkAsUser to
 * RTEPermissionInfo, and the planner copies the user into
 * ForeignScan.checkAsUser; before 16 it is only in the range table entry.
 * This is what ExecCheckPermissions (16+) and ExecCheckRTEPerms (15) check,
 * so the user mapping chosen is the one whose permissions were checked
 * (a view owner's, for a foreign table read through a view).
 */
static inline Oid
atlas_scan_check_as_user(ForeignScan *fsplan, EState *estate)
{
#if PG_VERSION_NUM >= 160000
	return fsplan->checkAsUser;
#else
	return exec_rt_fetch(fsplan->scan.scanrelid, estate)->checkAsUser;
#endif
}

/*
 * The instance-wide segment (shmem.c).  17 added the DSM registry
 * (GetNamedDSMSegment), which gives a library that is not in
 * shared_preload_libraries a named segment of its own; before 17 only a
 * preloaded library can have shared memory.
 */
#if PG_VERSION_NUM >= 170000
#include "storage/dsm_registry.h"
#define ATLAS_HAVE_DSM_REGISTRY 1
#endif

/*
 * atlas_wait_event_new
 *		A wait event of our own, shown by name in pg_stat_activity: 17 added
 *		custom wait events (WaitEventExtensionNew, which returns the same
 *		one for the same name in every backend); before 17 every extension
 *		wait is "Extension".  May throw (17+: out of shared memory for more
 *		names).
 */
#if PG_VERSION_NUM >= 170000
#define atlas_wait_event_new(name) WaitEventExtensionNew(name)
#else
#define atlas_wait_event_new(name) ((uint32) PG_WAIT_EXTENSION)
#endif

#endif							/* ATLAS_COMPAT_H */
