/* bench_transport.c: what the broker costs. Starts the real broker process
 * on a free port and in-process "echo" workers (threads, mr_worker), then
 * measures through the broker with mr_client:
 *   - lock-step round trips (mr_client_call), p50 and p99;
 *   - pipelined throughput (mr_client_submit/poll with a window), with one
 *     worker and with two;
 * and, as the reference measured in the same run, a raw libzmq DEALER ->
 * ROUTER echo over tcp loopback with messages of the same size. Raw and
 * broker measurements alternate in blocks, so that the noise of a shared
 * machine falls on both alike and their ratio means something. Figures
 * are printed as "bench.transport.<name> <value> <unit>" lines; nothing is
 * asserted. Run by scripts/bench transport.
 *
 *   bench-transport [--requests N] [--calls N] [--size BYTES] [--window N]
 *                   [--credits N]
 *
 * Everything it starts (the broker, its temporary folder, the threads) is
 * stopped before it exits, also on failure and on SIGINT/SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "errors.h"
#include "transport.h"

#define CALL_TIMEOUT_MS 20000
#define ATTEMPT_TIMEOUT_MS 10000
#define BLOCKS 5                /* raw and broker measurements alternate in blocks */
#define MAX_WORKERS 2

typedef struct {
    long requests;      /* pipelined requests per throughput figure */
    long calls;         /* lock-step calls per latency figure */
    long warmup;        /* calls or requests before each measurement */
    int size;           /* payload bytes */
    int window;         /* requests in flight when pipelined */
    int credits;        /* per worker */
} bench_opts;

/* ---- Small helpers ---- */

static void fail(const char *what)
{
    fprintf(stderr, "bench-transport: %s\n", what);
    exit(1);
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (0..100) of n samples; sorts them. */
static double percentile(int64_t *samples, size_t n, double p)
{
    qsort(samples, n, sizeof *samples, compare_i64);
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)samples[i < n ? i : n - 1];
}

static void print_figure(const char *name, double value, const char *unit)
{
    if (strcmp(unit, "x") == 0)
        printf("bench.transport.%s %.2f %s\n", name, value, unit);
    else
        printf("bench.transport.%s %.0f %s\n", name, value, unit);
    fflush(stdout);
}

/* A TCP port on 127.0.0.1 that was free a moment ago (bind port 0). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* The folder of this executable, where the broker is built too. */
static void bin_dir(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0)
        fail("cannot read /proc/self/exe");
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
}

/* ---- The broker process ----
 * Global so that atexit and the signal handlers can stop it. */

static pid_t broker_pid;
static char work_dir[PATH_MAX];
static char broker_log[PATH_MAX + 16];
static char broker_config[PATH_MAX + 16];

static void broker_stop(void)
{
    if (broker_pid > 0) {
        kill(broker_pid, SIGTERM);
        for (int i = 0; i < 200 && waitpid(broker_pid, NULL, WNOHANG) == 0; i++)
            usleep(10000);
        if (waitpid(broker_pid, NULL, WNOHANG) == 0) {
            kill(broker_pid, SIGKILL);
            waitpid(broker_pid, NULL, 0);
        }
        broker_pid = 0;
    }
    if (work_dir[0]) {
        unlink(broker_config);
        unlink(broker_log);
        rmdir(work_dir);
        work_dir[0] = '\0';
    }
}

