/* replay.c - run a fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer: built with the project's normal compiler and flags (and under
 * ASan+UBSan by make asan), so the regression corpus runs where clang is
 * not installed.
 * Usage: fuzz_replay_dataset FILE... (or fuzz_replay_checkpoint FILE...)
 * Exits 0 when every file ran through; a crash or sanitizer report ends it,
 * and so does a file that takes more than 5 s (SIGALRM: a hang, or work
 * out of all proportion to the file). FUZZ_REPLAY_VERBOSE=1 names each file
 * before it runs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        size_t cap = 1 << 16, len = 0;
        uint8_t *buf = malloc(cap);
        for (size_t r; buf && (r = fread(buf + len, 1, cap - len, f)) > 0;) {
            len += r;
            if (len == cap) {
                uint8_t *nb = realloc(buf, cap *= 2);
                if (!nb) free(buf);
                buf = nb;
            }
        }
        fclose(f);
        if (!buf) {
            fprintf(stderr, "%s: out of memory\n", argv[i]);
            return 1;
        }
        if (getenv("FUZZ_REPLAY_VERBOSE")) fprintf(stderr, "replay: %s\n", argv[i]);
        alarm(5);
        LLVMFuzzerTestOneInput(buf, len);
        alarm(0);
        free(buf);
        n++;
    }
    printf("%s: %d file(s) replayed, no crash\n", argc > 0 ? argv[0] : "replay", n);
    return 0;
}
