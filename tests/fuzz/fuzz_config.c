/* fuzz_config.c: libFuzzer target for the configuration parser: the input,
 * made a NUL-terminated string, is parsed with mr_config_from_string, then
 * read the way services read it: the regions (each one's Redis address,
 * time zone and calendar checked) into a small array, a few typed keys,
 * scoped lookups and the section walk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static volatile size_t sink;

static int count_section(const char *section, void *arg)
{
    (void)arg;
    sink += strlen(section);
    return 0;
}

static void read_typed_keys(const mr_config *cfg)
{
    char err[256];
    long long n;
    double d;
    bool b;
    mr_config_int(cfg, "broker", "heartbeat_ms", 1000, 10, 600000, &n, err, sizeof err);
    mr_config_double(cfg, "norms", "calls_per_day", 12, 0, 1000, &d, err, sizeof err);
    mr_config_bool(cfg, "feed", "enabled", false, &b, err, sizeof err);
    const char *value = mr_config_str(cfg, "broker", "endpoint", "");
    sink += strlen(value);
    static const char *const scopes[] = {"team:ONC", "product:P1", NULL};
    value = mr_config_scoped(cfg, "norms", "calls_per_day", scopes);
    if (value)
        sink += strlen(value);
    mr_config_each_section(cfg, "", count_section, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[512];
    mr_config *cfg = mr_config_from_string(text, err, sizeof err);
    free(text);   /* the config must not keep pointers into the text */
    if (!cfg)
        return 0;
    mr_region_cfg regions[4];
    int n = mr_config_regions(cfg, regions, 4, err, sizeof err);
    for (int i = 0; i < n; i++)
        sink += strlen(regions[i].name) + strlen(regions[i].timezone) + (size_t)regions[i].redis_port;
    read_typed_keys(cfg);
    mr_config_free(&cfg);
    return 0;
}