/* Only async-signal-safe calls here. */
static void on_signal(int sig)
{
    if (broker_pid > 0) {
        kill(broker_pid, SIGKILL);
        waitpid(broker_pid, NULL, 0);
    }
    if (work_dir[0]) {
        unlink(broker_config);
        unlink(broker_log);
        rmdir(work_dir);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void broker_dump_log(void)
{
    FILE *f = fopen(broker_log, "r");
    if (!f)
        return;
    char line[1024];
    fprintf(stderr, "---- broker log ----\n");
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

static void write_broker_config(int port)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(work_dir, sizeof work_dir, "%s/medrep-bench-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(work_dir)) {
        work_dir[0] = '\0';
        fail("cannot make a temporary folder");
    }
    snprintf(broker_config, sizeof broker_config, "%s/broker.ini", work_dir);
    snprintf(broker_log, sizeof broker_log, "%s/broker.log", work_dir);
    FILE *f = fopen(broker_config, "w");
    if (!f)
        fail("cannot write the broker configuration");
    fprintf(f, "[broker]\nendpoint = tcp://127.0.0.1:%d\nservices = echo\nlog_level = warn\n", port);
    fclose(f);
}

static void broker_exec(const char *program)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);  /* dies with us, even on SIGKILL */
    int fd = open(broker_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execl(program, program, "--config", broker_config, (char *)NULL);
    _exit(127);
}

/* Starts the broker on a free port and waits until it accepts. Writes
 * its endpoint to endpoint. */
static void broker_start(char *endpoint, size_t cap)
{
    char dir[PATH_MAX], program[PATH_MAX + 16];
    bin_dir(dir, sizeof dir);
    snprintf(program, sizeof program, "%s/broker", dir);
    int port = free_port();
    if (port <= 0)
        fail("no free port");
    write_broker_config(port);
    snprintf(endpoint, cap, "tcp://127.0.0.1:%d", port);
    broker_pid = fork();
    if (broker_pid < 0)
        fail("fork failed");
    if (broker_pid == 0)
        broker_exec(program);
    for (int i = 0; i < 500; i++) {
        if (waitpid(broker_pid, NULL, WNOHANG) == broker_pid) {
            broker_pid = 0;
            broker_dump_log();
            fail("the broker exited at start");
        }
        if (port_accepts(port))
            return;
        usleep(10000);
    }
    broker_dump_log();
    fail("the broker did not start listening within 5 s");
}

/* ---- Echo workers ---- */

typedef struct {
    pthread_t thread;
    char endpoint[64];
    char instance[32];
    int credits;
    atomic_int stop;
    atomic_long served;
    bool running;
} echo_worker;

/* Packs the reply to one request into *buf (grown as needed; owned by the
 * worker thread). Returns the packed length. */
static size_t echo_pack_reply(const echo_worker *ew, const mr_work *work, uint8_t **buf,
                              size_t *cap)
{
    Medrep__Request *req = medrep__request__unpack(NULL, work->body.size, work->body.data);
    Medrep__Reply reply = MEDREP__REPLY__INIT;
    Medrep__Status status = MEDREP__STATUS__INIT;
    status.code = req ? MEDREP__CODE__OK : MEDREP__CODE__INVALID_ARGUMENT;
    status.has_code = true;
    reply.status = &status;
    reply.instance = (char *)ew->instance;
    if (req) {
        reply.request_id = req->request_id;
        reply.payload = req->payload;
        reply.has_payload = req->has_payload;
    }
    size_t len = medrep__reply__get_packed_size(&reply);
    if (len > *cap) {
        uint8_t *grown = realloc(*buf, len);
        if (!grown)
            fail("out of memory");
        *buf = grown;
        *cap = len;
    }
    medrep__reply__pack(&reply, *buf);
    if (req)
        medrep__request__free_unpacked(req, NULL);
    return len;
}

static void *echo_worker_main(void *arg)
{
    echo_worker *ew = arg;
    mr_worker_opts opts = {.broker = ew->endpoint, .service = "echo", .instance = ew->instance,
                           .credits = ew->credits};
    mr_worker *w = mr_worker_new(&opts);
    if (!w)
        fail("cannot create a worker");
    uint8_t *buf = NULL;
    size_t cap = 0;
    while (!atomic_load(&ew->stop)) {
        mr_work work;
        if (mr_worker_recv(w, 50, &work) != 1)
            continue;
        size_t len = echo_pack_reply(ew, &work, &buf, &cap);
        mr_worker_reply(w, &work, buf, len);
        atomic_fetch_add(&ew->served, 1);
    }
    free(buf);
    mr_worker_free(&w);
    return NULL;
}

static void echo_worker_start(echo_worker *ew, const char *endpoint, int index, int credits)
{
    memset(ew, 0, sizeof *ew);
    snprintf(ew->endpoint, sizeof ew->endpoint, "%s", endpoint);
    snprintf(ew->instance, sizeof ew->instance, "echo-%d", index);
    ew->credits = credits;
    if (pthread_create(&ew->thread, NULL, echo_worker_main, ew) != 0)
        fail("cannot start a worker thread");
    ew->running = true;
}

static void echo_worker_stop(echo_worker *ew)
{
    if (!ew->running)
        return;
    atomic_store(&ew->stop, 1);
    pthread_join(ew->thread, NULL);
    ew->running = false;
}

/* ---- Through the broker ---- */

/* A request like a real one: method, region, a 32-character id made by
 * the client, a deadline, and `payload` as the body. */
static void request_init(Medrep__Request *req, ProtobufCBinaryData payload)
{
    medrep__request__init(req);
    req->method = "Echo";
    req->region = "bench";
    req->payload = payload;
    req->has_payload = true;
}

/* The client sets the id and deadline of a request in place: clear them
 * before each new request. */
static void request_renew(Medrep__Request *req)
{
    req->request_id = NULL;
    req->deadline_ms = 0;
    req->has_deadline_ms = false;
}

static void check_reply(Medrep__Reply *reply, size_t payload_size)
{
    if (!reply)
        fail("out of memory");
    int code = reply->status ? (int)reply->status->code : MR_OK;
    if (code != MR_OK) {
        fprintf(stderr, "bench-transport: reply %s: %s\n", mr_code_name(code),
                reply->status->message ? reply->status->message : "");
        if (broker_pid > 0 && waitpid(broker_pid, NULL, WNOHANG) == broker_pid) {
            broker_pid = 0;
            fprintf(stderr, "bench-transport: the broker process has exited\n");
        }
        broker_dump_log();
        exit(1);
    }
    if (reply->payload.len != payload_size)
        fail("the echo came back with another size");
    medrep__reply__free_unpacked(reply, NULL);
}

/* Lock-step round trips: `count` calls, each one's time in us written
 * to samples (NULL: warm-up, not recorded). */
static void broker_rtt(mr_client *c, ProtobufCBinaryData payload, long count, int64_t *samples)
{
    Medrep__Request req;
    request_init(&req, payload);
    for (long i = 0; i < count; i++) {
        request_renew(&req);
        int64_t start = mr_mono_us();
        Medrep__Reply *reply = mr_client_call(c, "echo", &req, CALL_TIMEOUT_MS);
        int64_t took = mr_mono_us() - start;
        check_reply(reply, payload.len);
        if (samples)
            samples[i] = took;
    }
}

/* Pipelined: `count` requests with at most `window` in flight. Returns
 * the time it took in us. */
static int64_t broker_burst(mr_client *c, ProtobufCBinaryData payload, long count, int window)
{
    Medrep__Request req;
    request_init(&req, payload);
    long submitted = 0, completed = 0;
    int64_t start = mr_mono_us();
    while (completed < count) {
        while (submitted < count && (int)mr_client_inflight(c) < window) {
            request_renew(&req);
            if (mr_client_submit(c, "echo", &req, CALL_TIMEOUT_MS, (uint64_t)submitted) != 0)
                fail("submit failed");
            submitted++;
        }
        uint64_t tag;
        Medrep__Reply *reply = NULL;
        if (mr_client_poll(c, 1000, &tag, &reply) == 1) {
            check_reply(reply, payload.len);
            completed++;
        }
    }
    return mr_mono_us() - start;
}

/* Waits until the broker lists `want` echo workers (its "Workers" method). */
static void wait_for_workers(mr_client *c, int want)
{
    Medrep__WorkerListRequest filter = MEDREP__WORKER_LIST_REQUEST__INIT;
    filter.service = "echo";
    for (int i = 0; i < 500; i++) {
        ProtobufCMessage *out = NULL;
        char msg[256];
        int code = mr_client_rpc(c, "broker", "Workers", "bench", NULL, &filter.base,
                                 &medrep__worker_list_reply__descriptor, &out, 5000, msg,
                                 sizeof msg);
        size_t have = 0;
        if (code == MR_OK && out) {
            have = ((Medrep__WorkerListReply *)out)->n_workers;
            protobuf_c_message_free_unpacked(out, NULL);
        }
        if ((int)have == want)
            return;
        usleep(10000);
    }
    broker_dump_log();
    fail("the echo workers did not register with the broker");
}

/* ---- The raw reference: DEALER -> ROUTER echo over tcp loopback ---- */

typedef struct {
    void *ctx;
    pthread_t thread;
    char endpoint[64];
    pthread_mutex_t lock;
    pthread_cond_t bound;
    bool is_bound;
} raw_echo;

/* Echoes every multipart message back to its sender, until the context
 * is shut down. */
static void *raw_echo_main(void *arg)
{
    raw_echo *re = arg;
    void *router = zmq_socket(re->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(router, "tcp://127.0.0.1:*") != 0)
        fail("raw echo: cannot bind");
    size_t len = sizeof re->endpoint;
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, re->endpoint, &len);
    pthread_mutex_lock(&re->lock);
    re->is_bound = true;
    pthread_cond_signal(&re->bound);
    pthread_mutex_unlock(&re->lock);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (;;) {
        if (zmq_msg_recv(&msg, router, 0) < 0)
            break;   /* ETERM: shut down */
        int more = zmq_msg_more(&msg);
        if (zmq_msg_send(&msg, router, more ? ZMQ_SNDMORE : 0) < 0)
            break;
    }
    zmq_msg_close(&msg);
    zmq_close(router);
    return NULL;
}

