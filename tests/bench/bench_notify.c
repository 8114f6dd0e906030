/* bench_notify.c: what the durable timers of the notify service do, on a
 * real stack (redis-server, the broker, notify processes) started through
 * the test harness. Redis runs with appendfsync everysec, the production
 * setting of deploy/redis/medrep-redis.conf; BENCH_NOTIFY_FSYNC=always
 * measures the strictest setting instead. The log is rewritten, as in
 * production, when it doubled and is at least 1 GB;
 * BENCH_NOTIFY_AOF_REWRITE_MIN_SIZE=64mb (Redis's default) shows what more
 * frequent rewrites (a fork each, then copy-on-write) cost. RDB snapshots
 * are off (production takes one at most a minute apart under load):
 *   1. scheduling: N reminders (default 1,000,000) through ScheduleReminders
 *      batches, served by an instance with timers off, due within a short
 *      window that has passed by the end: the scheduling rate;
 *   2. firing: then the timer instances start and fire the whole backlog
 *      into the inbox channel: the firing rate (saturated; from the first
 *      delivery to the last, and from the instances' start), and 0 lost,
 *      0 duplicated checked by delivery id from the delivery events (single
 *      and the mover's batches);
 *   3. lateness, not saturated: a steady load (default 2,000/s for 10 s)
 *      scheduled ahead: delivered time (the sender's commit) minus due
 *      time, p50/p99/max;
 *   4. peak memory: Redis's used_memory_peak and the notify processes'
 *      peak RSS;
 *   5. where Redis's time went while firing (INFO commandstats per
 *      reminder) and what Redis did that pauses deliveries (AOF rewrites,
 *      fork time, the latency monitor's worst events);
 *   6. what firing left to tidy up (deferred while saturated) and how long
 *      the movers took to finish it, before the steady phase starts;
 * and beside them, in the same run, redis-benchmark's rate for the commands
 * the scripts use (ZADD, HMGET, SREM, SADD, RPUSH, HSET, XADD, pipelined 16
 * deep) and the ceiling they put on direct delivery for one server.
 * The reminders are spread over --regions regions (default 2), each on its
 * own redis-server (the way medrep scales out: a region's keys live on one
 * server), served by the same notify processes; --regions 1 measures one
 * server alone.
 * Prints "bench.notify.<name> <value> <unit>" lines; nothing is asserted.
 *
 *   bench-notify [--reminders N] [--people P] [--instances I] [--regions 1-2]
 *                [--steady-rate R] [--steady-seconds S] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "notify_testlib.h"

#define BATCH 5000

#define MAX_REGIONS 2

static const char *const region_names[MAX_REGIONS + 1] = {"north", "south", NULL};

typedef struct {
    long reminders, people;
    int instances, regions;
    long steady_rate, steady_seconds;
} bench_opts;

static h_stack stack;

static void on_signal(int sig)
{
    (void)sig;
    h_cleanup_all();
    _exit(1);
}

static void fail(const char *what)
{
    fprintf(stderr, "bench-notify: %s\n", what);
    h_stack_stop(&stack);
    exit(1);
}

static void figure(const char *name, double value, const char *unit)
{
    printf("bench.notify.%s %.*f %s\n", name, value < 100 ? 1 : 0, value, unit);
    fflush(stdout);
}

/* Schedules reminders [first, first + count) named "<prefix><i>", due at
 * due0 + i * spread_ms / count, BATCH per request, 4 requests in flight;
 * request b goes to region b % regions. */
