/* direct.c: deciding, at schedule time, that a reminder goes to the inbox
 * alone, and marking it so that the mover delivers it itself in its move
 * script (mover.c), with no ready stream and no sender. The reminder's
 * hash gets three more fields:
 *   v  "<the person's preference version>/<the region's tag>"
 *   i  its inbox member (inbox_item.c), packed now for the due time it
 *      will fire at
 *   e  a packed RemindersDelivered of this one delivery: the mover's
 *      batch event is these, concatenated
 * so the mover only copies bytes. It delivers directly only while v
 * still matches: a preference change (SetPreferences bumps the version)
 * or a change of the region's defaults (the tag) sends the reminder the
 * generic way through the ready stream, which reads the preferences again
 * when it fires. */
#include <stdint.h>
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
    uint8_t member[NT_PACK_MAX], part[NT_PACK_MAX];
    size_t member_len = nt_pack_inbox_member(did, r->kind, r->title ? r->title : "", r->body ? r->body : "",
                                             at_ms, member);
    size_t part_len = nt_pack_delivered(r->id, did, r->person, "inbox", part);
    const char *argv[] = {"HSET", rem_key, "v", version, "i", (const char *)member, "e", (const char *)part};
    size_t lens[] = {4, strlen(rem_key), 1, strlen(version), 1, member_len, 1, part_len};
    return mr_tx_add(tx, 8, argv, lens) == 0 ? 1 : -1;
}
