/* import.h: one chunk of a CSV import (the ImportChunk method), and the
 * prescription upsert the single-update method shares with it.
 *
 * A chunk is parsed whole (it is bounded by the broker's message size),
 * its current records are read in one Redis pipeline, and only the rows
 * that change something are staged into the call's transaction, which
 * the shell commits atomically with the reply. So a chunk is one round
 * trip to read and one script to write, importing the same file again
 * stages nothing, and bad rows are reported by file line and skipped. */
#ifndef MEDREP_SCORING_IMPORT_H
#define MEDREP_SCORING_IMPORT_H

#include "grade.h"
#include "scoring.pb-c.h"
#include "service.h"

#define SC_MAX_ROW_ERRORS 100

typedef struct {
    long line;
    char reason[200];
} sc_row_error;

typedef struct {
    long ok, unchanged, bad;
    size_t nerrors;                       /* the first SC_MAX_ROW_ERRORS */
    sc_row_error errors[SC_MAX_ROW_ERRORS];
} sc_chunk_result;

/* Counts a bad row and keeps its reason among the first errors. */
void sc_result_bad(sc_chunk_result *res, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Imports one chunk. Returns MR_OK with *res filled, or the failure code
 * already set on call (bad header or kind: INVALID_ARGUMENT; Redis away:
 * UNAVAILABLE). */
int sc_import_chunk(mr_call *call, const Medrep__ImportChunkRequest *req, sc_chunk_result *res);

/* One prescription row, validated. */
typedef struct {
    long line;
    char customer[MR_ID_MAX], product[MR_ID_MAX], month[8];
    double our, market, patients;        /* patients < 0: not given */
} sc_rx_row;

/* Checks a prescription row's values; NULL when good, else the reason. */
const char *sc_rx_row_check(const sc_rx_row *r);

/* Stages rows[0..n) (read, compare, write changed months, update the
 * customer-product means, the region distributions and the hospital's
 * therapy-area use). Unknown customers or products are bad rows.
 * Returns MR_OK or a failure code set on call. */
int sc_stage_prescriptions(mr_call *call, sc_rx_row *rows, size_t n, sc_chunk_result *res);

/* A customer moved from hospital `from` to `to`: stages the move of its
 * monthly market means in every product's hospital therapy-area use
 * (sc:hmkt). Reads the means (a round trip; moves are rare). MR_OK or a
 * code set on call. */
int sc_stage_hospital_move(mr_call *call, const char *customer, const char *from, const char *to);

/* The same for one row; *means gets the customer-product's monthly means
 * as staged (for grading in the same call). */
int sc_stage_prescription(mr_call *call, sc_rx_row *row, sc_chunk_result *res, sc_means *means);

#endif
