//! The OpenSearch connection of the resources that write LFM documents (`lfm_alert_rule`,
//! `lfm_alert_destination`): the attributes (`opensearch_url`, `index_prefix`, `username`,
//! `password`, `request_timeout_seconds`, the `sigv4` block), their checks, their decoding
//! into a [`Target`] and an `lfm-opensearch` client, OpenSearch errors as diagnostics naming
//! the attribute to change, and the three document calls these resources make (get, put with
//! `refresh=wait_for`, delete).
//!
//! `lfm_dashboard_bundle` shares the authentication part ([`Auth`], [`auth_from_value`],
//! [`validate_auth`], [`sigv4_block`], the environment fallback) and keeps its own extras
//! (`dashboards_url`, `max_retries`).

use crate::framework::{AttrPath, Attribute, Block, Diagnostics, NestedBlock, Validator, Value};
use crate::lfm::{validators, LfmContext};
use aws_credential_types::provider::SharedCredentialsProvider;
use lfm_opensearch::{Problem, TimeoutKind};
use lfm_schema::contract::DEFAULT_INDEX_PREFIX;
use reqwest::Method;
use serde_json::Value as Json;
use std::time::Duration;

/// The target's attributes, in schema order (state objects carry all of them).
pub const ATTRIBUTES: &[&str] = &["opensearch_url", "index_prefix", "username", "password", "request_timeout_seconds"];
/// The target's nested blocks (null when absent).
pub const BLOCKS: &[&str] = &["sigv4"];

/// Basic-auth credentials used when the configuration or state sets neither username nor
/// sigv4 (an imported state has neither: `terraform import` reads with these).
pub const ENV_USERNAME: &str = "LFM_OPENSEARCH_USERNAME";
pub const ENV_PASSWORD: &str = "LFM_OPENSEARCH_PASSWORD";

/// Seconds of one attempt when `request_timeout_seconds` is unset.
pub const DEFAULT_REQUEST_TIMEOUT_S: i64 = 30;
/// Retries of a request answered 429/502/503/504 or not answered.
const MAX_RETRIES: u32 = 3;

#[derive(Clone, Debug, PartialEq)]
pub enum Auth {
    None,
    Basic { username: String, password: String },
    SigV4 { service: String, region: String },
}

/// Where the documents go and how to talk to OpenSearch.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Without a trailing `/`.
    pub opensearch_url: String,
    pub index_prefix: String,
    pub auth: Auth,
    pub timeout: Duration,
}

/// Validator of `opensearch_url`: http(s), a host, no query, no `|` (the ID separator).
pub fn http_url(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !s.contains(char::is_whitespace) && !s.contains('?') && !s.contains('|') => Ok(()),
        _ => Err("must be an http:// or https:// URL with a host and no query, e.g. https://search-lfm.eu-west-1.es.amazonaws.com or http://127.0.0.1:9200".into()),
    }
}

/// The URL as IDs carry it: without a trailing `/`.
pub fn url_trimmed(s: &str) -> String {
    s.trim_end_matches('/').to_owned()
}

/// The `sigv4` block: AWS Signature Version 4 with the provider's credentials.
pub fn sigv4_block() -> NestedBlock {
    let sigv4 = Block::new("AWS Signature Version 4 with the provider's AWS credentials (Amazon OpenSearch Service or Serverless).")
        .attr(Attribute::string("service").default(Value::string("es")).validate(Validator::OneOf(&["es", "aoss"])).description("`es` for Amazon OpenSearch Service domains, `aoss` for OpenSearch Serverless collections."))
        .attr(Attribute::string("region").required().validate(validators::REGION).description("Region of the domain or collection."));
    NestedBlock::single("sigv4", sigv4)
}

