//! `corsguard export nginx`: the policy as an nginx configuration (maps + server blocks).
//!
//! Every decision corsguard takes is a function of a few request facts (is there an `Origin`,
//! is it allowed, is this a preflight, is the method / are the headers allowed …). The export
//! computes each fact with a `map` (anchored regexes, never nginx's case-insensitive string
//! keys), combines them into one outcome per rule (`none`, `actual`, `actual-refused`,
//! `preflight`, `preflight-refused`, `preflight-origin-refused`), and maps each outcome to the
//! header values corsguard would send. Locations only `return` (the one safe thing to do in
//! an `if`) and repeat every `add_header … always`, so nothing depends on nginx's header
//! inheritance.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use corsguard::{Mode, OnReject};

use super::model::{
    Answer, CORS_HEADERS, CorsModel, CsrfModel, HostPattern, OriginEntry, Outcome, PathMatch,
    PolicyModel, RuleModel, Source, VARY_TOKENS,
};
use super::{Export, Warnings, proxy_target};

/// Options of the nginx export.
#[derive(Debug, Clone)]
pub struct NginxOptions {
    /// `listen` parameter (`8080`, `127.0.0.1:8080`, `[::]:443 ssl` …).
    pub listen: String,
    /// `server_name` of the default server.
    pub server_name: String,
    /// The upstream every location proxies to (unless a rule has its own).
    pub upstream: Option<String>,
    /// The policy file name, for the header comment.
    pub source_name: String,
}

/// A header value: a constant or an nginx variable.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Const(String),
    Var(String),
}

impl Val {
    fn render(&self) -> String {
        match self {
            Val::Const(s) => quote(s),
            Val::Var(v) => format!("${v}"),
        }
    }
}

/// Token characters accepted for methods and header names (`$` and backquote left out: they
/// would need escaping in nginx and no browser sends them).
const TOKEN_CLASS: &str = "[!#%&'*+.^_|~0-9A-Za-z-]";
/// Lower-case token characters: the ACRH form browsers send.
const LOWER_TOKEN_CLASS: &str = "[!#%&'*+.^_|~0-9a-z-]";

/// The nginx value of a header source: constants quoted, reflections as variables.
fn val(s: &Source, id: &str) -> Val {
    match s {
        Source::Const(v) => Val::Const(v.clone()),
        Source::Origin => Val::Var("http_origin".into()),
        Source::RequestMethod => Val::Var(format!("corsguard_{id}_acam")),
        Source::RequestHeaders => Val::Var(format!("corsguard_{id}_acah")),
        Source::PrivateNetworkRequested => Val::Var("corsguard_acapn".into()),
    }
}

/// Quotes a string for nginx: `"` and the backslash sequences nginx's parser rewrites in a
/// quoted word (`\"`, `\'`, `\\`, and `\t`, `\r`, `\n`, which become control characters)
/// are escaped so the text reaches the directive unchanged (a regex `\\t` must stay an
/// escaped backslash and a `t`, not become a backslash and a tab).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let chars: Vec<char> = s.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        match c {
            '\\' if matches!(chars.get(i + 1), Some('"' | '\'' | '\\' | 't' | 'r' | 'n')) => {
                out.push_str("\\\\")
            }
            '"' => out.push_str("\\\""),
            c => out.push(*c),
        }
    }
    out.push('"');
    out
}

/// A regex map key.
fn re_key(re: &str) -> String {
    quote(&format!("~{re}"))
}

struct Gen<'a> {
    model: &'a PolicyModel,
    opts: &'a NginxOptions,
    warnings: Warnings,
    out: String,
}

/// Renders the nginx configuration.
pub fn export(model: &PolicyModel, opts: &NginxOptions) -> Result<Export, String> {
    let mut g = Gen {
        model,
        opts,
        warnings: Warnings::default(),
        out: String::new(),
    };
    g.check()?;
    let body = g.render()?;
    let mut text = String::new();
    g.header(&mut text);
    text.push_str(&body);
    Ok(Export {
        text,
        warnings: g.warnings,
    })
}

