/* layout.h: the scoring service's own Redis keys (master data keys are in
 * common/masterdata.h). Every key carries the region tag {r:<region>}.
 *
 *   sc:rx:<customer>:<product>   hash month "YYYY-MM" -> "our market patients" (patients "-" when not given)
 *   sc:agg:<product>             hash customer -> "months our market patients": the monthly means
 *   sc:pot:market:<product>      zset customer -> mean market prescriptions (the region's distribution)
 *   sc:pot:patients:<product>    zset customer -> mean patients a week (customers that gave it)
 *   sc:hmkt:<product>            hash hospital -> sum of its customers' mean market (therapy-area use)
 *   sc:grade:<product>           hash customer -> packed medrep.Grade
 *   sc:seg:<product>:<A-D>       set of customers in that segment
 *   sc:adopt:<product>           hash customer -> adoption stage 0..4
 *   sc:stance:<product>          hash customer -> pre-listing stance -4..-2
 *   sc:hist:<customer>           list of packed medrep.GradeChange, newest first
 *   sc:changes                   stream of grade changes, field "c" = packed medrep.GradeChange;
 *                                entry ids are the commit time, so "changes since a time" is an
 *                                XRANGE (kept [scoring] changes_keep_days)
 */
#ifndef MEDREP_SCORING_LAYOUT_H
#define MEDREP_SCORING_LAYOUT_H

#define SC_KEY_RX "sc:rx:%s:%s"
#define SC_KEY_AGG "sc:agg:%s"
#define SC_KEY_POT "sc:pot:%s:%s"
#define SC_KEY_HMKT "sc:hmkt:%s"
#define SC_KEY_GRADE "sc:grade:%s"
#define SC_KEY_SEG "sc:seg:%s:%c"
#define SC_KEY_ADOPT "sc:adopt:%s"
#define SC_KEY_STANCE "sc:stance:%s"
#define SC_KEY_HIST "sc:hist:%s"
#define SC_KEY_CHANGES "sc:changes"

#endif
