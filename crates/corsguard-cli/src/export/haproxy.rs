//! `corsguard export haproxy`: the policy as a complete `haproxy.cfg` (HAProxy 2.6 or later).
//!
//! HAProxy has no CORS module, so the export computes corsguard's decision with ACLs and
//! transaction variables. In the request phase it picks the rule (path and host regexes in the
//! policy's order, first match wins), reads the request facts (`req.fhdr` and `req.fhdr_cnt`:
//! whole header lines, never HAProxy's comma splitting, so repeated `Origin` lines are seen),
//! sets one outcome per request (`txn.cg_out`: `none`, `actual`, `actual-refused`,
//! `preflight`, `preflight-refused`, `preflight-origin-refused`) and the values to reflect,
//! and answers preflights, `on_reject: forbid` refusals and CSRF refusals with
//! `http-request return`. `http-after-response` then writes the headers on every response,
//! the application's and HAProxy's own alike: it removes the application's CORS headers where
//! corsguard owns them, sets each header the outcome calls for, and merges `Vary` into one
//! line. Origin and path patterns become anchored PCREs (HAProxy is built with PCRE2), matched
//! case-sensitively, as corsguard does.

use std::fmt::Write as _;

use corsguard::{Mode, OnReject};

use super::model::{
    Answer, CORS_HEADERS, CorsModel, CsrfModel, OriginEntry, Outcome, PathMatch, PolicyModel,
    RuleModel, Source, VARY_TOKENS, escape_regex,
};
use super::{Export, Warnings, listen_address, proxy_target};

/// Options of the export (listen address, upstream, policy file name).
pub type HaproxyOptions = super::EdgeOptions;

/// Token characters (RFC 9110), as a PCRE class body: `'` written `\x27` so that it never
/// meets HAProxy's quoting.
const TOKEN: &str = "!#$%&\\x27*+.^_`|~0-9A-Za-z-";
/// Lower-case token characters: the normalised `Access-Control-Request-Headers` names.
const LOWER_TOKEN: &str = "!#$%&\\x27*+.^_`|~0-9a-z-";
/// Repeated `Access-Control-Request-Headers` lines corsguard reads (more are refused).
const ACRH_MAX_LINES: usize = 16;
/// Application `Vary` lines the export joins into one (more get our tokens on a line of
/// their own).
const VARY_MAX_LINES: usize = 8;

/// A word in HAProxy's strong (single) quotes; a `'` closes, escapes and reopens.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A log-format string (a `%` is doubled), strongly quoted.
fn fmt_q(s: &str) -> String {
    q(&s.replace('%', "%%"))
}

/// A string in HAProxy's weak (double) quotes, for `http-request return … string`: the
/// characters the parser would interpret (`\`, `"`, `$`, newline) escaped.
fn dq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An ACL name for an outcome (`cg_o_actual_refused`).
fn outcome_acl(o: Outcome) -> String {
    format!("cg_o_{}", o.name().replace('-', "_"))
}

struct Gen<'a> {
    model: &'a PolicyModel,
    opts: &'a HaproxyOptions,
    warnings: Warnings,
    out: String,
}

/// Renders the HAProxy configuration.
pub fn export(model: &PolicyModel, opts: &HaproxyOptions) -> Result<Export, String> {
    let mut g = Gen {
        model,
        opts,
        warnings: Warnings::default(),
        out: String::new(),
    };
    g.check();
    g.render()?;
    let mut text = String::new();
    g.header(&mut text);
    text.push_str(&g.out);
    Ok(Export {
        text,
        warnings: g.warnings,
    })
}

