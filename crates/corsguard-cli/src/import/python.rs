//! A small tokenizer and expression evaluator for the subset of Python that Django settings
//! use for `CORS_*`: assignments of lists, tuples, strings (raw, byte, implicit
//! concatenation), integers (with `*`), booleans, `None`, the `corsheaders.defaults` lists,
//! splats (`(*default_headers, "x")`), `list(…)`/`tuple(…)`, `+`, `re.compile(…)` and
//! `"a,b".split(",")`. Anything else evaluates to [`PyVal::Unknown`] with its source text, so
//! the importer can say what it could not read. No Python is run.

use std::collections::BTreeMap;

/// `corsheaders.defaults.default_headers`.
pub const DEFAULT_HEADERS: [&str; 6] = [
    "accept",
    "authorization",
    "content-type",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
];
/// `corsheaders.defaults.default_methods`.
pub const DEFAULT_METHODS: [&str; 6] = ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"];

/// A Python value, as far as the importer understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PyVal {
    /// A `str` (or `bytes`).
    Str(String),
    /// An `int`.
    Int(i64),
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A list, tuple or set.
    List(Vec<PyVal>),
    /// `re.compile(pattern, flags)`: the pattern and whether flags were given.
    Regex(String, bool),
    /// Something the importer cannot evaluate, with its source text.
    Unknown(String),
}

impl PyVal {
    /// Python-like source text of the value.
    pub fn describe(&self) -> String {
        match self {
            PyVal::Str(s) => format!("'{s}'"),
            PyVal::Int(i) => i.to_string(),
            PyVal::Bool(true) => "True".into(),
            PyVal::Bool(false) => "False".into(),
            PyVal::None => "None".into(),
            PyVal::List(v) => format!(
                "[{}]",
                v.iter().map(PyVal::describe).collect::<Vec<_>>().join(", ")
            ),
            PyVal::Regex(r, _) => format!("re.compile(r'{r}')"),
            PyVal::Unknown(s) => s.clone(),
        }
    }
}

/// One `NAME = value` statement at module level.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The name assigned.
    pub name: String,
    /// The value.
    pub value: PyVal,
    /// 1-based line.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Name(String),
    Str(String),
    Num(i64),
    Op(&'static str),
    Other(char),
    Newline,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
    line: usize,
}

const OPS: [&str; 16] = [
    "+=", "**", "==", "(", ")", "[", "]", "{", "}", ",", "=", "+", "-", "*", ".", ":",
];

fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut line = 1;
    let mut depth: usize = 0;
    let mut out: Vec<Token> = Vec::new();
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                if depth == 0 && out.last().is_some_and(|t| t.tok != Tok::Newline) {
                    out.push(Token {
                        tok: Tok::Newline,
                        start: i,
                        end: i + 1,
                        line,
                    });
                }
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => i += 1,
            b'\\' if b.get(i + 1) == Some(&b'\n') => {
                line += 1;
                i += 2;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &src[start..i];
                // String prefixes: r, b, u, f, rb, br, fr, rf (any case).
                let is_prefix = word.len() <= 2
                    && word.chars().all(|ch| "rRbBuUfF".contains(ch))
                    && matches!(b.get(i), Some(b'\'' | b'"'));
                if is_prefix {
                    let raw = word.contains(['r', 'R']);
                    let f = word.contains(['f', 'F']);
                    let (s, next, lines) = string(src, i, raw)?;
                    out.push(Token {
                        tok: if f { Tok::Other('f') } else { Tok::Str(s) },
                        start,
                        end: next,
                        line,
                    });
                    line += lines;
                    i = next;
                } else {
                    out.push(Token {
                        tok: Tok::Name(word.to_owned()),
                        start,
                        end: i,
                        line,
                    });
                }
            }
            b'\'' | b'"' => {
                let (s, next, lines) = string(src, i, false)?;
                out.push(Token {
                    tok: Tok::Str(s),
                    start: i,
                    end: next,
                    line,
                });
                line += lines;
                i = next;
            }
            _ if c.is_ascii_digit() => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.')
                {
                    i += 1;
                }
                let text: String = src[start..i].chars().filter(|c| *c != '_').collect();
                let tok = match text.parse::<i64>() {
                    Ok(n) => Tok::Num(n),
                    Err(_) => Tok::Other('0'),
                };
                out.push(Token {
                    tok,
                    start,
                    end: i,
                    line,
                });
            }
            _ => {
                let start = i;
                let op = OPS.iter().find(|op| src[i..].starts_with(**op)).copied();
                let tok = match op {
                    Some(op) => {
                        i += op.len();
                        match op {
                            "(" | "[" | "{" => depth += 1,
                            ")" | "]" | "}" => depth = depth.saturating_sub(1),
                            _ => {}
                        }
                        Tok::Op(op)
                    }
                    None => {
                        let ch = src[i..].chars().next().unwrap_or('?');
                        i += ch.len_utf8();
                        Tok::Other(ch)
                    }
                };
                out.push(Token {
                    tok,
                    start,
                    end: i,
                    line,
                });
            }
        }
    }
    out.push(Token {
        tok: Tok::Newline,
        start: src.len(),
        end: src.len(),
        line,
    });
    Ok(out)
}