static void schedule_range(mr_client *c, const bench_opts *o, const char *prefix, long count,
                           int64_t due0, int64_t spread_ms)
{
    static Medrep__ScheduleReminderRequest items[BATCH];
    static Medrep__ScheduleReminderRequest *ptrs[BATCH];
    static char ids[BATCH][32], people[BATCH][24];
    static uint8_t buf[BATCH * 96];
    long submitted = 0, done = 0;
    while (done < count) {
        while (submitted < count && mr_client_inflight(c) < 4) {
            long n = count - submitted < BATCH ? count - submitted : BATCH;
            for (long j = 0; j < n; j++) {
                long i = submitted + j;
                medrep__schedule_reminder_request__init(&items[j]);
                snprintf(ids[j], sizeof ids[j], "%s%ld", prefix, i);
                snprintf(people[j], sizeof people[j], "P%ld", i % o->people);
                items[j].reminder_id = ids[j], items[j].person_id = people[j], items[j].kind = "bench";
                items[j].has_due_ms = true;
                items[j].due_ms = due0 + i * spread_ms / count;
                ptrs[j] = &items[j];
            }
            Medrep__ScheduleRemindersRequest batch = MEDREP__SCHEDULE_REMINDERS_REQUEST__INIT;
            batch.reminders = ptrs;
            batch.n_reminders = (size_t)n;
            Medrep__Request req = MEDREP__REQUEST__INIT;
            req.method = "ScheduleReminders";
            req.region = (char *)region_names[(submitted / BATCH) % o->regions];
            req.has_payload = true;
            req.payload.data = buf;
            req.payload.len = medrep__schedule_reminders_request__pack(&batch, buf);
            if (mr_client_submit(c, "notify", &req, 120000, (uint64_t)n) != 0)
                fail("submit failed");
            submitted += n;
        }
        uint64_t tag;
        Medrep__Reply *reply = NULL;
        if (mr_client_poll(c, 1000, &tag, &reply) == 1) {
            if (reply->status && (int)reply->status->code != MR_OK)
                fail(reply->status->message ? reply->status->message : "schedule failed");
            medrep__reply__free_unpacked(reply, NULL);
            done += (long)tag;
        }
    }
}

/* Delivered-event statistics for reminders "<prefix><i>". */
typedef struct {
    const char *prefix;
    long count;
    unsigned char *seen;        /* deliveries per reminder, saturating */
    int64_t *lateness;          /* delivered - due, ms */
    long samples;
    int64_t first_ms, last_ms;
} tally;

static void tally_one(const Medrep__ReminderDelivered *d, const Medrep__Event *ev, void *arg)
{
    tally *t = arg;
    int64_t occurred_ms = ev->occurred_ms;
    size_t n = strlen(t->prefix);
    if (!d->reminder_id || strncmp(d->reminder_id, t->prefix, n) != 0)
        return;
    long i = atol(d->reminder_id + n);
    const char *at = strrchr(d->delivery_id, '@');
    if (i < 0 || i >= t->count || !at)
        return;
    if (t->seen[i] < 255)
        t->seen[i]++;
    t->lateness[t->samples++ % t->count] = occurred_ms - atoll(at + 1);
    if (occurred_ms > t->last_ms)
        t->last_ms = occurred_ms;
    if (t->first_ms == 0 || occurred_ms < t->first_ms)
        t->first_ms = occurred_ms;
}

/* The regions' stores and, per region, the stream id read up to. */
typedef struct {
    int count;
    mr_store *store[MAX_REGIONS];
    char cursor[MAX_REGIONS][64];
} bench_regions;

/* Tallies into t every delivery (single events and the mover's batches)
 * reported on region r's stream after its cursor, and moves the cursor. */
static void read_region(bench_regions *br, int r, tally *t)
{
    if (nt_each_delivery_event_after(br->store[r], region_names[r], br->cursor[r], tally_one, t) < 0)
        fail("cannot read the event stream");
}

/* Puts every region's cursor at the end of its stream. */
static void skip_to_end(bench_regions *br)
{
    for (int r = 0; r < br->count; r++) {
        snprintf(br->cursor[r], sizeof br->cursor[r], "-");
        mr_val *last = mr_store_cmd(br->store[r], "XREVRANGE {r:%s}:events + - COUNT 1", region_names[r]);
        if (mr_val_count(last) == 1)
            snprintf(br->cursor[r], sizeof br->cursor[r], "(%s", mr_val_str(mr_val_at(mr_val_at(last, 0), 0), NULL));
        mr_val_free(&last);
    }
}

