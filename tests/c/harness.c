#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- failures ---- */

static bool current_failed;
static pthread_t main_thread;

void harness_begin_test(void);
void harness_begin_test(void) {
    current_failed = false;
}

bool test_failed(void) {
    return current_failed;
}

static void print_last_error(void) {
    char *message = safeconv_last_error_message();
    if (message) {
        fprintf(stderr, "        last error: %s (%s)\n", message,
                safeconv_result_name(safeconv_last_error_result()));
        safeconv_string_free(message);
    }
}

void test_fail(const char *file, int line, const char *what) {
    current_failed = true;
    fprintf(stderr, "    FAILED %s:%d: %s\n", file, line, what);
    print_last_error();
}

void check_result_fail(const char *file, int line, const char *expr, SafeconvResult got,
                       SafeconvResult expected) {
    current_failed = true;
    const char *got_name = safeconv_result_name(got);
    const char *expected_name = safeconv_result_name(expected);
    fprintf(stderr, "    FAILED %s:%d: %s\n        returned %s, expected %s\n", file, line, expr,
            got_name ? got_name : "?", expected_name ? expected_name : "?");
    print_last_error();
}

bool check_str_eq(const char *file, int line, const char *expr, char *owned, const char *expected) {
    bool same = (owned == NULL && expected == NULL) ||
                (owned != NULL && expected != NULL && strcmp(owned, expected) == 0);
    if (!same) {
        current_failed = true;
        fprintf(stderr, "    FAILED %s:%d: %s\n        got \"%s\", expected \"%s\"\n", file, line,
                expr, owned ? owned : "(NULL)", expected ? expected : "(NULL)");
    }
    safeconv_string_free(owned);
    return same;
}

bool last_error_field_is(const char *field) {
    SafeconvError *error = safeconv_last_error();
    char *got = safeconv_error_field(error);
    bool same = got && strcmp(got, field) == 0;
    safeconv_string_free(got);
    safeconv_error_free(error);
    return same;
}

bool on_main_thread(void) {
    return pthread_equal(pthread_self(), main_thread) != 0;
}

void harness_set_main_thread(void);
void harness_set_main_thread(void) {
    main_thread = pthread_self();
}

int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int64_t time_bound_ms(int64_t ms) {
    const char *scale = getenv("SAFECONV_C_TIME_SCALE");
    long factor = scale ? strtol(scale, NULL, 10) : 1;
    return ms * (factor > 0 ? factor : 1);
}

/* ---- the emulator ---- */

const char *emulator_url(void) {
    const char *url = getenv("SAFECONV_EMULATOR_URL");
    return url ? url : "http://127.0.0.1:8080";
}

static int url_port(const char *url) {
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : 0;
}

/* A plain HTTP/1.1 request to 127.0.0.1:port; see emu_request. */
static int loopback_request(int port, const char *method, const char *path,
                            const char *content_type, const char *body, char *body_out,
                            size_t body_out_len) {
    if (body_out && body_out_len) body_out[0] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return 0;
    }
    size_t body_len = body ? strlen(body) : 0;
    char head[512];
    int head_len = snprintf(head, sizeof head,
                            "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                            method, path, content_type ? content_type : "application/json",
                            body_len);
    if (head_len <= 0 || (size_t)head_len >= sizeof head ||
        write(fd, head, (size_t)head_len) != head_len ||
        (body_len && write(fd, body, body_len) != (ssize_t)body_len)) {
        close(fd);
        return 0;
    }
    char response[16384];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, response + got, sizeof response - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (got == sizeof response - 1) break;
    }
    close(fd);
    response[got] = '\0';
    int status = 0;
    if (sscanf(response, "HTTP/1.%*d %d", &status) != 1) return 0;
    const char *payload = strstr(response, "\r\n\r\n");
    if (payload && body_out && body_out_len) {
        snprintf(body_out, body_out_len, "%s", payload + 4);
    }
    return status;
}

int emu_request(const char *method, const char *path, const char *content_type, const char *body,
                char *body_out, size_t body_out_len) {
    return loopback_request(url_port(emulator_url()), method, path, content_type, body, body_out,
                            body_out_len);
}

/* The number after "key": in JSON; -1 if absent. */
static long json_number(const char *json, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(json, pattern);
    return at ? strtol(at + strlen(pattern), NULL, 10) : -1;
}

