/*
 * agent_console: an interactive console for a call-centre agent who verifies a caller with
 * Norwegian BankID Safe Conversation.
 *
 *   1. asks for the caller's national identity number (checked at once, nothing sent if wrong);
 *   2. starts a Safe Conversation (blocking call) and shows the binding message to read aloud;
 *   3. waits for the caller (asynchronous call), printing each status change;
 *   4. prints the verified identity, or how the session ended.
 *
 * Ctrl-C while waiting cancels the session at Signicat; Ctrl-D (end of input) quits.
 *
 * Configuration from the environment:
 *   SAFECONV_BASE_URL (or SAFECONV_EMULATOR_URL)   default https://api.signicat.com
 *   SAFECONV_ACCOUNT_ID, SAFECONV_CLIENT_ID, SAFECONV_CLIENT_SECRET
 *     (default: the emulator's demo account when SAFECONV_EMULATOR_URL is set)
 *   Inside a bank's network, as for the safeconv CLI:
 *   SAFECONV_CA_FILE      a CA to trust besides the roots, e.g. the TLS-inspecting proxy's (PEM)
 *   SAFECONV_ROOTS        bundled (default), native (the OS store), bundled-and-native, added-only
 *   SAFECONV_PROXY        http://host:port (default: HTTPS_PROXY and the other system variables)
 *   SAFECONV_PROXY_USER, SAFECONV_PROXY_PASSWORD   the proxy's credentials
 *   SAFECONV_NO_PROXY     hosts that bypass SAFECONV_PROXY (default: NO_PROXY)
 *
 * Build:  cc -std=c11 agent_console.c $(pkg-config --cflags --libs safeconv) -o agent_console
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "safeconv.h"

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int signo) {
    (void)signo;
    interrupted = 1; /* only this: nothing else is async-signal-safe */
}

/* What the wait's callbacks tell the main thread. */
typedef struct {
    atomic_int done;
    SafeconvResult result;
    SafeconvOutcome *outcome; /* ours once done */
    SafeconvError *error;     /* a copy, ours once done */
} wait_state;

/* Status changes: called on a library thread while waiting. */
static void print_status(void *user_data, const SafeconvSession *session) {
    (void)user_data;
    const char *name = safeconv_status_name(safeconv_session_status(session));
    char *raw = NULL;
    if (!name) name = raw = safeconv_session_status_text(session);
    printf("  status: %s\n", name ? name : "?");
    fflush(stdout);
    safeconv_string_free(raw);
}

/* Completion: called once, on a library thread. Keeps what it is given for the main thread. */
static void wait_done(void *user_data, SafeconvResult result, SafeconvOutcome *outcome,
                      const SafeconvError *error) {
    wait_state *state = user_data;
    state->result = result;
    state->outcome = outcome;                    /* ownership passes to us */
    state->error = safeconv_error_clone(error); /* `error` is only borrowed */
    atomic_store(&state->done, 1);
}

static void print_error(const char *what, const SafeconvError *error) {
    char *message = safeconv_error_message(error);
    char *trace = safeconv_error_trace_id(error);
    fprintf(stderr, "%s failed (%s): %s", what, safeconv_result_name(safeconv_error_result(error)),
            message ? message : "?");
    if (trace) fprintf(stderr, " [traceId %s]", trace);
    fprintf(stderr, "\n");
    safeconv_string_free(message);
    safeconv_string_free(trace);
}

static void print_last_error(const char *what) {
    SafeconvError *error = safeconv_last_error();
    print_error(what, error);
    safeconv_error_free(error);
}

static void sleep_a_little(void) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL); /* Ctrl-C ends it early, which is what we want */
}

static void print_identity(const SafeconvOutcome *outcome, const char *nin_entered) {
    SafeconvSubject *subject = safeconv_outcome_subject(outcome);
    char *name = safeconv_subject_name(subject);
    char *born = safeconv_subject_date_of_birth(subject);
    char *nin = safeconv_subject_nin(subject);
    char *country = safeconv_subject_nin_issuing_country(subject);
    printf("VERIFIED: %s, born %s\n", name ? name : "(no name)", born ? born : "?");
    /* Never show the whole number: the first six digits are enough to recognise it. */
    printf("  national identity number %.6s***** (%s)%s\n", nin ? nin : "", country ? country : "?",
           nin && strcmp(nin, nin_entered) == 0 ? ", the number entered"
                                                 : " -- NOT the number entered!");
    safeconv_string_free(name);
    safeconv_string_free(born);
    safeconv_string_free(nin);
    safeconv_string_free(country);
    safeconv_subject_free(subject);
}

