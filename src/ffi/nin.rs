//! National identity number checks on their own, with the core's kinds and reasons.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use super::boundary::ffi_boundary;
use super::error::{Failure, SafeconvResult};
use super::handle::{arg, opt_arg};
use super::strings::look_up;
use crate::{Error, Nin, NinError, NinKind, NinRules};

/// Rule flag: also accept synthetic test numbers (Tenor, month + 80), as sandboxes use.
pub const SAFECONV_NIN_ALLOW_SYNTHETIC: u32 = 1;
/// Rule flag: also accept a number whose check digits are wrong (everything else is still
/// checked). A deliberate opt-out.
pub const SAFECONV_NIN_ALLOW_INVALID_CHECK_DIGITS: u32 = 2;
const KNOWN_RULE_FLAGS: u32 =
    SAFECONV_NIN_ALLOW_SYNTHETIC | SAFECONV_NIN_ALLOW_INVALID_CHECK_DIGITS;

/// The kind of a national identity number. Stable numbers; `safeconv_nin_kind_code` gives the
/// core's short code.
#[repr(u32)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum SafeconvNinKind {
    /// No kind: the number was refused.
    #[default]
    SAFECONV_NIN_KIND_NONE = 0,
    /// Fødselsnummer, the ordinary birth number (`"fnr"`).
    SAFECONV_NIN_KIND_BIRTH_NUMBER = 1,
    /// D-number, day + 40 (`"dnr"`).
    SAFECONV_NIN_KIND_D_NUMBER = 2,
    /// H-number, month + 40 (`"hnr"`).
    SAFECONV_NIN_KIND_H_NUMBER = 3,
    /// Synthetic test number, month + 80 (`"synthetic"`).
    SAFECONV_NIN_KIND_SYNTHETIC = 4,
    /// FH-number, first digit 8 or 9 (`"fh"`).
    SAFECONV_NIN_KIND_FH_NUMBER = 5,
}

/// Why a national identity number was refused. Stable numbers; `safeconv_nin_reason_code`
/// gives the core's short code.
#[repr(u32)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum SafeconvNinReason {
    /// Not refused (or refused for a reason that is not about the number, such as NULL).
    #[default]
    SAFECONV_NIN_REASON_NONE = 0,
    /// Not 11 characters long (`"length"`).
    SAFECONV_NIN_REASON_LENGTH = 1,
    /// A character that is not an ASCII digit (`"non-digit"`).
    SAFECONV_NIN_REASON_NON_DIGIT = 2,
    /// The date part is not a date that exists (`"date"`).
    SAFECONV_NIN_REASON_DATE = 3,
    /// The check digits do not match (`"check-digits"`).
    SAFECONV_NIN_REASON_CHECK_DIGITS = 4,
    /// A synthetic test number where those are not allowed (`"synthetic"`).
    SAFECONV_NIN_REASON_SYNTHETIC = 5,
}

impl From<NinKind> for SafeconvNinKind {
    fn from(kind: NinKind) -> Self {
        match kind {
            NinKind::BirthNumber => SafeconvNinKind::SAFECONV_NIN_KIND_BIRTH_NUMBER,
            NinKind::DNumber => SafeconvNinKind::SAFECONV_NIN_KIND_D_NUMBER,
            NinKind::HNumber => SafeconvNinKind::SAFECONV_NIN_KIND_H_NUMBER,
            NinKind::Synthetic => SafeconvNinKind::SAFECONV_NIN_KIND_SYNTHETIC,
            NinKind::FhNumber => SafeconvNinKind::SAFECONV_NIN_KIND_FH_NUMBER,
        }
    }
}

impl From<NinError> for SafeconvNinReason {
    fn from(reason: NinError) -> Self {
        match reason {
            NinError::Length { .. } => SafeconvNinReason::SAFECONV_NIN_REASON_LENGTH,
            NinError::NonDigit { .. } => SafeconvNinReason::SAFECONV_NIN_REASON_NON_DIGIT,
            NinError::InvalidDate => SafeconvNinReason::SAFECONV_NIN_REASON_DATE,
            NinError::CheckDigits => SafeconvNinReason::SAFECONV_NIN_REASON_CHECK_DIGITS,
            NinError::SyntheticNotAllowed => SafeconvNinReason::SAFECONV_NIN_REASON_SYNTHETIC,
        }
    }
}

/// The core's rules for a set of `SAFECONV_NIN_ALLOW_*` flags; unknown bits are refused.
pub(crate) fn rules_from_flags(flags: u32, field: &str) -> Result<NinRules, Failure> {
    if flags & !KNOWN_RULE_FLAGS != 0 {
        return Err(Error::invalid_input(
            field,
            format!("unknown flag bits {:#x}", flags & !KNOWN_RULE_FLAGS),
        )
        .into());
    }
    Ok(NinRules::strict()
        .allow_synthetic(flags & SAFECONV_NIN_ALLOW_SYNTHETIC != 0)
        .allow_invalid_check_digits(flags & SAFECONV_NIN_ALLOW_INVALID_CHECK_DIGITS != 0))
}

