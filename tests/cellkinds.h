/* cellkinds.h - the cell variants the cell tests run: every cell kind, and
 * the RNN with each of its nonlinearities. Header-only (each test its own
 * copy of the table). */
#ifndef RNN_TESTS_CELLKINDS_H
#define RNN_TESTS_CELLKINDS_H

#include "types.h"

typedef struct Kind {
    CellKind kind;
    Nonlin act;
    const char *name;
} Kind;

static const Kind KINDS[] = {
    {CELL_RNN, NONLIN_TANH, "rnn/tanh"},
    {CELL_RNN, NONLIN_RELU, "rnn/relu"},
    {CELL_LSTM, NONLIN_TANH, "lstm"},
    {CELL_GRU, NONLIN_TANH, "gru"},
};
#define NKINDS (int)(sizeof KINDS / sizeof KINDS[0])

#endif
