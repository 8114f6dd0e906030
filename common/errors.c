/* errors.c: printable names of the medrep status codes (errors.h), and the
 * way back from a name to its code. */
#include "errors.h"

#include <stddef.h>
#include <strings.h>

/* Indexed by code; the codes are dense from 0 (envelope.proto). */
static const char *const code_names[] = {
    [MR_OK] = "OK",
    [MR_CANCELLED] = "CANCELLED",
    [MR_UNKNOWN] = "UNKNOWN",
    [MR_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
    [MR_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
    [MR_NOT_FOUND] = "NOT_FOUND",
    [MR_ALREADY_EXISTS] = "ALREADY_EXISTS",
    [MR_PERMISSION_DENIED] = "PERMISSION_DENIED",
    [MR_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
    [MR_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
    [MR_ABORTED] = "ABORTED",
    [MR_OUT_OF_RANGE] = "OUT_OF_RANGE",
    [MR_UNIMPLEMENTED] = "UNIMPLEMENTED",
    [MR_INTERNAL] = "INTERNAL",
    [MR_UNAVAILABLE] = "UNAVAILABLE",
};

#define CODE_COUNT ((int)(sizeof(code_names) / sizeof(code_names[0])))

const char *mr_code_name(int code) {
    if (code < 0 || code >= CODE_COUNT || code_names[code] == NULL) return "UNKNOWN";
    return code_names[code];
}

int mr_code_from_name(const char *name) {
    if (name == NULL) return -1;
    for (int code = 0; code < CODE_COUNT; code++) {
        if (code_names[code] != NULL && strcasecmp(code_names[code], name) == 0) return code;
    }
    return -1;
}
