//! In-memory helpers for the tests of hclog lines, here and on the host side.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tracing_subscriber::prelude::*;

use super::HclogLayer;

/// An in-memory writer shared between the code under test and the assertions.
#[derive(Clone, Default)]
pub(crate) struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub(crate) fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.take()).unwrap()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with an [`HclogLayer`] writing into memory and returns the lines it wrote.
pub(crate) fn hclog_lines(f: impl FnOnce()) -> Vec<String> {
    let buf = SharedBuf::default();
    let writer = buf.clone();
    let layer = HclogLayer::with_writer(move || writer.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
    let text = buf.text();
    assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
    text.lines().map(str::to_string).collect()
}

pub(crate) fn hclog_objects(f: impl FnOnce()) -> Vec<serde_json::Map<String, Value>> {
    hclog_lines(f)
        .iter()
        .map(|line| match serde_json::from_str(line) {
            Ok(Value::Object(map)) => map,
            other => panic!("not a JSON object: {line}: {other:?}"),
        })
        .collect()
}