/// Adds the target's attributes and block to a resource's block. `what` says what the
/// resource writes (for the descriptions).
pub fn with_target(block: Block, what: &str) -> Block {
    block
        .attr(Attribute::string("opensearch_url").required().force_new().validate(Validator::Custom(http_url)).description(&format!("Base URL of the OpenSearch cluster the collector writes to and reads {what} from, e.g. https://search-lfm-abc.eu-west-1.es.amazonaws.com. Part of the ID.")))
        .attr(Attribute::string("index_prefix").default(Value::string(DEFAULT_INDEX_PREFIX)).force_new().validate(Validator::Custom(crate::lfm::contract::index_prefix)).description("Prefix of every LFM index; the same as the collector's. Part of the ID."))
        .attr(Attribute::string("username").optional().description(&format!("Basic authentication (the OpenSearch security plugin's internal users): user name. Set with password; not with sigv4. Without username and sigv4, {ENV_USERNAME} / {ENV_PASSWORD} are used when set.")))
        .attr(Attribute::string("password").optional().sensitive().description("Basic authentication: password (sensitive)."))
        .attr(Attribute::number("request_timeout_seconds").default(Value::Number(DEFAULT_REQUEST_TIMEOUT_S as f64)).validate(Validator::IntRange { min: 1, max: 3600 }).description("Seconds one attempt of an OpenSearch request may take, answer included. The provider block's connect_timeout_seconds and operation_timeout_seconds (all attempts) bound these requests too."))
        .block(sigv4_block())
}

/// Authentication from a plan or state: username (basic), else the sigv4 block, else basic
/// from `env`'s [`ENV_USERNAME`] / [`ENV_PASSWORD`], else none.
pub fn auth_from_value(v: &Value, env: impl Fn(&str) -> Option<String>) -> Auth {
    let sigv4 = v.get("sigv4");
    let sigv4 = match sigv4 {
        Value::List(items) => items.first().unwrap_or(&Value::Null),
        other => other,
    };
    if let Some(username) = v.get("username").as_str() {
        Auth::Basic { username: username.to_owned(), password: v.get("password").as_str().unwrap_or_default().to_owned() }
    } else if !sigv4.is_null() {
        Auth::SigV4 {
            service: sigv4.get("service").as_str().unwrap_or("es").to_owned(),
            region: sigv4.get("region").as_str().unwrap_or_default().to_owned(),
        }
    } else if let (Some(username), Some(password)) = (env(ENV_USERNAME), env(ENV_PASSWORD)) {
        Auth::Basic { username, password }
    } else {
        Auth::None
    }
}

/// The process environment, empty values as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

impl Target {
    /// From a known plan or state object (defaults where attributes are null).
    pub fn from_value(v: &Value, resource: &str) -> Result<Target, Diagnostics> {
        Self::from_value_with_env(v, resource, process_env)
    }

    pub fn from_value_with_env(v: &Value, resource: &str, env: impl Fn(&str) -> Option<String>) -> Result<Target, Diagnostics> {
        let url = v.get("opensearch_url").as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
            Diagnostics::attribute_error(
                AttrPath::attr("opensearch_url"),
                "opensearch_url is not known",
                format!("{resource} needs a known opensearch_url at apply time."),
            )
        })?;
        Ok(Target {
            opensearch_url: url_trimmed(url),
            index_prefix: v.get("index_prefix").as_str().unwrap_or(DEFAULT_INDEX_PREFIX).to_owned(),
            auth: auth_from_value(v, env),
            timeout: Duration::from_secs(v.get("request_timeout_seconds").as_i64().unwrap_or(DEFAULT_REQUEST_TIMEOUT_S).max(1) as u64),
        })
    }

    /// `{opensearch_url}|{index_prefix}`: what every ID of this target starts with.
    pub fn id_prefix(&self) -> String {
        format!("{}|{}", self.opensearch_url, self.index_prefix)
    }

    /// `{opensearch_url}|{index_prefix}|{name}`, the ID of a document resource.
    pub fn resource_id(&self, name: &str) -> String {
        format!("{}|{name}", self.id_prefix())
    }
}

/// An ID `{opensearch_url}|{index_prefix}|{name}` split into its parts, each checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentId {
    pub opensearch_url: String,
    pub index_prefix: String,
    pub name: String,
}

