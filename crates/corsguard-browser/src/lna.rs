//! Local Network Access (LNA) as Chromium 142+ enforces it (the WICG `local-network-access`
//! spec, Chromium's `ip_address_space_util.cc` and `local_network_access_checker.cc`):
//! a page in the `public` address space that fetches a `local` or `loopback` address needs the
//! user's permission, asked only from a secure context. No response header changes the
//! outcome: the check runs when the connection is made, before any request (preflight
//! included) is sent.
//!
//! Observed in Chromium 156 (headless, `--ip-address-space-overrides`): the blocked request
//! never reaches the server; CDP reports `corsError` `LocalNetworkAccessPermissionDenied`
//! (no permission, or denied), `InsecureLocalNetwork` (the page is not a secure context) or
//! `InvalidLocalNetworkAccess` (the `targetAddressSpace` option does not match), each with an
//! empty `failedParameter`; a `loopback` target needs the `loopback-network` permission and a
//! `local` target `local-network` (a grant of one does not cover the other, and a grant of
//! the legacy `local-network-access` name covers neither); `local` → `loopback` is not gated.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use url::{Host, Url};

/// An IP address space (LNA spec `#ip-address-space`), most private first: Chromium compares
/// them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressSpace {
    /// The loopback device only (`127.0.0.0/8`, `::1`, `localhost`).
    Loopback,
    /// Addresses meaningful only on the current network (RFC 1918, link-local, CGNAT, ULA …).
    Local,
    /// Everything else.
    Public,
}

impl AddressSpace {
    /// The spec's name (`loopback`, `local`, `public`), as Chromium prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressSpace::Loopback => "loopback",
            AddressSpace::Local => "local",
            AddressSpace::Public => "public",
        }
    }

    /// Parses `loopback`, `local` or `public` (and Chromium's legacy alias `private` for
    /// `local`).
    pub fn parse(s: &str) -> Option<AddressSpace> {
        match s.trim() {
            "loopback" => Some(AddressSpace::Loopback),
            "local" | "private" => Some(AddressSpace::Local),
            "public" => Some(AddressSpace::Public),
            _ => None,
        }
    }

    /// The permission (Chromium ≥ 145) a public page needs to reach this space.
    pub fn permission_name(self) -> Option<&'static str> {
        match self {
            AddressSpace::Loopback => Some("loopback-network"),
            AddressSpace::Local => Some("local-network"),
            AddressSpace::Public => None,
        }
    }
}

impl fmt::Display for AddressSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The address space of an IP address, per Chromium's `NonPublicAddressSpaceMap` (first match
/// wins; an IPv4-mapped IPv6 address is classified as its IPv4 address).
///
/// ```
/// use corsguard_browser::{AddressSpace, ip_address_space};
/// let space = |s: &str| ip_address_space(s.parse().unwrap());
/// assert_eq!(space("127.0.0.1"), AddressSpace::Loopback);
/// assert_eq!(space("192.168.1.10"), AddressSpace::Local);
/// assert_eq!(space("100.64.0.1"), AddressSpace::Local);     // CGNAT
/// assert_eq!(space("198.18.0.1"), AddressSpace::Public);    // not in Chromium's table
/// assert_eq!(space("::ffff:10.0.0.1"), AddressSpace::Local);
/// assert_eq!(space("8.8.8.8"), AddressSpace::Public);
/// ```
pub fn ip_address_space(ip: IpAddr) -> AddressSpace {
    match ip {
        IpAddr::V4(v4) => ipv4_space(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => ipv4_space(v4),
            None => ipv6_space(v6),
        },
    }
}

fn ipv4_space(ip: Ipv4Addr) -> AddressSpace {
    let o = ip.octets();
    if ip.is_loopback() || ip.is_unspecified() {
        // 127.0.0.0/8, and 0.0.0.0/32 (Chromium: "loopback, out of caution").
        AddressSpace::Loopback
    } else if ip.is_private()            // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local()            // 169.254/16
        || o[0] == 0                     // 0.0.0.0/8 other than 0.0.0.0
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
    // 100.64/10, carrier-grade NAT (RFC 6598)
    {
        AddressSpace::Local
    } else {
        AddressSpace::Public
    }
}

fn ipv6_space(ip: Ipv6Addr) -> AddressSpace {
    let s = ip.segments();
    if ip.is_loopback() || ip.is_unspecified() {
        AddressSpace::Loopback
    } else if (s[0] & 0xfe00) == 0xfc00        // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80           // fe80::/10 link-local
        || (s[0] & 0xffc0) == 0xfec0           // fec0::/10 site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8)  // 2001:db8::/32 documentation
        || (s[0] & 0xfff0) == 0x3ff0
    // 3fff::/20 documentation
    {
        AddressSpace::Local
    } else {
        AddressSpace::Public
    }
}

