/* The blocking style against the emulator: the happy path, every final status, get and
 * cancel, start options, and the errors the server and the network can cause. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

typedef struct {
    int statuses[MAX_STATUSES];
    int count;
    bool off_thread;
    pthread_t thread;
} status_log;

static void log_status(void *user_data, const SafeconvSession *session) {
    status_log *log = user_data;
    if (log->count < MAX_STATUSES) log->statuses[log->count++] = (int)safeconv_session_status(session);
    if (!pthread_equal(pthread_self(), log->thread)) log->off_thread = true;
}

/* Starts a session for `nin` and waits for it; returns the outcome's status (or -1). */
static int start_and_wait(SafeconvClient *client, const char *nin,
                          const SafeconvStartOptions *options, uint64_t timeout_ms,
                          char *error_code, size_t error_code_len) {
    SafeconvSession *session = NULL;
    if (safeconv_start(client, nin, options, &session) != SAFECONV_OK) return -1;
    SafeconvOutcome *outcome = NULL;
    SafeconvResult r = safeconv_wait(client, session, timeout_ms, NULL, NULL, &outcome);
    safeconv_session_free(session);
    if (r != SAFECONV_OK) return -1;
    int status = (int)safeconv_outcome_status(outcome);
    if (error_code) {
        char *code = safeconv_outcome_error_code(outcome);
        snprintf(error_code, error_code_len, "%s", code ? code : "");
        safeconv_string_free(code);
    }
    safeconv_outcome_free(outcome);
    return status;
}

void test_happy_path_blocking(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    SafeconvSession *session = NULL;
    CHECK_OK(safeconv_start(client, SLOW_APPROVER, NULL, &session));
    char *id = safeconv_session_id(session);
    char *words = safeconv_session_binding_message(session);
    char *expires = safeconv_session_expires_at(session);
    int64_t expires_ms = 0;
    bool has_expiry = safeconv_session_expires_at_unix_ms(session, &expires_ms);
    SafeconvStatus first = safeconv_session_status(session);
    bool final = safeconv_session_is_final(session);
    SafeconvOutcome *no_outcome = safeconv_session_outcome(session);

    status_log log = {.thread = pthread_self()};
    SafeconvOutcome *outcome = NULL;
    SafeconvResult waited = safeconv_wait(client, session, 0, log_status, &log, &outcome);
    safeconv_session_free(session);

    bool ok = id && words && strchr(words, ' ') && expires && strlen(expires) >= 20 && has_expiry &&
              first == SAFECONV_STATUS_CREATED && !final && !no_outcome;
    char emulator_status[32] = "";
    bool seen = id && emu_session_status(id, emulator_status, sizeof emulator_status);
    SafeconvSession *fresh = NULL;
    SafeconvResult got = id ? safeconv_get_session(client, id, &fresh) : SAFECONV_NULL_ARGUMENT;
    safeconv_string_free(id);
    safeconv_string_free(words);
    safeconv_string_free(expires);
    CHECK(ok);
    CHECK(expires_ms > 0);
    CHECK(waited == SAFECONV_OK);
    /* Each change once, on the calling thread, the final one included. */
    CHECK(log.count == 2);
    CHECK(log.statuses[0] == SAFECONV_STATUS_WAITING_FOR_USER);
    CHECK(log.statuses[1] == SAFECONV_STATUS_SUCCESS);
    CHECK(!log.off_thread);

    CHECK(safeconv_outcome_is_success(outcome));
    CHECK(safeconv_outcome_status(outcome) == SAFECONV_STATUS_SUCCESS);
    CHECK(safeconv_outcome_error_code(outcome) == NULL);
    SafeconvSubject *subject = safeconv_outcome_subject(outcome);
    safeconv_outcome_free(outcome);
    CHECK(subject != NULL);
    char *name = safeconv_subject_name(subject);
    char *first_name = safeconv_subject_first_name(subject);
    char *last_name = safeconv_subject_last_name(subject);
    bool names = name && first_name && last_name && strstr(name, first_name) && strstr(name, last_name);
    safeconv_string_free(name);
    safeconv_string_free(first_name);
    safeconv_string_free(last_name);
    CHECK(names);
    CHECK_STR(safeconv_subject_date_of_birth(subject), "1990-02-17"); /* D-number: day - 40 */
    CHECK_STR(safeconv_subject_nin(subject), SLOW_APPROVER);
    CHECK_STR(safeconv_subject_nin_issuing_country(subject), "NO");
    char *nin_type = safeconv_subject_nin_type(subject);
    char *extra = safeconv_subject_extra_json(subject);
    bool extra_ok = extra && extra[0] == '{' && strlen(extra) > 2;
    bool typed = nin_type != NULL;
    safeconv_string_free(nin_type);
    safeconv_string_free(extra);
    SafeconvSubject *copy = safeconv_subject_clone(subject);
    safeconv_subject_free(subject);
    CHECK(typed);
    CHECK(extra_ok);
    CHECK_STR(safeconv_subject_nin(copy), SLOW_APPROVER);
    safeconv_subject_free(copy);

    CHECK(seen && strcmp(emulator_status, "SUCCESS") == 0);
    CHECK(got == SAFECONV_OK);
    CHECK(safeconv_session_status(fresh) == SAFECONV_STATUS_SUCCESS);
    CHECK(safeconv_session_is_final(fresh));
    SafeconvOutcome *from_session = safeconv_session_outcome(fresh);
    SafeconvSubject *from_session_subject = safeconv_session_subject(fresh);
    CHECK_STR(safeconv_session_status_text(fresh), "SUCCESS");
    safeconv_session_free(fresh);
    CHECK(safeconv_outcome_is_success(from_session));
    CHECK_STR(safeconv_subject_nin(from_session_subject), SLOW_APPROVER);
    safeconv_outcome_free(from_session);
    safeconv_subject_free(from_session_subject);
    safeconv_client_free(client);
}

