/* test_notify_channels.c: the outside channels against local sinks (a
 * Python HTTP receiver and an aiosmtpd SMTP receiver, real processes):
 * a webhook's JSON body, delivery id and HMAC signature (checked by the
 * receiver with the shared secret); retries after 5xx until delivered,
 * one delivery id throughout; the dead letter after the retry limit; a
 * 410 disabling the webhook until the person sets it again; a private
 * address refused where configuration does not allow it; an e-mail with
 * the delivery id as Message-ID; a slow webhook not holding up the inbox. */
// ctest-label: integration
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include "calls.h"
#include "notify_testlib.h"

static h_stack stack;
static mr_client *client;
static mr_store *store;
static h_proc http_sink, smtp_sink;
static int http_port, smtp_port;
static char sink_dir[256], http_out[320], smtp_out[320];

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static int start_sink(h_proc *p, const char *script, const char *const *args, int port)
{
    char src[512], path[600], log[400];
    snprintf(src, sizeof src, "%s", __FILE__);
    snprintf(path, sizeof path, "%s/sinks/%s", dirname(src), script);
    snprintf(log, sizeof log, "%s/%s.log", sink_dir, script);
    const char *argv[] = {"/usr/bin/python3", path, args[0], args[1], args[2], NULL};
    if (h_proc_start(p, argv, log) != 0)
        return -1;
    for (int i = 0; i < 200 && !port_open(port); i++)
        usleep(50 * 1000);
    return port_open(port) ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    char hp[16], sp[16], config[1024];
    http_port = h_free_port();
    smtp_port = h_free_port();
    snprintf(hp, sizeof hp, "%d", http_port);
    snprintf(sp, sizeof sp, "%d", smtp_port);
    if (h_mkdtemp(sink_dir, sizeof sink_dir, "notify-sinks") != 0)
        return -1;
    snprintf(http_out, sizeof http_out, "%s/http.jsonl", sink_dir);
    snprintf(smtp_out, sizeof smtp_out, "%s/smtp.jsonl", sink_dir);
    const char *http_args[] = {hp, http_out, "s3cret"}, *smtp_args[] = {sp, smtp_out, ""};
    if (start_sink(&http_sink, "http_sink.py", http_args, http_port) != 0 ||
        start_sink(&smtp_sink, "smtp_sink.py", smtp_args, smtp_port) != 0)
        return -1;
    snprintf(config, sizeof config,
             NT_TEST_CONFIG "webhook_secret = s3cret\nwebhook_allow_private = true\n"
                            "retry_base_ms = 200\nretry_max_ms = 800\nchannel_attempts = 3\n"
                            "smtp_url = smtp://127.0.0.1:%d\nsmtp_from = notify@medrep.test\n"
                            "smtp_domain = medrep.test\n"
                            "[notify@region:south]\nwebhook_allow_private = false\n",
             smtp_port);
    const char *regions[] = {"north", "south", NULL};
    if (h_stack_start(&stack, 1, regions, config) != 0 ||
        h_stack_start_service(&stack, "notify", "notify-c", NULL) < 0 ||
        h_stack_wait_workers(&stack, "notify", 1, 10000) != 0)
        return -1;
    client = h_stack_client(&stack, 8, 5000);
    store = h_stack_store(&stack, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mr_client_free(&client);
    mr_store_free(&store);
    h_proc_kill(&http_sink, SIGTERM);
    h_proc_kill(&smtp_sink, SIGTERM);
    h_rmtree(sink_dir);
    return h_stack_stop(&stack) == 0 ? 0 : -1;
}

/* The JSON lines of a sink file (caller decrefs). */
static json_t *read_lines(const char *path)
{
    json_t *all = json_array();
    FILE *f = fopen(path, "r");
    char line[65536];
    while (f && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j)
            json_array_append_new(all, j);
    }
    if (f)
        fclose(f);
    return all;
}

/* The requests the HTTP sink got for one delivery id, waiting until at
 * least want arrived (or timeout_ms). Caller decrefs. */
