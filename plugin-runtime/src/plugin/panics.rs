//! Panics reach the host's log: a panic in a plugin is otherwise visible only on its stdio stream,
//! which most hosts discard.

use std::io::Write;

/// Writes every panic to the log channel as a `panic: …` line, which go-plugin's host (and ours)
/// logs at ERROR with everything after it. Without this, the panic message would only travel
/// through `GRPCStdio`, which most hosts discard. The previous hook still runs.
pub(super) fn report_panics_on(log: std::fs::File) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("Box<dyn Any>");
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let text = format!(
            "panic: {message}\n\tthread '{}' panicked at {location}\n",
            thread.name().unwrap_or("<unnamed>")
        );
        let _ = (&log).write_all(text.as_bytes());
        previous(info);
    }));
}
