/* HTTPS and proxies as production uses them: the trust and proxy settings checked, the flow over
 * real TLS with the emulator's test CA (from a file, from memory, from the operating system's
 * store), each certificate failure with its own message, and the test proxy: through it, with
 * wrong credentials, unreachable, and bypassed. The emulators come from scripts/test-c.sh (see
 * harness_env); the proxy's counters prove which way the requests went. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

/* A password that is never the proxy's, to prove it reaches no message or log record. */
#define WRONG_PROXY_PASSWORD "not-the-proxy-password"

/* A config for the emulator at `url`, with emu_config's settings. */
static SafeconvConfig *config_for(const char *url) {
    SafeconvConfig *config = emu_config();
    if (config && safeconv_config_set_base_url(config, url) != SAFECONV_OK) {
        safeconv_config_free(config);
        return NULL;
    }
    return config;
}

/* Makes a client from `config` (and frees the config), then verifies APPROVER with it.
 * Returns SAFECONV_OK if the caller was verified, -1 if the wait ended otherwise (-2 without
 * a config), or the result of the call that failed, whose error is then in *error_out unless
 * that is NULL (the caller frees it). */
static int verify_with(SafeconvConfig *config, SafeconvError **error_out) {
    if (error_out) *error_out = NULL;
    SafeconvClient *client = NULL;
    SafeconvSession *session = NULL;
    SafeconvOutcome *outcome = NULL;
    int result = config ? (int)safeconv_client_new(config, &client) : -2;
    safeconv_config_free(config);
    if (result == SAFECONV_OK) result = (int)safeconv_start(client, APPROVER, NULL, &session);
    if (result == SAFECONV_OK)
        result = (int)safeconv_wait(client, session, 0, NULL, NULL, &outcome);
    if (result > 0) {
        SafeconvError *error = safeconv_last_error();
        char *message = safeconv_error_message(error);
        printf("    # %s: %s\n", safeconv_result_name((SafeconvResult)result),
               message ? message : "?");
        safeconv_string_free(message);
        if (error_out) {
            *error_out = error;
        } else {
            safeconv_error_free(error);
        }
    } else if (result == SAFECONV_OK && !safeconv_outcome_is_success(outcome)) {
        result = -1;
    }
    safeconv_outcome_free(outcome);
    safeconv_session_free(session);
    safeconv_client_free(client);
    return result;
}

static bool message_has(const SafeconvError *error, const char *text) {
    char *message = safeconv_error_message(error);
    bool has = message && strstr(message, text) != NULL;
    safeconv_string_free(message);
    return has;
}

/* Whether `error` is `result` with the code `code` and transient or not, its message holding
 * `says`; prints the message when not. */
static bool error_is(const SafeconvError *error, SafeconvResult result, const char *code,
                     bool transient, const char *says) {
    char *got_code = safeconv_error_code(error);
    bool same = error && safeconv_error_result(error) == result && got_code &&
                strcmp(got_code, code) == 0 && safeconv_error_is_transient(error) == transient &&
                safeconv_error_http_status(error) == 0 && message_has(error, says);
    if (!same) {
        char *message = safeconv_error_message(error);
        fprintf(stderr, "    expected %s (%s) saying \"%s\", got %s (%s): %s\n",
                safeconv_result_name(result), code, says,
                error ? safeconv_result_name(safeconv_error_result(error)) : "no error",
                got_code ? got_code : "no code", message ? message : "");
        safeconv_string_free(message);
    }
    safeconv_string_free(got_code);
    return same;
}

/* The error that making a client from `config` gives (and frees the config); NULL if the
 * client was made. */
static SafeconvError *client_error(SafeconvConfig *config) {
    SafeconvClient *client = NULL;
    SafeconvResult made = safeconv_client_new(config, &client);
    SafeconvError *error = made == SAFECONV_OK ? NULL : safeconv_last_error();
    safeconv_client_free(client);
    safeconv_config_free(config);
    return error;
}

