//! JavaScript option objects read into the core's records, key by key: every key the caller
//! wrote must be one the reader knows (`{ nim }` is an unknown option, not a missing `nin`), and
//! each option is one match arm, so a new core option is one line here.

use std::time::Duration;

use js_sys::{Array, Function, Object, Reflect};
use safeconv::{ClientOptions, Error, NinRules, Result, StartOptions};
use wasm_bindgen::{JsCast, JsValue};

use crate::abort::AbortSignal;

/// Calls `read(key, value)` for each key of `options` whose value is not `undefined` or `null`;
/// `read` answers whether it knows the key. `undefined` and `null` options stand for `{}`.
/// `of` names the call in messages, e.g. `startSafeConversation()`.
pub(crate) fn each(
    options: &JsValue,
    of: &str,
    mut read: impl FnMut(&str, Value) -> Result<bool>,
) -> Result<()> {
    if options.is_undefined() || options.is_null() {
        return Ok(());
    }
    if !options.is_object() || options.is_function() || Array::is_array(options) {
        return Err(Error::invalid_input("options", "must be an object"));
    }
    for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
        let Some(key) = key.as_string() else { continue };
        let value = Reflect::get(options, &JsValue::from_str(&key)).unwrap_or(JsValue::UNDEFINED);
        if value.is_undefined() || value.is_null() {
            continue;
        }
        if !read(&key, Value { key: &key, value })? {
            return Err(Error::invalid_input(
                &key,
                format!("unknown option of {of}"),
            ));
        }
    }
    Ok(())
}

/// One option's value, with the conversions the options use.
pub(crate) struct Value<'a> {
    key: &'a str,
    value: JsValue,
}

impl Value<'_> {
    fn refused(&self, why: &str) -> Error {
        Error::invalid_input(self.key, why)
    }

    pub(crate) fn string(self) -> Result<String> {
        self.value
            .as_string()
            .ok_or_else(|| self.refused("must be a string"))
    }

    pub(crate) fn boolean(self) -> Result<bool> {
        self.value
            .as_bool()
            .ok_or_else(|| self.refused("must be a boolean"))
    }

    /// A whole number of at least 0.
    pub(crate) fn whole_number(self) -> Result<u64> {
        match self.value.as_f64() {
            Some(n)
                if n.is_finite()
                    && n >= 0.0
                    && n.fract() == 0.0
                    && n <= 9_007_199_254_740_991.0 =>
            {
                Ok(n as u64)
            }
            _ => Err(self.refused("must be a whole number of at least 0")),
        }
    }

    pub(crate) fn millis(self) -> Result<Duration> {
        self.whole_number().map(Duration::from_millis)
    }

    pub(crate) fn strings(self) -> Result<Vec<String>> {
        let items = Array::is_array(&self.value).then(|| {
            Array::from(&self.value)
                .iter()
                .map(|item| item.as_string())
                .collect::<Option<Vec<_>>>()
        });
        items
            .flatten()
            .ok_or_else(|| self.refused("must be an array of strings"))
    }

    pub(crate) fn function(self) -> Result<Function> {
        self.value.dyn_into::<Function>().map_err(|value| {
            Value {
                key: self.key,
                value,
            }
            .refused("must be a function")
        })
    }

    pub(crate) fn signal(self) -> Result<AbortSignal> {
        self.value.dyn_into::<AbortSignal>().map_err(|value| {
            Value {
                key: self.key,
                value,
            }
            .refused("must be an AbortSignal")
        })
    }
}

