//! Loading at scale and under hostile input: large allow-lists load (speed is measured by
//! `benches/load.rs`, never asserted here), located diagnostics stay exact in huge files, and
//! every unbounded input (file size, alias expansion, devices, FIFOs) is refused with a clear
//! error instead of taking memory or time without limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use corsguard::{ConfigErrors, DEFAULT_MAX_CONFIG_BYTES, Policy, Severity, read_config_file};

/// A fresh directory for one test's files, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("corsguard-loading-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn only_error(e: &ConfigErrors) -> &corsguard::Diagnostic {
    let errors: Vec<_> = e.errors().collect();
    assert_eq!(errors.len(), 1, "{e}");
    errors[0]
}

/// Runs `load` on another thread and fails the test if it has not returned after a generous
/// bound: a load that never returns (a device read forever, a FIFO open blocking) must fail
/// the test, not hang it.
fn within_bound<T: Send + 'static>(load: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the load did not return: an unbounded read or a blocking open")
}

fn origins(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("https://host{i}.example.com"))
        .collect()
}

#[test]
fn fifty_thousand_origins_load_from_a_block_list_and_a_flow_list() {
    let all = origins(50_000);
    let block: String = std::iter::once("defaults:\n  allow_origins:\n".to_string())
        .chain(all.iter().map(|o| format!("    - '{o}'\n")))
        .collect();
    let quoted: Vec<String> = all.iter().map(|o| format!("'{o}'")).collect();
    let flow = format!("defaults: {{allow_origins: [{}]}}\n", quoted.join(", "));
    for yaml in [block, flow] {
        let p = Policy::from_yaml_str(&yaml).unwrap();
        assert!(p.warnings().is_empty(), "{:?}", p.warnings());
        assert_eq!(p.defaults_summary().allow_origins, all);
        for o in ["https://host0.example.com", "https://host49999.example.com"] {
            assert!(p.origin_allowed("/", None, o.as_bytes()), "{o}");
        }
        assert!(!p.origin_allowed("/", None, b"https://host50000.example.com"));
    }
}

#[test]
fn diagnostics_deep_in_a_huge_file_have_exact_lines_and_columns() {
    // One line per origin, then the bad one: its line is the entry count + 3.
    let n = 30_000;
    let mut yaml = String::from("defaults:\n  allow_origins:\n");
    for o in origins(n) {
        yaml.push_str(&format!("    - '{o}'\n"));
    }
    yaml.push_str("    - 'https://bad.example/'\n");
    let e = Policy::from_yaml_str(&yaml).unwrap_err();
    let d = only_error(&e);
    assert_eq!(d.code, "origin-trailing-slash");
    assert_eq!(d.location.path, format!("defaults.allow_origins[{n}]"));
    let span = d.location.span.unwrap();
    assert_eq!((span.line, span.column), (n + 3, 7));
    assert_eq!(&yaml[span.start..span.end], "'https://bad.example/'");

    // The whole list on one line, with multi-byte characters before the bad entry: the
    // column counts characters, not bytes.
    let quoted: Vec<String> = (0..n)
        .map(|i| format!("'https://hôst{i}.example.com'"))
        .collect();
    let head = format!("defaults: {{allow_origins: [{}, ", quoted.join(", "));
    let yaml = format!("{head}'https://bad.example/']}}\n");
    let e = Policy::from_yaml_str(&yaml).unwrap_err();
    let d = e
        .errors()
        .find(|d| d.code == "origin-trailing-slash")
        .unwrap_or_else(|| panic!("{e}"));
    let span = d.location.span.unwrap();
    assert_eq!(span.start, head.len());
    assert_eq!((span.line, span.column), (1, head.chars().count() + 1));
}

/// `x: &s '<1 MiB>'` named by 1,000 aliases: 1,000 nodes, but a gigabyte once expanded.
#[test]
fn a_string_alias_bomb_is_refused_by_its_expanded_bytes() {
    let big = "A".repeat(1 << 20);
    let aliases = vec!["*s"; 1000].join(",");
    let yaml = format!(
        "x: &s '{big}'\ny: [{aliases}]\ndefaults: {{allow_origins: ['https://a.example']}}\n"
    );
    let e = Policy::from_yaml_str(&yaml).unwrap_err();
    let d = only_error(&e);
    assert_eq!(d.code, "syntax");
    assert_eq!(
        d.message,
        "YAML syntax error: anchors and aliases expand to more than 16 MiB (alias bomb?)"
    );
    // The error points at the alias that crossed the budget.
    let span = d.location.span.unwrap();
    assert_eq!(&yaml[span.start..span.end], "*s");
}

/// Nested anchors each copy the text they wrap: 60 levels around 1 MiB are 60 MiB.
#[test]
fn nested_anchors_around_a_big_string_are_charged_too() {
    let big = "A".repeat(1 << 20);
    let mut value = format!("'{big}'");
    for i in 0..60 {
        value = format!("&a{i} [{value}]");
    }
    let yaml = format!("x: {value}\ndefaults: {{allow_origins: ['https://a.example']}}\n");
    let e = Policy::from_yaml_str(&yaml).unwrap_err();
    assert!(
        only_error(&e)
            .message
            .contains("anchors and aliases expand to more than"),
        "{e}"
    );
}

