//! Norwegian national identity numbers: fødselsnummer, D-, H- and FH-numbers, and synthetic
//! test numbers, validated by the rules in Skatteetaten's documentation (including the 2032
//! check-digit rule).

use std::fmt;

const K1_WEIGHTS: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// What kind of number a [`Nin`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NinKind {
    /// Fødselsnummer: the ordinary birth number.
    BirthNumber,
    /// D-number, for people not (yet) registered as residents: day + 40.
    DNumber,
    /// H-number, the health sector's help number: month + 40.
    HNumber,
    /// Synthetic test number from Skatteetaten's Test-Norge/Tenor (month + 80).
    Synthetic,
    /// FH-number: first digit 8 or 9, no date.
    FhNumber,
}

impl NinKind {
    /// A short stable code: `fnr`, `dnr`, `hnr`, `synthetic` or `fh`.
    ///
    /// ```
    /// assert_eq!(safeconv::NinKind::DNumber.code(), "dnr");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            NinKind::BirthNumber => "fnr",
            NinKind::DNumber => "dnr",
            NinKind::HNumber => "hnr",
            NinKind::Synthetic => "synthetic",
            NinKind::FhNumber => "fh",
        }
    }
}

impl fmt::Display for NinKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Which numbers [`Nin::parse_with`] accepts beyond the strict default.
///
/// ```
/// use safeconv::{Nin, NinRules};
/// // The guide's example number fails the check digits: refused unless asked for.
/// assert!(Nin::parse("17029012345").is_err());
/// let rules = NinRules::strict().allow_invalid_check_digits(true);
/// assert!(Nin::parse_with("17029012345", rules).is_ok());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NinRules {
    /// Accept synthetic test numbers (Tenor, month + 80). Sandboxes use them.
    pub allow_synthetic: bool,
    /// Accept a number whose check digits are wrong. A deliberate opt-out: everything else is
    /// still checked (11 digits, a real date).
    pub allow_invalid_check_digits: bool,
}

impl NinRules {
    /// The default: real numbers with correct check digits only.
    pub fn strict() -> Self {
        NinRules::default()
    }

    /// Also accept synthetic test numbers.
    pub fn allow_synthetic(mut self, allow: bool) -> Self {
        self.allow_synthetic = allow;
        self
    }

    /// Also accept numbers whose check digits are wrong.
    pub fn allow_invalid_check_digits(mut self, allow: bool) -> Self {
        self.allow_invalid_check_digits = allow;
        self
    }
}

/// Why a string is not an acceptable national identity number. Never contains the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NinError {
    /// Not 11 characters long.
    Length {
        /// How many characters were given.
        found: usize,
    },
    /// A character that is not an ASCII digit.
    NonDigit {
        /// Zero-based position of the first such character.
        position: usize,
    },
    /// The date part is not a date that exists.
    InvalidDate,
    /// The check digits do not match the rest of the number.
    CheckDigits,
    /// A synthetic test number where test numbers are not allowed.
    SyntheticNotAllowed,
}

impl NinError {
    /// A short stable code: `length`, `non-digit`, `date`, `check-digits` or `synthetic`.
    ///
    /// ```
    /// let err = safeconv::Nin::parse("123").unwrap_err();
    /// assert_eq!(err.code(), "length");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            NinError::Length { .. } => "length",
            NinError::NonDigit { .. } => "non-digit",
            NinError::InvalidDate => "date",
            NinError::CheckDigits => "check-digits",
            NinError::SyntheticNotAllowed => "synthetic",
        }
    }
}

impl fmt::Display for NinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NinError::Length { found } => write!(f, "must be 11 digits, got {found} characters"),
            NinError::NonDigit { position } => {
                write!(f, "must be digits only (character {} is not)", position + 1)
            }
            NinError::InvalidDate => f.write_str("the first six digits are not a valid date"),
            NinError::CheckDigits => f.write_str(
                "the check digits do not match (allow invalid check digits to send it anyway)",
            ),
            NinError::SyntheticNotAllowed => {
                f.write_str("synthetic test numbers are not allowed (allow synthetic to use one)")
            }
        }
    }
}

impl std::error::Error for NinError {}

/// A validated Norwegian national identity number.
///
/// `Debug` and `Display` show only the date digits (`170290*****`); [`Nin::expose`] gives the
/// whole number for the one place that must send it.
///
/// ```
/// use safeconv::{Nin, NinKind};
/// let nin = Nin::parse("01018010018").unwrap();
/// assert_eq!(nin.kind(), NinKind::BirthNumber);
/// assert_eq!(nin.to_string(), "010180*****");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nin {
    digits: String,
    kind: NinKind,
    check_digits_valid: bool,
}

