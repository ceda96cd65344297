#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kip::fuzzing::pyvenv_cfg(data));
