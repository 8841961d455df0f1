//! The blocks of `corsguard explain` that no CORS header changes: Local Network Access
//! (Chromium ≥ 142) and CORP/COEP on `no-cors` subresources. Their arguments, their part of the
//! report, and how they are printed; the browser half is `corsguard_browser`'s
//! `check_local_network` and `corp_check`, which `simulate` runs.

use std::fmt::Write as _;
use std::net::IpAddr;

use corsguard_browser::{
    AddressSpace, AddressSpaceOverride, BrowserRequest, Classified, Destination, EmbedderPolicy,
    Frame, LnaBlock, LnaPermission, LnaVerdict, NetworkContext, RequestMode, ResponseBlock,
    SpaceSource,
};
use serde::Serialize;

use crate::check::render::Style;

/// The arguments for Local Network Access and CORP/COEP.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct NetworkArgs {
    /// What a host name resolves to, `HOST=IP` (repeatable, like curl's `--resolve`): Local
    /// Network Access classifies the address the browser connects to. IP literals,
    /// `localhost` and `*.localhost` need none; other names are taken to be public.
    #[arg(long = "resolve", value_name = "HOST=IP")]
    pub resolve: Vec<String>,
    /// An entry of Chromium's `--ip-address-space-overrides` (or of the enterprise policy
    /// `LocalNetworkAccessIpAddressSpaceOverrides`): `IP:PORT=SPACE` or `CIDR=SPACE`, SPACE one
    /// of public, local, loopback (repeatable).
    #[arg(long = "ip-address-space-override", value_name = "ENDPOINT=SPACE")]
    pub overrides: Vec<String>,
    /// The Local Network Access permission of the top-level page (`local-network` or
    /// `loopback-network`, whichever the target needs): `prompt` predicts a prompt nobody
    /// answers (blocked), as in headless Chromium.
    #[arg(long, value_enum, default_value_t = Permission::Prompt)]
    pub lna_permission: Permission,
    /// The page runs in an `<iframe>` embedded by a page of this origin (the permission is
    /// that origin's, and a cross-origin iframe needs `--iframe-allow`).
    #[arg(long, value_name = "ORIGIN")]
    pub iframe_in: Option<String>,
    /// The iframe's `allow` attribute, e.g. `local-network-access` (with `--iframe-in`).
    #[arg(long, value_name = "FEATURES", requires = "iframe_in")]
    pub iframe_allow: Option<String>,
    /// `fetch(url, {targetAddressSpace})`: the address space the script declares.
    #[arg(long, value_enum, value_name = "SPACE")]
    pub target_address_space: Option<Space>,
    /// The request's destination: `empty` is `fetch()`; `image` an `<img>`, `script` a
    /// `<script>`, … (with `--mode no-cors` unless the element has `crossorigin`); `iframe` a
    /// nested navigation.
    #[arg(long, default_value = "empty", value_parser = destination_parser())]
    pub destination: Destination,
    /// A header of the page's own response, `Name: value` (repeatable); the model reads
    /// `Cross-Origin-Embedder-Policy`.
    #[arg(long = "page-header", value_name = "NAME: VALUE")]
    pub page_headers: Vec<String>,
}

/// LNA permission states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Permission {
    /// Not decided yet (the default): a prompt nobody answers.
    Prompt,
    /// Granted by the user (or by enterprise policy).
    Granted,
    /// Denied.
    Denied,
}

/// Address spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Space {
    /// `public`.
    Public,
    /// `local` (private networks).
    Local,
    /// `loopback`.
    Loopback,
}

/// `--destination`'s values: the model's destinations, by their `Sec-Fetch-Dest` names.
fn destination_parser() -> impl clap::builder::TypedValueParser<Value = Destination> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Destination::ALL.map(Destination::as_str))
        .map(|s: String| Destination::parse(&s).unwrap_or_default())
}

