/* Version, names, NIN checks, NULL and UTF-8 handling, configuration errors, last errors. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

static const char BAD_UTF8[] = {(char)0xff, (char)0xfe, 'x', 0};

void test_version_and_names(void) {
    const char *version = safeconv_version();
    CHECK(version != NULL && strchr(version, '.') != NULL);
    CHECK(safeconv_abi_version() == SAFECONV_ABI_VERSION);
    CHECK(strcmp(safeconv_result_name(SAFECONV_OK), "SAFECONV_OK") == 0);
    CHECK(strcmp(safeconv_result_name(SAFECONV_NULL_ARGUMENT), "SAFECONV_NULL_ARGUMENT") == 0);
    CHECK(strcmp(safeconv_result_name(SAFECONV_TRANSPORT_CONNECT), "SAFECONV_TRANSPORT_CONNECT") ==
          0);
    CHECK(safeconv_result_name(99) == NULL);
    /* The numbers are part of the ABI. */
    CHECK(SAFECONV_OK == 0 && SAFECONV_INVALID_INPUT == 1 && SAFECONV_INVALID_NIN == 2 &&
          SAFECONV_AUTHENTICATION == 3 && SAFECONV_API == 4 && SAFECONV_TRANSPORT_TIMEOUT == 5 &&
          SAFECONV_TRANSPORT_CONNECT == 6 && SAFECONV_TRANSPORT_CONNECTION == 7 &&
          SAFECONV_PROTOCOL == 8 && SAFECONV_NULL_ARGUMENT == 100 && SAFECONV_INVALID_UTF8 == 101 &&
          SAFECONV_PANIC == 102 && SAFECONV_WRONG_THREAD == 103 && SAFECONV_CANCELLED == 104 &&
          SAFECONV_NO_SUCH_OPERATION == 105 && SAFECONV_RUNTIME == 106);
    CHECK(strcmp(safeconv_status_name(SAFECONV_STATUS_WAITING_FOR_USER), "WAITING_FOR_USER") == 0);
    CHECK(strcmp(safeconv_status_name(SAFECONV_STATUS_CANCELLED), "CANCELLED") == 0);
    CHECK(safeconv_status_name(SAFECONV_STATUS_UNKNOWN) == NULL);
    CHECK(safeconv_status_name(42) == NULL);
}

