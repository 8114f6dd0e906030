/* harness.c: real processes for integration tests (see harness.h).
 *
 * Every child is started with fork and exec and asks the kernel to kill it
 * when the test process dies (PR_SET_PDEATHSIG), so even a test that
 * crashes or is killed by ctest leaves no redis-server behind. Every child
 * and every folder is also written in a small registry, and
 * h_cleanup_all() (run at exit) kills and removes whatever is still there.
 * Children must be started from the main thread: the death signal follows
 * the thread that forked.
 *
 * The harness talks to Redis with a raw socket (PING), never through the
 * store, so it tests the store instead of depending on it. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define H_MAX_CHILDREN 64
#define H_MAX_DIRS 64
#define H_REDIS_READY_TIMEOUT_MS 20000
#define H_REDIS_START_ATTEMPTS 8

/* ---- Registry of what to clean up ---- */

static pid_t children[H_MAX_CHILDREN];
static char dirs[H_MAX_DIRS][256];
static bool cleanup_registered;

static void register_cleanup(void)
{
    if (!cleanup_registered) {
        atexit(h_cleanup_all);
        cleanup_registered = true;
    }
}

static void remember_child(pid_t pid)
{
    register_cleanup();
    for (int i = 0; i < H_MAX_CHILDREN; i++) {
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
    }
}

static void forget_child(pid_t pid)
{
    for (int i = 0; i < H_MAX_CHILDREN; i++)
        if (children[i] == pid)
            children[i] = 0;
}

static void remember_dir(const char *path)
{
    register_cleanup();
    for (int i = 0; i < H_MAX_DIRS; i++) {
        if (dirs[i][0] == '\0') {
            snprintf(dirs[i], sizeof dirs[i], "%s", path);
            return;
        }
    }
}

/* The registry slot of a folder h_mkdtemp made, or -1. */
static int dir_slot(const char *path)
{
    for (int i = 0; i < H_MAX_DIRS; i++)
        if (dirs[i][0] != '\0' && strcmp(dirs[i], path) == 0)
            return i;
    return -1;
}

/* ---- Small helpers ---- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Waits up to timeout_ms for pid to end; true when it was reaped. */
static bool wait_for_exit(pid_t pid, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        pid_t got = waitpid(pid, NULL, WNOHANG);
        if (got == pid || (got < 0 && errno == ECHILD))
            return true;
        if (now_ms() >= deadline)
            return false;
        sleep_ms(5);
    }
}

/* Sends sig, waits up to grace_ms, then SIGKILL and waits for good. */
static void kill_and_reap(pid_t pid, int sig, int grace_ms)
{
    if (pid <= 0)
        return;
    kill(pid, sig);
    if (sig == SIGKILL || !wait_for_exit(pid, grace_ms)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    forget_child(pid);
}

/* In the child after fork: die with the parent, send output to log_path,
 * exec. Only async-signal-safe calls here. */
static void exec_child(pid_t parent, const char *const *argv, const char *log_path)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    if (log_path != NULL) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
    }
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0)
        dup2(null_fd, STDIN_FILENO);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

static pid_t spawn(const char *const *argv, const char *log_path)
{
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_child(parent, argv, log_path);
    if (pid > 0)
        remember_child(pid);
    return pid;
}

/* ---- Ports, folders, files ---- */

int h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

int h_mkdtemp(char *buf, size_t cap, const char *prefix)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    int n = snprintf(buf, cap, "%s/%s-XXXXXX", base, prefix ? prefix : "medrep");
    if (n < 0 || (size_t)n >= cap || mkdtemp(buf) == NULL)
        return -1;
    remember_dir(buf);
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void h_rmtree(const char *path)
{
    int slot = path ? dir_slot(path) : -1;
    if (slot < 0)
        return;
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    dirs[slot][0] = '\0';
}

int h_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    size_t len = strlen(text);
    bool ok = fwrite(text, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

const char *h_bin(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", MEDREP_BIN_DIR, name);
    return buf;
}

/* ---- redis-server ---- */

/* One PING over a raw socket; true when +PONG came back. */
static bool redis_answers_ping(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = false;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        write(fd, "PING\r\n", 6) == 6) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char reply[16] = {0};
        if (poll(&p, 1, 1000) == 1 && read(fd, reply, sizeof reply - 1) > 0)
            ok = strncmp(reply, "+PONG", 5) == 0;
    }
    close(fd);
    return ok;
}

/* True when the server wrote that it listens (in its log after offset
 * from: a restart appends to the same log). A PONG alone could come from
 * someone else's server on a port we collided with. */
static bool redis_log_says_ready(const char *log_path, long from)
{
    FILE *f = fopen(log_path, "r");
    if (f == NULL)
        return false;
    fseek(f, from, SEEK_SET);
    char line[1024];
    bool ready = false;
    while (!ready && fgets(line, sizeof line, f) != NULL)
        ready = strstr(line, "Ready to accept connections") != NULL;
    fclose(f);
    return ready;
}

