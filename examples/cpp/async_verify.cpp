// async_verify: verifies one caller with the asynchronous C API from C++17.
//
//   async_verify NIN
//
// Starts a Safe Conversation without blocking, chains the wait from the start's completion
// callback, prints status changes as they come (on the library's threads), and hands the
// outcome back to main through a std::promise. Handles are held in std::unique_ptr with the
// library's *_free functions, so every path frees what it owns.
//
// Configuration as for examples/c/agent_console.c (SAFECONV_EMULATOR_URL, or SAFECONV_BASE_URL,
// SAFECONV_ACCOUNT_ID, SAFECONV_CLIENT_ID, SAFECONV_CLIENT_SECRET).
//
// Build: c++ -std=c++17 async_verify.cpp $(pkg-config --cflags --libs safeconv) -o async_verify

#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "safeconv.h"

namespace {

struct Free {
    void operator()(SafeconvClient *p) const { safeconv_client_free(p); }
    void operator()(SafeconvConfig *p) const { safeconv_config_free(p); }
    void operator()(SafeconvSession *p) const { safeconv_session_free(p); }
    void operator()(SafeconvOutcome *p) const { safeconv_outcome_free(p); }
    void operator()(SafeconvSubject *p) const { safeconv_subject_free(p); }
    void operator()(SafeconvError *p) const { safeconv_error_free(p); }
    void operator()(char *p) const { safeconv_string_free(p); }
};
template <typename T> using Owned = std::unique_ptr<T, Free>;

// A library string as std::string (empty for NULL), freed at once.
std::string take(char *owned) {
    Owned<char> guard(owned);
    return owned ? std::string(owned) : std::string();
}

std::string describe(const SafeconvError *error) {
    const char *name = safeconv_result_name(safeconv_error_result(error));
    return std::string(name ? name : "?") + ": " + take(safeconv_error_message(error));
}

// What the callbacks need; lives in main until the outcome arrives.
struct Verification {
    const SafeconvClient *client = nullptr;
    std::promise<Owned<SafeconvOutcome>> outcome;
};

void on_status(void *, const SafeconvSession *session) {
    const char *name = safeconv_status_name(safeconv_session_status(session));
    std::printf("  status: %s\n", name ? name : "?");
    std::fflush(stdout);
}

void on_wait_done(void *user_data, SafeconvResult result, SafeconvOutcome *outcome,
                  const SafeconvError *error) {
    auto *v = static_cast<Verification *>(user_data);
    if (result == SAFECONV_OK) {
        v->outcome.set_value(Owned<SafeconvOutcome>(outcome));
    } else {
        v->outcome.set_exception(std::make_exception_ptr(std::runtime_error(describe(error))));
    }
}

void on_started(void *user_data, SafeconvResult result, SafeconvSession *session,
                const SafeconvError *error) {
    auto *v = static_cast<Verification *>(user_data);
    Owned<SafeconvSession> owned(session);
    if (result != SAFECONV_OK) {
        v->outcome.set_exception(std::make_exception_ptr(std::runtime_error(describe(error))));
        return;
    }
    std::printf("Read this to the caller: \"%s\"\n",
                take(safeconv_session_binding_message(session)).c_str());
    std::fflush(stdout);
    // Asynchronous calls are allowed inside callbacks (blocking ones are not).
    if (safeconv_wait_async(v->client, session, 0, on_status, on_wait_done, v, nullptr) !=
        SAFECONV_OK) {
        Owned<SafeconvError> last(safeconv_last_error());
        v->outcome.set_exception(std::make_exception_ptr(std::runtime_error(describe(last.get()))));
    }
}

const char *env(const char *name, const char *fallback) {
    const char *value = std::getenv(name);
    return value ? value : fallback;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: async_verify NIN\n";
        return 2;
    }
    const char *emulator = std::getenv("SAFECONV_EMULATOR_URL");
    Owned<SafeconvConfig> config(safeconv_config_new());
    const char *base = env("SAFECONV_BASE_URL", emulator);
    bool configured =
        (!base || safeconv_config_set_base_url(config.get(), base) == SAFECONV_OK) &&
        safeconv_config_set_account_id(
            config.get(), env("SAFECONV_ACCOUNT_ID", emulator ? "a-spge-emulator" : "")) == SAFECONV_OK &&
        safeconv_config_set_client_credentials(
            config.get(), env("SAFECONV_CLIENT_ID", emulator ? "safeconv-demo-client" : ""),
            env("SAFECONV_CLIENT_SECRET", emulator ? "safeconv-demo-secret" : "")) == SAFECONV_OK &&
        (!emulator || safeconv_config_set_poll_interval_ms(config.get(), 250) == SAFECONV_OK);
    // Declared before the client, so it outlives it: freeing the client waits for every
    // callback to return, and they use this.
    Verification verification;
    SafeconvClient *raw_client = nullptr;
    if (!configured || safeconv_client_new(config.get(), &raw_client) != SAFECONV_OK) {
        Owned<SafeconvError> last(safeconv_last_error());
        std::cerr << "cannot create the client: " << describe(last.get()) << "\n";
        return 1;
    }
    Owned<SafeconvClient> client(raw_client);
    config.reset();  // the client keeps its own copy

    verification.client = client.get();
    auto outcome_future = verification.outcome.get_future();
    if (safeconv_start_async(client.get(), argv[1], nullptr, on_started, &verification, nullptr) !=
        SAFECONV_OK) {
        Owned<SafeconvError> last(safeconv_last_error());
        std::cerr << "cannot start: " << describe(last.get()) << "\n";
        return 1;
    }

    try {
        Owned<SafeconvOutcome> outcome = outcome_future.get();
        if (safeconv_outcome_is_success(outcome.get())) {
            Owned<SafeconvSubject> subject(safeconv_outcome_subject(outcome.get()));
            std::cout << "VERIFIED: " << take(safeconv_subject_name(subject.get())) << ", born "
                      << take(safeconv_subject_date_of_birth(subject.get())) << "\n";
            return 0;
        }
        const char *status = safeconv_status_name(safeconv_outcome_status(outcome.get()));
        std::cout << "NOT VERIFIED: " << (status ? status : "?") << "\n";
        return 3;
    } catch (const std::exception &e) {
        std::cerr << "failed: " << e.what() << "\n";
        return 1;
    }
}
