//! Sessions, outcomes and verified subjects, read field by field.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use super::boundary::ffi_boundary;
use super::handle::{arg, free, give, handle};
use super::strings::{look_up, to_c, to_c_opt};
use crate::{Outcome, Session, Status, Subject};

/// A session's status. Stable numbers; `safeconv_status_name` gives Signicat's spelling.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum SafeconvStatus {
    /// A status this version does not know (`safeconv_session_status_text` has Signicat's
    /// word), treated as still running; also returned for a NULL handle.
    SAFECONV_STATUS_UNKNOWN = 0,
    /// Created; the caller has not been reached yet.
    SAFECONV_STATUS_CREATED = 1,
    /// The caller has the request in the BankID app.
    SAFECONV_STATUS_WAITING_FOR_USER = 2,
    /// Verified: the subject holds the identity.
    SAFECONV_STATUS_SUCCESS = 3,
    /// Failed; see the error code (e.g. `"no_bankid_app"`).
    SAFECONV_STATUS_ERROR = 4,
    /// The caller declined in the app.
    SAFECONV_STATUS_ABORT = 5,
    /// Cancelled through the API.
    SAFECONV_STATUS_CANCELLED = 6,
    /// The caller did not answer before `expiresAt`.
    SAFECONV_STATUS_EXPIRED = 7,
    /// Signicat considered the session invalid.
    SAFECONV_STATUS_INVALID = 8,
}

/// The core's statuses in the order of their numbers here (1 to 8).
const STATUSES: [Status; 8] = [
    Status::Created,
    Status::WaitingForUser,
    Status::Success,
    Status::Error,
    Status::Abort,
    Status::Cancelled,
    Status::Expired,
    Status::Invalid,
];

impl From<&Status> for SafeconvStatus {
    fn from(status: &Status) -> Self {
        match status {
            Status::Created => SafeconvStatus::SAFECONV_STATUS_CREATED,
            Status::WaitingForUser => SafeconvStatus::SAFECONV_STATUS_WAITING_FOR_USER,
            Status::Success => SafeconvStatus::SAFECONV_STATUS_SUCCESS,
            Status::Error => SafeconvStatus::SAFECONV_STATUS_ERROR,
            Status::Abort => SafeconvStatus::SAFECONV_STATUS_ABORT,
            Status::Cancelled => SafeconvStatus::SAFECONV_STATUS_CANCELLED,
            Status::Expired => SafeconvStatus::SAFECONV_STATUS_EXPIRED,
            Status::Invalid => SafeconvStatus::SAFECONV_STATUS_INVALID,
            Status::Unknown(_) => SafeconvStatus::SAFECONV_STATUS_UNKNOWN,
        }
    }
}

/// A session as Signicat last described it: id, status, binding message, expiry, and on
/// success the verified subject.
///
/// Immutable: a snapshot, never updated in place (get a fresh one with `safeconv_get_session`).
/// May be read from several threads at once. Free it with `safeconv_session_free`.
pub struct SafeconvSession {
    _private: [u8; 0],
}

/// How a session ended: its final status and, on success, the verified subject.
///
/// Immutable; may be read from several threads at once. Free it with `safeconv_outcome_free`.
pub struct SafeconvOutcome {
    _private: [u8; 0],
}

/// The verified person. Holds personal data: do not log it.
///
/// Immutable; may be read from several threads at once. Free it with `safeconv_subject_free`.
pub struct SafeconvSubject {
    _private: [u8; 0],
}

handle!(SafeconvSession => Session, Owned);
handle!(SafeconvOutcome => Outcome, Owned);
handle!(SafeconvSubject => Subject, Owned);

/// Signicat's spelling of a status value (e.g. `"WAITING_FOR_USER"`), or NULL for
/// `SAFECONV_STATUS_UNKNOWN` or a number this version does not know.
///
/// Ownership: a static string; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_status_name(status: u32) -> *const c_char {
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    ffi_boundary! {
        let index = (status as usize).checked_sub(1);
        Ok(look_up(&NAMES, &STATUSES, |s| s.as_str().to_owned(), index))
    }
}

/// The session id (never NULL for a live session). NULL if `session` is NULL.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_id(session: *const SafeconvSession) -> *mut c_char {
    ffi_boundary! { Ok(to_c(&arg!(session).id)) }
}

/// The status (`SAFECONV_STATUS_UNKNOWN` if `session` is NULL).
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_status(
    session: *const SafeconvSession,
) -> SafeconvStatus {
    ffi_boundary! { Ok(SafeconvStatus::from(&arg!(session).status)) }
}

/// The status as Signicat wrote it (also for statuses this version does not know); NULL if
/// `session` is NULL.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_status_text(
    session: *const SafeconvSession,
) -> *mut c_char {
    ffi_boundary! { Ok(to_c(arg!(session).status.as_str())) }
}

/// Whether the session has ended (false if `session` is NULL). Unknown statuses count as
/// still running.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_is_final(session: *const SafeconvSession) -> bool {
    ffi_boundary! { Ok(arg!(session).status.is_final()) }
}

