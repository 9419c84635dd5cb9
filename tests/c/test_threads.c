/* Many sessions from several threads at once, and freeing handles in any order — including
 * the client while operations run, from its own callback, and during a blocking wait. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

#define THREADS 6
#define SESSIONS_PER_THREAD 3

typedef struct {
    SafeconvClient *client;
    int successes;
    SafeconvResult first_error;
} worker_job;

static void *run_sessions(void *arg) {
    worker_job *job = arg;
    for (int i = 0; i < SESSIONS_PER_THREAD; i++) {
        SafeconvSession *session = NULL;
        SafeconvResult r = safeconv_start(job->client, APPROVER, NULL, &session);
        SafeconvOutcome *outcome = NULL;
        if (r == SAFECONV_OK) r = safeconv_wait(job->client, session, 0, NULL, NULL, &outcome);
        if (r == SAFECONV_OK && safeconv_outcome_is_success(outcome)) {
            job->successes++;
        } else if (job->first_error == SAFECONV_OK) {
            job->first_error = r == SAFECONV_OK ? SAFECONV_PANIC : r;
        }
        safeconv_outcome_free(outcome);
        safeconv_session_free(session);
    }
    return NULL;
}

void test_many_sessions_from_many_threads(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    pthread_t threads[THREADS];
    worker_job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (worker_job){.client = client, .first_error = SAFECONV_OK};
        CHECK(pthread_create(&threads[i], NULL, run_sessions, &jobs[i]) == 0);
    }
    int successes = 0;
    SafeconvResult first_error = SAFECONV_OK;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        successes += jobs[i].successes;
        if (first_error == SAFECONV_OK) first_error = jobs[i].first_error;
    }
    safeconv_client_free(client);
    CHECK_RESULT(first_error, SAFECONV_OK);
    CHECK(successes == THREADS * SESSIONS_PER_THREAD);
}

#define ASYNC_SESSIONS 16

static void chain_start_done(void *user_data, SafeconvResult result, SafeconvSession *session,
                             const SafeconvError *error) {
    waiter_t *w = user_data;
    if (result != SAFECONV_OK ||
        safeconv_wait_async(w->client, session, 0, NULL, on_outcome_done, w, NULL) != SAFECONV_OK) {
        on_outcome_done(w, result == SAFECONV_OK ? SAFECONV_PANIC : result, NULL, error);
    }
    safeconv_session_free(session);
}

void test_many_async_sessions_at_once(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    waiter_t waiters[ASYNC_SESSIONS];
    int started = 0;
    for (int i = 0; i < ASYNC_SESSIONS; i++) {
        waiter_init(&waiters[i]);
        waiters[i].client = client;
        if (safeconv_start_async(client, i % 2 ? APPROVER : DECLINER, NULL, chain_start_done,
                                 &waiters[i], NULL) == SAFECONV_OK) {
            started++;
        }
    }
    int verified = 0, declined = 0, once = 0;
    for (int i = 0; i < ASYNC_SESSIONS; i++) {
        if (waiter_wait(&waiters[i], 1, 20000) && waiters[i].result == SAFECONV_OK) {
            SafeconvStatus status = safeconv_outcome_status(waiters[i].outcome);
            if (status == SAFECONV_STATUS_SUCCESS) verified++;
            if (status == SAFECONV_STATUS_ABORT) declined++;
        }
    }
    sleep_ms(50);
    for (int i = 0; i < ASYNC_SESSIONS; i++) {
        if (waiter_completions(&waiters[i]) == 1) once++;
    }
    safeconv_client_free(client);
    for (int i = 0; i < ASYNC_SESSIONS; i++) waiter_destroy(&waiters[i]);
    CHECK(started == ASYNC_SESSIONS);
    CHECK(verified == ASYNC_SESSIONS / 2 && declined == ASYNC_SESSIONS / 2);
    CHECK(once == ASYNC_SESSIONS);
}

void test_free_client_with_pending_operations(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    enum { WAITS = 3 };
    waiter_t waits[WAITS], get;
    char ids[WAITS][128];
    bool started = true;
    for (int i = 0; i < WAITS; i++) {
        waiter_init(&waits[i]);
        SafeconvSession *session = NULL;
        started &= safeconv_start(client, SILENT, NULL, &session) == SAFECONV_OK;
        char *id = safeconv_session_id(session);
        snprintf(ids[i], sizeof ids[i], "%s", id ? id : "");
        safeconv_string_free(id);
        started &= safeconv_wait_async(client, session, 0, NULL, on_outcome_done, &waits[i], NULL) ==
                   SAFECONV_OK;
        safeconv_session_free(session);
    }
    waiter_init(&get);
    /* Every get is slow from now on (the waits' polls too), so this one is surely running. */
    emu_inject_times("get-session", "{\"kind\":\"slow\",\"delayMs\":1500}", 100);
    started &= safeconv_get_session_async(client, ids[0], on_session_done, &get, NULL) == SAFECONV_OK;
    sleep_ms(100);
    /* Frees at once from the test's point of view: every callback has run when it returns. */
    safeconv_client_free(client);
    int called = 0, cancelled = 0;
    for (int i = 0; i < WAITS; i++) {
        called += waits[i].completions;
        if (waits[i].result == SAFECONV_OK &&
            safeconv_outcome_status(waits[i].outcome) == SAFECONV_STATUS_CANCELLED) {
            char status[32] = "";
            if (emu_session_status(ids[i], status, sizeof status) && strcmp(status, "CANCELLED") == 0) {
                cancelled++;
            }
        }
    }
    bool get_cancelled = get.completions == 1 && get.result == SAFECONV_CANCELLED;
    for (int i = 0; i < WAITS; i++) waiter_destroy(&waits[i]);
    waiter_destroy(&get);
    CHECK(started);
    CHECK(called == WAITS);
    CHECK(cancelled == WAITS); /* each wait cancelled its session at Signicat */
    CHECK(get_cancelled);
}