impl Nin {
    /// Validates strictly (see [`NinRules::strict`]). Surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Nin, NinError> {
        Nin::parse_with(input, NinRules::strict())
    }

    /// Validates with the given rules. Surrounding whitespace is ignored.
    pub fn parse_with(input: &str, rules: NinRules) -> Result<Nin, NinError> {
        let text = input.trim();
        if let Some(position) = text.chars().position(|c| !c.is_ascii_digit()) {
            // A wrong length is the clearer message for input like "1234-5".
            if text.chars().count() != 11 {
                return Err(NinError::Length {
                    found: text.chars().count(),
                });
            }
            return Err(NinError::NonDigit { position });
        }
        if text.len() != 11 {
            return Err(NinError::Length { found: text.len() });
        }
        let d: Vec<u32> = text.bytes().map(|b| u32::from(b - b'0')).collect();

        let kind = classify(&d);
        if kind == NinKind::Synthetic && !rules.allow_synthetic {
            return Err(NinError::SyntheticNotAllowed);
        }
        if kind != NinKind::FhNumber && !date_exists(&d) {
            return Err(NinError::InvalidDate);
        }
        let check_digits_valid = check_digits_match(&d);
        if !check_digits_valid && !rules.allow_invalid_check_digits {
            return Err(NinError::CheckDigits);
        }
        Ok(Nin {
            digits: text.to_owned(),
            kind,
            check_digits_valid,
        })
    }

    /// The kind of number.
    pub fn kind(&self) -> NinKind {
        self.kind
    }

    /// Whether the check digits are right (false only when accepted through
    /// [`NinRules::allow_invalid_check_digits`]).
    pub fn check_digits_valid(&self) -> bool {
        self.check_digits_valid
    }

    /// The full number. Do not log it.
    pub fn expose(&self) -> &str {
        &self.digits
    }

    /// The masked form, `DDMMYY*****`.
    pub fn masked(&self) -> String {
        mask_nin(&self.digits)
    }
}

impl fmt::Debug for Nin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nin({}, {})", self.masked(), self.kind)
    }
}

impl fmt::Display for Nin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Masks a NIN-like string for display or logs: at most the first 6 characters (the date)
/// stay visible, and at least five stars follow.
///
/// ```
/// assert_eq!(safeconv::mask_nin("17029012345"), "170290*****");
/// assert_eq!(safeconv::mask_nin("123"), "123*****");
/// ```
pub fn mask_nin(value: &str) -> String {
    let visible: String = value.chars().take(6).collect();
    let hidden = value.chars().count().saturating_sub(6);
    format!("{visible}{}", "*".repeat(hidden.max(5)))
}

fn classify(d: &[u32]) -> NinKind {
    if d[0] >= 8 {
        NinKind::FhNumber
    } else if d[2] >= 8 {
        NinKind::Synthetic
    } else if d[0] >= 4 {
        NinKind::DNumber
    } else if d[2] >= 4 {
        NinKind::HNumber
    } else {
        NinKind::BirthNumber
    }
}

