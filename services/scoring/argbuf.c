/* argbuf.c: commands with many arguments (see argbuf.h). */
#include "argbuf.h"

#include <stdlib.h>
#include <string.h>

void sc_argbuf_push(sc_argbuf *a, const char *arg, size_t len)
{
    if (a->oom)
        return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **argv = realloc(a->argv, cap * sizeof *argv);
        if (argv)
            a->argv = argv;
        size_t *lens = argv ? realloc(a->lens, cap * sizeof *lens) : NULL;
        if (!argv || !lens) {
            a->oom = 1;
            return;
        }
        a->lens = lens;
        a->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        a->oom = 1;
        return;
    }
    memcpy(copy, arg, len);
    copy[len] = '\0';
    a->argv[a->n] = copy;
    a->lens[a->n++] = len;
}

void sc_argbuf_push_str(sc_argbuf *a, const char *arg)
{
    sc_argbuf_push(a, arg, strlen(arg));
}

void sc_argbuf_start(sc_argbuf *a, const char *cmd, const char *key)
{
    memset(a, 0, sizeof *a);
    sc_argbuf_push_str(a, cmd);
    sc_argbuf_push_str(a, key);
    a->head = 2;
}

void sc_argbuf_free(sc_argbuf *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->argv[i]);
    free(a->argv);
    free(a->lens);
    memset(a, 0, sizeof *a);
}

int sc_argbuf_flush(sc_argbuf *a, mr_tx *tx)
{
    int rc = a->oom ? -1 : 0;
    if (!rc && a->n > a->head)
        rc = mr_tx_add(tx, (int)a->n, (const char **)a->argv, a->lens);
    sc_argbuf_free(a);
    return rc;
}
