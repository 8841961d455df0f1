//! Inputs found by the fuzz targets (`fuzz/`, `scripts/fuzz`), kept as ordinary tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corsguard::{PathRule, Policy};
use corsguard_cli::export::model::PolicyModel;
use corsguard_cli::export::nginx::{NginxOptions, export};

/// The double-quoted words of an nginx configuration as nginx's parser reads them
/// (`ngx_conf_read_token`): `\"`, `\'` and `\\` lose the backslash, `\t`, `\r` and `\n`
/// become the control character, any other `\x` is kept as is. Comments are skipped.
fn quoted_words(conf: &str) -> Vec<String> {
    let mut words = Vec::new();
    for line in conf.lines() {
        let line = line.trim_start();
        if line.starts_with('#') {
            continue;
        }
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                continue;
            }
            let mut w = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some(n @ ('"' | '\'' | '\\')) => w.push(n),
                        Some('t') => w.push('\t'),
                        Some('r') => w.push('\r'),
                        Some('n') => w.push('\n'),
                        Some(n) => {
                            w.push('\\');
                            w.push(n);
                        }
                        None => w.push('\\'),
                    },
                    c => w.push(c),
                }
            }
            words.push(w);
        }
    }
    words
}

/// `r` with its regex escapes `\t`, `\r`, `\n` (not an escaped backslash followed by `t`)
/// as the control characters: what nginx reads from `r` written unchanged, and the same regex.
fn tabs_read_by_nginx(r: &str) -> String {
    let mut out = String::new();
    let mut chars = r.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn nginx(policy: &Policy) -> String {
    let model = PolicyModel::of(policy).unwrap();
    export(
        &model,
        &NginxOptions {
            listen: "80".into(),
            server_name: "_".into(),
            upstream: Some("http://127.0.0.1:9000".into()),
            source_name: "fuzz.yaml".into(),
        },
    )
    .unwrap()
    .text
}

/// nginx_export: a regex with an escaped backslash before `t`, `r` or `n` (`^/a\\tb$`: a
/// backslash, then `tb`) was written as `"^/a\\\tb$"`, which nginx reads as a backslash and a
/// TAB, so the location matched `/a<TAB>b` instead of `/a\tb` (the same for origin regexes
/// in the maps).
#[test]
fn nginx_export_keeps_an_escaped_backslash_before_t_r_n() {
    for re in [
        r"^/a\\tb$",
        r"^/a\\nb",
        r"^/x\\r",
        r"^/q\\\\t",
        r#"^/quote\\"x"#,
        r"^/tab\t[ \t]*$",
    ] {
        let origin_re = format!("^https://o{}\\.example$", re.trim_start_matches("^/"));
        let policy = Policy::builder()
            .allow_origin_regex(origin_re.as_str())
            .path(PathRule::regex(re).allow_origin("https://a.example"))
            .build()
            .unwrap_or_else(|e| panic!("{re}: {e}"));
        let conf = nginx(&policy);
        let words = quoted_words(&conf);
        let found = |r: &str| {
            let equiv = tabs_read_by_nginx(r);
            words.iter().any(|w| w.contains(r) || w.contains(&equiv))
        };
        assert!(found(re), "path regex {re:?} not read back from:\n{conf}");
        assert!(
            found(&origin_re),
            "origin regex {origin_re:?} not read back from:\n{conf}"
        );
    }
}
