/* checkpoint_find.c - which checkpoint of a run directory `--resume auto`
 * continues from (see checkpoint.h). */
#include "checkpoint.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* An intact checkpoint of a run directory, for checkpoint_find_resume: open
 * (checkpoint_open_verified) until one is picked. */
typedef struct Candidate {
    H5Input in;
    int64_t step;
    uint64_t run_id;
    int64_t mtime_ns;
} Candidate;

/* c[n - 1] has just been added: of one run, only the checkpoint
 * checkpoint_find_resume would pick stays open (the most steps, the earlier
 * one on a tie), so the files open stay few however many a run keeps. */
static void close_lesser(Candidate *c, int n)
{
    Candidate *k = &c[n - 1];
    for (int j = 0; j < n - 1; j++) {
        if (c[j].in.file < 0 || c[j].run_id != k->run_id) continue;
        if (c[j].step >= k->step)
            h5io_input_close(&k->in);
        else
            h5io_input_close(&c[j].in);
    }
}

/* Append path to c[*n] when it exists and is intact; a damaged one is
 * reported on warn. Returns 1 if the file exists. */
static int consider(Candidate **c, int *n, int *cap, int *damaged, const char *path, FILE *warn)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return 0;
    Error e = {0, ""};
    TrainState st;
    char *text = NULL;
    int64_t step = -1;
    uint64_t id = 0;
    H5Input in;
    if (checkpoint_open_verified(&in, path, &e) == 0 &&
        checkpoint_read_state_in(&st, &text, &in, &e) == 0) {
        step = st.step;
        id = st.run_id;
        free(text);
    }
    if (step < 0) {
        h5io_input_close(&in);
        if (warn)
            fprintf(warn, "rnn_dist: warning: %s; skipping it\n",
                    e.msg[0] ? e.msg : "no training state");
        (*damaged)++;
    } else {
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 8;
            *c = realloc(*c, (size_t)*cap * sizeof **c);
            CHECK(*c != NULL);
        }
        Candidate *k = &(*c)[(*n)++];
        k->in = in;
        k->step = step;
        k->run_id = id;
        k->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        close_lesser(*c, *n);
    }
    return 1;
}

int checkpoint_find_resume(H5Input *chosen, const char *run_dir, FILE *warn, Error *e)
{
    Candidate *c = NULL;
    char path[4200];
    int n = 0, cap = 0, found = 0, damaged = 0;
    chosen->file = -1;
    chosen->path[0] = '\0';
    snprintf(path, sizeof path, "%s/last.h5", run_dir);
    found += consider(&c, &n, &cap, &damaged, path, warn);
    DIR *dh = opendir(run_dir);
    for (struct dirent *de; dh && (de = readdir(dh)) != NULL;) {
        unsigned ep;
        char tail[8] = "";
        if (sscanf(de->d_name, "ckpt-epoch%u%7s", &ep, tail) != 2 || strcmp(tail, ".h5") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", run_dir, de->d_name);
        found += consider(&c, &n, &cap, &damaged, path, warn);
    }
    if (dh) closedir(dh);
    snprintf(path, sizeof path, "%s/best.h5", run_dir);
    found += consider(&c, &n, &cap, &damaged, path, warn);
    /* the newest run: the run id of the most recently written checkpoint */
    int newest = -1, pick = -1;
    for (int i = 0; i < n; i++)
        if (newest < 0 || c[i].mtime_ns > c[newest].mtime_ns) newest = i;
    for (int i = 0; i < n; i++)
        if (c[i].run_id == c[newest].run_id && (pick < 0 || c[i].step > c[pick].step)) pick = i;
    int others = 0;
    for (int i = 0; i < n; i++) others += c[i].run_id != c[newest].run_id;
    for (int i = 0; i < n; i++)
        if (i == pick)
            *chosen = c[i].in;
        else
            h5io_input_close(&c[i].in);
    if (others && warn)
        fprintf(warn, "rnn_dist: warning: %s holds %d checkpoint(s) of another run; --resume auto "
                "ignores them\n", run_dir, others);
    free(c);
    if (found && pick < 0)
        return error_set(e, EXIT_USAGE, "--resume auto: none of the %d checkpoint(s) in %s is "
                         "intact (see the warnings above); move them away to start anew", found,
                         run_dir);
    return 0;
}

