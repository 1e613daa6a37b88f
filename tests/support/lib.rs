//! Shared helpers for the process-level tests.