/// Parses `{opensearch_url}|{index_prefix}|{name}`; the error says what is wrong with it.
pub fn parse_document_id(id: &str) -> Result<DocumentId, String> {
    let parts: Vec<&str> = id.split('|').collect();
    let [url, prefix, name] = parts[..] else {
        return Err(format!("has {} part(s) separated by |, expected 3: OPENSEARCH_URL|INDEX_PREFIX|NAME", parts.len()));
    };
    http_url(&Value::string(url)).map_err(|e| format!("its OPENSEARCH_URL \"{url}\" {e}"))?;
    crate::lfm::contract::index_prefix(&Value::string(prefix)).map_err(|e| format!("its INDEX_PREFIX \"{prefix}\": {e}"))?;
    if name.is_empty() {
        return Err("has an empty NAME".into());
    }
    Ok(DocumentId { opensearch_url: url_trimmed(url), index_prefix: prefix.to_owned(), name: name.to_owned() })
}

/// The state an import starts from: every attribute null but the target's and `name`
/// (defaults of the target's optional attributes filled in); `read` fills in the rest.
pub fn import_state(attributes: &[&str], id: &DocumentId, full_id: &str) -> Value {
    let mut state = Value::object(attributes.iter().chain(BLOCKS).map(|a| (*a, Value::Null)));
    state.set("id", Value::string(full_id));
    state.set("name", Value::string(&id.name));
    state.set("opensearch_url", Value::string(&id.opensearch_url));
    state.set("index_prefix", Value::string(&id.index_prefix));
    state.set("request_timeout_seconds", Value::Number(DEFAULT_REQUEST_TIMEOUT_S as f64));
    state
}

/// Cross-attribute checks of the authentication. An unknown value is neither set nor missing
/// (it is checked again in the plan, once known).
pub fn validate_auth(config: &Value) -> Diagnostics {
    let set = |attr: &str| {
        let v = config.get(attr);
        !v.is_null() && !v.is_unknown()
    };
    let mut diags = Diagnostics::default();
    if set("username") && set("sigv4") {
        diags.extend(Diagnostics::attribute_error(
            AttrPath::attr("sigv4"),
            "Conflicting authentication: username/password and sigv4",
            "Use username/password (basic auth) for the security plugin's internal users, or sigv4 for Amazon OpenSearch Service / Serverless, not both.",
        ));
    }
    for (present, missing) in [("username", "password"), ("password", "username")] {
        if set(present) && config.get(missing).is_null() {
            diags.extend(Diagnostics::attribute_error(
                AttrPath::attr(missing),
                format!("{present} needs {missing}"),
                "Basic authentication needs both username and password.",
            ));
        }
    }
    diags
}

/// The `lfm-opensearch` configuration of `target` (pure). `credentials` are for SigV4 only;
/// `timeouts` are the provider block's (connect, overall).
pub fn client_config(target: &Target, credentials: Option<aws_credential_types::Credentials>, timeouts: lfm_aws::Timeouts, resource: &str) -> lfm_opensearch::ClientConfig {
    let auth = match &target.auth {
        Auth::None => lfm_opensearch::Auth::None,
        Auth::Basic { username, password } => lfm_opensearch::Auth::Basic { username: username.clone(), password: Some(password.clone()) },
        Auth::SigV4 { service, region } => lfm_opensearch::Auth::SigV4 {
            service: lfm_opensearch::SigV4Service::parse(service).unwrap_or(lfm_opensearch::SigV4Service::Es),
            region: Some(region.clone()),
        },
    };
    let mut config = lfm_opensearch::ClientConfig::new(&target.opensearch_url, auth);
    config.aws_credentials = credentials.map(SharedCredentialsProvider::new);
    config.timeouts = lfm_opensearch::Timeouts { connect: timeouts.connect, attempt: target.timeout, overall: timeouts.operation };
    config.retry.max_attempts = MAX_RETRIES + 1;
    config.settings = lfm_opensearch::SettingNames {
        url: format!("opensearch_url of {resource}"),
        credentials: format!("username and password or the sigv4 block of {resource} (or {ENV_USERNAME} / {ENV_PASSWORD})"),
        connect_timeout: "connect_timeout_seconds in the provider \"lfm\" block".into(),
        attempt_timeout: format!("request_timeout_seconds of {resource}"),
        overall_timeout: "operation_timeout_seconds in the provider \"lfm\" block".into(),
        attempts: None,
    };
    config
}

