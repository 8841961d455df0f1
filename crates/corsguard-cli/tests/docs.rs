//! The command outputs shown in the docs are golden files, and the docs cannot drift from them.
//!
//! - Every file in `examples/outputs/` is a transcript: lines starting with `$ ` are commands
//!   (`$ corsguard …`, optionally ending in `2>/dev/null` or `> FILE`, and `$ echo $?`), the
//!   lines after each command its output. [`golden_files_are_what_the_commands_print`] runs
//!   every command with the built binary (no shell; `NO_COLOR=1`, an empty environment, stdout
//!   and stderr into one file as on a terminal, `> FILE` into a scratch directory) in the
//!   directory listed in [`GOLDEN`], and compares the transcript with the file;
//!   `UPDATE_SNAPSHOTS=1` rewrites the files from their own command lines instead.
//! - [`docs_console_blocks_are_golden_files`]: every ```` ```console ```` block in README.md
//!   and docs/*.md that starts with `$ corsguard` is byte-identical to one golden file, or
//!   names one in a line `# … (excerpt of examples/outputs/NAME.txt)` and then consists of
//!   runs of that file's lines, in order, separated by elision lines (starting with `…` or
//!   `# …`). Every golden file is shown somewhere.
//! - [`docs_input_blocks_are_the_fixtures`]: the input files the docs show are the fixtures the
//!   commands read.
//! - [`relative_links_resolve`]: every relative link in the Markdown files (README.md, docs/,
//!   ARCHITECTURE.md, crate READMEs) names an existing file, and an existing heading when it
//!   has an anchor.
//!
//! `corsguard probe` needs a server: a command naming [`PROBE_ADDR`] gets a local one (on a free
//! port) that reflects every origin with credentials; its port, the timings and the random
//! origin are normalised back to the values shown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Every golden file, with the directory (from the workspace root) its commands run in.
const GOLDEN: &[(&str, &str)] = &[
    ("check.txt", "examples/check"),
    ("check-json.txt", "examples/check"),
    ("explain-allowed.txt", "."),
    ("explain-blocked.txt", "."),
    ("explain-csrf.txt", "."),
    ("explain-lna.txt", "."),
    ("explain-corp.txt", "."),
    ("explain-fix.txt", "."),
    ("test.txt", "."),
    ("test-failures.txt", "."),
    ("test-init.txt", "."),
    ("probe.txt", "."),
    ("export-nginx.txt", "."),
    ("export-envoy.txt", "."),
    ("export-traefik.txt", "."),
    ("export-haproxy.txt", "."),
    ("export-caddy.txt", "."),
    ("import-nelmio.txt", IMPORT),
    ("import-nelmio-warnings.txt", IMPORT),
    ("import-django.txt", IMPORT),
    ("export-gateway-api.txt", K8S),
    ("export-istio.txt", K8S),
    ("import-ingress-nginx.txt", K8S),
    ("import-istio.txt", K8S),
    ("import-gateway-api.txt", K8S),
];

/// The Kubernetes fixtures (policy, manifests), which those examples read by their plain names.
const K8S: &str = "crates/corsguard-cli/tests/fixtures/k8s";

/// The import fixtures, which the import examples read by their plain names.
const IMPORT: &str = "crates/corsguard-cli/tests/fixtures/import";

/// Input files shown in the docs: (Markdown file, the fence's language, the fixture).
const INPUTS: &[(&str, &str, &str)] = &[
    (
        "docs/cli.md",
        "yaml",
        "crates/corsguard-cli/tests/fixtures/import/nelmio_cors.yaml",
    ),
    (
        "docs/cli.md",
        "python",
        "crates/corsguard-cli/tests/fixtures/import/settings.py",
    ),
];

/// The server address the probe example shows; the test serves it on a free port.
const PROBE_ADDR: &str = "127.0.0.1:18093";
/// The random origin the probe example shows.
const PROBE_RANDOM_ORIGIN: &str = "https://corsguard-probe-5f0c2a91d3e4.example";

const OUTPUTS: &str = "examples/outputs";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Running a transcript

/// One shell word or redirection of a command line.
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    /// `2>/dev/null`
    StderrNull,
    /// `> FILE`
    StdoutTo(String),
}

