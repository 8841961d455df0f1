//! The clusters, and the complete bootstrap around the filters and routes: one listener with
//! an HTTP connection manager that normalises paths the way `corsguard serve` does, the
//! clusters, and an admin interface only when asked for.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::{BootstrapOptions, indent, q};

/// `(address, port)` of `PORT`, `ADDR:PORT` or `[V6]:PORT`.
fn socket_address(listen: &str, what: &str) -> Result<(String, u16), String> {
    let bad = || format!("{what} `{listen}`: expected PORT, ADDR:PORT or [V6]:PORT");
    let (addr, port) = match listen.rsplit_once(':') {
        Some((a, p)) if !a.is_empty() => (a.trim_start_matches('[').trim_end_matches(']'), p),
        Some(_) => return Err(bad()),
        None => ("0.0.0.0", listen),
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    if addr.is_empty() || addr.contains(['[', ']', ' ']) {
        return Err(bad());
    }
    Ok((addr.to_owned(), port))
}

fn address(addr: &str, port: u16) -> String {
    format!(
        "address: {{ socket_address: {{ address: {}, port_value: {port} }} }}",
        q(addr)
    )
}

/// The clusters (a YAML list at indent 0): `STATIC` for an IP literal, `STRICT_DNS` for a
/// name, TLS with SNI for `https://`.
pub(super) fn clusters(list: &[(String, String)]) -> String {
    let mut out = String::new();
    for (name, target) in list {
        let (scheme, rest) = target.split_once("://").unwrap_or(("http", target));
        let default_port = if scheme == "https" { 443 } else { 80 };
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !rest.ends_with(']') => (h, p.parse().unwrap_or(default_port)),
            _ => (rest, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let kind = if host.parse::<IpAddr>().is_ok() {
            "STATIC"
        } else {
            "STRICT_DNS"
        };
        let _ = writeln!(
            out,
            "- name: {name}\n  type: {kind}\n  connect_timeout: 5s\n  load_assignment:\n    cluster_name: {name}\n    endpoints:\n      - lb_endpoints:\n          - endpoint:\n              {}",
            address(host, port),
            name = q(name),
        );
        if scheme == "https" {
            let _ = writeln!(
                out,
                "  transport_socket:\n    name: envoy.transport_sockets.tls\n    typed_config:\n      '@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n      sni: {}",
                q(host)
            );
        }
    }
    out
}

/// The complete bootstrap (YAML at indent 0).
pub(super) fn render(
    b: &BootstrapOptions,
    filters: &str,
    routes: &str,
    clusters: &str,
    re2_limit: Option<usize>,
) -> Result<String, String> {
    let (addr, port) = socket_address(&b.listen, "--listen")?;
    let mut out = String::from("static_resources:\n  listeners:\n    - name: corsguard\n");
    let _ = writeln!(out, "      {}", address(&addr, port));
    out.push_str(
        "      filter_chains:\n        - filters:\n            - name: envoy.filters.network.http_connection_manager\n              typed_config:\n                '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n                stat_prefix: corsguard\n                # The path rules see what `corsguard serve` matches: escapes of unreserved\n                # characters decoded, `//` merged, dot segments removed, `%2F`/`%5C` refused.\n                normalize_path: true\n                merge_slashes: true\n                path_with_escaped_slashes_action: REJECT_REQUEST\n                # Methods are case-sensitive tokens (`post` is not `POST`): let them reach the\n                # filters instead of Envoy's 400.\n                http_protocol_options: { allow_custom_methods: true }\n                http_filters:\n",
    );
    out.push_str(&indent(filters, 18));
    out.push_str("                route_config:\n");
    out.push_str(&indent(routes, 18));
    if !clusters.is_empty() {
        out.push_str("  clusters:\n");
        out.push_str(&indent(clusters, 4));
    }
    if let Some(n) = re2_limit {
        let _ = writeln!(
            out,
            "# The Origin matchers join a rule's allow-list into one RE2 regex, larger than Envoy's\n\
             # default program size limit of 100.\n\
             layered_runtime:\n  layers:\n    - name: corsguard\n      static_layer:\n        re2.max_program_size.error_level: {n}"
        );
    }
    if let Some(admin) = &b.admin {
        let (addr, port) = socket_address(admin, "--admin")?;
        let _ = writeln!(out, "admin:\n  {}", address(&addr, port));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(socket_address("80", "l").unwrap(), ("0.0.0.0".into(), 80));
        assert_eq!(
            socket_address("127.0.0.1:8080", "l").unwrap(),
            ("127.0.0.1".into(), 8080)
        );
        assert_eq!(
            socket_address("[::1]:443", "l").unwrap(),
            ("::1".into(), 443)
        );
        assert!(socket_address("localhost", "l").is_err());
        assert!(socket_address(":80", "l").is_err());
        assert!(socket_address("1.2.3.4:99999", "l").is_err());
    }

    #[test]
    fn clusters_by_address_kind() {
        let c = clusters(&[
            ("app".into(), "http://127.0.0.1:9000".into()),
            ("api".into(), "https://api.internal".into()),
        ]);
        assert!(c.contains("type: STATIC"));
        assert!(c.contains("type: STRICT_DNS"));
        assert!(c.contains("address: 'api.internal', port_value: 443"));
        assert!(c.contains("sni: 'api.internal'"));
    }
}
