//! What the `client` and `server` programs share: PEM files, command-line
//! arguments, hex, the one-line description of a negotiated session, and
//! the shape of `main`.

// Each program uses its own part of this module.
#![allow(dead_code)]

use std::fmt::Write as _;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use tlspair::handshake::Negotiated;

/// The certificates of a PEM file, in order (a chain: end entity first).
pub fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{path}: {}", pem_error(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{path}: {}", pem_error(e)))?;
    if certs.is_empty() {
        return Err(format!("{path}: no CERTIFICATE in the file"));
    }
    Ok(certs)
}

/// The PKCS#8 private key of a PEM file, DER.
pub fn load_key(path: &str) -> Result<Vec<u8>, String> {
    match PrivatePkcs8KeyDer::from_pem_file(path) {
        Ok(key) => Ok(key.secret_pkcs8_der().to_vec()),
        Err(pem::Error::NoItemsFound) => Err(format!(
            "{path}: no PKCS#8 key (\"BEGIN PRIVATE KEY\"); convert with \
             `openssl pkcs8 -topk8 -nocrypt -in {path}`"
        )),
        Err(e) => Err(format!("{path}: {}", pem_error(e))),
    }
}

fn pem_error(e: pem::Error) -> String {
    match e {
        pem::Error::Io(e) => e.to_string(),
        other => format!("bad PEM: {other:?}"),
    }
}

/// Command-line arguments, consumed front to back.
pub struct Args(std::collections::VecDeque<String>);

impl Args {
    /// The program's arguments, without its name.
    pub fn from_env() -> Self {
        Self(std::env::args().skip(1).collect())
    }

    /// The next argument.
    pub fn next(&mut self) -> Option<String> {
        self.0.pop_front()
    }

    /// The value of option `opt`, which must follow it.
    pub fn value(&mut self, opt: &str) -> Result<String, String> {
        self.next().ok_or_else(|| format!("{opt} needs a value"))
    }

    /// The value of `opt` as a number.
    pub fn number<T: std::str::FromStr>(&mut self, opt: &str) -> Result<T, String> {
        let v = self.value(opt)?;
        v.parse().map_err(|_| format!("{opt}: not a number: {v}"))
    }
}

/// `a,b,c` as protocol names.
pub fn alpn_list(s: &str) -> Vec<Vec<u8>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.as_bytes().to_vec())
        .collect()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Parses hex (either case).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A configured ALPN name by the index the handshake settled on.
pub fn alpn_name(alpn: &[&[u8]], index: Option<u8>) -> String {
    index.and_then(|i| alpn.get(usize::from(i))).map_or_else(
        || "none".to_owned(),
        |p| String::from_utf8_lossy(p).into_owned(),
    )
}

/// `name: value` lines describing a session, in a fixed order.
pub fn describe(n: &Negotiated, alpn: &str) -> Vec<(&'static str, String)> {
    let or_none = |s: Option<String>| s.unwrap_or_else(|| "none".into());
    vec![
        ("Protocol", n.version.to_string()),
        ("Cipher suite", n.suite.to_string()),
        (
            "Key exchange group",
            or_none(n.group.map(|g| g.to_string())),
        ),
        (
            "Signature scheme",
            or_none(n.signature_scheme.map(|s| s.to_string())),
        ),
        ("ALPN", alpn.to_owned()),
        ("Resumed", if n.resumed { "yes" } else { "no" }.into()),
    ]
}

/// The suites for a version flag: `--tls1_2` (TLS 1.2 only), `--tls1_3`
/// (TLS 1.3 only), or both versions by default.
pub fn suites_for(flag: Option<&str>) -> &'static [&'static tlspair::Suite] {
    match flag {
        Some("--tls1_2") => &tlspair::TLS12_SUITES,
        Some("--tls1_3") => &tlspair::ALL_SUITES,
        _ => &tlspair::BOTH_VERSIONS_SUITES,
    }
}

/// Whether a non-blocking socket call should simply be tried again later.
pub fn would_block(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
    )
}

/// The body of `main`: parses the arguments (an error prints it, if any,
/// and `usage`, and exits 2), runs, and prints a failure as one line
/// prefixed by the program's `name` (exit 1).
pub fn main<O, E: std::fmt::Display>(
    name: &str,
    usage: &str,
    parsed: Result<O, String>,
    run: impl FnOnce(&O) -> Result<(), E>,
) -> std::process::ExitCode {
    let opts = match parsed {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{name}: {e}");
            }
            eprintln!("{usage}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
