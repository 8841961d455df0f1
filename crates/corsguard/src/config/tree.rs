//! A small spanned document tree shared by the YAML and TOML front ends.
//!
//! Parsing into this tree (instead of straight into serde structs) lets the schema walker
//! report *every* problem with its exact byte span, not just the first one serde meets.

use std::collections::HashMap;
use std::ops::Range;

use granit_parser::{Event, Parser, ScalarStyle};

/// A node of a parsed config document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub span: Range<usize>,
}

/// What a [`Node`] holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Map(Vec<(Key, Node)>),
    Seq(Vec<Node>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

/// A mapping key with its span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub name: String,
    pub span: Range<usize>,
}

impl Node {
    /// A short name of the node's type for "expected X, found Y" messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Map(_) => "a mapping",
            NodeKind::Seq(_) => "a list",
            NodeKind::Str(_) => "a string",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Null => "null",
        }
    }
}

/// A syntax error in the source text.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub message: String,
    pub span: Range<usize>,
}

/// Maximum nesting depth accepted (a CORS config is at most 5 levels deep).
const MAX_DEPTH: usize = 64;
/// Maximum number of nodes (guards against alias bombs and absurd inputs).
const MAX_NODES: usize = 200_000;
/// What a copied node is charged on top of its text: about its size in memory.
const NODE_COST: usize = std::mem::size_of::<Node>();
/// The copy budget is this many times the document's length …
const COPY_FACTOR: usize = 10;
/// … but never less than this (16 MiB), so that small files may use aliases freely.
const MIN_COPY_BYTES: usize = 16 * 1024 * 1024;

/// What copying a node costs: its nodes, and its bytes (scalars' and keys' text plus
/// [`NODE_COST`] per node). Counting nodes alone let a 1 MiB string referenced 1,000 times
/// through aliases pass as 1,000 nodes and take a gigabyte.
#[derive(Debug, Clone, Copy, Default)]
struct Weight {
    nodes: usize,
    bytes: usize,
}

impl Weight {
    fn of(n: &Node) -> Weight {
        let mut w = Weight {
            nodes: 1,
            bytes: NODE_COST,
        };
        match &n.kind {
            NodeKind::Map(entries) => {
                for (k, v) in entries {
                    let v = Weight::of(v);
                    w.nodes += v.nodes;
                    w.bytes += v.bytes + k.name.len() + std::mem::size_of::<Key>();
                }
            }
            NodeKind::Seq(items) => {
                for v in items.iter().map(Weight::of) {
                    w.nodes += v.nodes;
                    w.bytes += v.bytes;
                }
            }
            NodeKind::Str(s) => w.bytes += s.len(),
            NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) | NodeKind::Null => {}
        }
        w
    }
}

/// An anchored node, kept to be copied where an alias names it.
struct Anchored {
    node: Node,
    weight: Weight,
}

/// Parses YAML text (one document) into a tree.
pub(crate) fn parse_yaml(text: &str) -> Result<Node, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = YamlBuilder {
        stack: Vec::new(),
        root: None,
        anchors: HashMap::new(),
        nodes: 0,
        copies: CopyBudget {
            used: 0,
            max: text.len().saturating_mul(COPY_FACTOR).max(MIN_COPY_BYTES),
        },
    };
    while let Some(item) = parser.next() {
        let (event, span) = item.map_err(|e| SyntaxError {
            message: e.info().to_string(),
            span: char_at(text, e.marker()),
        })?;
        let range = bytes(&span);
        match event {
            Event::StreamEnd => break,
            Event::DocumentEnd
                // Only the first document is read; a second one is an error.
                if builder.root.is_some() => {
                    if let Some(Ok((Event::DocumentStart(..), s))) = parser.next() {
                        return Err(SyntaxError {
                            message: "multiple YAML documents in one config file".into(),
                            span: bytes(&s),
                        });
                    }
                    break;
                }
            Event::Scalar(value, style, anchor, tag) => {
                let kind = if tag.is_some() || style != ScalarStyle::Plain {
                    NodeKind::Str(value.into_owned())
                } else {
                    resolve_plain(&value)
                };
                builder.push(Node { kind, span: range }, anchor)?;
            }
            Event::SequenceStart(_, anchor, _) => {
                builder.open(Frame::Seq(Vec::new()), range, anchor)?
            }
            Event::MappingStart(_, anchor, _) => {
                builder.open(Frame::Map(Vec::new(), None, KeyIndex::new()), range, anchor)?
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(range.end)?,
            Event::Alias(id) => {
                let Some(anchored) = builder.anchors.get(&id) else {
                    return Err(SyntaxError {
                        message: "unknown alias".into(),
                        span: range,
                    });
                };
                // Charged before the copy is made, so a bomb is refused without the memory.
                builder.copies.charge(anchored.weight.bytes, &range)?;
                let kind = anchored.node.kind.clone();
                builder.nodes += anchored.weight.nodes;
                builder.push(
                    Node {
                        kind,
                        span: range,
                    },
                    0,
                )?;
            }
            _ => {}
        }
    }
    Ok(builder.root.unwrap_or(Node {
        kind: NodeKind::Null,
        span: 0..0,
    }))
}

