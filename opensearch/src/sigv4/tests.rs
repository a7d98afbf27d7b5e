//! SigV4 signatures compared with botocore's `SigV4Auth`, an independent implementation: one
//! case with botocore's answer written down (runs anywhere; the same inputs through
//! [`signed_headers`] and through [`sign_request`]), and the requests the collector and the
//! provider actually send (built by reqwest) signed by both, botocore run by the test bed's
//! venv python (`LFM_PY`, set by `source scripts/env.sh`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::config::SigV4Service;

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// 2026-11-26T12:00:00Z
fn fixed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_694_400)
}

fn credentials(token: Option<&str>) -> Credentials {
    Credentials::new(KEY_ID, SECRET, token.map(str::to_string), None, "test")
}

fn header(request: &reqwest::Request, name: &str) -> Option<String> {
    request.headers().get(name).map(|v| v.to_str().unwrap().to_string())
}

/// botocore's answer for this request:
///
/// ```python
/// req = AWSRequest(method="PUT", url="https://search-lfm.us-east-1.es.amazonaws.com/_index_template/lfm-metrics?pretty=true&a=b%20c",
///                  data=BODY, headers={"content-type": "application/json", "x-amz-content-sha256": sha256(BODY).hexdigest()})
/// with mock.patch("botocore.auth.get_current_datetime", return_value=datetime(2026, 11, 26, 12, 0, 0)):
///     SigV4Auth(Credentials(KEY_ID, SECRET, "session-token-1"), SERVICE, "us-east-1").add_auth(req)
/// ```
#[test]
fn a_template_put_is_signed_as_botocore_signs_it() {
    let expected = [
        (SigV4Service::Es, "Credential=AKIDEXAMPLE/20261126/us-east-1/es/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=000151a560493310670783545759eb495b5ca66d4273f6ec1cbdb529fd2241ee"),
        (SigV4Service::Aoss, "Credential=AKIDEXAMPLE/20261126/us-east-1/aoss/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=0115b50073295d9bef1702591abe1c27cc5c71672631e17d80e405ec1169a7d8"),
    ];
    for (service, want) in expected {
        let mut request = reqwest::Client::new()
            .put("https://search-lfm.us-east-1.es.amazonaws.com/_index_template/lfm-metrics?pretty=true&a=b%20c")
            .header("content-type", "application/json")
            .body(r#"{"index_patterns":["lfm-metrics-*"]}"#)
            .build()
            .unwrap();
        sign_request(&mut request, &credentials(Some("session-token-1")), service, "us-east-1", fixed_time()).unwrap();
        assert_eq!(header(&request, "x-amz-date").as_deref(), Some("20261126T120000Z"));
        assert_eq!(header(&request, "x-amz-security-token").as_deref(), Some("session-token-1"));
        assert_eq!(
            header(&request, "x-amz-content-sha256").as_deref(),
            Some("b00ca9e360b04194d347908b39391d9c460002d92886fdb0326245fc2a7c3762")
        );
        let authorization = header(&request, "authorization").unwrap();
        assert_eq!(authorization, format!("AWS4-HMAC-SHA256 {want}"), "{service:?}");
    }
}

/// The same request through [`signed_headers`] directly, headers given by hand (`host` included).
#[test]
fn signed_headers_match_botocore() {
    let body = br#"{"index_patterns":["lfm-metrics-*"]}"#;
    let url = "https://search-lfm.us-east-1.es.amazonaws.com/_index_template/lfm-metrics?pretty=true&a=b%20c";
    let headers = [("content-type", "application/json"), ("host", "search-lfm.us-east-1.es.amazonaws.com")];
    let expected = [
        ("es", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/us-east-1/es/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=000151a560493310670783545759eb495b5ca66d4273f6ec1cbdb529fd2241ee"),
        ("aoss", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/us-east-1/aoss/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=0115b50073295d9bef1702591abe1c27cc5c71672631e17d80e405ec1169a7d8"),
    ];
    for (service, want) in expected {
        let signed = signed_headers(&credentials(Some("session-token-1")), service, "us-east-1", "PUT", url, &headers, body, fixed_time()).unwrap();
        let get = |name: &str| signed.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        assert_eq!(get("x-amz-date").as_deref(), Some("20261126T120000Z"));
        assert_eq!(get("x-amz-security-token").as_deref(), Some("session-token-1"));
        assert_eq!(get("x-amz-content-sha256").as_deref(), Some("b00ca9e360b04194d347908b39391d9c460002d92886fdb0326245fc2a7c3762"));
        let auth = get("authorization").unwrap();
        assert!(auth.starts_with(want), "{service}: {auth}\nwant {want}");
    }
}

/// The requests the collector's store and the provider send, as reqwest builds them.
fn requests_sent() -> Vec<reqwest::Request> {
    let http = reqwest::Client::new();
    let domain = "https://search-fleet-abc123.eu-west-1.es.amazonaws.com";
    let ndjson = "{\"index\":{\"_index\":\"lfm-test.sig-metrics-2026.11.26\",\"_id\":\"111122223333:us-east-1:orders:1\"}}\n{\"invocations\":10}\n";
    vec![
        // _bulk with a query string and an ndjson body.
        http.post(format!("{domain}/_bulk?refresh=false"))
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(ndjson)
            .build()
            .unwrap(),
        // Retention listing: a wildcard in the path, a comma in the query.
        http.get(format!("{domain}/_cat/indices/lfm-test.sig-metrics-*?format=json&h=index&expand_wildcards=open,closed"))
            .build()
            .unwrap(),
        // Mapping upgrade: comma-separated patterns in the path.
        http.put(format!(
            "{domain}/lfm-test.sig-metrics-*,lfm-test.sig-inventory/_mapping?{}",
            crate::templates::MAPPING_UPGRADE_QUERY
        ))
        .json(&serde_json::json!({"properties": {"cold_starts": {"type": "long"}}}))
        .build()
        .unwrap(),
        // Retention delete: dots and dashes in the index name, no body.
        http.delete(format!("{domain}/lfm-test.sig-metrics-2026.10.01")).build().unwrap(),
        // Checkpoints on a non-default port, plain HTTP (host header carries the port).
        http.post("http://127.0.0.1:9200/lfm-test.sig-state/_mget")
            .json(&serde_json::json!({"ids": ["checkpoint:111122223333:us-east-1"]}))
            .build()
            .unwrap(),
        // Dashboards' saved-objects import: multipart body, osd-xsrf, a query, a path prefix.
        http.post(format!("{domain}/_dashboards/api/saved_objects/_import?overwrite=true"))
            .header("content-type", "multipart/form-data; boundary=lfm-abc")
            .header("osd-xsrf", "true")
            .body(crate::dashboards::multipart_body("lfm-abc", "{\"type\":\"index-pattern\",\"id\":\"lfm-metrics\"}\n"))
            .build()
            .unwrap(),
        // A search with parameters that need encoding (space, colon, quotes).
        http.get(format!("{domain}/lfm-test.sig-runs/_search?q=run_id:%22r%201%22&size=1&sort=@timestamp:desc"))
            .build()
            .unwrap(),
    ]
}

const BOTOCORE: &str = r#"
import datetime, hashlib, json, sys
from unittest import mock
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
out = []
for case in json.load(sys.stdin):
    body = bytes.fromhex(case["body_hex"])
    # botocore signs the payload hash only when the header is there, as Serverless requires.
    headers = dict(case["headers"], **{"x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
    request = AWSRequest(method=case["method"], url=case["url"], data=body, headers=headers)
    creds = Credentials(case["key_id"], case["secret"], case["token"])
    with mock.patch("botocore.auth.get_current_datetime", return_value=datetime.datetime(2026, 11, 26, 12, 0, 0)):
        SigV4Auth(creds, case["service"], case["region"]).add_auth(request)
    out.append([request.headers["Authorization"], headers["x-amz-content-sha256"]])
print(json.dumps(out))
"#;

/// Runs botocore on `cases` in the test bed's venv: its `Authorization` and payload hash.
fn botocore_authorizations(cases: &serde_json::Value) -> Vec<(String, String)> {
    use std::io::Write;
    let python = std::env::var("LFM_PY").unwrap_or_else(|_| {
        panic!("LFM_PY is not set: `source scripts/env.sh` (the test bed's venv python, which has botocore; `scripts/bootstrap` installs it)")
    });
    let mut child = std::process::Command::new(&python)
        .args(["-c", BOTOCORE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e} (run scripts/bootstrap)"));
    child.stdin.take().unwrap().write_all(cases.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "botocore: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn every_kind_of_request_is_signed_as_botocore_signs_it() {
    let mut signed = Vec::new();
    let mut cases = Vec::new();
    for service in [SigV4Service::Es, SigV4Service::Aoss] {
        for token in [None, Some("IQoJb3JpZ2luX2VjEXAMPLE//session+token=")] {
            for mut request in requests_sent() {
                // botocore gets the headers before signing (it works out `host` itself) and the
                // URL as sent.
                let headers: serde_json::Map<String, serde_json::Value> = request
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap().into()))
                    .collect();
                let body = request.body().map(|b| b.as_bytes().unwrap().to_vec()).unwrap_or_default();
                sign_request(&mut request, &credentials(token), service, "eu-west-1", fixed_time()).unwrap();
                cases.push(serde_json::json!({
                    "method": request.method().as_str(), "url": request.url().as_str(), "headers": headers,
                    "body_hex": body.iter().map(|b| format!("{b:02x}")).collect::<String>(), "service": service.as_str(), "region": "eu-west-1",
                    "key_id": KEY_ID, "secret": SECRET, "token": token,
                }));
                assert_eq!(header(&request, "x-amz-security-token").as_deref(), token, "the session token is sent");
                let what = format!("{service:?} token={} {} {}", token.is_some(), request.method(), request.url());
                signed.push((what, header(&request, "authorization").unwrap(), header(&request, "x-amz-content-sha256").unwrap()));
            }
        }
    }
    let expected = botocore_authorizations(&serde_json::Value::Array(cases));
    assert_eq!(expected.len(), signed.len());
    for ((what, ours, our_hash), (theirs, their_hash)) in signed.iter().zip(&expected) {
        assert_eq!(our_hash, their_hash, "{what}: payload hash");
        assert_eq!(ours, theirs, "{what}");
    }
    // The signatures differ by service (the scope names it), so es and aoss were really both checked.
    assert!(expected[0].0.contains("/eu-west-1/es/aws4_request"));
    assert!(expected.last().unwrap().0.contains("/eu-west-1/aoss/aws4_request"));
}

#[test]
fn a_signature_changes_with_the_body_and_the_path() {
    let sign = |url: &str, body: &'static str| {
        let mut request = reqwest::Client::new().post(url).body(body).build().unwrap();
        sign_request(&mut request, &credentials(None), SigV4Service::Es, "us-east-1", fixed_time()).unwrap();
        header(&request, "authorization").unwrap()
    };
    let base = sign("https://d.example.com/_bulk", "{}\n");
    assert_ne!(base, sign("https://d.example.com/_bulk", "{ }\n"));
    assert_ne!(base, sign("https://d.example.com/_bulk?refresh=false", "{}\n"));
    assert_ne!(base, sign("https://d.example.com/x/_bulk", "{}\n"));
}
