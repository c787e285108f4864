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

/// `data` with its plan's chunking replaced by `chunk` for every chunk:
/// 0 feeds the peer's bytes one at a time, 255 all at once (in 65,026-byte
/// chunks), as well as the seed's own.
fn rechunked(data: &[u8], chunk: u8) -> Vec<u8> {
    let mut out = data.to_vec();
    if out.len() > 4 {
        out[1..5].copy_from_slice(&[chunk; 4]);
    }
    out
}

/// Every seed in three coalescings: its own, byte by byte, all at once.
/// The driver's checks include liveness: every call produces output,
/// waits with room in the receive view, or fails with its alert queued.
fn replay(target: &str, run: fn(&[u8]) -> Option<tlspair_fuzz::engine::Outcome>) {
    for (name, data) in seeds(target) {
        for (how, input) in [
            ("as recorded", data.clone()),
            ("byte by byte", rechunked(&data, 0)),
            ("all at once", rechunked(&data, 255)),
        ] {
            eprintln!("{target}/{name} {how}");
            let _ = run(&input);
        }
    }
}

#[test]
fn server_seeds() {
    replay("server", tlspair_fuzz::engine::run_server);
}

#[test]
fn client_seeds() {
    replay("client", tlspair_fuzz::engine::run_client);
}

#[test]
fn hybrid_seeds() {
    replay("server_hybrid", tlspair_fuzz::engine::run_server_hybrid);
    replay("client_hybrid", tlspair_fuzz::engine::run_client_hybrid);
}

#[test]
fn tls12_seeds() {
    replay("server_tls12", tlspair_fuzz::engine::run_server_tls12);
    replay("client_tls12", tlspair_fuzz::engine::run_client_tls12);
}

/// The liveness property over whole fuzz corpora, not only the seeds:
/// with `FUZZ_CORPUS` naming a corpus root (such as `corpus`, which the
/// smoke run fills), every input of its `server` and `client` targets is
/// replayed in the three coalescings. `.ci/run` does this after the fuzz
/// smoke run, over what the fuzzers found in it.
#[test]
fn corpus_inputs_in_every_coalescing() {
    let Some(root) = std::env::var_os("FUZZ_CORPUS") else {
        eprintln!("FUZZ_CORPUS not set: nothing to replay");
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(root);
    type Run = fn(&[u8]) -> Option<tlspair_fuzz::engine::Outcome>;
    let runs: [(&str, Run); 6] = [
        ("server", tlspair_fuzz::engine::run_server),
        ("client", tlspair_fuzz::engine::run_client),
        ("server_hybrid", tlspair_fuzz::engine::run_server_hybrid),
        ("client_hybrid", tlspair_fuzz::engine::run_client_hybrid),
        ("server_tls12", tlspair_fuzz::engine::run_server_tls12),
        ("client_tls12", tlspair_fuzz::engine::run_client_tls12),
    ];
    for (target, run) in runs {
        let dir = root.join(target);
        let Ok(entries) = fs::read_dir(&dir) else {
            eprintln!("{}: no corpus", dir.display());
            continue;
        };
        let mut n = 0;
        for entry in entries {
            let data = fs::read(entry.unwrap().path()).unwrap();
            for input in [data.clone(), rechunked(&data, 0), rechunked(&data, 255)] {
                let _ = run(&input);
            }
            n += 1;
        }
        eprintln!("{target}: {n} corpus inputs, three coalescings each");
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

/// The session harness with post-handshake authentication: a client with
/// a certificate, requests made between writes, reads and transfers in
/// both directions and small outgoing views (the client's answer needs a
/// larger one, as an embedder would lend), every request answered.
#[test]
fn session_with_post_handshake_auth() {
    use tlspair_fuzz::fixtures::Flags;
    use tlspair_fuzz::session::{Op, Session, SideConfig};
    for (send, flags) in [(40_000, 0), (64, 0), (3000, Flags::ALPN)] {
        let side = SideConfig {
            recv_limit: 16_384,
            fragment: 700,
            padding: 0,
            send,
        };
        let mut ops = Vec::new();
        for i in 0..12u16 {
            ops.push(Op::RequestClientAuth);
            ops.push(Op::Write {
                client: i % 2 == 0,
                len: 100 * i,
                partial: i % 3 == 0,
            });
            ops.push(Op::Transfer { from_client: false });
            ops.push(Op::Read {
                client: true,
                in_place: i % 2 == 1,
                dst: 500,
            });
            ops.push(Op::Transfer { from_client: true });
            ops.push(Op::Read {
                client: false,
                in_place: false,
                dst: 900,
            });
        }
        tlspair_fuzz::session::run(&Session {
            flags: Flags::CLIENT_AUTH | flags,
            suite: 0,
            sides: [side, side],
            chunks: vec![300, 40, 2000],
            ops,
        });
    }
}
