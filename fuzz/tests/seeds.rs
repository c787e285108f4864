//! Every committed seed of the whole-engine targets, replayed as a plain
//! test: a panic anywhere in the engine (or a broken contract check, which
//! panics) fails it, as it would abort the fuzzer. The regression seeds of
//! past findings are among them. (The `deframe` target keeps its logic in
//! its own file; `fuzz/smoke.sh` replays its seeds first thing.)

use std::fs;
use std::path::PathBuf;

use arbitrary::{Arbitrary, Unstructured};

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut out: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&path).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds for {target}");
    out
}

#[test]
fn server_seeds() {
    for (name, data) in seeds("server") {
        eprintln!("server/{name}");
        let _ = tlspair_fuzz::engine::run_server(&data);
    }
}

#[test]
fn client_seeds() {
    for (name, data) in seeds("client") {
        eprintln!("client/{name}");
        let _ = tlspair_fuzz::engine::run_client(&data);
    }
}

#[test]
fn session_seeds() {
    for (name, data) in seeds("session") {
        eprintln!("session/{name}");
        // As libFuzzer's arbitrary glue does: take the whole input.
        if let Ok(session) =
            tlspair_fuzz::session::Session::arbitrary_take_rest(Unstructured::new(&data))
        {
            tlspair_fuzz::session::run(&session);
        }
    }
}

#[test]
fn parser_seeds() {
    for parser in tlspair_fuzz::messages::PARSERS {
        for (name, data) in seeds(parser.name()) {
            eprintln!("{}/{name}", parser.name());
            parser.run(&data);
        }
    }
}

/// Every parser has its own cargo-fuzz target, which runs that parser,
/// and a [[bin]] entry, so `cargo fuzz list` (and the smoke run) has it.
#[test]
fn every_parser_has_its_target() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for parser in tlspair_fuzz::messages::PARSERS {
        let name = parser.name();
        let path = root.join("fuzz_targets").join(format!("{name}.rs"));
        let source =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            source.contains(&format!("Parser::{parser:?}.run(data)")),
            "{name}.rs does not run Parser::{parser:?}"
        );
        assert!(
            manifest.contains(&format!(
                "name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\""
            )),
            "no [[bin]] for {name}"
        );
    }
}