static bool refused_naming(SafeconvError *error, const char *field) {
    char *got = safeconv_error_field(error);
    bool named = error && safeconv_error_result(error) == SAFECONV_INVALID_INPUT && got &&
                 strcmp(got, field) == 0;
    if (!named) fprintf(stderr, "    expected the field %s, got %s\n", field, got ? got : "none");
    safeconv_string_free(got);
    return named;
}

/* The whole file into a buffer of exactly its size (no NUL added, so that reading past it is
 * a sanitizer error); NULL if it cannot be read. */
static unsigned char *read_file(const char *path, size_t *len_out) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    unsigned char *data = NULL;
    long size = fseek(file, 0, SEEK_END) == 0 ? ftell(file) : -1;
    if (size > 0 && fseek(file, 0, SEEK_SET) == 0 && (data = malloc((size_t)size)) != NULL &&
        fread(data, 1, (size_t)size, file) != (size_t)size) {
        free(data);
        data = NULL;
    }
    fclose(file);
    *len_out = data ? (size_t)size : 0;
    return data;
}

/* The test proxy, from SAFECONV_C_PROXY_URL and SAFECONV_C_PROXY_CREDENTIALS (USER:PASS). */
typedef struct {
    const char *url;                /* http://127.0.0.1:PORT */
    char user[64];
    const char *password;
    char url_with_credentials[256]; /* http://USER:PASS@127.0.0.1:PORT */
} test_proxy;

static bool find_proxy(test_proxy *proxy) {
    proxy->url = harness_env("SAFECONV_C_PROXY_URL");
    const char *both = harness_env("SAFECONV_C_PROXY_CREDENTIALS");
    const char *colon = both ? strchr(both, ':') : NULL;
    const char *scheme = "http://";
    if (!proxy->url || strncmp(proxy->url, scheme, strlen(scheme)) != 0 || !colon ||
        (size_t)(colon - both) >= sizeof proxy->user)
        return false;
    memcpy(proxy->user, both, (size_t)(colon - both));
    proxy->user[colon - both] = '\0';
    proxy->password = colon + 1;
    int n = snprintf(proxy->url_with_credentials, sizeof proxy->url_with_credentials,
                     "%s%s@%s", scheme, both, proxy->url + strlen(scheme));
    return n > 0 && (size_t)n < sizeof proxy->url_with_credentials;
}

static long tunnels_opened(const test_proxy *proxy) {
    return proxy_counter(proxy->url, "tunnelsOpened");
}

/* A config for the HTTPS emulator trusting its CA and going through `proxy` with `user` and
 * `password` (nothing bypasses it, whatever NO_PROXY says). */
static SafeconvConfig *proxied_config(const test_proxy *proxy, const char *user,
                                      const char *password) {
    const char *url = harness_env("SAFECONV_C_TLS_URL");
    const char *ca = harness_env("SAFECONV_C_TLS_CA");
    SafeconvConfig *config = url && ca ? config_for(url) : NULL;
    if (config && (safeconv_config_add_ca_file(config, ca) != SAFECONV_OK ||
                   safeconv_config_set_proxy(config, proxy->url) != SAFECONV_OK ||
                   safeconv_config_set_proxy_credentials(config, user, password) != SAFECONV_OK ||
                   safeconv_config_set_no_proxy(config, "") != SAFECONV_OK)) {
        safeconv_config_free(config);
        return NULL;
    }
    return config;
}

/* Environment variables the library reads when it makes a client (SSL_CERT_FILE, HTTPS_PROXY,
 * NO_PROXY). They are changed only on this thread while no client exists, and restored after
 * the client is freed: freeing the last client joins the library's threads, so nothing reads
 * the environment meanwhile (setenv is not thread-safe). */
typedef struct {
    const char *name;
    char *saved; /* the old value (a copy), or NULL if it was unset */
} env_change;

static env_change env_set(const char *name, const char *value) {
    const char *old = getenv(name);
    env_change change = {name, old ? strdup(old) : NULL};
    if (value) {
        setenv(name, value, 1);
    } else {
        unsetenv(name);
    }
    return change;
}

static void env_restore(env_change *change) {
    if (change->saved) {
        setenv(change->name, change->saved, 1);
    } else {
        unsetenv(change->name);
    }
    free(change->saved);
    change->saved = NULL;
}

