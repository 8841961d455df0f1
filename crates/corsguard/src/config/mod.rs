//! Loading: text (YAML/TOML) and environment variables → raw config → validation.

pub(crate) mod env;
pub(crate) mod gateway;
pub(crate) mod raw;
pub(crate) mod schema;
pub(crate) mod tree;

use std::io::Read;
use std::path::Path;

use crate::Code;
use crate::diagnostic::ConfigErrors;
use crate::policy::{Policy, load_error};

/// A config file format.
///
/// ```
/// use corsguard::Format;
/// assert_eq!(Format::from_path("a/corsguard.toml".as_ref()), Some(Format::Toml));
/// assert_eq!(Format::from_path("x.yml".as_ref()), Some(Format::Yaml));
/// assert_eq!(Format::from_path("x.json".as_ref()), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// YAML 1.2.
    Yaml,
    /// TOML 1.0/1.1.
    Toml,
}

impl Format {
    /// The format implied by a file extension (`.yaml`, `.yml`, `.toml`).
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }
}

pub(crate) fn load_text(
    text: &str,
    name: &str,
    toml: bool,
    env: Option<&[(String, String)]>,
) -> Result<Policy, ConfigErrors> {
    let mut read = schema::read_text(text, name, toml);
    if let Some(vars) = env {
        if text.trim().is_empty() {
            read.config.source = Some(crate::diagnostic::SourceKind::Env {
                var: "CORS_ALLOWED_ORIGINS".into(),
            });
        }
        env::apply(&mut read.config, vars, &mut read.diags);
    }
    crate::validate::compile(read.config, read.diags, Some(read.text))
}

pub(crate) fn load_file(
    path: &Path,
    env: Option<&[(String, String)]>,
) -> Result<Policy, ConfigErrors> {
    let name = path.display().to_string();
    let Some(format) = Format::from_path(path) else {
        return Err(load_error(
            &name,
            Code::UnknownExtension,
            format!("cannot tell the format of `{name}` from its extension"),
            Some("name the file *.yaml, *.yml or *.toml".into()),
        ));
    };
    let text = read_config_file(path, DEFAULT_MAX_CONFIG_BYTES)?;
    load_text(&text, &name, format == Format::Toml, env)
}

/// The largest config file [`Policy::from_file`] and its variants read: 16 MiB.
///
/// A CORS policy is a few kilobytes; even 100,000 origins fit in 4 MiB. The cap keeps a
/// mistaken or hostile file (a log, an image, `/dev/zero`) from taking the memory of a
/// gateway that reloads it. [`read_config_file`] takes another limit.
///
/// ```
/// assert_eq!(corsguard::DEFAULT_MAX_CONFIG_BYTES, 16 * 1024 * 1024);
/// ```
pub const DEFAULT_MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// Reads the text of a config file, reading at most `max_bytes + 1` bytes.
///
/// Refuses, with a diagnostic naming the file, anything that is not a regular file (a
/// directory, a device such as `/dev/zero`, a FIFO or a socket, also behind a symlink), a file
/// longer than `max_bytes` (code `file-too-large`) and text that is not UTF-8 (code `io`).
/// [`Policy::from_file`] reads with [`DEFAULT_MAX_CONFIG_BYTES`]; to load with another cap,
/// read with this and pass the text to [`Policy::load`] (`.text(..)`).
///
/// ```
/// use corsguard::{Format, Policy, read_config_file};
/// let dir = std::env::temp_dir().join(format!("corsguard-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("cors.yaml");
/// std::fs::write(&file, "defaults: {allow_origins: ['https://a.example']}\n").unwrap();
///
/// let text = read_config_file(&file, 1024)?;
/// let policy = Policy::load().text(&text, "cors.yaml", Format::Yaml).build()?;
/// assert_eq!(policy.defaults_summary().allow_origins, ["https://a.example"]);
///
/// let err = read_config_file(&file, 16).unwrap_err();
/// assert_eq!(err.diagnostics()[0].code, "file-too-large");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
pub fn read_config_file(path: &Path, max_bytes: u64) -> Result<String, ConfigErrors> {
    let name = path.display().to_string();
    let io_error =
        |e: std::io::Error| load_error(&name, Code::Io, format!("cannot read `{name}`: {e}"), None);
    // Look before opening: opening a FIFO blocks until a writer appears, and reading a device
    // may never end. `metadata` follows symlinks, so a link to `/dev/zero` is refused too.
    let meta = std::fs::metadata(path).map_err(io_error)?;
    let not_a_file = || {
        load_error(
            &name,
            Code::NotAFile,
            format!("`{name}` is not a regular file ({})", file_type(&meta)),
            Some("point to a policy file (*.yaml, *.yml or *.toml)".into()),
        )
    };
    if !meta.is_file() {
        return Err(not_a_file());
    }
    let too_large = || {
        load_error(
            &name,
            Code::FileTooLarge,
            format!(
                "`{name}` is larger than {}, the limit for a config file",
                human_bytes(max_bytes)
            ),
            Some("a CORS policy is a few kilobytes: is this the right file?".into()),
        )
    };
    if meta.len() > max_bytes {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(io_error)?;
    // The file may have been replaced or may grow after the look above: the read itself is
    // bounded too, one byte past the cap to tell "exactly the cap" from "more".
    if !file.metadata().map_err(io_error)?.is_file() {
        return Err(not_a_file());
    }
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|_| {
        io_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// What a non-regular file is, for the `not-a-file` message.
fn file_type(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// `16 MiB`, `4 KiB`, `4095 bytes`: sizes in limit messages.
pub(crate) fn human_bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    match n {
        n if n >= MIB && n % MIB == 0 => format!("{} MiB", n / MIB),
        n if n >= KIB && n % KIB == 0 => format!("{} KiB", n / KIB),
        // Not rounded: "larger than 4.0 KiB" would misstate a cap of 4095 bytes.
        n => format!("{n} bytes"),
    }
}