/// The words the agent reads to the caller (`idpData.bindingMessage`), who confirms the same
/// words in the BankID app; NULL if there is none (or `session` is NULL).
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_binding_message(
    session: *const SafeconvSession,
) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(session).binding_message())) }
}

/// When the session expires, as RFC 3339 in UTC (e.g. `"2026-06-29T11:08:34.9495067Z"`);
/// NULL if unknown (or `session` is NULL).
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_expires_at(
    session: *const SafeconvSession,
) -> *mut c_char {
    ffi_boundary! {
        let expires_at = arg!(session).expires_at;
        Ok(expires_at.map_or(std::ptr::null_mut(), |t| to_c(&t.to_string())))
    }
}

/// When the session expires, in milliseconds since the Unix epoch, written to `*unix_ms_out`.
/// Returns false (and leaves `*unix_ms_out` alone) if unknown or an argument is NULL.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`; `unix_ms_out` is NULL or writable.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_expires_at_unix_ms(
    session: *const SafeconvSession,
    unix_ms_out: *mut i64,
) -> bool {
    ffi_boundary! {
        let expires_at = arg!(session).expires_at;
        // SAFETY: the caller promises NULL or writable storage (left alone when unknown).
        Ok(match (expires_at, unsafe { unix_ms_out.as_mut() }) {
            (Some(t), Some(out)) => {
                *out = t.unix_millis();
                true
            }
            _ => false,
        })
    }
}

/// The identity provider (e.g. `"nbid"`), or NULL.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_provider(session: *const SafeconvSession) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(session).provider.as_deref())) }
}

/// The level of assurance reached (e.g. `"substantial"`), or NULL.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_loa(session: *const SafeconvSession) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(session).loa.as_deref())) }
}

/// Your reference, as echoed by Signicat, or NULL.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_external_reference(
    session: *const SafeconvSession,
) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(session).external_reference.as_deref())) }
}

/// Why the session failed (its error `code`, e.g. `"no_bankid_app"`), or NULL.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_error_code(
    session: *const SafeconvSession,
) -> *mut c_char {
    ffi_boundary! {
        let error = arg!(session).error.as_ref();
        Ok(to_c_opt(error.and_then(|e| e.code.as_deref())))
    }
}

/// The verified subject (on `SAFECONV_STATUS_SUCCESS`), or NULL.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the copy with
/// `safeconv_subject_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_subject(
    session: *const SafeconvSession,
) -> *mut SafeconvSubject {
    ffi_boundary! {
        let session = arg!(session);
        Ok(match (&session.status, &session.subject) {
            (Status::Success, Some(subject)) => give(subject.clone()),
            _ => std::ptr::null_mut(),
        })
    }
}

/// How the session ended, or NULL while it is still running (or `session` is NULL).
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession`. The caller frees the outcome with
/// `safeconv_outcome_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_outcome(
    session: *const SafeconvSession,
) -> *mut SafeconvOutcome {
    ffi_boundary! { Ok(arg!(session).outcome().map_or(std::ptr::null_mut(), give)) }
}

/// A copy of `session`; NULL if `session` is NULL.
///
/// # Safety
/// `session` is NULL or a live `SafeconvSession` (such as the `const` one a status callback
/// borrows). The caller frees the copy with `safeconv_session_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_clone(
    session: *const SafeconvSession,
) -> *mut SafeconvSession {
    ffi_boundary! { Ok(give(arg!(session).clone())) }
}

/// Frees a session. NULL is accepted and ignored. Does not cancel anything.
///
/// # Safety
/// `session` is NULL or a `SafeconvSession *` this library gave you (never the `const` one a
/// callback borrows), not yet freed, that no running call is reading.
/// Threads: any thread, once no other thread uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_session_free(session: *mut SafeconvSession) {
    ffi_boundary! {
        // SAFETY: the caller hands back a handle this library gave out, not yet freed.
        unsafe { free(session) };
        Ok(())
    }
}

/// The final status (`SAFECONV_STATUS_UNKNOWN` if `outcome` is NULL).
///
/// # Safety
/// `outcome` is NULL or a live `SafeconvOutcome`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_outcome_status(
    outcome: *const SafeconvOutcome,
) -> SafeconvStatus {
    ffi_boundary! { Ok(SafeconvStatus::from(&arg!(outcome).status())) }
}

/// Whether the caller is verified (false if `outcome` is NULL).
///
/// # Safety
/// `outcome` is NULL or a live `SafeconvOutcome`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_outcome_is_success(outcome: *const SafeconvOutcome) -> bool {
    ffi_boundary! { Ok(matches!(arg!(outcome), Outcome::Success(_))) }
}

/// The verified subject on success; NULL otherwise (or if `outcome` is NULL).
///
/// # Safety
/// `outcome` is NULL or a live `SafeconvOutcome`. The caller frees the copy with
/// `safeconv_subject_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_outcome_subject(
    outcome: *const SafeconvOutcome,
) -> *mut SafeconvSubject {
    ffi_boundary! { Ok(arg!(outcome).subject().cloned().map_or(std::ptr::null_mut(), give)) }
}