/* The field that makes a client from a fresh emu_config() with `set_up` applied refuse. */
typedef bool (*set_up_fn)(SafeconvConfig *config);

static bool refused_with(set_up_fn set_up, const char *field, const char *says,
                         const char *never_says) {
    SafeconvConfig *config = emu_config();
    if (!config || !set_up(config)) {
        safeconv_config_free(config);
        return false;
    }
    SafeconvError *error = client_error(config);
    char *message = safeconv_error_message(error);
    bool ok = refused_naming(error, field) && message && (!says || strstr(message, says)) &&
              (!never_says || !strstr(message, never_says));
    if (!ok) fprintf(stderr, "    %s: %s\n", field, message ? message : "(no message)");
    safeconv_string_free(message);
    safeconv_error_free(error);
    return ok;
}

static bool bad_pem(SafeconvConfig *config) {
    static const char text[] = "not a certificate";
    return safeconv_config_add_ca_pem(config, (const uint8_t *)text, sizeof text - 1) ==
           SAFECONV_OK;
}
static bool missing_file(SafeconvConfig *config) {
    return safeconv_config_add_ca_file(config, "/nonexistent/bank-ca.pem") == SAFECONV_OK;
}
static bool added_only_without_a_ca(SafeconvConfig *config) {
    return safeconv_config_set_trust_roots(config, SAFECONV_TRUST_ROOTS_ADDED_ONLY) == SAFECONV_OK;
}
static bool socks_proxy(SafeconvConfig *config) {
    return safeconv_config_set_proxy(config, "socks5://127.0.0.1:1080") == SAFECONV_OK;
}
static bool proxy_url_with_a_path(SafeconvConfig *config) {
    return safeconv_config_set_proxy(config, "http://agent:" WRONG_PROXY_PASSWORD
                                             "@127.0.0.1:3128/path") == SAFECONV_OK;
}
static bool user_without_password(SafeconvConfig *config) {
    return safeconv_config_set_proxy(config, "http://127.0.0.1:3128") == SAFECONV_OK &&
           safeconv_config_set_proxy_credentials(config, "agent", NULL) == SAFECONV_OK;
}
static bool password_without_user(SafeconvConfig *config) {
    return safeconv_config_set_proxy(config, "http://127.0.0.1:3128") == SAFECONV_OK &&
           safeconv_config_set_proxy_credentials(config, NULL, WRONG_PROXY_PASSWORD) ==
               SAFECONV_OK;
}
static bool credentials_without_a_proxy(SafeconvConfig *config) {
    return safeconv_config_set_proxy_credentials(config, "agent", WRONG_PROXY_PASSWORD) ==
           SAFECONV_OK;
}
static bool no_proxy_without_a_proxy(SafeconvConfig *config) {
    return safeconv_config_set_no_proxy(config, "127.0.0.1") == SAFECONV_OK;
}
/* Credentials given twice, in the URL and apart. */
static bool credentials_twice(SafeconvConfig *config) {
    return safeconv_config_set_proxy(config, "http://agent:" WRONG_PROXY_PASSWORD
                                             "@127.0.0.1:3128") == SAFECONV_OK &&
           safeconv_config_set_proxy_credentials(config, "agent", WRONG_PROXY_PASSWORD) ==
               SAFECONV_OK;
}

