/* The asynchronous style: callbacks on worker threads, error details in callbacks,
 * cancellation ids, cancel racing success, and blocking calls refused inside callbacks. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

/* Starts a session (blocking) for `nin`; NULL on failure. */
static SafeconvSession *start_blocking(SafeconvClient *client, const char *nin) {
    SafeconvSession *session = NULL;
    if (safeconv_start(client, nin, NULL, &session) != SAFECONV_OK) return NULL;
    return session;
}

void test_async_happy_path_on_worker_threads(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    waiter_t started, waited;
    waiter_init(&started);
    waiter_init(&waited);
    SafeconvOperationId start_op = 0, wait_op = 0;
    SafeconvResult r =
        safeconv_start_async(client, SLOW_APPROVER, NULL, on_session_done, &started, &start_op);
    bool start_done = r == SAFECONV_OK && waiter_wait(&started, 1, 10000);
    SafeconvResult r2 = SAFECONV_PANIC;
    if (start_done && started.session) {
        r2 = safeconv_wait_async(client, started.session, 0, on_status_change, on_outcome_done, &waited,
                                 &wait_op);
    }
    bool wait_done = r2 == SAFECONV_OK && waiter_wait(&waited, 1, 10000);
    sleep_ms(50); /* a second completion would show up here */
    char *words = safeconv_session_binding_message(started.session);
    bool has_words = words != NULL;
    safeconv_string_free(words);
    SafeconvSubject *subject = safeconv_outcome_subject(waited.outcome);
    char *nin = safeconv_subject_nin(subject);
    bool verified = nin && strcmp(nin, SLOW_APPROVER) == 0;
    safeconv_string_free(nin);
    safeconv_subject_free(subject);
    safeconv_client_free(client);

    bool ok = start_done && started.result == SAFECONV_OK && started.error == NULL &&
              !started.done_on_main_thread && started.completions == 1 && has_words;
    bool ok2 = wait_done && waited.result == SAFECONV_OK && waited.completions == 1 &&
               !waited.done_on_main_thread && !waited.status_on_main_thread &&
               waited.status_count == 2 && waited.statuses[0] == SAFECONV_STATUS_WAITING_FOR_USER &&
               waited.statuses[1] == SAFECONV_STATUS_SUCCESS &&
               safeconv_outcome_status(waited.outcome) == SAFECONV_STATUS_SUCCESS && verified;
    waiter_destroy(&started);
    waiter_destroy(&waited);
    CHECK(ok);
    CHECK(ok2);
    CHECK(start_op != 0 && wait_op != 0 && start_op != wait_op);
}

/* Starts a wait from the start's own completion callback (async calls are allowed there). */
static void start_then_wait(void *user_data, SafeconvResult result, SafeconvSession *session,
                            const SafeconvError *error) {
    (void)error;
    waiter_t *w = user_data;
    if (result != SAFECONV_OK ||
        safeconv_wait_async(w->client, session, 0, NULL, on_outcome_done, w, NULL) != SAFECONV_OK) {
        on_outcome_done(w, result == SAFECONV_OK ? SAFECONV_PANIC : result, NULL, error);
    }
    safeconv_session_free(session); /* the wait keeps its own copy */
}

void test_async_chained_from_the_callback(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    waiter_t w;
    waiter_init(&w);
    w.client = client;
    SafeconvResult r = safeconv_start_async(client, DECLINER, NULL, start_then_wait, &w, NULL);
    bool done = r == SAFECONV_OK && waiter_wait(&w, 1, 10000);
    safeconv_client_free(client);
    bool ok = done && w.result == SAFECONV_OK &&
              safeconv_outcome_status(w.outcome) == SAFECONV_STATUS_ABORT;
    waiter_destroy(&w);
    CHECK(ok);
}

void test_async_error_details_in_the_callback(void) {
    SafeconvConfig *config = emu_config();
    CHECK(config != NULL);
    safeconv_config_set_client_credentials(config, EMU_CLIENT_ID, "wrong-secret");
    SafeconvClient *client = NULL;
    SafeconvResult made = safeconv_client_new(config, &client);
    safeconv_config_free(config);
    CHECK(made == SAFECONV_OK);
    waiter_t w;
    waiter_init(&w);
    SafeconvResult r = safeconv_start_async(client, APPROVER, NULL, on_session_done, &w, NULL);
    bool done = r == SAFECONV_OK && waiter_wait(&w, 1, 10000);
    safeconv_client_free(client);
    /* The clone taken in the callback (on a worker thread) is readable here. */
    char *code = safeconv_error_code(w.error);
    char *message = safeconv_error_message(w.error);
    bool ok = done && w.result == SAFECONV_AUTHENTICATION && w.session == NULL &&
              w.tls_result == SAFECONV_AUTHENTICATION &&
              safeconv_error_result(w.error) == SAFECONV_AUTHENTICATION &&
              safeconv_error_http_status(w.error) == 401 && code &&
              strcmp(code, "invalid_client") == 0 && message && !strstr(message, "wrong-secret");
    safeconv_string_free(code);
    safeconv_string_free(message);
    waiter_destroy(&w);
    CHECK(ok);
    /* The main thread's own last error is untouched by the callback's. */
    CHECK(safeconv_last_error_result() == SAFECONV_OK);
}

