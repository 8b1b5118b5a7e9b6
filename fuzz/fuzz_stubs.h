/* fuzz_stubs.h: what pg_stubs.c offers the harness */
#ifndef FUZZ_STUBS_H
#define FUZZ_STUBS_H

#include <setjmp.h>

#include "atlas_snapshot_fdw.h"

extern sigjmp_buf fuzz_error_jump;
extern int	fuzz_errors;
extern int	fuzz_database_encoding;
extern void fuzz_reset(void);
extern bool fuzz_valid_utf8(const unsigned char *p, size_t len);

#endif