void test_trust_and_proxy_settings_are_checked(void) {
    SafeconvConfig *config = emu_config();
    CHECK(config != NULL);
    /* Refused when set: numbers that are no choice, NULL, strings that are not UTF-8. */
    bool all = true;
    all &= safeconv_config_set_trust_roots(config, 4) == SAFECONV_INVALID_INPUT &&
           last_error_field_is("trust_roots");
    all &= safeconv_config_set_trust_roots(NULL, SAFECONV_TRUST_ROOTS_BUNDLED) ==
               SAFECONV_NULL_ARGUMENT &&
           last_error_field_is("config");
    all &= safeconv_config_add_ca_pem(config, NULL, 0) == SAFECONV_NULL_ARGUMENT &&
           last_error_field_is("pem");
    all &= safeconv_config_add_ca_pem(config, (const uint8_t *)"x", SIZE_MAX) ==
               SAFECONV_INVALID_INPUT &&
           last_error_field_is("pem");
    all &= safeconv_config_add_ca_file(config, NULL) == SAFECONV_NULL_ARGUMENT &&
           last_error_field_is("path");
    all &= safeconv_config_set_proxy(config, "http://\xff:3128") == SAFECONV_INVALID_UTF8 &&
           last_error_field_is("url");
    all &= safeconv_config_set_no_proxy(NULL, "") == SAFECONV_NULL_ARGUMENT;
    all &= safeconv_config_set_proxy_credentials(NULL, "a", "b") == SAFECONV_NULL_ARGUMENT;
    CHECK(all);
    /* Every choice, NULL for the system's proxy settings, and both credentials NULL (none)
     * are accepted; the defaults are complete. */
    all &= safeconv_config_set_trust_roots(config, SAFECONV_TRUST_ROOTS_ADDED_ONLY) == SAFECONV_OK;
    all &= safeconv_config_set_trust_roots(config, SAFECONV_TRUST_ROOTS_NATIVE) == SAFECONV_OK;
    all &= safeconv_config_set_trust_roots(config, SAFECONV_TRUST_ROOTS_BUNDLED) == SAFECONV_OK;
    all &= safeconv_config_set_proxy(config, "http://127.0.0.1:3128") == SAFECONV_OK;
    all &= safeconv_config_set_proxy(config, NULL) == SAFECONV_OK;
    all &= safeconv_config_set_proxy_credentials(config, NULL, NULL) == SAFECONV_OK;
    all &= safeconv_config_set_no_proxy(config, NULL) == SAFECONV_OK;
    CHECK(all);
    SafeconvError *none = client_error(config);
    CHECK(none == NULL);

    /* Checked by safeconv_client_new, naming the field, never repeating a password. */
    CHECK(refused_with(bad_pem, "ca_pem", "no certificate found", NULL));
    CHECK(refused_with(missing_file, "ca_file", "/nonexistent/bank-ca.pem", NULL));
    CHECK(refused_with(added_only_without_a_ca, "trust_roots", "at least one CA", NULL));
    CHECK(refused_with(socks_proxy, "proxy_url", "http://", NULL));
    CHECK(refused_with(proxy_url_with_a_path, "proxy_url", "scheme, host and port",
                       WRONG_PROXY_PASSWORD));
    CHECK(refused_with(user_without_password, "proxy_password", NULL, NULL));
    CHECK(refused_with(password_without_user, "proxy_username", NULL, WRONG_PROXY_PASSWORD));
    CHECK(refused_with(credentials_without_a_proxy, "proxy_credentials", NULL,
                       WRONG_PROXY_PASSWORD));
    CHECK(refused_with(no_proxy_without_a_proxy, "no_proxy", "NO_PROXY", NULL));
    CHECK(refused_with(credentials_twice, "proxy_url", "give them once", WRONG_PROXY_PASSWORD));
}

void test_https_with_the_test_ca(void) {
    const char *url = harness_env("SAFECONV_C_TLS_URL");
    const char *ca = harness_env("SAFECONV_C_TLS_CA");
    CHECK(url && ca);
    CHECK(strncmp(url, "https://", 8) == 0);
    /* The CA from its file. */
    SafeconvConfig *config = config_for(url);
    CHECK(config != NULL);
    CHECK_OK(safeconv_config_add_ca_file(config, ca));
    CHECK(verify_with(config, NULL) == SAFECONV_OK);

    /* The same CA from memory: beside the bundled roots, and as the only one trusted. */
    size_t len = 0;
    unsigned char *pem = read_file(ca, &len);
    CHECK(pem != NULL);
    config = config_for(url);
    bool set = config && safeconv_config_add_ca_pem(config, pem, len) == SAFECONV_OK;
    int beside = set ? verify_with(config, NULL) : -2;
    config = config_for(url);
    set = config && safeconv_config_add_ca_pem(config, pem, len) == SAFECONV_OK &&
          safeconv_config_set_trust_roots(config, SAFECONV_TRUST_ROOTS_ADDED_ONLY) == SAFECONV_OK;
    int alone = set ? verify_with(config, NULL) : -2;
    free(pem);
    CHECK(beside == SAFECONV_OK);
    CHECK(alone == SAFECONV_OK);
}

