# atlas_snapshot_fdw: PGXS build
MODULE_big = atlas_snapshot_fdw
OBJS = \
	$(WIN32RES) \
	atlas_snapshot_fdw.o \
	budget.o \
	calendar.o \
	chains.o \
	connection.o \
	deparse.o \
	enumerate.o \
	fetch.o \
	jsonparse.o \
	loop.o \
	keys.o \
	oauth.o \
	option.o \
	pace.o \
	report.o \
	resource.o \
	response.o \
	shmem.o \
	stats.o \
	url.o
PGFILEDESC = "atlas_snapshot_fdw - foreign-data wrapper for MongoDB Atlas backup snapshots"

EXTENSION = atlas_snapshot_fdw
DATA = atlas_snapshot_fdw--1.0.sql atlas_snapshot_fdw--1.0--1.1.sql atlas_snapshot_fdw--1.1--1.2.sql atlas_snapshot_fdw--1.2--1.3.sql

REGRESS = options select pagination pushdown joins enumerate plans resources backup_extras collection_restores oauth http_errors malformed encoding memory cancel keys typed_keys urls stats reports upgrade trust_net promises tls pacing idle_wait unread_wait retained calendar token_limits async events rate_limits
REGRESS_OPTS = --load-extension=atlas_snapshot_fdw

PG_CPPFLAGS += $(shell pkg-config --cflags libcurl json-c)
SHLIB_LINK += $(shell pkg-config --libs libcurl json-c)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies: every object depends on ours
$(OBJS): atlas_compat.h atlas_snapshot_fdw.h connection_int.h shmem.h

# the release archive for PGXN (atlas_snapshot_fdw-VERSION.zip, from git archive)
.PHONY: dist
dist:
	scripts/dist.sh