typedef struct {
    waiter_t w;
    SafeconvClient *client;
    bool freed;
} self_free;

static void free_from_callback(void *user_data, SafeconvResult result, SafeconvOutcome *outcome,
                               const SafeconvError *error) {
    self_free *s = user_data;
    safeconv_client_free(s->client); /* returns at once: shutdown continues elsewhere */
    s->freed = true;
    on_outcome_done(&s->w, result, outcome, error);
}

void test_free_client_from_its_callback(void) {
    self_free s = {.client = emu_client()};
    CHECK(s.client != NULL);
    waiter_init(&s.w);
    SafeconvSession *session = NULL;
    SafeconvResult r = safeconv_start(s.client, APPROVER, NULL, &session);
    if (r == SAFECONV_OK) {
        r = safeconv_wait_async(s.client, session, 0, NULL, free_from_callback, &s, NULL);
    }
    safeconv_session_free(session);
    if (r != SAFECONV_OK) safeconv_client_free(s.client);
    bool done = r == SAFECONV_OK && waiter_wait(&s.w, 1, 10000);
    /* Let the background shutdown finish so that leak checkers see everything freed. */
    sleep_ms(1500);
    bool ok = done && s.freed && s.w.result == SAFECONV_OK &&
              safeconv_outcome_is_success(s.w.outcome);
    waiter_destroy(&s.w);
    CHECK(ok);
}

typedef struct {
    SafeconvClient *client;
    SafeconvSession *session;
    SafeconvResult result;
    SafeconvStatus status;
    waiter_t waiting; /* signalled from inside the wait, once it is surely running */
} blocked_wait;

static void signal_waiting(void *user_data, const SafeconvSession *session) {
    blocked_wait *b = user_data;
    if (safeconv_session_status(session) == SAFECONV_STATUS_WAITING_FOR_USER) {
        on_session_done(&b->waiting, SAFECONV_OK, NULL, NULL);
    }
}

static void *wait_blocking(void *arg) {
    blocked_wait *b = arg;
    SafeconvOutcome *outcome = NULL;
    b->result = safeconv_wait(b->client, b->session, 0, signal_waiting, b, &outcome);
    b->status = safeconv_outcome_status(outcome);
    safeconv_outcome_free(outcome);
    return NULL;
}

void test_free_client_during_a_blocking_wait(void) {
    blocked_wait b = {.client = emu_client(), .status = SAFECONV_STATUS_UNKNOWN};
    CHECK(b.client != NULL);
    waiter_init(&b.waiting);
    SafeconvResult r = safeconv_start(b.client, SILENT, NULL, &b.session);
    pthread_t thread;
    int created = r == SAFECONV_OK ? pthread_create(&thread, NULL, wait_blocking, &b) : -1;
    /* Free only once the other thread is inside safeconv_wait (a call still *starting* on a
     * client being freed is the caller's bug). */
    bool inside = created == 0 && waiter_wait(&b.waiting, 1, 10000);
    /* The blocked wait is cancelled and returns before the client is gone. */
    safeconv_client_free(b.client);
    if (created == 0) pthread_join(thread, NULL);
    safeconv_session_free(b.session);
    waiter_destroy(&b.waiting);
    CHECK_OK(r);
    CHECK(created == 0 && inside);
    CHECK_RESULT(b.result, SAFECONV_OK);
    CHECK(b.status == SAFECONV_STATUS_CANCELLED);
}

void test_free_in_any_order(void) {
    /* The config may go first: clients copy it. */
    SafeconvConfig *config = emu_config();
    CHECK(config != NULL);
    SafeconvClient *client = NULL;
    SafeconvResult made = safeconv_client_new(config, &client);
    safeconv_config_free(config);
    CHECK(made == SAFECONV_OK);

    SafeconvSession *session = NULL;
    CHECK_OK(safeconv_start(client, APPROVER, NULL, &session));
    SafeconvSession *copy = safeconv_session_clone(session);
    SafeconvOutcome *outcome = NULL;
    SafeconvResult waited = safeconv_wait(client, copy, 0, NULL, NULL, &outcome);
    SafeconvSession *final_state = NULL;
    char *id = safeconv_session_id(session);
    SafeconvResult got = safeconv_get_session(client, id, &final_state);
    safeconv_string_free(id);
    SafeconvSession *cannot = NULL;
    safeconv_get_session(client, "no-such-session", &cannot);
    SafeconvError *error = safeconv_last_error();

    /* The client goes before what it produced; each of those outlives its source. */
    safeconv_client_free(client);
    safeconv_session_free(copy);
    SafeconvSubject *subject = safeconv_outcome_subject(outcome);
    SafeconvOutcome *outcome_copy = safeconv_outcome_clone(outcome);
    safeconv_outcome_free(outcome);
    safeconv_session_free(session);
    char *nin = safeconv_subject_nin(subject);
    safeconv_subject_free(subject);
    SafeconvSubject *from_final = safeconv_session_subject(final_state);
    safeconv_session_free(final_state);
    char *name = safeconv_subject_name(from_final);
    safeconv_subject_free(from_final);
    bool copy_ok = safeconv_outcome_is_success(outcome_copy);
    safeconv_outcome_free(outcome_copy);
    uint16_t http = safeconv_error_http_status(error);
    safeconv_error_free(error);

    bool ok = waited == SAFECONV_OK && got == SAFECONV_OK && nin && strcmp(nin, APPROVER) == 0 &&
              name != NULL && copy_ok && http == 404;
    safeconv_string_free(nin);
    safeconv_string_free(name);
    CHECK(ok);
}