/// A client for `target`, with the provider's credentials for SigV4 and its timeouts
/// (defaults before the provider is configured).
pub async fn connect(ctx: &LfmContext, target: &Target, resource: &'static str) -> Result<Documents, Diagnostics> {
    let credentials = match target.auth {
        Auth::SigV4 { .. } => Some(ctx.aws()?.credentials().await.map_err(|e| {
            Diagnostics::attribute_error(
                AttrPath::attr("sigv4"),
                "No AWS credentials to sign OpenSearch requests with",
                format!("{e}. Configure the provider's AWS credentials (environment, profile or assume_role), or use username/password."),
            )
        })?),
        _ => None,
    };
    let timeouts = ctx.configured().map(|aws| aws.timeouts()).unwrap_or(lfm_aws::Timeouts::DEFAULT);
    let client = lfm_opensearch::Client::new(client_config(target, credentials, timeouts, resource))
        .map_err(|e| diagnostic(e, "opensearch_url", &target.auth))?;
    Ok(Documents { client, auth: target.auth.clone() })
}

/// An OpenSearch error as a diagnostic: the crate's sentence (what, endpoint, OpenSearch's
/// answer, the fix), pointing at the attribute to change: the credentials for 401/403, the
/// timeout, else `attribute`. A provider-block timeout points at no attribute.
pub fn diagnostic(e: lfm_opensearch::Error, attribute: &str, auth: &Auth) -> Diagnostics {
    let summary = format!("OpenSearch: {} failed", e.action);
    let attribute = match &e.problem {
        Problem::Status { status: 401, .. } => Some("username"),
        Problem::Status { status: 403, .. } | Problem::NotSent { .. } => Some(if matches!(auth, Auth::SigV4 { .. }) { "sigv4" } else { "username" }),
        Problem::TimedOut { which: TimeoutKind::Attempt, .. } => Some("request_timeout_seconds"),
        Problem::TimedOut { .. } => None,
        _ => Some(attribute),
    };
    match attribute {
        Some(attribute) => Diagnostics::attribute_error(AttrPath::attr(attribute), summary, e.to_string()),
        None => Diagnostics::error(summary, e.to_string()),
    }
}

/// The document calls of the alert resources, through one client.
pub struct Documents {
    client: lfm_opensearch::Client,
    auth: Auth,
}

impl Documents {
    fn fail(&self) -> impl Fn(lfm_opensearch::Error) -> Diagnostics + '_ {
        move |e| diagnostic(e, "opensearch_url", &self.auth)
    }

    /// Installs the index template `name` of `prefix` from `lfm-schema` when it has one (the
    /// collector and lfm_dashboard_bundle install the same text): a document written before
    /// them must not create its index with a guessed mapping.
    pub async fn ensure_template(&self, prefix: &str, name: &str) -> Result<(), Diagnostics> {
        let Some((name, body)) = lfm_opensearch::templates::desired(prefix).into_iter().find(|(n, _)| n == name) else {
            return Ok(());
        };
        if lfm_opensearch::templates::get(&self.client, &name).await.map_err(self.fail())?.is_some() {
            return Ok(());
        }
        self.client
            .request(Method::PUT, &format!("_index_template/{name}"))
            .action(format!("installing index template {name}"))
            .json(&body)
            .send()
            .await
            .and_then(lfm_opensearch::Response::success)
            .map(|_| ())
            .map_err(self.fail())
    }

    /// The `_source` of `index/_doc/id`; `None` when the document or the index is absent.
    pub async fn get(&self, index: &str, id: &str) -> Result<Option<Json>, Diagnostics> {
        let response = self
            .client
            .request(Method::GET, &format!("{index}/_doc/{}", encode(id)))
            .action(format!("reading document {id} of {index}"))
            .send()
            .await
            .map_err(self.fail())?;
        if response.status == 404 {
            return Ok(None);
        }
        let body = response.success().map_err(self.fail())?.json();
        Ok(if body["found"] == true { Some(body["_source"].clone()) } else { None })
    }

    /// `PUT index/_doc/id?refresh=wait_for`: searchable (by the collector's next run, by
    /// Dashboards) when this returns.
    pub async fn put(&self, index: &str, id: &str, document: &Json) -> Result<(), Diagnostics> {
        self.client
            .request(Method::PUT, &format!("{index}/_doc/{}?refresh=wait_for", encode(id)))
            .action(format!("writing document {id} of {index}"))
            .json(document)
            .send()
            .await
            .and_then(lfm_opensearch::Response::success)
            .map(|_| ())
            .map_err(self.fail())
    }

    /// `DELETE index/_doc/id?refresh=wait_for`; absent already (document or index) is success.
    pub async fn delete(&self, index: &str, id: &str) -> Result<(), Diagnostics> {
        self.client
            .delete(&format!("{index}/_doc/{}?refresh=wait_for", encode(id)), format!("deleting document {id} of {index}"))
            .await
            .map_err(self.fail())
    }
}