void test_https_with_the_operating_systems_store(void) {
    const char *url = harness_env("SAFECONV_C_TLS_URL");
    const char *ca = harness_env("SAFECONV_C_TLS_CA");
    CHECK(url && ca);
    /* As if IT had installed the test CA on this machine: on Linux the store is the system
     * bundle, which SSL_CERT_FILE (and SSL_CERT_DIR) replace. */
    env_change file = env_set("SSL_CERT_FILE", ca);
    env_change dir = env_set("SSL_CERT_DIR", NULL);
    SafeconvConfig *config = config_for(url);
    bool set = config &&
               safeconv_config_set_trust_roots(config, SAFECONV_TRUST_ROOTS_NATIVE) == SAFECONV_OK;
    int native = set ? verify_with(config, NULL) : -2;
    config = config_for(url);
    set = config && safeconv_config_set_trust_roots(
                        config, SAFECONV_TRUST_ROOTS_BUNDLED_AND_NATIVE) == SAFECONV_OK;
    int both = set ? verify_with(config, NULL) : -2;
    env_restore(&dir);
    env_restore(&file);
    CHECK(native == SAFECONV_OK);
    CHECK(both == SAFECONV_OK);
}

void test_https_without_the_ca_is_an_unknown_issuer(void) {
    const char *url = harness_env("SAFECONV_C_TLS_URL");
    CHECK(url != NULL);
    SafeconvError *error = NULL;
    int result = verify_with(config_for(url), &error);
    bool named = error_is(error, SAFECONV_TRANSPORT_TLS, "tls", false, "unknown issuer") &&
                 message_has(error, "127.0.0.1");
    safeconv_error_free(error);
    CHECK(result == SAFECONV_TRANSPORT_TLS);
    CHECK(named);
    CHECK(strcmp(safeconv_result_name(SAFECONV_TRANSPORT_TLS), "SAFECONV_TRANSPORT_TLS") == 0);

    /* The same error reaches a completion callback. */
    SafeconvConfig *config = config_for(url);
    SafeconvClient *client = NULL;
    CHECK(config != NULL);
    SafeconvResult made = safeconv_client_new(config, &client);
    safeconv_config_free(config);
    CHECK(made == SAFECONV_OK);
    waiter_t w;
    waiter_init(&w);
    SafeconvOperationId op = 0;
    SafeconvResult started = safeconv_start_async(client, APPROVER, NULL, on_session_done, &w, &op);
    bool done = started == SAFECONV_OK && waiter_wait(&w, 1, time_bound_ms(10000));
    safeconv_client_free(client);
    bool same = done && w.result == SAFECONV_TRANSPORT_TLS && w.tls_result == SAFECONV_TRANSPORT_TLS &&
                w.session == NULL &&
                error_is(w.error, SAFECONV_TRANSPORT_TLS, "tls", false, "unknown issuer");
    waiter_destroy(&w);
    CHECK(started == SAFECONV_OK);
    CHECK(done);
    CHECK(same);
}

/* The emulator whose certificate has a defect (SAFECONV_C_<WHICH>_URL and _CA) refused, even
 * though its CA is trusted, with a message saying what is wrong. */
static bool refused_certificate(const char *url_variable, const char *ca_variable,
                                const char *says) {
    const char *url = harness_env(url_variable);
    const char *ca = harness_env(ca_variable);
    SafeconvConfig *config = url && ca ? config_for(url) : NULL;
    if (!config || safeconv_config_add_ca_file(config, ca) != SAFECONV_OK) {
        safeconv_config_free(config);
        return false;
    }
    SafeconvError *error = NULL;
    int result = verify_with(config, &error);
    bool named = result == SAFECONV_TRANSPORT_TLS &&
                 error_is(error, SAFECONV_TRANSPORT_TLS, "tls", false, says);
    safeconv_error_free(error);
    return named;
}

