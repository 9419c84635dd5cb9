/* The log callback: records from the core, filtered by level, never holding a NIN. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

#define MASKED_APPROVER "010180*****"

typedef struct {
    pthread_mutex_t mutex;
    int records;
    int by_level[6];
    bool bad_record;       /* a level, target or string out of shape */
    bool nin_seen;         /* the full NIN anywhere in a record */
    bool masked_nin_field; /* a field holding the NIN masked */
    bool session_id_field;
    int frees;
} log_book;

static bool holds_nin(const char *text) {
    return text && strstr(text, APPROVER) != NULL;
}

static void keep_record(void *user_data, const SafeconvLogRecord *record) {
    log_book *book = user_data;
    pthread_mutex_lock(&book->mutex);
    book->records++;
    if (record->level >= SAFECONV_LOG_ERROR && record->level <= SAFECONV_LOG_TRACE) {
        book->by_level[record->level]++;
    } else {
        book->bad_record = true;
    }
    if (!record->target || strncmp(record->target, "safeconv", 8) != 0 || !record->message ||
        (record->field_count > 0 && !record->fields)) {
        book->bad_record = true;
    }
    book->nin_seen |= holds_nin(record->message);
    for (size_t i = 0; i < record->field_count; i++) {
        const SafeconvLogField *field = &record->fields[i];
        if (!field->name || !field->value) {
            book->bad_record = true;
            continue;
        }
        book->nin_seen |= holds_nin(field->value);
        book->masked_nin_field |= strcmp(field->value, MASKED_APPROVER) == 0;
        book->session_id_field |= strcmp(field->name, "session_id") == 0;
    }
    pthread_mutex_unlock(&book->mutex);
}

static void release_book(void *user_data) {
    log_book *book = user_data;
    pthread_mutex_lock(&book->mutex);
    book->frees++;
    pthread_mutex_unlock(&book->mutex);
}

/* One whole verification of APPROVER. */
static bool verify_approver(void) {
    SafeconvClient *client = emu_client();
    SafeconvSession *session = NULL;
    SafeconvOutcome *outcome = NULL;
    bool ok = client && safeconv_start(client, APPROVER, NULL, &session) == SAFECONV_OK &&
              safeconv_wait(client, session, 0, NULL, NULL, &outcome) == SAFECONV_OK &&
              safeconv_outcome_is_success(outcome);
    safeconv_outcome_free(outcome);
    safeconv_session_free(session);
    safeconv_client_free(client);
    return ok;
}

static int records_of(log_book *book) {
    pthread_mutex_lock(&book->mutex);
    int n = book->records;
    pthread_mutex_unlock(&book->mutex);
    return n;
}

void test_log_callback_filtered_and_masked(void) {
    log_book info = {.mutex = PTHREAD_MUTEX_INITIALIZER};
    log_book debug = {.mutex = PTHREAD_MUTEX_INITIALIZER};

    CHECK_OK(safeconv_set_log_callback(keep_record, &info, release_book, SAFECONV_LOG_INFO));
    bool verified_at_info = verify_approver();
    /* Replacing the callback releases the first one's user_data. */
    CHECK_OK(safeconv_set_log_callback(keep_record, &debug, release_book, SAFECONV_LOG_DEBUG));
    int info_frees = info.frees;
    bool verified_at_debug = verify_approver();
    CHECK_OK(safeconv_set_log_callback(NULL, NULL, NULL, 0));
    int debug_frees = debug.frees;
    int after_off = records_of(&debug);
    bool verified_off = verify_approver();
    int later = records_of(&debug);

    CHECK(verified_at_info && verified_at_debug && verified_off);
    /* At INFO: the main steps, nothing more detailed. */
    CHECK(info.records > 0 && info.by_level[SAFECONV_LOG_INFO] > 0);
    CHECK(info.by_level[SAFECONV_LOG_DEBUG] == 0 && info.by_level[SAFECONV_LOG_TRACE] == 0);
    CHECK(info.session_id_field);
    /* At DEBUG also the details, the NIN in them masked. */
    CHECK(debug.by_level[SAFECONV_LOG_DEBUG] > 0 && debug.by_level[SAFECONV_LOG_TRACE] == 0);
    CHECK(debug.masked_nin_field);
    CHECK(!info.nin_seen && !debug.nin_seen);
    CHECK(!info.bad_record && !debug.bad_record);
    /* Off: nothing more; each user_data released exactly once. */
    CHECK(later == after_off);
    CHECK(info_frees == 1 && debug_frees == 1);

    /* A level that does not exist is refused, naming it, and the user_data is released. */
    log_book refused = {.mutex = PTHREAD_MUTEX_INITIALIZER};
    CHECK_RESULT(safeconv_set_log_callback(keep_record, &refused, release_book, 9),
                 SAFECONV_INVALID_INPUT);
    SafeconvError *error = safeconv_last_error();
    char *field = safeconv_error_field(error);
    bool named = field && strcmp(field, "max_level") == 0;
    safeconv_string_free(field);
    safeconv_error_free(error);
    CHECK(named);
    CHECK(refused.frees == 1 && refused.records == 0);

    CHECK(strcmp(safeconv_log_level_name(SAFECONV_LOG_ERROR), "error") == 0);
    CHECK(strcmp(safeconv_log_level_name(SAFECONV_LOG_TRACE), "trace") == 0);
    CHECK(safeconv_log_level_name(0) == NULL && safeconv_log_level_name(6) == NULL);
}
