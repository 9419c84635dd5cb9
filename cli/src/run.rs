//! `authenticate`, `status` and `cancel` against a configured Signicat account.

use std::time::Duration;

use safeconv::{CancelToken, Client, Error, NinRules, SafeConversation, WaitOptions};

use crate::args::{AuthenticateArgs, Connection, SessionArgs};
use crate::exit;
use crate::report::Reporter;

pub async fn authenticate(args: AuthenticateArgs) -> i32 {
    let reporter = Reporter::new(args.connection.json);
    let rules = NinRules::strict()
        .allow_synthetic(args.allow_synthetic)
        .allow_invalid_check_digits(args.allow_invalid_nin);
    let prepared = SafeConversation::parse(&args.nin, rules).and_then(|conversation| {
        let client = client(&args.connection, rules)?;
        Ok((conversation, client))
    });
    let (mut conversation, client) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => return fail(&reporter, &e),
    };
    if !args.attributes.is_empty() {
        conversation = conversation.attributes(args.attributes);
    }
    converse(
        &client,
        &conversation,
        args.timeout.map(Duration::from_secs),
        reporter,
    )
    .await
}

/// Creates the session, shows the binding message, waits (Ctrl-C cancels), shows the outcome.
pub async fn converse(
    client: &Client,
    conversation: &SafeConversation,
    timeout: Option<Duration>,
    mut reporter: Reporter,
) -> i32 {
    let cancel = CancelToken::new();
    let interrupt = cancel.clone();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nsafeconv: cancelling the session (press Ctrl-C again to quit at once)");
            interrupt.cancel();
        }
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });

    let session = match client.start_safe_conversation(conversation).await {
        Ok(session) => session,
        Err(e) => {
            ctrl_c.abort();
            return fail(&reporter, &e);
        }
    };
    reporter.created(&session);
    let spinner = reporter.start_spinner();
    let listener = reporter.clone();
    let mut options = WaitOptions::new()
        .cancel_token(cancel)
        .on_status(move |s| listener.status(s));
    if let Some(timeout) = timeout {
        options = options.timeout(timeout);
    }
    let result = client.wait(&session, options).await;
    drop(spinner);
    ctrl_c.abort();
    match result {
        Ok(outcome) => {
            reporter.outcome(&outcome);
            exit::for_status(&outcome.status())
        }
        Err(e) => fail(&reporter, &e),
    }
}

pub async fn status(args: SessionArgs) -> i32 {
    let reporter = Reporter::new(args.connection.json);
    let client = match client(&args.connection, NinRules::strict()) {
        Ok(client) => client,
        Err(e) => return fail(&reporter, &e),
    };
    match client.get_session(&args.id).await {
        Ok(session) => {
            reporter.session(&session);
            exit::SUCCESS
        }
        Err(e) => fail(&reporter, &e),
    }
}

pub async fn cancel(args: SessionArgs) -> i32 {
    let reporter = Reporter::new(args.connection.json);
    let client = match client(&args.connection, NinRules::strict()) {
        Ok(client) => client,
        Err(e) => return fail(&reporter, &e),
    };
    match client.cancel_session(&args.id).await {
        Ok(session) => {
            reporter.session(&session);
            exit::SUCCESS
        }
        Err(e) => fail(&reporter, &e),
    }
}

fn fail(reporter: &Reporter, error: &Error) -> i32 {
    reporter.error(error);
    exit::for_error(error)
}

fn client(connection: &Connection, rules: NinRules) -> Result<Client, Error> {
    let missing = |field: &str, variable: &str| Error::InvalidInput {
        field: field.to_owned(),
        reason: format!(
            "is required: pass --{} or set {variable}",
            field.replace('_', "-")
        ),
    };
    let account_id = connection
        .account_id
        .clone()
        .ok_or_else(|| missing("account_id", "SAFECONV_ACCOUNT_ID"))?;
    let client_id = connection
        .client_id
        .clone()
        .ok_or_else(|| missing("client_id", "SAFECONV_CLIENT_ID"))?;
    let secret = connection
        .client_secret
        .clone()
        .ok_or_else(|| missing("client_secret", "SAFECONV_CLIENT_SECRET"))?;
    let mut builder = Client::builder()
        .base_url(connection.base_url.clone())
        .account_id(account_id)
        .client_credentials(client_id, secret)
        .nin_rules(rules)
        .user_agent(concat!("safeconv-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(token_url) = &connection.token_url {
        builder = builder.token_url(token_url.clone());
    }
    if let Some(ms) = connection.poll_interval_ms {
        builder = builder.poll_interval(Duration::from_millis(ms));
    }
    if let Some(ms) = connection.request_timeout_ms {
        builder = builder.request_timeout(Duration::from_millis(ms));
    }
    builder = builder.trust_roots(connection.roots.into());
    if let Some(path) = &connection.ca_file {
        builder = builder.add_ca_file(path);
    }
    if let Some(url) = &connection.proxy {
        builder = builder.proxy_url(url.clone());
    }
    match (&connection.proxy_user, &connection.proxy_password) {
        (Some(user), password) => {
            builder = builder.proxy_credentials(user.clone(), password.clone().unwrap_or_default());
        }
        (None, Some(_)) => {
            return Err(Error::InvalidInput {
                field: "proxy_user".to_owned(),
                reason: "is required with a proxy password: pass --proxy-user or set \
                         SAFECONV_PROXY_USER"
                    .to_owned(),
            });
        }
        (None, None) => {}
    }
    if let Some(hosts) = &connection.no_proxy {
        builder = builder.no_proxy(hosts.clone());
    }
    builder.build()
}