void test_async_cancel_and_double_cancel(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    SafeconvSession *session = start_blocking(client, SILENT);
    CHECK(session != NULL);
    char *id = safeconv_session_id(session);
    waiter_t w;
    waiter_init(&w);
    SafeconvOperationId op = 0;
    SafeconvResult r = safeconv_wait_async(client, session, 0, on_status_change, on_outcome_done, &w, &op);
    safeconv_session_free(session);
    sleep_ms(150);
    SafeconvResult cancel1 = safeconv_operation_cancel(client, op);
    SafeconvResult cancel2 = safeconv_operation_cancel(client, op);
    bool done = waiter_wait(&w, 1, 10000);
    sleep_ms(50);
    SafeconvResult cancel3 = safeconv_operation_cancel(client, op);
    SafeconvResult unknown = safeconv_operation_cancel(client, 0);
    char status[32] = "";
    emu_session_status(id, status, sizeof status);
    safeconv_string_free(id);
    safeconv_client_free(client);
    bool ok = r == SAFECONV_OK && done && w.completions == 1 && w.result == SAFECONV_OK &&
              safeconv_outcome_status(w.outcome) == SAFECONV_STATUS_CANCELLED &&
              w.status_count >= 1 && w.statuses[w.status_count - 1] == SAFECONV_STATUS_CANCELLED;
    waiter_destroy(&w);
    CHECK(ok);
    CHECK(cancel1 == SAFECONV_OK);
    /* The second cancel either finds it still finishing (OK) or already gone. */
    CHECK(cancel2 == SAFECONV_OK || cancel2 == SAFECONV_NO_SUCH_OPERATION);
    CHECK(cancel3 == SAFECONV_NO_SUCH_OPERATION);
    CHECK(unknown == SAFECONV_NO_SUCH_OPERATION);
    CHECK(strcmp(status, "CANCELLED") == 0);
}

void test_async_cancel_of_a_start(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    long created = emu_counter("sessionsCreated");
    long cancels = emu_counter("cancelRequests");
    waiter_t w;
    waiter_init(&w);
    SafeconvOperationId op = 0;
    SafeconvResult r = safeconv_start_async(client, SILENT, NULL, on_session_done, &w, &op);
    SafeconvResult c = safeconv_operation_cancel(client, op);
    bool done = waiter_wait(&w, 1, 10000);
    /* The completion comes at once; freeing lets the cancel of what the create made finish. */
    safeconv_client_free(client);
    long created_after = emu_counter("sessionsCreated");
    long cancels_after = emu_counter("cancelRequests");
    bool cancelled = w.result == SAFECONV_CANCELLED && w.session == NULL && w.error &&
                     safeconv_error_result(w.error) == SAFECONV_CANCELLED;
    /* If the cancel came too late, the start simply succeeded. */
    bool too_late = w.result == SAFECONV_OK && w.session != NULL;
    waiter_destroy(&w);
    CHECK(r == SAFECONV_OK && done);
    CHECK((c == SAFECONV_OK && cancelled) || too_late);
    /* A session created by a cancelled start is cancelled at Signicat, not left pending. */
    if (cancelled && created_after > created) CHECK(cancels_after > cancels);
}

typedef struct {
    SafeconvClient *client;
    int calls;
    SafeconvResult result;
    int outcome_status;
    char session_id[128];
} race_state;

void test_cancel_racing_success(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    int successes = 0, cancels = 0;
    for (int round = 0; round < 8; round++) {
        SafeconvSession *session = start_blocking(client, APPROVER);
        CHECK(session != NULL);
        char *id = safeconv_session_id(session);
        waiter_t w;
        waiter_init(&w);
        SafeconvOperationId op = 0;
        SafeconvResult r = safeconv_wait_async(client, session, 0, NULL, on_outcome_done, &w, &op);
        safeconv_session_free(session);
        /* The user approves 300 ms after the start: cancel around that moment. */
        sleep_ms(200 + round * 25);
        SafeconvResult c = safeconv_operation_cancel(client, op);
        bool done = waiter_wait(&w, 1, 10000);
        sleep_ms(30);
        char status[32] = "";
        emu_session_status(id, status, sizeof status);
        safeconv_string_free(id);
        int outcome = (int)safeconv_outcome_status(w.outcome);
        bool ok = r == SAFECONV_OK && done && w.completions == 1 && w.result == SAFECONV_OK &&
                  (c == SAFECONV_OK || c == SAFECONV_NO_SUCH_OPERATION) &&
                  (outcome == SAFECONV_STATUS_SUCCESS || outcome == SAFECONV_STATUS_CANCELLED) &&
                  strcmp(status, safeconv_status_name((uint32_t)outcome)) == 0;
        waiter_destroy(&w);
        CHECK(ok);
        if (outcome == SAFECONV_STATUS_SUCCESS) successes++;
        else cancels++;
    }
    safeconv_client_free(client);
    printf("    # cancel racing success: %d verified, %d cancelled\n", successes, cancels);
}