/* Starts redis-server on r->port in r->dir; waits for PING. 0 when it
 * answers, 1 when it exited at once (port taken, most likely), -1 when it
 * never answered. */
static int redis_spawn_and_wait(h_redis *r)
{
    char port[16], log_path[300];
    snprintf(port, sizeof port, "%d", r->port);
    snprintf(log_path, sizeof log_path, "%s/redis.log", r->dir);
    struct stat st;
    long log_start = stat(log_path, &st) == 0 ? (long)st.st_size : 0;
    const char *argv[] = {"redis-server", "--port", port, "--dir", r->dir,
                          "--appendonly", "yes", "--appendfsync", "always",
                          "--save", "", "--bind", "127.0.0.1",
                          "--daemonize", "no", NULL};
    r->pid = spawn(argv, log_path);
    if (r->pid < 0) {
        r->pid = 0;
        return -1;
    }
    long long deadline = now_ms() + H_REDIS_READY_TIMEOUT_MS;
    while (now_ms() < deadline) {
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            forget_child(r->pid);
            r->pid = 0;
            return 1;
        }
        if (redis_log_says_ready(log_path, log_start) && redis_answers_ping(r->port))
            return 0;
        sleep_ms(20);
    }
    kill_and_reap(r->pid, SIGKILL, 0);
    r->pid = 0;
    return -1;
}

int h_redis_start(h_redis *r)
{
    memset(r, 0, sizeof *r);
    if (h_mkdtemp(r->dir, sizeof r->dir, "medrep-redis") != 0)
        return -1;
    for (int attempt = 0; attempt < H_REDIS_START_ATTEMPTS; attempt++) {
        r->port = h_free_port();
        if (r->port <= 0)
            continue;
        int rc = redis_spawn_and_wait(r);
        if (rc == 0)
            return 0;
        if (rc < 0)
            break;
    }
    fprintf(stderr, "harness: redis-server did not start (log in %s)\n", r->dir);
    return -1;
}

void h_redis_kill(h_redis *r, int sig)
{
    kill_and_reap(r->pid, sig, 10000);
    r->pid = 0;
}

int h_redis_restart(h_redis *r)
{
    if (r->pid > 0)
        h_redis_kill(r, SIGKILL);
    /* the port was ours a moment ago; someone may hold it briefly */
    for (int attempt = 0; attempt < H_REDIS_START_ATTEMPTS; attempt++) {
        int rc = redis_spawn_and_wait(r);
        if (rc == 0)
            return 0;
        if (rc < 0)
            break;
        sleep_ms(250);
    }
    fprintf(stderr, "harness: redis-server did not restart on port %d\n", r->port);
    return -1;
}

void h_redis_stop(h_redis *r)
{
    if (r->pid > 0)
        h_redis_kill(r, SIGKILL);
    if (r->dir[0] != '\0')
        h_rmtree(r->dir);
    r->dir[0] = '\0';
}

/* ---- Other processes ---- */

int h_proc_start(h_proc *p, const char *const *argv, const char *log_path)
{
    memset(p, 0, sizeof *p);
    const char *slash = strrchr(argv[0], '/');
    snprintf(p->name, sizeof p->name, "%s", slash ? slash + 1 : argv[0]);
    if (log_path != NULL)
        snprintf(p->log_path, sizeof p->log_path, "%s", log_path);
    p->pid = spawn(argv, log_path);
    if (p->pid < 0) {
        p->pid = 0;
        return -1;
    }
    return 0;
}

void h_proc_kill(h_proc *p, int sig)
{
    kill_and_reap(p->pid, sig, 5000);
    p->pid = 0;
}

bool h_proc_alive(h_proc *p)
{
    if (p->pid <= 0)
        return false;
    pid_t got = waitpid(p->pid, NULL, WNOHANG);
    if (got == 0)
        return true;
    forget_child(p->pid);
    p->pid = 0;
    return false;
}

void h_proc_dump_log(const h_proc *p, int lines)
{
    if (p->log_path[0] == '\0' || lines <= 0)
        return;
    FILE *f = fopen(p->log_path, "r");
    if (f == NULL)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long pos = size;
    int seen = 0;
    /* walk back to the start of the last `lines` lines */
    while (pos > 0 && seen <= lines) {
        fseek(f, --pos, SEEK_SET);
        if (fgetc(f) == '\n' && pos != size - 1)
            seen++;
    }
    if (seen > lines)
        pos++;
    fseek(f, pos, SEEK_SET);
    fprintf(stderr, "---- last %d lines of %s (%s) ----\n", lines, p->name, p->log_path);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stderr);
    fprintf(stderr, "---- end of %s ----\n", p->name);
    fclose(f);
}

void h_cleanup_all(void)
{
    for (int i = 0; i < H_MAX_CHILDREN; i++)
        if (children[i] > 0)
            kill_and_reap(children[i], SIGKILL, 0);
    for (int i = 0; i < H_MAX_DIRS; i++)
        if (dirs[i][0] != '\0')
            h_rmtree(dirs[i]);
}
