/* cmd_grades.c: the scoring queries for people: `medrep grades CUSTOMER`
 * (grades with explanations and history), `medrep segments [--rep R |
 * --team T] [--product P]` (the A/B/C/D matrix) and `medrep hospitals
 * [--product P]` (hospital grades), each also as JSON with --json. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "errors.h"
#include "scoring.pb-c.h"

static int call_scoring(cli_ctx *ctx, const char *method, const ProtobufCMessage *in,
                        const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    char msg[512];
    mr_client *c = cli_client(ctx);
    if (!c)
        return 1;
    int code = mr_client_rpc(c, "scoring", method, ctx->region, NULL, in, desc, out, 10000, msg,
                             sizeof msg);
    if (code != MR_OK) {
        cli_error("%s: %s: %s", method, mr_code_name(code), msg);
        return 1;
    }
    return 0;
}

static void print_json(json_t *o)
{
    json_dumpf(o, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(o);
}

static const char *when(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

/* ---- grades ---- */

static json_t *grades_json(const Medrep__GetCustomerGradesReply *r)
{
    json_t *grades = json_array(), *hist = json_array();
    for (size_t i = 0; i < r->n_grades; i++) {
        const Medrep__Grade *g = r->grades[i];
        json_array_append_new(grades, json_pack("{s:s, s:s, s:i, s:i, s:i, s:s, s:b, s:s}",
            "product", g->product_id, "segment", g->segment ? g->segment : "",
            "prescription_status", g->prescription_status, "potential_score", g->potential_score,
            "adoption_stage", g->adoption_stage, "tier", g->key_account_tier ? g->key_account_tier : "",
            "compliance_risk", g->compliance_risk, "explanation", g->explanation ? g->explanation : ""));
    }
    for (size_t i = 0; i < r->n_history; i++) {
        const Medrep__GradeChange *h = r->history[i];
        json_array_append_new(hist, json_pack("{s:s, s:s, s:s, s:I, s:s}", "product", h->product_id,
            "old", h->old_segment ? h->old_segment : "", "new", h->new_segment ? h->new_segment : "",
            "at_ms", (json_int_t)h->at_ms, "reason", h->reason ? h->reason : ""));
    }
    return json_pack("{s:o, s:o}", "grades", grades, "history", hist);
}

static int run_grades(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 1) {
        fputs(cli_cmd_grades.usage, stderr);
        return 2;
    }
    Medrep__GetCustomerGradesRequest req = MEDREP__GET_CUSTOMER_GRADES_REQUEST__INIT;
    req.customer_id = argv[0];
    Medrep__GetCustomerGradesReply *r = NULL;
    if (call_scoring(ctx, "GetCustomerGrades", &req.base, &medrep__get_customer_grades_reply__descriptor,
                     (ProtobufCMessage **)&r))
        return 1;
    if (ctx->json) {
        print_json(grades_json(r));
    } else {
        if (r->n_grades == 0)
            printf("%s has no grades yet\n", argv[0]);
        for (size_t i = 0; i < r->n_grades; i++)
            printf("%-10s %s\n", r->grades[i]->product_id, r->grades[i]->explanation);
        char buf[40];
        for (size_t i = 0; i < r->n_history; i++) {
            const Medrep__GradeChange *h = r->history[i];
            printf("  %s  %-8s %s -> %s  %s\n", when(h->at_ms, buf, sizeof buf), h->product_id,
                   h->old_segment && h->old_segment[0] ? h->old_segment : "-",
                   h->new_segment && h->new_segment[0] ? h->new_segment : "-", h->reason);
        }
    }
    medrep__get_customer_grades_reply__free_unpacked(r, NULL);
    return 0;
}

const cli_command cli_cmd_grades = {
    .name = "grades",
    .summary = "a customer's grades, with explanations and history",
    .usage = "usage: medrep grades CUSTOMER\n",
    .run = run_grades,
};