static json_t *requests_within(const char *delivery_prefix, size_t want, int timeout_ms)
{
    json_t *out = NULL;
    int64_t end = mr_mono_ms() + timeout_ms;
    do {
        if (out)
            json_decref(out), usleep(50 * 1000);
        out = json_array();
        json_t *all = read_lines(http_out), *r;
        size_t i;
        json_array_foreach(all, i, r) {
            const char *d = json_string_value(json_object_get(r, "delivery"));
            if (d && strncmp(d, delivery_prefix, strlen(delivery_prefix)) == 0)
                json_array_append(out, r);
        }
        json_decref(all);
    } while (json_array_size(out) < want && mr_mono_ms() < end);
    return out;
}

static json_t *requests_for(const char *delivery_prefix, size_t want)
{
    return requests_within(delivery_prefix, want, 10000);
}

/* What the sink got so far, without waiting (after the service showed
 * it was done). */
static json_t *requests_now(const char *delivery_prefix)
{
    return requests_within(delivery_prefix, 0, 0);
}

static void set_prefs(const char *region, const char *person, const char *channel2, const char *url,
                      const char *email)
{
    char *list[] = {"inbox", (char *)channel2};
    Medrep__ChannelChoice choice = MEDREP__CHANNEL_CHOICE__INIT, *choices[] = {&choice};
    choice.kind = "*";
    choice.channels = list;
    choice.n_channels = 2;
    Medrep__SetPreferencesRequest q = MEDREP__SET_PREFERENCES_REQUEST__INIT;
    q.person_id = (char *)person;
    q.channels = choices;
    q.n_channels = 1;
    q.webhook_url = (char *)url;
    q.email = (char *)email;
    char msg[256];
    assert_int_equal(mr_client_rpc(client, "notify", "SetPreferences", region, NULL, &q.base,
                                   &medrep__set_preferences_reply__descriptor, NULL, 5000, msg, sizeof msg),
                     MR_OK);
}

static void webhook_url(char *buf, size_t cap, const char *path)
{
    snprintf(buf, cap, "http://127.0.0.1:%d%s", http_port, path);
}

/* The dead-letter reasons of a region, joined. */
static void dead_reasons(const char *region, char *buf, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "{r:%s}:notify:dead", region);
    mr_val *v = mr_store_cmd(store, "XRANGE %s - +", key);
    buf[0] = '\0';
    for (size_t i = 0; i < mr_val_count(v); i++) {
        const mr_val *f = mr_val_at(mr_val_at(v, i), 1);
        for (size_t j = 0; j + 1 < mr_val_count(f); j += 2)
            if (strcmp(mr_val_str(mr_val_at(f, j), NULL), "reason") == 0)
                snprintf(buf + strlen(buf), cap - strlen(buf), "%s|", mr_val_str(mr_val_at(f, j + 1), NULL));
    }
    mr_val_free(&v);
}

static void wait_dead(const char *region, const char *needle, char *buf, size_t cap)
{
    int64_t end = mr_mono_ms() + 10000;
    do {
        dead_reasons(region, buf, cap);
    } while (!strstr(buf, needle) && mr_mono_ms() < end && (usleep(50 * 1000), 1));
}

static void test_webhook_signed_body(void **state)
{
    (void)state;
    char url[128], did[64];
    webhook_url(url, sizeof url, "/ok");
    set_prefs("north", "W1", "webhook", url, NULL);
    int64_t due = mr_now_ms() + 100;
    assert_int_equal(nt_schedule(client, "w1", "W1", NULL, due, false), MR_OK);
    snprintf(did, sizeof did, "w1@%lld", (long long)due);
    json_t *reqs = requests_for(did, 1);
    assert_int_equal(json_array_size(reqs), 1);
    json_t *r = json_array_get(reqs, 0), *body = json_object_get(r, "body");
    assert_true(json_is_true(json_object_get(r, "sig_ok")));
    assert_string_equal(json_string_value(json_object_get(r, "delivery")), did);
    assert_string_equal(json_string_value(json_object_get(body, "delivery_id")), did);
    assert_string_equal(json_string_value(json_object_get(body, "reminder_id")), "w1");
    assert_string_equal(json_string_value(json_object_get(body, "person_id")), "W1");
    assert_string_equal(json_string_value(json_object_get(body, "title")), "test reminder");
    assert_int_equal(json_integer_value(json_object_get(body, "due_ms")), due);
    json_decref(reqs);
    assert_int_equal(nt_wait_inbox(store, "W1", 1, 10000), 1);   /* and the inbox too */
}

