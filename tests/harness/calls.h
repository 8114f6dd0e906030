/* calls.h: small helpers the integration tests share to talk to the
 * test-counter service and to read Redis. */
#ifndef MEDREP_CALLS_H
#define MEDREP_CALLS_H

#include "events.pb-c.h"
#include "stack.h"
#include "store.h"

/* Fills req as counter.<method> for region with a Probe payload; buf
 * (>= 64 bytes) holds the payload. */
void h_probe_request(Medrep__Request *req, const char *method, const char *region,
                     int64_t value, uint8_t *buf);

/* Calls method on service and returns the reply's status code; the
 * reply is freed. *replayed tells whether it was a stored reply. */
int h_call_code(mr_client *c, const char *service, const char *method, const char *region,
                int64_t value, const char *request_id, bool *replayed);

/* A store on the stack's redis i. Caller frees. */
mr_store *h_stack_store(h_stack *s, int i);

/* The integer value of GET/HLEN/XLEN/... key (fmt has one %s); -1 on error. */
long long h_redis_int(mr_store *store, const char *fmt, const char *key);

/* Waits up to timeout_ms until the consumer group `group` of region's
 * event stream has read and acknowledged every entry (no lag, nothing
 * pending). 0 when it has, -1 on time-out. */
int h_wait_events_handled(mr_store *store, const char *region, const char *group, int timeout_ms);

#endif
