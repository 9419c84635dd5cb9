//! Who is behind a NIN: the built-in test personas, and made-up people for every other number.

use std::time::Duration;

use crate::behaviour::Behaviour;
use crate::clock::is_valid_date;
use crate::rng::stable_hash;

/// A person as the identity provider knows them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Person {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    /// `YYYY-MM-DD`, when the NIN holds a real calendar date.
    pub(crate) date_of_birth: Option<String>,
}

impl Person {
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

struct Persona {
    nin: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    date_of_birth: &'static str,
    behaviour: fn() -> Behaviour,
}

/// Synthetic (Tenor style, month + 80) numbers, so they can never belong to a real person.
const PERSONAS: [Persona; 5] = [
    Persona {
        nin: "17829040085",
        first_name: "Kari",
        last_name: "Nordmann",
        date_of_birth: "1990-02-17",
        behaviour: || Behaviour::Approve {
            after: Duration::from_secs(2),
        },
    },
    Persona {
        nin: "01818040071",
        first_name: "Ola",
        last_name: "Nordmann",
        date_of_birth: "1980-01-01",
        behaviour: || Behaviour::Decline {
            after: Duration::from_secs(2),
        },
    },
    Persona {
        nin: "15858540043",
        first_name: "Per",
        last_name: "Hansen",
        date_of_birth: "1985-05-15",
        behaviour: || Behaviour::Fail {
            after: Duration::from_secs(1),
            code: "authentication_failed".to_owned(),
        },
    },
    Persona {
        nin: "24847540067",
        first_name: "Ingrid",
        last_name: "Berg",
        date_of_birth: "1975-04-24",
        behaviour: || Behaviour::NeverAnswer,
    },
    Persona {
        nin: "31929940019",
        first_name: "Nils",
        last_name: "Dahl",
        date_of_birth: "1999-12-31",
        behaviour: || Behaviour::NoApp,
    },
];

const NAMES: [(&str, &str); 16] = [
    ("Astrid", "Larsen"),
    ("Lars", "Johansen"),
    ("Sigrid", "Olsen"),
    ("Henrik", "Andersen"),
    ("Marit", "Pedersen"),
    ("Bjørn", "Nilsen"),
    ("Solveig", "Kristiansen"),
    ("Erik", "Jensen"),
    ("Ingeborg", "Karlsen"),
    ("Magnus", "Haugen"),
    ("Ragnhild", "Eriksen"),
    ("Håkon", "Solberg"),
    ("Liv", "Bakken"),
    ("Sondre", "Moen"),
    ("Åse", "Lunde"),
    ("Torbjørn", "Strand"),
];

/// The built-in behaviour of a persona's NIN, if it is one.
pub(crate) fn persona_behaviour(nin: &str) -> Option<Behaviour> {
    PERSONAS
        .iter()
        .find(|p| p.nin == nin)
        .map(|p| (p.behaviour)())
}

/// The person behind `nin` (11 digits), `current_year` deciding the century of the birth date.
pub(crate) fn person_for(nin: &str, current_year: i64) -> Person {
    if let Some(p) = PERSONAS.iter().find(|p| p.nin == nin) {
        return Person {
            first_name: p.first_name.to_owned(),
            last_name: p.last_name.to_owned(),
            date_of_birth: Some(p.date_of_birth.to_owned()),
        };
    }
    let (first, last) = NAMES[(stable_hash(nin) % NAMES.len() as u64) as usize];
    Person {
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        date_of_birth: date_of_birth(nin, current_year),
    }
}

/// The birth date in a NIN's first six digits, with D-number (day + 40), H-number / Dolly
/// (month + 40) and Tenor (month + 80) offsets removed; `yy` at or below the current year's
/// two digits is taken as 20yy, else 19yy.
pub(crate) fn date_of_birth(nin: &str, current_year: i64) -> Option<String> {
    let d = nin.as_bytes();
    if d.len() < 6 || !d[..6].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |i: usize| u32::from(d[i] - b'0') * 10 + u32::from(d[i + 1] - b'0');
    let mut day = two(0);
    let mut month = two(2);
    let yy = i64::from(two(4));
    if day > 40 {
        day -= 40;
    }
    if month > 80 {
        month -= 80;
    } else if month > 40 {
        month -= 40;
    }
    let year = if yy <= current_year % 100 {
        2000 + yy
    } else {
        1900 + yy
    };
    is_valid_date(year, month, day).then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// A NIN as it may appear in a log: the first six digits and `*****`.
pub(crate) fn mask_nin(nin: &str) -> String {
    let head: String = nin.chars().take(6).collect();
    format!("{head}*****")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personas_and_dates() {
        for p in &PERSONAS {
            assert_eq!(
                date_of_birth(p.nin, 2026).as_deref(),
                Some(p.date_of_birth),
                "{}",
                p.nin
            );
        }
        assert_eq!(person_for("17829040085", 2026).name(), "Kari Nordmann");
        assert_eq!(persona_behaviour("31929940019"), Some(Behaviour::NoApp));
        assert_eq!(persona_behaviour("17029012345"), None);
        assert_eq!(
            date_of_birth("17029012345", 2026).as_deref(),
            Some("1990-02-17")
        );
        assert_eq!(
            date_of_birth("10915596784", 2026).as_deref(),
            Some("1955-11-10")
        );
        assert_eq!(
            date_of_birth("41010112345", 2026).as_deref(),
            Some("2001-01-01")
        );
        assert_eq!(date_of_birth("00000000000", 2026), None);
        assert_eq!(mask_nin("17029012345"), "170290*****");
    }
}