/* Reads the regions' streams until t has every reminder it counts. */
static void wait_tallied(bench_regions *br, tally *t, int timeout_s)
{
    int64_t end = mr_mono_ms() + timeout_s * 1000LL;
    for (;;) {
        for (int r = 0; r < br->count; r++)
            read_region(br, r, t);
        if (t->samples >= t->count)
            return;
        if (mr_mono_ms() > end)
            fail("deliveries did not complete in time");
        usleep(200 * 1000);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void report_loss(const tally *t, const char *name)
{
    long lost = 0, dup = 0;
    for (long i = 0; i < t->count; i++)
        lost += t->seen[i] == 0, dup += t->seen[i] > 1;
    char buf[64];
    snprintf(buf, sizeof buf, "%s_lost", name);
    figure(buf, (double)lost, "reminders");
    snprintf(buf, sizeof buf, "%s_duplicated", name);
    figure(buf, (double)dup, "reminders");
}

static long peak_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

static double redis_info_number(mr_store *store, const char *field)
{
    mr_val *v = mr_store_cmd(store, "INFO memory");
    const char *text = mr_val_str(v, NULL), *at = text ? strstr(text, field) : NULL;
    double value = at ? atof(at + strlen(field) + 1) : 0;
    mr_val_free(&v);
    return value;
}

/* The number after "field:" in an INFO section's text, or 0. */
static double info_number(mr_store *store, const char *section, const char *field)
{
    mr_val *v = mr_store_cmd(store, "INFO %s", section);
    const char *text = mr_val_str(v, NULL), *at = text ? strstr(text, field) : NULL;
    double value = at ? atof(at + strlen(field) + 1) : 0;
    mr_val_free(&v);
    return value;
}

/* Where Redis's time went since the last CONFIG RESETSTAT: the commands
 * with the most microseconds in all (scripts' inner calls included), per
 * reminder. */
static void print_commandstats(mr_store *store, long reminders)
{
    mr_val *v = mr_store_cmd(store, "INFO commandstats");
    const char *text = mr_val_str(v, NULL);
    struct { char name[48]; double usec, calls; } top[64];
    int n = 0;
    for (const char *p = text ? strstr(text, "cmdstat_") : NULL; p && n < 64; p = strstr(p + 1, "cmdstat_")) {
        const char *calls = strstr(p, "calls="), *usec = strstr(p, "usec=");
        size_t len = strcspn(p + 8, ":");
        if (!calls || !usec || len >= sizeof top[0].name)
            break;
        snprintf(top[n].name, sizeof top[n].name, "%.*s", (int)len, p + 8);
        top[n].calls = atof(calls + 6), top[n].usec = atof(usec + 5);
        n++;
    }
    mr_val_free(&v);
    double all = 0;
    for (int i = 0; i < n; i++)
        all += strcmp(top[i].name, "evalsha") && strcmp(top[i].name, "eval") ? top[i].usec : 0;
    for (int k = 0; k < 8 && n > 0; k++) {
        int best = 0;
        for (int i = 1; i < n; i++)
            best = top[i].usec > top[best].usec ? i : best;
        if (top[best].usec <= 0)
            break;
        printf("bench.notify.redis_cmd.%s %.2f us/reminder (%.2f calls/reminder)\n", top[best].name,
               top[best].usec / (double)reminders, top[best].calls / (double)reminders);
        top[best].usec = -1;
    }
    printf("bench.notify.redis_cmd_inner_total %.2f us/reminder (commands, scripts' inner calls included, "
           "script overhead not)\n", all / (double)reminders);
    fflush(stdout);
}

/* What Redis itself did that delays deliveries: AOF rewrites and RDB saves
 * (each a fork) and the latency monitor's worst events. */
static void print_redis_pauses(mr_store *store)
{
    figure("redis_aof_rewrites", info_number(store, "persistence", "aof_rewrites"), "rewrites");
    figure("redis_rdb_saves", info_number(store, "persistence", "rdb_saves"), "saves");
    figure("redis_latest_fork", info_number(store, "stats", "latest_fork_usec") / 1000.0, "ms");
    figure("redis_aof_delayed_fsync", info_number(store, "persistence", "aof_delayed_fsync"), "times");
    /* the slowest commands themselves (over 100 ms; of the newest 128), with
     * their first arguments (EVALSHA <sha> 1: a request's commit; with 4
     * keys per shard: a mover's script) */
    mr_val *slow = mr_store_cmd(store, "SLOWLOG GET 128");
    bool shown[128] = {false};
    for (size_t k = 0; k < 4 && k < mr_val_count(slow); k++) {
        size_t i = 0;
        long long most = -1;
        for (size_t j = 0; j < mr_val_count(slow) && j < 128; j++)
            if (!shown[j] && mr_val_int(mr_val_at(mr_val_at(slow, j), 2)) > most)
                most = mr_val_int(mr_val_at(mr_val_at(slow, j), 2)), i = j;
        shown[i] = true;
        const mr_val *e = mr_val_at(slow, i), *args = mr_val_at(e, 3);
        char what[160] = "";
        for (size_t a = 0; a < mr_val_count(args) && a < 3; a++) {
            const char *arg = mr_val_str(mr_val_at(args, a), NULL);
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%.40s", a ? " " : "", arg ? arg : "?");
        }
        printf("bench.notify.redis_slowlog %.0f ms %s\n", (double)mr_val_int(mr_val_at(e, 2)) / 1000.0, what);
    }
    mr_val_free(&slow);
    mr_val *v = mr_store_cmd(store, "LATENCY LATEST");
    for (size_t i = 0; i < mr_val_count(v); i++) {
        const mr_val *e = mr_val_at(v, i);
        printf("bench.notify.redis_latency_max.%s %lld ms\n", mr_val_str(mr_val_at(e, 0), NULL),
               mr_val_int(mr_val_at(e, 3)));
    }
    mr_val_free(&v);
    fflush(stdout);
}

/* redis-benchmark's mean rate for one command line, pipelined 16 deep. */
static double redis_rate(const char *command_line)
{
    char command[512];
    static char text[1 << 16];
    snprintf(command, sizeof command, "redis-benchmark -p %d -P 16 -n 200000 -r 100000 -q %s 2>/dev/null",
             stack.redis[0].port, command_line);
    FILE *p = popen(command, "r");
    size_t n = p ? fread(text, 1, sizeof text - 1, p) : 0;
    text[n] = '\0';
    if (p)
        pclose(p);
    double last = 0;
    for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *rps = strstr(line, "requests per second");
        if (rps) {
            char *colon = strrchr(line, ':');
            last = colon ? atof(colon + 1) : last;
        }
    }
    return last;
}

/* redis-benchmark's rates, on server 0 after the run, for the commands
 * the scripts use, and from them the most reminders a second one server
 * could deliver directly if it ran only a direct delivery's per-reminder
 * commands, pipelined, with no script around them (an upper bound: the
 * per-item cost of the batch's DEL, RPUSH and ZREMRANGEBYRANK is not in
 * it): the firing step alone (HMGET + ZADD) and with the tidy-up after it
 * (+ HMGET + SREM). */
static void print_references(void)
{
    enum { FIRE = 1, TIDY = 2 };
    static const struct { const char *name, *line; int per_reminder; } refs[] = {
        {"zadd", "zadd bz __rand_int__ m__rand_int__", FIRE},
        {"hmget", "hmget bh__rand_int__ p x", FIRE | TIDY},
        {"srem", "srem bset m__rand_int__", TIDY},
        {"sadd", "sadd bset m__rand_int__", 0},
        {"rpush", "rpush bl m__rand_int__", 0},
        {"hset", "hset bh__rand_int__ p x", 0},
        {"xadd", "xadd bs '*' m __rand_int__", 0},
    };
    double fire = 0, tidy = 0;
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        char name[64];
        double rate = redis_rate(refs[i].line);
        snprintf(name, sizeof name, "ref_redis_benchmark_%s", refs[i].name);
        figure(name, rate, "ops/s");
        fire += (refs[i].per_reminder & FIRE) && rate > 0 ? 1.0 / rate : 0;
        tidy += (refs[i].per_reminder & TIDY) && rate > 0 ? 1.0 / rate : 0;
    }
    if (fire > 0)
        printf("bench.notify.ref_direct_ceiling_per_server %.0f reminders/s (HMGET+ZADD per reminder at the rates "
               "above, pipelined, no script)\n", 1.0 / fire);
    if (fire + tidy > 0)
        printf("bench.notify.ref_direct_with_tidy_ceiling_per_server %.0f reminders/s (the same + the tidy-up's "
               "HMGET+SREM)\n", 1.0 / (fire + tidy));
}