static void test_webhook_retries_then_delivers(void **state)
{
    (void)state;
    char url[128], did[64];
    webhook_url(url, sizeof url, "/fail/2");
    set_prefs("north", "W2", "webhook", url, NULL);
    int64_t due = mr_now_ms() + 100;
    assert_int_equal(nt_schedule(client, "w2", "W2", NULL, due, false), MR_OK);
    snprintf(did, sizeof did, "w2@%lld", (long long)due);
    json_t *reqs = requests_for(did, 3);
    assert_int_equal(json_array_size(reqs), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(reqs, 0), "status")), 500);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(reqs, 2), "status")), 200);
    json_decref(reqs);
    usleep(1500 * 1000);   /* nothing more once it was accepted */
    reqs = requests_now(did);
    assert_int_equal(json_array_size(reqs), 3);
    json_decref(reqs);
    char reasons[2048];
    dead_reasons("north", reasons, sizeof reasons);
    assert_null(strstr(reasons, "w2"));
}

static void test_webhook_dead_letter_after_limit(void **state)
{
    (void)state;
    char url[128], did[64], reasons[2048];
    webhook_url(url, sizeof url, "/fail/99");
    set_prefs("north", "W3", "webhook", url, NULL);
    int64_t due = mr_now_ms() + 100;
    assert_int_equal(nt_schedule(client, "w3", "W3", NULL, due, false), MR_OK);
    snprintf(did, sizeof did, "w3@%lld", (long long)due);
    wait_dead("north", "after 3 attempt", reasons, sizeof reasons);
    assert_non_null(strstr(reasons, "webhook: HTTP 500 after 3 attempt(s)"));
    json_t *reqs = requests_for(did, 3);
    assert_int_equal(json_array_size(reqs), 3);
    json_decref(reqs);
}

/* A slow webhook does not hold up the inbox: the outside channels are
 * sent by their own sender, so an inbox delivery due after the webhook's
 * (and the same delivery's own inbox item) lands while the webhook's
 * request is still unanswered. */
static void test_slow_webhook_does_not_hold_inbox(void **state)
{
    (void)state;
    char url[128], did[64];
    webhook_url(url, sizeof url, "/slow/2000");
    set_prefs("north", "W9", "webhook", url, NULL);
    int64_t due = mr_now_ms() + 100;
    assert_int_equal(nt_schedule(client, "s9", "W9", NULL, due, false), MR_OK);
    assert_int_equal(nt_schedule(client, "i9", "I9", NULL, due + 200, false), MR_OK);
    snprintf(did, sizeof did, "s9@%lld", (long long)due);
    assert_int_equal(nt_wait_inbox(store, "I9", 1, 10000), 1);
    assert_int_equal(nt_wait_inbox(store, "W9", 1, 10000), 1);
    json_t *reqs = requests_now(did);
    assert_int_equal(json_array_size(reqs), 0);                 /* still being answered */
    json_decref(reqs);
    reqs = requests_for(did, 1);
    assert_int_equal(json_array_size(reqs), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(reqs, 0), "status")), 200);
    json_decref(reqs);
}