/// The byte range of a parser span. `Marker::index` counts characters: used as byte offsets,
/// spans after any non-ASCII text pointed before the value (and line, column and underline
/// with them).
fn bytes(span: &granit_parser::Span) -> Range<usize> {
    span.byte_range()
        .unwrap_or_else(|| span.start.index()..span.end.index())
}

/// The bytes of the character at `marker` (empty at the end of the text).
fn char_at(text: &str, marker: &granit_parser::Marker) -> Range<usize> {
    let start = marker.byte_offset().unwrap_or_else(|| marker.index());
    let len = text
        .get(start..)
        .and_then(|rest| rest.chars().next())
        .map_or(0, char::len_utf8);
    start..start + len
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(s: &str) -> NodeKind {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = s.parse::<i64>()
    {
        return NodeKind::Int(i);
    }
    if let Some(hex) = s.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return NodeKind::Int(i);
    }
    if s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && let Ok(f) = s.parse::<f64>()
    {
        return NodeKind::Float(f);
    }
    NodeKind::Str(s.to_owned())
}

enum Frame {
    Seq(Vec<Node>),
    /// Entries so far, and a pending key.
    Map(Vec<(Key, Node)>, Option<Key>, KeyIndex),
}

/// Where each key of a mapping starts, by name: the duplicate check is a lookup, not a scan
/// of the keys so far (100,000 keys took 18 s).
type KeyIndex = HashMap<String, usize>;

struct YamlBuilder {
    stack: Vec<(Frame, usize, usize)>, // frame, start offset, anchor id
    root: Option<Node>,
    /// By anchor id; a later anchor of the same name has a new id.
    anchors: HashMap<usize, Anchored>,
    nodes: usize,
    copies: CopyBudget,
}

/// Bytes copied for anchors and aliases (see [`Weight`]), and the most allowed.
struct CopyBudget {
    used: usize,
    max: usize,
}

impl CopyBudget {
    /// Charges a copy of `bytes`, refusing the document past the budget.
    fn charge(&mut self, bytes: usize, span: &Range<usize>) -> Result<(), SyntaxError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.max {
            return Err(SyntaxError {
                message: format!(
                    "anchors and aliases expand to more than {} (alias bomb?)",
                    super::human_bytes(self.max as u64)
                ),
                span: span.clone(),
            });
        }
        Ok(())
    }
}

