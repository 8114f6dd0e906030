/* script_args.h: the arguments of a Lua script call, built up piece by
 * piece: owned copies of binary-safe strings. Commands are encoded as
 * their argc followed by their arguments (the layout the notify scripts
 * read). An allocation failure sets oom; the caller checks it once. */
#ifndef MEDREP_NOTIFY_SCRIPT_ARGS_H
#define MEDREP_NOTIFY_SCRIPT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **data;
    size_t *lens;
    size_t n, cap;
    bool oom;
} nt_args;

void nt_args_push(nt_args *a, const void *p, size_t len);
void nt_args_str(nt_args *a, const char *s);
void nt_args_num(nt_args *a, long long v);
/* Fills the reserved argument `slot` with the number v. */
void nt_args_set_num(nt_args *a, size_t slot, long long v);
/* One command: its argc, then its arguments (C strings, or lens given). */
void nt_args_cmd(nt_args *a, int argc, const char *const *argv, const size_t *lens);
/* Frees every copy and resets a. */
void nt_args_free(nt_args *a);

#endif
