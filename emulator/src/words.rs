//! Binding messages: two Norwegian words, the first capitalised, like BankID's "Snedig redning".

use crate::rng::mix;

/// Adjectives that do not inflect for gender (endings -ig, -sk, -ert, -e), so any pairing reads well.
const ADJECTIVES: [&str; 40] = [
    "snedig",
    "modig",
    "rolig",
    "lykkelig",
    "flittig",
    "vennlig",
    "herlig",
    "dyktig",
    "livlig",
    "fredelig",
    "hyggelig",
    "kraftig",
    "nydelig",
    "pålitelig",
    "tålmodig",
    "ivrig",
    "rimelig",
    "nysgjerrig",
    "stille",
    "moderne",
    "ekte",
    "norsk",
    "fantastisk",
    "praktisk",
    "magisk",
    "klassisk",
    "logisk",
    "romantisk",
    "dynamisk",
    "energisk",
    "harmonisk",
    "poetisk",
    "engasjert",
    "motivert",
    "inspirert",
    "balansert",
    "spennende",
    "treffende",
    "lysende",
    "sprudlende",
];

const NOUNS: [&str; 40] = [
    "redning", "fjell", "elv", "båt", "stjerne", "sol", "måne", "skog", "hytte", "bro", "fyr",
    "seil", "sang", "dans", "reise", "eventyr", "hage", "blomst", "fugl", "ørn", "ulv", "elg",
    "rein", "laks", "torsk", "kaffe", "vaffel", "ski", "fjord", "bølge", "strand", "stein",
    "kilde", "tog", "sykkel", "drøm", "latter", "stemme", "melodi", "lykt",
];

/// The binding message for the `counter`-th session of an emulator started with `seed`.
pub(crate) fn binding_message(seed: u64, counter: u64) -> String {
    let h = mix(seed ^ mix(counter.wrapping_add(0x5afe_c0de)));
    let adjective = ADJECTIVES[(h % ADJECTIVES.len() as u64) as usize];
    let noun = NOUNS[((h >> 32) % NOUNS.len() as u64) as usize];
    let mut chars = adjective.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!("{first}{} {noun}", chars.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_words_first_capitalised_and_deterministic() {
        let m = binding_message(1, 0);
        assert_eq!(m, binding_message(1, 0));
        let words: Vec<&str> = m.split(' ').collect();
        assert_eq!(words.len(), 2);
        assert!(words[0].chars().next().unwrap().is_uppercase());
        assert!(words[1].chars().next().unwrap().is_lowercase());
        let distinct: std::collections::HashSet<String> =
            (0..50).map(|i| binding_message(1, i)).collect();
        assert!(distinct.len() > 40);
    }
}
