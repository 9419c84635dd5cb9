/* What the core guarantees when a caller gives up, seen through the C API: a start abandoned
 * after its create was sent leaves no session running, a cancel from another thread stops a
 * blocking wait at once, and Signicat's other spelling of the decline ends a wait. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

/* Declines after 300 ms with the wire status ABORTED (Signicat's .NET SDK spelling). */
#define ABORTED_DECLINER "05057710022"

/* The session id of the first log record that carries one (the only session of a test). */
typedef struct {
    pthread_mutex_t mutex;
    char session_id[128];
    int frees;
} id_catcher;

static void catch_session_id(void *user_data, const SafeconvLogRecord *record) {
    id_catcher *c = user_data;
    pthread_mutex_lock(&c->mutex);
    for (size_t i = 0; i < record->field_count && c->session_id[0] == '\0'; i++) {
        if (strcmp(record->fields[i].name, "session_id") == 0) {
            snprintf(c->session_id, sizeof c->session_id, "%s", record->fields[i].value);
        }
    }
    pthread_mutex_unlock(&c->mutex);
}

static void count_free(void *user_data) {
    id_catcher *c = user_data;
    pthread_mutex_lock(&c->mutex);
    c->frees++;
    pthread_mutex_unlock(&c->mutex);
}

/* Waits until the emulator has received more than `count` creates; false after 5 s. */
static bool create_arrived(long count) {
    for (int i = 0; i < 500; i++) {
        if (emu_counter("createRequests") > count) return true;
        sleep_ms(10);
    }
    return false;
}

void test_start_abandoned_after_its_create_was_sent(void) {
    id_catcher ids = {.mutex = PTHREAD_MUTEX_INITIALIZER};
    CHECK_OK(safeconv_set_log_callback(catch_session_id, &ids, count_free, SAFECONV_LOG_INFO));
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    long creates = emu_counter("createRequests");
    /* The emulator creates the session at once and holds its answer back for 1.5 s. */
    CHECK(emu_inject("create-session", "{\"kind\":\"slow\",\"delayMs\":1500}"));
    waiter_t w;
    waiter_init(&w);
    SafeconvOperationId op = 0;
    SafeconvResult r = safeconv_start_async(client, SILENT, NULL, on_session_done, &w, &op);
    bool sent = r == SAFECONV_OK && create_arrived(creates);
    int64_t cancelled_at = now_ms();
    SafeconvResult c = safeconv_operation_cancel(client, op);
    bool done = waiter_wait(&w, 1, 5000);
    int64_t took = now_ms() - cancelled_at;
    /* Freeing lets the background cancel of the session finish first. */
    safeconv_client_free(client);
    CHECK_OK(safeconv_set_log_callback(NULL, NULL, NULL, 0));
    char status[32] = "";
    bool known = ids.session_id[0] != '\0' && emu_session_status(ids.session_id, status, sizeof status);
    long creates_after = emu_counter("createRequests");
    bool cancelled = w.result == SAFECONV_CANCELLED && w.session == NULL &&
                     safeconv_error_result(w.error) == SAFECONV_CANCELLED;
    printf("    # the start completed %lld ms after its cancel\n", (long long)took);
    waiter_destroy(&w);
    CHECK(sent && c == SAFECONV_OK && done);
    /* At once: without waiting for the create's answer. */
    CHECK(cancelled);
    CHECK(took < 1000);
    /* The session the create made was cancelled at Signicat before free returned. */
    CHECK(known);
    CHECK(strcmp(status, "CANCELLED") == 0);
    CHECK(creates_after == creates + 1); /* never sent twice */
    CHECK(ids.frees == 1);
}

typedef struct {
    SafeconvClient *client;
    SafeconvSession *session;
    SafeconvResult result;
    SafeconvStatus status;
    int64_t returned_at;
} blocking_wait;

static void *wait_on_thread(void *arg) {
    blocking_wait *b = arg;
    SafeconvOutcome *outcome = NULL;
    b->result = safeconv_wait(b->client, b->session, 0, NULL, NULL, &outcome);
    b->returned_at = now_ms();
    b->status = safeconv_outcome_status(outcome);
    safeconv_outcome_free(outcome);
    return NULL;
}