impl Gen<'_> {
    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// `    <s>` inside a section.
    fn l(&mut self, s: &str) {
        self.out.push_str("    ");
        self.line(s);
    }

    fn enforced(&self) -> Vec<(RuleModel, CorsModel)> {
        self.model
            .rules
            .iter()
            .filter_map(|r| r.cors.clone().map(|c| (r.clone(), c)))
            .filter(|(_, c)| c.mode == Mode::Enforce)
            .collect()
    }

    fn csrf_rules(&self) -> Vec<(RuleModel, CsrfModel)> {
        self.model
            .rules
            .iter()
            .filter_map(|r| r.csrf.clone().filter(|c| c.enforce).map(|c| (r.clone(), c)))
            .collect()
    }

    /// Warnings for what HAProxy expresses differently.
    fn check(&mut self) {
        let enforced = self.enforced();
        if !enforced.is_empty() {
            self.warnings.push(
                None,
                &format!("the application's `Vary` lines are joined into one line as they are (corsguard also drops empty and repeated tokens when it rewrites them); with more than {VARY_MAX_LINES} `Vary` lines, the tokens corsguard adds go on a line of their own"),
            );
        }
        super::runtime_gaps(&mut self.warnings, self.model, "HAProxy", "a PCRE");
    }

    fn header(&self, text: &mut String) {
        let _ = writeln!(
            text,
            "# Generated by `corsguard export haproxy` from {}.",
            self.opts.source_name
        );
        text.push_str(
            "# Re-export instead of editing: the ACLs and variables below encode corsguard's decisions.\n\
             #\n\
             # A complete haproxy.cfg for HAProxy 2.6 or later: check it with `haproxy -c -f FILE`,\n\
             # run it with `haproxy -f FILE`. Add TLS to the `bind` line, logging to `global`.\n",
        );
        text.push_str("#\n# Rules (first match wins, as in corsguard):\n");
        for r in &self.model.rules {
            let _ = writeln!(text, "#   {:<9} {}", r.name, r.summary());
        }
        if !self.warnings.is_empty() {
            text.push_str("#\n# Warnings (where HAProxy differs from corsguard):\n");
            for w in self.warnings.iter() {
                for (i, line) in super::nginx_wrap(&w.to_string(), 92).iter().enumerate() {
                    let _ = writeln!(text, "#   {}{line}", if i == 0 { "- " } else { "  " });
                }
            }
        }
        text.push('\n');
    }

    fn render(&mut self) -> Result<(), String> {
        self.line("global");
        self.l("maxconn 4096");
        self.line("");
        self.line("defaults");
        for s in [
            "mode http",
            "timeout connect 5s",
            "timeout client 30s",
            "timeout server 30s",
            "timeout http-request 10s",
            "timeout http-keep-alive 10s",
        ] {
            self.l(s);
        }
        self.line("");
        self.line("frontend corsguard");
        let bind = listen_address(&self.opts.listen);
        self.l(&format!("bind {bind}"));
        let enforced = self.enforced();
        let csrf = self.csrf_rules();
        self.rule_choice();
        if !enforced.is_empty() {
            self.shared_facts(&enforced);
            for (r, c) in &enforced {
                self.rule_facts(r, c);
            }
        }
        if !csrf.is_empty() {
            self.csrf_facts(&csrf);
        }
        self.returns(&enforced, !csrf.is_empty());
        if !enforced.is_empty() {
            self.responses(&enforced);
        }
        self.backends()
    }

    /// `txn.cg_rule`: the first rule whose path and hosts match.
    fn rule_choice(&mut self) {
        self.line("");
        self.l("# ---- which rule applies (first match wins; `path` is the raw request path)");
        for r in &self.model.rules {
            let mut cond = vec!["!{ var(txn.cg_rule) -m found }".to_string()];
            if r.path != PathMatch::All {
                cond.push(format!("{{ path -m reg {} }}", q(&r.path.to_regex())));
            }
            if !r.hosts.is_empty() {
                let hosts: Vec<String> = r.hosts.iter().map(|h| q(&h.to_regex())).collect();
                cond.push(format!(
                    "{{ req.fhdr(host) -m reg -i {} }}",
                    hosts.join(" ")
                ));
            }
            self.l(&format!(
                "http-request set-var(txn.cg_rule) str({}) if {}",
                r.id,
                cond.join(" ")
            ));
        }
        for r in &self.model.rules {
            self.l(&format!("acl cg_{} var(txn.cg_rule) -m str {}", r.id, r.id));
        }
    }

    /// Facts every enforced rule reads.
    fn shared_facts(&mut self, enforced: &[(RuleModel, CorsModel)]) {
        let max = corsguard::MAX_ORIGIN_LEN;
        self.line("");
        self.l("# ---- request facts (whole header lines: `req.fhdr`, never comma-split)");
        self.l("acl cg_origin req.fhdr_cnt(origin) gt 0");
        self.l("acl cg_one_origin req.fhdr_cnt(origin) eq 1");
        self.l(&format!(
            "acl cg_origin_short req.fhdr(origin) -m len 0:{max}"
        ));
        self.l("http-request set-var(txn.cg_origin) req.fhdr(origin) if cg_origin");
        self.l("# A preflight: OPTIONS with Origin and Access-Control-Request-Method.");
        self.l("http-request set-var(txn.cg_pf) bool(true) if { method -m str OPTIONS } cg_origin { req.fhdr_cnt(access-control-request-method) gt 0 }");
        self.l("acl cg_pf var(txn.cg_pf) -m bool");
        self.l("# The rule's outcome (txn.cg_out, set below).");
        for o in Outcome::ALL {
            self.l(&format!(
                "acl {} var(txn.cg_out) -m str {}",
                outcome_acl(o),
                o.name()
            ));
        }
        if enforced.iter().any(|(_, c)| c.skip_same_origin) {
            self.l("# Same-origin: Origin equals the request's own scheme://host (lower case, default port dropped).");
            self.l("http-request set-var-fmt(txn.cg_self) 'http://%[req.fhdr(host),lower,regsub(\":80$\",\"\")]' unless { ssl_fc }");
            self.l("http-request set-var-fmt(txn.cg_self) 'https://%[req.fhdr(host),lower,regsub(\":443$\",\"\")]' if { ssl_fc }");
            self.l("acl cg_same req.fhdr(origin),strcmp(txn.cg_self) eq 0");
        }
        if enforced.iter().any(|(_, c)| c.needs_method_fact()) {
            self.l("# Access-Control-Request-Method: one line, one token of at most 64 bytes.");
            self.l("acl cg_acrm_one req.fhdr_cnt(access-control-request-method) eq 1");
            self.l(&format!(
                "acl cg_acrm_token req.fhdr(access-control-request-method) -m reg {}",
                q(&format!("^[{TOKEN}]{{1,64}}$"))
            ));
        }
        if enforced
            .iter()
            .any(|(_, c)| c.on_reject == OnReject::Forbid || c.reflects_headers())
        {
            self.acrh_facts();
        }
        if enforced
            .iter()
            .any(|(_, c)| c.private_network || c.on_reject == OnReject::Forbid)
        {
            self.l(
                "# Access-Control-Request-Private-Network: true (the last line, at most 16 bytes).",
            );
            self.l(&format!(
                "http-request set-var(txn.cg_pna) bool(true) if {{ req.fhdr(access-control-request-private-network) -m reg {} }}",
                q("^(?=.{0,16}$)[ \\t]*true[ \\t]*$")
            ));
            self.l("acl cg_pna var(txn.cg_pna) -m bool");
        }
    }

    /// `Access-Control-Request-Headers` as corsguard parses it: the lines joined with `,`,
    /// lower-cased, optional whitespace and empty elements dropped, with corsguard's bounds.
    fn acrh_facts(&mut self) {
        const H: &str = "access-control-request-headers";
        self.l("# Access-Control-Request-Headers: every line joined with `,` (corsguard reads the lines as one list),");
        self.l(
            "# lower-cased, whitespace around elements and empty elements dropped (txn.cg_acrh).",
        );
        self.l(&format!(
            "http-request set-var(txn.cg_acrh_raw) req.fhdr({H},1) if {{ req.fhdr_cnt({H}) ge 1 }}"
        ));
        for i in 2..=ACRH_MAX_LINES {
            self.l(&format!(
                "http-request set-var-fmt(txn.cg_acrh_raw) '%[var(txn.cg_acrh_raw)],%[req.fhdr({H},{i})]' if {{ req.fhdr_cnt({H}) ge {i} }}"
            ));
        }
        self.l("http-request set-var(txn.cg_acrh_ows) 'var(txn.cg_acrh_raw),lower,regsub(\"[ \\t]*,[ \\t]*\",\",\",g),regsub(\"^[ \\t]+|[ \\t]+$\",\"\",g)'");
        self.l("http-request set-var(txn.cg_acrh) 'var(txn.cg_acrh_ows),regsub(\",+\",\",\",g),regsub(\"^,|,$\",\"\",g)'");
        self.l("# corsguard's bounds: 16 lines, 4096 bytes, 16 empty elements, 64 names; each element a token.");
        self.l(&format!(
            "http-request set-var(txn.cg_acrh_max) 'req.fhdr_cnt({H}),add(4095)'"
        ));
        self.l("http-request set-var-fmt(txn.cg_acrh_edge) ',%[var(txn.cg_acrh_ows)],'");
        self.l("http-request set-var(txn.cg_acrh_empty) 'var(txn.cg_acrh_edge),regsub(\",(?=,)\",\"E\",g),regsub(\"[^E]\",\"\",g),length'");
        self.l(&format!(
            "http-request set-var(txn.cg_acrh_bad) bool(true) if {{ req.fhdr_cnt({H}) gt {ACRH_MAX_LINES} }}"
        ));
        self.l("http-request set-var(txn.cg_acrh_bad) bool(true) if { var(txn.cg_acrh_raw),length,sub(txn.cg_acrh_max) gt 0 }");
        self.l("http-request set-var(txn.cg_acrh_bad) bool(true) if { var(txn.cg_acrh_empty) -m int gt 16 }");
        self.l("http-request set-var(txn.cg_acrh_bad) bool(true) if { 'var(txn.cg_acrh),regsub(\"[^,]\",\"\",g),length' ge 64 }");
        self.l(&format!(
            "http-request set-var(txn.cg_acrh_bad) bool(true) if {{ var(txn.cg_acrh) -m reg {} }}",
            q(&format!("[^{LOWER_TOKEN},]"))
        ));
        self.l("acl cg_acrh_malformed var(txn.cg_acrh_bad) -m bool");
        self.l(&format!(
            "acl cg_acrh_auth var(txn.cg_acrh) -m reg {}",
            q("(?:^|,)authorization(?:,|$)")
        ));
    }

    fn rule_facts(&mut self, r: &RuleModel, c: &CorsModel) {
        let id = &r.id;
        self.line("");
        self.l(&format!("# ---- {} ({})", r.name, r.path.describe()));
        // Origin admitted?
        if c.any_origin {
            self.l(&format!(
                "http-request set-var(txn.cg_ok) bool(true) if cg_{id} cg_origin"
            ));
        } else {
            let mut res: Vec<String> = c.origins.iter().map(OriginEntry::to_regex).collect();
            if c.allow_null {
                res.insert(0, "^null$".into());
            }
            if !res.is_empty() {
                let comments: Vec<String> = c
                    .origins
                    .iter()
                    .map(OriginEntry::text)
                    .chain(c.allow_null.then(|| "null".to_string()))
                    .collect();
                self.l(&format!("# allow_origins: {}", comments.join(", ")));
                let pats: Vec<String> = res.iter().map(|x| q(x)).collect();
                self.l(&format!(
                    "acl cg_{id}_listed req.fhdr(origin) -m reg {}",
                    pats.join(" ")
                ));
                self.l(&format!(
                    "http-request set-var(txn.cg_ok) bool(true) if cg_{id} cg_one_origin cg_origin_short cg_{id}_listed"
                ));
            }
        }
        // Request method.
        if c.needs_method_fact() {
            let method_ok = if c.methods_any {
                "cg_acrm_one cg_acrm_token".to_string()
            } else {
                let mut allowed: Vec<String> = vec!["GET".into(), "HEAD".into(), "POST".into()];
                for m in &c.methods {
                    if !allowed.contains(m) {
                        allowed.push(m.clone());
                    }
                }
                let list: Vec<String> = allowed.iter().map(|m| q(m)).collect();
                self.l(&format!(
                    "acl cg_{id}_method req.fhdr(access-control-request-method) -m str {}  # safelisted or allow_methods (case-sensitive)",
                    list.join(" ")
                ));
                format!("cg_acrm_one cg_acrm_token cg_{id}_method")
            };
            self.l(&format!(
                "http-request set-var(txn.cg_method_ok) bool(true) if cg_{id} {method_ok}"
            ));
            if c.methods_any && c.credentials {
                self.l("# allow_methods: ['*'] with credentials: reflect the requested method.");
                self.l(&format!(
                    "http-request set-var(txn.cg_acam) req.fhdr(access-control-request-method) if cg_{id} {method_ok}"
                ));
            }
        }
        // Requested headers: reflected, and judged under `on_reject: forbid`.
        if c.reflects_headers() {
            let keep_auth = c.authorization_listed;
            if keep_auth {
                self.l(&format!(
                    "http-request set-var(txn.cg_refl) var(txn.cg_acrh) if cg_{id}"
                ));
            } else {
                self.l("# `*` never covers Authorization: it is reflected only when listed.");
                self.l(&format!(
                    "http-request set-var(txn.cg_refl) 'var(txn.cg_acrh),regsub(\"(?:^|,)authorization(?=,|$)\",\"\",g),regsub(\"^,\",\"\")' if cg_{id}"
                ));
            }
            if c.credentials {
                self.l(&format!(
                    "http-request set-var(txn.cg_acah) var(txn.cg_refl) if cg_{id} !cg_acrh_malformed"
                ));
            } else {
                self.l(&format!(
                    "http-request set-var(txn.cg_acah) str(*) if cg_{id}"
                ));
                self.l(&format!(
                    "http-request set-var(txn.cg_acah) var(txn.cg_refl) if cg_{id} !cg_acrh_malformed cg_acrh_auth"
                ));
            }
        }
        if c.on_reject == OnReject::Forbid {
            self.l("# on_reject: forbid: a preflight asking for a method, a header or private network access");
            self.l("# the rule does not allow is refused.");
            self.l(&format!(
                "http-request set-var(txn.cg_pf_bad) bool(true) if cg_{id} cg_pf !{{ var(txn.cg_method_ok) -m bool }}"
            ));
            self.l(&format!(
                "http-request set-var(txn.cg_pf_bad) bool(true) if cg_{id} cg_pf cg_acrh_malformed"
            ));
            if c.headers_any {
                if !c.authorization_listed {
                    self.l(&format!(
                        "http-request set-var(txn.cg_pf_bad) bool(true) if cg_{id} cg_pf cg_acrh_auth"
                    ));
                }
            } else {
                let names: Vec<String> = c.headers.iter().map(|h| escape_regex(h)).collect();
                let re = if names.is_empty() {
                    "^$".to_string()
                } else {
                    let alt = format!("(?:{})", names.join("|"));
                    format!("^(?:{alt}(?:,{alt})*)?$")
                };
                self.l(&format!(
                    "http-request set-var(txn.cg_pf_bad) bool(true) if cg_{id} cg_pf {{ var(txn.cg_acrh) -m found }} !{{ var(txn.cg_acrh) -m reg {} }}",
                    q(&re)
                ));
            }
            if !c.private_network {
                self.l(&format!(
                    "http-request set-var(txn.cg_pf_bad) bool(true) if cg_{id} cg_pf cg_pna"
                ));
            }
        }
        // The outcome (first match wins).
        let unset = "!{ var(txn.cg_out) -m found }";
        let ok = "{ var(txn.cg_ok) -m bool }";
        let set = |o: Outcome, cond: &str| {
            format!(
                "http-request set-var(txn.cg_out) str({}) if cg_{id} {unset} {cond}",
                o.name()
            )
        };
        let mut lines = vec![set(Outcome::None, "!cg_origin")];
        if c.skip_same_origin {
            lines.push(set(Outcome::None, "cg_one_origin cg_same"));
        }
        lines.push(set(Outcome::Actual, &format!("!cg_pf {ok}")));
        lines.push(set(Outcome::ActualRefused, "!cg_pf"));
        lines.push(set(Outcome::PreflightOriginRefused, &format!("!{ok}")));
        if c.on_reject == OnReject::Forbid {
            lines.push(set(
                Outcome::PreflightRefused,
                "{ var(txn.cg_pf_bad) -m bool }",
            ));
        }
        lines.push(set(Outcome::Preflight, ""));
        for l in lines {
            self.l(l.trim_end());
        }
        // The Vary tokens each outcome needs.
        for (o, a) in c.answers() {
            let flags: String = a.vary.iter().map(|f| if *f { '1' } else { '0' }).collect();
            if flags != "0000" {
                self.l(&format!(
                    "http-request set-var(txn.cg_vary) str({flags}) if cg_{id} {}",
                    outcome_acl(o)
                ));
            }
        }
    }

    /// The CSRF check (Go 1.25's algorithm with the rule's allow-list), as `txn.cg_csrf`:
    /// `pass` or the refusal code, first decision wins.
    fn csrf_facts(&mut self, rules: &[(RuleModel, CsrfModel)]) {
        const SFS: &str = "req.fhdr(sec-fetch-site)";
        self.line("");
        self.l(
            "# ---- CSRF protection (Sec-Fetch-Site, then Origin against the Host); txn.cg_csrf is",
        );
        self.l(
            "# `pass` or the refusal code. Methods and Sec-Fetch-Site values are compared exactly.",
        );
        self.l("acl cg_safe_method method -m str GET HEAD OPTIONS");
        self.l("acl cg_origin_set req.fhdr(origin) -m len 1:");
        self.l(&format!("acl cg_sfs_set {SFS} -m len 1:"));
        if self.enforced().is_empty() {
            self.l(&format!(
                "acl cg_origin_short req.fhdr(origin) -m len 0:{}",
                corsguard::MAX_ORIGIN_LEN
            ));
        }
        self.l("http-request set-var(txn.cg_host) req.fhdr(host)");
        self.l("acl cg_origin_is_host 'req.fhdr(origin),regsub(\"^https?://\",\"\"),strcmp(txn.cg_host)' eq 0");
        for (r, c) in rules {
            let id = &r.id;
            self.l(&format!("# {} ({})", r.name, r.path.describe()));
            let listed: Vec<&OriginEntry> = r
                .cors
                .iter()
                .filter(|cors| !cors.any_origin)
                .flat_map(|cors| &cors.origins)
                .chain(&c.trusted)
                .collect();
            let trusted = if listed.is_empty() {
                None
            } else {
                let pats: Vec<String> = listed.iter().map(|o| q(&o.to_regex())).collect();
                self.l(&format!(
                    "acl cg_{id}_csrf_trusted req.fhdr(origin) -m reg {}  # allow_origins (never `*`) and trusted_origins",
                    pats.join(" ")
                ));
                Some(format!("cg_{id}_csrf_trusted cg_origin_short"))
            };
            let mut steps: Vec<(&str, String)> = vec![
                ("pass", "cg_safe_method".into()),
                (
                    "csrf-multiple-sec-fetch-site",
                    "{ req.fhdr_cnt(sec-fetch-site) gt 1 }".into(),
                ),
                (
                    "csrf-multiple-origins",
                    "{ req.fhdr_cnt(origin) gt 1 }".into(),
                ),
                ("pass", format!("{{ {SFS} -m str same-origin none }}")),
            ];
            if let Some(t) = trusted {
                steps.push(("pass", t));
            }
            steps.push((
                if c.allow_same_site {
                    "pass"
                } else {
                    "csrf-same-site"
                },
                format!("{{ {SFS} -m str same-site }}"),
            ));
            steps.push(("csrf-cross-site", format!("{{ {SFS} -m str cross-site }}")));
            steps.push(("csrf-unknown-sec-fetch-site", "cg_sfs_set".into()));
            steps.push(("pass", "!cg_origin_set".into()));
            steps.push((
                "pass",
                "{ req.fhdr(origin) -m reg ^https?:// } cg_origin_is_host".into(),
            ));
            steps.push(("csrf-untrusted-origin", String::new()));
            for (verdict, cond) in steps {
                let l = format!(
                    "http-request set-var(txn.cg_csrf) str({verdict}) if cg_{id} !{{ var(txn.cg_csrf) -m found }} {cond}"
                );
                self.l(l.trim_end());
            }
        }
    }

    /// Answers given by HAProxy itself: CSRF refusals (403 with the reason), then preflights
    /// and `on_reject: forbid` refusals. Their headers come from `http-after-response`.
    fn returns(&mut self, enforced: &[(RuleModel, CorsModel)], csrf: bool) {
        self.line("");
        if csrf
            || enforced
                .iter()
                .any(|(_, c)| c.answers().iter().any(|(_, a)| a.status.is_some()))
        {
            self.l("# ---- answered without the application (after every variable above is set)");
        }
        if csrf {
            for r in corsguard::CsrfRefusal::ALL {
                self.l(&format!(
                    "http-request return status 403 content-type \"text/plain; charset=utf-8\" string {} hdr X-Corsguard-Csrf {} if {{ var(txn.cg_csrf) -m str {} }}",
                    dq(r.body()),
                    r.code(),
                    r.code()
                ));
            }
        }
        for (r, c) in enforced {
            for (o, a) in c.answers() {
                if let Some(s) = a.status {
                    self.l(&format!(
                        "http-request return status {s} if cg_{} {}",
                        r.id,
                        outcome_acl(o)
                    ));
                }
            }
        }
    }

    /// `http-after-response`: the CORS headers of each rule's outcome, on every response.
    fn responses(&mut self, enforced: &[(RuleModel, CorsModel)]) {
        self.line("");
        self.l("# ---- response headers (http-after-response: the application's answers and HAProxy's own)");
        for (r, c) in enforced {
            let id = &r.id;
            self.l(&format!(
                "# {}: corsguard owns the CORS headers: the application's copies are replaced.",
                r.name
            ));
            for h in CORS_HEADERS {
                self.l(&format!("http-after-response del-header {h} if cg_{id}"));
            }
            for (o, a) in c.answers() {
                self.answer_headers(id, o, &a);
            }
        }
        self.vary();
    }

    fn answer_headers(&mut self, id: &str, o: Outcome, a: &Answer) {
        for (name, src) in CORS_HEADERS.iter().zip(a.headers()) {
            let Some(src) = src else { continue };
            let (value, cond) = match &src {
                Source::Const(v) => (fmt_q(v), String::new()),
                Source::Origin => (q("%[var(txn.cg_origin)]"), String::new()),
                Source::RequestMethod => (
                    q("%[var(txn.cg_acam)]"),
                    " { var(txn.cg_acam) -m len 1: }".into(),
                ),
                Source::RequestHeaders => (
                    q("%[var(txn.cg_acah)]"),
                    " { var(txn.cg_acah) -m len 1: }".into(),
                ),
                Source::PrivateNetworkRequested => (q("true"), " cg_pna".into()),
            };
            self.l(&format!(
                "http-after-response set-header {name} {value} if cg_{id} {}{cond}",
                outcome_acl(o)
            ));
        }
    }

    /// Merges the tokens `txn.cg_vary` asks for into the response's `Vary`, one line, no
    /// duplicates (case-insensitive; `*` covers everything).
    fn vary(&mut self) {
        let need = "{ var(txn.cg_vary) -m found }";
        let add = "{ var(txn.cg_vadd) -m found }";
        self.l("# Vary: the tokens txn.cg_vary asks for (Origin, Access-Control-Request-Method, -Headers,");
        self.l("# -Private-Network), unless the response's Vary names them or `*`, merged into one line.");
        for (i, tok) in VARY_TOKENS.iter().enumerate() {
            self.l(&format!(
                "http-after-response set-var-fmt(txn.cg_vadd) '%[var(txn.cg_vadd)], {tok}' if {{ var(txn.cg_vary) -m reg ^.{{{i}}}1 }} !{{ res.hdr(vary) -m str -i {} * }}",
                tok.to_ascii_lowercase()
            ));
        }
        self.l(&format!(
            "http-after-response set-var(txn.cg_vapp) res.fhdr(vary,1) if {need} {{ res.fhdr_cnt(vary) ge 1 }}"
        ));
        for i in 2..=VARY_MAX_LINES {
            self.l(&format!(
                "http-after-response set-var-fmt(txn.cg_vapp) '%[var(txn.cg_vapp)], %[res.fhdr(vary,{i})]' if {need} {{ res.fhdr_cnt(vary) ge {i} }}"
            ));
        }
        self.l(&format!(
            "http-after-response set-header Vary '%[var(txn.cg_vapp)]%[var(txn.cg_vadd)]' if {need} {add} {{ res.fhdr_cnt(vary) 1:{VARY_MAX_LINES} }}"
        ));
        self.l(&format!(
            "http-after-response set-header Vary '%[var(txn.cg_vapp)]' if {need} !{add} {{ res.fhdr_cnt(vary) 2:{VARY_MAX_LINES} }}"
        ));
        self.l(&format!(
            "http-after-response set-header Vary '%[var(txn.cg_vadd),regsub(\"^, \",\"\")]' if {need} {add} {{ res.fhdr_cnt(vary) eq 0 }}"
        ));
        self.l(&format!(
            "http-after-response add-header Vary '%[var(txn.cg_vadd),regsub(\"^, \",\"\")]' if {need} {add} {{ res.fhdr_cnt(vary) gt {VARY_MAX_LINES} }}"
        ));
    }

    /// `use_backend` per rule with its own upstream, and the backends.
    fn backends(&mut self) -> Result<(), String> {
        let default = self
            .opts
            .upstream
            .clone()
            .or_else(|| self.model.gateway_upstream.clone());
        let mut own: Vec<(String, String)> = Vec::new();
        for r in &self.model.rules {
            if let Some(u) = r.own_upstream() {
                own.push((r.id.clone(), u.to_owned()));
            } else if default.is_none() {
                return Err(
                    "no upstream to proxy to: pass --upstream URL (or set gateway.upstream)".into(),
                );
            }
        }
        self.line("");
        for (id, _) in &own {
            self.l(&format!("use_backend cg_{id}_upstream if cg_{id}"));
        }
        if default.is_some() {
            self.l("default_backend cg_app");
        }
        let mut backends: Vec<(String, String)> = own
            .into_iter()
            .map(|(id, u)| (format!("cg_{id}_upstream"), u))
            .collect();
        if let Some(u) = default {
            backends.push(("cg_app".into(), u));
        }
        for (name, upstream) in backends {
            let server = server_line(&upstream).map_err(|e| format!("{name}: {e}"))?;
            self.line("");
            self.line(&format!("backend {name}"));
            self.l(&format!("# {upstream}"));
            self.l(&server);
        }
        Ok(())
    }
}

/// `server …` for an upstream URL (TLS verified against the system CAs for `https://`).
fn server_line(upstream: &str) -> Result<String, String> {
    let target = proxy_target(upstream)?;
    let (scheme, authority) = target.split_once("://").unwrap_or(("http", &target));
    let tls = scheme == "https";
    let has_port = authority.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !authority.ends_with(']')
    });
    let addr = if has_port {
        authority.to_string()
    } else {
        format!("{authority}:{}", if tls { 443 } else { 80 })
    };
    Ok(if tls {
        let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
        format!("server app {addr} ssl verify required ca-file @system-ca sni str({host})")
    } else {
        format!("server app {addr}")
    })
}
