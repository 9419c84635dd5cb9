//! NIN validation, against an independent implementation of Skatteetaten's rules: the same
//! numbers are accepted, as the same kind, under every combination of rules; stricter rules
//! never accept more; nothing the SDK prints shows the number.

#![no_main]

use libfuzzer_sys::fuzz_target;
use safeconv::{Nin, NinKind, NinRules};

/// The rules, written out again: 11 ASCII digits; the kind from the first and third digits;
/// a real date (29 February whenever some century makes it a leap year); k1 by the 2032 rule
/// (remainder 0 to 3), k2 by the classic one.
fn reference(text: &str, rules: NinRules) -> Option<NinKind> {
    let bytes = text.as_bytes();
    if bytes.len() != 11 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let d: Vec<u32> = bytes.iter().map(|b| u32::from(b - b'0')).collect();
    let kind = match (d[0], d[2]) {
        (8..=9, _) => NinKind::FhNumber,
        (_, 8..=9) => NinKind::Synthetic,
        (4..=7, _) => NinKind::DNumber,
        (_, 4..=7) => NinKind::HNumber,
        _ => NinKind::BirthNumber,
    };
    if kind == NinKind::Synthetic && !rules.allow_synthetic {
        return None;
    }
    if kind != NinKind::FhNumber {
        let day = (d[0] % 4) * 10 + d[1];
        let month = (d[2] % 4) * 10 + d[3];
        let year = d[4] * 10 + d[5];
        let days = [
            31,
            if year.is_multiple_of(4) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if !(1..=12).contains(&month) || day == 0 || day > days[month as usize - 1] {
            return None;
        }
    }
    let weighted = |weights: &[u32]| weights.iter().zip(&d).map(|(w, x)| w * x).sum::<u32>();
    let k1_ok = (weighted(&[3, 7, 6, 1, 8, 9, 4, 5, 2, 1]) % 11) <= 3;
    let k2_ok = weighted(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1]) % 11 == 0;
    if !(k1_ok && k2_ok) && !rules.allow_invalid_check_digits {
        return None;
    }
    Some(kind)
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let combos = [(false, false), (true, false), (false, true), (true, true)];
    let mut accepted = [false; 4];
    for (i, (synthetic, invalid_check)) in combos.into_iter().enumerate() {
        let rules = NinRules::strict()
            .allow_synthetic(synthetic)
            .allow_invalid_check_digits(invalid_check);
        let parsed = Nin::parse_with(input, rules);
        let expected = reference(input.trim(), rules);
        assert_eq!(
            parsed.as_ref().ok().map(Nin::kind),
            expected,
            "rules {rules:?}"
        );
        match parsed {
            Ok(nin) => {
                accepted[i] = true;
                let digits = nin.expose();
                assert_eq!(digits, input.trim());
                assert_eq!(nin.masked(), format!("{}*****", &digits[..6]));
                assert_eq!(format!("{nin}"), nin.masked());
                assert!(!format!("{nin:?}").contains(digits));
            }
            Err(error) => {
                let _ = error.code();
                let text = safeconv::Error::from(error).to_string();
                let trimmed = input.trim();
                if trimmed.len() >= 7 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
                    assert!(
                        !text.contains(trimmed),
                        "the number is in the error: {text}"
                    );
                }
            }
        }
    }
    // Looser rules never refuse what stricter ones accept.
    let [strict, synthetic, invalid_check, both] = accepted;
    assert!(!strict || (synthetic && invalid_check && both));
    assert!(!(synthetic || invalid_check) || both);
});