/// Adds the network context, destination and page COEP to `req` (an `<iframe>` is a
/// navigation); `Err` names the bad argument.
pub(crate) fn apply(args: &NetworkArgs, req: BrowserRequest) -> Result<BrowserRequest, String> {
    let mut net = NetworkContext {
        permission: match args.lna_permission {
            Permission::Prompt => LnaPermission::Prompt,
            Permission::Granted => LnaPermission::Granted,
            Permission::Denied => LnaPermission::Denied,
        },
        target_address_space: args.target_address_space.map(|s| match s {
            Space::Public => AddressSpace::Public,
            Space::Local => AddressSpace::Local,
            Space::Loopback => AddressSpace::Loopback,
        }),
        ..NetworkContext::default()
    };
    for r in &args.resolve {
        let parsed = r
            .split_once('=')
            .and_then(|(h, ip)| Some((h.trim().to_owned(), ip.trim().parse::<IpAddr>().ok()?)));
        match parsed {
            Some((h, ip)) if !h.is_empty() => net.resolve.push((h, ip)),
            _ => return Err(format!("--resolve `{r}`: write HOST=IP")),
        }
    }
    for o in &args.overrides {
        net.overrides.push(
            AddressSpaceOverride::parse(o)
                .map_err(|e| format!("--ip-address-space-override {e}"))?,
        );
    }
    if let Some(top) = &args.iframe_in {
        net.frame = Frame::Iframe {
            top_origin: top.clone(),
            allow: args
                .iframe_allow
                .as_deref()
                .unwrap_or("")
                .split(';')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect(),
        };
    }
    let mut coep = EmbedderPolicy::UnsafeNone;
    for h in &args.page_headers {
        let (n, v) = super::parse_header(h).map_err(|e| format!("--page-header {e}"))?;
        if n.eq_ignore_ascii_case("cross-origin-embedder-policy") {
            coep = EmbedderPolicy::parse(&v);
        }
    }
    let destination = args.destination;
    let mut req = req
        .network(net)
        .destination(destination)
        .embedder_policy(coep);
    if destination.is_navigation() {
        req = req.mode(RequestMode::Navigate);
    }
    Ok(req)
}

/// Local Network Access in the report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LnaReport {
    /// The check as the browser ran it.
    #[serde(flatten)]
    pub check: LnaVerdict,
    /// The permission state assumed.
    pub permission_state: &'static str,
    /// What lifts the block (no server header does).
    pub fixes: Vec<String>,
}

/// A CORP/COEP block in the report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CorpReport {
    /// The block.
    #[serde(flatten)]
    pub block: ResponseBlock,
    /// The console line.
    pub console_message: String,
    /// What lifts it.
    pub fixes: Vec<String>,
}

/// The LNA part of the report: present when the request is a local network request, or
/// targets a non-public address, or is blocked by LNA.
pub(crate) fn lna_report(req: &BrowserRequest, check: Option<&LnaVerdict>) -> Option<LnaReport> {
    let check = check?;
    if !check.gated && check.block.is_none() && check.target.space == AddressSpace::Public {
        return None;
    }
    let fixes = check
        .block
        .map(|b| lna_fixes(req, check, b))
        .unwrap_or_default();
    Some(LnaReport {
        check: check.clone(),
        permission_state: req.network.permission.as_str(),
        fixes,
    })
}

fn lna_fixes(req: &BrowserRequest, check: &LnaVerdict, block: LnaBlock) -> Vec<String> {
    let page = req.page_origin_serialized();
    let target = check.target.space;
    let permission = target.permission_name().unwrap_or("local-network");
    let top = match &req.network.frame {
        Frame::Iframe { top_origin, .. } => top_origin.clone(),
        Frame::TopLevel => page.clone(),
    };
    let mut fixes = Vec::new();
    match block {
        LnaBlock::TargetAddressSpaceMismatch { actual, .. } => {
            fixes.push(format!(
                "the fetch() call's targetAddressSpace must be '{actual}' (the address space of the target), or be left out"
            ));
            return fixes;
        }
        LnaBlock::InsecureContext { .. } => fixes.push(format!(
            "serve the page from a secure context (https://, or http://localhost): Chromium never asks for the permission from {page}"
        )),
        LnaBlock::NotDelegated { .. } => fixes.push(format!(
            "the embedding page ({top}) must delegate the permission: <iframe allow=\"local-network-access\"> (Chromium ≥ 145 also reads \"{permission}\")"
        )),
        _ => {}
    }
    if req.network.permission != LnaPermission::Granted {
        fixes.push(format!(
            "the user grants `{permission}` to {top} (Chromium prompts on the first such request; a denial or three dismissals block it)"
        ));
    }
    fixes.push(format!(
        "on managed browsers: the enterprise policy LocalNetworkAccessAllowedForUrls (Chrome ≥ 146: {}) listing {top}",
        if target == AddressSpace::Loopback {
            "LoopbackNetworkAllowedForUrls"
        } else {
            "LocalNetworkAllowedForUrls"
        }
    ));
    fixes.push(
        "or serve the API where the page is: at a public address, or on the page's own origin (a same-origin request is not gated)"
            .to_owned(),
    );
    fixes
}