/// One entry of Chromium's `--ip-address-space-overrides` switch (and of the
/// `LocalNetworkAccessIpAddressSpaceOverrides` enterprise policy): `IP:PORT=space`
/// (`[v6]:port` for IPv6; port 0 = any port) or `CIDR=space`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressSpaceOverride {
    /// The address (or the CIDR's prefix).
    pub ip: IpAddr,
    /// The port; `None` for any port.
    pub port: Option<u16>,
    /// The CIDR's prefix length, when a range was given.
    pub prefix: Option<u8>,
    /// The space the matching endpoints are put in.
    pub space: AddressSpace,
}

impl AddressSpaceOverride {
    /// Parses one `ENDPOINT=SPACE` entry.
    ///
    /// ```
    /// use corsguard_browser::{AddressSpace, AddressSpaceOverride};
    /// let o = AddressSpaceOverride::parse("127.0.0.1:8080=public").unwrap();
    /// assert_eq!((o.port, o.space), (Some(8080), AddressSpace::Public));
    /// let cgnat = AddressSpaceOverride::parse("100.64.0.0/10=public").unwrap();
    /// assert!(cgnat.matches("100.100.1.1".parse().unwrap(), 443));
    /// assert!(AddressSpaceOverride::parse("example.com:80=public").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<AddressSpaceOverride, String> {
        let bad =
            || format!("`{s}`: write IP:PORT=SPACE or CIDR=SPACE (SPACE: public, local, loopback)");
        let (endpoint, space) = s.split_once('=').ok_or_else(bad)?;
        let space = AddressSpace::parse(space).ok_or_else(bad)?;
        let endpoint = endpoint.trim();
        if let Some((addr, len)) = endpoint.split_once('/') {
            let ip: IpAddr = addr.trim_matches(['[', ']']).parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = len.parse().ok().filter(|l| *l <= max).ok_or_else(bad)?;
            return Ok(AddressSpaceOverride {
                ip,
                port: None,
                prefix: Some(prefix),
                space,
            });
        }
        let (addr, port) = match endpoint.rsplit_once(':') {
            Some((a, p)) if a.starts_with('[') || !a.contains(':') => (
                a.trim_matches(['[', ']']),
                Some(p.parse::<u16>().map_err(|_| bad())?),
            ),
            _ => (endpoint.trim_matches(['[', ']']), None),
        };
        let ip: IpAddr = addr.parse().map_err(|_| bad())?;
        Ok(AddressSpaceOverride {
            ip,
            port: port.filter(|p| *p != 0),
            prefix: None,
            space,
        })
    }

    /// Whether the endpoint `ip:port` is covered (a range only matches addresses of its own
    /// family, as in Chromium).
    pub fn matches(&self, ip: IpAddr, port: u16) -> bool {
        match self.prefix {
            Some(len) => in_prefix(ip, self.ip, len),
            None => self.ip == ip && self.port.is_none_or(|p| p == port),
        }
    }
}

fn in_prefix(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The state of the LNA permission (`local-network` or `loopback-network`, whichever the
/// target needs) for the top-level page's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LnaPermission {
    /// Not decided: Chromium shows a prompt and the request waits. The model predicts the
    /// outcome of a prompt nobody answers (headless Chromium, a dismissed prompt): blocked.
    #[default]
    Prompt,
    /// Granted by the user, or by the enterprise policy `LocalNetworkAccessAllowedForUrls`.
    Granted,
    /// Denied (or embargoed after three dismissals).
    Denied,
}

impl LnaPermission {
    /// `prompt`, `granted` or `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            LnaPermission::Prompt => "prompt",
            LnaPermission::Granted => "granted",
            LnaPermission::Denied => "denied",
        }
    }
}

/// The frame the fetching page runs in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Frame {
    /// A top-level document.
    #[default]
    TopLevel,
    /// An `<iframe>` embedded by a page of `top_origin`, with the features of its `allow`
    /// attribute (e.g. `local-network-access`, `loopback-network`).
    Iframe {
        /// The embedding (top-level) page's origin: the permission is that origin's.
        top_origin: String,
        /// The `allow` attribute's feature names.
        allow: Vec<String>,
    },
}

/// What the browser knows about the network: the inputs of the LNA check that are not in the
/// request itself.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NetworkContext {
    /// What host names resolve to (`curl --resolve`-style; IP literals and `localhost` need
    /// none). A name with no entry is of unknown address space.
    pub resolve: Vec<(String, IpAddr)>,
    /// Chromium's `--ip-address-space-overrides` / `LocalNetworkAccessIpAddressSpaceOverrides`.
    pub overrides: Vec<AddressSpaceOverride>,
    /// The permission state.
    pub permission: LnaPermission,
    /// The frame the page runs in.
    pub frame: Frame,
    /// `fetch(url, {targetAddressSpace})`.
    pub target_address_space: Option<AddressSpace>,
    /// LNA checks switched off, like Chromium's `--disable-features=LocalNetworkAccessChecks`:
    /// for callers that only ask about the server's CORS answers (`corsguard probe`, the
    /// gateway's explain endpoint), which do not know the network the page runs in.
    pub checks_disabled: bool,
}

