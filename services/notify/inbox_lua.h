/* inbox_lua.h: Lua shared by the scripts that write inboxes (the sender's
 * fast path, inbox_fast.c, and the mover's direct delivery, mover.c):
 * trimming an inbox to the region's retention. */
#ifndef MEDREP_NOTIFY_INBOX_LUA_H
#define MEDREP_NOTIFY_INBOX_LUA_H

/* Removes from one inbox (box: its sorted set of members by delivered
 * time; readk: its set of read members) what is older than the cutoff
 * score (ms, "0": none) and what is beyond the newest max items ("0": no
 * cap). */
#define TRIM_LUA                                                                   \
    "local function unlink(box, readk, old)\n"                                     \
    "  for i = 1, #old, 1000 do\n"                                                 \
    "    local j = math.min(i + 999, #old)\n"                                      \
    "    redis.call('ZREM', box, unpack(old, i, j))\n"                             \
    "    redis.call('SREM', readk, unpack(old, i, j))\n"                           \
    "  end\n"                                                                      \
    "end\n"                                                                        \
    "local function trim(box, readk, maxn, cutoff)\n"                             \
    "  if tonumber(cutoff) > 0 then\n"                                             \
    "    unlink(box, readk, redis.call('ZRANGEBYSCORE', box, '-inf', '(' .. cutoff, 'LIMIT', 0, 10000))\n" \
    "  end\n"                                                                      \
    "  if maxn > 0 then\n"                                                         \
    "    local n = redis.call('ZCARD', box)\n"                                     \
    "    if n > maxn then unlink(box, readk, redis.call('ZRANGE', box, 0, n - maxn - 1)) end\n" \
    "  end\n"                                                                      \
    "end\n"

#endif
