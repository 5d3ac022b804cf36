/* fuzz_dataset.c - libFuzzer target: the dataset reader (dataset.c) and
 * inspect on an arbitrary file. See fuzz_common.h. */
#include "fuzz_common.h"

#include "check.h"
#include "dataset.h"
#include "inspect.h"

/* Open one group every way rnn_dist does: resident with and without
 * targets (inspect, eval; predict), streamed with every row checked (train),
 * then a batch of its rows. */
static void one_group(const char *path, const char *group)
{
    Error e = {0, ""};
    Dataset ds;
    size_t n = 0;
    dataset_count_rows(&n, path, group, &e);
    if (dataset_open(&ds, path, group, 0, 0, 1, &e) == 0) dataset_close(&ds);
    if (dataset_open(&ds, path, group, 0, 0, 0, &e) == 0) dataset_close(&ds);
    if (dataset_open_streamed(&ds, path, group, 0, 0, 1, 0, SIZE_MAX, &e) == 0) {
        size_t rows[4];
        int count = 0;
        for (size_t i = 0; i < 4 && i < ds.n; i++) rows[count++] = ds.n - 1 - i;
        BatchBuf bb;
        memset(&bb, 0, sizeof bb);
        if (count) dataset_fill_batch(&bb, &ds, rows, count);
        batchbuf_free(&bb);
        dataset_close(&ds);
    }
    /* a view of the last row only */
    if (n > 1 && dataset_open(&ds, path, group, n - 1, 1, 1, &e) == 0) dataset_close(&ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input("dataset", data, size);
    Error e = {0, ""};
    char file[1024], group[256];
    if (dataset_resolve(file, sizeof file, group, sizeof group, path, ROLE_TRAIN, &e) == 0 &&
        strcmp(group, "/") != 0 && strcmp(group, "/train") != 0)
        one_group(path, group);
    one_group(path, "/");
    one_group(path, "/train");
    inspect_file(fuzz_devnull(), path, &e);
    fuzz_cleanup(path);
    return 0;
}