/// Splits a command line the way sh would for the subset the docs use: words, `'…'`, `"…"`
/// (without `$`, `` ` `` or `\` inside), `2>/dev/null` and `> FILE`. Anything else panics.
fn split(line: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ') {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return tokens;
        };
        let rest: String = chars.clone().collect();
        if rest == "2>/dev/null" || rest.starts_with("2>/dev/null ") {
            tokens.push(Token::StderrNull);
            chars.nth("2>/dev/null".len() - 1);
            continue;
        }
        let redirect = first == '>';
        if redirect {
            chars.next();
            while chars.peek().is_some_and(|c| *c == ' ') {
                chars.next();
            }
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            match c {
                ' ' => break,
                '\'' => {
                    chars.next();
                    loop {
                        match chars.next() {
                            Some('\'') => break,
                            Some(c) => word.push(c),
                            None => panic!("unterminated ' in {line:?}"),
                        }
                    }
                }
                '"' => {
                    chars.next();
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some(c @ ('$' | '`' | '\\')) => {
                                panic!("unsupported {c:?} inside \"…\" in {line:?}")
                            }
                            Some(c) => word.push(c),
                            None => panic!("unterminated \" in {line:?}"),
                        }
                    }
                }
                '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '\\' | '*' | '?' | '['
                | '#' | '~' | '{' | '}' => panic!("unsupported shell syntax {c:?} in {line:?}"),
                c => {
                    chars.next();
                    word.push(c);
                }
            }
        }
        assert!(!word.is_empty(), "empty word in {line:?}");
        tokens.push(if redirect {
            Token::StdoutTo(word)
        } else {
            Token::Word(word)
        });
    }
}

/// A local server for the probe example: reflects every origin with credentials, answers
/// HTTP/1.0, one request per connection. Returns its address.
fn reflecting_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let method = line.split(' ').next().unwrap_or("").to_owned();
                let (mut origin, mut acrm, mut length) = (None, false, 0);
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some((n, v)) = h.trim_end().split_once(':') {
                        let v = v.trim().to_owned();
                        match n.to_ascii_lowercase().as_str() {
                            "origin" => origin = Some(v),
                            "access-control-request-method" => acrm = true,
                            "content-length" => length = v.parse().unwrap_or(0),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let mut resp = String::new();
                let cors = |resp: &mut String| {
                    if let Some(o) = &origin {
                        resp.push_str(&format!(
                            "Access-Control-Allow-Origin: {o}\r\nAccess-Control-Allow-Credentials: true\r\n"
                        ));
                    }
                };
                if method == "OPTIONS" && acrm {
                    resp.push_str("HTTP/1.0 204 No Content\r\n");
                    cors(&mut resp);
                    resp.push_str(
                        "Access-Control-Allow-Methods: GET, PUT, DELETE\r\n\
                         Access-Control-Allow-Headers: content-type, x-trace-id\r\n\
                         Access-Control-Max-Age: 86400\r\n\r\n",
                    );
                } else {
                    resp.push_str("HTTP/1.0 200 OK\r\n");
                    cors(&mut resp);
                    resp.push_str("Content-Length: 3\r\n\r\nok\n");
                }
                let _ = stream.write_all(resp.as_bytes());
            });
        }
    });
    addr
}

/// Runs the commands of a golden file (its lines starting with `$ `) in `cwd` and returns
/// the transcript.
fn run_transcript(name: &str, cwd: &Path, golden: &str) -> String {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("docs")
        .join(name);
    std::fs::create_dir_all(&scratch).unwrap();
    let mut out = String::new();
    let mut status: Option<i32> = None;
    let mut server: Option<String> = None;
    for line in golden.lines().filter_map(|l| l.strip_prefix("$ ")) {
        out.push_str("$ ");
        out.push_str(line);
        out.push('\n');
        if line == "echo $?" {
            let code = status.unwrap_or_else(|| panic!("{name}: `echo $?` before a command"));
            out.push_str(&format!("{code}\n"));
            continue;
        }
        let mut tokens = split(line).into_iter();
        assert_eq!(
            tokens.next(),
            Some(Token::Word("corsguard".into())),
            "{name}: only `corsguard …` and `echo $?` can be run: {line}"
        );
        let mut args = Vec::new();
        let (mut stderr_null, mut stdout_to) = (false, None);
        for t in tokens {
            match t {
                Token::Word(w) if w.contains(PROBE_ADDR) => {
                    let addr = server.get_or_insert_with(reflecting_server);
                    args.push(w.replace(PROBE_ADDR, addr));
                }
                Token::Word(w) => args.push(w),
                Token::StderrNull => stderr_null = true,
                Token::StdoutTo(f) => {
                    assert!(!f.contains('/'), "{name}: `> {f}`: a file name only");
                    stdout_to = Some(scratch.join(f));
                }
            }
        }
        // Both streams into one file, in the order they are written, as on a terminal.
        let capture_path = scratch.join("terminal");
        let capture = File::create(&capture_path).unwrap();
        let stdout = match &stdout_to {
            Some(f) => Stdio::from(File::create(f).unwrap()),
            None => Stdio::from(capture.try_clone().unwrap()),
        };
        let stderr = if stderr_null {
            Stdio::null()
        } else {
            Stdio::from(capture)
        };
        let code = Command::new(env!("CARGO_BIN_EXE_corsguard"))
            .current_dir(cwd)
            .env_clear()
            .env("NO_COLOR", "1")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .status()
            .unwrap()
            .code()
            .unwrap_or_else(|| panic!("{name}: killed by a signal: {line}"));
        status = Some(code);
        out.push_str(&read(&capture_path));
    }
    if let Some(addr) = server {
        out = out.replace(&addr, PROBE_ADDR);
        out = regex::Regex::new(r"\(\d+ ms, ")
            .unwrap()
            .replace_all(&out, "(1 ms, ")
            .into_owned();
        out = regex::Regex::new(r"https://corsguard-probe-[0-9a-f]{12}\.example")
            .unwrap()
            .replace_all(&out, PROBE_RANDOM_ORIGIN)
            .into_owned();
    }
    out
}

