#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| go_plugin_fuzz::messages(data));
