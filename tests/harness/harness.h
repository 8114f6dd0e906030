/* harness.h: real parts for integration tests. Starts a real redis-server
 * on a free port in a temporary folder, and real processes (the broker and
 * services built in MEDREP_BIN_DIR), kills them with any signal, restarts
 * them. Everything a test starts is stopped and removed by the matching
 * stop call, and by h_cleanup_all() registered with atexit on first use,
 * so a failing test leaves no process behind. */
#ifndef MEDREP_HARNESS_H
#define MEDREP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int h_free_port(void);

/* A new temporary folder (mkdtemp under $TMPDIR or /tmp); path copied to
 * buf. Returns 0 or -1. */
int h_mkdtemp(char *buf, size_t cap, const char *prefix);
/* rm -rf path (only paths h_mkdtemp made). */
void h_rmtree(const char *path);
/* Writes text to path; returns 0 or -1. */
int h_write_file(const char *path, const char *text);

/* The path of a built program, e.g. h_bin("broker") -> ".../bin/broker". Static buffer per call site is not kept: copy it. */
const char *h_bin(const char *name, char *buf, size_t cap);

typedef struct {
    int port;
    char dir[256];
    pid_t pid;
} h_redis;

/* redis-server on a free port (retrying on collision), data in its own
 * temporary folder, appendonly yes with appendfsync always (so a SIGKILL
 * loses nothing acknowledged). Waits until it answers PING. 0 or -1. */
int h_redis_start(h_redis *r);
/* Sends sig and waits for the process to end. */
void h_redis_kill(h_redis *r, int sig);
/* Starts it again on the same port and folder (after h_redis_kill). */
int h_redis_restart(h_redis *r);
/* Kills, waits and removes the folder. Safe to call twice. */
void h_redis_stop(h_redis *r);

typedef struct {
    pid_t pid;
    char name[64];
    char log_path[256];
} h_proc;

/* Starts argv[0] (a path) with argv, stdout and stderr appended to
 * log_path (NULL: inherit). Does not wait for readiness. 0 or -1. */
int h_proc_start(h_proc *p, const char *const *argv, const char *log_path);
/* Sends sig and waits for the end (SIGKILL after 5 s for other signals). */
void h_proc_kill(h_proc *p, int sig);
bool h_proc_alive(h_proc *p);
/* Prints the last `lines` lines of the process's log to stderr (for
 * failing tests). */
void h_proc_dump_log(const h_proc *p, int lines);

/* Kills every process and redis started through the harness and removes
 * their folders. Registered with atexit on first start. */
void h_cleanup_all(void);

#endif