/// Reads a string literal starting at the quote at `i`; returns its value, the offset after
/// it and the number of newlines inside.
fn string(src: &str, i: usize, raw: bool) -> Result<(String, usize, usize), String> {
    let b = src.as_bytes();
    let q = b[i];
    let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    let mut out = String::new();
    let mut lines = 0;
    loop {
        let Some(&c) = b.get(j) else {
            return Err(format!(
                "unterminated string starting at line {}",
                src[..i].matches('\n').count() + 1
            ));
        };
        if c == q && (!triple || (b.get(j + 1) == Some(&q) && b.get(j + 2) == Some(&q))) {
            return Ok((out, if triple { j + 3 } else { j + 1 }, lines));
        }
        if c == b'\n' {
            if !triple {
                return Err(format!(
                    "unterminated string at line {}",
                    src[..i].matches('\n').count() + 1
                ));
            }
            lines += 1;
        }
        if c == b'\\' && j + 1 < b.len() {
            let n = b[j + 1];
            if raw {
                // Raw strings keep the backslash (and an escaped quote does not end them).
                out.push('\\');
                let ch = src[j + 1..].chars().next().unwrap_or('\\');
                out.push(ch);
                j += 1 + ch.len_utf8();
                continue;
            }
            let esc = match n {
                b'\\' => Some('\\'),
                b'\'' => Some('\''),
                b'"' => Some('"'),
                b'n' => Some('\n'),
                b't' => Some('\t'),
                b'r' => Some('\r'),
                b'0' => Some('\0'),
                b'\n' => {
                    lines += 1;
                    j += 2;
                    continue;
                }
                _ => None,
            };
            match esc {
                Some(e) => {
                    out.push(e);
                    j += 2;
                }
                None => {
                    // Unknown escapes keep the backslash, as Python does (`"\d"` == `r"\d"`).
                    out.push('\\');
                    j += 1;
                }
            }
            continue;
        }
        let ch = src[j..].chars().next().unwrap_or('?');
        out.push(ch);
        j += ch.len_utf8();
    }
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    env: BTreeMap<String, PyVal>,
}

/// Evaluates every module-level `NAME = …` assignment (later assignments win, as in Python).
pub fn assignments(src: &str) -> Result<Vec<Assignment>, String> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        env: BTreeMap::new(),
    };
    let mut out = Vec::new();
    while p.pos < p.toks.len() {
        let start = p.pos;
        let is_assign =
            matches!(p.tok(0), Some(Tok::Name(_))) && matches!(p.tok(1), Some(Tok::Op("=" | "+=")));
        // Only statements that start a logical line (not `x = 1` inside a call argument).
        let at_line_start =
            start == 0 || p.toks.get(start - 1).is_some_and(|t| t.tok == Tok::Newline);
        if is_assign && at_line_start {
            let Some(Tok::Name(name)) = p.tok(0).cloned() else {
                p.pos += 1;
                continue;
            };
            let augmented = p.tok(1) == Some(&Tok::Op("+="));
            let line = p.toks[p.pos].line;
            p.pos += 2;
            let mut value = p.expr();
            if !p.at_newline() {
                // Something after the expression (a conditional, a second target …).
                let end = p.skip_statement();
                value = PyVal::Unknown(p.text(start + 2, end));
            } else {
                p.pos += 1;
            }
            if augmented {
                let old = p
                    .env
                    .get(&name)
                    .cloned()
                    .unwrap_or(PyVal::Unknown(name.clone()));
                value = add(old, value);
            }
            p.env.insert(name.clone(), value.clone());
            out.push(Assignment { name, value, line });
        } else {
            p.skip_statement();
        }
    }
    Ok(out)
}