void test_every_final_status(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    char code[64];
    int declined = start_and_wait(client, DECLINER, NULL, 0, NULL, 0);
    int failed = start_and_wait(client, FAILER, NULL, 0, code, sizeof code);
    bool failed_code = strcmp(code, "authentication_failed") == 0;
    int no_app = start_and_wait(client, NO_APP, NULL, 0, code, sizeof code);
    bool no_app_code = strcmp(code, "no_bankid_app") == 0;
    SafeconvStartOptions *short_life = safeconv_start_options_new();
    safeconv_start_options_set_session_lifetime(short_life, 1);
    int expired = start_and_wait(client, SILENT, short_life, 0, NULL, 0);
    safeconv_start_options_free(short_life);
    int timed_out = start_and_wait(client, SILENT, NULL, 300, NULL, 0);
    int approved = start_and_wait(client, APPROVER, NULL, 0, NULL, 0);
    safeconv_client_free(client);
    CHECK(declined == SAFECONV_STATUS_ABORT);
    CHECK(failed == SAFECONV_STATUS_ERROR && failed_code);
    CHECK(no_app == SAFECONV_STATUS_ERROR && no_app_code);
    CHECK(expired == SAFECONV_STATUS_EXPIRED);
    CHECK(timed_out == SAFECONV_STATUS_CANCELLED); /* the timeout cancels at Signicat */
    CHECK(approved == SAFECONV_STATUS_SUCCESS);
}

void test_get_and_double_cancel_blocking(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    SafeconvSession *session = NULL;
    CHECK_OK(safeconv_start(client, SILENT, NULL, &session));
    char *id = safeconv_session_id(session);
    safeconv_session_free(session);
    CHECK(id != NULL);

    SafeconvSession *current = NULL, *first = NULL, *second = NULL;
    SafeconvResult got = safeconv_get_session(client, id, &current);
    SafeconvResult cancel1 = safeconv_cancel_session(client, id, &first);
    SafeconvResult cancel2 = safeconv_cancel_session(client, id, &second);
    SafeconvResult cancel3 = safeconv_cancel_session(client, id, NULL);
    char status[32] = "";
    emu_session_status(id, status, sizeof status);
    safeconv_string_free(id);
    bool running = !safeconv_session_is_final(current) && safeconv_session_outcome(current) == NULL;
    SafeconvStatus s1 = safeconv_session_status(first), s2 = safeconv_session_status(second);
    safeconv_session_free(current);
    safeconv_session_free(first);
    safeconv_session_free(second);
    CHECK(got == SAFECONV_OK && running);
    CHECK(cancel1 == SAFECONV_OK && s1 == SAFECONV_STATUS_CANCELLED);
    CHECK(cancel2 == SAFECONV_OK && s2 == SAFECONV_STATUS_CANCELLED); /* idempotent */
    CHECK(cancel3 == SAFECONV_OK);
    CHECK(strcmp(status, "CANCELLED") == 0);

    /* An unknown id is Signicat's 404; a malformed one is refused before sending. */
    SafeconvSession *none = NULL;
    CHECK_RESULT(safeconv_get_session(client, "00000000-0000-0000-0000-000000000000", &none),
                 SAFECONV_API);
    SafeconvError *error = safeconv_last_error();
    uint16_t http = safeconv_error_http_status(error);
    safeconv_error_free(error);
    CHECK(http == 404 && none == NULL);
    CHECK_RESULT(safeconv_get_session(client, "a/b", &none), SAFECONV_INVALID_INPUT);
    CHECK_RESULT(safeconv_get_session(client, "", &none), SAFECONV_INVALID_INPUT);
    safeconv_client_free(client);
}

