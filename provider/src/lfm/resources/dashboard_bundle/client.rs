//! The I/O of `lfm_dashboard_bundle`, through the one LFM OpenSearch client (`lfm-opensearch`):
//! index templates with the mapping upgrade ([`lfm_opensearch::templates`]), the ISM retention
//! policy, and the OpenSearch Dashboards saved objects ([`lfm_opensearch::dashboards`]).
//! Authentication (basic or SigV4), the timeouts, the retry decision and the error sentence are
//! the crate's; this file says which attribute or setting an error points at.

use super::model::{self, Auth, Target};
use crate::framework::{AttrPath, Diagnostics};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use lfm_opensearch::dashboards::Dashboards;
use lfm_opensearch::{templates, Problem, TimeoutKind};
use lfm_schema::dashboards::Bundle;
use reqwest::Method;
use std::collections::BTreeMap;

/// What the provider's users set, named in the fix of an OpenSearch error.
const CONNECT_TIMEOUT: &str = "connect_timeout_seconds in the provider \"lfm\" block";
const OPERATION_TIMEOUT: &str = "operation_timeout_seconds in the provider \"lfm\" block";

pub struct Client {
    opensearch: lfm_opensearch::Client,
    dashboards: Option<Dashboards>,
    target: Target,
}

impl Client {
    /// `credentials` are needed for SigV4 only; `timeouts` are the provider block's (connect
    /// and overall; one attempt is bounded by the resource's `request_timeout_seconds`).
    pub fn new(target: &Target, credentials: Option<Credentials>, timeouts: lfm_aws::Timeouts) -> Result<Client, Diagnostics> {
        let config = |url: &str, url_attribute: &str| {
            let auth = match &target.auth {
                Auth::None => lfm_opensearch::Auth::None,
                Auth::Basic { username, password } => {
                    lfm_opensearch::Auth::Basic { username: username.clone(), password: Some(password.clone()) }
                }
                Auth::SigV4 { service, region } => lfm_opensearch::Auth::SigV4 {
                    service: lfm_opensearch::SigV4Service::parse(service).unwrap_or(lfm_opensearch::SigV4Service::Es),
                    region: Some(region.clone()),
                },
            };
            let mut config = lfm_opensearch::ClientConfig::new(url, auth);
            config.aws_credentials = credentials.clone().map(SharedCredentialsProvider::new);
            config.timeouts = lfm_opensearch::Timeouts {
                connect: timeouts.connect,
                attempt: target.timeout,
                overall: timeouts.operation,
            };
            config.retry.max_attempts = target.max_retries + 1;
            config.settings = lfm_opensearch::SettingNames {
                url: format!("{url_attribute} of lfm_dashboard_bundle"),
                credentials: format!(
                    "username and password or the sigv4 block of lfm_dashboard_bundle (or {} / {})",
                    model::ENV_USERNAME,
                    model::ENV_PASSWORD
                ),
                connect_timeout: CONNECT_TIMEOUT.into(),
                attempt_timeout: "request_timeout_seconds of lfm_dashboard_bundle".into(),
                overall_timeout: OPERATION_TIMEOUT.into(),
                attempts: Some("max_retries of lfm_dashboard_bundle".into()),
            };
            config
        };
        let opensearch = lfm_opensearch::Client::new(config(&target.opensearch_url, "opensearch_url"))
            .map_err(|e| diagnostic(e, "opensearch_url", &target.auth))?;
        let dashboards = match &target.dashboards_url {
            Some(url) => Some(Dashboards::new(config(url, "dashboards_url")).map_err(|e| diagnostic(e, "dashboards_url", &target.auth))?),
            None => None,
        };
        Ok(Client { opensearch, dashboards, target: target.clone() })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Turns an OpenSearch error into a diagnostic pointing at `attribute` ([`diagnostic`]).
    fn fail(&self, attribute: &'static str) -> impl Fn(lfm_opensearch::Error) -> Diagnostics + '_ {
        move |e| diagnostic(e, attribute, &self.target.auth)
    }

    // ---------------------------------------------------------------- index templates

    /// Every template, then the current mappings onto indices that already exist (a failed
    /// mapping upgrade fails the apply: the collector's documents would be refused).
    pub async fn put_templates(&self) -> Result<(), Diagnostics> {
        let installed =
            templates::install(&self.opensearch, &self.target.index_prefix).await.map_err(self.fail("opensearch_url"))?;
        match installed.mapping_upgrades_failed.into_iter().next() {
            Some(e) => Err(self.fail("index_prefix")(e)),
            None => Ok(()),
        }
    }

    /// `name -> hash` of the installed templates of the prefix: the desired hash when the
    /// installed one is equivalent, else the installed one's own hash; absent ones left out.
    pub async fn read_templates(&self) -> Result<BTreeMap<String, String>, Diagnostics> {
        let mut found = BTreeMap::new();
        for (name, desired) in templates::desired(&self.target.index_prefix) {
            let Some(installed) = templates::get(&self.opensearch, &name).await.map_err(self.fail("opensearch_url"))?
            else {
                continue;
            };
            let hash = if model::templates_equivalent(&desired, &installed) {
                model::template_hash(&desired)
            } else {
                model::template_hash(&installed)
            };
            found.insert(name, hash);
        }
        Ok(found)
    }

    pub async fn delete_templates(&self) -> Result<(), Diagnostics> {
        for (name, _) in templates::desired(&self.target.index_prefix) {
            templates::delete(&self.opensearch, &name).await.map_err(self.fail("opensearch_url"))?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- ISM

    /// Whether the Index State Management plugin answers (`GET _plugins/_ism/policies`;
    /// without the plugin OpenSearch says 400 "no handler found", some proxies 404).
    pub async fn ism_available(&self) -> Result<bool, Diagnostics> {
        let response = self
            .opensearch
            .request(Method::GET, "_plugins/_ism/policies")
            .action("probing for the ISM plugin")
            .send()
            .await
            .map_err(self.fail("ism"))?;
        match response.status {
            200..=299 => Ok(true),
            400 | 404 => Ok(false),
            _ => Err(self.fail("ism")(response.error())),
        }
    }

    pub async fn ism_policy_exists(&self, id: &str) -> Result<bool, Diagnostics> {
        Ok(self.ism_policy(id).await?.is_success())
    }

    async fn ism_policy(&self, id: &str) -> Result<lfm_opensearch::Response, Diagnostics> {
        self.opensearch
            .request(Method::GET, &format!("_plugins/_ism/policies/{id}"))
            .action(format!("reading ISM policy {id}"))
            .send()
            .await
            .map_err(self.fail("retention_days"))
    }

    /// Create or update (with `if_seq_no`/`if_primary_term`, as ISM requires) the policy.
    pub async fn put_ism_policy(&self, id: &str, days: u32) -> Result<(), Diagnostics> {
        let existing = self.ism_policy(id).await?;
        let body = existing.json();
        let path = match (existing.is_success(), body["_seq_no"].as_u64(), body["_primary_term"].as_u64()) {
            (true, Some(seq), Some(term)) => format!("_plugins/_ism/policies/{id}?if_seq_no={seq}&if_primary_term={term}"),
            _ => format!("_plugins/_ism/policies/{id}"),
        };
        self.opensearch
            .request(Method::PUT, &path)
            .action(format!("writing ISM policy {id}"))
            .json(&model::ism_policy(&self.target.index_prefix, days))
            .send()
            .await
            .and_then(lfm_opensearch::Response::success)
            .map(|_| ())
            .map_err(self.fail("retention_days"))
    }

    pub async fn delete_ism_policy(&self, id: &str) -> Result<(), Diagnostics> {
        let path = format!("_plugins/_ism/policies/{id}");
        self.opensearch.delete(&path, format!("deleting ISM policy {id}")).await.map_err(self.fail("ism"))
    }

    // ---------------------------------------------------------------- saved objects

    /// `POST api/saved_objects/_import?overwrite=true`, multipart ndjson, `osd-xsrf`.
    pub async fn import_saved_objects(&self, bundle: &Bundle) -> Result<(), Diagnostics> {
        let Some(dashboards) = &self.dashboards else {
            return Ok(());
        };
        let boundary = format!("lfm-{}", bundle.content_hash);
        dashboards.import(&bundle.to_ndjson(), &boundary, bundle.objects.len()).await.map_err(self.fail("dashboards_url"))
    }

    /// The `type/id` keys (of `keys`) that Dashboards has, and the `_bulk_get` answer's
    /// objects (for the fingerprint).
    pub async fn existing_saved_objects(
        &self,
        keys: &[String],
    ) -> Result<(Vec<String>, Vec<serde_json::Value>), Diagnostics> {
        let Some(dashboards) = &self.dashboards else {
            return Ok((Vec::new(), Vec::new()));
        };
        let found = dashboards.bulk_get(keys).await.map_err(self.fail("dashboards_url"))?;
        let keys = found
            .iter()
            .filter_map(|o| Some(format!("{}/{}", o["type"].as_str()?, o["id"].as_str()?)))
            .collect();
        Ok((keys, found))
    }

    pub async fn delete_saved_objects(&self, keys: &[String]) -> Result<(), Diagnostics> {
        let Some(dashboards) = &self.dashboards else {
            return Ok(());
        };
        // Dashboards first, then what they show, then index patterns: nothing dangles meanwhile.
        for key in keys.iter().rev() {
            dashboards.delete(key).await.map_err(self.fail("dashboards_url"))?;
        }
        Ok(())
    }
}

/// An OpenSearch error as a diagnostic: the crate's sentence (what, endpoint, OpenSearch's
/// answer, the fix naming the attribute or setting), pointing at the attribute to change:
/// the credentials for 401/403, the resource's timeout or retries, else `attribute`. A
/// provider-block timeout points at no attribute of the resource.
pub fn diagnostic(e: lfm_opensearch::Error, attribute: &str, auth: &Auth) -> Diagnostics {
    let summary = format!("OpenSearch: {} failed", e.action);
    let attribute = match &e.problem {
        Problem::Status { status: 401, .. } => Some("username"),
        Problem::Status { status: 403, .. } | Problem::NotSent { .. } => {
            Some(if matches!(auth, Auth::SigV4 { .. }) { "sigv4" } else { "username" })
        }
        Problem::Status { status: 429 | 502 | 503 | 504, .. } => Some("max_retries"),
        Problem::TimedOut { which: TimeoutKind::Attempt, .. } => Some("request_timeout_seconds"),
        Problem::TimedOut { .. } => None,
        _ => Some(attribute),
    };
    match attribute {
        Some(attribute) => Diagnostics::attribute_error(AttrPath::attr(attribute), summary, e.to_string()),
        None => Diagnostics::error(summary, e.to_string()),
    }
}