/// Signicat's error code for a failed session (`SAFECONV_STATUS_ERROR` or `_INVALID`, e.g.
/// `"no_bankid_app"`, `"authentication_failed"`); NULL otherwise.
///
/// # Safety
/// `outcome` is NULL or a live `SafeconvOutcome`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_outcome_error_code(
    outcome: *const SafeconvOutcome,
) -> *mut c_char {
    ffi_boundary! {
        Ok(match arg!(outcome) {
            Outcome::Failed {
                error: Some(error), ..
            } => to_c_opt(error.code.as_deref()),
            _ => std::ptr::null_mut(),
        })
    }
}

/// Signicat's description of why a session failed (its `detail`, else its `title`); NULL
/// otherwise.
///
/// # Safety
/// `outcome` is NULL or a live `SafeconvOutcome`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_outcome_error_detail(
    outcome: *const SafeconvOutcome,
) -> *mut c_char {
    ffi_boundary! {
        Ok(match arg!(outcome) {
            Outcome::Failed {
                error: Some(error), ..
            } => to_c_opt(error.detail.as_deref().or(error.title.as_deref())),
            _ => std::ptr::null_mut(),
        })
    }
}

/// A copy of `outcome`; NULL if `outcome` is NULL.
///
/// # Safety
/// `outcome` is NULL or a live `SafeconvOutcome`. The caller frees the copy with
/// `safeconv_outcome_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_outcome_clone(
    outcome: *const SafeconvOutcome,
) -> *mut SafeconvOutcome {
    ffi_boundary! { Ok(give(arg!(outcome).clone())) }
}

/// Frees an outcome. NULL is accepted and ignored.
///
/// # Safety
/// `outcome` is NULL or a `SafeconvOutcome *` this library gave you, not yet freed.
/// Threads: any thread, once no other thread uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_outcome_free(outcome: *mut SafeconvOutcome) {
    ffi_boundary! {
        // SAFETY: the caller hands back a handle this library gave out, not yet freed.
        unsafe { free(outcome) };
        Ok(())
    }
}

/// The full name (e.g. `"Kari Nordmann"`). NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_name(subject: *const SafeconvSubject) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).name.as_deref())) }
}

/// The given name. NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_first_name(
    subject: *const SafeconvSubject,
) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).first_name.as_deref())) }
}

/// The middle name. NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_middle_name(
    subject: *const SafeconvSubject,
) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).middle_name.as_deref())) }
}

/// The family name. NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_last_name(
    subject: *const SafeconvSubject,
) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).last_name.as_deref())) }
}

/// The date of birth, `YYYY-MM-DD`. NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_date_of_birth(
    subject: *const SafeconvSubject,
) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).date_of_birth.as_deref())) }
}

/// The e-mail address. NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_email(subject: *const SafeconvSubject) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).email.as_deref())) }
}

/// Signicat's subject id. NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_id(subject: *const SafeconvSubject) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).id.as_deref())) }
}

/// The identity provider's id for the person (BankID's PID). NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_idp_id(subject: *const SafeconvSubject) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).idp_id.as_deref())) }
}

/// The national identity number itself. Do not log it. NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_nin(subject: *const SafeconvSubject) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).nin.as_ref().map(|n| n.value.as_str()))) }
}

/// The country that issued the national identity number (e.g. `"NO"`). NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_nin_issuing_country(
    subject: *const SafeconvSubject,
) -> *mut c_char {
    ffi_boundary! {
        let nin = arg!(subject).nin.as_ref();
        Ok(to_c_opt(nin.and_then(|n| n.issuing_country.as_deref())))
    }
}

/// The kind of national identity number as Signicat names it (e.g. `"BIRTH"`). NULL when absent or if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_nin_type(subject: *const SafeconvSubject) -> *mut c_char {
    ffi_boundary! { Ok(to_c_opt(arg!(subject).nin.as_ref().and_then(|n| n.kind.as_deref()))) }
}

/// Every other attribute the identity provider returned, as a JSON object (e.g.
/// `{"serialNumber":"..."}`; `{}` when there are none). NULL if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the string with
/// `safeconv_string_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_extra_json(
    subject: *const SafeconvSubject,
) -> *mut c_char {
    ffi_boundary! {
        let extra = serde_json::to_string(&arg!(subject).extra);
        Ok(to_c(&extra.unwrap_or_else(|_| "{}".to_owned())))
    }
}

/// A copy of `subject`; NULL if `subject` is NULL.
///
/// # Safety
/// `subject` is NULL or a live `SafeconvSubject`. The caller frees the copy with
/// `safeconv_subject_free`.
/// Threads: any thread; handles are immutable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_clone(
    subject: *const SafeconvSubject,
) -> *mut SafeconvSubject {
    ffi_boundary! { Ok(give(arg!(subject).clone())) }
}

/// Frees a subject. NULL is accepted and ignored.
///
/// # Safety
/// `subject` is NULL or a `SafeconvSubject *` this library gave you, not yet freed.
/// Threads: any thread, once no other thread uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_subject_free(subject: *mut SafeconvSubject) {
    ffi_boundary! {
        // SAFETY: the caller hands back a handle this library gave out, not yet freed.
        unsafe { free(subject) };
        Ok(())
    }
}