bool json_string(const char *json, const char *key, char *out, size_t out_len) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *start = strstr(json, pattern);
    if (!start) return false;
    start += strlen(pattern);
    const char *end = strchr(start, '"');
    if (!end || (size_t)(end - start) >= out_len) return false;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return true;
}

bool emu_session_status(const char *session_id, char *out, size_t out_len) {
    char path[512], body[4096];
    snprintf(path, sizeof path, "/emulator/sessions/%s", session_id);
    if (emu_request("GET", path, NULL, NULL, body, sizeof body) != 200) return false;
    return json_string(body, "status", out, out_len);
}

bool emu_set_user(const char *nin, const char *behaviour_json) {
    char path[128];
    snprintf(path, sizeof path, "/emulator/users/%s", nin);
    return emu_request("PUT", path, NULL, behaviour_json, NULL, 0) == 200;
}

bool emu_inject_times(const char *endpoint, const char *fault_json, int times) {
    char body[512];
    snprintf(body, sizeof body, "{\"endpoint\":\"%s\",\"fault\":%s,\"times\":%d}", endpoint,
             fault_json, times);
    return emu_request("POST", "/emulator/faults", NULL, body, NULL, 0) == 200;
}

bool emu_inject(const char *endpoint, const char *fault_json) {
    return emu_inject_times(endpoint, fault_json, 1);
}

bool emu_clear_faults(void) {
    return emu_request("DELETE", "/emulator/faults", NULL, NULL, NULL, 0) == 200;
}

long emu_counter(const char *name) {
    char body[2048];
    if (emu_request("GET", "/emulator/counters", NULL, NULL, body, sizeof body) != 200) return -1;
    return json_number(body, name);
}

long proxy_counter(const char *proxy_url, const char *name) {
    char body[2048];
    if (loopback_request(url_port(proxy_url), "GET", "/proxy/counters", NULL, NULL, body,
                         sizeof body) != 200)
        return -1;
    return json_number(body, name);
}

const char *harness_env(const char *name) {
    const char *value = getenv(name);
    if (!value || !*value) {
        fprintf(stderr, "    %s is not set: scripts/test-c.sh starts the emulators these tests "
                        "need and sets it\n", name);
        return NULL;
    }
    return value;
}

bool emu_fetch_token(char *out, size_t out_len) {
    char body[4096];
    int status = emu_request("POST", "/auth/open/connect/token", "application/x-www-form-urlencoded",
                             "grant_type=client_credentials&scope=signicat-api&client_id=" EMU_CLIENT_ID
                             "&client_secret=" EMU_CLIENT_SECRET,
                             body, sizeof body);
    return status == 200 && json_string(body, "access_token", out, out_len);
}

bool harness_setup_emulator(void);
bool harness_setup_emulator(void) {
    return emu_request("PUT", "/emulator/config", NULL, "{\"minSessionLifetimeSecs\":1}", NULL, 0) ==
               200 &&
           emu_clear_faults() && emu_set_user(APPROVER, "{\"behaviour\":\"approve\",\"afterMs\":300}") &&
           emu_set_user(DECLINER, "{\"behaviour\":\"decline\",\"afterMs\":300}") &&
           emu_set_user(FAILER,
                        "{\"behaviour\":\"fail\",\"afterMs\":300,\"code\":\"authentication_failed\"}") &&
           emu_set_user(SILENT, "{\"behaviour\":\"never-answer\"}") &&
           emu_set_user(NO_APP, "{\"behaviour\":\"no-app\"}") &&
           emu_set_user(SLOW_APPROVER, "{\"behaviour\":\"approve\",\"afterMs\":1200}");
}

/* ---- clients ---- */

SafeconvConfig *emu_config(void) {
    SafeconvConfig *config = safeconv_config_new();
    if (!config) return NULL;
    if (safeconv_config_set_base_url(config, emulator_url()) != SAFECONV_OK ||
        safeconv_config_set_account_id(config, EMU_ACCOUNT_ID) != SAFECONV_OK ||
        safeconv_config_set_client_credentials(config, EMU_CLIENT_ID, EMU_CLIENT_SECRET) !=
            SAFECONV_OK ||
        safeconv_config_set_poll_interval_ms(config, 50) != SAFECONV_OK ||
        safeconv_config_set_request_timeout_ms(config, 2000) != SAFECONV_OK ||
        safeconv_config_set_nin_rules(config, SAFECONV_NIN_ALLOW_SYNTHETIC) != SAFECONV_OK) {
        safeconv_config_free(config);
        return NULL;
    }
    return config;
}

