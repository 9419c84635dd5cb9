//! The create policy: only Safe Conversation, whatever the client sends. The relay builds the
//! upstream request itself from the client's NIN and the few optional fields it lets through.

use safeconv::{CreateSessionRequest, DEFAULT_ATTRIBUTES, Nin, NinRules, SafeConversation};
use serde_json::{Map, Value};

use crate::problem::Problem;

/// nbid's attributes: what a Safe Conversation may ask for unless configured otherwise.
pub const NBID_ATTRIBUTES: [&str; 6] = [
    "name",
    "firstName",
    "lastName",
    "nin",
    "dateOfBirth",
    "idpId",
];

/// Fields that would turn the session into another flow: always refused.
const FLOW_CHANGING: [&str; 4] = [
    "callbackUrls",
    "returnUrl",
    "embeddedParentDomains",
    "encryptionPublicKey",
];

/// What the policy allows.
#[derive(Clone, Debug)]
pub struct CreatePolicy {
    /// Attributes a client may request (default [`NBID_ATTRIBUTES`]).
    pub allowed_attributes: Vec<String>,
    /// The longest `sessionLifetime` a client may ask for, in seconds.
    pub max_session_lifetime: u32,
    /// How NINs are validated (strict by default).
    pub nin_rules: NinRules,
}

impl Default for CreatePolicy {
    fn default() -> Self {
        CreatePolicy {
            allowed_attributes: NBID_ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect(),
            max_session_lifetime: 1200,
            nin_rules: NinRules::strict(),
        }
    }
}

/// A create the policy allows: the NIN and the request the relay will send.
#[derive(Debug)]
pub struct AllowedCreate {
    /// The caller's NIN (validated).
    pub nin: Nin,
    /// The upstream request, built by the relay.
    pub request: CreateSessionRequest,
}

/// A refusal by policy: the answer and the reason for the audit log.
#[derive(Debug)]
pub struct PolicyRefusal {
    /// 400 (or 415) in Signicat's shape.
    pub problem: Problem,
    /// E.g. `policy:requestedAttributes`.
    pub reason: String,
}

fn refuse(field: &str, reason: impl Into<String>) -> PolicyRefusal {
    PolicyRefusal {
        problem: Problem::bad_request(field, reason),
        reason: format!("policy:{field}"),
    }
}