static void raw_echo_start(raw_echo *re)
{
    memset(re, 0, sizeof *re);
    re->ctx = zmq_ctx_new();
    pthread_mutex_init(&re->lock, NULL);
    pthread_cond_init(&re->bound, NULL);
    if (pthread_create(&re->thread, NULL, raw_echo_main, re) != 0)
        fail("cannot start the raw echo thread");
    pthread_mutex_lock(&re->lock);
    while (!re->is_bound)
        pthread_cond_wait(&re->bound, &re->lock);
    pthread_mutex_unlock(&re->lock);
}

static void raw_echo_stop(raw_echo *re)
{
    zmq_ctx_shutdown(re->ctx);
    pthread_join(re->thread, NULL);
    zmq_ctx_term(re->ctx);
    pthread_mutex_destroy(&re->lock);
    pthread_cond_destroy(&re->bound);
}

static void raw_send(void *sock, const void *data, size_t len)
{
    if (zmq_send(sock, data, len, 0) != (int)len)
        fail("raw send failed");
}

static void raw_recv(void *sock, void *buf, size_t len)
{
    if (zmq_recv(sock, buf, len, 0) != (int)len)
        fail("raw echo came back with another size");
}

/* Lock-step round trips; samples as in broker_rtt. */
static void raw_rtt(void *sock, const uint8_t *msg, size_t len, long count, int64_t *samples)
{
    uint8_t *back = malloc(len ? len : 1);
    if (!back)
        fail("out of memory");
    for (long i = 0; i < count; i++) {
        int64_t start = mr_mono_us();
        raw_send(sock, msg, len);
        raw_recv(sock, back, len);
        if (samples)
            samples[i] = mr_mono_us() - start;
    }
    free(back);
}