impl Gen<'_> {
    fn enforced(&self) -> impl Iterator<Item = (&RuleModel, &CorsModel)> {
        self.model
            .rules
            .iter()
            .filter_map(|r| r.cors.as_ref().map(|c| (r, c)))
            .filter(|(_, c)| c.mode == Mode::Enforce)
    }

    /// Errors for what nginx cannot express at all; warnings for what it expresses
    /// approximately.
    fn check(&mut self) -> Result<(), String> {
        for (r, c) in self.enforced() {
            let values = c
                .constant_acao
                .iter()
                .chain(&c.acam)
                .chain(&c.acah)
                .chain(&c.aceh);
            for v in values {
                if v.contains('$') {
                    return Err(format!(
                        "{}: the header value `{v}` contains `$`, which nginx would read as a variable",
                        r.name
                    ));
                }
            }
        }
        let w = &mut self.warnings;
        let enforced: Vec<(String, CorsModel)> = self
            .model
            .rules
            .iter()
            .filter_map(|r| r.cors.clone().map(|c| (r.name.clone(), c)))
            .filter(|(_, c)| c.mode == Mode::Enforce)
            .collect();
        if enforced.iter().any(|(_, c)| !c.any_origin) {
            w.push(
                None,
                "nginx before 1.23 sees only the first of repeated request header lines: a request with two `Origin` lines is judged on the first one (corsguard refuses it), and only the first `Access-Control-Request-Method`/`Access-Control-Request-Headers` line is checked",
            );
        }
        if enforced.iter().any(|(_, c)| c.skip_same_origin) {
            w.push(
                None,
                "same-origin requests are recognised by comparing `Origin` with `$scheme://$http_host` byte for byte; corsguard also ignores the Host header's case and a default port in it",
            );
        }
        if !enforced.is_empty() {
            w.push(
                None,
                "the upstream's `Vary` is merged from its first `Vary` line only (`$upstream_http_vary`); keep `gzip_vary` off in these locations or nginx adds a second `Vary` line",
            );
        }
        if self.model.rules.iter().any(|r| r.name != "defaults") {
            w.push(
                None,
                "locations match the normalised, percent-decoded URI (`$uri`, `//` merged, `..` resolved); corsguard matches the raw request path",
            );
        }
        for (name, c) in &enforced {
            if c.on_reject == OnReject::Forbid {
                w.push(
                    Some(name),
                    "on_reject: forbid: corsguard's bounds on Access-Control-Request-Headers (at most 16 lines, a limit on empty elements) are not enforced; headers are judged by name only",
                );
            }
            if c.reflects_headers() {
                w.push(
                    Some(name),
                    "allow_headers: ['*'] reflects Access-Control-Request-Headers only in the form browsers send (lower-case names joined by `,` without spaces); other spellings, which corsguard would normalise, get no reflected Access-Control-Allow-Headers",
                );
            }
        }
        for (name, c) in &enforced {
            let lower: Vec<&str> = c
                .methods
                .iter()
                .filter(|m| m.bytes().any(|b| b.is_ascii_lowercase()))
                .map(String::as_str)
                .collect();
            if !lower.is_empty() || c.methods_any {
                w.push(
                    Some(name),
                    &format!(
                        "nginx answers a request whose method is not upper-case with 400 while parsing the request line, before any CORS header applies: {} get(s) no CORS headers on the actual request",
                        if lower.is_empty() { "lower-case methods admitted by `*`".to_string() } else { format!("`{}`", lower.join("`, `")) }
                    ),
                );
            }
        }
        let mut regexes: Vec<(String, Vec<String>)> = Vec::new();
        for (name, c) in &enforced {
            for o in &c.origins {
                if let OriginEntry::Regex(re) = o {
                    match regexes.iter_mut().find(|(r, _)| r == re) {
                        Some((_, rules)) => rules.push(name.clone()),
                        None => regexes.push((re.clone(), vec![name.clone()])),
                    }
                }
            }
        }
        for (re, rules) in regexes {
            self.warnings.push(
                None,
                &format!("origin regex `{re}` ({}) runs as a PCRE in nginx (corsguard uses Rust `regex` syntax, where `\\d`, `\\w` and `.` are Unicode-aware); check that it means the same", rules.join(", ")),
            );
        }
        for r in &self.model.rules {
            if let PathMatch::Regex(re) = &r.path {
                self.warnings.push(
                    Some(&r.name),
                    &format!("path regex `{re}` runs as a PCRE location in nginx (corsguard uses Rust `regex` syntax)"),
                );
            }
            if r.cors.as_ref().is_some_and(|c| c.mode == Mode::Shadow) {
                self.warnings.push(
                    Some(&r.name),
                    "mode: shadow has no nginx equivalent (no decision log, no metrics): the location proxies without touching CORS headers, as shadow mode does",
                );
            }
        }
        for r in &self.model.rules {
            match &r.csrf {
                Some(c) if !c.enforce => self.warnings.push(
                    Some(&r.name),
                    "csrf mode: report has no nginx equivalent (nothing is logged or counted): unsafe cross-origin requests pass unchanged",
                ),
                Some(_) => self.warnings.push(
                    None,
                    "CSRF: nginx before 1.23 sees only the first `Sec-Fetch-Site` and `Origin` line (corsguard refuses several); nginx answers 400 to a lower-case method such as `post` before any location runs",
                ),
                None => {}
            }
        }
        if self.model.has_gateway {
            self.warnings.push(
                None,
                "the `gateway:` section (listen, TLS, timeouts, limits, trusted proxies, WebSocket origin check) is not exported; configure nginx's own equivalents",
            );
        }
        self.warnings.push(
            None,
            "corsguard's decision log, traces and metrics have no nginx equivalent",
        );
        Ok(())
    }

    fn header(&self, text: &mut String) {
        let _ = writeln!(
            text,
            "# Generated by `corsguard export nginx` from {}.",
            self.opts.source_name
        );
        text.push_str(
            "# Re-export instead of editing: the maps below encode corsguard's decisions.\n\
             #\n\
             # Include this file inside `http { }` (e.g. /etc/nginx/conf.d/corsguard.conf). It defines\n\
             # the maps and the server block(s); adjust `listen`/`server_name` (or pass --listen,\n\
             # --server-name) and keep every add_header in a location: nginx drops inherited\n\
             # add_header directives as soon as a location defines one of its own.\n",
        );
        text.push_str("#\n# Rules (first match wins, as in corsguard):\n");
        for r in &self.model.rules {
            let _ = writeln!(text, "#   {:<9} {}", r.name, r.summary());
        }
        if !self.warnings.is_empty() {
            text.push_str("#\n# Warnings (where nginx differs from corsguard):\n");
            for w in self.warnings.iter() {
                for (i, line) in wrap(&w.to_string(), 92).iter().enumerate() {
                    let _ = writeln!(text, "#   {}{line}", if i == 0 { "- " } else { "  " });
                }
            }
        }
        text.push('\n');
    }

    fn render(&mut self) -> Result<String, String> {
        let enforced: Vec<(RuleModel, CorsModel)> = self
            .enforced()
            .map(|(r, c)| (r.clone(), c.clone()))
            .collect();
        self.shared_maps(&enforced);
        for (r, c) in &enforced {
            self.rule_maps(r, c);
        }
        let csrf: Vec<(RuleModel, CsrfModel)> = self
            .model
            .rules
            .iter()
            .filter_map(|r| r.csrf.clone().filter(|c| c.enforce).map(|c| (r.clone(), c)))
            .collect();
        if !csrf.is_empty() {
            self.csrf_shared_maps(!enforced.is_empty());
            for (r, c) in &csrf {
                self.csrf_maps(r, c);
            }
        }
        self.servers()?;
        Ok(std::mem::take(&mut self.out))
    }

    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn shared_maps(&mut self, enforced: &[(RuleModel, CorsModel)]) {
        if enforced.is_empty() {
            return;
        }
        self.line("# ---- request facts shared by every rule");
        self.line("map $http_origin $corsguard_has_origin {\n    \"\" 0;\n    default 1;\n}");
        self.line(
            "map $http_access_control_request_method $corsguard_has_acrm {\n    \"\" 0;\n    default 1;\n}",
        );
        self.line("# A preflight: OPTIONS with Origin and Access-Control-Request-Method.");
        self.line(&format!(
            "map \"$request_method ${{corsguard_has_origin}}${{corsguard_has_acrm}}\" $corsguard_preflight {{\n    {} 1;\n    default 0;\n}}",
            re_key("^OPTIONS 11$")
        ));
        if enforced.iter().any(|(_, c)| c.skip_same_origin) {
            self.line("# Same-origin requests (Origin equals the request's own scheme://host) are not CORS.");
            self.line(&format!(
                "map \"$http_origin|$scheme://$http_host\" $corsguard_same_origin {{\n    {} 1;\n    default 0;\n}}",
                re_key("^([^|]+)\\|\\1$")
            ));
        }
        if enforced
            .iter()
            .any(|(_, c)| c.private_network || c.on_reject == OnReject::Forbid)
        {
            self.line(
                "# Access-Control-Request-Private-Network: true (legacy Private Network Access).",
            );
            self.line(&format!(
                "map $http_access_control_request_private_network $corsguard_pna {{\n    {} 1;\n    default 0;\n}}",
                re_key("^[ \\t]*true[ \\t]*$")
            ));
        }
        if enforced.iter().any(|(_, c)| c.private_network) {
            self.line("map $corsguard_pna $corsguard_acapn {\n    1 true;\n    default \"\";\n}");
        }
        self.line(
            "# Vary: the tokens the rule needs ($corsguard_vary_need, one flag each for Origin,",
        );
        self.line("# Access-Control-Request-Method, -Headers, -Private-Network) merged into the upstream's");
        self.line("# Vary without duplicates (case-insensitive; `*` already covers everything).");
        let mut prev = "$upstream_http_vary".to_string();
        for (i, tok) in VARY_TOKENS.iter().enumerate() {
            let var = format!("$corsguard_vary{}", i + 1);
            let skip = format!("^[01]{{{i}}}0[01]*\\|(.*)$");
            let present = format!(
                "*^[01]{{4}}\\|((?:.*,)?[ \\t]*(?:{}|\\*)[ \\t]*(?:,.*)?)$",
                tok.to_ascii_lowercase()
            );
            self.line(&format!(
                "map \"$corsguard_vary_need|{}\" {var} {{\n    {} $1;\n    {} $1;\n    {} {};\n    {} \"$1, {tok}\";\n}}",
                brace(&prev),
                re_key(&skip),
                quote(&format!("~{present}")),
                re_key("^[01]{4}\\|$"),
                quote(tok),
                re_key("^[01]{4}\\|(.+)$"),
            ));
            prev = var;
        }
        self.line("");
    }

    /// The request facts of the CSRF check (Go 1.25's algorithm), as anchored regexes:
    /// methods and `Sec-Fetch-Site` values are compared case-sensitively, as corsguard does.
    fn csrf_shared_maps(&mut self, has_origin_defined: bool) {
        self.line("# ---- CSRF protection: request facts");
        self.line(&format!(
            "map $request_method $corsguard_unsafe_method {{\n    {} 0;\n    default 1;\n}}",
            re_key("^(GET|HEAD|OPTIONS)$")
        ));
        self.line("# Sec-Fetch-Site as one of five tokens (empty = absent or empty).");
        self.line(&format!(
            "map $http_sec_fetch_site $corsguard_sfs {{\n    \"\" \"\";\n    {} same-origin;\n    {} none;\n    {} same-site;\n    {} cross-site;\n    default other;\n}}",
            re_key("^same-origin$"),
            re_key("^none$"),
            re_key("^same-site$"),
            re_key("^cross-site$")
        ));
        if !has_origin_defined {
            self.line("map $http_origin $corsguard_has_origin {\n    \"\" 0;\n    default 1;\n}");
        }
        self.line("# Without Sec-Fetch-Site: does Origin name the request's own host (and port)?");
        self.line(&format!(
            "map \"$http_origin|$http_host\" $corsguard_origin_is_host {{\n    {} 1;\n    default 0;\n}}",
            re_key("^https?://([^|]+)\\|\\1$")
        ));
        let mut m =
            String::from("map $corsguard_csrf_code $corsguard_csrf_body {\n    default \"\";\n");
        for r in corsguard::CsrfRefusal::ALL {
            let _ = writeln!(m, "    {} {};", r.code(), quote(r.body()));
        }
        m.push('}');
        self.line(&m);
        self.line("");
    }

    /// One rule's CSRF verdict: empty (pass) or the refusal code. The key joins five facts:
    /// unsafe method, Sec-Fetch-Site token, trusted origin, Origin is the host, Origin sent.
    fn csrf_maps(&mut self, r: &RuleModel, c: &CsrfModel) {
        let id = &r.id;
        self.line(&format!("# ---- CSRF: {} ({})", r.name, r.path.describe()));
        let mut m = format!("map $http_origin $corsguard_{id}_csrf_trusted {{\n    default 0;\n");
        let _ = writeln!(
            m,
            "    {} 0;  # longer than {} bytes",
            re_key(&format!("^.{{{}}}", corsguard::MAX_ORIGIN_LEN + 1)),
            corsguard::MAX_ORIGIN_LEN
        );
        // Listed in allow_origins (never through `*`; `null` is never listed), or in
        // trusted_origins.
        let listed = r
            .cors
            .iter()
            .filter(|cors| !cors.any_origin)
            .flat_map(|cors| &cors.origins);
        for o in listed.chain(&c.trusted) {
            let _ = writeln!(m, "    {} 1;  # {}", re_key(&o.to_regex()), o.text());
        }
        m.push('}');
        self.line(&m);
        let same_site = if c.allow_same_site {
            "\"\""
        } else {
            "csrf-same-site"
        };
        let keys = [
            (re_key("^0\\|"), "\"\"  # GET, HEAD, OPTIONS"),
            (re_key("^1\\|(same-origin|none)\\|"), "\"\""),
            (re_key("^1\\|[a-z-]*\\|1\\|"), "\"\"  # a trusted origin"),
            (re_key("^1\\|same-site\\|"), same_site),
            (re_key("^1\\|cross-site\\|"), "csrf-cross-site"),
            (re_key("^1\\|other\\|"), "csrf-unknown-sec-fetch-site"),
            (
                re_key("^1\\|\\|0\\|1\\|"),
                "\"\"  # no Sec-Fetch-Site, Origin is the host",
            ),
            (
                re_key("^1\\|\\|0\\|[01]\\|0$"),
                "\"\"  # no Sec-Fetch-Site, no Origin",
            ),
        ];
        let mut m = format!(
            "map \"$corsguard_unsafe_method|$corsguard_sfs|$corsguard_{id}_csrf_trusted|$corsguard_origin_is_host|$corsguard_has_origin\" $corsguard_{id}_csrf {{\n"
        );
        for (k, v) in keys {
            let (value, comment) = v.split_once("  #").map_or((v, ""), |(a, b)| (a, b));
            let comment = if comment.is_empty() {
                String::new()
            } else {
                format!("  #{comment}")
            };
            let _ = writeln!(m, "    {k} {value};{comment}");
        }
        m.push_str("    default csrf-untrusted-origin;\n}");
        self.line(&m);
        self.line("");
    }

    fn rule_maps(&mut self, r: &RuleModel, c: &CorsModel) {
        let id = &r.id;
        self.line(&format!("# ---- {} ({})", r.name, r.path.describe()));

        // Origin admitted?
        let mut m = format!("map $http_origin $corsguard_{id}_origin {{\n    default 0;\n");
        let _ = writeln!(
            m,
            "    {} 0;  # longer than {} bytes: refused",
            re_key(&format!("^.{{{}}}", corsguard::MAX_ORIGIN_LEN + 1)),
            corsguard::MAX_ORIGIN_LEN
        );
        if c.any_origin {
            let _ = writeln!(m, "    {} 1;  # allow_origins: ['*']", re_key("^"));
        } else {
            if c.allow_null {
                let _ = writeln!(m, "    {} 1;  # allow_null_origin", re_key("^null$"));
            }
            for o in &c.origins {
                let _ = writeln!(m, "    {} 1;  # {}", re_key(&o.to_regex()), o.text());
            }
        }
        m.push('}');
        self.line(&m);

        // Method (only where the answer depends on it).
        if c.needs_method_fact() {
            let mut m = format!(
                "map $http_access_control_request_method $corsguard_{id}_method {{\n    default b;  # not a single method token\n"
            );
            if c.methods_any {
                let _ = writeln!(m, "    {} k;", re_key(&format!("^{TOKEN_CLASS}+$")));
            } else {
                let mut allowed: Vec<String> = vec!["GET".into(), "HEAD".into(), "POST".into()];
                for meth in &c.methods {
                    if !allowed.contains(meth) {
                        allowed.push(meth.clone());
                    }
                }
                let alt: Vec<String> = allowed
                    .iter()
                    .map(|a| super::model::escape_regex(a))
                    .collect();
                let _ = writeln!(
                    m,
                    "    {} k;  # safelisted or allow_methods (case-sensitive)",
                    re_key(&format!("^(?:{})$", alt.join("|")))
                );
                let _ = writeln!(
                    m,
                    "    {} n;  # not allowed",
                    re_key(&format!("^{TOKEN_CLASS}+$"))
                );
            }
            m.push('}');
            self.line(&m);
        }
        if c.methods_any && c.credentials {
            self.line("# allow_methods: ['*'] with credentials: reflect the (single-token) requested method.");
            self.line(&format!(
                "map $http_access_control_request_method $corsguard_{id}_acam {{\n    default \"\";\n    {} $http_access_control_request_method;\n}}",
                re_key(&format!("^{TOKEN_CLASS}+$"))
            ));
        }

        // Request headers (only `on_reject: forbid` refuses on them).
        if c.on_reject == OnReject::Forbid {
            // nginx never tries regexes on an empty value: "" needs its own (exact) key.
            let mut m = format!(
                "map $http_access_control_request_headers $corsguard_{id}_headers {{\n    \"\" 1;  # none requested\n"
            );
            if c.headers_any {
                if c.authorization_listed {
                    m.push_str("    default 1;\n");
                } else {
                    let _ = writeln!(
                        m,
                        "    {} 0;  # `*` never covers Authorization\n    default 1;",
                        quote("~*(?:^|,)[ \\t]*authorization[ \\t]*(?:,|$)")
                    );
                }
            } else {
                let names: Vec<String> = c
                    .headers
                    .iter()
                    .map(|h| super::model::escape_regex(h))
                    .collect();
                let re = if names.is_empty() {
                    // Nothing listed: only an empty list (OWS and empty elements) passes.
                    "~^[ \\t,]*$".to_string()
                } else {
                    let alt = format!("(?:{})", names.join("|"));
                    format!("~*^[ \\t]*{alt}?[ \\t]*(?:,[ \\t]*{alt}?[ \\t]*)*$")
                };
                let _ = writeln!(
                    m,
                    "    {} 1;  # every name listed in allow_headers (or none requested)\n    default 0;",
                    quote(&re)
                );
            }
            m.push('}');
            self.line(&m);
        }
        if c.reflects_headers() {
            let list = format!("{LOWER_TOKEN_CLASS}+(?:,{LOWER_TOKEN_CLASS}+)*");
            if c.credentials && c.authorization_listed {
                self.line(
                    "# allow_headers: ['*'] with credentials: reflect the requested header names.",
                );
                self.line(&format!(
                    "map $http_access_control_request_headers $corsguard_{id}_acah {{\n    default \"\";\n    {} $http_access_control_request_headers;\n}}",
                    re_key(&format!("^{list}$"))
                ));
            } else if c.credentials {
                self.line("# allow_headers: ['*'] with credentials: reflect the requested header names, except");
                self.line("# Authorization, which `*` never covers (it must be listed).");
                self.line(&format!(
                    "map $http_access_control_request_headers $corsguard_{id}_acah {{\n    default \"\";\n    {} \"\";\n    {} $1;\n    {} $1;\n    {} \"$1,$2\";\n    {} $http_access_control_request_headers;\n}}",
                    re_key("^authorization$"),
                    re_key(&format!("^authorization,({list})$")),
                    re_key(&format!("^({list}),authorization$")),
                    re_key(&format!("^({list}),authorization,({list})$")),
                    re_key(&format!("^{list}$")),
                ));
            } else {
                self.line("# allow_headers: ['*'] without credentials: `*`, but Authorization is never covered by");
                self.line("# `*`, so a request asking for it gets the other names reflected.");
                self.line(&format!(
                    "map $http_access_control_request_headers $corsguard_{id}_acah {{\n    default \"*\";\n    {} \"\";\n    {} $1;\n    {} $1;\n    {} \"$1,$2\";\n}}",
                    re_key("^authorization$"),
                    re_key(&format!("^authorization,({list})$")),
                    re_key(&format!("^({list}),authorization$")),
                    re_key(&format!("^({list}),authorization,({list})$")),
                ));
            }
        }

        // The outcome.
        let forbid = c.on_reject == OnReject::Forbid;
        let key = format!(
            "${{corsguard_has_origin}}{}${{corsguard_preflight}}${{corsguard_{id}_origin}}{}{}{}",
            if c.skip_same_origin {
                "${corsguard_same_origin}"
            } else {
                "0"
            },
            if c.needs_method_fact() {
                format!("${{corsguard_{id}_method}}")
            } else {
                "k".into()
            },
            if forbid {
                format!("${{corsguard_{id}_headers}}")
            } else {
                "1".into()
            },
            if forbid && !c.private_network {
                "${corsguard_pna}"
            } else {
                "0"
            },
        );
        self.line(&format!(
            "map \"{key}\" $corsguard_{id}_outcome {{\n    {} none;  # no Origin: not a CORS request\n    {} none;  # same-origin\n    {} actual;\n    {} actual-refused;\n    {} preflight-origin-refused;\n    {} preflight;\n    default preflight-refused;  # method, headers or private network refused\n}}",
            re_key("^0"),
            re_key("^11"),
            re_key("^1.01"),
            re_key("^1.00"),
            re_key("^1.10"),
            re_key("^1.11k10$"),
        ));

        // Outcome → headers, status, Vary.
        let answers: Vec<(Outcome, Answer)> = c.answers();
        let headers = header_vars(&answers);
        for (i, name) in CORS_HEADERS.iter().enumerate() {
            if !headers.contains(&i) {
                continue;
            }
            let mut m = format!(
                "map $corsguard_{id}_outcome $corsguard_{id}_{} {{\n    default \"\";\n",
                short(i)
            );
            for (o, a) in &answers {
                if let Some(v) = value_of(a, id, i) {
                    let _ = writeln!(m, "    {} {};", o.name(), v.render());
                }
            }
            m.push('}');
            self.line(&format!("# {name}"));
            self.line(&m);
        }
        let mut m =
            format!("map $corsguard_{id}_outcome $corsguard_{id}_status {{\n    default \"\";\n");
        for (o, a) in &answers {
            if let Some(s) = a.status {
                let _ = writeln!(m, "    {} {s};", o.name());
            }
        }
        m.push('}');
        self.line(&m);
        let mut m =
            format!("map $corsguard_{id}_outcome $corsguard_{id}_vary {{\n    default 0000;\n");
        for (o, a) in &answers {
            let flags: String = a.vary.iter().map(|f| if *f { '1' } else { '0' }).collect();
            if flags != "0000" {
                let _ = writeln!(m, "    {} {flags};", o.name());
            }
        }
        m.push('}');
        self.line(&m);
        self.line("");
    }

    fn servers(&mut self) -> Result<(), String> {
        // nginx routes hosts with server blocks: one per distinct `hosts:` pattern, each with
        // the rules that apply to every host it receives, plus the default server.
        let mut patterns: Vec<HostPattern> = Vec::new();
        for r in &self.model.rules {
            for h in &r.hosts {
                if !patterns.contains(h) {
                    patterns.push(h.clone());
                }
            }
        }
        let default_rules: Vec<RuleModel> = self
            .model
            .rules
            .iter()
            .filter(|r| r.hosts.is_empty())
            .cloned()
            .collect();
        self.server(None, &default_rules)?;
        for p in &patterns {
            let rules: Vec<RuleModel> = self
                .model
                .rules
                .iter()
                .filter(|r| r.hosts.is_empty() || r.hosts.iter().any(|h| p.within(h)))
                .cloned()
                .collect();
            self.server(Some(p), &rules)?;
        }
        Ok(())
    }

    fn server(&mut self, host: Option<&HostPattern>, rules: &[RuleModel]) -> Result<(), String> {
        let (name, default) = match host {
            None => (self.opts.server_name.clone(), " default_server"),
            Some(h) => (h.text(), ""),
        };
        match host {
            None => self.line("# ---- the server (requests for any host without a host rule)"),
            Some(h) => self.line(&format!("# ---- requests for {}", h.text())),
        }
        self.line("server {");
        let listen = self.opts.listen.clone();
        self.line(&format!("    listen {listen}{default};"));
        self.line(&format!("    server_name {name};"));
        self.line("    proxy_http_version 1.1;");
        self.line("    proxy_set_header Host $http_host;");
        self.line("    proxy_set_header Connection \"\";");
        for r in rules {
            let upstream = r
                .upstream
                .clone()
                .or_else(|| self.opts.upstream.clone())
                .or_else(|| self.model.gateway_upstream.clone())
                .ok_or_else(|| {
                    "no upstream to proxy to: pass --upstream URL (or set gateway.upstream)"
                        .to_string()
                })?;
            let target = proxy_target(&upstream).map_err(|e| format!("{}: {e}", r.name))?;
            self.line("");
            let loc = if r.name == "defaults" {
                "location /".to_string()
            } else {
                format!("location ~ {}", quote(&r.path.to_regex()))
            };
            let hosts = if r.hosts.is_empty() {
                String::new()
            } else {
                format!(
                    ", hosts {}",
                    r.hosts
                        .iter()
                        .map(HostPattern::text)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            self.line(&format!("    # {}: {}{hosts}", r.name, r.path.describe()));
            self.line(&format!("    {loc} {{"));
            match &r.cors {
                None => {
                    self.line("        # cors: false: the application's own headers pass through untouched.");
                    self.csrf_guard(r);
                }
                Some(c) if c.mode == Mode::Shadow => {
                    self.line(
                        "        # mode: shadow: nothing is changed (see the warnings above).",
                    );
                    self.csrf_guard(r);
                }
                Some(c) => self.cors_location(r, c),
            }
            self.line(&format!("        proxy_pass {target};"));
            self.line("    }");
        }
        self.line("}");
        self.line("");
        Ok(())
    }

    /// An enforced CSRF refusal: 403 with the reason in the body (and, through the
    /// location's `add_header … always`, the CORS headers CORS gives the request).
    fn csrf_guard(&mut self, r: &RuleModel) {
        if !r.csrf.as_ref().is_some_and(|c| c.enforce) {
            return;
        }
        self.line("        # CSRF (enforce): a refused unsafe request is answered 403, the reason in the body.");
        self.line(&format!(
            "        set $corsguard_csrf_code $corsguard_{}_csrf;",
            r.id
        ));
        self.line("        default_type \"text/plain; charset=utf-8\";");
        self.line("        add_header X-Corsguard-Csrf $corsguard_csrf_code always;");
        self.line("        if ($corsguard_csrf_code) { return 403 $corsguard_csrf_body; }");
    }

    fn cors_location(&mut self, r: &RuleModel, c: &CorsModel) {
        let id = &r.id;
        let answers: Vec<(Outcome, Answer)> = c.answers();
        self.line(&format!(
            "        set $corsguard_vary_need $corsguard_{id}_vary;"
        ));
        self.csrf_guard(r);
        let statuses: BTreeSet<u16> = answers.iter().filter_map(|(_, a)| a.status).collect();
        for s in statuses {
            self.line(&format!(
                "        if ($corsguard_{id}_status = {s}) {{ return {s}; }}"
            ));
        }
        self.line("        # corsguard owns these headers: the application's copies are replaced.");
        for h in CORS_HEADERS {
            self.line(&format!("        proxy_hide_header {h};"));
        }
        self.line("        proxy_hide_header Vary;");
        let headers = header_vars(&answers);
        for (i, h) in CORS_HEADERS.iter().enumerate() {
            if headers.contains(&i) {
                self.line(&format!(
                    "        add_header {h} $corsguard_{id}_{} always;",
                    short(i)
                ));
            }
        }
        self.line("        add_header Vary $corsguard_vary4 always;");
    }
}

/// `$x` → `${x}` inside a composite string.
fn brace(var: &str) -> String {
    match var.strip_prefix('$') {
        Some(v) => format!("${{{v}}}"),
        None => var.to_owned(),
    }
}

fn short(i: usize) -> &'static str {
    [
        "acao", "acac", "acam_out", "acah_out", "acma", "acapn", "aceh",
    ]
    .get(i)
    .copied()
    .unwrap_or("x")
}

fn value_of(a: &Answer, id: &str, i: usize) -> Option<Val> {
    a.headers().get(i).cloned().flatten().map(|s| val(&s, id))
}

/// Indices of the headers some outcome sets.
fn header_vars(answers: &[(Outcome, Answer)]) -> BTreeSet<usize> {
    (0..CORS_HEADERS.len())
        .filter(|i| {
            answers
                .iter()
                .any(|(_, a)| a.headers().get(*i).is_some_and(Option::is_some))
        })
        .collect()
}

/// Wraps `text` at `width` columns (for comments).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}
