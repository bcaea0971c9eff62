/*  =========================================================================
    bn_answers - the answers a node sent lately, kept to send again
    =========================================================================
*/

#include "bruecke.h"
#include "bn_answers.h"

//  One kept answer.
typedef struct {
    uint8_t id[BR_MESSAGE_ID_SIZE]; //  its message id
    zchunk_t *bytes;                //  its envelope, NULL if the slot is empty
    int64_t clock;                  //  when it was made (br_clock_ms)
    bool due;                       //  to be sent again
} s_slot_t;

struct _bn_answers_t {
    s_slot_t *slots; //  a ring of `capacity` slots
    size_t capacity; //  how many it keeps
    size_t next;     //  the slot the next answer takes (the oldest kept)
};

bn_answers_t *
bn_answers_new (size_t capacity)
{
    assert (capacity > 0);
    bn_answers_t *self = (bn_answers_t *) zmalloc (sizeof (bn_answers_t));
    self->slots = (s_slot_t *) calloc (capacity, sizeof (s_slot_t));
    assert (self->slots);
    self->capacity = capacity;
    return self;
}

void
bn_answers_destroy (bn_answers_t **self_p)
{
    assert (self_p);
    bn_answers_t *self = *self_p;
    if (self) {
        for (size_t index = 0; index < self->capacity; index++)
            zchunk_destroy (&self->slots[index].bytes);
        free (self->slots);
        free (self);
        *self_p = NULL;
    }
}

void
bn_answers_keep (bn_answers_t *self, const uint8_t id[BR_MESSAGE_ID_SIZE], const uint8_t *data,
                 size_t size, int64_t clock)
{
    assert (self && id && data);
    s_slot_t *slot = &self->slots[self->next];
    self->next = (self->next + 1) % self->capacity;
    zchunk_destroy (&slot->bytes);
    memcpy (slot->id, id, BR_MESSAGE_ID_SIZE);
    slot->bytes = zchunk_new (data, size);
    slot->clock = clock;
    slot->due = false;
}

size_t
bn_answers_since (bn_answers_t *self, int64_t clock)
{
    assert (self);
    size_t count = 0;
    for (size_t index = 0; index < self->capacity; index++) {
        s_slot_t *slot = &self->slots[index];
        if (slot->bytes && slot->clock >= clock && !slot->due) {
            slot->due = true;
            count++;
        }
    }
    return count;
}

bool
bn_answers_refused (bn_answers_t *self, const uint8_t id[BR_MESSAGE_ID_SIZE])
{
    assert (self && id);
    //  Refusals are rare (a full disk at the broker): a scan is cheap enough
    for (size_t index = 0; index < self->capacity; index++) {
        s_slot_t *slot = &self->slots[index];
        if (slot->bytes && memcmp (slot->id, id, BR_MESSAGE_ID_SIZE) == 0) {
            slot->due = true;
            return true;
        }
    }
    return false;
}

size_t
bn_answers_resend (bn_answers_t *self, bn_answers_fn *send, void *argument)
{
    assert (self && send);
    size_t count = 0;
    for (size_t step = 0; step < self->capacity; step++) {
        s_slot_t *slot = &self->slots[(self->next + step) % self->capacity];
        if (slot->bytes && slot->due) {
            slot->due = false;
            send (argument, zchunk_data (slot->bytes), zchunk_size (slot->bytes));
            count++;
        }
    }
    return count;
}

//  --------------------------------------------------------------------------
//  Selftest

static void
s_test_send (void *argument, const uint8_t *data, size_t size)
{
    zlistx_add_end ((zlistx_t *) argument, zchunk_new (data, size));
}

void
bn_answers_test (bool verbose)
{
    if (verbose)
        printf (" * bn_answers: ");
    //  @selftest
    bn_answers_t *answers = bn_answers_new (3);
    zlistx_t *sent = zlistx_new ();
    zlistx_set_destructor (sent, (zlistx_destructor_fn *) zchunk_destroy);
    uint8_t ids[4][BR_MESSAGE_ID_SIZE];
    for (int index = 0; index < 4; index++) {
        memset (ids[index], index + 1, BR_MESSAGE_ID_SIZE);
        uint8_t bytes[8];
        memset (bytes, 'a' + index, sizeof (bytes));
        bn_answers_keep (answers, ids[index], bytes, sizeof (bytes), 1000 * index);
    }
    //  Nothing is due until refused; the oldest of four is forgotten
    assert (bn_answers_resend (answers, s_test_send, sent) == 0);
    assert (!bn_answers_refused (answers, ids[0]));
    uint8_t unknown[BR_MESSAGE_ID_SIZE] = {42};
    assert (!bn_answers_refused (answers, unknown));
    assert (bn_answers_refused (answers, ids[3]));
    assert (bn_answers_refused (answers, ids[1]));
    assert (bn_answers_refused (answers, ids[1])); //  once due, once sent
    //  Sent again oldest first, the same bytes, then no longer due
    assert (bn_answers_resend (answers, s_test_send, sent) == 2);
    zchunk_t *first = (zchunk_t *) zlistx_first (sent);
    zchunk_t *second = (zchunk_t *) zlistx_next (sent);
    assert (zchunk_size (first) == 8 && zchunk_data (first)[0] == 'b');
    assert (zchunk_data (second)[0] == 'd');
    assert (bn_answers_resend (answers, s_test_send, sent) == 0);
    //  Those made from a time on (the connection broke then): due again
    zlistx_purge (sent);
    assert (bn_answers_since (answers, 2000) == 2);
    assert (bn_answers_since (answers, 2000) == 0); //  due already
    assert (bn_answers_resend (answers, s_test_send, sent) == 2);
    assert (zchunk_data ((zchunk_t *) zlistx_first (sent))[0] == 'c');
    assert (zchunk_data ((zchunk_t *) zlistx_last (sent))[0] == 'd');
    zlistx_destroy (&sent);
    bn_answers_destroy (&answers);
    bn_answers_destroy (&answers);
    //  @end
    if (verbose)
        printf ("OK\n");
}
