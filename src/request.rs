//! What the SDK sends to create a session: the full headless request, and the Safe Conversation
//! shortcut that fills it in.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::nin::{Nin, NinRules};

/// The attributes a Safe Conversation asks for unless told otherwise.
pub const DEFAULT_ATTRIBUTES: [&str; 5] = ["name", "firstName", "lastName", "nin", "dateOfBirth"];

/// A create-session request with every field of Signicat's API. Unset fields are not sent.
///
/// Most users want [`SafeConversation`], which fills this in.
///
/// ```
/// use safeconv::{CreateSessionRequest, Nin};
/// let mut request = CreateSessionRequest::headless();
/// request.allowed_providers = vec!["nbid".into()];
/// request.prefilled_input.nin = Some(Nin::parse("01018010018").unwrap());
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["flow"], "headless");
/// assert_eq!(json["prefilledInput"]["nin"], "01018010018");
/// assert!(json.get("language").is_none());
/// ```
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    /// `headless`, `redirect` or `embedded`. This SDK drives `headless`.
    pub flow: String,
    /// Providers to allow, e.g. `["nbid"]`; each at most 30 characters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_providers: Vec<String>,
    /// Attributes wanted in the subject.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requested_attributes: Vec<String>,
    /// Known facts about the end-user; `nin` is mandatory for Safe Conversation.
    #[serde(skip_serializing_if = "PrefilledInput::is_empty")]
    pub prefilled_input: PrefilledInput,
    /// Provider parameters, e.g. `nbid_auth_type = PHONE`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_parameters: BTreeMap<String, String>,
    /// `low`, `substantial` or `high`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_loa: Option<String>,
    /// ISO 639-1 language of the end-user's texts (Signicat falls back to `en`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Seconds the session lives (Signicat's default 1200; values under 300 are raised to 300).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_lifetime: Option<u32>,
    /// Your own reference, echoed back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    /// Usage reference for billing reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_reference: Option<String>,
    /// Theme for the end-user's screens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme_id: Option<String>,
    /// The domain the request is made for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_domain: Option<String>,
    /// Tags to filter webhooks by: at most 100, each at most 100 characters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A JWK to encrypt responses with (makes them JWE; not needed for nbid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_public_key: Option<Value>,
    /// Redirect flow only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_urls: Option<CallbackUrls>,
}

/// Redirect-flow callback URLs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CallbackUrls {
    /// After success.
    pub success: String,
    /// After the end-user aborts.
    pub abort: String,
    /// After an error.
    pub error: String,
}

/// Prefilled facts about the end-user. `Debug` masks the NIN.
#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrefilledInput {
    /// The national identity number (mandatory for Safe Conversation).
    #[serde(serialize_with = "expose_nin", skip_serializing_if = "Option::is_none")]
    pub nin: Option<Nin>,
    /// Mobile number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// User name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Device id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Any other prefill field Signicat accepts.
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
}

impl PrefilledInput {
    fn is_empty(&self) -> bool {
        self.nin.is_none()
            && self.mobile.is_none()
            && self.email.is_none()
            && self.user_name.is_none()
            && self.date_of_birth.is_none()
            && self.device_id.is_none()
            && self.first_name.is_none()
            && self.last_name.is_none()
            && self.extra.is_empty()
    }
}

impl fmt::Debug for PrefilledInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("PrefilledInput");
        s.field("nin", &self.nin);
        for (name, value) in [
            ("mobile", &self.mobile),
            ("email", &self.email),
            ("user_name", &self.user_name),
            ("date_of_birth", &self.date_of_birth),
            ("device_id", &self.device_id),
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ] {
            if value.is_some() {
                s.field(name, value);
            }
        }
        s.field("extra", &self.extra.keys().collect::<Vec<_>>());
        s.finish()
    }
}

fn expose_nin<S: Serializer>(nin: &Option<Nin>, serializer: S) -> Result<S::Ok, S::Error> {
    match nin {
        Some(nin) => serializer.serialize_str(nin.expose()),
        None => serializer.serialize_none(),
    }
}

impl CreateSessionRequest {
    /// An empty request for the headless flow.
    pub fn headless() -> Self {
        CreateSessionRequest {
            flow: "headless".to_owned(),
            ..Default::default()
        }
    }

