//! Upstream URLs, the routing table (which upstream serves a request) and the pooled client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use corsguard::adapter::Versioned;
use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::Semaphore;

use crate::body::RequestBody;
use crate::error::Error;

/// The pooled upstream client: HTTP/1.1 (keep-alive pool), `http://` and `https://`.
pub(crate) type UpstreamClient = Client<HttpsConnector<HttpConnector>, RequestBody>;

/// A parsed upstream URL: scheme, authority and an optional base path.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    url: String,
    scheme: Scheme,
    authority: Authority,
    /// Base path without a trailing slash (`""` for none).
    base: String,
    /// `Host` for upstream requests (the authority), built once.
    host_header: http::HeaderValue,
    /// Request slots towards this scheme + authority (`limits.max_upstream_connections`),
    /// shared by every rule and policy version that names it.
    slots: Option<Arc<Semaphore>>,
}

impl Upstream {
    pub(crate) fn parse(s: &str) -> Result<Upstream, Error> {
        let bad = |reason: String| Error::InvalidUpstream {
            url: s.to_owned(),
            reason,
        };
        let u = url::Url::parse(s).map_err(|e| bad(e.to_string()))?;
        let scheme = match u.scheme() {
            "http" => Scheme::HTTP,
            "https" => Scheme::HTTPS,
            other => return Err(bad(format!("scheme must be http or https, not `{other}`"))),
        };
        if u.query().is_some() || u.fragment().is_some() {
            return Err(bad("must not have a query or fragment".into()));
        }
        let host = u.host_str().ok_or_else(|| bad("no host".into()))?;
        let auth = match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let authority: Authority = auth.parse().map_err(|e| bad(format!("{e}")))?;
        let host_header =
            http::HeaderValue::from_str(authority.as_str()).map_err(|e| bad(format!("{e}")))?;
        let base = u.path().trim_end_matches('/').to_owned();
        Ok(Upstream {
            url: s.to_owned(),
            scheme,
            authority,
            base,
            host_header,
            slots: None,
        })
    }

    /// The semaphore bounding concurrent requests to this upstream.
    pub(crate) fn slots(&self) -> Option<&Arc<Semaphore>> {
        self.slots.as_ref()
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.url
    }

    /// The `Host` header value for requests to this upstream.
    pub(crate) fn host_header(&self) -> &http::HeaderValue {
        &self.host_header
    }

    /// The upstream URI for a request's (canonical) path and query: base path + request
    /// path. `OPTIONS *` stays `*` (it names the server, not a resource under the base).
    pub(crate) fn uri_for(&self, pq: Option<&PathAndQuery>) -> Result<Uri, http::Error> {
        let pq = match pq {
            // Shared with the request (no copy).
            Some(pq) if self.base.is_empty() || pq.as_str() == "*" => pq.clone(),
            Some(pq) => PathAndQuery::try_from(format!("{}{}", self.base, pq.as_str()))?,
            None if self.base.is_empty() => PathAndQuery::from_static("/"),
            None => PathAndQuery::try_from(format!("{}/", self.base))?,
        };
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(pq)
            .build()
    }
}

/// Which upstream serves a rule, computed once per policy version.
#[derive(Debug)]
struct RouteTable {
    version: u64,
    /// Index = path rule index; the last entry is `defaults`.
    rules: Vec<Option<Arc<Upstream>>>,
    /// The policy file's `gateway.upstream`.
    file_default: Option<Arc<Upstream>>,
}

/// Resolves the upstream for a decision's rule: the rule's own `upstream`, else the
/// command-line override, else the (current) file's `gateway.upstream`.
#[derive(Debug)]
pub(crate) struct Routes {
    override_: Option<Arc<Upstream>>,
    table: ArcSwapOption<RouteTable>,
    /// `limits.max_upstream_connections`.
    per_upstream: usize,
    /// One semaphore per `scheme://authority`, kept across reloads.
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Routes {
    pub(crate) fn new(override_: Option<Upstream>, per_upstream: usize) -> Routes {
        let r = Routes {
            override_: None,
            table: ArcSwapOption::empty(),
            per_upstream,
            slots: Mutex::new(HashMap::new()),
        };
        Routes {
            override_: override_.map(|u| r.with_slots(u)),
            ..r
        }
    }

    fn with_slots(&self, mut u: Upstream) -> Arc<Upstream> {
        let key = format!("{}://{}", u.scheme, u.authority);
        let mut m = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let sem = m
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_upstream)));
        u.slots = Some(sem.clone());
        Arc::new(u)
    }

    fn table(&self, policy: &Versioned) -> Arc<RouteTable> {
        if let Some(t) = self.table.load_full()
            && t.version == policy.version
        {
            return t;
        }
        let rules = policy
            .summaries()
            .into_iter()
            .map(|s| {
                s.upstream
                    .as_deref()
                    .and_then(|u| match Upstream::parse(u) {
                        Ok(u) => Some(self.with_slots(u)),
                        Err(e) => {
                            tracing::error!(rule = %s.name, "{e}");
                            None
                        }
                    })
            })
            .collect();
        let file_default = policy
            .gateway()
            .and_then(|g| g.upstream.as_deref())
            .and_then(|u| Upstream::parse(u).ok())
            .map(|u| self.with_slots(u));
        let t = Arc::new(RouteTable {
            version: policy.version,
            rules,
            file_default,
        });
        self.table.store(Some(t.clone()));
        t
    }

    pub(crate) fn resolve(&self, policy: &Versioned, rule: Option<usize>) -> Option<Arc<Upstream>> {
        let t = self.table(policy);
        let own = match rule {
            Some(i) => t.rules.get(i),
            None => t.rules.last(),
        };
        own.and_then(Option::as_ref)
            .or(self.override_.as_ref())
            .or(t.file_default.as_ref())
            .cloned()
    }
}

/// Builds the pooled client. `https://` upstreams are verified against the system's roots;
/// when none can be loaded, plain-http upstreams still work and https ones fail with 502.
pub(crate) fn client(
    connect_timeout: Duration,
    idle: Duration,
    per_host: usize,
) -> Result<UpstreamClient, Error> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider.clone())
    {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("no system root certificates ({e}); https upstreams will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Tls {
                    file: "<upstream client>".into(),
                    reason: e.to_string(),
                })?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    let connector = builder.https_or_http().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(idle)
        .pool_max_idle_per_host(per_host)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector))
}