impl CreatePolicy {
    /// Checks a create body (JSON, camelCase, as Signicat takes it) and builds the request.
    ///
    /// ```
    /// let policy = safeconv_relay::CreatePolicy::default();
    /// let body = br#"{"flow":"headless","prefilledInput":{"nin":"01018010018"},"language":"nb"}"#;
    /// let allowed = policy.check(body).unwrap();
    /// let sent = serde_json::to_value(&allowed.request).unwrap();
    /// assert_eq!(sent["additionalParameters"]["nbid_auth_type"], "PHONE");
    /// assert!(policy.check(br#"{"prefilledInput":{"nin":"01018010018"},"flow":"redirect"}"#).is_err());
    /// ```
    pub fn check(&self, body: &[u8]) -> Result<AllowedCreate, PolicyRefusal> {
        let value: Value = serde_json::from_slice(body).map_err(|_| {
            refuse(
                "body",
                "must be a JSON object (Signicat's create-session body)",
            )
        })?;
        let Value::Object(fields) = value else {
            return Err(refuse("body", "must be a JSON object"));
        };
        // Unset is the same as null, as with Signicat.
        let fields: Map<String, Value> = fields.into_iter().filter(|(_, v)| !v.is_null()).collect();

        for name in fields.keys() {
            if FLOW_CHANGING.contains(&name.as_str()) {
                return Err(refuse(
                    name,
                    "would change the flow; the relay only starts headless Safe Conversations",
                ));
            }
            if !matches!(
                name.as_str(),
                "flow"
                    | "allowedProviders"
                    | "requestedAttributes"
                    | "prefilledInput"
                    | "additionalParameters"
                    | "language"
                    | "externalReference"
                    | "tags"
                    | "requestedLoa"
                    | "sessionLifetime"
            ) {
                return Err(refuse(name, "is not allowed through the relay"));
            }
        }

        if let Some(flow) = fields.get("flow")
            && flow.as_str() != Some("headless")
        {
            return Err(refuse("flow", "must be \"headless\""));
        }
        if let Some(providers) = fields.get("allowedProviders")
            && *providers != Value::Array(vec![Value::from("nbid")])
        {
            return Err(refuse("allowedProviders", "must be [\"nbid\"]"));
        }
        if let Some(parameters) = fields.get("additionalParameters") {
            let Some(parameters) = parameters.as_object() else {
                return Err(refuse("additionalParameters", "must be an object"));
            };
            for (name, value) in parameters {
                if name != "nbid_auth_type" || value.as_str() != Some("PHONE") {
                    return Err(refuse(
                        "additionalParameters",
                        "only {\"nbid_auth_type\": \"PHONE\"} is allowed",
                    ));
                }
            }
        }

        let nin = self.nin(fields.get("prefilledInput"))?;
        let mut conversation = SafeConversation::new(nin.clone());
        conversation = conversation.attributes(self.attributes(fields.get("requestedAttributes"))?);
        if let Some(language) = fields.get("language") {
            conversation = conversation.language(string(language, "language")?);
        }
        if let Some(reference) = fields.get("externalReference") {
            conversation = conversation.external_reference(string(reference, "externalReference")?);
        }
        if let Some(loa) = fields.get("requestedLoa") {
            conversation = conversation.requested_loa(string(loa, "requestedLoa")?);
        }
        if let Some(tags) = fields.get("tags") {
            conversation = conversation.tags(strings(tags, "tags")?);
        }
        if let Some(lifetime) = fields.get("sessionLifetime") {
            let seconds = lifetime.as_u64().filter(|s| *s > 0).ok_or_else(|| {
                refuse(
                    "sessionLifetime",
                    "must be a positive whole number of seconds",
                )
            })?;
            if seconds > u64::from(self.max_session_lifetime) {
                return Err(refuse(
                    "sessionLifetime",
                    format!("must be at most {} seconds", self.max_session_lifetime),
                ));
            }
            conversation = conversation.session_lifetime(seconds as u32);
        }
        let request = conversation.into_request();
        // Signicat's documented limits (language code, tags, LoA values), checked by the core.
        if let Err(safeconv::Error::InvalidInput { field, reason }) = request.validate() {
            return Err(refuse(&camel_case(&field), reason));
        }
        Ok(AllowedCreate { nin, request })
    }

    fn nin(&self, prefilled: Option<&Value>) -> Result<Nin, PolicyRefusal> {
        let Some(prefilled) = prefilled else {
            return Err(refuse(
                "prefilledInput.nin",
                "is required for Safe Conversation",
            ));
        };
        let Some(prefilled) = prefilled.as_object() else {
            return Err(refuse("prefilledInput", "must be an object"));
        };
        if let Some(other) = prefilled.keys().find(|k| k.as_str() != "nin") {
            return Err(refuse(
                &format!("prefilledInput.{other}"),
                "is not allowed through the relay (only nin)",
            ));
        }
        let text = prefilled
            .get("nin")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("prefilledInput.nin", "is required, as a string"))?;
        // The core's rules; its message never repeats the number.
        Nin::parse_with(text, self.nin_rules)
            .map_err(|e| refuse("prefilledInput.nin", e.to_string()))
    }

    fn attributes(&self, requested: Option<&Value>) -> Result<Vec<String>, PolicyRefusal> {
        let Some(requested) = requested else {
            return Ok(DEFAULT_ATTRIBUTES
                .iter()
                .filter(|a| self.allowed_attributes.iter().any(|x| x == *a))
                .map(|a| (*a).to_owned())
                .collect());
        };
        let requested = strings(requested, "requestedAttributes")?;
        if let Some(refused) = requested
            .iter()
            .find(|a| !self.allowed_attributes.contains(a))
        {
            return Err(refuse(
                "requestedAttributes",
                format!(
                    "{refused:?} is not allowed (allowed: {})",
                    self.allowed_attributes.join(", ")
                ),
            ));
        }
        Ok(requested)
    }
}