impl YamlBuilder {
    fn open(&mut self, frame: Frame, span: Range<usize>, anchor: usize) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
                span,
            });
        }
        self.stack.push((frame, span.start, anchor));
        Ok(())
    }

    fn close(&mut self, end: usize) -> Result<(), SyntaxError> {
        let Some((frame, start, anchor)) = self.stack.pop() else {
            return Ok(());
        };
        let kind = match frame {
            Frame::Seq(items) => NodeKind::Seq(items),
            Frame::Map(entries, _, _) => NodeKind::Map(entries),
        };
        self.push(
            Node {
                kind,
                span: start..end.max(start),
            },
            anchor,
        )
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(SyntaxError {
                message: format!("document has more than {MAX_NODES} nodes (alias bomb?)"),
                span: node.span,
            });
        }
        if anchor != 0 {
            // The anchored copy is charged too: nested anchors would each copy the same text.
            let weight = Weight::of(&node);
            self.copies.charge(weight.bytes, &node.span)?;
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    weight,
                },
            );
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some((Frame::Seq(items), _, _)) => items.push(node),
            Some((Frame::Map(entries, pending, starts), _, _)) => match pending.take() {
                None => {
                    let name = match &node.kind {
                        NodeKind::Str(s) => s.clone(),
                        NodeKind::Int(i) => i.to_string(),
                        NodeKind::Bool(b) => b.to_string(),
                        NodeKind::Null => "null".into(),
                        NodeKind::Float(f) => f.to_string(),
                        NodeKind::Map(_) | NodeKind::Seq(_) => {
                            return Err(SyntaxError {
                                message: "complex mapping keys are not supported".into(),
                                span: node.span,
                            });
                        }
                    };
                    if let Some(first) = starts.get(&name) {
                        return Err(SyntaxError {
                            message: format!(
                                "duplicate key `{name}` (first defined at byte {first})"
                            ),
                            span: node.span,
                        });
                    }
                    starts.insert(name.clone(), node.span.start);
                    *pending = Some(Key {
                        name,
                        span: node.span,
                    });
                }
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

/// Parses TOML text into a tree.
pub(crate) fn parse_toml(text: &str) -> Result<Node, SyntaxError> {
    let doc = toml::de::DeTable::parse(text).map_err(|e| SyntaxError {
        message: e.message().to_string(),
        span: e.span().unwrap_or(0..0),
    })?;
    let span = doc.span();
    Ok(Node {
        kind: toml_table(doc.get_ref()),
        span,
    })
}

fn toml_table(t: &toml::de::DeTable<'_>) -> NodeKind {
    NodeKind::Map(
        t.iter()
            .map(|(k, v)| {
                (
                    Key {
                        name: k.get_ref().to_string(),
                        span: k.span(),
                    },
                    toml_value(v),
                )
            })
            .collect(),
    )
}

fn toml_value(v: &toml::Spanned<toml::de::DeValue<'_>>) -> Node {
    use toml::de::DeValue;
    let kind = match v.get_ref() {
        DeValue::String(s) => NodeKind::Str(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
            .map(NodeKind::Int)
            .unwrap_or_else(|_| NodeKind::Str(i.as_str().to_string())),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse()
            .map(NodeKind::Float)
            .unwrap_or_else(|_| NodeKind::Str(f.as_str().to_string())),
        DeValue::Boolean(b) => NodeKind::Bool(*b),
        DeValue::Datetime(d) => NodeKind::Str(d.to_string()),
        DeValue::Array(a) => NodeKind::Seq(a.iter().map(toml_value).collect()),
        DeValue::Table(t) => toml_table(t),
    };
    Node {
        kind,
        span: v.span(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_spans_point_at_values() {
        let text = "defaults:\n  allow_origins: ['https://a.example', x]\n  max_age: 10\n";
        let root = parse_yaml(text).unwrap();
        let NodeKind::Map(top) = root.kind else {
            panic!()
        };
        let NodeKind::Map(d) = &top[0].1.kind else {
            panic!()
        };
        assert_eq!(d[0].0.name, "allow_origins");
        let NodeKind::Seq(items) = &d[0].1.kind else {
            panic!()
        };
        assert_eq!(&text[items[0].span.clone()], "'https://a.example'");
        assert_eq!(items[1].kind, NodeKind::Str("x".into()));
        assert_eq!(d[1].1.kind, NodeKind::Int(10));
    }

    #[test]
    fn yaml_duplicate_keys_are_errors() {
        let e = parse_yaml("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.contains("duplicate key"), "{}", e.message);
    }

    #[test]
    fn yaml_quoted_scalars_stay_strings() {
        let root = parse_yaml("a: 'true'\nb: true\nc: '10'\n").unwrap();
        let NodeKind::Map(m) = root.kind else {
            panic!()
        };
        assert_eq!(m[0].1.kind, NodeKind::Str("true".into()));
        assert_eq!(m[1].1.kind, NodeKind::Bool(true));
        assert_eq!(m[2].1.kind, NodeKind::Str("10".into()));
    }

    #[test]
    fn yaml_alias_bomb_is_bounded() {
        let mut s = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            s.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(parse_yaml(&s).is_err());
    }

    #[test]
    fn toml_spans_point_at_values() {
        let text = "[defaults]\nallow_origins = [\"https://a.example\"]\nmax_age = 10\n";
        let root = parse_toml(text).unwrap();
        let NodeKind::Map(top) = root.kind else {
            panic!()
        };
        let NodeKind::Map(d) = &top[0].1.kind else {
            panic!()
        };
        let NodeKind::Seq(items) = &d[0].1.kind else {
            panic!()
        };
        assert_eq!(&text[items[0].span.clone()], "\"https://a.example\"");
        assert_eq!(d[1].1.kind, NodeKind::Int(10));
    }
}
