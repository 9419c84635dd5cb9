// Compiles include/safeconv.h as C++17 (-Wall -Wextra -Werror -pedantic) and checks that the
// types behave in C++ as documented: fixed-size enums with their stable numbers, opaque
// handles, callbacks assignable from plain functions, and a call through the library.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <type_traits>

#include "safeconv.h"

static_assert(sizeof(SafeconvResult) == sizeof(uint32_t), "results are 32-bit");
static_assert(std::is_same<std::underlying_type<SafeconvStatus>::type, uint32_t>::value,
              "statuses are uint32_t");
static_assert(SAFECONV_OK == 0 && SAFECONV_PROTOCOL == 8 && SAFECONV_NULL_ARGUMENT == 100 &&
                  SAFECONV_INVALID_UTF8 == 101 && SAFECONV_PANIC == 102,
              "stable result numbers");
static_assert(SAFECONV_TRANSPORT_TLS == 9 && SAFECONV_TRANSPORT_PROXY == 10,
              "TLS and proxy failures have numbers of their own");
static_assert(std::is_same<std::underlying_type<SafeconvTrustRoots>::type, uint32_t>::value &&
                  SAFECONV_TRUST_ROOTS_BUNDLED == 0 && SAFECONV_TRUST_ROOTS_ADDED_ONLY == 3,
              "trust roots are uint32_t with stable numbers");
static_assert(SAFECONV_STATUS_SUCCESS == 3 && SAFECONV_STATUS_INVALID == 8, "stable statuses");
static_assert(std::is_same<SafeconvOperationId, uint64_t>::value, "operation ids are 64-bit");
static_assert(std::is_same<std::underlying_type<SafeconvLogLevel>::type, uint32_t>::value &&
                  SAFECONV_LOG_ERROR == 1 && SAFECONV_LOG_TRACE == 5,
              "log levels are uint32_t with stable numbers");

static void status_cb(void *, const SafeconvSession *) {}
static void outcome_cb(void *, SafeconvResult, SafeconvOutcome *outcome, const SafeconvError *) {
    safeconv_outcome_free(outcome);
}
static void token_cb(void *, SafeconvTokenRequest *request) {
    safeconv_token_request_set_error(request, "none", nullptr);
}
static void log_cb(void *, const SafeconvLogRecord *record) {
    std::fprintf(stderr, "%s %s\n", safeconv_log_level_name(record->level), record->message);
}

int main() {
    SafeconvStatusCallback s = status_cb;
    SafeconvOutcomeCallback o = outcome_cb;
    SafeconvTokenCallback t = token_cb;
    SafeconvLogCallback l = log_cb;
    (void)s;
    (void)o;

    std::unique_ptr<SafeconvConfig, decltype(&safeconv_config_free)> config(safeconv_config_new(),
                                                                           safeconv_config_free);
    bool ok = config && safeconv_config_set_token_callback(config.get(), t, nullptr, nullptr) ==
                            SAFECONV_OK;
    static const char pem[] = "-----BEGIN CERTIFICATE-----";
    ok = ok &&
         safeconv_config_set_trust_roots(config.get(), SAFECONV_TRUST_ROOTS_BUNDLED_AND_NATIVE) ==
             SAFECONV_OK &&
         safeconv_config_add_ca_pem(config.get(), reinterpret_cast<const uint8_t *>(pem),
                                    sizeof pem - 1) == SAFECONV_OK;
    SafeconvNinKind kind = SAFECONV_NIN_KIND_NONE;
    ok = ok && safeconv_nin_check("01018010018", 0, &kind, nullptr) == SAFECONV_OK &&
         kind == SAFECONV_NIN_KIND_BIRTH_NUMBER &&
         std::strcmp(safeconv_nin_kind_code(kind), "fnr") == 0 &&
         safeconv_abi_version() == SAFECONV_ABI_VERSION &&
         safeconv_set_log_callback(l, nullptr, nullptr, SAFECONV_LOG_WARN) == SAFECONV_OK &&
         safeconv_set_log_callback(nullptr, nullptr, nullptr, 0) == SAFECONV_OK;
    std::printf("%s - the header as C++17\n", ok ? "ok" : "not ok");
    std::printf("%d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}