typedef struct {
    SafeconvClient *client;
    char id[128];
} cancel_job;

static void *cancel_later(void *arg) {
    cancel_job *job = arg;
    sleep_ms(300);
    safeconv_cancel_session(job->client, job->id, NULL);
    return NULL;
}

void test_cancel_from_another_thread_ends_a_wait(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    SafeconvSession *session = NULL;
    CHECK_OK(safeconv_start(client, SILENT, NULL, &session));
    cancel_job job = {.client = client};
    char *id = safeconv_session_id(session);
    snprintf(job.id, sizeof job.id, "%s", id);
    safeconv_string_free(id);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, cancel_later, &job) == 0);
    SafeconvOutcome *outcome = NULL;
    SafeconvResult r = safeconv_wait(client, session, 0, NULL, NULL, &outcome);
    pthread_join(thread, NULL);
    safeconv_session_free(session);
    SafeconvStatus status = safeconv_outcome_status(outcome);
    safeconv_outcome_free(outcome);
    safeconv_client_free(client);
    CHECK(r == SAFECONV_OK);
    CHECK(status == SAFECONV_STATUS_CANCELLED);
}

void test_start_options(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    SafeconvStartOptions *options = safeconv_start_options_new();
    CHECK(options != NULL);
    bool set = safeconv_start_options_set_external_reference(options, "call-4711") == SAFECONV_OK &&
               safeconv_start_options_set_language(options, "nb") == SAFECONV_OK &&
               safeconv_start_options_add_attribute(options, "name") == SAFECONV_OK &&
               safeconv_start_options_add_attribute(options, "nin") == SAFECONV_OK &&
               safeconv_start_options_add_tag(options, "c-tests") == SAFECONV_OK &&
               safeconv_start_options_set_requested_loa(options, "substantial") == SAFECONV_OK;
    SafeconvSession *session = NULL;
    SafeconvResult started = safeconv_start(client, APPROVER, options, &session);
    char *reference = safeconv_session_external_reference(session);
    bool echoed = reference && strcmp(reference, "call-4711") == 0;
    safeconv_string_free(reference);
    SafeconvOutcome *outcome = NULL;
    SafeconvResult waited = safeconv_wait(client, session, 0, NULL, NULL, &outcome);
    safeconv_session_free(session);
    SafeconvSubject *subject = safeconv_outcome_subject(outcome);
    safeconv_outcome_free(outcome);
    char *nin = safeconv_subject_nin(subject);
    bool has_nin = nin && strcmp(nin, APPROVER) == 0;
    safeconv_string_free(nin);
    safeconv_subject_free(subject);

    /* A bad value is refused at once, naming the field, and nothing is sent. */
    long creates = emu_counter("createRequests");
    safeconv_start_options_set_language(options, "norsk");
    SafeconvSession *refused = NULL;
    SafeconvResult bad = safeconv_start(client, APPROVER, options, &refused);
    SafeconvError *error = safeconv_last_error();
    char *field = safeconv_error_field(error);
    bool language = field && strcmp(field, "language") == 0;
    safeconv_string_free(field);
    safeconv_error_free(error);
    long creates_after = emu_counter("createRequests");
    safeconv_start_options_free(options);
    safeconv_client_free(client);
    CHECK(set);
    CHECK(started == SAFECONV_OK && echoed);
    CHECK(waited == SAFECONV_OK && has_nin);
    CHECK(bad == SAFECONV_INVALID_INPUT && language && refused == NULL);
    CHECK(creates >= 0 && creates == creates_after);
}

