/* routes.c: path matching and the route table of the gateway (routes.h).
 * To publish a service method, add a row. */
#include "routes.h"

#include <string.h>

#include "envelope.pb-c.h"

bool gw_route_match(const char *pattern, const char *path, gw_params *params)
{
    params->count = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = strcspn(s, "/");
            if (!close || len == 0 || len >= sizeof params->value[0] || params->count == GW_MAX_PARAMS)
                return false;
            int i = params->count++;
            params->name[i] = p + 1;
            params->name_len[i] = (size_t)(close - p - 1);
            memcpy(params->value[i], s, len);
            params->value[i][len] = '\0';
            p = close + 1;
            s += len;
        } else if (*p++ != *s++) {
            return false;
        }
    }
    return *p == '\0' && *s == '\0';
}

const gw_route *gw_route_find(const char *method, const char *path, gw_params *params,
                              bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < gw_route_count; i++) {
        if (!gw_route_match(gw_routes[i].pattern, path, params))
            continue;
        *path_known = true;
        if (strcmp(gw_routes[i].http_method, method) == 0)
            return &gw_routes[i];
    }
    return NULL;
}

const char *gw_param(const gw_params *params, const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < params->count; i++)
        if (params->name_len[i] == len && memcmp(params->name[i], name, len) == 0)
            return params->value[i];
    return NULL;
}

void gw_route_each_required(const gw_route *route, void (*fn)(const char *name, size_t len, void *arg),
                            void *arg)
{
    for (const char *p = route->required; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0)
            fn(p, len, arg);
        p += len + (p[len] == ',');
    }
}
