//! Export of fuzzed valid policies to nginx (and Envoy): never panics, and every regex the
//! nginx configuration holds (map keys and locations, read back the way nginx's parser reads
//! quoted words) compiles with the `regex` crate — or, for the PCRE-only lookaround and
//! back-references the exporter uses on purpose, with `fancy-regex`. Raw origin and path
//! regexes from the policy reach the configuration unchanged.
#![no_main]

use arbitrary::Arbitrary;
use corsguard::{PathRule, Policy};
use corsguard_cli::export::{envoy, model::PolicyModel, nginx};
use corsguard_fuzz::PolicySpec;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Input {
    Spec(PolicySpec),
    /// An origin regex and a path regex with arbitrary text.
    Raw {
        origin_regex: String,
        path_regex: String,
        credentials: bool,
    },
}

/// nginx's word reader (`ngx_conf_read_token`): quoted or bare words; `\"`, `\'`, `\\`
/// lose the backslash, `\t`, `\r`, `\n` become the control character, any other `\x` stays.
fn words(conf: &str) -> Vec<String> {
    let b: Vec<char> = conf.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() || matches!(c, ';' | '{' | '}') {
            i += 1;
            continue;
        }
        if c == '#' {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let quote = matches!(c, '"' | '\'').then_some(c);
        if quote.is_some() {
            i += 1;
        }
        let mut w = String::new();
        while i < b.len() {
            let c = b[i];
            match quote {
                Some(q) if c == q => {
                    i += 1;
                    break;
                }
                None if c.is_whitespace() || matches!(c, ';' | '{' | '}') => break,
                _ => {}
            }
            if c == '\\' && i + 1 < b.len() {
                match b[i + 1] {
                    '"' | '\'' | '\\' => {
                        w.push(b[i + 1]);
                        i += 2;
                        continue;
                    }
                    't' => {
                        w.push('\t');
                        i += 2;
                        continue;
                    }
                    'r' => {
                        w.push('\r');
                        i += 2;
                        continue;
                    }
                    'n' => {
                        w.push('\n');
                        i += 2;
                        continue;
                    }
                    _ => {}
                }
            }
            w.push(c);
            i += 1;
        }
        out.push(w);
    }
    out
}

thread_local! {
    /// Regexes already compiled successfully (bounded).
    static CHECKED: std::cell::RefCell<std::collections::HashSet<String>> =
        std::cell::RefCell::new(std::collections::HashSet::new());
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

fn pcre_only(re: &str) -> bool {
    ["(?=", "(?!", "(?<=", "(?<!"]
        .iter()
        .any(|l| re.contains(l))
        || (1..=9).any(|d| re.contains(&format!("\\{d}")))
}

fuzz_target!(|input: Input| {
    let (policy, raw) = match &input {
        Input::Spec(spec) => (spec.policy(), None),
        Input::Raw {
            origin_regex,
            path_regex,
            credentials,
        } => (
            Policy::builder()
                .allow_origin_regex(origin_regex.as_str())
                .allow_credentials(*credentials)
                .path(PathRule::regex(path_regex.as_str()).allow_origin("https://a.example"))
                .build(),
            Some((origin_regex, path_regex)),
        ),
    };
    let Ok(policy) = policy else {
        return;
    };
    let Ok(model) = PolicyModel::of(&policy) else {
        return;
    };
    // The Envoy fragment and the complete bootstrap: neither may panic.
    for bootstrap in [
        None,
        Some(envoy::BootstrapOptions {
            listen: "127.0.0.1:8080".into(),
            admin: Some("127.0.0.1:9901".into()),
        }),
    ] {
        let _ = envoy::export(
            &model,
            &envoy::EnvoyOptions {
                cluster: "app".into(),
                upstream: Some("http://127.0.0.1:9000".into()),
                source_name: "fuzz.yaml".into(),
                bootstrap,
            },
        );
    }
    let Ok(export) = nginx::export(
        &model,
        &nginx::NginxOptions {
            listen: "80".into(),
            server_name: "_".into(),
            upstream: Some("http://127.0.0.1:9000".into()),
            source_name: "fuzz.yaml".into(),
        },
    ) else {
        return;
    };
    let words = words(&export.text);
    let mut regexes = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let re = if let Some(r) = w.strip_prefix("~*") {
            format!("(?i){r}")
        } else if let Some(r) = w.strip_prefix('~') {
            r.to_owned()
        } else if w == "~" || w == "~*" {
            continue;
        } else if i > 0 && (words[i - 1] == "~" || words[i - 1] == "~*") {
            if words[i - 1] == "~*" {
                format!("(?i){w}")
            } else {
                w.clone()
            }
        } else {
            continue;
        };
        if re.is_empty() {
            continue;
        }
        // Compiling is the slow part, and most regexes repeat from input to input.
        let seen = CHECKED.with(|c| c.borrow().contains(&re));
        if !seen && let Err(e) = regex::Regex::new(&re) {
            assert!(
                pcre_only(&re) && fancy_regex::Regex::new(&re).is_ok(),
                "exported regex {re:?} does not compile: {e}\n{}",
                export.text
            );
        }
        if !seen {
            CHECKED.with(|c| {
                let mut c = c.borrow_mut();
                if c.len() > 100_000 {
                    c.clear();
                }
                c.insert(re.clone());
            });
        }
        regexes.push(re);
    }
    if let Some((origin_regex, path_regex)) = raw {
        for r in [origin_regex, path_regex] {
            let equiv = tabs_read_by_nginx(r);
            assert!(
                regexes
                    .iter()
                    .any(|x| x.contains(r.as_str()) || x.contains(&equiv)),
                "policy regex {r:?} is not in the export (read back: {regexes:?})\n{}",
                export.text
            );
        }
    }
});
