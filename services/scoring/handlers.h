/* handlers.h: the scoring service's method table and event handler. */
#ifndef MEDREP_SCORING_HANDLERS_H
#define MEDREP_SCORING_HANDLERS_H

#include <stddef.h>

#include "scoring.pb-c.h"
#include "service.h"

extern const mr_method sc_methods[];
extern const size_t sc_method_count;

/* CallLogged moves the adoption ladder (DOMAIN.md 2.3). */
int sc_on_event(mr_event_call *call);

/* queries.c */
int sc_hospital_grades(mr_call *call);
int sc_list_customers(mr_call *call);
int sc_monthly_prescriptions(mr_call *call);

#endif
