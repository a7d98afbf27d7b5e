//! The I/O of `lfm_dashboard_bundle`: OpenSearch (index templates, mappings, ISM) and the
//! OpenSearch Dashboards saved-objects API, over reqwest with basic auth or SigV4, retrying
//! what time fixes (429, 502, 503, 504, connection errors) with bounded backoff.

use super::model::{self, Auth, Target};
use super::sigv4;
use crate::framework::{AttrPath, Diagnostics};
use aws_credential_types::Credentials;
use lfm_schema::dashboards::Bundle;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// An HTTP answer: status and body (JSON, or the text as a JSON string).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Json,
}

impl Reply {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct Client {
    http: reqwest::Client,
    target: Target,
    credentials: Option<Credentials>,
}

/// Whether a status is worth another attempt.
pub fn retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

impl Client {
    /// `credentials` are needed for SigV4 only.
    pub fn new(target: &Target, credentials: Option<Credentials>) -> Result<Client, Diagnostics> {
        let http = reqwest::Client::builder()
            .timeout(target.timeout)
            .build()
            .map_err(|e| Diagnostics::error("Cannot build the HTTP client", e.to_string()))?;
        Ok(Client {
            http,
            target: target.clone(),
            credentials,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// One request with retries. `xsrf` adds Dashboards' `osd-xsrf` header.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<(&str, Vec<u8>)>,
        xsrf: bool,
    ) -> Result<Reply, Diagnostics> {
        let mut attempt = 0;
        loop {
            let result = self.send_once(method, url, body.as_ref(), xsrf).await;
            let again = match &result {
                Ok(reply) => retryable(reply.status),
                Err(_) => true,
            };
            if !again || attempt >= self.target.max_retries {
                return result.map_err(|e| {
                    Diagnostics::error(
                        format!("{method} {url} failed"),
                        format!("{e} (after {} attempt(s)). Check the URL, network access and request_timeout_seconds / max_retries.", attempt + 1),
                    )
                });
            }
            tokio::time::sleep(Duration::from_millis(500) * 2u32.pow(attempt.min(5))).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        method: &str,
        url: &str,
        body: Option<&(&str, Vec<u8>)>,
        xsrf: bool,
    ) -> Result<Reply, String> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some((content_type, _)) = body {
            headers.push(("content-type".into(), (*content_type).to_owned()));
        }
        if xsrf {
            headers.push(("osd-xsrf".into(), "true".into()));
        }
        let bytes: &[u8] = body.map(|(_, b)| b.as_slice()).unwrap_or_default();
        let mut request = self.http.request(m, url);
        match &self.target.auth {
            Auth::None => {}
            Auth::Basic { username, password } => {
                request = request.basic_auth(username, Some(password))
            }
            Auth::SigV4 { service, region } => {
                let creds = self
                    .credentials
                    .as_ref()
                    .ok_or("SigV4 needs the provider's AWS credentials")?;
                let host = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
                let host = match host.port() {
                    Some(p) => format!("{}:{p}", host.host_str().unwrap_or_default()),
                    None => host.host_str().unwrap_or_default().to_owned(),
                };
                let mut to_sign: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                to_sign.push(("host", &host));
                let signed = sigv4::signed_headers(
                    creds,
                    service,
                    region,
                    method,
                    url,
                    &to_sign,
                    bytes,
                    SystemTime::now(),
                )?;
                headers.extend(signed);
            }
        }
        for (k, v) in &headers {
            request = request.header(k.as_str(), v.as_str());
        }
        if body.is_some() {
            request = request.body(bytes.to_vec());
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Json::String(text));
        Ok(Reply { status, body })
    }

    fn os(&self, path: &str) -> String {
        format!("{}/{path}", self.target.opensearch_url)
    }

    fn dashboards(&self, path: &str) -> Option<String> {
        self.target
            .dashboards_url
            .as_ref()
            .map(|d| format!("{d}/{path}"))
    }

    async fn json(
        &self,
        method: &str,
        url: &str,
        body: &Json,
        xsrf: bool,
    ) -> Result<Reply, Diagnostics> {
        self.send(
            method,
            url,
            Some(("application/json", body.to_string().into_bytes())),
            xsrf,
        )
        .await
    }

    // ---------------------------------------------------------------- index templates

    /// PUT every template, then the current mappings onto indices that already exist.
    pub async fn put_templates(&self) -> Result<(), Diagnostics> {
        for (name, body) in model::desired_templates(&self.target.index_prefix) {
            let reply = self
                .json(
                    "PUT",
                    &self.os(&format!("_index_template/{name}")),
                    &body,
                    false,
                )
                .await?;
            expect_ok(
                &reply,
                &format!(
                    "PUT _index_template/{name} on {}",
                    self.target.opensearch_url
                ),
                "opensearch_url",
            )?;
            // Existing indices keep their old mapping otherwise; new fields are added in place.
            let patterns: Vec<String> = body["index_patterns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect();
            let Some(mappings) = body.pointer("/template/mappings") else {
                continue;
            };
            for pattern in patterns {
                let url = self.os(&format!("{pattern}/_mapping?allow_no_indices=true&ignore_unavailable=true&expand_wildcards=all"));
                let reply = self.json("PUT", &url, mappings, false).await?;
                if !reply.ok() && reply.status != 404 {
                    return Err(server_error(
                        &reply,
                        &format!(
                            "PUT {pattern}/_mapping (the current mapping onto existing indices)"
                        ),
                        "index_prefix",
                    ));
                }
            }
        }
        Ok(())
    }

    /// `name -> hash` of the installed templates of the prefix: the desired hash when the
    /// installed one is equivalent, else the installed one's own hash; absent ones left out.
    pub async fn read_templates(&self) -> Result<BTreeMap<String, String>, Diagnostics> {
        let mut found = BTreeMap::new();
        for (name, desired) in model::desired_templates(&self.target.index_prefix) {
            let reply = self
                .send(
                    "GET",
                    &self.os(&format!("_index_template/{name}")),
                    None,
                    false,
                )
                .await?;
            if reply.status == 404 {
                continue;
            }
            expect_ok(
                &reply,
                &format!("GET _index_template/{name}"),
                "opensearch_url",
            )?;
            let Some(installed) = reply.body["index_templates"]
                .as_array()
                .and_then(|t| t.iter().find(|t| t["name"] == name.as_str()))
            else {
                continue;
            };
            let installed = &installed["index_template"];
            let hash = if model::templates_equivalent(&desired, installed) {
                model::template_hash(&desired)
            } else {
                model::template_hash(installed)
            };
            found.insert(name, hash);
        }
        Ok(found)
    }

    pub async fn delete_templates(&self) -> Result<(), Diagnostics> {
        for (name, _) in model::desired_templates(&self.target.index_prefix) {
            let path = format!("_index_template/{name}");
            self.delete_if_present(&self.os(&path), &path, false, "opensearch_url")
                .await?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- ISM

    /// Whether the Index State Management plugin answers (`GET _plugins/_ism/policies`;
    /// without the plugin OpenSearch says 400 "no handler found", some proxies 404).
    pub async fn ism_available(&self) -> Result<bool, Diagnostics> {
        let reply = self
            .send("GET", &self.os("_plugins/_ism/policies"), None, false)
            .await?;
        match reply.status {
            200..=299 => Ok(true),
            400 | 404 => Ok(false),
            _ => Err(server_error(
                &reply,
                "GET _plugins/_ism/policies (probing for the ISM plugin)",
                "ism",
            )),
        }
    }

    pub async fn ism_policy_exists(&self, id: &str) -> Result<bool, Diagnostics> {
        let reply = self
            .send(
                "GET",
                &self.os(&format!("_plugins/_ism/policies/{id}")),
                None,
                false,
            )
            .await?;
        Ok(reply.ok())
    }

    /// Create or update (with `if_seq_no`/`if_primary_term`, as ISM requires) the policy.
    pub async fn put_ism_policy(&self, id: &str, days: u32) -> Result<(), Diagnostics> {
        let url = self.os(&format!("_plugins/_ism/policies/{id}"));
        let existing = self.send("GET", &url, None, false).await?;
        let put_url = match (
            existing.ok(),
            existing.body["_seq_no"].as_u64(),
            existing.body["_primary_term"].as_u64(),
        ) {
            (true, Some(seq), Some(term)) => {
                format!("{url}?if_seq_no={seq}&if_primary_term={term}")
            }
            _ => url,
        };
        let reply = self
            .json(
                "PUT",
                &put_url,
                &model::ism_policy(&self.target.index_prefix, days),
                false,
            )
            .await?;
        expect_ok(
            &reply,
            &format!("PUT _plugins/_ism/policies/{id}"),
            "retention_days",
        )
    }

    pub async fn delete_ism_policy(&self, id: &str) -> Result<(), Diagnostics> {
        let path = format!("_plugins/_ism/policies/{id}");
        self.delete_if_present(&self.os(&path), &path, false, "ism")
            .await
    }

    // ---------------------------------------------------------------- saved objects

    /// `POST api/saved_objects/_import?overwrite=true`, multipart ndjson, `osd-xsrf`.
    pub async fn import_saved_objects(&self, bundle: &Bundle) -> Result<(), Diagnostics> {
        let Some(url) = self.dashboards("api/saved_objects/_import?overwrite=true") else {
            return Ok(());
        };
        let boundary = format!("lfm-{}", bundle.content_hash);
        let body = model::multipart_body(&boundary, &bundle.to_ndjson());
        let reply = self
            .send(
                "POST",
                &url,
                Some((&format!("multipart/form-data; boundary={boundary}"), body)),
                true,
            )
            .await?;
        expect_ok(&reply, "POST api/saved_objects/_import", "dashboards_url")?;
        if reply.body["success"] != true {
            return Err(Diagnostics::attribute_error(
                AttrPath::attr("dashboards_url"),
                "OpenSearch Dashboards refused part of the LFM dashboards bundle",
                format!(
                    "{} of {} objects imported; errors: {}. This is a provider bug if references are missing; otherwise check the Dashboards version (2.x) and the user's permissions.",
                    reply.body["successCount"], bundle.objects.len(), reply.body["errors"]
                ),
            ));
        }
        Ok(())
    }

    /// The `type/id` keys (of `keys`) that Dashboards has, and the `_bulk_get` answer's
    /// objects (for the fingerprint).
    pub async fn existing_saved_objects(
        &self,
        keys: &[String],
    ) -> Result<(Vec<String>, Vec<Json>), Diagnostics> {
        let Some(url) = self.dashboards("api/saved_objects/_bulk_get") else {
            return Ok((Vec::new(), Vec::new()));
        };
        let wanted: Vec<Json> = keys
            .iter()
            .filter_map(|k| k.split_once('/'))
            .map(|(t, id)| json!({ "type": t, "id": id }))
            .collect();
        let reply = self.json("POST", &url, &Json::Array(wanted), true).await?;
        expect_ok(&reply, "POST api/saved_objects/_bulk_get", "dashboards_url")?;
        let found: Vec<Json> = reply.body["saved_objects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o.get("error").is_none())
            .cloned()
            .collect();
        let keys = found
            .iter()
            .filter_map(|o| Some(format!("{}/{}", o["type"].as_str()?, o["id"].as_str()?)))
            .collect();
        Ok((keys, found))
    }

    pub async fn delete_saved_objects(&self, keys: &[String]) -> Result<(), Diagnostics> {
        // Dashboards first, then what they show, then index patterns: nothing dangles meanwhile.
        let mut ordered: Vec<&String> = keys.iter().collect();
        ordered.reverse();
        for key in ordered {
            let Some(url) = self.dashboards(&format!("api/saved_objects/{key}")) else {
                return Ok(());
            };
            let path = format!("api/saved_objects/{key}");
            self.delete_if_present(&url, &path, true, "dashboards_url")
                .await?;
        }
        Ok(())
    }

    /// `DELETE url`: gone already (404) is as good as deleted; any other failure names
    /// `attribute`. `path` is what the diagnostic shows; `xsrf` sends `osd-xsrf` (Dashboards).
    async fn delete_if_present(
        &self,
        url: &str,
        path: &str,
        xsrf: bool,
        attribute: &str,
    ) -> Result<(), Diagnostics> {
        let reply = self.send("DELETE", url, None, xsrf).await?;
        if reply.status == 404 {
            return Ok(());
        }
        expect_ok(&reply, &format!("DELETE {path}"), attribute)
    }
}

fn expect_ok(reply: &Reply, what: &str, attribute: &str) -> Result<(), Diagnostics> {
    if reply.ok() {
        Ok(())
    } else {
        Err(server_error(reply, what, attribute))
    }
}

/// A diagnostic carrying the server's reason, pointing at the attribute to fix.
fn server_error(reply: &Reply, what: &str, attribute: &str) -> Diagnostics {
    let reason = reply
        .body
        .pointer("/error/reason")
        .or_else(|| reply.body.get("message"))
        .cloned()
        .unwrap_or_else(|| reply.body.clone());
    let (attribute, fix) = match reply.status {
        401 => ("username", "The server wants credentials: set username and password (basic auth) or the sigv4 block."),
        403 => ("sigv4", "The identity is not allowed: check the user's roles (security plugin) or the domain's access policy for the provider's AWS identity."),
        _ => (attribute, "See the server's reason above."),
    };
    Diagnostics::attribute_error(
        AttrPath::attr(attribute),
        format!("{what}: HTTP {}", reply.status),
        format!("The server answered: {reason}\n{fix}"),
    )
}
