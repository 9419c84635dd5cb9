/* Token callbacks: tokens from your own code, their errors, threads, and free_user_data. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

typedef struct {
    pthread_mutex_t mutex;
    int calls;
    int frees;
    bool on_main_thread;
    const char *fail_with; /* set an error instead of a token */
    bool answer_nothing;   /* set neither */
    SafeconvResult blocking_inside;
    const SafeconvClient *client;
} token_source;

static void give_token(void *user_data, SafeconvTokenRequest *request) {
    token_source *source = user_data;
    pthread_mutex_lock(&source->mutex);
    source->calls++;
    if (on_main_thread()) source->on_main_thread = true;
    pthread_mutex_unlock(&source->mutex);
    if (source->client) {
        SafeconvSession *session = NULL;
        source->blocking_inside = safeconv_get_session(source->client, "x", &session);
        safeconv_session_free(session);
    }
    if (source->answer_nothing) return;
    if (source->fail_with) {
        safeconv_token_request_set_error(request, source->fail_with, "the backend is down");
        return;
    }
    char token[512];
    if (emu_fetch_token(token, sizeof token)) {
        safeconv_token_request_set_token(request, token, 600);
    } else {
        safeconv_token_request_set_error(request, "emulator_unreachable", NULL);
    }
}

static void release_source(void *user_data) {
    token_source *source = user_data;
    pthread_mutex_lock(&source->mutex);
    source->frees++;
    pthread_mutex_unlock(&source->mutex);
}

static SafeconvClient *client_with(token_source *source) {
    SafeconvConfig *config = emu_config();
    if (!config) return NULL;
    SafeconvClient *client = NULL;
    if (safeconv_config_set_token_callback(config, give_token, source, release_source) != SAFECONV_OK ||
        safeconv_client_new(config, &client) != SAFECONV_OK) {
        client = NULL;
    }
    safeconv_config_free(config);
    return client;
}

void test_token_callback_supplies_tokens(void) {
    token_source source = {.mutex = PTHREAD_MUTEX_INITIALIZER};
    SafeconvClient *client = client_with(&source);
    CHECK(client != NULL);
    /* The config is gone, the client still holds the callback. */
    CHECK(source.frees == 0);
    SafeconvSession *session = NULL;
    SafeconvResult started = safeconv_start(client, APPROVER, NULL, &session);
    SafeconvOutcome *outcome = NULL;
    SafeconvResult waited = started == SAFECONV_OK
                                ? safeconv_wait(client, session, 0, NULL, NULL, &outcome)
                                : started;
    bool verified = safeconv_outcome_is_success(outcome);
    safeconv_outcome_free(outcome);
    safeconv_session_free(session);
    int frees_before = source.frees;
    safeconv_client_free(client);
    CHECK_RESULT(started, SAFECONV_OK);
    CHECK_RESULT(waited, SAFECONV_OK);
    CHECK(verified);
    CHECK(source.calls == 1); /* cached for its lifetime */
    CHECK(!source.on_main_thread);
    CHECK(frees_before == 0);
    CHECK(source.frees == 1); /* exactly once, when the last user went */

    /* Replacing the callback releases the first user_data (nothing else used it). */
    token_source first = {.mutex = PTHREAD_MUTEX_INITIALIZER};
    token_source second = {.mutex = PTHREAD_MUTEX_INITIALIZER};
    SafeconvConfig *config = safeconv_config_new();
    CHECK(config != NULL);
    safeconv_config_set_token_callback(config, give_token, &first, release_source);
    safeconv_config_set_token_callback(config, give_token, &second, release_source);
    int first_frees = first.frees;
    safeconv_config_set_client_credentials(config, EMU_CLIENT_ID, EMU_CLIENT_SECRET);
    int second_frees = second.frees;
    safeconv_config_free(config);
    CHECK(first_frees == 1 && second_frees == 1);
}

void test_token_callback_errors(void) {
    token_source failing = {.mutex = PTHREAD_MUTEX_INITIALIZER, .fail_with = "backend_down"};
    SafeconvClient *client = client_with(&failing);
    CHECK(client != NULL);
    SafeconvSession *session = NULL;
    SafeconvResult r = safeconv_start(client, APPROVER, NULL, &session);
    SafeconvError *error = safeconv_last_error();
    safeconv_client_free(client);
    char *code = safeconv_error_code(error);
    char *message = safeconv_error_message(error);
    bool details = code && strcmp(code, "backend_down") == 0 && message &&
                   strstr(message, "the backend is down");
    safeconv_string_free(code);
    safeconv_string_free(message);
    safeconv_error_free(error);
    CHECK(r == SAFECONV_AUTHENTICATION && session == NULL);
    CHECK(details);
    CHECK(failing.frees == 1);

    token_source silent = {.mutex = PTHREAD_MUTEX_INITIALIZER, .answer_nothing = true};
    client = client_with(&silent);
    CHECK(client != NULL);
    r = safeconv_start(client, APPROVER, NULL, &session);
    error = safeconv_last_error();
    code = safeconv_error_code(error);
    /* The one code every binding gives a token provider that failed without saying why. */
    bool no_token = code && strcmp(code, "token_provider_failed") == 0;
    safeconv_string_free(code);
    safeconv_error_free(error);
    safeconv_client_free(client);
    CHECK(r == SAFECONV_AUTHENTICATION && no_token);

    /* Blocking calls inside the token callback are refused rather than deadlocking. */
    token_source probing = {.mutex = PTHREAD_MUTEX_INITIALIZER, .blocking_inside = SAFECONV_OK};
    client = client_with(&probing);
    CHECK(client != NULL);
    probing.client = client;
    r = safeconv_start(client, APPROVER, NULL, &session);
    safeconv_session_free(session);
    safeconv_client_free(client);
    CHECK(r == SAFECONV_OK);
    CHECK(probing.blocking_inside == SAFECONV_WRONG_THREAD);
}