static void parse_opts(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.reminders = 1000000, .people = 10000, .instances = 2, .regions = 2,
                      .steady_rate = 2000, .steady_seconds = 10};
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = atol(argv[i + 1]);
        if (!strcmp(argv[i], "--reminders")) o->reminders = v;
        else if (!strcmp(argv[i], "--people")) o->people = v;
        else if (!strcmp(argv[i], "--instances")) o->instances = (int)v;
        else if (!strcmp(argv[i], "--regions")) o->regions = (int)v;
        else if (!strcmp(argv[i], "--steady-rate")) o->steady_rate = v;
        else if (!strcmp(argv[i], "--steady-seconds")) o->steady_seconds = v;
    }
    if (o->reminders < 1 || o->people < 1 || o->instances < 1 || o->instances > 8 || o->regions < 1 ||
        o->regions > MAX_REGIONS ||
        o->steady_rate < 1 || o->steady_seconds < 1)
        fail("usage: bench-notify [--reminders N] [--people P] [--instances 1-8] [--regions 1-2] "
             "[--steady-rate R] [--steady-seconds S]");
}

static void start_notify(const char *name, bool timers)
{
    static const char *off[] = {"MEDREP__NOTIFY__TIMERS=false", NULL};
    if (h_stack_start_service(&stack, "notify", name, timers ? NULL : off) < 0)
        fail("cannot start notify");
}

