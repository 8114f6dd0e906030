/* stack.c: a whole medrep stack for integration tests (see stack.h). */
#include "stack.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "errors.h"

static int write_config(h_stack *s, const char *const *regions, const char *extra)
{
    char text[8192];
    int n = snprintf(text, sizeof text,
                     "[broker]\nendpoint = %s\nheartbeat_ms = 100\nliveness = 5\n"
                     "services = scoring,scheduling,meetings,notify,counter,sink\n"
                     "[feed]\nendpoint = %s\n"
                     "[service]\nclaim_min_idle_ms = 1000\n"
                     "claim_interval_ms = 300\nevent_block_ms = 200\n",
                     s->endpoint, s->feed_endpoint);
    for (int i = 0; regions[i] && n < (int)sizeof text; i++) {
        const h_redis *r = &s->redis[i % s->redis_count];
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "[region.%s]\nredis = 127.0.0.1:%d\ntimezone = Asia/Shanghai\n", regions[i],
                      r->port);
    }
    if (extra && n < (int)sizeof text)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s\n", extra);
    if (n >= (int)sizeof text)
        return -1;
    return h_write_file(s->config_path, text);
}

static int start_broker(h_stack *s)
{
    char bin[512], log[400];
    h_bin("broker", bin, sizeof bin);
    snprintf(log, sizeof log, "%s/broker.log", s->dir);
    const char *argv[] = {bin, "--config", s->config_path, NULL};
    return h_proc_start(&s->broker, argv, log);
}

int h_stack_start(h_stack *s, int redis_count, const char *const *regions, const char *extra)
{
    memset(s, 0, sizeof *s);
    if (redis_count < 1 || redis_count > 2 || h_mkdtemp(s->dir, sizeof s->dir, "medrep-stack") != 0)
        return -1;
    for (int i = 0; i < redis_count; i++) {
        if (h_redis_start(&s->redis[i]) != 0)
            return -1;
        s->redis_count++;
    }
    snprintf(s->endpoint, sizeof s->endpoint, "tcp://127.0.0.1:%d", h_free_port());
    snprintf(s->feed_endpoint, sizeof s->feed_endpoint, "tcp://127.0.0.1:%d", h_free_port());
    snprintf(s->config_path, sizeof s->config_path, "%s/medrep.ini", s->dir);
    if (write_config(s, regions, extra) != 0)
        return -1;
    return start_broker(s);
}

int h_stack_restart_broker(h_stack *s)
{
    return start_broker(s);
}

int h_stack_start_service(h_stack *s, const char *program, const char *instance,
                          const char *const *env)
{
    if (s->proc_count >= H_STACK_MAX_PROCS)
        return -1;
    char bin[512], log[400];
    h_bin(program, bin, sizeof bin);
    snprintf(log, sizeof log, "%s/%s.log", s->dir, instance);
    const char *argv[] = {bin, "--config", s->config_path, "--instance", instance, NULL};
    for (int i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    h_proc *p = &s->procs[s->proc_count];
    int rc = h_proc_start(p, argv, log);
    for (int i = 0; env && env[i]; i++) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(env[i], "="), env[i]);
        unsetenv(name);
    }
    return rc == 0 ? s->proc_count++ : -1;
}

mr_client *h_stack_client(h_stack *s, int max_inflight, int attempt_timeout_ms)
{
    mr_client_opts opts = {.broker = s->endpoint, .max_inflight = max_inflight,
                           .attempt_timeout_ms = attempt_timeout_ms};
    return mr_client_new(&opts);
}

static int count_workers(mr_client *c, const char *service)
{
    Medrep__WorkerListRequest filter = MEDREP__WORKER_LIST_REQUEST__INIT;
    filter.service = (char *)service;
    Medrep__WorkerListReply *list = NULL;
    char msg[256];
    int code = mr_client_rpc(c, "broker", "Workers", NULL, NULL, &filter.base,
                             &medrep__worker_list_reply__descriptor, (ProtobufCMessage **)&list,
                             1000, msg, sizeof msg);
    if (code != MR_OK)
        return -1;
    int n = (int)list->n_workers;
    medrep__worker_list_reply__free_unpacked(list, NULL);
    return n;
}

int h_stack_wait_workers(h_stack *s, const char *service, int count, int timeout_ms)
{
    mr_client *c = h_stack_client(s, 4, 500);
    int64_t end = mr_mono_ms() + timeout_ms;
    int rc = -1;
    while (c && mr_mono_ms() < end) {
        if (count_workers(c, service) == count) {
            rc = 0;
            break;
        }
        usleep(50 * 1000);
    }
    mr_client_free(&c);
    return rc;
}

int h_stack_cli(const h_stack *s, const char *args, char *out, size_t cap)
{
    char bin[512], command[4096];
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "%s --config %s %s 2>&1", bin, s->config_path, args);
    FILE *p = popen(command, "r");
    size_t n = p ? fread(out, 1, cap - 1, p) : 0;
    out[n] = '\0';
    int status = p ? pclose(p) : -1;
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* SIGTERM and wait; returns 0 when the process exited with status 0. */
static int stop_proc(h_proc *p)
{
    if (p->pid <= 0)
        return 0;
    kill(p->pid, SIGTERM);
    int status = 0;
    int64_t end = mr_mono_ms() + 10000;
    pid_t got = 0;
    while ((got = waitpid(p->pid, &status, WNOHANG)) == 0 && mr_mono_ms() < end)
        usleep(10 * 1000);
    if (got == 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        status = -1;
    }
    bool clean = got == p->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!clean) {
        fprintf(stderr, "stack: %s did not exit cleanly (status %d)\n", p->name, status);
        h_proc_dump_log(p, 40);
    }
    p->pid = 0;
    return clean ? 0 : 1;
}

int h_stack_stop(h_stack *s)
{
    int unclean = 0;
    for (int i = 0; i < s->proc_count; i++)
        unclean += stop_proc(&s->procs[i]);
    unclean += stop_proc(&s->broker);
    for (int i = 0; i < s->redis_count; i++)
        h_redis_stop(&s->redis[i]);
    if (s->dir[0] && unclean == 0)
        h_rmtree(s->dir);
    s->proc_count = 0;
    return unclean;
}

int h_stack_token(const h_stack *s, const char *args, char *token, size_t cap, char *hash, size_t hash_cap)
{
    char bin[512], command[1400], out[512] = "", word[128] = "", stored[128] = "";
    h_bin("medrep", bin, sizeof bin);
    snprintf(command, sizeof command, "%s --config %s token create %s", bin, s->config_path, args);
    FILE *p = popen(command, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    if (pclose(p) != 0 || sscanf(out, "%127s", word) != 1)
        return -1;
    if (hash && sscanf(out, "%*s # hash %127s", stored) != 1)
        return -1;
    snprintf(token, cap, "%s", word);
    if (hash)
        snprintf(hash, hash_cap, "%s", stored);
    return 0;
}