/// Where two texts first differ, for the failure message.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<_>, Vec<_>) = (want.lines().collect(), got.lines().collect());
    for i in 0..w.len().max(g.len()) {
        if w.get(i) != g.get(i) {
            return format!(
                "line {}:\n  file:   {:?}\n  output: {:?}",
                i + 1,
                w.get(i),
                g.get(i)
            );
        }
    }
    "the line endings or the final newline".to_owned()
}

#[test]
fn golden_files_are_what_the_commands_print() {
    let root = root();
    let on_disk: BTreeSet<String> = std::fs::read_dir(root.join(OUTPUTS))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let listed: BTreeSet<String> = GOLDEN.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(
        on_disk, listed,
        "every file in {OUTPUTS}/ is listed in GOLDEN (with the directory its commands run in)"
    );
    let update = std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for (name, cwd) in GOLDEN {
        let path = root.join(OUTPUTS).join(name);
        let want = read(&path);
        assert!(
            want.starts_with("$ corsguard "),
            "{}: the first line is the `$ corsguard …` command",
            path.display()
        );
        let got = run_transcript(name, &root.join(cwd), &want);
        if got == want {
            continue;
        }
        if update {
            std::fs::write(&path, &got).unwrap();
        } else {
            failures.push(format!(
                "{OUTPUTS}/{name} differs from what its commands print, at {}",
                first_difference(&want, &got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(rerun with UPDATE_SNAPSHOTS=1 to rewrite the golden files, then update the docs blocks that show them)",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The docs

/// The Markdown files whose blocks are checked: README.md and docs/*.md.
fn docs() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![root.join("README.md")];
    let mut in_docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    in_docs.sort();
    files.extend(in_docs);
    files
}

/// A fenced code block: its language, first line number (1-based, of the content) and content
/// (each line with its `\n`).
struct Block {
    lang: String,
    line: usize,
    text: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    // The open block and the indentation of its fence (a block inside a list item).
    let mut open: Option<(Block, &str)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let lang = info.split_whitespace().next().unwrap_or("").to_owned();
                    let text = String::new();
                    open = Some((
                        Block {
                            lang,
                            line: i + 2,
                            text,
                        },
                        indent,
                    ));
                }
            }
            Some((_, _)) if trimmed == "```" => out.push(open.take().unwrap().0),
            Some((block, fence_indent)) => {
                block
                    .text
                    .push_str(line.strip_prefix(*fence_indent).unwrap_or(line));
                block.text.push('\n');
            }
        }
    }
    assert!(open.is_none(), "unterminated code block");
    out
}

/// `Some(NAME)` for a line `# … (excerpt of examples/outputs/NAME)`.
fn excerpt_of(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix("# … (excerpt of examples/outputs/")?
        .strip_suffix(')')
}

fn is_elision(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('…') || t.starts_with("# …")
}

/// Checks an excerpt: the first line is the golden file's first line, and the other lines are
/// runs of consecutive golden lines, in order, separated by elision lines.
fn check_excerpt(block: &str, golden: &str) -> Result<(), String> {
    let want: Vec<&str> = golden.lines().collect();
    let lines: Vec<&str> = block.lines().collect();
    if lines.first() != want.first() {
        return Err(format!(
            "the command {:?} is not the file's {:?}",
            lines.first(),
            want.first()
        ));
    }
    let mut runs: Vec<Vec<&str>> = vec![Vec::new()];
    for l in &lines {
        if is_elision(l) {
            runs.push(Vec::new());
        } else {
            runs.last_mut().unwrap().push(l);
        }
    }
    let mut at = 0;
    for run in runs.iter().filter(|r| !r.is_empty()) {
        let found = (at..=want.len().saturating_sub(run.len()))
            .find(|&i| want[i..].starts_with(run))
            .ok_or_else(|| {
                format!(
                    "these lines are not in the file (in this order, after line {at}):\n{}",
                    run.join("\n")
                )
            })?;
        at = found + run.len();
    }
    Ok(())
}

#[test]
fn docs_console_blocks_are_golden_files() {
    let root = root();
    let golden: Vec<(&str, String)> = GOLDEN
        .iter()
        .map(|(n, _)| (*n, read(&root.join(OUTPUTS).join(n))))
        .collect();
    let mut shown = BTreeSet::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for doc in docs() {
        let rel = doc.strip_prefix(&root).unwrap().display().to_string();
        for block in blocks(&read(&doc)) {
            if block.lang != "console" || !block.text.starts_with("$ corsguard") {
                continue;
            }
            checked += 1;
            let at = format!("{rel}:{}", block.line);
            if let Some(name) = block.text.lines().find_map(excerpt_of) {
                match golden.iter().find(|(n, _)| *n == name) {
                    None => failures.push(format!("{at}: no golden file {OUTPUTS}/{name}")),
                    Some((n, text)) => match check_excerpt(&block.text, text) {
                        Ok(()) => {
                            shown.insert(*n);
                        }
                        Err(e) => {
                            failures.push(format!("{at}: not an excerpt of {OUTPUTS}/{name}: {e}"))
                        }
                    },
                }
            } else if let Some((n, _)) = golden.iter().find(|(_, text)| *text == block.text) {
                shown.insert(*n);
            } else {
                let near = golden
                    .iter()
                    .find(|(_, text)| text.lines().next() == block.text.lines().next());
                failures.push(match near {
                    Some((n, text)) => format!(
                        "{at}: differs from {OUTPUTS}/{n} (the golden file with the same command), at {}",
                        first_difference(text, &block.text)
                    ),
                    None => format!(
                        "{at}: no golden file in {OUTPUTS}/ has this command; add one (its first line the command, then UPDATE_SNAPSHOTS=1)"
                    ),
                });
            }
        }
    }
    for (n, _) in &golden {
        if !shown.contains(n) {
            failures.push(format!("{OUTPUTS}/{n} is shown in no docs block"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= GOLDEN.len(), "only {checked} blocks checked");
}

#[test]
fn docs_input_blocks_are_the_fixtures() {
    let root = root();
    for (doc, lang, fixture) in INPUTS {
        let want = read(&root.join(fixture));
        let found = blocks(&read(&root.join(doc)))
            .into_iter()
            .any(|b| b.lang == *lang && b.text == want);
        assert!(
            found,
            "{doc}: no ```{lang} block is byte-identical to {fixture}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Links

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks), with GitHub's `-1`, `-2`
/// suffixes for repeated headings.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_code = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let base = slug(&line[hashes..]);
            let mut s = base.clone();
            let mut n = 0;
            while out.contains(&s) {
                n += 1;
                s = format!("{base}-{n}");
            }
            out.insert(s);
        }
    }
    out
}

/// The targets of inline links `[text](target)` outside code blocks and code spans.
fn links(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Drop code spans.
        let text: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = text.as_str();
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    out
}

#[test]
fn relative_links_resolve() {
    let root = root();
    let mut files = docs();
    files.push(root.join("ARCHITECTURE.md"));
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let readme = entry.unwrap().path().join("README.md");
        if readme.exists() {
            files.push(readme);
        }
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap().display().to_string();
        let text = read(file);
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match link.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (link.as_str(), None),
            };
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !target.exists() {
                failures.push(format!("{rel}: ({link}): no such file"));
                continue;
            }
            if let Some(anchor) = anchor
                && (target.is_dir() || !anchors(&read(&target)).contains(anchor))
            {
                failures.push(format!("{rel}: ({link}): no such heading"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 10, "only {checked} relative links found");
}

#[test]
fn split_handles_what_the_docs_show() {
    use Token::{StderrNull, StdoutTo, Word};
    let w = |s: &str| Word(s.to_owned());
    assert_eq!(
        split("corsguard explain --header 'X-Trace-Id: 1' \"a b\" 2>/dev/null"),
        vec![
            w("corsguard"),
            w("explain"),
            w("--header"),
            w("X-Trace-Id: 1"),
            w("a b"),
            StderrNull
        ]
    );
    assert_eq!(
        split("corsguard import nelmio nelmio_cors.yaml > corsguard.yaml"),
        vec![
            w("corsguard"),
            w("import"),
            w("nelmio"),
            w("nelmio_cors.yaml"),
            StdoutTo("corsguard.yaml".into())
        ]
    );
    assert!(std::panic::catch_unwind(|| split("corsguard check a | head")).is_err());
    assert!(std::panic::catch_unwind(|| split("corsguard check $HOME")).is_err());
}
