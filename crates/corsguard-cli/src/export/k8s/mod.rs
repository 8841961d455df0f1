//! Kubernetes targets: `corsguard export gateway-api` (an `HTTPRoute` with the `CORS` filter
//! per rule) and `corsguard export istio` (a `VirtualService` with `corsPolicy` per HTTP
//! route). What they share: the object's name and namespace, the Gateway it attaches to, the
//! Service it sends to, the comment header with the warnings, and the warnings every
//! Kubernetes target has (CSRF, `gateway:`, per-rule upstreams).

pub mod gateway_api;
pub mod istio;

use std::fmt::Write as _;

use super::Warnings;
use super::model::PolicyModel;

/// The warning for `allow_origins: ['*']` both targets share: the CORS filter only answers
/// requests that carry an `Origin`.
pub const ANY_ORIGIN_WITHOUT_ORIGIN: &str = "allow_origins: ['*']: requests without an Origin get no CORS headers from the gateway (corsguard sends `Access-Control-Allow-Origin: *` on every response, so a shared cache never keeps a copy without it)";

/// Options shared by the Kubernetes exports (`--name`, `--namespace`, `--parent-ref`,
/// `--backend`, `--hostname`).
#[derive(Debug, Clone)]
pub struct K8sOptions {
    /// `metadata.name` of the generated object (routes for host-specific rules get a suffix).
    pub name: String,
    /// `metadata.namespace`, if given.
    pub namespace: Option<String>,
    /// The Gateways the object attaches to.
    pub parent_refs: Vec<ParentRef>,
    /// The Service every rule sends to.
    pub backend: Backend,
    /// Host names of the whole object (Gateway API `spec.hostnames`, Istio `spec.hosts`).
    pub hostnames: Vec<String>,
    /// The policy file name, for the header comment.
    pub source_name: String,
}

/// `--parent-ref [NAMESPACE/]NAME[/SECTION]`: a Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRef {
    /// The Gateway's namespace (default: the route's).
    pub namespace: Option<String>,
    /// The Gateway's name.
    pub name: String,
    /// A listener of that Gateway (Gateway API `sectionName`).
    pub section: Option<String>,
}

impl ParentRef {
    /// Parses `[NAMESPACE/]NAME[/SECTION]`; with three parts the first is the namespace.
    pub fn parse(s: &str) -> Result<ParentRef, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let (namespace, name, section) = match parts.as_slice() {
            [name] => (None, *name, None),
            [ns, name] => (Some(*ns), *name, None),
            [ns, name, section] => (Some(*ns), *name, Some(*section)),
            _ => {
                return Err(format!(
                    "--parent-ref `{s}`: expected [NAMESPACE/]NAME[/SECTION]"
                ));
            }
        };
        dns_label(namespace.unwrap_or("ok"), "--parent-ref namespace")?;
        dns_subdomain(name, "--parent-ref name")?;
        if let Some(sec) = section {
            dns_subdomain(sec, "--parent-ref section")?;
        }
        Ok(ParentRef {
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            section: section.map(str::to_owned),
        })
    }
}

/// `--backend SERVICE[.NAMESPACE]:PORT`: the Kubernetes Service the routes send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// The Service name.
    pub name: String,
    /// Its namespace, when not the route's.
    pub namespace: Option<String>,
    /// The Service port.
    pub port: u16,
}

impl Backend {
    /// Parses `SERVICE[.NAMESPACE]:PORT`.
    pub fn parse(s: &str) -> Result<Backend, String> {
        let (svc, port) = s
            .rsplit_once(':')
            .ok_or_else(|| format!("--backend `{s}`: expected SERVICE[.NAMESPACE]:PORT"))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("--backend `{s}`: the port must be 1-65535"))?;
        let (name, namespace) = match svc.split_once('.') {
            Some((n, ns)) => (n, Some(ns)),
            None => (svc, None),
        };
        dns_label(name, "--backend service")?;
        if let Some(ns) = namespace {
            dns_label(ns, "--backend namespace")?;
        }
        Ok(Backend {
            name: name.to_owned(),
            namespace: namespace.map(str::to_owned),
            port,
        })
    }
}

/// A DNS-1123 label (Service and namespace names): `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, ≤ 63.
pub fn dns_label(s: &str, what: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} `{s}` is not a DNS-1123 label (lower-case letters, digits and `-`, at most 63)"
        ))
    }
}