void test_cancel_session_stops_a_blocking_wait_at_once(void) {
    /* Polls 30 s apart: no poll can see the cancel, only the local stop can end the wait. */
    SafeconvConfig *config = emu_config();
    CHECK(config != NULL);
    CHECK_OK(safeconv_config_set_poll_interval_ms(config, 30000));
    blocking_wait b = {.status = SAFECONV_STATUS_UNKNOWN};
    SafeconvResult made = safeconv_client_new(config, &b.client);
    safeconv_config_free(config);
    CHECK_OK(made);
    SafeconvResult started = safeconv_start(b.client, SILENT, NULL, &b.session);
    char *id = safeconv_session_id(b.session);
    pthread_t thread;
    int created = started == SAFECONV_OK ? pthread_create(&thread, NULL, wait_on_thread, &b) : -1;
    sleep_ms(500); /* the wait is asleep until its first poll, 30 s away */
    char before[32] = "";
    bool seen = id && emu_session_status(id, before, sizeof before);
    int64_t cancelled_at = now_ms();
    SafeconvResult cancel = id ? safeconv_cancel_session(b.client, id, NULL) : SAFECONV_PANIC;
    int64_t cancel_returned = now_ms();
    if (created == 0) pthread_join(thread, NULL);
    int64_t took = b.returned_at - cancelled_at;
    printf("    # the blocking wait returned %lld ms after the cancel (the cancel took %lld ms)\n",
           (long long)took, (long long)(cancel_returned - cancelled_at));
    safeconv_string_free(id);
    safeconv_session_free(b.session);
    safeconv_client_free(b.client);
    CHECK_OK(started);
    CHECK(created == 0);
    CHECK(seen && strcmp(before, "WAITING_FOR_USER") == 0);
    CHECK_OK(cancel);
    CHECK_RESULT(b.result, SAFECONV_OK);
    CHECK(b.status == SAFECONV_STATUS_CANCELLED);
    CHECK(took < time_bound_ms(100));
}

void test_aborted_spelling_ends_a_wait_as_abort(void) {
    CHECK(emu_set_user(ABORTED_DECLINER, "{\"behaviour\":\"decline-aborted\",\"afterMs\":300}"));
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    SafeconvSession *session = NULL;
    SafeconvResult started = safeconv_start(client, ABORTED_DECLINER, NULL, &session);
    waiter_t w;
    waiter_init(&w);
    int64_t began = now_ms();
    SafeconvResult blocking = SAFECONV_PANIC, async = SAFECONV_PANIC;
    SafeconvOutcome *outcome = NULL;
    if (started == SAFECONV_OK) {
        async = safeconv_wait_async(client, session, 0, NULL, on_outcome_done, &w, NULL);
        blocking = safeconv_wait(client, session, 0, NULL, NULL, &outcome);
    }
    bool async_done = async == SAFECONV_OK && waiter_wait(&w, 1, 10000);
    int64_t took = now_ms() - began;
    SafeconvStatus blocking_status = safeconv_outcome_status(outcome);
    SafeconvStatus async_status = safeconv_outcome_status(w.outcome);
    char *id = safeconv_session_id(session);
    char wire[32] = "";
    bool seen = id && emu_session_status(id, wire, sizeof wire);
    safeconv_string_free(id);
    safeconv_outcome_free(outcome);
    safeconv_session_free(session);
    safeconv_client_free(client);
    waiter_destroy(&w);
    CHECK_OK(started);
    CHECK(seen && strcmp(wire, "ABORTED") == 0); /* the emulator really said ABORTED */
    CHECK_OK(blocking);
    CHECK(blocking_status == SAFECONV_STATUS_ABORT);
    CHECK(async_done && async_status == SAFECONV_STATUS_ABORT);
    CHECK(took < 5000); /* ended by the decline, not polled past until it expired */
}
