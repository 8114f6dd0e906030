/* errors.h: the status codes every reply carries, and their names.
 *
 * The codes are the proto enum medrep.Code (envelope.proto); this header
 * gives them short C names and a printable name for logs and people. */
#ifndef MEDREP_ERRORS_H
#define MEDREP_ERRORS_H

#include "envelope.pb-c.h"

typedef enum {
    MR_OK = MEDREP__CODE__OK,
    MR_CANCELLED = MEDREP__CODE__CANCELLED,
    MR_UNKNOWN = MEDREP__CODE__UNKNOWN,
    MR_INVALID_ARGUMENT = MEDREP__CODE__INVALID_ARGUMENT,
    MR_DEADLINE_EXCEEDED = MEDREP__CODE__DEADLINE_EXCEEDED,
    MR_NOT_FOUND = MEDREP__CODE__NOT_FOUND,
    MR_ALREADY_EXISTS = MEDREP__CODE__ALREADY_EXISTS,
    MR_PERMISSION_DENIED = MEDREP__CODE__PERMISSION_DENIED,
    MR_RESOURCE_EXHAUSTED = MEDREP__CODE__RESOURCE_EXHAUSTED,
    MR_FAILED_PRECONDITION = MEDREP__CODE__FAILED_PRECONDITION,
    MR_ABORTED = MEDREP__CODE__ABORTED,
    MR_OUT_OF_RANGE = MEDREP__CODE__OUT_OF_RANGE,
    MR_UNIMPLEMENTED = MEDREP__CODE__UNIMPLEMENTED,
    MR_INTERNAL = MEDREP__CODE__INTERNAL,
    MR_UNAVAILABLE = MEDREP__CODE__UNAVAILABLE,
} mr_code;

/* "OK", "INVALID_ARGUMENT", ...; "CODE_<n>" style text is never returned:
 * an unknown value gives "UNKNOWN". The string is static. */
const char *mr_code_name(int code);

/* The code whose name is `name` (case-insensitive), or -1. */
int mr_code_from_name(const char *name);

#endif
