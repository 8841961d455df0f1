//! What `export_k8s.rs` and `import_k8s.rs` share: running the CLI, and checking that every
//! warning on stderr is also a comment in the output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::process::Command;

/// Runs `corsguard ARGS…` without colours, in the crate's directory (so relative fixture
/// paths, which the outputs name, are the same on every checkout): (exit code, stdout, stderr).
pub(crate) fn corsguard<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Every `warning: …` line of `stderr` starts a comment of `output` (its first `words`
/// words, as the comments wrap the text).
pub(crate) fn assert_warnings_are_comments(output: &str, stderr: &str, words: usize) {
    let comments: String = output
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.trim_start_matches([' ', '-']).trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    for w in stderr.lines() {
        let w = w.strip_prefix("warning: ").expect(w);
        let start: String = w.split(' ').take(words).collect::<Vec<_>>().join(" ");
        assert!(comments.contains(&start), "warning not in the output: {w}");
    }
}