SafeconvClient *emu_client(void) {
    SafeconvConfig *config = emu_config();
    SafeconvClient *client = NULL;
    if (!config) {
        test_fail(__FILE__, __LINE__, "emu_config()");
        return NULL;
    }
    if (safeconv_client_new(config, &client) != SAFECONV_OK) {
        test_fail(__FILE__, __LINE__, "safeconv_client_new");
        client = NULL;
    }
    safeconv_config_free(config);
    return client;
}

/* One whole session before the tests, so that one-time costs (Valgrind translating code on
 * first use, lazy initialisation) do not distort the first timed test. */
bool harness_warm_up(void);
bool harness_warm_up(void) {
    SafeconvConfig *config = emu_config();
    SafeconvClient *client = NULL;
    SafeconvSession *session = NULL;
    SafeconvOutcome *outcome = NULL;
    bool ok = config && safeconv_client_new(config, &client) == SAFECONV_OK &&
              safeconv_start(client, APPROVER, NULL, &session) == SAFECONV_OK &&
              safeconv_wait(client, session, 0, NULL, NULL, &outcome) == SAFECONV_OK &&
              safeconv_outcome_is_success(outcome);
    safeconv_outcome_free(outcome);
    safeconv_session_free(session);
    safeconv_client_free(client);
    safeconv_config_free(config);
    return ok;
}

/* ---- async completions ---- */

void waiter_init(waiter_t *w) {
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mutex, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->result = SAFECONV_PANIC;
}

void waiter_destroy(waiter_t *w) {
    safeconv_session_free(w->session);
    safeconv_outcome_free(w->outcome);
    safeconv_error_free(w->error);
    pthread_mutex_destroy(&w->mutex);
    pthread_cond_destroy(&w->cond);
}

bool waiter_wait(waiter_t *w, int count, int64_t timeout_ms) {
    int64_t deadline = now_ms() + timeout_ms;
    pthread_mutex_lock(&w->mutex);
    while (w->completions < count) {
        int64_t left = deadline - now_ms();
        if (left <= 0) break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t step = left < 100 ? left : 100;
        until.tv_nsec += (long)(step * 1000000);
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&w->cond, &w->mutex, &until);
    }
    bool done = w->completions >= count;
    pthread_mutex_unlock(&w->mutex);
    return done;
}

int waiter_completions(waiter_t *w) {
    pthread_mutex_lock(&w->mutex);
    int n = w->completions;
    pthread_mutex_unlock(&w->mutex);
    return n;
}

static void record_completion(waiter_t *w, SafeconvResult result, const SafeconvError *error) {
    w->result = result;
    w->tls_result = safeconv_last_error_result();
    w->done_on_main_thread = on_main_thread();
    if (error) {
        safeconv_error_free(w->error);
        w->error = safeconv_error_clone(error);
    }
    w->completions++;
    pthread_cond_broadcast(&w->cond);
}

void on_session_done(void *user_data, SafeconvResult result, SafeconvSession *session,
                     const SafeconvError *error) {
    waiter_t *w = user_data;
    pthread_mutex_lock(&w->mutex);
    safeconv_session_free(w->session);
    w->session = session;
    record_completion(w, result, error);
    pthread_mutex_unlock(&w->mutex);
}

void on_outcome_done(void *user_data, SafeconvResult result, SafeconvOutcome *outcome,
                     const SafeconvError *error) {
    waiter_t *w = user_data;
    pthread_mutex_lock(&w->mutex);
    safeconv_outcome_free(w->outcome);
    w->outcome = outcome;
    record_completion(w, result, error);
    pthread_mutex_unlock(&w->mutex);
}

void on_status_change(void *user_data, const SafeconvSession *session) {
    waiter_t *w = user_data;
    pthread_mutex_lock(&w->mutex);
    if (w->status_count < MAX_STATUSES) {
        w->statuses[w->status_count++] = (int)safeconv_session_status(session);
    }
    if (on_main_thread()) w->status_on_main_thread = true;
    pthread_mutex_unlock(&w->mutex);
}