void test_https_certificate_for_another_host_is_refused(void) {
    CHECK(refused_certificate("SAFECONV_C_OTHER_HOST_URL", "SAFECONV_C_OTHER_HOST_CA",
                              "is not valid for that host name"));
}

void test_https_expired_certificate_is_refused(void) {
    CHECK(refused_certificate("SAFECONV_C_EXPIRED_URL", "SAFECONV_C_EXPIRED_CA", "has expired"));
}

void test_https_through_the_proxy(void) {
    test_proxy proxy;
    CHECK(find_proxy(&proxy));
    long before = tunnels_opened(&proxy);
    CHECK(before >= 0);
    CHECK(verify_with(proxied_config(&proxy, proxy.user, proxy.password), NULL) == SAFECONV_OK);
    long after = tunnels_opened(&proxy);
    CHECK(after > before);

    /* The credentials in the URL instead. */
    SafeconvConfig *config = proxied_config(&proxy, NULL, NULL);
    CHECK(config != NULL);
    CHECK_OK(safeconv_config_set_proxy(config, proxy.url_with_credentials));
    CHECK(verify_with(config, NULL) == SAFECONV_OK);
    CHECK(tunnels_opened(&proxy) > after);
}

/* Log records, to prove that no password reaches them. */
typedef struct {
    pthread_mutex_t mutex;
    int records;
    bool password_seen;
    const char *passwords[2];
} password_watch;

static bool holds_a_password(const password_watch *watch, const char *text) {
    for (size_t i = 0; i < 2; i++) {
        if (text && watch->passwords[i] && strstr(text, watch->passwords[i])) return true;
    }
    return false;
}

static void watch_record(void *user_data, const SafeconvLogRecord *record) {
    password_watch *watch = user_data;
    pthread_mutex_lock(&watch->mutex);
    watch->records++;
    watch->password_seen |= holds_a_password(watch, record->message);
    for (size_t i = 0; i < record->field_count; i++) {
        watch->password_seen |= holds_a_password(watch, record->fields[i].value);
    }
    pthread_mutex_unlock(&watch->mutex);
}

static password_watch proxy_log = {.mutex = PTHREAD_MUTEX_INITIALIZER};

void test_wrong_proxy_credentials_name_the_proxy(void) {
    test_proxy proxy;
    CHECK(find_proxy(&proxy));
    const char *user = proxy.user, *password = proxy.password;
    proxy_log.records = 0;
    proxy_log.password_seen = false;
    proxy_log.passwords[0] = password;
    proxy_log.passwords[1] = WRONG_PROXY_PASSWORD;
    CHECK_OK(safeconv_set_log_callback(watch_record, &proxy_log, NULL, SAFECONV_LOG_TRACE));
    long refusals = proxy_counter(proxy.url, "authFailures");

    SafeconvError *wrong = NULL, *missing = NULL, *unreachable = NULL;
    int with_wrong = verify_with(proxied_config(&proxy, user, WRONG_PROXY_PASSWORD), &wrong);
    int without = verify_with(proxied_config(&proxy, NULL, NULL), &missing);
    /* A proxy that is not there is a connection failure (transient), naming it. */
    SafeconvConfig *config = proxied_config(&proxy, user, WRONG_PROXY_PASSWORD);
    bool set = config && safeconv_config_set_proxy(config, "http://127.0.0.1:1") == SAFECONV_OK;
    int nowhere = set ? verify_with(config, &unreachable) : -2;
    /* And the right credentials: the flow logs what it does. */
    int right = verify_with(proxied_config(&proxy, user, password), NULL);
    safeconv_set_log_callback(NULL, NULL, NULL, 0);

    bool wrong_named = error_is(wrong, SAFECONV_TRANSPORT_PROXY, "proxy", false, proxy.url) &&
                       message_has(wrong, "407") && !message_has(wrong, WRONG_PROXY_PASSWORD) &&
                       !message_has(wrong, password);
    bool missing_named = error_is(missing, SAFECONV_TRANSPORT_PROXY, "proxy", false, proxy.url) &&
                         message_has(missing, "407");
    bool unreachable_named =
        error_is(unreachable, SAFECONV_TRANSPORT_CONNECT, "connect", true,
                 "the proxy http://127.0.0.1:1") &&
        !message_has(unreachable, WRONG_PROXY_PASSWORD);
    safeconv_error_free(wrong);
    safeconv_error_free(missing);
    safeconv_error_free(unreachable);
    CHECK(with_wrong == SAFECONV_TRANSPORT_PROXY && wrong_named);
    CHECK(without == SAFECONV_TRANSPORT_PROXY && missing_named);
    CHECK(nowhere == SAFECONV_TRANSPORT_CONNECT && unreachable_named);
    CHECK(right == SAFECONV_OK);
    CHECK(proxy_counter(proxy.url, "authFailures") >= refusals + 2);
    CHECK(strcmp(safeconv_result_name(SAFECONV_TRANSPORT_PROXY), "SAFECONV_TRANSPORT_PROXY") == 0);
    CHECK(proxy_log.records > 0);
    CHECK(!proxy_log.password_seen);
}