typedef struct {
    waiter_t w;
    SafeconvResult blocking_start;
    SafeconvResult blocking_get;
    SafeconvResult blocking_in_status;
    SafeconvClient *client;
} callback_probe;

static void probe_done(void *user_data, SafeconvResult result, SafeconvSession *session,
                       const SafeconvError *error) {
    callback_probe *p = user_data;
    SafeconvSession *other = NULL;
    p->blocking_start = safeconv_start(p->client, APPROVER, NULL, &other);
    safeconv_session_free(other);
    p->blocking_get = safeconv_get_session(p->client, "anything", &other);
    safeconv_session_free(other);
    on_session_done(&p->w, result, session, error);
}

static void probe_status(void *user_data, const SafeconvSession *session) {
    (void)session;
    callback_probe *p = user_data;
    SafeconvSession *other = NULL;
    p->blocking_in_status = safeconv_start(p->client, APPROVER, NULL, &other);
    safeconv_session_free(other);
}

void test_blocking_calls_in_callbacks_are_refused(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    callback_probe p = {.client = client, .blocking_in_status = SAFECONV_OK};
    waiter_init(&p.w);
    SafeconvResult r = safeconv_start_async(client, APPROVER, NULL, probe_done, &p, NULL);
    bool done = r == SAFECONV_OK && waiter_wait(&p.w, 1, 10000);
    /* Also inside the status callback of a *blocking* wait (it runs inside the library). */
    SafeconvOutcome *outcome = NULL;
    SafeconvResult waited = done && p.w.session
                                ? safeconv_wait(client, p.w.session, 0, probe_status, &p, &outcome)
                                : SAFECONV_PANIC;
    safeconv_outcome_free(outcome);
    safeconv_client_free(client);
    bool ok = done && p.w.result == SAFECONV_OK && p.blocking_start == SAFECONV_WRONG_THREAD &&
              p.blocking_get == SAFECONV_WRONG_THREAD && waited == SAFECONV_OK &&
              p.blocking_in_status == SAFECONV_WRONG_THREAD;
    waiter_destroy(&p.w);
    CHECK(ok);
}

void test_async_get_and_cancel(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    SafeconvSession *session = start_blocking(client, SILENT);
    CHECK(session != NULL);
    char *id = safeconv_session_id(session);
    safeconv_session_free(session);
    waiter_t got, cancelled, got_after;
    waiter_init(&got);
    waiter_init(&cancelled);
    waiter_init(&got_after);
    bool ok = safeconv_get_session_async(client, id, on_session_done, &got, NULL) == SAFECONV_OK &&
              waiter_wait(&got, 1, 10000) &&
              safeconv_cancel_session_async(client, id, on_session_done, &cancelled, NULL) ==
                  SAFECONV_OK &&
              waiter_wait(&cancelled, 1, 10000) &&
              safeconv_get_session_async(client, id, on_session_done, &got_after, NULL) ==
                  SAFECONV_OK &&
              waiter_wait(&got_after, 1, 10000);
    safeconv_string_free(id);
    /* A get of an unknown id reports Signicat's 404 through the callback. */
    waiter_t missing;
    waiter_init(&missing);
    bool ok_missing = safeconv_get_session_async(client, "no-such-session", on_session_done, &missing,
                                                 NULL) == SAFECONV_OK &&
                      waiter_wait(&missing, 1, 10000) && missing.result == SAFECONV_API &&
                      safeconv_error_http_status(missing.error) == 404;
    safeconv_client_free(client);
    ok = ok && got.result == SAFECONV_OK && !safeconv_session_is_final(got.session) &&
         cancelled.result == SAFECONV_OK &&
         safeconv_session_status(cancelled.session) == SAFECONV_STATUS_CANCELLED &&
         safeconv_session_status(got_after.session) == SAFECONV_STATUS_CANCELLED;
    waiter_destroy(&got);
    waiter_destroy(&cancelled);
    waiter_destroy(&got_after);
    waiter_destroy(&missing);
    CHECK(ok);
    CHECK(ok_missing);
}

void test_async_argument_errors_never_call_back(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    waiter_t w;
    waiter_init(&w);
    SafeconvOperationId op = 123;
    SafeconvResult bad_nin = safeconv_start_async(client, "17029012345", NULL, on_session_done, &w, &op);
    SafeconvOperationId op_after_bad_nin = op;
    SafeconvStartOptions *options = safeconv_start_options_new();
    safeconv_start_options_set_requested_loa(options, "extreme");
    SafeconvResult bad_option = safeconv_start_async(client, APPROVER, options, on_session_done, &w, &op);
    safeconv_start_options_free(options);
    sleep_ms(200);
    int calls = waiter_completions(&w);
    safeconv_client_free(client);
    waiter_destroy(&w);
    CHECK(bad_nin == SAFECONV_INVALID_NIN && op_after_bad_nin == 0);
    CHECK(bad_option == SAFECONV_INVALID_INPUT);
    CHECK(calls == 0);
}