impl NetworkContext {
    /// A context with the LNA checks switched off (see [`NetworkContext::checks_disabled`]).
    pub fn without_checks() -> NetworkContext {
        NetworkContext {
            checks_disabled: true,
            ..NetworkContext::default()
        }
    }
}

/// How an address space was determined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SpaceSource {
    /// From an IP literal in the URL.
    IpLiteral,
    /// `localhost` or a `*.localhost` name (Chromium maps them to 127.0.0.1).
    Localhost,
    /// A `.local` (mDNS) name.
    MdnsName,
    /// From a `resolve` entry.
    Resolved(IpAddr),
    /// A `file:` URL (Chromium: loopback).
    File,
    /// Unknown (a name without a `resolve` entry): counted as public, as Chromium counts an
    /// unknown space.
    Assumed,
    /// From the `targetAddressSpace` option (the target's name has no `resolve` entry).
    Declared,
}

/// An address space and how it was found, possibly changed by an override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classified {
    /// The space.
    pub space: AddressSpace,
    /// How it was found.
    pub source: SpaceSource,
    /// Whether an `--ip-address-space-overrides` entry decided it.
    pub overridden: bool,
}

impl NetworkContext {
    /// The address space of `url`'s host (`None` for an opaque URL or origin).
    pub fn classify(&self, url: &str) -> Option<Classified> {
        let url = Url::parse(url).ok()?;
        if url.scheme() == "file" {
            return Some(self.fixed(AddressSpace::Loopback, SpaceSource::File));
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let (ip, source) = match url.host()? {
            Host::Ipv4(ip) => (IpAddr::V4(ip), SpaceSource::IpLiteral),
            Host::Ipv6(ip) => (IpAddr::V6(ip), SpaceSource::IpLiteral),
            Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    (IpAddr::V4(Ipv4Addr::LOCALHOST), SpaceSource::Localhost)
                } else if let Some((_, ip)) = self
                    .resolve
                    .iter()
                    .find(|(h, _)| h.eq_ignore_ascii_case(&name))
                {
                    (*ip, SpaceSource::Resolved(*ip))
                } else if name == "local" || name.ends_with(".local") {
                    return Some(self.fixed(AddressSpace::Local, SpaceSource::MdnsName));
                } else {
                    return Some(self.fixed(AddressSpace::Public, SpaceSource::Assumed));
                }
            }
        };
        Some(match self.overrides.iter().find(|o| o.matches(ip, port)) {
            Some(o) => Classified {
                space: o.space,
                source,
                overridden: true,
            },
            None => self.fixed(ip_address_space(ip), source),
        })
    }

    fn fixed(&self, space: AddressSpace, source: SpaceSource) -> Classified {
        Classified {
            space,
            source,
            overridden: false,
        }
    }
}

/// Why a fetch is (or is not) a local network request, and its fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LnaVerdict {
    /// The page's address space (`None`: an opaque page origin, not classified).
    pub page: Option<Classified>,
    /// The target's.
    pub target: Classified,
    /// The page is a secure context.
    pub secure_context: bool,
    /// The request moves to a more private space (public → local/loopback): LNA applies.
    pub gated: bool,
    /// The permission needed (`local-network` / `loopback-network`) when gated.
    pub permission: Option<&'static str>,
    /// Why it is blocked, if it is.
    pub block: Option<LnaBlock>,
}

/// An LNA block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LnaBlock {
    /// `targetAddressSpace` differs from the target's space (`InvalidLocalNetworkAccess`).
    TargetAddressSpaceMismatch {
        /// What the script declared.
        declared: AddressSpace,
        /// What the target is.
        actual: AddressSpace,
    },
    /// The page is not a secure context (`InsecureLocalNetwork`).
    InsecureContext {
        /// The target's space.
        target: AddressSpace,
    },
    /// A cross-origin iframe without the `allow` delegation (`LocalNetworkAccessPermissionDenied`).
    NotDelegated {
        /// The target's space.
        target: AddressSpace,
    },
    /// No permission: not asked (a prompt nobody answers) or denied
    /// (`LocalNetworkAccessPermissionDenied`).
    PermissionDenied {
        /// The target's space.
        target: AddressSpace,
    },
}

