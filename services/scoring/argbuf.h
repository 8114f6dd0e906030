/* argbuf.h: one Redis command with many arguments built up piece by piece
 * (HSET key f1 v1 f2 v2 ..., ZADD key s1 m1 ...), so a batch of rows
 * stages one command per key instead of one per row. */
#ifndef MEDREP_SCORING_ARGBUF_H
#define MEDREP_SCORING_ARGBUF_H

#include <stddef.h>

#include "store.h"

typedef struct {
    char **argv;      /* owned copies */
    size_t *lens;
    size_t n, cap;
    size_t head;      /* the command and key: flushed only with more than these */
    int oom;
} sc_argbuf;

/* Starts a command: argbuf holds cmd and key. */
void sc_argbuf_start(sc_argbuf *a, const char *cmd, const char *key);
/* Appends one argument (copied). */
void sc_argbuf_push(sc_argbuf *a, const char *arg, size_t len);
void sc_argbuf_push_str(sc_argbuf *a, const char *arg);
/* Stages the command in tx when it has arguments beyond its head; frees
 * everything. 0, or -1 when out of memory at any point. */
int sc_argbuf_flush(sc_argbuf *a, mr_tx *tx);
void sc_argbuf_free(sc_argbuf *a);

#endif