/// The CORP/COEP part of the report.
pub(crate) fn corp_report(
    block: Option<&ResponseBlock>,
    page_origin: &str,
    cors_allowed: Option<bool>,
) -> Option<CorpReport> {
    let block = block?;
    let mut fixes = Vec::new();
    match block.reason {
        corsguard_browser::BlockedReason::CoepFrameResourceNeedsCoepHeader => fixes.push(
            "the iframe's document must itself send Cross-Origin-Embedder-Policy: require-corp (or credentialless)"
                .to_owned(),
        ),
        _ => {
            fixes.push(format!(
                "send `Cross-Origin-Resource-Policy: cross-origin` on this response{} (corsguard does not add it: set it in the application or the proxy)",
                if block.destination.is_navigation() {
                    " and Cross-Origin-Embedder-Policy on the iframe's document"
                } else {
                    ""
                }
            ));
            if !block.destination.is_navigation() {
                let cors = match cors_allowed {
                    Some(true) => "the policy already allows it".to_owned(),
                    Some(false) => format!("the policy must then allow {page_origin}: it does not today"),
                    None => String::new(),
                };
                fixes.push(format!(
                    "or load it in CORS mode ({}) and answer with CORS headers{}",
                    with_crossorigin(block.destination),
                    if cors.is_empty() { String::new() } else { format!(": {cors}") }
                ));
            }
        }
    }
    Some(CorpReport {
        block: block.clone(),
        console_message: block.console_message(),
        fixes,
    })
}

fn describe(c: &Classified, host: &str) -> String {
    let how = match &c.source {
        SpaceSource::IpLiteral => "an IP literal".to_owned(),
        SpaceSource::Localhost => "a localhost name".to_owned(),
        SpaceSource::MdnsName => "a .local name".to_owned(),
        SpaceSource::Resolved(ip) => format!("resolves to {ip}"),
        SpaceSource::File => "a file: URL".to_owned(),
        SpaceSource::Assumed => "a name without --resolve: assumed public".to_owned(),
        SpaceSource::Declared => "declared by targetAddressSpace".to_owned(),
        _ => String::new(),
    };
    let over = if c.overridden { ", overridden" } else { "" };
    format!("{} ({host}: {how}{over})", c.space)
}

/// The element in CORS mode: `<img src crossorigin>`, `fetch()` without `mode: 'no-cors'`.
fn with_crossorigin(d: Destination) -> String {
    let element = d.element();
    match element.strip_suffix('>') {
        _ if d == Destination::Empty => "fetch() without mode: 'no-cors'".to_owned(),
        Some(open) => format!("{open} crossorigin>"),
        None => format!("{element} (CORS mode)"),
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| url.to_owned())
}

/// The request lines about destination and page COEP (nothing for a plain `fetch()`).
pub(crate) fn request_lines(req: &BrowserRequest) -> String {
    let mut o = String::new();
    if req.destination != Destination::Empty {
        let _ = writeln!(
            o,
            "  as {} (mode {}, destination {})",
            if req.mode == RequestMode::NoCors || req.destination.is_navigation() {
                req.destination.element().to_owned()
            } else {
                with_crossorigin(req.destination)
            },
            req.mode.as_str(),
            req.destination
        );
    }
    if req.embedder_policy != EmbedderPolicy::UnsafeNone {
        let _ = writeln!(
            o,
            "  the page has Cross-Origin-Embedder-Policy: {}",
            req.embedder_policy.as_str()
        );
    }
    o
}