/// Percent-encodes a document ID for a URL path (names are `[a-z0-9_-]`, so this is a
/// safeguard).
fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn ids_round_trip_and_errors_say_what_is_wrong() {
        let id = parse_document_id("http://127.0.0.1:9200/|lfm|high-errors").unwrap();
        assert_eq!(id, DocumentId { opensearch_url: "http://127.0.0.1:9200".into(), index_prefix: "lfm".into(), name: "high-errors".into() });
        assert!(parse_document_id("http://x|lfm").unwrap_err().contains("expected 3"));
        assert!(parse_document_id("x|lfm|a").unwrap_err().contains("OPENSEARCH_URL"));
        assert!(parse_document_id("http://x|LFM|a").unwrap_err().contains("INDEX_PREFIX"));
        assert!(parse_document_id("http://x|lfm|").unwrap_err().contains("empty NAME"));
    }

    #[test]
    fn auth_from_attributes_then_environment() {
        let mut v = Value::object([("opensearch_url", Value::string("http://127.0.0.1:9200/")), ("username", Value::string("u")), ("password", Value::string("p"))]);
        let t = Target::from_value_with_env(&v, "lfm_alert_rule", no_env).unwrap();
        assert_eq!(t.auth, Auth::Basic { username: "u".into(), password: "p".into() });
        assert_eq!(t.resource_id("r"), "http://127.0.0.1:9200|lfm|r");
        assert_eq!(t.timeout, Duration::from_secs(30));
        v.set("username", Value::Null);
        v.set("sigv4", Value::List(vec![Value::object([("service", Value::string("aoss")), ("region", Value::string("eu-west-1"))])]));
        assert_eq!(auth_from_value(&v, no_env), Auth::SigV4 { service: "aoss".into(), region: "eu-west-1".into() });
        v.set("sigv4", Value::Null);
        let env = |k: &str| Some(if k == ENV_USERNAME { "eu".to_owned() } else { "ep".to_owned() });
        assert_eq!(auth_from_value(&v, env), Auth::Basic { username: "eu".into(), password: "ep".into() });
        assert_eq!(auth_from_value(&v, no_env), Auth::None);
    }

    #[test]
    fn auth_conflicts_name_the_attribute() {
        let sigv4 = Value::object([("service", Value::string("es")), ("region", Value::string("eu-west-1"))]);
        let v = Value::object([("username", Value::string("u")), ("password", Value::string("p")), ("sigv4", sigv4)]);
        assert_eq!(validate_auth(&v).0[0].attribute, Some(AttrPath::attr("sigv4")));
        let v = Value::object([("username", Value::string("u"))]);
        assert_eq!(validate_auth(&v).0[0].attribute, Some(AttrPath::attr("password")));
        let v = Value::object([("username", Value::Unknown), ("sigv4", Value::Null)]);
        assert!(validate_auth(&v).is_empty(), "unknown is neither set nor missing");
    }

    #[test]
    fn client_config_names_the_resource_settings() {
        let t = Target { opensearch_url: "http://127.0.0.1:9200".into(), index_prefix: "lfm".into(), auth: Auth::None, timeout: Duration::from_secs(7) };
        let c = client_config(&t, None, lfm_aws::Timeouts::DEFAULT, "lfm_alert_rule");
        assert_eq!(c.timeouts.attempt, Duration::from_secs(7));
        assert_eq!(c.settings.attempt_timeout, "request_timeout_seconds of lfm_alert_rule");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
