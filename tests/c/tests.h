/* Every test of the suite, in the order they run. */
#ifndef SAFECONV_TESTS_H
#define SAFECONV_TESTS_H

#define ALL_TESTS                                    \
    X(test_version_and_names)                        \
    X(test_nin_check_kinds_and_reasons)              \
    X(test_null_arguments)                           \
    X(test_invalid_utf8_arguments)                   \
    X(test_config_errors_name_the_field)             \
    X(test_last_error_is_per_thread)                 \
    X(test_happy_path_blocking)                      \
    X(test_every_final_status)                       \
    X(test_get_and_double_cancel_blocking)           \
    X(test_cancel_from_another_thread_ends_a_wait)   \
    X(test_start_options)                            \
    X(test_server_and_transport_errors)              \
    X(test_invalid_nin_is_refused_before_sending)    \
    X(test_async_happy_path_on_worker_threads)       \
    X(test_async_chained_from_the_callback)          \
    X(test_async_error_details_in_the_callback)      \
    X(test_async_cancel_and_double_cancel)           \
    X(test_async_cancel_of_a_start)                  \
    X(test_cancel_racing_success)                    \
    X(test_blocking_calls_in_callbacks_are_refused)  \
    X(test_async_get_and_cancel)                     \
    X(test_async_argument_errors_never_call_back)    \
    X(test_many_sessions_from_many_threads)          \
    X(test_many_async_sessions_at_once)              \
    X(test_free_client_with_pending_operations)      \
    X(test_free_client_from_its_callback)            \
    X(test_free_client_during_a_blocking_wait)       \
    X(test_free_in_any_order)                        \
    X(test_token_callback_supplies_tokens)           \
    X(test_token_callback_errors)                    \
    X(test_start_abandoned_after_its_create_was_sent) \
    X(test_cancel_session_stops_a_blocking_wait_at_once) \
    X(test_aborted_spelling_ends_a_wait_as_abort)    \
    X(test_log_callback_filtered_and_masked)        \
    X(test_trust_and_proxy_settings_are_checked)    \
    X(test_https_with_the_test_ca)                  \
    X(test_https_with_the_operating_systems_store)  \
    X(test_https_without_the_ca_is_an_unknown_issuer) \
    X(test_https_certificate_for_another_host_is_refused) \
    X(test_https_expired_certificate_is_refused)    \
    X(test_https_through_the_proxy)                 \
    X(test_wrong_proxy_credentials_name_the_proxy)  \
    X(test_no_proxy_bypasses_the_proxy)             \
    X(test_the_system_proxy_variables_by_default)

#define X(name) void name(void);
ALL_TESTS
#undef X

#endif