/* One verification: returns when the session has ended (or could not be followed). */
static void verify(SafeconvClient *client, const char *nin) {
    SafeconvNinKind kind;
    if (safeconv_nin_check(nin, 0, &kind, NULL) != SAFECONV_OK) {
        char *message = safeconv_last_error_message();
        printf("Not a valid national identity number: %s\n", message ? message : "?");
        safeconv_string_free(message);
        return;
    }

    printf("Starting Safe Conversation (%s)...\n", safeconv_nin_kind_code(kind));
    SafeconvSession *session = NULL;
    if (safeconv_start(client, nin, NULL, &session) != SAFECONV_OK) {
        print_last_error("Starting");
        return;
    }
    char *id = safeconv_session_id(session);
    char *words = safeconv_session_binding_message(session);
    char *expires = safeconv_session_expires_at(session);
    printf("\n  Read this to the caller:  \"%s\"\n", words ? words : "?");
    printf("  The caller confirms the same words in the BankID app (expires %s).\n\n",
           expires ? expires : "?");
    safeconv_string_free(words);
    safeconv_string_free(expires);

    if (interrupted) { /* Ctrl-C while starting: do not leave the request on the phone */
        interrupted = 0;
        printf("Cancelling...\n");
        safeconv_cancel_session(client, id, NULL);
    }

    wait_state state = {.result = SAFECONV_OK};
    atomic_init(&state.done, 0);
    SafeconvOperationId op = 0;
    if (safeconv_wait_async(client, session, 0, print_status, wait_done, &state, &op) != SAFECONV_OK) {
        print_last_error("Waiting");
        safeconv_session_free(session);
        safeconv_string_free(id);
        return;
    }
    safeconv_session_free(session); /* the wait has its own copy */

    bool cancelling = false;
    while (!atomic_load(&state.done)) {
        if (interrupted && !cancelling) {
            printf("Cancelling...\n");
            fflush(stdout);
            safeconv_operation_cancel(client, op); /* the wait cancels at Signicat */
            cancelling = true;
        }
        interrupted = 0;
        sleep_a_little();
    }

    if (state.result != SAFECONV_OK) {
        print_error("Waiting", state.error);
        printf("The session's outcome is unknown; session id %s\n", id ? id : "?");
    } else {
        switch (safeconv_outcome_status(state.outcome)) {
        case SAFECONV_STATUS_SUCCESS:
            print_identity(state.outcome, nin);
            break;
        case SAFECONV_STATUS_ABORT:
            printf("NOT VERIFIED: the caller declined in the BankID app.\n");
            break;
        case SAFECONV_STATUS_CANCELLED:
            printf("NOT VERIFIED: the session was cancelled.\n");
            break;
        case SAFECONV_STATUS_EXPIRED:
            printf("NOT VERIFIED: the caller did not answer in time.\n");
            break;
        default: {
            char *code = safeconv_outcome_error_code(state.outcome);
            printf("NOT VERIFIED: the session failed (%s).\n", code ? code : "no reason given");
            safeconv_string_free(code);
        }
        }
    }
    safeconv_outcome_free(state.outcome);
    safeconv_error_free(state.error);
    safeconv_string_free(id);
}

/* SAFECONV_ROOTS as a SafeconvTrustRoots number; false for a name that is none. */
static bool trust_roots(const char *name, uint32_t *roots) {
    static const char *const names[] = {"bundled", "native", "bundled-and-native", "added-only"};
    static const uint32_t numbers[] = {SAFECONV_TRUST_ROOTS_BUNDLED, SAFECONV_TRUST_ROOTS_NATIVE,
                                       SAFECONV_TRUST_ROOTS_BUNDLED_AND_NATIVE,
                                       SAFECONV_TRUST_ROOTS_ADDED_ONLY};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            *roots = numbers[i];
            return true;
        }
    }
    fprintf(stderr, "SAFECONV_ROOTS must be bundled, native, bundled-and-native or added-only.\n");
    return false;
}