void test_nin_check_kinds_and_reasons(void) {
    static const struct {
        const char *nin;
        uint32_t rules;
        SafeconvResult result;
        SafeconvNinKind kind;
        SafeconvNinReason reason;
        const char *code;
    } cases[] = {
        {"01018010018", 0, SAFECONV_OK, SAFECONV_NIN_KIND_BIRTH_NUMBER, SAFECONV_NIN_REASON_NONE, "fnr"},
        {" 17029010021\n", 0, SAFECONV_OK, SAFECONV_NIN_KIND_BIRTH_NUMBER, SAFECONV_NIN_REASON_NONE, "fnr"},
        {"57029010015", 0, SAFECONV_OK, SAFECONV_NIN_KIND_D_NUMBER, SAFECONV_NIN_REASON_NONE, "dnr"},
        {"10915596784", SAFECONV_NIN_ALLOW_SYNTHETIC, SAFECONV_OK, SAFECONV_NIN_KIND_SYNTHETIC,
         SAFECONV_NIN_REASON_NONE, "synthetic"},
        {"17029012345", SAFECONV_NIN_ALLOW_INVALID_CHECK_DIGITS, SAFECONV_OK,
         SAFECONV_NIN_KIND_BIRTH_NUMBER, SAFECONV_NIN_REASON_NONE, "fnr"},
        {"10915596784", 0, SAFECONV_INVALID_NIN, SAFECONV_NIN_KIND_NONE, SAFECONV_NIN_REASON_SYNTHETIC,
         "synthetic"},
        {"17029012345", 0, SAFECONV_INVALID_NIN, SAFECONV_NIN_KIND_NONE,
         SAFECONV_NIN_REASON_CHECK_DIGITS, "check-digits"},
        {"12345", 0, SAFECONV_INVALID_NIN, SAFECONV_NIN_KIND_NONE, SAFECONV_NIN_REASON_LENGTH, "length"},
        {"", 0, SAFECONV_INVALID_NIN, SAFECONV_NIN_KIND_NONE, SAFECONV_NIN_REASON_LENGTH, "length"},
        {"0101801001x", 0, SAFECONV_INVALID_NIN, SAFECONV_NIN_KIND_NONE, SAFECONV_NIN_REASON_NON_DIGIT,
         "non-digit"},
        {"31049010018", 0, SAFECONV_INVALID_NIN, SAFECONV_NIN_KIND_NONE, SAFECONV_NIN_REASON_DATE, "date"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SafeconvNinKind kind = (SafeconvNinKind)99;
        SafeconvNinReason reason = (SafeconvNinReason)99;
        CHECK_RESULT(safeconv_nin_check(cases[i].nin, cases[i].rules, &kind, &reason),
                     cases[i].result);
        CHECK(kind == cases[i].kind);
        CHECK(reason == cases[i].reason);
        if (cases[i].result == SAFECONV_OK) {
            CHECK(strcmp(safeconv_nin_kind_code(kind), cases[i].code) == 0);
            CHECK(safeconv_last_error() == NULL);
        } else {
            CHECK(strcmp(safeconv_nin_reason_code(reason), cases[i].code) == 0);
            SafeconvError *error = safeconv_last_error();
            CHECK(error != NULL);
            CHECK(safeconv_error_result(error) == SAFECONV_INVALID_NIN);
            char *code = safeconv_error_code(error);
            char *message = safeconv_error_message(error);
            bool code_ok = code && strcmp(code, cases[i].code) == 0;
            /* Never repeat the number itself. */
            bool masked = message && (strlen(cases[i].nin) < 6 || !strstr(message, cases[i].nin));
            safeconv_string_free(code);
            safeconv_string_free(message);
            safeconv_error_free(error);
            CHECK(code_ok);
            CHECK(masked);
        }
    }
    /* Out-pointers are optional; unknown flag bits are refused. */
    CHECK_OK(safeconv_nin_check("01018010018", 0, NULL, NULL));
    CHECK_RESULT(safeconv_nin_check("01018010018", 0x80, NULL, NULL), SAFECONV_INVALID_INPUT);
    CHECK(safeconv_nin_kind_code(SAFECONV_NIN_KIND_NONE) == NULL);
    CHECK(safeconv_nin_kind_code(77) == NULL);
    CHECK(strcmp(safeconv_nin_kind_code(SAFECONV_NIN_KIND_H_NUMBER), "hnr") == 0);
    CHECK(strcmp(safeconv_nin_kind_code(SAFECONV_NIN_KIND_FH_NUMBER), "fh") == 0);
    CHECK(safeconv_nin_reason_code(SAFECONV_NIN_REASON_NONE) == NULL);
}

static void never_called_session(void *user_data, SafeconvResult result, SafeconvSession *session,
                                 const SafeconvError *error) {
    (void)result;
    (void)error;
    *(int *)user_data += 1;
    safeconv_session_free(session);
}

void test_null_arguments(void) {
    /* Every free accepts NULL. */
    safeconv_client_free(NULL);
    safeconv_config_free(NULL);
    safeconv_session_free(NULL);
    safeconv_outcome_free(NULL);
    safeconv_subject_free(NULL);
    safeconv_error_free(NULL);
    safeconv_start_options_free(NULL);
    safeconv_string_free(NULL);

    /* Getters give NULL / 0 / false for NULL handles. */
    CHECK(safeconv_session_id(NULL) == NULL);
    CHECK(safeconv_session_status(NULL) == SAFECONV_STATUS_UNKNOWN);
    CHECK(safeconv_session_binding_message(NULL) == NULL);
    CHECK(!safeconv_session_is_final(NULL));
    int64_t ms = 7;
    CHECK(!safeconv_session_expires_at_unix_ms(NULL, &ms) && ms == 7);
    CHECK(safeconv_session_outcome(NULL) == NULL);
    CHECK(safeconv_session_clone(NULL) == NULL);
    CHECK(safeconv_outcome_status(NULL) == SAFECONV_STATUS_UNKNOWN);
    CHECK(!safeconv_outcome_is_success(NULL));
    CHECK(safeconv_outcome_subject(NULL) == NULL);
    CHECK(safeconv_subject_name(NULL) == NULL);
    CHECK(safeconv_subject_nin(NULL) == NULL);
    CHECK(safeconv_subject_extra_json(NULL) == NULL);
    CHECK(safeconv_error_message(NULL) == NULL);
    CHECK(safeconv_error_result(NULL) == SAFECONV_NULL_ARGUMENT);
    CHECK(safeconv_error_http_status(NULL) == 0);
    CHECK(safeconv_error_clone(NULL) == NULL);

    /* Functions returning a result refuse NULL and name the argument. */
    CHECK_RESULT(safeconv_nin_check(NULL, 0, NULL, NULL), SAFECONV_NULL_ARGUMENT);
    CHECK(last_error_field_is("nin"));
    CHECK_RESULT(safeconv_config_set_base_url(NULL, "http://127.0.0.1:1"), SAFECONV_NULL_ARGUMENT);
    CHECK(last_error_field_is("config"));
    SafeconvConfig *config = emu_config();
    CHECK(config != NULL);
    SafeconvResult r = safeconv_config_set_account_id(config, NULL);
    bool named = last_error_field_is("account_id");
    SafeconvResult r2 = safeconv_config_set_token_callback(config, NULL, NULL, NULL);
    bool named2 = last_error_field_is("callback");
    SafeconvClient *client = (SafeconvClient *)&r; /* must be overwritten with NULL */
    SafeconvResult r3 = safeconv_client_new(NULL, &client);
    bool cleared = client == NULL;
    SafeconvResult r4 = safeconv_client_new(config, NULL);
    safeconv_config_free(config);
    CHECK(r == SAFECONV_NULL_ARGUMENT && named);
    CHECK(r2 == SAFECONV_NULL_ARGUMENT && named2);
    CHECK(r3 == SAFECONV_NULL_ARGUMENT && cleared);
    CHECK(r4 == SAFECONV_NULL_ARGUMENT);

    client = emu_client();
    CHECK(client != NULL);
    SafeconvSession *session = (SafeconvSession *)&r;
    SafeconvOutcome *outcome = (SafeconvOutcome *)&r;
    SafeconvOperationId op = 99;
    int calls = 0;
    bool all = true;
    all &= safeconv_start(NULL, APPROVER, NULL, &session) == SAFECONV_NULL_ARGUMENT && !session;
    all &= last_error_field_is("client");
    all &= safeconv_start(client, NULL, NULL, &session) == SAFECONV_NULL_ARGUMENT;
    all &= last_error_field_is("nin");
    all &= safeconv_start(client, APPROVER, NULL, NULL) == SAFECONV_NULL_ARGUMENT;
    all &= last_error_field_is("session_out");
    all &= safeconv_wait(client, NULL, 0, NULL, NULL, &outcome) == SAFECONV_NULL_ARGUMENT && !outcome;
    all &= last_error_field_is("session");
    all &= safeconv_get_session(client, NULL, &session) == SAFECONV_NULL_ARGUMENT;
    all &= last_error_field_is("session_id");
    all &= safeconv_cancel_session(client, NULL, NULL) == SAFECONV_NULL_ARGUMENT;
    all &= safeconv_start_async(client, APPROVER, NULL, NULL, &calls, &op) == SAFECONV_NULL_ARGUMENT;
    all &= op == 0 && last_error_field_is("on_done");
    all &= safeconv_start_async(client, NULL, NULL, never_called_session, &calls, &op) ==
           SAFECONV_NULL_ARGUMENT;
    all &= safeconv_wait_async(client, NULL, 0, NULL, NULL, NULL, NULL) == SAFECONV_NULL_ARGUMENT;
    all &= safeconv_get_session_async(NULL, "x", never_called_session, &calls, NULL) ==
           SAFECONV_NULL_ARGUMENT;
    all &= safeconv_cancel_session_async(client, NULL, never_called_session, &calls, NULL) ==
           SAFECONV_NULL_ARGUMENT;
    all &= safeconv_operation_cancel(NULL, 1) == SAFECONV_NULL_ARGUMENT;
    all &= safeconv_token_request_set_token(NULL, "t", 0) == SAFECONV_NULL_ARGUMENT;
    all &= safeconv_start_options_set_language(NULL, "nb") == SAFECONV_NULL_ARGUMENT;
    safeconv_client_free(client);
    CHECK(all);
    CHECK(calls == 0);
}

void test_invalid_utf8_arguments(void) {
    SafeconvNinReason reason = SAFECONV_NIN_REASON_LENGTH;
    CHECK_RESULT(safeconv_nin_check(BAD_UTF8, 0, NULL, &reason), SAFECONV_INVALID_UTF8);
    CHECK(reason == SAFECONV_NIN_REASON_NONE);
    CHECK(last_error_field_is("nin"));

    SafeconvConfig *config = safeconv_config_new();
    CHECK(config != NULL);
    bool all = true;
    all &= safeconv_config_set_base_url(config, BAD_UTF8) == SAFECONV_INVALID_UTF8;
    all &= last_error_field_is("url");
    all &= safeconv_config_set_account_id(config, BAD_UTF8) == SAFECONV_INVALID_UTF8;
    all &= safeconv_config_set_client_credentials(config, "id", BAD_UTF8) == SAFECONV_INVALID_UTF8;
    all &= last_error_field_is("client_secret");
    all &= safeconv_config_set_user_agent(config, BAD_UTF8) == SAFECONV_INVALID_UTF8;
    safeconv_config_free(config);
    CHECK(all);

    SafeconvStartOptions *options = safeconv_start_options_new();
    CHECK(options != NULL);
    all &= safeconv_start_options_set_external_reference(options, BAD_UTF8) == SAFECONV_INVALID_UTF8;
    all &= safeconv_start_options_add_attribute(options, BAD_UTF8) == SAFECONV_INVALID_UTF8;
    safeconv_start_options_free(options);
    CHECK(all);

    SafeconvClient *client = emu_client();
    CHECK(client != NULL);
    SafeconvSession *session = NULL;
    all &= safeconv_start(client, BAD_UTF8, NULL, &session) == SAFECONV_INVALID_UTF8;
    all &= last_error_field_is("nin");
    all &= safeconv_get_session(client, BAD_UTF8, &session) == SAFECONV_INVALID_UTF8;
    all &= last_error_field_is("session_id");
    int calls = 0;
    all &= safeconv_cancel_session_async(client, BAD_UTF8, never_called_session, &calls, NULL) ==
           SAFECONV_INVALID_UTF8;
    safeconv_client_free(client);
    CHECK(all && session == NULL && calls == 0);
}

static SafeconvResult client_from(SafeconvConfig *config) {
    SafeconvClient *client = NULL;
    SafeconvResult r = safeconv_client_new(config, &client);
    safeconv_client_free(client);
    return r;
}

void test_config_errors_name_the_field(void) {
    SafeconvConfig *config = safeconv_config_new();
    CHECK(config != NULL);
    bool all = true;
    all &= client_from(config) == SAFECONV_INVALID_INPUT && last_error_field_is("account_id");
    safeconv_config_set_account_id(config, EMU_ACCOUNT_ID);
    all &= client_from(config) == SAFECONV_INVALID_INPUT && last_error_field_is("credentials");
    safeconv_config_set_client_credentials(config, EMU_CLIENT_ID, EMU_CLIENT_SECRET);
    all &= client_from(config) == SAFECONV_OK; /* the defaults are complete */
    safeconv_config_set_base_url(config, "http://api.example.com");
    all &= client_from(config) == SAFECONV_INVALID_INPUT && last_error_field_is("base_url");
    safeconv_config_set_base_url(config, "https://api.example.com");
    safeconv_config_set_poll_interval_ms(config, 100);
    all &= client_from(config) == SAFECONV_INVALID_INPUT && last_error_field_is("poll_interval");
    safeconv_config_set_poll_interval_ms(config, 2000);
    safeconv_config_set_request_timeout_ms(config, 0);
    all &= client_from(config) == SAFECONV_INVALID_INPUT && last_error_field_is("request_timeout");
    safeconv_config_set_request_timeout_ms(config, 1000);
    all &= safeconv_config_set_worker_threads(config, 0) == SAFECONV_INVALID_INPUT &&
           last_error_field_is("worker_threads");
    all &= safeconv_config_set_worker_threads(config, 1) == SAFECONV_OK;
    all &= safeconv_config_set_nin_rules(config, 0x100) == SAFECONV_INVALID_INPUT &&
           last_error_field_is("nin_rules");
    all &= safeconv_config_set_client_credentials(config, "", "x") == SAFECONV_OK;
    all &= client_from(config) == SAFECONV_INVALID_INPUT && last_error_field_is("client_id");
    CHECK(all);

    /* A copy of an error stays readable after later calls change the last error. */
    SafeconvError *kept = safeconv_last_error();
    CHECK_OK(safeconv_config_set_client_credentials(config, EMU_CLIENT_ID, EMU_CLIENT_SECRET));
    CHECK(safeconv_last_error() == NULL);
    CHECK(safeconv_error_result(kept) == SAFECONV_INVALID_INPUT);
    CHECK_STR(safeconv_error_field(kept), "client_id");
    char *message = safeconv_error_message(kept);
    bool mentions = message && strstr(message, "client_id") != NULL;
    safeconv_string_free(message);
    CHECK(mentions);
    CHECK(safeconv_error_http_status(kept) == 0 && !safeconv_error_is_transient(kept));
    safeconv_error_free(kept);
    safeconv_config_free(config);
}

static void *make_an_error(void *arg) {
    int *out = arg;
    out[0] = (int)safeconv_last_error_result(); /* a fresh thread has none */
    safeconv_nin_check("123", 0, NULL, NULL);
    out[1] = (int)safeconv_last_error_result();
    return NULL;
}

void test_last_error_is_per_thread(void) {
    CHECK_RESULT(safeconv_nin_check(NULL, 0, NULL, NULL), SAFECONV_NULL_ARGUMENT);
    int seen[2] = {-1, -1};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, make_an_error, seen) == 0);
    pthread_join(thread, NULL);
    CHECK(seen[0] == SAFECONV_OK);
    CHECK(seen[1] == SAFECONV_INVALID_NIN);
    CHECK(safeconv_last_error_result() == SAFECONV_NULL_ARGUMENT);
    CHECK_OK(safeconv_nin_check(APPROVER, 0, NULL, NULL));
    CHECK(safeconv_last_error_result() == SAFECONV_OK);
    CHECK(safeconv_last_error_message() == NULL);
}
