/* mdp.h: the medrep broker protocol, in the Majordomo style (ZeroMQ
 * RFC 7/18 are the model). One broker ROUTER socket serves clients and
 * workers; the first frame says which.
 *
 * Client (DEALER) <-> broker:
 *   request   "MRC1" | service | body (packed medrep.Request)
 *   reply     "MRC1" | service | body (packed medrep.Reply)
 *
 * Worker (DEALER) <-> broker (command is one byte):
 *   READY      W->B  "MRW1" | 0x01 | service | instance | credits (decimal)
 *   REQUEST    B->W  "MRW1" | 0x02 | client | request id | body
 *   REPLY      W->B  "MRW1" | 0x03 | client | request id | body
 *   HEARTBEAT  both  "MRW1" | 0x04
 *   DISCONNECT both  "MRW1" | 0x05
 *
 * "credits" is how many requests the worker will queue at once; the
 * broker keeps at most that many outstanding on it. The broker prefixes
 * each inbound message with the peer's routing id (frame 0), as ROUTER
 * does; mdp_parse_inbound() expects that frame.
 *
 * Everything here is pure: parsing a list of frames into a message and
 * validating it. Frames come from the network, so every length is
 * checked. */
#ifndef MEDREP_MDP_H
#define MEDREP_MDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MDP_CLIENT "MRC1"
#define MDP_WORKER "MRW1"

enum {
    MDP_READY = 1,
    MDP_REQUEST = 2,
    MDP_REPLY = 3,
    MDP_HEARTBEAT = 4,
    MDP_DISCONNECT = 5,
};

#define MDP_MAX_NAME 64        /* service and instance names */
#define MDP_MAX_ID 64          /* routing ids and request ids */
#define MDP_MAX_FRAMES 8

typedef struct {
    const uint8_t *data;
    size_t size;
} mdp_frame;

typedef enum {
    MDP_IN_CLIENT_REQUEST = 1,
    MDP_IN_WORKER_READY,
    MDP_IN_WORKER_REPLY,
    MDP_IN_WORKER_HEARTBEAT,
    MDP_IN_WORKER_DISCONNECT,
} mdp_inbound_kind;

/* A parsed inbound message. Every pointer points into the frames given
 * to the parser: valid only while they are. */
typedef struct {
    mdp_inbound_kind kind;
    mdp_frame peer;            /* routing id of the sender */
    mdp_frame service;         /* client request, worker ready */
    mdp_frame instance;        /* worker ready */
    int credits;               /* worker ready, 1..MDP_MAX_CREDITS */
    mdp_frame client;          /* worker reply: routing id of the client */
    mdp_frame request_id;      /* worker reply */
    mdp_frame body;            /* client request, worker reply */
} mdp_inbound;

#define MDP_MAX_CREDITS 1024

/* Parses what the broker's ROUTER received. Returns 0, or -1 with a short
 * reason in *why (a static string) for anything malformed: wrong frame
 * count, unknown protocol or command, names too long or not printable,
 * credits out of range. */
int mdp_parse_inbound(const mdp_frame *frames, size_t count, mdp_inbound *out, const char **why);

/* What a worker receives from the broker (its DEALER has no routing
 * frame): REQUEST with client, request id and body; HEARTBEAT; DISCONNECT. */
typedef struct {
    int command;               /* MDP_REQUEST, MDP_HEARTBEAT or MDP_DISCONNECT */
    mdp_frame client;
    mdp_frame request_id;
    mdp_frame body;
} mdp_to_worker;

/* 0, or -1 for anything malformed. Pointers point into frames. */
int mdp_parse_to_worker(const mdp_frame *frames, size_t count, mdp_to_worker *out);

/* What a client receives: "MRC1" | service | body. 0 with *body set, or -1. */
int mdp_parse_to_client(const mdp_frame *frames, size_t count, mdp_frame *body);

/* True when a name (service, instance) is 1..MDP_MAX_NAME bytes of
 * [A-Za-z0-9._-]. */
bool mdp_name_valid(const uint8_t *data, size_t size);

#endif