/* The result and details of starting a session for APPROVER on `client`. */
static SafeconvResult start_error(SafeconvClient *client, uint16_t *http, char *code, size_t code_len,
                                  bool *trace, bool *transient) {
    SafeconvSession *session = NULL;
    SafeconvResult r = safeconv_start(client, APPROVER, NULL, &session);
    safeconv_session_free(session);
    SafeconvError *error = safeconv_last_error();
    if (http) *http = safeconv_error_http_status(error);
    if (code) {
        char *c = safeconv_error_code(error);
        snprintf(code, code_len, "%s", c ? c : "");
        safeconv_string_free(c);
    }
    if (trace) {
        char *t = safeconv_error_trace_id(error);
        *trace = t != NULL && t[0] != '\0';
        safeconv_string_free(t);
    }
    if (transient) *transient = safeconv_error_is_transient(error);
    safeconv_error_free(error);
    return r;
}

void test_server_and_transport_errors(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    uint16_t http = 0;
    char code[64];
    bool trace = false, transient = false;

    CHECK(emu_inject("create-session", "{\"kind\":\"internal-error\"}"));
    CHECK_RESULT(start_error(client, &http, code, sizeof code, &trace, &transient), SAFECONV_API);
    CHECK(http == 500 && trace && transient && code[0] != '\0');

    CHECK(emu_inject("create-session", "{\"kind\":\"malformed-json\"}"));
    CHECK_RESULT(start_error(client, NULL, NULL, 0, NULL, &transient), SAFECONV_PROTOCOL);
    CHECK(transient);

    CHECK(emu_inject("create-session", "{\"kind\":\"drop-connection\"}"));
    SafeconvResult dropped = start_error(client, NULL, NULL, 0, NULL, NULL);
    CHECK(dropped == SAFECONV_TRANSPORT_CONNECTION || dropped == SAFECONV_TRANSPORT_CONNECT);
    safeconv_client_free(client);

    /* A slow answer past the request timeout. */
    SafeconvConfig *config = emu_config();
    CHECK(config != NULL);
    safeconv_config_set_request_timeout_ms(config, 300);
    client = NULL;
    SafeconvResult made = safeconv_client_new(config, &client);
    CHECK(made == SAFECONV_OK);
    SafeconvSession *warm = NULL;
    safeconv_get_session(client, "warm-up-the-token", &warm); /* fetch the token first */
    CHECK(emu_inject("create-session", "{\"kind\":\"slow\",\"delayMs\":1500}"));
    SafeconvResult slow = start_error(client, NULL, NULL, 0, NULL, &transient);
    safeconv_client_free(client);
    CHECK(slow == SAFECONV_TRANSPORT_TIMEOUT && transient);

    /* Wrong credentials. */
    safeconv_config_set_request_timeout_ms(config, 2000);
    safeconv_config_set_client_credentials(config, EMU_CLIENT_ID, "wrong-secret");
    client = NULL;
    made = safeconv_client_new(config, &client);
    CHECK(made == SAFECONV_OK);
    SafeconvResult auth = start_error(client, &http, code, sizeof code, NULL, NULL);
    /* The secret never appears in the message. */
    char *message = safeconv_last_error_message();
    bool secret_hidden = message && !strstr(message, "wrong-secret");
    safeconv_string_free(message);
    safeconv_client_free(client);
    CHECK(auth == SAFECONV_AUTHENTICATION && http == 401 && strcmp(code, "invalid_client") == 0);
    CHECK(secret_hidden);

    /* Nothing listening. */
    safeconv_config_set_client_credentials(config, EMU_CLIENT_ID, EMU_CLIENT_SECRET);
    safeconv_config_set_base_url(config, "http://127.0.0.1:1");
    client = NULL;
    made = safeconv_client_new(config, &client);
    safeconv_config_free(config);
    CHECK(made == SAFECONV_OK);
    SafeconvResult refused = start_error(client, NULL, NULL, 0, NULL, &transient);
    safeconv_client_free(client);
    CHECK(refused == SAFECONV_TRANSPORT_CONNECT && transient);
}

void test_invalid_nin_is_refused_before_sending(void) {
    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    long creates = emu_counter("createRequests");
    SafeconvSession *session = NULL;
    SafeconvResult r = safeconv_start(client, "17029012345", NULL, &session);
    SafeconvError *error = safeconv_last_error();
    char *code = safeconv_error_code(error);
    char *message = safeconv_error_message(error);
    bool code_ok = code && strcmp(code, "check-digits") == 0;
    bool masked = message && !strstr(message, "17029012345");
    safeconv_string_free(code);
    safeconv_string_free(message);
    safeconv_error_free(error);
    long after = emu_counter("createRequests");
    safeconv_client_free(client);
    CHECK(r == SAFECONV_INVALID_NIN && session == NULL);
    CHECK(code_ok && masked);
    CHECK(creates >= 0 && creates == after);
}
