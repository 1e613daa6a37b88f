//! A real OpenTofu (v1.12.6, built from its Go module) running providers through every route a
//! user has without a registry: `dev_overrides`, `tofu init -plugin-dir`, and reattaching to a
//! provider started in debug mode; with go-plugin's AutoMTLS and with `TF_DISABLE_PLUGIN_TLS=1`.
//!
//! Needs Go: `tests/opentofu/build.sh`, run once by the first test, builds tofu and the Go
//! `time` provider from the pinned modules in `tests/opentofu/` once per machine (minutes cold,
//! then cached). Without Go the tests fail naming what to install; they never skip. Each command
//! prints its wall time and the provider processes tofu started, and its trace log is checked.
//! `tests/opentofu/README.md` describes the set-up and the cells.

#[path = "opentofu/harness.rs"]
mod harness;

#[path = "opentofu/go_provider.rs"]
mod go_provider;

#[path = "opentofu/protocol.rs"]
mod protocol;

// Waits for #[plugin_interface]'s whole-message methods, which the provider's trait needs.
#[path = "opentofu/greeter.rs"]
mod greeter;
