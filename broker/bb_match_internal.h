/*  =========================================================================
    bb_match_internal - what the parts of bb_match share

    Internal to bb_match and its parts (bb_match_check, bb_match_tables,
    bb_match_pick); nothing else includes it. It holds the matching's
    input, the run's tables and the results (struct _bb_match_t and its
    element types), and the helpers more than one part needs. bb_match
    alone adds to the input; bb_match_tables builds the run's tables;
    bb_match_pick writes the proposals; bb_match_check only reads. Every
    index is into the matching's own arrays; BB_MATCH_NONE is none.
    =========================================================================
*/

#ifndef BB_MATCH_INTERNAL_H_INCLUDED
#define BB_MATCH_INTERNAL_H_INCLUDED

#include "bb_match.h"

#define BB_MATCH_NONE UINT32_MAX //  no index

typedef struct {
    char node_id[BR_NODE_ID_MAX + 1]; //  the town's node id
    int balance;                      //  hours given minus received, at the start
    int capacity;                     //  coaching hours it has left this quarter
    int load;                         //  hours proposed for it as provider in the run
    int running;                      //  its balance after the run's proposals so far
    uint32_t history_first;           //  its first entry in the run's history table
    uint32_t history_count;           //  towns that received from it
    uint32_t stamp;                   //  = sequence of the request being matched if
                                      //  it received from that request's town
} bb_match_town_t;

typedef struct {
    char code[BB_MATCH_TOPIC_MAX + 1]; //  the topic's code
    bool planned;                      //  in the staged plan
    int from_quarter;                  //  open from this quarter on, if planned
    uint32_t first;                    //  its first offer in the run's topic table
    uint32_t count;                    //  its open offers
} bb_match_topic_t;

typedef struct {
    uint8_t id[BB_MATCH_ID_SIZE]; //  the offer's id
    uint32_t provider;            //  town index of the offering town
    uint32_t topic;               //  topic index
    int hours;                    //  hours per transfer
} bb_match_offer_t;

typedef struct {
    uint8_t id[BB_MATCH_ID_SIZE];       //  the request's id
    uint32_t receiver;                  //  town index of the requesting town
    uint32_t topic;                     //  topic index, BB_MATCH_NONE for one offer
    uint8_t offer_id[BB_MATCH_ID_SIZE]; //  the offer asked for, if topic is BB_MATCH_NONE
} bb_match_request_t;

//  "receiver once received a transfer from provider"
typedef struct {
    uint32_t provider; //  town index of the town that gave
    uint32_t receiver; //  town index of the town that received
} bb_match_pair_t;

struct _bb_match_t {
    bb_match_town_t *towns;          //  the towns, in insertion order
    size_t town_count;               //  how many
    size_t town_room;                //  allocated entries
    zhashx_t *town_index;            //  node id -> town index + 1
    bb_match_topic_t *topics;        //  topics met in offers, requests and plan
    size_t topic_count;              //  how many
    size_t topic_room;               //  allocated entries
    zhashx_t *topic_index;           //  topic code -> topic index + 1
    bb_match_offer_t *offers;        //  the open offers
    size_t offer_count;              //  how many
    size_t offer_room;               //  allocated entries
    zhashx_t *offer_index;           //  hex offer id -> offer index + 1
    bb_match_request_t *requests;    //  the open requests
    size_t request_count;            //  how many
    size_t request_room;             //  allocated entries
    zhashx_t *request_index;         //  hex request id -> request index + 1
    bb_match_pair_t *history;        //  reciprocity history, as added
    size_t history_count;            //  how many pairs
    size_t history_room;             //  allocated entries
    int floor;                       //  lowest balance allowed, hours
    int ceiling;                     //  highest balance allowed, hours
    bool plan;                       //  a staged plan is in force
    int quarter;                     //  the quarter matched, if plan
    uint32_t *topic_offers;          //  run: offer indices grouped by topic
    bb_match_pair_t *receivers;      //  run: history sorted by provider, deduplicated
    bb_match_proposal_t *proposals;  //  results: proposals in the order made
    size_t proposal_count;           //  how many
    size_t proposal_room;            //  allocated entries
    bb_match_unmatched_t *unmatched; //  results: requests without proposal
    size_t unmatched_count;          //  how many
    bool ran;                        //  results are from a run
};

//  Makes room for one more item in a growing array of `count` items of
//  `item_size` bytes, `*room` allocated; returns the array, perhaps moved.
//  Aborts if memory runs out.
void *bb_match_grow (void *array, size_t *room, size_t count, size_t item_size);

//  Finds offer or request id `id` in `table` (offer_index or
//  request_index). Returns its index, or BB_MATCH_NONE if it is not there.
uint32_t bb_match_id_lookup (zhashx_t *table, const uint8_t *id);

//  True if topic `topic` (an index) may get proposals in the quarter
//  matched: always without a staged plan.
bool bb_match_topic_open (bb_match_t *self, uint32_t topic);

#endif
