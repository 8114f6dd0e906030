/* test_notify_channels.c: the pure parts of the notify service's outside
 * channels (services/notify/channels.c): webhook body and signature,
 * address filtering, back-off with jitter, status classes, e-mail text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "channels.h"

static const nt_message msg = {.delivery_id = "r1@1700000000000", .reminder_id = "r1",
                               .person_id = "P1", .kind = "follow_up", .title = "Call \"Dr. Li\"",
                               .body = "line one\nline two\n.dot", .due_ms = 1700000000000,
                               .fired_ms = 1700000000012};

static void test_body(void **state)
{
    (void)state;
    char *text = nt_webhook_body(&msg);
    assert_non_null(text);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "delivery_id")), "r1@1700000000000");
    assert_string_equal(json_string_value(json_object_get(j, "title")), "Call \"Dr. Li\"");
    assert_int_equal(json_integer_value(json_object_get(j, "fired_ms")), 1700000000012);
    json_decref(j);
    free(text);
}

static void test_signature(void **state)
{
    (void)state;
    char hex[65];
    const char *body = "what do ya want for nothing?";
    assert_int_equal(nt_webhook_sign("Jefe", 1700000000, body, strlen(body), hex, sizeof hex), 0);
    /* computed independently with Python's hmac module */
    assert_string_equal(hex, "1cdd0650c8be1cb0974b1788d458b1e781206cfef59b85faafc582d2e182c57e");
    char other[65];
    nt_webhook_sign("Jefe", 1700000001, body, strlen(body), other, sizeof other);
    assert_string_not_equal(hex, other);
    assert_int_equal(nt_webhook_sign("Jefe", 1, body, strlen(body), hex, 10), -1);
}

static bool v4(const char *ip, bool allow)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return nt_address_allowed((struct sockaddr *)&a, allow);
}

static bool v6(const char *ip, bool allow)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return nt_address_allowed((struct sockaddr *)&a, allow);
}

static void test_addresses(void **state)
{
    (void)state;
    const char *private4[] = {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255",
                              "192.168.1.1", "169.254.169.254", "100.64.0.1"};
    for (size_t i = 0; i < sizeof private4 / sizeof private4[0]; i++) {
        assert_false(v4(private4[i], false));
        assert_true(v4(private4[i], true));
    }
    assert_true(v4("93.184.216.34", false));
    assert_true(v4("172.32.0.1", false));
    assert_false(v4("0.0.0.0", true));
    assert_false(v4("224.0.0.1", true));
    assert_false(v4("255.255.255.255", true));
    assert_false(v6("::1", false));
    assert_true(v6("::1", true));
    assert_false(v6("fd00::1", false));
    assert_false(v6("fe80::1", false));
    assert_false(v6("::ffff:127.0.0.1", false));
    assert_false(v6("::ffff:10.0.0.1", false));
    assert_true(v6("2606:2800:220:1::1", false));
    assert_false(v6("::", true));
    assert_false(v6("ff02::1", true));
    assert_false(nt_address_allowed(NULL, true));
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(nt_backoff_ms(1, 1000, 60000, 0.0), 500);
    assert_int_equal(nt_backoff_ms(1, 1000, 60000, 0.999), 999);
    assert_int_equal(nt_backoff_ms(3, 1000, 60000, 0.0), 2000);
    assert_int_equal(nt_backoff_ms(30, 1000, 60000, 0.0), 30000);   /* capped */
    assert_true(nt_backoff_ms(30, 1000, 60000, 5.0) <= 60000);
    for (int a = 1; a < 10; a++)
        assert_true(nt_backoff_ms(a + 1, 100, 100000, 0.5) >= nt_backoff_ms(a, 100, 100000, 0.5));
    assert_true(nt_status_disables(410) && nt_status_disables(401) && nt_status_disables(403));
    assert_false(nt_status_disables(404));
    assert_true(nt_status_transient(503) && nt_status_transient(429));
    assert_false(nt_status_transient(400));
}

static void test_email(void **state)
{
    (void)state;
    char *text = nt_email_text(&msg, "n@m.test", "p1@x.test", "Tue, 14 Nov 2023 22:13:20 +0000", "m.test");
    assert_non_null(text);
    assert_non_null(strstr(text, "Message-ID: <r1.1700000000000@m.test>\r\n"));
    assert_non_null(strstr(text, "X-Medrep-Delivery: r1@1700000000000\r\n"));
    assert_non_null(strstr(text, "\r\n\r\nline one\r\nline two\r\n..dot"));
    free(text);
    nt_message evil = msg;
    evil.title = "hi\r\nBcc: all@x.test";
    text = nt_email_text(&evil, "n@m.test", "p1@x.test", "d", "m.test");
    assert_null(strstr(text, "\r\nBcc:"));
    free(text);
    assert_true(nt_email_valid("a.b@c.test"));
    assert_false(nt_email_valid("a b@c.test"));
    assert_false(nt_email_valid("<a@c.test>"));
    assert_false(nt_email_valid("a@b@c"));
    assert_false(nt_email_valid("a@c.test\r\nRCPT TO:<x@y>"));
    assert_false(nt_email_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body),      cmocka_unit_test(test_signature),
        cmocka_unit_test(test_addresses), cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_email),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
