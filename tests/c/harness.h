/*
 * A small test harness for the safeconv C API tests: test registry, checks that report the
 * library's error details, a completion "waiter" for async callbacks, and a tiny HTTP client
 * for the emulator's admin API (loopback only).
 *
 * Built with -std=c11 -Wall -Wextra -Werror -pedantic (POSIX threads and sockets).
 */
#ifndef SAFECONV_TEST_HARNESS_H
#define SAFECONV_TEST_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "safeconv.h"

/* NINs with scripted behaviours (set by harness_setup_emulator). All valid fødselsnummer. */
#define APPROVER "01018010018" /* approves after 300 ms */
#define DECLINER "17029010021" /* declines after 300 ms */
#define FAILER "15058510170"   /* fails after 300 ms with authentication_failed */
#define SILENT "24047510003"   /* never answers */
#define NO_APP "31129910065"   /* has no BankID app: ERROR no_bankid_app */
/* A D-number that approves after 1200 ms (WAITING_FOR_USER after 500 ms): slow enough that
 * even under Valgrind every status change is seen by the polls. */
#define SLOW_APPROVER "57029010015"

/* The emulator's default credentials. */
#define EMU_CLIENT_ID "safeconv-demo-client"
#define EMU_CLIENT_SECRET "safeconv-demo-secret"
#define EMU_ACCOUNT_ID "a-spge-emulator"

/* Marks the running test failed, prints where and why (with the library's last error). */
void test_fail(const char *file, int line, const char *what);
bool test_failed(void);

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            test_fail(__FILE__, __LINE__, #cond);                                      \
            return;                                                                    \
        }                                                                              \
    } while (0)

/* Checks a SafeconvResult; on mismatch prints both names and the last error message. */
#define CHECK_RESULT(expr, expected)                                                   \
    do {                                                                               \
        SafeconvResult check_got_ = (expr);                                            \
        if (check_got_ != (SafeconvResult)(expected)) {                                \
            check_result_fail(__FILE__, __LINE__, #expr, check_got_, (expected));      \
            return;                                                                    \
        }                                                                              \
    } while (0)

#define CHECK_OK(expr) CHECK_RESULT(expr, SAFECONV_OK)

/* Compares a library string with an expected value and frees it. NULL matches NULL. */
#define CHECK_STR(owned_expr, expected)                                                \
    do {                                                                               \
        if (!check_str_eq(__FILE__, __LINE__, #owned_expr, (owned_expr), (expected)))  \
            return;                                                                    \
    } while (0)

void check_result_fail(const char *file, int line, const char *expr, SafeconvResult got,
                       SafeconvResult expected);
bool check_str_eq(const char *file, int line, const char *expr, char *owned, const char *expected);

/* Whether the calling thread's last error names `field` (safeconv_error_field). */
bool last_error_field_is(const char *field);

/* The thread that runs the tests. */
bool on_main_thread(void);

/* Milliseconds on a monotonic clock, and a sleep. */
int64_t now_ms(void);
void sleep_ms(int64_t ms);

/* A latency bound for this run: `ms` times $SAFECONV_C_TIME_SCALE (default 1). Only the run
 * under Valgrind, which slows every instruction down, sets a scale. */
int64_t time_bound_ms(int64_t ms);

/* ---- the emulator ---- */

/* The emulator's base URL (SAFECONV_EMULATOR_URL). */
const char *emulator_url(void);

/* An admin (or API) request to the emulator. Returns the HTTP status (0 on failure) and
 * copies the body into `body_out` (NUL-terminated, may be NULL). */
int emu_request(const char *method, const char *path, const char *content_type, const char *body,
                char *body_out, size_t body_out_len);

/* The emulator's status of a session ("SUCCESS", ...) into `out`; false if unknown. */
bool emu_session_status(const char *session_id, char *out, size_t out_len);

/* Scripts a user: behaviour JSON such as {"behaviour":"approve","afterMs":300}. */
bool emu_set_user(const char *nin, const char *behaviour_json);

/* Queues a fault for the next request to `endpoint` (`times` requests for emu_inject_times):
 * e.g. emu_inject("create-session", "{\"kind\":\"internal-error\"}"). */
bool emu_inject(const char *endpoint, const char *fault_json);
bool emu_inject_times(const char *endpoint, const char *fault_json, int times);
bool emu_clear_faults(void);

/* Reads a counter from GET /emulator/counters (e.g. "createRequests"); -1 on failure. */
long emu_counter(const char *name);

/* Fetches an access token from the emulator's token endpoint into `out`. */
bool emu_fetch_token(char *out, size_t out_len);

/* Extracts "key":"value" (string) from JSON into out; false if absent. */
bool json_string(const char *json, const char *key, char *out, size_t out_len);

/* ---- HTTPS and the proxy ---- */

/* A setting of the HTTPS and proxy tests from the environment, which scripts/test-c.sh fills
 * as it starts the emulators they need (SAFECONV_C_TLS_URL, ...); NULL, with a note saying so,
 * when it is not set. */
const char *harness_env(const char *name);

/* Reads a counter from the test proxy's GET /proxy/counters at `proxy_url` (http://127.0.0.1:
 * PORT), e.g. "tunnelsOpened"; -1 on failure. */
long proxy_counter(const char *proxy_url, const char *name);

/* ---- clients ---- */

/* A config for the emulator (50 ms polls, 2 s request timeout, synthetic NINs allowed). */
SafeconvConfig *emu_config(void);
/* A client from emu_config(); NULL (test failed) on error. */
SafeconvClient *emu_client(void);

/* ---- async completions ---- */

#define MAX_STATUSES 16

typedef struct waiter {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int completions;            /* completion callbacks seen */
    SafeconvResult result;      /* their last result */
    SafeconvSession *session;   /* owned result of a session operation */
    SafeconvOutcome *outcome;   /* owned result of a wait */
    SafeconvError *error;       /* clone of the error handed to the callback */
    SafeconvResult tls_result;  /* safeconv_last_error_result() inside the callback */
    bool done_on_main_thread;
    int statuses[MAX_STATUSES]; /* status changes seen */
    int status_count;
    bool status_on_main_thread;
    SafeconvOperationId op;     /* set by the test, for callbacks that cancel */
    const SafeconvClient *client;
    void *extra;                /* per-test data */
} waiter_t;

void waiter_init(waiter_t *w);
/* Frees what the waiter owns. */
void waiter_destroy(waiter_t *w);
/* Waits until `count` completions arrived; false after timeout_ms. */
bool waiter_wait(waiter_t *w, int count, int64_t timeout_ms);
int waiter_completions(waiter_t *w);

/* Completion and status callbacks recording into a waiter_t (user_data). */
void on_session_done(void *user_data, SafeconvResult result, SafeconvSession *session,
                     const SafeconvError *error);
void on_outcome_done(void *user_data, SafeconvResult result, SafeconvOutcome *outcome,
                     const SafeconvError *error);
void on_status_change(void *user_data, const SafeconvSession *session);

/* ---- test registry ---- */

typedef void (*test_fn)(void);
typedef struct test_case {
    const char *name;
    test_fn run;
} test_case;

#endif