static void reset_stats(bench_regions *br)
{
    for (int r = 0; r < br->count; r++) {
        mr_val *reset = mr_store_cmd(br->store[r], "CONFIG RESETSTAT");
        mr_val_free(&reset);
    }
}

/* The mover's tidy lists, summed over the regions; -1 when one cannot be read. */
static long long tidy_left(bench_regions *br)
{
    long long sum = 0;
    for (int r = 0; r < br->count; r++) {
        char key[64];
        snprintf(key, sizeof key, "{r:%s}:notify:tidy", region_names[r]);
        mr_val *v = mr_store_cmd(br->store[r], "LLEN %s", key);
        sum = mr_val_is_error(v) || sum < 0 ? -1 : sum + mr_val_int(v);
        mr_val_free(&v);
    }
    return sum;
}

/* After the burst: what the movers left to tidy up (taking the delivered
 * reminders out of the persons' sets, trimming inboxes), deferred while
 * firing was saturated, and how long it took them to finish it. */
static void wait_tidied(bench_regions *br)
{
    int64_t t0 = mr_mono_ms();
    long long left = tidy_left(br), first = left;
    while (left > 0 && mr_mono_ms() - t0 < 600000) {
        usleep(50 * 1000);
        left = tidy_left(br);
    }
    double secs = (double)(mr_mono_ms() - t0) / 1000.0;
    figure("tidy_backlog_after_firing", (double)first, "deliveries (deferred while saturated)");
    figure("tidy_drain_seconds", secs, "s");
    if (first > 0 && secs > 0)
        figure("tidy_rate", (double)first / secs, "deliveries/s (after firing)");
    if (left != 0)
        fail("the tidy lists did not drain");
}

static void run_backlog(const bench_opts *o, mr_client *c, bench_regions *br)
{
    int64_t t0 = mr_mono_ms();
    skip_to_end(br);
    schedule_range(c, o, "b", o->reminders, mr_now_ms(), 2000);
    double secs = (double)(mr_mono_ms() - t0) / 1000.0;
    figure("schedule_rate", (double)o->reminders / secs, "reminders/s");
    reset_stats(br);
    int64_t fire0 = mr_now_ms();
    for (int i = 0; i < o->instances; i++) {
        char name[32];
        snprintf(name, sizeof name, "notify-t%d", i);
        start_notify(name, true);
    }
    tally t = {.prefix = "b", .count = o->reminders, .seen = calloc((size_t)o->reminders, 1),
               .lateness = calloc((size_t)o->reminders, sizeof(int64_t))};
    wait_tallied(br, &t, 1800);
    /* from the first delivery to the last (the timer processes' start-up
     * is not firing), and from their start for comparison */
    figure("fire_rate_saturated", (double)o->reminders * 1000.0 / (double)(t.last_ms - t.first_ms + 1), "reminders/s");
    figure("fire_rate_from_start", (double)o->reminders * 1000.0 / (double)(t.last_ms - fire0 + 1), "reminders/s");
    report_loss(&t, "backlog");
    for (int r = 0; r < br->count; r++) {
        printf("bench.notify.redis_server %d (region %s): where its time went while firing\n", r, region_names[r]);
        print_commandstats(br->store[r], o->reminders / br->count);
    }
    wait_tidied(br);
    free(t.seen);
    free(t.lateness);
}

