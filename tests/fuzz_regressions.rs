//! Every input the fuzzers ever crashed kip with (`fuzz/regressions/<target>/`), and a few
//! hand-made hostile ones, replayed through the same entry points `cargo fuzz` drives
//! (`kip::fuzzing`): none may panic again.

use std::path::Path;

#[test]
fn every_regression_input_is_handled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut ran = 0;
    for (name, run) in kip::fuzzing::TARGETS {
        let dir = root.join(name);
        let rd = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (every target keeps a folder)", dir.display()));
        for e in rd.flatten() {
            let bytes = std::fs::read(e.path()).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(outcome.is_ok(), "{name}: {} panics", e.path().display());
            ran += 1;
        }
    }
    assert!(
        ran >= kip::fuzzing::TARGETS.len(),
        "only {ran} inputs replayed"
    );
}

#[test]
fn every_target_has_a_fuzz_binary() {
    let toml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .unwrap();
    for (name, _) in kip::fuzzing::TARGETS {
        assert!(
            toml.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}