fn string(value: &Value, field: &str) -> Result<String, PolicyRefusal> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| refuse(field, "must be a string"))
}

fn strings(value: &Value, field: &str) -> Result<Vec<String>, PolicyRefusal> {
    value
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| refuse(field, "must be an array of strings"))
}

/// The core names fields in snake case; the wire uses camelCase.
fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Result<AllowedCreate, PolicyRefusal> {
        CreatePolicy::default().check(body.as_bytes())
    }

    #[test]
    fn the_sdk_request_passes_and_is_rebuilt() {
        let body = r#"{"flow":"headless","allowedProviders":["nbid"],"requestedAttributes":["name","nin"],
            "prefilledInput":{"nin":"01018010018"},"additionalParameters":{"nbid_auth_type":"PHONE"},
            "language":"nb","externalReference":"call-1","tags":["t"],"requestedLoa":"substantial","sessionLifetime":600}"#;
        let allowed = check(body).unwrap();
        let sent = serde_json::to_value(&allowed.request).unwrap();
        assert_eq!(sent["flow"], "headless");
        assert_eq!(
            sent["requestedAttributes"],
            serde_json::json!(["name", "nin"])
        );
        assert_eq!(sent["sessionLifetime"], 600);
        assert_eq!(allowed.nin.masked(), "010180*****");
    }

    #[test]
    fn every_refusal_names_its_field() {
        let nin = r#""prefilledInput":{"nin":"01018010018"}"#;
        for (body, field) in [
            (format!(r#"{{{nin},"flow":"redirect"}}"#), "policy:flow"),
            (
                format!(r#"{{{nin},"allowedProviders":["sbid"]}}"#),
                "policy:allowedProviders",
            ),
            (
                format!(r#"{{{nin},"allowedProviders":["nbid","sbid"]}}"#),
                "policy:allowedProviders",
            ),
            (
                format!(r#"{{{nin},"requestedAttributes":["email"]}}"#),
                "policy:requestedAttributes",
            ),
            (
                format!(r#"{{{nin},"callbackUrls":{{"success":"x"}}}}"#),
                "policy:callbackUrls",
            ),
            (
                format!(r#"{{{nin},"returnUrl":"https://x"}}"#),
                "policy:returnUrl",
            ),
            (
                format!(r#"{{{nin},"embeddedParentDomains":["x"]}}"#),
                "policy:embeddedParentDomains",
            ),
            (
                format!(r#"{{{nin},"encryptionPublicKey":{{}}}}"#),
                "policy:encryptionPublicKey",
            ),
            (
                format!(r#"{{{nin},"additionalParameters":{{"nbid_auth_type":"APP"}}}}"#),
                "policy:additionalParameters",
            ),
            (
                format!(r#"{{{nin},"sessionLifetime":3600}}"#),
                "policy:sessionLifetime",
            ),
            (format!(r#"{{{nin},"themeId":"x"}}"#), "policy:themeId"),
            (
                format!(r#"{{{nin},"language":"norsk"}}"#),
                "policy:language",
            ),
            (
                r#"{"prefilledInput":{"nin":"17029012345"}}"#.to_owned(),
                "policy:prefilledInput.nin",
            ),
            (
                r#"{"prefilledInput":{"nin":"01018010018","mobile":"+47"}}"#.to_owned(),
                "policy:prefilledInput.mobile",
            ),
            (
                r#"{"flow":"headless"}"#.to_owned(),
                "policy:prefilledInput.nin",
            ),
            ("[1]".to_owned(), "policy:body"),
            ("not json".to_owned(), "policy:body"),
        ] {
            let refusal = check(&body).unwrap_err();
            assert_eq!(refusal.reason, field, "{body}");
            assert_eq!(refusal.problem.status().as_u16(), 400);
        }
    }

    #[test]
    fn a_refused_nin_is_not_repeated() {
        let refusal = check(r#"{"prefilledInput":{"nin":"17029012345"}}"#).unwrap_err();
        assert!(!format!("{:?}", refusal.problem).contains("17029012345"));
    }
}