static void test_webhook_disabled_on_410(void **state)
{
    (void)state;
    char url[128], did[64], reasons[2048];
    webhook_url(url, sizeof url, "/gone");
    set_prefs("north", "W4", "webhook", url, NULL);
    int64_t due = mr_now_ms() + 100;
    assert_int_equal(nt_schedule(client, "w4a", "W4", NULL, due, false), MR_OK);
    wait_dead("north", "webhook disabled", reasons, sizeof reasons);
    assert_non_null(strstr(reasons, "HTTP 410"));
    assert_int_equal(nt_wait_inbox(store, "W4", 1, 10000), 1);
    /* the next reminder goes to the inbox only */
    assert_int_equal(nt_schedule(client, "w4b", "W4", NULL, mr_now_ms() + 100, false), MR_OK);
    assert_int_equal(nt_wait_inbox(store, "W4", 2, 10000), 2);
    json_t *reqs = requests_now("w4b@");
    assert_int_equal(json_array_size(reqs), 0);
    json_decref(reqs);
    /* setting the webhook again enables it */
    webhook_url(url, sizeof url, "/ok");
    set_prefs("north", "W4", "webhook", url, NULL);
    due = mr_now_ms() + 100;
    assert_int_equal(nt_schedule(client, "w4c", "W4", NULL, due, false), MR_OK);
    snprintf(did, sizeof did, "w4c@%lld", (long long)due);
    reqs = requests_for(did, 1);
    assert_int_equal(json_array_size(reqs), 1);
    json_decref(reqs);
}

static void test_private_address_refused(void **state)
{
    (void)state;
    char url[128], reasons[2048], msg[256];
    webhook_url(url, sizeof url, "/ok");
    set_prefs("south", "W5", "webhook", url, NULL);
    Medrep__ScheduleReminderRequest q = MEDREP__SCHEDULE_REMINDER_REQUEST__INIT;
    q.reminder_id = "w5", q.person_id = "W5", q.kind = "manual";
    q.has_due_ms = true;
    q.due_ms = mr_now_ms() + 100;
    assert_int_equal(mr_client_rpc(client, "notify", "ScheduleReminder", "south", NULL, &q.base,
                                   &medrep__schedule_reminder_reply__descriptor, NULL, 5000, msg, sizeof msg),
                     MR_OK);
    wait_dead("south", "address not allowed", reasons, sizeof reasons);
    assert_non_null(strstr(reasons, "address not allowed"));
    json_t *reqs = requests_now("w5@");
    assert_int_equal(json_array_size(reqs), 0);
    json_decref(reqs);
}

static void test_email(void **state)
{
    (void)state;
    set_prefs("north", "E1", "email", NULL, "e1@example.test");
    int64_t due = mr_now_ms() + 100;
    assert_int_equal(nt_schedule(client, "e1", "E1", NULL, due, false), MR_OK);
    json_t *mails = NULL;
    int64_t end = mr_mono_ms() + 10000;
    while ((!mails || json_array_size(mails) < 1) && mr_mono_ms() < end) {
        json_decref(mails);
        usleep(50 * 1000);
        mails = read_lines(smtp_out);
    }
    assert_int_equal(json_array_size(mails), 1);
    json_t *m = json_array_get(mails, 0);
    assert_string_equal(json_string_value(json_object_get(m, "mail_from")), "notify@medrep.test");
    assert_string_equal(json_string_value(json_array_get(json_object_get(m, "rcpt_tos"), 0)), "e1@example.test");
    const char *data = json_string_value(json_object_get(m, "data"));
    char want[128];
    snprintf(want, sizeof want, "Message-ID: <e1.%lld@medrep.test>", (long long)due);
    assert_non_null(strstr(data, want));
    snprintf(want, sizeof want, "X-Medrep-Delivery: e1@%lld", (long long)due);
    assert_non_null(strstr(data, want));
    assert_non_null(strstr(data, "Subject: test reminder"));
    json_decref(mails);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_signed_body),
        cmocka_unit_test(test_webhook_retries_then_delivers),
        cmocka_unit_test(test_webhook_dead_letter_after_limit),
        cmocka_unit_test(test_webhook_disabled_on_410),
        cmocka_unit_test(test_slow_webhook_does_not_hold_inbox),
        cmocka_unit_test(test_private_address_refused),
        cmocka_unit_test(test_email),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
