//! `corsguard check`: snapshot tests of the rendered diagnostics (every fixture under
//! `tests/fixtures/check/`, compared byte for byte with its `.stderr` file, colours off, width
//! 100), exit codes, `--deny-warnings`, `--env` and `--format json`.
//!
//! Regenerate the snapshots with `UPDATE_SNAPSHOTS=1 cargo test -p corsguard-cli --test check`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn corsguard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_corsguard"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("CLICOLOR_FORCE");
    for (k, _) in std::env::vars() {
        if k.starts_with("CORSGUARD_") || k.starts_with("CORS_") {
            c.env_remove(k);
        }
    }
    c
}

fn run(args: &[&str]) -> Output {
    corsguard().args(args).output().unwrap()
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "toml"))
        .collect();
    v.sort();
    v
}

/// The `# expect: exit N` line every fixture starts with.
fn expected_exit(text: &str) -> i32 {
    text.lines()
        .find_map(|l| l.strip_prefix("# expect: exit "))
        .and_then(|n| n.trim().parse().ok())
        .expect("fixture lacks a `# expect: exit N` line")
}

#[test]
fn rendered_diagnostics_match_the_snapshots() {
    let update = std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let files = fixtures();
    let yaml = files
        .iter()
        .filter(|f| f.extension().unwrap() == "yaml")
        .count();
    let toml = files.len() - yaml;
    assert!(
        yaml >= 8 && toml >= 7,
        "need at least 15 fixtures (have {yaml} YAML, {toml} TOML)"
    );
    let mut failures = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let rel = rel.to_str().unwrap();
        let text = std::fs::read_to_string(f).unwrap();
        let out = run(&["check", rel]);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.stdout.is_empty(), "{rel}: human output goes to stderr");
        assert!(
            !stderr.contains('\u{1b}'),
            "{rel}: ANSI escapes with NO_COLOR"
        );
        let code = out.status.code().unwrap();
        if code != expected_exit(&text) {
            failures.push(format!(
                "{rel}: exit {code}, expected {}",
                expected_exit(&text)
            ));
        }
        let snap = f.with_extension(format!(
            "{}.stderr",
            f.extension().unwrap().to_str().unwrap()
        ));
        if update {
            std::fs::write(&snap, &stderr).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&snap).unwrap_or_else(|_| {
            panic!(
                "missing snapshot {} (run with UPDATE_SNAPSHOTS=1)",
                snap.display()
            )
        });
        if want != stderr {
            failures.push(format!(
                "{rel}: output differs from {}\n--- expected\n{want}\n--- got\n{stderr}",
                snap.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_fixture_has_a_located_diagnostic_with_code_and_underline() {
    for f in fixtures() {
        let rel = f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let out = run(&["check", rel.to_str().unwrap()]);
        let stderr = String::from_utf8(out.stderr).unwrap();
        if stderr.contains("╭─[") {
            // file:line:col header, the underline, and the code.
            assert!(
                stderr.contains(&format!("╭─[{}:", rel.display())),
                "{stderr}"
            );
            assert!(stderr.contains('─'), "{stderr}");
        }
        assert!(
            stderr.contains("error[") || stderr.contains("warning["),
            "{}: {stderr}",
            rel.display()
        );
    }
}

#[test]
fn valid_file_is_ok() {
    let out = run(&[
        "check",
        "../../examples/corsguard.yaml",
        "../../examples/corsguard.toml",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "../../examples/corsguard.yaml: ok\n../../examples/corsguard.toml: ok\n"
    );
}

#[test]
fn deny_warnings_turns_warnings_into_exit_1() {
    let f = "tests/fixtures/check/warnings-only.yaml";
    assert_eq!(run(&["check", f]).status.code(), Some(0));
    let out = run(&["check", "--deny-warnings", f]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("error (denied warning)[max-age-safari-cap]"),
        "{stderr}"
    );
}

/// `allow_origins: []` is a valid deny-all policy, a warning: `check` passes, but
/// `--deny-warnings` fails on it, as on any warning.
#[test]
fn an_empty_allow_list_passes_but_not_with_deny_warnings() {
    let f = "tests/fixtures/check/empty-origins.yaml";
    let out = run(&["check", f]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("warning[origins-empty]")
            && stderr.contains(&format!("{f}: ok (1 warning)")),
        "{stderr}"
    );
    let out = run(&["check", "--deny-warnings", f]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("error (denied warning)[origins-empty]"),
        "{stderr}"
    );

    let out = corsguard()
        .args(["check", "--env", "--deny-warnings", f])
        .env("CORS_ALLOWED_ORIGINS", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("env CORS_ALLOWED_ORIGINS: defaults.allow_origins: no origin is allowed"),
        "{stderr}"
    );
}

#[test]
fn unreadable_and_unknown_files_exit_2_but_others_are_still_checked() {
    let out = run(&[
        "check",
        "tests/fixtures/check/does-not-exist.yaml",
        "tests/fixtures/check/unknown-key.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("error[io]")
            && stderr.contains("cannot read `tests/fixtures/check/does-not-exist.yaml`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tests/fixtures/check/does-not-exist.yaml: not checked"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tests/fixtures/check/unknown-key.yaml: 2 errors"),
        "{stderr}"
    );

    let out = run(&["check", "Cargo.lock"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("error[unknown-extension]"), "{stderr}");
}

/// `check zero.yaml`, a symlink to `/dev/zero`, used to read forever while memory grew.
#[cfg(unix)]
#[test]
fn a_device_behind_a_policy_name_is_refused_not_read() {
    let dir = std::env::temp_dir().join(format!("corsguard-check-zero-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let mut child = corsguard()
        .args(["check", link.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: kill a run that reads forever instead of hanging the suite.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("`corsguard check` on a link to /dev/zero did not return");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let name = link.display();
    assert!(
        stderr.contains("error[not-a-file]")
            && stderr.contains(&format!(
                "`{name}` is not a regular file (a character device)"
            )),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{name}: not checked")), "{stderr}");
}

/// A one-line (minified) policy with an error past column 65,535 used to panic in miette.
#[test]
fn an_error_deep_in_a_one_line_policy_is_reported_not_a_crash() {
    let dir = std::env::temp_dir().join(format!("corsguard-check-line-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("minified.yaml");
    let head = format!(
        "defaults: {{allow_origins: [{}",
        "'https://a.example', ".repeat(4000)
    );
    std::fs::write(&file, format!("{head}'https://b.example/']}}\n")).unwrap();
    let out = run(&["check", file.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:1:{}: defaults.allow_origins[4000]:",
            file.display(),
            head.len() + 1
        )) && stderr.contains("error[origin-trailing-slash]"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["check"]).status.code(), Some(2));
    assert_eq!(
        run(&["check", "--format", "xml", "a.yaml"]).status.code(),
        Some(2)
    );
}

#[test]
fn env_overrides_are_validated_with_env_flag_only() {
    let f = "../../examples/corsguard.yaml";
    let out = corsguard()
        .args(["check", f])
        .env(
            "CORS_ALLOWED_ORIGINS",
            "https://ok.example, https://bad.example/",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "env ignored without --env");

    let out = corsguard()
        .args(["check", "--env", f])
        .env(
            "CORS_ALLOWED_ORIGINS",
            "https://ok.example, https://bad.example/",
        )
        .env("CORSGUARD_MAX_AGE", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("error[origin-trailing-slash]"), "{stderr}");
    assert!(
        stderr.contains("env CORS_ALLOWED_ORIGINS: defaults.allow_origins[1]"),
        "{stderr}"
    );
    assert!(stderr.contains("env CORSGUARD_MAX_AGE"), "{stderr}");

    let out = corsguard()
        .args(["check", "--env", "--format", "json", f])
        .env("CORS_ALLOWED_ORIGINS", "https://bad.example/")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        json!([{
            "file": "../../examples/corsguard.yaml",
            "severity": "error",
            "code": "origin-trailing-slash",
            "message": "origin `https://bad.example/` ends with a slash; a serialized origin has no path",
            "hint": "remove the trailing slash: `https://bad.example`",
            "source": "env CORS_ALLOWED_ORIGINS",
            "path": "defaults.allow_origins[0]",
            "line": null,
            "column": null,
            "span": null
        }])
    );
}

#[test]
fn json_output_is_a_stable_array() {
    let out = run(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/check/origin-trailing-slash.yaml",
        "tests/fixtures/check/max-age.toml",
        "../../examples/corsguard.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        json!([
            {
                "file": "tests/fixtures/check/origin-trailing-slash.yaml",
                "severity": "error",
                "code": "origin-trailing-slash",
                "message": "origin `https://app.example.com/` ends with a slash; a serialized origin has no path",
                "hint": "remove the trailing slash: `https://app.example.com`",
                "source": "tests/fixtures/check/origin-trailing-slash.yaml",
                "path": "defaults.allow_origins[0]",
                "line": 5,
                "column": 7,
                "span": {"start": 125, "end": 149}
            },
            {
                "file": "tests/fixtures/check/max-age.toml",
                "severity": "error",
                "code": "max-age-range",
                "message": "max_age -1 is out of range 0..=86400 seconds",
                "hint": "use 0 to disable preflight caching (negative values are not valid)",
                "source": "tests/fixtures/check/max-age.toml",
                "path": "defaults.max_age",
                "line": 4,
                "column": 11,
                "span": {"start": 82, "end": 84}
            },
            {
                "file": "tests/fixtures/check/max-age.toml",
                "severity": "error",
                "code": "max-age-range",
                "message": "max_age 100000 is out of range 0..=86400 seconds",
                "hint": "browsers cap it anyway: Chromium at 7200, Safari at 600",
                "source": "tests/fixtures/check/max-age.toml",
                "path": "paths[0].max_age",
                "line": 8,
                "column": 11,
                "span": {"start": 120, "end": 126}
            }
        ])
    );
}

#[test]
fn json_spans_point_at_the_offending_text() {
    for f in fixtures() {
        let rel = f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        let out = run(&["check", "--format", "json", rel.to_str().unwrap()]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let arr = v.as_array().unwrap();
        assert!(!arr.is_empty(), "{}", rel.display());
        for d in arr {
            for key in [
                "file", "severity", "code", "message", "hint", "path", "line", "column", "span",
            ] {
                assert!(d.get(key).is_some(), "{key} missing in {d}");
            }
            if let Some(span) = d["span"].as_object() {
                let (s, e) = (
                    span["start"].as_u64().unwrap() as usize,
                    span["end"].as_u64().unwrap() as usize,
                );
                assert!(s <= e && e <= text.len(), "{d}");
                let line = d["line"].as_u64().unwrap() as usize;
                assert_eq!(text[..s].matches('\n').count() + 1, line, "{d}");
            }
        }
    }
}

#[test]
fn colours_only_when_forced() {
    let out = corsguard()
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .args(["check", "tests/fixtures/check/unknown-key.yaml"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stderr).unwrap().contains('\u{1b}'));
    // Not a terminal and nothing forced: plain text.
    let out = corsguard()
        .env_remove("NO_COLOR")
        .args(["check", "tests/fixtures/check/unknown-key.yaml"])
        .output()
        .unwrap();
    assert!(!String::from_utf8(out.stderr).unwrap().contains('\u{1b}'));
}

/// `check` says where CSRF protection is on, and in which mode.
#[test]
fn check_reports_the_csrf_settings() {
    let out = run(&["check", "tests/fixtures/explain/csrf.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("  csrf: enforce on defaults; report on paths[1]; off on paths[0]\n"),
        "{stderr}"
    );
}

#[test]
fn allow_private_network_is_reported_as_obsolete_for_chrome_142() {
    let f = "tests/fixtures/browser-warnings/pna-path.yaml";
    let out = run(&["check", "--format", "json", f]);
    assert_eq!(out.status.code(), Some(0), "still valid: a legacy option");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = v.as_array().unwrap();
    assert_eq!(diags.len(), 1, "{v}");
    assert_eq!(diags[0]["code"], "private-network-obsolete");
    assert_eq!(diags[0]["severity"], "warning");
    assert_eq!(diags[0]["path"], "paths[0].allow_private_network");
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("no effect on Chrome ≥ 142")
    );
    let human = run(&["check", f]);
    let err = String::from_utf8(human.stderr).unwrap();
    assert!(err.contains("warning[private-network-obsolete]"), "{err}");
    assert!(err.contains("ok (1 warning)"), "{err}");
    assert_eq!(run(&["check", "--deny-warnings", f]).status.code(), Some(1));
    let f = "tests/fixtures/browser-warnings/pna-defaults.yaml";
    let v: Value = serde_json::from_slice(&run(&["check", "--format", "json", f]).stdout).unwrap();
    let paths: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["defaults.allow_private_network"]);
}