/* Pipelined; returns the time it took in us. */
static int64_t raw_burst(void *sock, const uint8_t *msg, size_t len, long count, int window)
{
    uint8_t *back = malloc(len ? len : 1);
    if (!back)
        fail("out of memory");
    long sent = 0, received = 0;
    int64_t start = mr_mono_us();
    while (received < count) {
        while (sent < count && sent - received < window) {
            raw_send(sock, msg, len);
            sent++;
        }
        raw_recv(sock, back, len);
        received++;
    }
    free(back);
    return mr_mono_us() - start;
}

/* ---- Main ---- */

static void usage(void)
{
    fprintf(stderr, "usage: bench-transport [--requests N] [--calls N] [--size BYTES] "
                    "[--window N] [--credits N]\n"
                    "  --requests  pipelined requests per throughput figure (default 200000)\n"
                    "  --calls     lock-step calls per latency figure (default requests/10)\n"
                    "  --size      payload bytes (default 64)\n"
                    "  --window    requests in flight when pipelined (default 256)\n"
                    "  --credits   requests queued at each worker (default 128)\n");
    exit(2);
}

static long parse_number(const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || errno || *end || v < min || v > max)
        usage();
    return v;
}

static void parse_args(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.requests = 200000, .calls = -1, .size = 64, .window = 256, .credits = 128};
    for (int i = 1; i < argc; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--requests") == 0)
            o->requests = parse_number(value, 1, 100000000);
        else if (strcmp(argv[i], "--calls") == 0)
            o->calls = parse_number(value, 1, 100000000);
        else if (strcmp(argv[i], "--size") == 0)
            o->size = (int)parse_number(value, 0, 1 << 20);
        else if (strcmp(argv[i], "--window") == 0)
            o->window = (int)parse_number(value, 1, 1000);
        else if (strcmp(argv[i], "--credits") == 0)
            o->credits = (int)parse_number(value, 1, MDP_MAX_CREDITS);
        else
            usage();
    }
    if (o->calls < 0)
        o->calls = o->requests / 10 > 0 ? o->requests / 10 : 1;
    o->warmup = o->calls / 10 + 10;
}