/* ---- segments ---- */

static int run_segments(cli_ctx *ctx, int argc, char **argv)
{
    Medrep__SegmentMatrixRequest req = MEDREP__SEGMENT_MATRIX_REQUEST__INIT;
    for (int i = 0; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--rep") == 0)
            req.rep_id = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--team") == 0)
            req.team = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--product") == 0)
            req.product_id = argv[++i];
        else {
            fputs(cli_cmd_segments.usage, stderr);
            return 2;
        }
    }
    Medrep__SegmentMatrixReply *r = NULL;
    if (call_scoring(ctx, "SegmentMatrix", &req.base, &medrep__segment_matrix_reply__descriptor,
                     (ProtobufCMessage **)&r))
        return 1;
    json_t *arr = ctx->json ? json_array() : NULL;
    if (!ctx->json)
        printf("%-12s %8s %8s %8s %8s\n", "PRODUCT", "A", "B", "C", "D");
    for (size_t i = 0; i + 3 < r->n_counts; i += 4) {
        Medrep__SegmentCount **c = r->counts + i;
        if (arr)
            json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:I}", "product", c[0]->product_id,
                "A", (json_int_t)c[0]->count, "B", (json_int_t)c[1]->count,
                "C", (json_int_t)c[2]->count, "D", (json_int_t)c[3]->count));
        else
            printf("%-12s %8lld %8lld %8lld %8lld\n", c[0]->product_id, (long long)c[0]->count,
                   (long long)c[1]->count, (long long)c[2]->count, (long long)c[3]->count);
    }
    if (arr)
        print_json(arr);
    medrep__segment_matrix_reply__free_unpacked(r, NULL);
    return 0;
}

const cli_command cli_cmd_segments = {
    .name = "segments",
    .summary = "the A/B/C/D segment matrix of a rep, a team or the region",
    .usage = "usage: medrep segments [--rep R | --team T] [--product P]\n",
    .run = run_segments,
};

/* ---- hospitals ---- */

static int run_hospitals(cli_ctx *ctx, int argc, char **argv)
{
    char token[32] = "";
    const char *product = NULL;
    if (argc == 2 && strcmp(argv[0], "--product") == 0)
        product = argv[1];
    else if (argc != 0) {
        fputs(cli_cmd_hospitals.usage, stderr);
        return 2;
    }
    json_t *arr = ctx->json ? json_array() : NULL;
    do {
        Medrep__HospitalGradesRequest req = MEDREP__HOSPITAL_GRADES_REQUEST__INIT;
        req.product_id = (char *)product;
        req.page_token = token;
        Medrep__HospitalGradesReply *r = NULL;
        if (call_scoring(ctx, "HospitalGrades", &req.base, &medrep__hospital_grades_reply__descriptor,
                         (ProtobufCMessage **)&r)) {
            json_decref(arr);
            return 1;
        }
        for (size_t i = 0; i < r->n_grades; i++) {
            const Medrep__HospitalGrade *g = r->grades[i];
            if (arr)
                json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:f, s:s}", "hospital", g->hospital_id,
                    "name", g->name ? g->name : "", "grade", g->grade, "score", g->score,
                    "explanation", g->explanation));
            else
                printf("%-10s %-24.24s %s\n", g->hospital_id, g->name ? g->name : "", g->explanation);
        }
        snprintf(token, sizeof token, "%s", r->next_page_token ? r->next_page_token : "");
        medrep__hospital_grades_reply__free_unpacked(r, NULL);
    } while (token[0] && !cli_interrupted());
    if (arr)
        print_json(arr);
    return 0;
}

const cli_command cli_cmd_hospitals = {
    .name = "hospitals",
    .summary = "hospital grades A/B/C with their scores",
    .usage = "usage: medrep hospitals [--product P]\n"
             "  --product P weighs the use of P's therapy area at each hospital.\n",
    .run = run_hospitals,
};
