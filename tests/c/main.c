/*
 * The safeconv C API test suite. Runs every test (or those whose name contains one of the
 * arguments) against the emulator at $SAFECONV_EMULATOR_URL and ends with
 * "N passed, M failed". Exit status 0 only if nothing failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

void harness_begin_test(void);
void harness_set_main_thread(void);
bool harness_setup_emulator(void);
bool harness_warm_up(void);

static const test_case TESTS[] = {
#define X(name) {#name, name},
    ALL_TESTS
#undef X
};

static bool selected(const char *name, int argc, char **argv) {
    if (argc <= 1) return true;
    for (int i = 1; i < argc; i++) {
        if (strstr(name, argv[i])) return true;
    }
    return false;
}

int main(int argc, char **argv) {
    harness_set_main_thread();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!harness_setup_emulator()) {
        fprintf(stderr, "cannot reach the emulator at %s (set SAFECONV_EMULATOR_URL)\n",
                emulator_url());
        printf("0 passed, 1 failed\n");
        return 1;
    }
    if (!harness_warm_up()) {
        fprintf(stderr, "warm-up session against %s failed\n", emulator_url());
        printf("0 passed, 1 failed\n");
        return 1;
    }
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof TESTS / sizeof TESTS[0]; i++) {
        if (!selected(TESTS[i].name, argc, argv)) continue;
        harness_begin_test();
        int64_t started = now_ms();
        TESTS[i].run();
        int64_t took = now_ms() - started;
        if (test_failed()) {
            failed++;
            printf("not ok - %s (%lld ms)\n", TESTS[i].name, (long long)took);
        } else {
            passed++;
            printf("ok - %s (%lld ms)\n", TESTS[i].name, (long long)took);
        }
        emu_clear_faults();
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