void test_no_proxy_bypasses_the_proxy(void) {
    test_proxy proxy;
    CHECK(find_proxy(&proxy));
    long before = tunnels_opened(&proxy);
    CHECK(before >= 0);

    /* Named in the config: the request goes straight to the emulator. */
    SafeconvConfig *config = proxied_config(&proxy, proxy.user, proxy.password);
    bool set = config && safeconv_config_set_no_proxy(config, "127.0.0.1") == SAFECONV_OK;
    int bypassed = set ? verify_with(config, NULL) : -2;
    long after_config = tunnels_opened(&proxy);

    /* From NO_PROXY, which applies unless the config names its own list ("" for none). */
    env_change no_proxy = env_set("NO_PROXY", "127.0.0.1");
    env_change lower = env_set("no_proxy", NULL);
    config = proxied_config(&proxy, proxy.user, proxy.password);
    set = config && safeconv_config_set_no_proxy(config, NULL) == SAFECONV_OK;
    int from_variable = set ? verify_with(config, NULL) : -2;
    long after_variable = tunnels_opened(&proxy);
    int own_list = verify_with(proxied_config(&proxy, proxy.user, proxy.password), NULL);
    env_restore(&lower);
    env_restore(&no_proxy);
    long after_own_list = tunnels_opened(&proxy);

    CHECK(bypassed == SAFECONV_OK);
    CHECK(after_config == before);
    CHECK(from_variable == SAFECONV_OK);
    CHECK(after_variable == before);
    CHECK(own_list == SAFECONV_OK);
    CHECK(after_own_list > before);
}

void test_the_system_proxy_variables_by_default(void) {
    const char *url = harness_env("SAFECONV_C_TLS_URL");
    const char *ca = harness_env("SAFECONV_C_TLS_CA");
    test_proxy proxy;
    CHECK(url && ca && find_proxy(&proxy));
    long before = tunnels_opened(&proxy);
    CHECK(before >= 0);

    /* No proxy in the config (NULL, as by default): HTTPS_PROXY applies. */
    env_change https_proxy = env_set("HTTPS_PROXY", proxy.url_with_credentials);
    env_change no_proxy = env_set("NO_PROXY", NULL);
    env_change lower = env_set("no_proxy", NULL);
    SafeconvConfig *config = config_for(url);
    bool set = config && safeconv_config_add_ca_file(config, ca) == SAFECONV_OK &&
               safeconv_config_set_proxy(config, "http://127.0.0.1:1") == SAFECONV_OK &&
               safeconv_config_set_proxy(config, NULL) == SAFECONV_OK;
    int system = set ? verify_with(config, NULL) : -2;
    env_restore(&lower);
    env_restore(&no_proxy);
    env_restore(&https_proxy);
    CHECK(system == SAFECONV_OK);
    CHECK(tunnels_opened(&proxy) > before);
}
