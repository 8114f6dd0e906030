/* gen.c: synthetic territories (gen.h). */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

uint32_t sc_gen_rand(uint64_t *s, uint32_t n)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return n ? (uint32_t)((x >> 11) % n) : 0;
}

static double frand(uint64_t *s)
{
    return sc_gen_rand(s, 1u << 30) / (double)(1u << 30);
}

static const char *const opening_kinds[] = {
    "mon-fri 08:00-17:30; sat 08:00-12:00",
    "mon-fri 08:00-12:00 13:30-17:30",
    "mon-sat 07:30-17:00",
};

static const char *const window_kinds[] = {
    "mon-fri 08:00-10:30",
    "mon,wed,fri 13:30-16:30",
    "tue,thu 08:00-12:00; mon,wed,fri 14:00-17:00",
    "mon-fri 11:00-12:00 16:00-17:30",
};

static const char *const peak_kinds[] = {
    "mon,wed,fri 09:00-11:30",
    "tue,thu 13:30-16:00",
};

static void make_places(const sc_gen_opts *o, const sc_norms *nm, sc_gen *g, uint64_t *rs)
{
    double lat[256], lon[256];
    lat[0] = 31.2;
    lon[0] = 121.45;
    double deg = o->radius_km / 111.0;
    for (int l = 1; l < g->nloc; l++) {
        lat[l] = lat[0] + (frand(rs) * 2 - 1) * deg;
        lon[l] = lon[0] + (frand(rs) * 2 - 1) * deg;
        char err[64];
        sc_hours_parse(opening_kinds[sc_gen_rand(rs, 3)], &g->opening[l], err, sizeof err);
    }
    g->opening[0].any = true;
    for (int a = 0; a < g->nloc; a++)
        for (int b = 0; b < g->nloc; b++)
            g->travel[a * g->nloc + b] =
                a == b ? (a ? nm->same_site_minutes : 0)
                       : sc_travel_minutes(lat[a], lon[a], lat[b], lon[b], nm->speed_kmh, nm->road_factor);
}

static int class_for(const sc_gen_opts *o, const sc_norms *nm, uint64_t *rs)
{
    double x = frand(rs);
    const char *name = x < o->share_a ? "A"
                       : x < o->share_a + o->share_b ? "B"
                       : x < o->share_a + o->share_b + o->share_c ? "C"
                       : x < o->share_a + o->share_b + o->share_c + o->share_d ? "D"
                       : sc_gen_rand(rs, 2) ? "np_support" : "np_leadership";
    return sc_norms_class_index(nm, name);
}

static void make_visits(const sc_gen_opts *o, const sc_norms *nm, sc_gen *g, uint64_t *rs)
{
    char err[64];
    for (int v = 0; v < g->nvisits; v++) {
        sc_visit *vi = &g->visits[v];
        memset(vi, 0, sizeof *vi);
        vi->loc = 1 + (int)sc_gen_rand(rs, (uint32_t)(g->nloc - 1));
        vi->cls = class_for(o, nm, rs);
        vi->duration = nm->call_minutes_min + 5 * (int)sc_gen_rand(rs, 2);
        vi->last_call_day = SC_NO_DAY;
        vi->called_in_quarter = false;
        if (frand(rs) < o->windowed)
            sc_hours_parse(window_kinds[sc_gen_rand(rs, 4)], &vi->windows, err, sizeof err);
        else {
            vi->windows.any = true;
            if (sc_gen_rand(rs, 3) == 0)
                sc_hours_parse(peak_kinds[sc_gen_rand(rs, 2)], &vi->peak, err, sizeof err);
            else
                vi->peak.any = true;
        }
    }
}

int sc_gen_make(const sc_gen_opts *o, const sc_norms *nm, sc_gen *g)
{
    memset(g, 0, sizeof *g);
    if (o->hospitals < 1 || o->hospitals > 255 || o->customers < 0 || o->days < 1)
        return -1;
    uint64_t rs = o->seed * 2654435761ULL + 1;
    g->nloc = o->hospitals + 1;
    g->nvisits = o->customers;
    g->ndays = o->days;
    g->travel = calloc((size_t)g->nloc * (size_t)g->nloc, sizeof *g->travel);
    g->opening = calloc((size_t)g->nloc, sizeof *g->opening);
    g->visits = calloc((size_t)(g->nvisits ? g->nvisits : 1), sizeof *g->visits);
    g->days = calloc((size_t)g->ndays, sizeof *g->days);
    if (!g->travel || !g->opening || !g->visits || !g->days) {
        sc_gen_free(g);
        return -1;
    }
    make_places(o, nm, g, &rs);
    make_visits(o, nm, g, &rs);
    for (int d = 0; d < g->ndays; d++) {
        g->days[d].weekday = (1 + d) % 7;
        g->days[d].field = g->days[d].weekday >= 1 && g->days[d].weekday <= 5;
        g->days[d].week = d / 7;
    }
    g->problem = (sc_problem){.nloc = g->nloc, .travel = g->travel, .home = 0,
                              .opening = g->opening, .visits = g->visits, .nvisits = g->nvisits,
                              .days = g->days, .ndays = g->ndays, .norms = nm};
    return 0;
}

void sc_gen_free(sc_gen *g)
{
    free(g->travel);
    free(g->opening);
    free(g->visits);
    free(g->days);
    memset(g, 0, sizeof *g);
}
