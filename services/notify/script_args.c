/* script_args.c: the arguments of a Lua script call (script_args.h). */
#include "script_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void nt_args_push(nt_args *a, const void *p, size_t len)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        char **data = realloc(a->data, cap * sizeof *data);
        if (data)
            a->data = data;
        size_t *lens = data ? realloc(a->lens, cap * sizeof *lens) : NULL;
        if (lens)
            a->lens = lens;
        if (!data || !lens) {
            a->oom = true;
            return;
        }
        a->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        a->oom = true;
        return;
    }
    memcpy(copy, p, len);
    copy[len] = '\0';
    a->data[a->n] = copy;
    a->lens[a->n++] = len;
}

void nt_args_str(nt_args *a, const char *s)
{
    nt_args_push(a, s, strlen(s));
}

void nt_args_num(nt_args *a, long long v)
{
    char buf[24];
    nt_args_str(a, (snprintf(buf, sizeof buf, "%lld", v), buf));
}

/* Fills the reserved argument `slot` with the number v. */
void nt_args_set_num(nt_args *a, size_t slot, long long v)
{
    char buf[24];
    int len = snprintf(buf, sizeof buf, "%lld", v);
    char *copy = slot < a->n ? strdup(buf) : NULL;
    if (!copy) {
        a->oom = true;
        return;
    }
    free(a->data[slot]);
    a->data[slot] = copy;
    a->lens[slot] = (size_t)len;
}

/* One command: its argc, then its arguments (C strings, or lens given). */
void nt_args_cmd(nt_args *a, int argc, const char *const *argv, const size_t *lens)
{
    nt_args_num(a, argc);
    for (int i = 0; i < argc; i++)
        nt_args_push(a, argv[i], lens ? lens[i] : strlen(argv[i]));
}

void nt_args_free(nt_args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->data[i]);
    free(a->data);
    free(a->lens);
    memset(a, 0, sizeof *a);
}