#[test]
fn the_classic_billion_laughs_is_still_refused_by_the_node_count() {
    let mut yaml = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("l{}", i - 1)
        };
        let refs = vec![format!("*{prev}"); 10].join(", ");
        yaml.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    let e = Policy::from_yaml_str(&yaml).unwrap_err();
    assert!(only_error(&e).message.contains("(alias bomb?)"), "{e}");
}

#[test]
fn ordinary_aliases_still_load() {
    let yaml = "defaults:\n  allow_origins: &origins ['https://a.example', 'https://b.example']\npaths:\n  - path: /api/\n    allow_origins: *origins\n    allow_credentials: true\n";
    let p = Policy::from_yaml_str(yaml).unwrap();
    let rules = p.summaries();
    assert_eq!(rules.len(), 2, "{rules:?}");
    for r in rules {
        assert_eq!(r.allow_origins, ["https://a.example", "https://b.example"]);
    }
}

/// Writes a YAML file of exactly `len` bytes: a valid policy padded with a comment.
fn write_padded(path: &Path, len: usize) {
    let policy = "defaults: {allow_origins: ['https://a.example']}\n#";
    let mut text = policy.to_string();
    text.push_str(&"x".repeat(len - policy.len() - 1));
    text.push('\n');
    assert_eq!(text.len(), len);
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_file_over_the_default_cap_is_refused() {
    let dir = TempDir::new("cap");
    let file = dir.path("big.yaml");
    write_padded(&file, DEFAULT_MAX_CONFIG_BYTES as usize + 1);
    let e = Policy::from_file(&file).unwrap_err();
    let d = only_error(&e);
    assert_eq!(d.code, "file-too-large");
    assert_eq!(
        d.message,
        format!(
            "`{}` is larger than 16 MiB, the limit for a config file",
            file.display()
        )
    );
    assert_eq!(d.location.to_string(), format!("{}: ", file.display()));
}

#[test]
fn read_config_file_takes_its_cap_exactly() {
    let dir = TempDir::new("exact");
    let file = dir.path("cors.yaml");
    write_padded(&file, 4096);
    let text = read_config_file(&file, 4096).unwrap();
    assert_eq!(text.len(), 4096);
    Policy::load()
        .text(&text, "cors.yaml", corsguard::Format::Yaml)
        .build()
        .unwrap();
    let e = read_config_file(&file, 4095).unwrap_err();
    assert_eq!(only_error(&e).code, "file-too-large");
    assert!(only_error(&e).message.contains("larger than 4095 bytes"));
}

#[test]
fn a_directory_is_refused() {
    let dir = TempDir::new("dir");
    let sub = dir.path("policy.yaml");
    std::fs::create_dir(&sub).unwrap();
    let e = Policy::from_file(&sub).unwrap_err();
    let d = only_error(&e);
    assert_eq!(d.code, "not-a-file");
    assert_eq!(
        d.message,
        format!("`{}` is not a regular file (a directory)", sub.display())
    );
}

#[test]
fn invalid_utf8_is_an_io_error() {
    let dir = TempDir::new("utf8");
    let file = dir.path("cors.yaml");
    std::fs::write(&file, b"defaults: {allow_origins: ['\xff']}\n").unwrap();
    let e = Policy::from_file(&file).unwrap_err();
    let d = only_error(&e);
    assert_eq!(d.code, "io");
    assert!(d.message.contains("valid UTF-8"), "{}", d.message);
}

/// `zero.yaml -> /dev/zero` used to be read forever while memory grew.
#[cfg(unix)]
#[test]
fn a_symlink_to_dev_zero_is_refused_in_bounded_time() {
    let dir = TempDir::new("zero");
    let link = dir.path("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let l = link.clone();
    let e = within_bound(move || Policy::from_file(&l)).unwrap_err();
    let d = only_error(&e);
    assert_eq!(d.code, "not-a-file");
    assert_eq!(
        d.message,
        format!(
            "`{}` is not a regular file (a character device)",
            link.display()
        )
    );
    assert_eq!(d.severity, Severity::Error);
}

/// A FIFO with no writer used to block the open forever.
#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_opening_it() {
    let dir = TempDir::new("fifo");
    let fifo = dir.path("cors.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        panic!("mkfifo is needed for this test");
    }
    let f = fifo.clone();
    let e = within_bound(move || Policy::from_file(&f)).unwrap_err();
    assert_eq!(
        only_error(&e).message,
        format!("`{}` is not a regular file (a FIFO)", fifo.display())
    );
}

/// The YAML parser's marker index counts characters; spans are byte ranges. Used as bytes,
/// the index made every span after non-ASCII text point before its value.
#[test]
fn spans_after_non_ascii_text_are_byte_ranges() {
    let yaml =
        "# café ☕\ndefaults:\n  allow_origins: ['https://bücher.example', 'https://a.example/']\n";
    let e = Policy::from_yaml_str(yaml).unwrap_err();
    let d = e
        .errors()
        .find(|d| d.code == "origin-trailing-slash")
        .unwrap_or_else(|| panic!("{e}"));
    let span = d.location.span.unwrap();
    assert_eq!(&yaml[span.start..span.end], "'https://a.example/'");
    assert_eq!((span.line, span.column), (3, 45));

    // A syntax error's span covers the whole character it points at.
    let yaml = "defaults: {allow_origins: ['ü']}\nü: [\n";
    let e = Policy::from_yaml_str(yaml).unwrap_err();
    let span = only_error(&e).location.span.unwrap();
    assert!(yaml.get(span.start..span.end).is_some(), "{span:?}");
}
