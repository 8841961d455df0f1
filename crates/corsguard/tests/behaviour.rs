//! Runs the shared behaviour tables (`tests/cases/*.yaml`) against the engine directly:
//! `Policy::decide`, then either the preflight response built by the engine or the test app's
//! response with the decision applied.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corsguard::Policy;
use corsguard::adapter::{Action, RequestHead};
use corsguard_testkit::{ENGINE_HOST, Observed, app_response, request_headers, run_all};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

#[test]
fn engine_passes_every_behaviour_row() {
    let self_origin = format!("http://{ENGINE_HOST}");
    let n = run_all("engine", |table| {
        let policy = Policy::load()
            .text(&table.policy, &table.name, corsguard::Format::Yaml)
            .build()
            .unwrap_or_else(|e| panic!("table {}: policy does not load:\n{e}", table.name));
        let observed = table
            .cases
            .iter()
            .map(|case| {
                let mut req_headers = HeaderMap::new();
                for (n, v) in request_headers(case, &self_origin) {
                    req_headers.append(
                        HeaderName::from_bytes(n.as_bytes()).unwrap(),
                        HeaderValue::from_bytes(v.as_bytes()).unwrap(),
                    );
                }
                let host = case
                    .request
                    .host
                    .clone()
                    .unwrap_or_else(|| ENGINE_HOST.to_string());
                req_headers.insert(http::header::HOST, HeaderValue::from_str(&host).unwrap());
                let method = Method::from_bytes(case.request.method.as_bytes()).unwrap();
                let uri: Uri = case.request.path.parse().unwrap();
                let head = RequestHead::from_components(&method, &uri, &req_headers)
                    .with_scheme(Some("http"));
                let decision = policy.decide(&head);
                match decision.action() {
                    Action::Respond(_) => {
                        let (status, headers) = decision.response_parts().unwrap();
                        observe(status.as_u16(), &headers)
                    }
                    _ => {
                        let (status, app_headers) = app_response(
                            req_headers
                                .iter()
                                .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or(""))),
                        );
                        let mut headers = HeaderMap::new();
                        for (n, v) in app_headers {
                            headers.append(
                                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                                HeaderValue::from_str(&v).unwrap(),
                            );
                        }
                        decision.apply(&mut headers);
                        observe(status, &headers)
                    }
                }
            })
            .collect();
        (self_origin.clone(), observed)
    });
    assert!(n >= 80, "only {n} behaviour rows checked");
}

fn observe(status: u16, headers: &HeaderMap) -> Observed {
    Observed {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    }
}
