/* direct.c: deciding, at schedule time, that a reminder goes to the inbox
 * alone, and marking it so that the mover delivers it itself in its move
 * script (mover.c: it packs the medrep.InboxItem and the ReminderDelivered
 * event from the reminder's fields), with no ready stream and no sender.
 * The mark is one short field, so the reminder's hash keeps its compact
 * encoding:
 *   v  "<the person's preference version>/<the region's tag>"
 * The mover delivers directly only while v still matches: a preference
 * change (SetPreferences bumps the version) or a change of the region's
 * defaults (the tag) sends the reminder the generic way through the ready
 * stream, which reads the preferences again when it fires. */
#include <stdio.h>
#include <string.h>

#include "notify.h"

void nt_direct_tag(const char *default_channels, bool direct, char *buf, size_t cap)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)(default_channels ? default_channels : ""); *p; p++)
        h = (h ^ *p) * 16777619u;
    snprintf(buf, cap, "%s%08x", direct ? "d" : "g", (unsigned)h);
}

static bool eligible(const nt_region *reg, const nt_reminder *r, const nt_person *who)
{
    return reg && reg->direct_inbox && strcmp(r->kind, "digest") != 0 && who->digest_second < 0 &&
           nt_channels_inbox_only(who->channels);
}

int nt_stage_direct(nt_state *st, mr_tx *tx, const char *region, const char *rem_key,
                    const nt_reminder *r, const nt_person *who, int64_t at_ms)
{
    const nt_region *reg = nt_region_find(st, region);
    char did[192], version[64];
    if (!eligible(reg, r, who) || nt_delivery_id(did, sizeof did, r->id, at_ms) <= 0)
        return 0;
    snprintf(version, sizeof version, "%s/%s", who->version, reg->direct_tag);
    return mr_tx_addv(tx, "HSET", rem_key, "v", version, NULL) == 0 ? 1 : -1;
}
