//! The engine's behaviour tables, unchanged, through the gateway in front of a real upstream
//! running the testkit app.

use corsguard_testkit::{request_headers, run_all};

use crate::common::{gateway, send, upstream};

#[test]
fn gateway_passes_every_behaviour_row() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let up = rt.block_on(upstream());
    let n = run_all("gateway", |table| {
        rt.block_on(async {
            let gw = gateway(&table.policy, &up.url(), |_| {}).await;
            let addr = gw.local_addr();
            let self_origin = format!("http://{addr}");
            let mut observed = Vec::new();
            for case in &table.cases {
                let mut headers = request_headers(case, &self_origin);
                if let Some(h) = &case.request.host {
                    headers.push(("host".into(), h.clone()));
                }
                let refs: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                let seen = send(addr, &case.request.method, &case.request.path, &refs).await;
                observed.push(seen.observed());
            }
            gw.shutdown().await;
            (self_origin, observed)
        })
    });
    assert!(n >= 80, "only {n} behaviour rows checked");
}