/// `new SafeconvClient({ … })`: the core's record, and the page's token provider.
pub(crate) fn client(options: &JsValue) -> Result<(ClientOptions, Function)> {
    if options.is_undefined() || options.is_null() {
        return Err(Error::invalid_input(
            "options",
            "are required: { accountId, tokenProvider }",
        ));
    }
    let mut client = ClientOptions::default();
    let mut provider = None;
    each(options, "new SafeconvClient()", |key, value| {
        match key {
            "accountId" => client.account_id = value.string()?,
            "baseUrl" => client.base_url = Some(value.string()?),
            "pollIntervalMs" => client.poll_interval = Some(value.millis()?),
            "requestTimeoutMs" => client.request_timeout = Some(value.millis()?),
            "allowSyntheticNin" => {
                client.nin_rules = NinRules::strict().allow_synthetic(value.boolean()?)
            }
            "tokenProvider" => provider = Some(value.function()?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    // The JavaScript API has one kind of credentials: a browser never holds a client secret.
    let provider = provider.ok_or_else(|| {
        Error::invalid_input(
            "tokenProvider",
            "is required: an async function that returns an access token",
        )
    })?;
    Ok((client, provider))
}

/// `client.startSafeConversation({ nin, … })` (or the NIN alone): the NIN, the core's record and
/// the signal. `client_rules` are the client's NIN rules, which `allowInvalidNin` relaxes.
pub(crate) fn start(
    options: &JsValue,
    client_rules: NinRules,
) -> Result<(String, StartOptions, Option<AbortSignal>)> {
    if let Some(nin) = options.as_string() {
        return Ok((nin, StartOptions::default(), None));
    }
    let (mut nin, mut start, mut signal) = (None, StartOptions::default(), None);
    each(options, "startSafeConversation()", |key, value| {
        match key {
            "nin" => nin = Some(value.string()?),
            "attributes" => start.attributes = Some(value.strings()?),
            "language" => start.language = Some(value.string()?),
            "externalReference" => start.external_reference = Some(value.string()?),
            "tags" => start.tags = Some(value.strings()?),
            "requestedLoa" => start.requested_loa = Some(value.string()?),
            "sessionLifetime" => {
                let seconds = value.whole_number()?;
                start.session_lifetime = Some(
                    u32::try_from(seconds)
                        .map_err(|_| Error::invalid_input("sessionLifetime", "is too large"))?,
                );
            }
            "allowInvalidNin" => {
                start.nin_rules = Some(client_rules.allow_invalid_check_digits(value.boolean()?))
            }
            "signal" => signal = Some(value.signal()?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let nin = nin.ok_or_else(|| {
        Error::invalid_input("nin", "is required: the caller's national identity number")
    })?;
    Ok((nin, start, signal))
}

/// `session.wait({ onStatus, signal, timeoutMs })`.
pub(crate) struct Wait {
    pub(crate) on_status: Option<Function>,
    pub(crate) signal: Option<AbortSignal>,
    pub(crate) timeout: Option<Duration>,
}

pub(crate) fn wait(options: &JsValue) -> Result<Wait> {
    let mut wait = Wait {
        on_status: None,
        signal: None,
        timeout: None,
    };
    each(options, "wait()", |key, value| {
        match key {
            "onStatus" => wait.on_status = Some(value.function()?),
            "signal" => wait.signal = Some(value.signal()?),
            "timeoutMs" => wait.timeout = Some(value.millis()?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(wait)
}

/// `{ signal }`, the options of `getSession()` and `cancel()`.
pub(crate) fn signal_only(options: &JsValue, of: &str) -> Result<Option<AbortSignal>> {
    let mut signal = None;
    each(options, of, |key, value| {
        match key {
            "signal" => signal = Some(value.signal()?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(signal)
}

/// `checkNin(nin, { allowSynthetic, allowInvalidCheckDigits })`.
pub(crate) fn nin_rules(options: &JsValue) -> Result<NinRules> {
    let mut rules = NinRules::strict();
    each(options, "checkNin()", |key, value| {
        match key {
            "allowSynthetic" => rules = rules.allow_synthetic(value.boolean()?),
            "allowInvalidCheckDigits" => rules = rules.allow_invalid_check_digits(value.boolean()?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(rules)
}