/* The trust and proxy settings from the environment (see the top of this file). */
static bool set_network(SafeconvConfig *config) {
    const char *ca_file = getenv("SAFECONV_CA_FILE");
    const char *roots_name = getenv("SAFECONV_ROOTS");
    const char *proxy = getenv("SAFECONV_PROXY");
    const char *user = getenv("SAFECONV_PROXY_USER");
    const char *password = getenv("SAFECONV_PROXY_PASSWORD");
    const char *no_proxy = getenv("SAFECONV_NO_PROXY");
    uint32_t roots = SAFECONV_TRUST_ROOTS_BUNDLED;
    if (roots_name && !trust_roots(roots_name, &roots)) return false;
    /* Each setting is checked by safeconv_client_new, which names the one it refuses. */
    return safeconv_config_set_trust_roots(config, roots) == SAFECONV_OK &&
           (!ca_file || safeconv_config_add_ca_file(config, ca_file) == SAFECONV_OK) &&
           safeconv_config_set_proxy(config, proxy) == SAFECONV_OK &&
           safeconv_config_set_proxy_credentials(config, user, password) == SAFECONV_OK &&
           safeconv_config_set_no_proxy(config, no_proxy) == SAFECONV_OK;
}

static SafeconvClient *make_client(void) {
    const char *emulator = getenv("SAFECONV_EMULATOR_URL");
    const char *base = getenv("SAFECONV_BASE_URL");
    const char *account = getenv("SAFECONV_ACCOUNT_ID");
    const char *client_id = getenv("SAFECONV_CLIENT_ID");
    const char *secret = getenv("SAFECONV_CLIENT_SECRET");
    if (!base) base = emulator;
    if (emulator) { /* the emulator's demo account */
        if (!account) account = "a-spge-emulator";
        if (!client_id) client_id = "safeconv-demo-client";
        if (!secret) secret = "safeconv-demo-secret";
    }
    if (!account || !client_id || !secret) {
        fprintf(stderr, "Set SAFECONV_ACCOUNT_ID, SAFECONV_CLIENT_ID and SAFECONV_CLIENT_SECRET "
                        "(or SAFECONV_EMULATOR_URL).\n");
        return NULL;
    }
    SafeconvConfig *config = safeconv_config_new();
    SafeconvClient *client = NULL;
    bool ok = (!base || safeconv_config_set_base_url(config, base) == SAFECONV_OK) &&
              safeconv_config_set_account_id(config, account) == SAFECONV_OK &&
              safeconv_config_set_client_credentials(config, client_id, secret) == SAFECONV_OK &&
              (!emulator || safeconv_config_set_poll_interval_ms(config, 250) == SAFECONV_OK) &&
              set_network(config) && safeconv_client_new(config, &client) == SAFECONV_OK;
    if (!ok && safeconv_last_error_result() != SAFECONV_OK) print_last_error("Configuring the client");
    safeconv_config_free(config);
    return client;
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigint; /* no SA_RESTART: Ctrl-C interrupts the prompt too */
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);

    SafeconvClient *client = make_client();
    if (!client) return 1;
    printf("safeconv agent console (library %s). Ctrl-C cancels a verification, Ctrl-D quits.\n",
           safeconv_version());

    char line[128];
    for (;;) {
        printf("\nCaller's national identity number: ");
        fflush(stdout);
        interrupted = 0;
        if (!fgets(line, sizeof line, stdin)) {
            if (ferror(stdin) && errno == EINTR) { /* Ctrl-C at the prompt */
                clearerr(stdin);
                printf("\n(Ctrl-D quits)");
                continue;
            }
            break; /* end of input */
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0') continue;
        verify(client, line);
        memset(line, 0, sizeof line); /* do not keep the number around */
    }
    printf("\nBye.\n");
    safeconv_client_free(client); /* cancels anything still running, then stops its threads */
    return 0;
}