/* The size on the wire of a request as the client packs it, so the raw
 * reference sends messages as large. */
static size_t packed_request_size(ProtobufCBinaryData payload)
{
    Medrep__Request req;
    request_init(&req, payload);
    req.request_id = "0123456789abcdef0123456789abcdef";
    req.deadline_ms = mr_now_ms();
    req.has_deadline_ms = true;
    return medrep__request__get_packed_size(&req);
}

/* Everything one run measures with: the raw pair and the broker path,
 * both up at once so that their measurements can alternate. */
typedef struct {
    const bench_opts *o;
    ProtobufCBinaryData payload;
    uint8_t *msg;               /* the raw message, as large as a packed request */
    size_t msg_len;
    raw_echo echo;
    void *raw_ctx;
    void *dealer;
    mr_client *client;
    char endpoint[64];          /* the broker's */
    echo_worker workers[MAX_WORKERS];
    int worker_count;
} bench;

/* Starts one more echo worker and waits until the broker lists it. */
static void bench_add_worker(bench *b)
{
    if (b->worker_count == MAX_WORKERS)
        fail("too many workers");
    echo_worker_start(&b->workers[b->worker_count], b->endpoint, b->worker_count + 1,
                      b->o->credits);
    b->worker_count++;
    wait_for_workers(b->client, b->worker_count);
}

