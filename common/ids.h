/* ids.h: unique identifiers (request ids, event ids, instance suffixes). */
#ifndef MEDREP_IDS_H
#define MEDREP_IDS_H

#include <stddef.h>

/* Writes 32 lowercase hex characters of kernel randomness and a NUL into
 * buf (cap >= 33). */
void mr_random_id(char *buf, size_t cap);

#endif