fn add(a: PyVal, b: PyVal) -> PyVal {
    match (a, b) {
        (PyVal::List(mut x), PyVal::List(y)) => {
            x.extend(y);
            PyVal::List(x)
        }
        (PyVal::Str(x), PyVal::Str(y)) => PyVal::Str(x + &y),
        (PyVal::Int(x), PyVal::Int(y)) => PyVal::Int(x.saturating_add(y)),
        (PyVal::Unknown(x), _) | (_, PyVal::Unknown(x)) => PyVal::Unknown(x),
        (x, y) => PyVal::Unknown(format!("{} + {}", x.describe(), y.describe())),
    }
}

impl Parser<'_> {
    fn tok(&self, ahead: usize) -> Option<&Tok> {
        self.toks.get(self.pos + ahead).map(|t| &t.tok)
    }

    fn at_newline(&self) -> bool {
        matches!(self.tok(0), Some(Tok::Newline) | None)
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.tok(0), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips to the token after the next logical newline; returns the index of that newline.
    fn skip_statement(&mut self) -> usize {
        while !self.at_newline() {
            self.pos += 1;
        }
        let end = self.pos;
        self.pos += 1;
        end
    }

    /// Source text of tokens `from..to`.
    fn text(&self, from: usize, to: usize) -> String {
        let start = self.toks.get(from).map_or(0, |t| t.start);
        let end = to
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(start, |t| t.end);
        self.src
            .get(start..end.max(start))
            .unwrap_or("")
            .trim()
            .to_owned()
    }

    /// Skips one balanced expression fragment (used after an unknown construct).
    fn skip_balanced(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.tok(0) {
            match t {
                Tok::Op("(" | "[" | "{") => depth += 1,
                Tok::Op(")" | "]" | "}") => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                Tok::Op(",") | Tok::Newline if depth == 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn expr(&mut self) -> PyVal {
        let start = self.pos;
        let mut v = self.mul();
        while self.eat("+") {
            let rhs = self.mul();
            v = add(v, rhs);
        }
        // Conditional expressions, comparisons, `or` defaults … are not evaluated.
        if matches!(self.tok(0), Some(Tok::Name(n)) if matches!(n.as_str(), "if" | "or" | "and" | "else"))
            || matches!(self.tok(0), Some(Tok::Other(_)))
        {
            self.skip_balanced();
            return PyVal::Unknown(self.text(start, self.pos));
        }
        if let PyVal::Unknown(_) = v {
            return PyVal::Unknown(self.text(start, self.pos));
        }
        v
    }

    fn mul(&mut self) -> PyVal {
        let mut v = self.postfix();
        while self.eat("*") {
            let rhs = self.postfix();
            v = match (v, rhs) {
                (PyVal::Int(a), PyVal::Int(b)) => PyVal::Int(a.saturating_mul(b)),
                (a, _) => PyVal::Unknown(format!("{} * …", a.describe())),
            };
        }
        v
    }

    fn postfix(&mut self) -> PyVal {
        let start = self.pos;
        let mut v = self.atom();
        loop {
            if self.eat(".") {
                let Some(Tok::Name(attr)) = self.tok(0).cloned() else {
                    return PyVal::Unknown(self.text(start, self.pos));
                };
                self.pos += 1;
                if self.eat("(") {
                    let args = self.args();
                    v = match (attr.as_str(), v, args.as_slice()) {
                        ("split", PyVal::Str(s), [PyVal::Str(sep)]) => PyVal::List(
                            s.split(sep.as_str())
                                .map(|x| PyVal::Str(x.to_owned()))
                                .collect(),
                        ),
                        ("compile", PyVal::Unknown(m), [PyVal::Str(p)]) if m == "re" => {
                            PyVal::Regex(p.clone(), false)
                        }
                        ("compile", PyVal::Unknown(m), [PyVal::Str(p), _]) if m == "re" => {
                            PyVal::Regex(p.clone(), true)
                        }
                        _ => PyVal::Unknown(self.text(start, self.pos)),
                    };
                } else {
                    v = match v {
                        // `corsheaders.defaults.default_headers`
                        PyVal::Unknown(path) => match attr.as_str() {
                            "default_headers" | "default_methods" => self.name(&attr),
                            _ => PyVal::Unknown(format!("{path}.{attr}")),
                        },
                        _ => PyVal::Unknown(self.text(start, self.pos)),
                    };
                }
            } else if matches!(self.tok(0), Some(Tok::Op("("))) {
                self.pos += 1;
                let args = self.args();
                v = match (&v, args.as_slice()) {
                    (PyVal::Unknown(f), [x @ PyVal::List(_)])
                        if matches!(
                            f.as_str(),
                            "list" | "tuple" | "set" | "sorted" | "frozenset"
                        ) =>
                    {
                        x.clone()
                    }
                    _ => PyVal::Unknown(self.text(start, self.pos)),
                };
            } else if matches!(self.tok(0), Some(Tok::Op("["))) {
                self.pos += 1;
                self.skip_balanced();
                self.eat("]");
                v = PyVal::Unknown(self.text(start, self.pos));
            } else {
                return v;
            }
        }
    }

    /// Arguments after `(` up to and including `)`; keyword arguments evaluate to Unknown.
    fn args(&mut self) -> Vec<PyVal> {
        let mut out = Vec::new();
        loop {
            if self.eat(")") || self.at_newline() {
                return out;
            }
            let start = self.pos;
            if matches!(self.tok(0), Some(Tok::Name(_))) && self.tok(1) == Some(&Tok::Op("=")) {
                self.pos += 2;
                self.skip_balanced();
                out.push(PyVal::Unknown(self.text(start, self.pos)));
            } else {
                out.push(self.expr());
            }
            if !self.eat(",") {
                self.eat(")");
                return out;
            }
        }
    }

    fn name(&self, n: &str) -> PyVal {
        match n {
            "True" => PyVal::Bool(true),
            "False" => PyVal::Bool(false),
            "None" => PyVal::None,
            "default_headers" => PyVal::List(
                DEFAULT_HEADERS
                    .iter()
                    .map(|h| PyVal::Str((*h).into()))
                    .collect(),
            ),
            "default_methods" => PyVal::List(
                DEFAULT_METHODS
                    .iter()
                    .map(|h| PyVal::Str((*h).into()))
                    .collect(),
            ),
            other => self
                .env
                .get(other)
                .cloned()
                .unwrap_or_else(|| PyVal::Unknown(other.to_owned())),
        }
    }

    fn atom(&mut self) -> PyVal {
        let start = self.pos;
        let Some(t) = self.tok(0).cloned() else {
            return PyVal::Unknown(String::new());
        };
        match t {
            Tok::Str(s) => {
                self.pos += 1;
                let mut s = s;
                // Implicit concatenation: "a" "b".
                while let Some(Tok::Str(more)) = self.tok(0).cloned() {
                    s.push_str(&more);
                    self.pos += 1;
                }
                PyVal::Str(s)
            }
            Tok::Num(n) => {
                self.pos += 1;
                PyVal::Int(n)
            }
            Tok::Name(n) => {
                self.pos += 1;
                self.name(&n)
            }
            Tok::Op("-") => {
                self.pos += 1;
                match self.atom() {
                    PyVal::Int(n) => PyVal::Int(-n),
                    _ => PyVal::Unknown(self.text(start, self.pos)),
                }
            }
            Tok::Op(open @ ("[" | "(" | "{")) => {
                self.pos += 1;
                let close = match open {
                    "[" => "]",
                    "(" => ")",
                    _ => "}",
                };
                let mut items = Vec::new();
                let mut unknown = false;
                let mut saw_comma = false;
                loop {
                    if self.eat(close) {
                        break;
                    }
                    if self.at_newline() {
                        unknown = true;
                        break;
                    }
                    if self.eat("*") {
                        match self.expr() {
                            PyVal::List(v) => items.extend(v),
                            _ => unknown = true,
                        }
                    } else {
                        let v = self.expr();
                        if matches!(self.tok(0), Some(Tok::Op(":")))
                            || matches!(self.tok(0), Some(Tok::Name(n)) if n == "for")
                        {
                            // A dict or a comprehension.
                            self.skip_balanced();
                            unknown = true;
                        }
                        items.push(v);
                    }
                    if self.eat(",") {
                        saw_comma = true;
                    } else if !self.eat(close) {
                        unknown = true;
                        self.skip_balanced();
                        self.eat(close);
                        break;
                    } else {
                        break;
                    }
                }
                if unknown {
                    return PyVal::Unknown(self.text(start, self.pos));
                }
                if open == "(" && !saw_comma && items.len() == 1 {
                    // A parenthesised expression, not a tuple.
                    return items.pop().unwrap_or(PyVal::None);
                }
                PyVal::List(items)
            }
            _ => {
                self.pos += 1;
                self.skip_balanced();
                PyVal::Unknown(self.text(start, self.pos))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn get(src: &str, name: &str) -> PyVal {
        assignments(src)
            .unwrap()
            .into_iter()
            .rev()
            .find(|a| a.name == name)
            .map(|a| a.value)
            .unwrap()
    }

    fn strs(v: &[&str]) -> PyVal {
        PyVal::List(v.iter().map(|s| PyVal::Str((*s).into())).collect())
    }

    #[test]
    fn literals() {
        let src = r#"
CORS_ALLOWED_ORIGINS = [
    "https://a.example",   # comment, with "quotes"
    'https://b.example',
]
CORS_ALLOW_CREDENTIALS = True
CORS_PREFLIGHT_MAX_AGE = 60 * 60
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOWED_ORIGIN_REGEXES = (r"^https://\w+\.example\.com", re.compile(r"^https://x\.test$"))
CORS_EXPOSE_HEADERS = ("x-a" "-b",)
T = ("one")
"#;
        assert_eq!(
            get(src, "CORS_ALLOWED_ORIGINS"),
            strs(&["https://a.example", "https://b.example"])
        );
        assert_eq!(get(src, "CORS_ALLOW_CREDENTIALS"), PyVal::Bool(true));
        assert_eq!(get(src, "CORS_PREFLIGHT_MAX_AGE"), PyVal::Int(3600));
        assert_eq!(get(src, "CORS_URLS_REGEX"), PyVal::Str("^/api/.*$".into()));
        assert_eq!(
            get(src, "CORS_ALLOWED_ORIGIN_REGEXES"),
            PyVal::List(vec![
                PyVal::Str(r"^https://\w+\.example\.com".into()),
                PyVal::Regex(r"^https://x\.test$".into(), false)
            ])
        );
        assert_eq!(get(src, "CORS_EXPOSE_HEADERS"), strs(&["x-a-b"]));
        assert_eq!(get(src, "T"), PyVal::Str("one".into()));
    }

    #[test]
    fn defaults_and_concatenation() {
        let src = r#"
from corsheaders.defaults import default_headers, default_methods
import corsheaders.defaults
CORS_ALLOW_HEADERS = (*default_headers, "x-foo")
CORS_ALLOW_METHODS = list(default_methods) + ["PURGE"]
CORS_EXPOSE_HEADERS = [*corsheaders.defaults.default_headers][:2]
X = ["a"]
X += ["b"]
"#;
        let mut h: Vec<&str> = DEFAULT_HEADERS.to_vec();
        h.push("x-foo");
        assert_eq!(get(src, "CORS_ALLOW_HEADERS"), strs(&h));
        let mut m: Vec<&str> = DEFAULT_METHODS.to_vec();
        m.push("PURGE");
        assert_eq!(get(src, "CORS_ALLOW_METHODS"), strs(&m));
        assert!(matches!(get(src, "CORS_EXPOSE_HEADERS"), PyVal::Unknown(_)));
        assert_eq!(get(src, "X"), strs(&["a", "b"]));
    }

    #[test]
    fn unknown_values_keep_their_source() {
        let src = "CORS_ALLOWED_ORIGINS = env.list(\"CORS_ORIGINS\", default=[])\nCORS_ALLOW_ALL_ORIGINS = DEBUG\nCORS_ALLOW_CREDENTIALS = os.environ.get('X') == '1'\n";
        assert_eq!(
            get(src, "CORS_ALLOWED_ORIGINS"),
            PyVal::Unknown("env.list(\"CORS_ORIGINS\", default=[])".into())
        );
        assert_eq!(
            get(src, "CORS_ALLOW_ALL_ORIGINS"),
            PyVal::Unknown("DEBUG".into())
        );
        assert!(matches!(
            get(src, "CORS_ALLOW_CREDENTIALS"),
            PyVal::Unknown(_)
        ));
        assert!(tokenize("X = 'unterminated\n").is_err());
    }

    #[test]
    fn strings_and_escapes() {
        let src = "A = '\\\\d\\'x'\nB = \"\"\"multi\nline\"\"\"\nC = b'bytes'\nD = r'\\d\\''\n";
        assert_eq!(get(src, "A"), PyVal::Str("\\d'x".into()));
        assert_eq!(get(src, "B"), PyVal::Str("multi\nline".into()));
        assert_eq!(get(src, "C"), PyVal::Str("bytes".into()));
        assert_eq!(get(src, "D"), PyVal::Str("\\d\\'".into()));
    }
}
