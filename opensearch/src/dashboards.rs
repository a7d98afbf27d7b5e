//! The OpenSearch Dashboards saved-objects API (Dashboards 2.x, "Saved objects APIs"): import
//! with overwrite, `_bulk_get`, delete. Every request carries `osd-xsrf: true`, which Dashboards
//! requires on API calls that change state. Same authentication, timeouts and retries as
//! OpenSearch ([`crate::Client`]).

use serde_json::{json, Value as Json};

use crate::{Client, ClientConfig, Error};

pub struct Dashboards {
    client: Client,
}

impl Dashboards {
    /// `config.url` is Dashboards' base URL (e.g. `https://search-lfm.eu-west-1.es.amazonaws.com/_dashboards`).
    pub fn new(mut config: ClientConfig) -> Result<Self, Error> {
        config.default_headers.push(("osd-xsrf", "true"));
        Ok(Self { client: Client::new(config)? })
    }

    pub fn url(&self) -> &str {
        self.client.url()
    }

    /// `POST api/saved_objects/_import?overwrite=true` with `ndjson` as a multipart file.
    /// An answer with `success: false` (missing references, unknown types) is an error carrying
    /// Dashboards' per-object errors.
    pub async fn import(&self, ndjson: &str, boundary: &str, objects: usize) -> Result<(), Error> {
        let response = self
            .client
            .request(reqwest::Method::POST, "api/saved_objects/_import?overwrite=true")
            .action(format!("importing {objects} saved objects into OpenSearch Dashboards"))
            .body(&format!("multipart/form-data; boundary={boundary}"), multipart_body(boundary, ndjson))
            .send()
            .await?
            .success()?;
        let body = response.json();
        if body["success"] != true {
            return Err(response.unexpected(format!(
                "Dashboards imported {} of {objects} objects; errors: {}",
                body["successCount"], body["errors"]
            )));
        }
        Ok(())
    }

    /// The saved objects of `keys` (`type/id`) that exist, as Dashboards stores them.
    pub async fn bulk_get(&self, keys: &[String]) -> Result<Vec<Json>, Error> {
        let wanted: Vec<Json> =
            keys.iter().filter_map(|k| k.split_once('/')).map(|(t, id)| json!({ "type": t, "id": id })).collect();
        let response = self
            .client
            .request(reqwest::Method::POST, "api/saved_objects/_bulk_get")
            .action(format!("reading {} saved objects from OpenSearch Dashboards", wanted.len()))
            .json(&Json::Array(wanted))
            .send()
            .await?
            .success()?;
        Ok(response.json()["saved_objects"].as_array().into_iter().flatten().filter(|o| o.get("error").is_none()).cloned().collect())
    }

    /// Deletes saved object `key` (`type/id`); absent already is as good as deleted.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        let action = format!("deleting saved object {key} from OpenSearch Dashboards");
        self.client.delete(&format!("api/saved_objects/{key}"), action).await
    }
}

/// A `multipart/form-data` body with one `file` part holding the ndjson, as the saved-objects
/// import API takes it (built by hand so the exact bytes can be signed).
pub fn multipart_body(boundary: &str, ndjson: &str) -> Vec<u8> {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"lfm-dashboards.ndjson\"\r\nContent-Type: application/ndjson\r\n\r\n{ndjson}\r\n--{boundary}--\r\n"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_body_has_one_file_part_with_the_ndjson() {
        let body = String::from_utf8(multipart_body("B0UND", "{\"a\":1}\n{\"b\":2}\n")).unwrap();
        assert_eq!(
            body,
            "--B0UND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"lfm-dashboards.ndjson\"\r\nContent-Type: application/ndjson\r\n\r\n{\"a\":1}\n{\"b\":2}\n\r\n--B0UND--\r\n"
        );
    }
}