/// A DNS-1123 subdomain (object names): dot-separated labels, ≤ 253.
pub fn dns_subdomain(s: &str, what: &str) -> Result<(), String> {
    if s.len() <= 253 && s.split('.').all(|l| dns_label(l, what).is_ok()) {
        Ok(())
    } else {
        Err(format!(
            "{what} `{s}` is not a DNS-1123 subdomain (lower-case labels separated by `.`, at most 253)"
        ))
    }
}

/// A single-quoted YAML scalar.
pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A flow sequence of single-quoted scalars: `['a', 'b']`.
pub fn flow(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// `metadata:` with name and namespace, at the top level of a document.
pub fn metadata(out: &mut String, name: &str, namespace: Option<&str>) {
    let _ = writeln!(out, "metadata:\n  name: {}", q(name));
    if let Some(ns) = namespace {
        let _ = writeln!(out, "  namespace: {}", q(ns));
    }
    out.push_str("  labels:\n    app.kubernetes.io/managed-by: corsguard\n");
}

/// The comment block at the top of an export: what it is, then every warning.
pub fn header(out: &mut String, target: &str, source: &str, about: &str, w: &Warnings) {
    let _ = writeln!(
        out,
        "# Generated by `corsguard export {target}` from {source}."
    );
    for line in super::nginx_wrap(about, 92) {
        let _ = writeln!(out, "# {line}");
    }
    if !w.is_empty() {
        let _ = writeln!(
            out,
            "#\n# Warnings (where {} differs from corsguard):",
            if target == "istio" {
                "Istio"
            } else {
                "Gateway API"
            }
        );
        for warning in w.iter() {
            for (i, line) in super::nginx_wrap(&warning.to_string(), 92)
                .iter()
                .enumerate()
            {
                let _ = writeln!(out, "#   {}{line}", if i == 0 { "- " } else { "  " });
            }
        }
    }
}

/// Warnings every Kubernetes target has: the `gateway:` section, CSRF, per-rule upstreams,
/// shadow mode and the engine's limits on the `Origin` header.
pub fn common_warnings(model: &PolicyModel, target: &str, w: &mut Warnings) {
    if model.has_gateway {
        w.push(
            None,
            "the `gateway:` section (listen, TLS, timeouts, limits, trusted proxies, WebSocket origin check) is not exported",
        );
    }
    for r in &model.rules {
        if r.csrf.is_some() {
            w.push(
                Some(&r.name),
                &format!("csrf is NOT exported: {target} has no CSRF check with corsguard's semantics (Sec-Fetch-Site, trusted origins), so unsafe cross-origin requests reach the application unchecked. Keep CSRF in the application (corsguard-tower/-actix) or in `corsguard serve`"),
            );
        }
        if let Some(u) = &r.upstream {
            w.push(
                Some(&r.name),
                &format!("upstream `{u}` is not exported: the rule sends to the --backend Service"),
            );
        }
        if r.cors
            .as_ref()
            .is_some_and(|c| c.mode == corsguard::Mode::Shadow)
        {
            w.push(
                Some(&r.name),
                &format!("mode: shadow has no {target} equivalent (it cannot report without enforcing): the rule gets no CORS configuration, so the application's CORS headers pass through unchanged"),
            );
        }
    }
    if model
        .rules
        .iter()
        .any(|r| r.cors.as_ref().is_some_and(|c| c.skip_same_origin))
    {
        w.push(
            None,
            "skip_same_origin: the proxy adds CORS headers to same-origin requests whose Origin is allowed (harmless, but not skipped)",
        );
    }
    w.push(
        None,
        "corsguard refuses origins longer than 326 bytes and requests with several `Origin` lines; the proxy matches the value it gets",
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn parent_refs_and_backends_parse() {
        assert_eq!(
            ParentRef::parse("infra/edge/https").unwrap(),
            ParentRef {
                namespace: Some("infra".into()),
                name: "edge".into(),
                section: Some("https".into())
            }
        );
        assert_eq!(ParentRef::parse("edge").unwrap().namespace, None);
        assert!(ParentRef::parse("a/b/c/d").is_err());
        assert!(ParentRef::parse("Edge").is_err());
        assert_eq!(
            Backend::parse("api.shop:8080").unwrap(),
            Backend {
                name: "api".into(),
                namespace: Some("shop".into()),
                port: 8080
            }
        );
        assert!(Backend::parse("api").is_err());
        assert!(Backend::parse("api:0").is_err());
        assert!(Backend::parse("api:65536").is_err());
        assert!(Backend::parse("API:80").is_err());
    }
}
