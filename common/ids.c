/* ids.c: random identifiers from getrandom(2). */
#include "ids.h"

#include <stdint.h>
#include <sys/random.h>

void mr_random_id(char *buf, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t bytes[16];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    size_t i = 0;
    for (; i < sizeof bytes && 2 * i + 2 < cap; i++) {
        buf[2 * i] = hex[bytes[i] >> 4];
        buf[2 * i + 1] = hex[bytes[i] & 15];
    }
    if (cap > 0)
        buf[2 * i < cap ? 2 * i : cap - 1] = '\0';
}
