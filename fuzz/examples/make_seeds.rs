//! Writes the seed corpus of the `deframe` target to fuzz/seeds/deframe/
//! (or the directory given as the first argument):
//!
//! ```text
//! cd fuzz && cargo run --example make_seeds
//! ```
//!
//! Raw seeds carry records a client `Connection` sealed with the fixed
//! secrets, so the server opens them; sealed seeds carry record
//! descriptions that reach content types and alerts. Each starts from a
//! different plan so chunking, read sizes and a full send buffer are all
//! covered from the first run.

use std::path::PathBuf;

use tlspair::{Buffers, Connection, RecordConfig, Status};
use tlspair_fuzz::{description, Plan, RAW};

const APPLICATION_DATA: u8 = 23;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const KEY_UPDATE: u8 = 24;
const CLIENT_HELLO: u8 = 1;

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds/deframe"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;

    let full = Plan {
        send_extra: 255,
        recv_limit: u16::MAX,
        ..Plan::default()
    };

    // Three writes and a close_notify, fed 100 bytes at a time.
    let plan = Plan {
        flags: 0,
        chunk: 99,
        dst: 8,
        ..full
    };
    let records = sealed_by_client(&plan, &[b"hello", &[0x5a; 300], b"!"], true);
    write(&dir, "raw-aes128-close", plan, &records)?;

    // A good record, then the same record again: its sequence number is
    // stale, so it fails as bad_record_mac. The pre-write leaves 10 bytes
    // free, too few for the alert, which waits for a drain.
    let plan = Plan {
        flags: 1 | Plan::IN_PLACE_FIRST,
        chunk: 6,
        send_extra: 60,
        prewrite: 50,
        dst: 2,
        ..full
    };
    let mut records = sealed_by_client(&plan, &[&[0x33; 40]], false);
    records.extend_from_within(..);
    write(&dir, "raw-aes256-replay", plan, &records)?;

    // Data with padding, an empty record, user_canceled, close_notify, and
    // data after it that must be ignored; fed a byte at a time.
    let plan = Plan {
        flags: 2 | Plan::SEALED | Plan::IN_PLACE_FIRST,
        chunk: 0,
        dst: 3,
        recv_limit: 512,
        ..full
    };
    let body = [
        description(APPLICATION_DATA, 10, b"abc"),
        description(APPLICATION_DATA, 0, b""),
        description(ALERT, 0, &[1, 90]),
        description(APPLICATION_DATA, 0, &[0x77; 200]),
        description(ALERT, 0, &[1, 0]),
        description(APPLICATION_DATA, 0, b"ignored"),
    ]
    .concat();
    write(&dir, "sealed-chacha-close", plan, &body)?;

    // Data, then a ClientHello after the handshake, which is refused with
    // unexpected_message before the stray header fragment behind it counts.
    let plan = Plan {
        flags: Plan::SEALED,
        chunk: 30,
        dst: 1,
        ..full
    };
    let body = [
        description(APPLICATION_DATA, 3, &[0x42; 64]),
        description(HANDSHAKE, 0, &[CLIENT_HELLO, 0, 0, 1, 0]),
        description(RAW, 0, &[23, 3, 3]),
    ]
    .concat();
    write(&dir, "sealed-aes128-handshake", plan, &body)?;

    // Records that deliver nothing: 32 in a row are accepted, data resets
    // the count, and the 33rd of the next run is refused.
    let plan = Plan {
        flags: 1 | Plan::SEALED,
        chunk: 1000,
        dst: 16,
        ..full
    };
    let empty = description(APPLICATION_DATA, 0, b"");
    let user_canceled = description(ALERT, 0, &[1, 90]);
    let mut body = empty.repeat(31);
    body.extend_from_slice(&user_canceled);
    body.extend_from_slice(&description(APPLICATION_DATA, 0, b"x"));
    body.extend_from_slice(&user_canceled.repeat(3));
    body.extend_from_slice(&empty.repeat(30));
    write(&dir, "sealed-aes256-empty-flood", plan, &body)?;

    // KeyUpdates: one requesting a reply, which the server seals into its
    // send buffer, then one split across two records; data between them
    // opens only under the right key generation.
    let plan = Plan {
        flags: Plan::SEALED,
        chunk: 40,
        dst: 4,
        ..full
    };
    let body = [
        description(APPLICATION_DATA, 0, b"before"),
        description(HANDSHAKE, 0, &[KEY_UPDATE, 0, 0, 1, 1]),
        description(APPLICATION_DATA, 5, b"between"),
        description(HANDSHAKE, 0, &[KEY_UPDATE, 0, 0]),
        description(HANDSHAKE, 0, &[1, 0]),
        description(APPLICATION_DATA, 0, b"after"),
        description(ALERT, 0, &[1, 0]),
    ]
    .concat();
    write(&dir, "sealed-aes128-key-update", plan, &body)?;
    Ok(())
}

/// The records the client connection of a raw `plan` seals for `writes`,
/// with its close_notify after them if `close`.
fn sealed_by_client(plan: &Plan, writes: &[&[u8]], close: bool) -> Vec<u8> {
    let mut client = Connection::from_traffic_secrets(
        plan.suite(),
        plan.client_secret(),
        plan.server_secret(),
        RecordConfig::default(),
    )
    .expect("valid keys and config");
    let mut bufs = Buffers::new(vec![0; 64], vec![0; 1 << 16]);
    for data in writes {
        let status = client.write(&mut bufs, data);
        assert_eq!(status, Ok(Status::Done(data.len())));
    }
    if close {
        assert!(client.shutdown(&mut bufs).is_ok());
    }
    bufs.send.pending().to_vec()
}

fn write(dir: &std::path::Path, name: &str, plan: Plan, body: &[u8]) -> std::io::Result<()> {
    let input = [&plan.to_bytes()[..], body].concat();
    std::fs::write(dir.join(name), &input)?;
    println!("{name}: {} bytes", input.len());
    Ok(())
}
