/* settings.h: the scoring numbers from the configuration. Every key lives
 * in [scoring] (grading) or [hospital_grade], refined per product and per
 * region by sections such as [scoring@product:P1] or
 * [scoring@region:north] (product scope first). See docs/configuration.md
 * and docs/formats.md. */
#ifndef MEDREP_SCORING_SETTINGS_H
#define MEDREP_SCORING_SETTINGS_H

#include <stddef.h>

#include "config.h"
#include "grade.h"

/* Defaults of the [scoring] keys that are not grading numbers. */
#define SC_HISTORY_MAX_DEFAULT 50          /* history_max: changes kept per customer */
#define SC_CHANGES_KEEP_DAYS_DEFAULT 90    /* changes_keep_days: GradeChanges window */

/* 0, or -1 with err naming the key and what is wrong. */
int sc_settings_grade(const mr_config *cfg, const char *region, const char *product,
                      sc_grade_cfg *out, char *err, size_t errcap);
int sc_settings_hospital(const mr_config *cfg, const char *region, const char *product,
                         sc_hospital_cfg *out, char *err, size_t errcap);

#endif