/// Whether `origin` (a serialized origin or URL) is potentially trustworthy: `https`, `wss`,
/// `file`, a loopback IP literal, `localhost` or `*.localhost`.
pub fn is_secure_context(origin: &str) -> bool {
    Url::parse(origin).is_ok_and(|u| crate::request::is_potentially_trustworthy(&u))
}

/// The permissions-policy features that delegate LNA to an iframe for a target space.
fn delegates(allow: &[String], target: AddressSpace) -> bool {
    allow.iter().any(|f| {
        let f = f.split_whitespace().next().unwrap_or("");
        f == "local-network-access" || f == "*" || f == target.permission_name().unwrap_or("")
    })
}

/// Runs Chromium 156's LNA check for a fetch of `url` from a page at `page_origin` (order as
/// in `LocalNetworkAccessChecker::Check`: the `targetAddressSpace` mismatch first, then the
/// potentially-trustworthy same-origin exemption, the "less public" comparison with `local`
/// and `loopback` collapsed, the secure-context requirement, the iframe delegation and the
/// permission).
///
/// ```
/// use corsguard_browser::{check_local_network, AddressSpace, LnaPermission, NetworkContext};
///
/// let mut net = NetworkContext::default();
/// let v = check_local_network("https://app.example.com", "http://192.168.1.10/api", &net);
/// assert!(v.gated && v.block.is_some());
/// assert_eq!(v.permission, Some("local-network"));
/// net.permission = LnaPermission::Granted;
/// assert!(check_local_network("https://app.example.com", "http://192.168.1.10/api", &net).block.is_none());
/// // loopback → loopback is not a local network request
/// assert!(!check_local_network("http://127.0.0.1:8080", "http://localhost:9000/", &net).gated);
/// ```
pub fn check_local_network(page_origin: &str, url: &str, net: &NetworkContext) -> LnaVerdict {
    let page = net.classify(page_origin);
    let mut target = net.classify(url).unwrap_or(Classified {
        space: AddressSpace::Public,
        source: SpaceSource::Assumed,
        overridden: false,
    });
    if let (SpaceSource::Assumed, Some(declared)) = (&target.source, net.target_address_space) {
        target = Classified {
            space: declared,
            source: SpaceSource::Declared,
            overridden: false,
        };
    }
    let secure_context = is_secure_context(page_origin);
    let mut verdict = LnaVerdict {
        page,
        target: target.clone(),
        secure_context,
        gated: false,
        permission: None,
        block: None,
    };
    if net.checks_disabled {
        return verdict;
    }
    if let Some(declared) = net.target_address_space
        && declared != target.space
    {
        verdict.block = Some(LnaBlock::TargetAddressSpaceMismatch {
            declared,
            actual: target.space,
        });
        return verdict;
    }
    if secure_context && crate::request::same_origin_str(page_origin, url) {
        return verdict;
    }
    let page_public = verdict
        .page
        .as_ref()
        .is_some_and(|p| p.space == AddressSpace::Public);
    if !page_public || target.space == AddressSpace::Public {
        return verdict;
    }
    verdict.gated = true;
    verdict.permission = target.space.permission_name();
    let t = target.space;
    verdict.block = if !secure_context {
        Some(LnaBlock::InsecureContext { target: t })
    } else if let Frame::Iframe { top_origin, allow } = &net.frame
        && !crate::request::same_origin_str(top_origin, page_origin)
        && !delegates(allow, t)
    {
        Some(LnaBlock::NotDelegated { target: t })
    } else if net.permission == LnaPermission::Granted {
        None
    } else {
        Some(LnaBlock::PermissionDenied { target: t })
    };
    verdict
}

impl LnaBlock {
    /// The CDP `corsError`.
    pub fn cors_error(self) -> crate::CorsError {
        match self {
            LnaBlock::TargetAddressSpaceMismatch { .. } => {
                crate::CorsError::InvalidLocalNetworkAccess
            }
            LnaBlock::InsecureContext { .. } => crate::CorsError::InsecureLocalNetwork,
            LnaBlock::NotDelegated { .. } | LnaBlock::PermissionDenied { .. } => {
                crate::CorsError::LocalNetworkAccessPermissionDenied
            }
        }
    }

    /// The text Chromium prints after `has been blocked by CORS policy: `.
    pub fn console_tail(self) -> String {
        match self {
            LnaBlock::TargetAddressSpaceMismatch { declared, actual } => format!(
                "Request had a target IP address space of `{declared}` yet the resource is in \
                 address space `{actual}`."
            ),
            LnaBlock::InsecureContext { target } => format!(
                "The request client is not a secure context and the resource is in \
                 more-private address space `{target}`."
            ),
            LnaBlock::NotDelegated { target } | LnaBlock::PermissionDenied { target } => format!(
                "Permission was denied for this request to access the `{target}` address space."
            ),
        }
    }
}