static void bench_start(bench *b, const bench_opts *o, ProtobufCBinaryData payload, size_t msg_len)
{
    memset(b, 0, sizeof *b);
    b->o = o;
    b->payload = payload;
    b->msg_len = msg_len;
    b->msg = calloc(1, msg_len ? msg_len : 1);
    if (!b->msg)
        fail("out of memory");
    raw_echo_start(&b->echo);
    b->raw_ctx = zmq_ctx_new();
    b->dealer = zmq_socket(b->raw_ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(b->dealer, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(b->dealer, b->echo.endpoint) != 0)
        fail("raw: cannot connect");

    broker_start(b->endpoint, sizeof b->endpoint);
    mr_client_opts copts = {.broker = b->endpoint, .max_inflight = o->window,
                            .attempt_timeout_ms = ATTEMPT_TIMEOUT_MS};
    b->client = mr_client_new(&copts);
    if (!b->client)
        fail("cannot create the client");
    bench_add_worker(b);
}

static void bench_stop(bench *b)
{
    mr_client_free(&b->client);
    for (int i = 0; i < b->worker_count; i++)
        echo_worker_stop(&b->workers[i]);
    broker_stop();
    zmq_close(b->dealer);
    zmq_ctx_term(b->raw_ctx);
    raw_echo_stop(&b->echo);
    free(b->msg);
}

typedef struct {
    double p50, p99;
} percentiles;

/* Round trips, raw and through the broker, in alternating blocks so that
 * the machine's noise falls on both alike. */
static void measure_rtt(bench *b, percentiles *raw, percentiles *broker)
{
    const bench_opts *o = b->o;
    long per_block = o->calls / BLOCKS > 0 ? o->calls / BLOCKS : 1;
    long total = per_block * BLOCKS;
    int64_t *raw_samples = malloc((size_t)total * sizeof *raw_samples);
    int64_t *broker_samples = malloc((size_t)total * sizeof *broker_samples);
    if (!raw_samples || !broker_samples)
        fail("out of memory");
    raw_rtt(b->dealer, b->msg, b->msg_len, o->warmup, NULL);
    broker_rtt(b->client, b->payload, o->warmup, NULL);
    for (int i = 0; i < BLOCKS; i++) {
        raw_rtt(b->dealer, b->msg, b->msg_len, per_block, raw_samples + i * per_block);
        broker_rtt(b->client, b->payload, per_block, broker_samples + i * per_block);
    }
    raw->p50 = percentile(raw_samples, (size_t)total, 50);
    raw->p99 = percentile(raw_samples, (size_t)total, 99);
    broker->p50 = percentile(broker_samples, (size_t)total, 50);
    broker->p99 = percentile(broker_samples, (size_t)total, 99);
    free(raw_samples);
    free(broker_samples);
}

/* Pipelined rates (per second), raw and through the broker, alternating
 * in blocks. */
static void measure_rate(bench *b, double *raw, double *broker)
{
    const bench_opts *o = b->o;
    long per_block = o->requests / BLOCKS > 0 ? o->requests / BLOCKS : 1;
    raw_burst(b->dealer, b->msg, b->msg_len, o->warmup, o->window);
    broker_burst(b->client, b->payload, o->warmup, o->window);
    int64_t raw_us = 0, broker_us = 0;
    for (int i = 0; i < BLOCKS; i++) {
        raw_us += raw_burst(b->dealer, b->msg, b->msg_len, per_block, o->window);
        broker_us += broker_burst(b->client, b->payload, per_block, o->window);
    }
    double count = (double)per_block * BLOCKS;
    *raw = count * 1e6 / (double)(raw_us > 0 ? raw_us : 1);
    *broker = count * 1e6 / (double)(broker_us > 0 ? broker_us : 1);
}

static void print_target(const char *words, double value, bool met)
{
    printf("# target: %s (now %.2fx): %s\n", words, value, met ? "met" : "NOT met");
}

int main(int argc, char **argv)
{
    bench_opts o;
    parse_args(argc, argv, &o);
    atexit(broker_stop);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);

    uint8_t *payload_bytes = calloc(1, (size_t)o.size + 1);
    if (!payload_bytes)
        fail("out of memory");
    memset(payload_bytes, 'x', (size_t)o.size);
    ProtobufCBinaryData payload = {(size_t)o.size, payload_bytes};
    size_t msg_len = packed_request_size(payload);
    printf("# bench transport: %ld lock-step calls, %ld pipelined requests (window %d, "
           "%d credits a worker), payload %d bytes; raw and broker alternate in %d blocks\n",
           o.calls, o.requests, o.window, o.credits, o.size, BLOCKS);
    print_figure("msg_bytes", (double)msg_len, "bytes");

    bench b;
    bench_start(&b, &o, payload, msg_len);
    percentiles raw_rtt, broker_rtt;
    double raw_1w, rate_1w, raw_2w, rate_2w;
    measure_rtt(&b, &raw_rtt, &broker_rtt);
    measure_rate(&b, &raw_1w, &rate_1w);
    bench_add_worker(&b);
    measure_rate(&b, &raw_2w, &rate_2w);
    uint64_t retries = mr_client_retries(b.client);
    bench_stop(&b);

    double raw_rate = 2 / (1 / raw_1w + 1 / raw_2w);   /* over both phases */
    print_figure("raw_rtt_p50", raw_rtt.p50, "us");
    print_figure("raw_rtt_p99", raw_rtt.p99, "us");
    print_figure("raw_rate", raw_rate, "msg/s");
    print_figure("broker_rtt_p50", broker_rtt.p50, "us");
    print_figure("broker_rtt_p99", broker_rtt.p99, "us");
    print_figure("broker_1w_rate", rate_1w, "req/s");
    print_figure("broker_2w_rate", rate_2w, "req/s");
    print_figure("client_retries", (double)retries, "requests");

    double rtt_ratio_p50 = broker_rtt.p50 / (raw_rtt.p50 > 0 ? raw_rtt.p50 : 1);
    double rtt_ratio_p99 = broker_rtt.p99 / (raw_rtt.p99 > 0 ? raw_rtt.p99 : 1);
    double rate_ratio_1w = rate_1w / raw_1w;   /* each against the raw rate of its phase */
    double rate_ratio_2w = rate_2w / raw_2w;
    print_figure("rtt_ratio_p50", rtt_ratio_p50, "x");
    print_figure("rtt_ratio_p99", rtt_ratio_p99, "x");
    print_figure("rate_ratio_1w", rate_ratio_1w, "x");
    print_figure("rate_ratio_2w", rate_ratio_2w, "x");
    print_target("broker round trip p50 at most 2.5x the raw libzmq round trip", rtt_ratio_p50,
                 rtt_ratio_p50 <= 2.5);
    print_target("2-worker pipelined throughput at least 0.25x the raw libzmq rate",
                 rate_ratio_2w, rate_ratio_2w >= 0.25);
    free(payload_bytes);
    return 0;
}