/// Checks a Norwegian national identity number (fødselsnummer, D-, H-, FH- or synthetic
/// number) exactly as the client does before sending it. Surrounding whitespace is ignored.
///
/// `rules` is 0 (strict) or a combination of `SAFECONV_NIN_ALLOW_*` flags.
/// Returns `SAFECONV_OK`, or `SAFECONV_INVALID_NIN` with the reason in `*reason_out` and in
/// the last error (`safeconv_error_code` gives its code; the message never repeats the
/// number); `SAFECONV_INVALID_INPUT` for unknown flag bits, `SAFECONV_NULL_ARGUMENT` if `nin`
/// is NULL, `SAFECONV_INVALID_UTF8` if it is not UTF-8.
///
/// # Safety
/// `nin` is NULL or a NUL-terminated string. `kind_out` and `reason_out` are NULL (not
/// wanted) or point to writable storage; they are always written when not NULL
/// (`SAFECONV_NIN_KIND_NONE` / `SAFECONV_NIN_REASON_NONE` where not applicable).
/// Thread-safe; no client needed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn safeconv_nin_check(
    nin: *const c_char,
    rules: u32,
    kind_out: *mut SafeconvNinKind,
    reason_out: *mut SafeconvNinReason,
) -> SafeconvResult {
    ffi_boundary! {
        let (kind_out, reason_out) = (opt_arg!(kind_out), opt_arg!(reason_out));
        let rules = rules_from_flags(rules, "rules")?;
        match Nin::parse_with(arg!(nin), rules) {
            Ok(nin) => {
                if let Some(out) = kind_out {
                    *out = nin.kind().into();
                }
                Ok(())
            }
            Err(reason) => {
                if let Some(out) = reason_out {
                    *out = reason.into();
                }
                Err(Error::InvalidNin(reason).into())
            }
        }
    }
}

/// The core's kinds and reasons in the order of their numbers here (from 1).
const KINDS: [NinKind; 5] = [
    NinKind::BirthNumber,
    NinKind::DNumber,
    NinKind::HNumber,
    NinKind::Synthetic,
    NinKind::FhNumber,
];
const REASONS: [NinError; 5] = [
    NinError::Length { found: 0 },
    NinError::NonDigit { position: 0 },
    NinError::InvalidDate,
    NinError::CheckDigits,
    NinError::SyntheticNotAllowed,
];

/// The core's short code of a `SafeconvNinKind` value: `"fnr"`, `"dnr"`, `"hnr"`,
/// `"synthetic"` or `"fh"`; NULL for `SAFECONV_NIN_KIND_NONE` or an unknown value.
///
/// Ownership: a static string; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_nin_kind_code(kind: u32) -> *const c_char {
    static CODES: OnceLock<Vec<CString>> = OnceLock::new();
    ffi_boundary! {
        let index = (kind as usize).checked_sub(1);
        Ok(look_up(&CODES, &KINDS, |k| k.code().to_owned(), index))
    }
}

/// The core's short code of a `SafeconvNinReason` value: `"length"`, `"non-digit"`, `"date"`,
/// `"check-digits"` or `"synthetic"`; NULL for `SAFECONV_NIN_REASON_NONE` or an unknown value.
///
/// Ownership: a static string; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn safeconv_nin_reason_code(reason: u32) -> *const c_char {
    static CODES: OnceLock<Vec<CString>> = OnceLock::new();
    ffi_boundary! {
        let index = (reason as usize).checked_sub(1);
        Ok(look_up(&CODES, &REASONS, |r| r.code().to_owned(), index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn check(nin: &str, rules: u32) -> (SafeconvResult, SafeconvNinKind, SafeconvNinReason) {
        let c = std::ffi::CString::new(nin).unwrap();
        let mut kind = SafeconvNinKind::SAFECONV_NIN_KIND_FH_NUMBER;
        let mut reason = SafeconvNinReason::SAFECONV_NIN_REASON_LENGTH;
        let r = unsafe { safeconv_nin_check(c.as_ptr(), rules, &mut kind, &mut reason) };
        (r, kind, reason)
    }

    #[test]
    fn kinds_and_reasons_follow_the_core() {
        use SafeconvNinKind::*;
        use SafeconvNinReason::*;
        use SafeconvResult::*;
        assert_eq!(
            check("01018010018", 0),
            (
                SAFECONV_OK,
                SAFECONV_NIN_KIND_BIRTH_NUMBER,
                SAFECONV_NIN_REASON_NONE
            )
        );
        assert_eq!(
            check("17029012345", 0),
            (
                SAFECONV_INVALID_NIN,
                SAFECONV_NIN_KIND_NONE,
                SAFECONV_NIN_REASON_CHECK_DIGITS
            )
        );
        assert_eq!(
            check("17029012345", SAFECONV_NIN_ALLOW_INVALID_CHECK_DIGITS).0,
            SAFECONV_OK
        );
        assert_eq!(check("10915596784", 0).2, SAFECONV_NIN_REASON_SYNTHETIC);
        assert_eq!(
            check("10915596784", SAFECONV_NIN_ALLOW_SYNTHETIC).1,
            SAFECONV_NIN_KIND_SYNTHETIC
        );
        assert_eq!(check("123", 0).2, SAFECONV_NIN_REASON_LENGTH);
        assert_eq!(check("0101801001x", 0).2, SAFECONV_NIN_REASON_NON_DIGIT);
        assert_eq!(check("01018010018", 4).0, SAFECONV_INVALID_INPUT);
    }

    #[test]
    fn codes_are_the_core_codes() {
        let code = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
        for (n, kind) in [
            (1, NinKind::BirthNumber),
            (2, NinKind::DNumber),
            (3, NinKind::HNumber),
            (4, NinKind::Synthetic),
            (5, NinKind::FhNumber),
        ] {
            assert_eq!(code(safeconv_nin_kind_code(n)), kind.code());
        }
        assert_eq!(
            code(safeconv_nin_reason_code(4)),
            NinError::CheckDigits.code()
        );
        assert_eq!(code(safeconv_nin_reason_code(5)), "synthetic");
        assert_eq!(code(safeconv_nin_reason_code(2)), "non-digit");
        assert!(safeconv_nin_kind_code(0).is_null() && safeconv_nin_reason_code(6).is_null());
    }
}
