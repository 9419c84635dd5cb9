//! `application/x-www-form-urlencoded` decoding, for token requests and query strings.

/// The `name=value` pairs of a form body or query string; `None` if it is not valid
/// percent-encoded UTF-8.
pub(crate) fn parse_pairs(input: &str) -> Option<Vec<(String, String)>> {
    input
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            Some((decode(name)?, decode(value)?))
        })
        .collect()
}

/// The value of the first pair called `name`.
pub(crate) fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Percent-decoding, with `+` as a space.
pub(crate) fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        let pairs =
            parse_pairs("grant_type=client_credentials&scope=signicat-api&x=a%2Bb+c&flag").unwrap();
        assert_eq!(find(&pairs, "grant_type"), Some("client_credentials"));
        assert_eq!(find(&pairs, "x"), Some("a+b c"));
        assert_eq!(find(&pairs, "flag"), Some(""));
        assert_eq!(parse_pairs("a=%zz"), None);
        assert_eq!(parse_pairs("a=%e"), None);
    }
}
