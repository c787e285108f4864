//! Recorded sessions with an independent peer, replayed byte for byte.
//!
//! A recording is what one of our connections and a peer said to each
//! other, with our side driven by [`drive`] and its randomness and clock
//! fixed ([`FIXED_RANDOM_BYTE`], [`fixed_now`]). Replaying feeds the peer's
//! bytes to a new connection made the same way, in the same chunks, and
//! requires every byte it sends to be the recorded one: the peer's
//! Finished and records only verify if our key exchange reproduced the
//! peer's secrets, so a replay checks our side against the peer's without
//! the peer present.
//!
//! The file format, one event a line (`#` lines are provenance):
//!
//! ```text
//! peer <hex>      bytes the peer sent, fed to us as one chunk
//! ours <hex>      everything we sent in answer (the output of `drive`)
//! read <hex>      plaintext we read in that answer
//! write <hex>     plaintext we wrote with `write`, then drove
//! ```

use tlspair::{Buffers, Connection, Status};

/// Every byte of randomness our side uses in a recording
/// (`ring::test::rand::FixedByteRandom`).
pub const FIXED_RANDOM_BYTE: u8 = 0x42;

/// The clock of a recording: 2026-12-01T00:00:00Z, inside the test
/// credentials' validity.
pub fn fixed_now() -> rustls_pki_types::UnixTime {
    rustls_pki_types::UnixTime::since_unix_epoch(core::time::Duration::from_secs(1_796_083_200))
}

/// One event of a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Peer(Vec<u8>),
    Ours(Vec<u8>),
    Read(Vec<u8>),
    Write(Vec<u8>),
}

/// Runs our side until it waits for the peer: handshake steps, then reads
/// once established. Returns what it sent and the plaintext it read.
pub fn drive<S, R>(conn: &mut Connection<'_>, bufs: &mut Buffers<S, R>) -> (Vec<u8>, Vec<u8>)
where
    S: AsMut<[u8]> + AsRef<[u8]>,
    R: AsMut<[u8]> + AsRef<[u8]>,
{
    let mut read = Vec::new();
    for _ in 0..64 {
        let status = if conn.is_handshaking() {
            conn.handshake(bufs).expect("handshake").map(|()| 0)
        } else {
            let mut got = [0u8; 4096];
            let status = conn.read(bufs, &mut got).expect("read");
            if let Status::Done(n) = status {
                read.extend_from_slice(&got[..n]);
            }
            status
        };
        match status {
            Status::WantRead | Status::Closed => break,
            Status::Done(_) | Status::Established => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let sent = bufs.send.pending().to_vec();
    bufs.send.consume(sent.len());
    (sent, read)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(
        s.as_bytes().chunks_exact(2).remainder().is_empty(),
        "odd hex"
    );
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Writes a recording: the provenance lines, then the events.
pub fn format(provenance: &[&str], events: &[Event]) -> String {
    let mut out = String::new();
    for line in provenance {
        out.push_str(&format!("# {line}\n"));
    }
    for e in events {
        let (tag, bytes) = match e {
            Event::Peer(b) => ("peer", b),
            Event::Ours(b) => ("ours", b),
            Event::Read(b) => ("read", b),
            Event::Write(b) => ("write", b),
        };
        out.push_str(&format!("{tag} {}\n", hex(bytes)));
    }
    out
}

/// Reads a recording's events.
pub fn parse(text: &str) -> Vec<Event> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (tag, value) = l.split_once(' ').expect("event line");
            let bytes = unhex(value);
            match tag {
                "peer" => Event::Peer(bytes),
                "ours" => Event::Ours(bytes),
                "read" => Event::Read(bytes),
                "write" => Event::Write(bytes),
                other => panic!("unknown event {other}"),
            }
        })
        .collect()
}

/// The events our side produces after `input` (nothing for an empty
/// answer).
pub fn answer(sent: Vec<u8>, read: Vec<u8>) -> Vec<Event> {
    let mut events = Vec::new();
    if !sent.is_empty() {
        events.push(Event::Ours(sent));
    }
    if !read.is_empty() {
        events.push(Event::Read(read));
    }
    events
}

/// Where two events first differ, shortly.
fn difference(got: &Event, want: &Event) -> String {
    let bytes = |e: &Event| match e {
        Event::Peer(b) | Event::Ours(b) | Event::Read(b) | Event::Write(b) => b.clone(),
    };
    let (a, b) = (bytes(got), bytes(want));
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let near = |v: &[u8]| hex(&v[at.saturating_sub(4).min(v.len())..(at + 12).min(v.len())]);
    let kind = if core::mem::discriminant(got) == core::mem::discriminant(want) {
        "same kind"
    } else {
        "another kind"
    };
    format!(
        "we said {} bytes, recorded {} ({kind}): first difference at byte {at}, ours {} recorded {}",
        a.len(),
        b.len(),
        near(&a),
        near(&b)
    )
}

/// Replays `events` against `conn`: feeds the peer's chunks and our
/// writes, and requires our answers to be the recorded ones, in order.
/// Returns the number of peer chunks fed.
pub fn replay<S, R>(conn: &mut Connection<'_>, bufs: &mut Buffers<S, R>, events: &[Event]) -> usize
where
    S: AsMut<[u8]> + AsRef<[u8]>,
    R: AsMut<[u8]> + AsRef<[u8]>,
{
    let mut expected = events.iter().peekable();
    let mut fed = 0;
    // A client speaks first: its answer to nothing.
    let mut pending: Vec<Event> = Vec::new();
    if matches!(expected.peek(), Some(Event::Ours(_))) {
        let (sent, read) = drive(conn, bufs);
        pending = answer(sent, read);
    }
    for (i, want) in events.iter().enumerate() {
        match want {
            Event::Peer(bytes) => {
                assert!(
                    pending.is_empty(),
                    "event {i}: we sent {pending:?} not recorded"
                );
                assert_eq!(bufs.recv.fill(bytes), bytes.len(), "event {i}: view full");
                fed += 1;
                let (sent, read) = drive(conn, bufs);
                pending = answer(sent, read);
            }
            Event::Write(text) => {
                assert!(
                    pending.is_empty(),
                    "event {i}: we sent {pending:?} not recorded"
                );
                assert_eq!(
                    conn.write(bufs, text).expect("write"),
                    Status::Done(text.len())
                );
                let (sent, read) = drive(conn, bufs);
                pending = answer(sent, read);
            }
            Event::Ours(_) | Event::Read(_) => {
                assert!(
                    !pending.is_empty(),
                    "event {i}: recorded {want:?}, we said nothing"
                );
                let got = pending.remove(0);
                assert!(got == *want, "event {i}: {}", difference(&got, want));
            }
        }
    }
    assert!(
        pending.is_empty(),
        "we said {pending:?} after the recording"
    );
    fed
}