static void run_steady(const bench_opts *o, mr_client *c, bench_regions *br)
{
    long n = o->steady_rate * o->steady_seconds;
    skip_to_end(br);
    schedule_range(c, o, "s", n, mr_now_ms() + 3000, o->steady_seconds * 1000);
    tally t = {.prefix = "s", .count = n, .seen = calloc((size_t)n, 1),
               .lateness = calloc((size_t)n, sizeof(int64_t))};
    wait_tallied(br, &t, 600);
    usleep(500 * 1000);
    for (int r = 0; r < br->count; r++)
        read_region(br, r, &t);   /* a late repeat would show here */
    long m = t.samples < n ? t.samples : n;
    qsort(t.lateness, (size_t)m, sizeof(int64_t), cmp_i64);
    if (m > 0) {
        figure("lateness_p50", (double)t.lateness[m / 2], "ms");
        figure("lateness_p99", (double)t.lateness[(m * 99) / 100], "ms");
        figure("lateness_max", (double)t.lateness[m - 1], "ms");
    }
    report_loss(&t, "steady");
    free(t.seen);
    free(t.lateness);
}

/* The AOF size from which Redis rewrites the log when it doubled. */
static const char *aof_rewrite_min_size(void)
{
    const char *size = getenv("BENCH_NOTIFY_AOF_REWRITE_MIN_SIZE");
    return size ? size : "1gb";   /* deploy/redis/medrep-redis.conf */
}

/* The production persistence and the monitors the report reads. */
static void configure_redis(mr_store *store, const char *fsync)
{
    mr_val *set = mr_store_cmd(store, "CONFIG SET appendfsync %s", fsync);
    if (mr_val_is_error(set))
        fail("cannot set appendfsync");
    mr_val_free(&set);
    const char *cmds[] = {"CONFIG SET latency-monitor-threshold 10", "CONFIG SET slowlog-log-slower-than 100000",
                          "SLOWLOG RESET"};
    for (size_t i = 0; i < 3; i++) {
        set = mr_store_cmd(store, cmds[i]);
        mr_val_free(&set);
    }
    set = mr_store_cmd(store, "CONFIG SET auto-aof-rewrite-min-size %s", aof_rewrite_min_size());
    if (mr_val_is_error(set))
        fail("cannot set auto-aof-rewrite-min-size");
    mr_val_free(&set);
}

int main(int argc, char **argv)
{
    bench_opts o;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    parse_opts(argc, argv, &o);
    const char *regions[MAX_REGIONS + 1] = {NULL};
    for (int r = 0; r < o.regions; r++)
        regions[r] = region_names[r];
    if (h_stack_start(&stack, o.regions, regions,
                      "[notify]\nshards = 4\nmove_batch = 1000\nread_batch = 1000\nevents_maxlen = 0\n"
                      "batch_max = 5000\nclaim_min_idle_ms = 60000\n") != 0)
        fail("cannot start the stack");
    start_notify("notify-api", false);
    if (h_stack_wait_workers(&stack, "notify", 1, 10000) != 0)
        fail("notify did not register");
    mr_client *c = h_stack_client(&stack, 8, 60000);
    bench_regions br = {.count = o.regions};
    const char *fsync = getenv("BENCH_NOTIFY_FSYNC") ? getenv("BENCH_NOTIFY_FSYNC") : "everysec";
    for (int r = 0; r < o.regions; r++) {
        br.store[r] = h_stack_store(&stack, r);
        configure_redis(br.store[r], fsync);
    }
    printf("bench.notify.redis_appendfsync %s setting\n", fsync);
    printf("bench.notify.redis_aof_rewrite_min_size %s setting (rewritten when doubled)\n", aof_rewrite_min_size());
    printf("bench.notify.redis_servers %d (one region on each: common/store routes a region to one server)\n",
           o.regions);
    printf("bench.notify.reminders %ld reminders (%ld people, %d regions, %d timer instances serving every region)\n",
           o.reminders, o.people, o.regions, o.instances);
    run_backlog(&o, c, &br);
    run_steady(&o, c, &br);
    long rss = 0;
    for (int r = 0; r < o.regions; r++) {
        printf("bench.notify.redis_server %d (region %s)\n", r, region_names[r]);
        print_redis_pauses(br.store[r]);
        figure("redis_used_memory_peak", redis_info_number(br.store[r], "used_memory_peak") / 1048576.0, "MB");
    }
    for (int i = 0; i < stack.proc_count; i++)
        rss = peak_rss_kb(stack.procs[i].pid) > rss ? peak_rss_kb(stack.procs[i].pid) : rss;
    figure("notify_peak_rss", (double)rss / 1024.0, "MB");
    print_references();
    mr_client_free(&c);
    for (int r = 0; r < o.regions; r++)
        mr_store_free(&br.store[r]);
    return h_stack_stop(&stack) == 0 ? 0 : 1;
}