fn date_exists(d: &[u32]) -> bool {
    let mut day = d[0] * 10 + d[1];
    let mut month = d[2] * 10 + d[3];
    let year = d[4] * 10 + d[5];
    if day > 40 {
        day -= 40;
    }
    if month > 80 {
        month -= 80;
    } else if month > 40 {
        month -= 40;
    }
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        // The century is unknown, so accept 29 February whenever some century makes it a leap year.
        2 if year.is_multiple_of(4) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

fn check_digits_match(d: &[u32]) -> bool {
    let sum1: u32 = K1_WEIGHTS.iter().zip(d).map(|(w, x)| w * x).sum();
    let sum2: u32 = K2_WEIGHTS.iter().zip(d).map(|(w, x)| w * x).sum();
    // Since 2032 (and numbers may already be issued under it) k1 is valid when the remainder is
    // 0–3; the classic rule is the remainder 0. k2 is unchanged.
    (sum1 + d[9]) % 11 <= 3 && (sum2 + d[10]).is_multiple_of(11)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str, rules: NinRules) -> Result<NinKind, NinError> {
        Nin::parse_with(s, rules).map(|n| n.kind())
    }

    #[test]
    fn classic_birth_numbers() {
        for s in [
            "01018010018",
            "17029010021",
            "15058510170",
            "24047510003",
            "31129910065",
        ] {
            assert_eq!(kind(s, NinRules::strict()), Ok(NinKind::BirthNumber), "{s}");
        }
    }

    #[test]
    fn guide_example_fails_check_digits_unless_allowed() {
        assert_eq!(Nin::parse("17029012345"), Err(NinError::CheckDigits));
        let nin = Nin::parse_with(
            "17029012345",
            NinRules::strict().allow_invalid_check_digits(true),
        )
        .unwrap();
        assert!(!nin.check_digits_valid());
        assert_eq!(nin.kind(), NinKind::BirthNumber);
    }

    #[test]
    fn rule_of_2032() {
        assert_eq!(
            kind("30108299939", NinRules::strict()),
            Ok(NinKind::BirthNumber)
        );
    }

    #[test]
    fn d_and_h_numbers() {
        assert_eq!(
            kind("57029010015", NinRules::strict()),
            Ok(NinKind::DNumber)
        );
        // 17 + (02+40) 90: build one with a valid checksum.
        let h = with_check_digits("174290100");
        assert_eq!(kind(&h, NinRules::strict()), Ok(NinKind::HNumber));
    }

    #[test]
    fn synthetic_only_when_allowed() {
        assert_eq!(
            Nin::parse("10915596784"),
            Err(NinError::SyntheticNotAllowed)
        );
        assert_eq!(
            kind("10915596784", NinRules::strict().allow_synthetic(true)),
            Ok(NinKind::Synthetic)
        );
        assert_eq!(
            kind("17829040085", NinRules::strict().allow_synthetic(true)),
            Ok(NinKind::Synthetic)
        );
    }

    #[test]
    fn fh_numbers_have_no_date() {
        let fh = with_check_digits("899999999");
        assert_eq!(kind(&fh, NinRules::strict()), Ok(NinKind::FhNumber));
    }

    #[test]
    fn dates() {
        let feb29_leap = with_check_digits("290204100");
        assert_eq!(
            kind(&feb29_leap, NinRules::strict()),
            Ok(NinKind::BirthNumber)
        );
        let feb29_00 = with_check_digits("290200100");
        assert!(Nin::parse(&feb29_00).is_ok());
        let feb29_plain = with_check_digits("290203100");
        assert_eq!(Nin::parse(&feb29_plain), Err(NinError::InvalidDate));
        let apr31 = with_check_digits("310490100");
        assert_eq!(Nin::parse(&apr31), Err(NinError::InvalidDate));
        let month13 = with_check_digits("011390100");
        assert_eq!(Nin::parse(&month13), Err(NinError::InvalidDate));
        let day0 = with_check_digits("000190100");
        assert_eq!(Nin::parse(&day0), Err(NinError::InvalidDate));
    }

    #[test]
    fn shape_errors() {
        assert_eq!(
            Nin::parse("1702901234"),
            Err(NinError::Length { found: 10 })
        );
        assert_eq!(
            Nin::parse("170290123456"),
            Err(NinError::Length { found: 12 })
        );
        assert_eq!(
            Nin::parse("1702901234x"),
            Err(NinError::NonDigit { position: 10 })
        );
        assert_eq!(Nin::parse(""), Err(NinError::Length { found: 0 }));
        assert_eq!(
            Nin::parse("١٧٠٢٩٠١٢٣٤٥"),
            Err(NinError::NonDigit { position: 0 })
        );
        assert!(Nin::parse(" 01018010018\n").is_ok());
    }

    #[test]
    fn masking() {
        let nin = Nin::parse("01018010018").unwrap();
        assert_eq!(format!("{nin:?}"), "Nin(010180*****, fnr)");
        assert_eq!(format!("{nin}"), "010180*****");
        assert!(!format!("{:?}", Nin::parse("0101801001")).contains("0101801001"));
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        let good = "01018010018";
        for pos in 0..11 {
            for digit in b'0'..=b'9' {
                let mut bytes = good.as_bytes().to_vec();
                if bytes[pos] == digit {
                    continue;
                }
                bytes[pos] = digit;
                let s = String::from_utf8(bytes).unwrap();
                // k2 covers every other digit with a weight that is not a multiple of 11.
                assert!(
                    Nin::parse_with(&s, NinRules::strict().allow_synthetic(true)).is_err(),
                    "{s} accepted"
                );
            }
        }
    }

    /// Appends classic check digits to 9 digits, retrying individual numbers that give k = 10.
    fn with_check_digits(first9: &str) -> String {
        let mut base: u32 = first9[6..9].parse().unwrap();
        loop {
            let s = format!("{}{:03}", &first9[..6], base);
            let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
            let k1 = (11 - K1_WEIGHTS.iter().zip(&d).map(|(w, x)| w * x).sum::<u32>() % 11) % 11;
            if k1 != 10 {
                let mut d2 = d.clone();
                d2.push(k1);
                let k2 =
                    (11 - K2_WEIGHTS.iter().zip(&d2).map(|(w, x)| w * x).sum::<u32>() % 11) % 11;
                if k2 != 10 {
                    return format!("{s}{k1}{k2}");
                }
            }
            base += 1;
        }
    }
}