/// The LNA step's title and detail lines.
pub(crate) fn lna_step(r: &LnaReport, req: &BrowserRequest, style: Style) -> (String, Vec<String>) {
    let red = anstyle::AnsiColor::Red.on_default().bold();
    let green = anstyle::AnsiColor::Green.on_default().bold();
    let c = &r.check;
    let page = c
        .page
        .as_ref()
        .map_or("of unknown address space".to_owned(), |p| {
            describe(p, &host_of(&req.page_origin))
        });
    let title = format!(
        "Local Network Access (Chromium ≥ 142): page {page} → target {}",
        describe(&c.target, &host_of(&req.url))
    );
    let mut lines = Vec::new();
    if let Some(LnaBlock::TargetAddressSpaceMismatch { declared, actual }) = c.block {
        lines.push(format!(
            "targetAddressSpace '{declared}' but the target is {actual}: {}",
            style.paint(red, "blocked before anything is sent")
        ));
        return (title, lines);
    }
    if !c.gated {
        lines.push("not a local network request (only public → local/loopback is gated): no permission needed".to_owned());
        return (title, lines);
    }
    let perm = c.permission.unwrap_or("local-network");
    lines.push(format!(
        "a local network request: needs a secure context ({}) and the `{perm}` permission ({})",
        if c.secure_context { "yes" } else { "no" },
        r.permission_state
    ));
    match c.block {
        Some(_) => lines.push(format!(
            "{}: nothing reaches the server, so no response header can change it",
            style.paint(red, "blocked before anything is sent")
        )),
        None => lines.push(format!(
            "{}: the request proceeds to the CORS checks",
            style.paint(green, "allowed")
        )),
    }
    (title, lines)
}

/// The verdict block for an LNA or CORP/COEP block (`None` for anything else).
pub(crate) fn verdict_block(
    lna: Option<&LnaReport>,
    corp: Option<&CorpReport>,
    console: Option<&str>,
    style: Style,
) -> Option<String> {
    let bold = anstyle::Style::new().bold();
    let red = anstyle::AnsiColor::Red.on_default().bold();
    let mut o = String::new();
    if let Some(l) = lna.filter(|l| l.check.block.is_some()) {
        let err = l
            .check
            .block
            .map(|b| b.cors_error().as_str())
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "{} {} by Local Network Access ({err}), not by the server's CORS answer",
            style.paint(bold, "Verdict:"),
            style.paint(red, "BLOCKED")
        );
        if let Some(m) = console {
            let _ = writeln!(o, "{} {m}", style.paint(bold, "Console:"));
        }
        let _ = writeln!(
            o,
            "{} no server header fixes a Local Network Access block (allow_private_network answers a preflight Chromium ≥ 142 never sends). What does:",
            style.paint(bold, "Fix:")
        );
        for f in &l.fixes {
            let _ = writeln!(o, "  - {f}");
        }
        return Some(o);
    }
    let c = corp?;
    let _ = writeln!(
        o,
        "{} {} by CORP/COEP ({}), not by CORS",
        style.paint(bold, "Verdict:"),
        style.paint(red, "BLOCKED"),
        c.block.reason.as_cdp()
    );
    let _ = writeln!(o, "{} {}", style.paint(bold, "Console:"), c.console_message);
    let _ = writeln!(
        o,
        "  (the response had {}; the page has Cross-Origin-Embedder-Policy: {})",
        c.block
            .corp
            .as_deref()
            .map_or("no Cross-Origin-Resource-Policy".to_owned(), |v| format!(
                "Cross-Origin-Resource-Policy: {v}"
            )),
        c.block.coep.as_str()
    );
    let _ = writeln!(o, "{}", style.paint(bold, "Fix:"));
    for f in &c.fixes {
        let _ = writeln!(o, "  - {f}");
    }
    Some(o)
}