    /// Checks the limits Signicat documents, so a bad request fails here with the field's name
    /// ([`Client::create_session`](crate::Client::create_session) calls it before sending).
    ///
    /// ```
    /// let mut request = safeconv::CreateSessionRequest::headless();
    /// request.language = Some("norsk".into());
    /// assert!(matches!(request.validate(), Err(safeconv::Error::InvalidInput { .. })));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !matches!(self.flow.as_str(), "headless" | "redirect" | "embedded") {
            return Err(Error::invalid_input(
                "flow",
                "must be \"headless\", \"redirect\" or \"embedded\"",
            ));
        }
        if let Some(p) = self
            .allowed_providers
            .iter()
            .find(|p| p.is_empty() || p.chars().count() > 30)
        {
            return Err(Error::invalid_input(
                "allowed_providers",
                format!("each provider must be 1 to 30 characters ({p:?} is not)"),
            ));
        }
        if self.tags.len() > 100 {
            return Err(Error::invalid_input("tags", "at most 100 tags"));
        }
        if self.tags.iter().any(|t| t.chars().count() > 100) {
            return Err(Error::invalid_input(
                "tags",
                "each tag must be at most 100 characters",
            ));
        }
        if let Some(language) = &self.language
            && (language.len() != 2 || !language.bytes().all(|b| b.is_ascii_lowercase()))
        {
            return Err(Error::invalid_input(
                "language",
                "must be a two-letter ISO 639-1 code such as \"nb\" or \"en\"",
            ));
        }
        if let Some(loa) = &self.requested_loa
            && !matches!(loa.as_str(), "low" | "substantial" | "high")
        {
            return Err(Error::invalid_input(
                "requested_loa",
                "must be \"low\", \"substantial\" or \"high\"",
            ));
        }
        if self.session_lifetime == Some(0) {
            return Err(Error::invalid_input(
                "session_lifetime",
                "must be more than 0 seconds",
            ));
        }
        if self.requested_attributes.iter().any(String::is_empty) {
            return Err(Error::invalid_input(
                "requested_attributes",
                "must not contain empty names",
            ));
        }
        Ok(())
    }
}

/// A Norwegian BankID Safe Conversation: the headless `nbid` request with the caller's NIN and
/// `nbid_auth_type = PHONE`.
///
/// ```
/// use safeconv::{Nin, SafeConversation};
/// let request = SafeConversation::new(Nin::parse("01018010018").unwrap())
///     .attributes(["name", "nin"])
///     .language("nb")
///     .external_reference("call-4711");
/// let json = serde_json::to_value(request.to_request()).unwrap();
/// assert_eq!(json["additionalParameters"]["nbid_auth_type"], "PHONE");
/// assert_eq!(json["allowedProviders"][0], "nbid");
/// assert_eq!(json["requestedAttributes"], serde_json::json!(["name", "nin"]));
/// ```
#[derive(Clone, Debug)]
pub struct SafeConversation {
    request: CreateSessionRequest,
}

impl SafeConversation {
    /// A Safe Conversation for this caller, asking for name, first and last name, NIN and date
    /// of birth.
    pub fn new(nin: Nin) -> Self {
        let mut request = CreateSessionRequest::headless();
        request.allowed_providers = vec!["nbid".to_owned()];
        request.requested_attributes = DEFAULT_ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect();
        request.prefilled_input.nin = Some(nin);
        request
            .additional_parameters
            .insert("nbid_auth_type".to_owned(), "PHONE".to_owned());
        SafeConversation { request }
    }

    /// Validates `nin` with `rules` and starts building; a refused number is
    /// [`Error::InvalidNin`].
    pub fn parse(nin: &str, rules: NinRules) -> Result<Self> {
        Ok(SafeConversation::new(Nin::parse_with(nin, rules)?))
    }

    /// Which attributes to request (replaces the default list).
    pub fn attributes<I, S>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.request.requested_attributes = attributes.into_iter().map(Into::into).collect();
        self
    }

    /// The language of the texts the caller sees (ISO 639-1, e.g. `nb`).
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.request.language = Some(language.into());
        self
    }

    /// Session lifetime in seconds (Signicat raises values under 300 to 300).
    pub fn session_lifetime(mut self, seconds: u32) -> Self {
        self.request.session_lifetime = Some(seconds);
        self
    }

    /// Your own reference (e.g. the call id), echoed back by Signicat.
    pub fn external_reference(mut self, reference: impl Into<String>) -> Self {
        self.request.external_reference = Some(reference.into());
        self
    }

    /// Tags for webhook filtering.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.request.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Level of assurance to require: `low`, `substantial` or `high`.
    pub fn requested_loa(mut self, loa: impl Into<String>) -> Self {
        self.request.requested_loa = Some(loa.into());
        self
    }

    /// The NIN this conversation is for.
    pub fn nin(&self) -> &Nin {
        self.request
            .prefilled_input
            .nin
            .as_ref()
            .expect("a SafeConversation always has a NIN")
    }

    /// The create-session request this becomes.
    pub fn to_request(&self) -> &CreateSessionRequest {
        &self.request
    }

    /// The create-session request this becomes, for further changes.
    pub fn into_request(self) -> CreateSessionRequest {
        self.request
    }
}
