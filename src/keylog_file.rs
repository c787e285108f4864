//! An SSLKEYLOGFILE writer (feature `std`): the file Wireshark reads to
//! decrypt a capture.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::sync::Mutex;

use crate::handshake::{key_log_line, KeyLog, MAX_KEY_LOG_LINE};

/// Appends key log lines to the file named by the `SSLKEYLOGFILE`
/// environment variable, or to a given path. Logging is best effort: a
/// write error is dropped, never turned into a connection error.
#[derive(Debug)]
pub struct KeyLogFile {
    file: Mutex<Option<File>>,
}

impl KeyLogFile {
    /// Opens `$SSLKEYLOGFILE` for appending; logs nothing if it is unset or
    /// cannot be opened.
    pub fn from_env() -> Self {
        let file = std::env::var_os("SSLKEYLOGFILE").and_then(|path| open(path.as_ref()).ok());
        Self {
            file: Mutex::new(file),
        }
    }

    /// Opens `path` for appending.
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let file = open(path)?;
        Ok(Self {
            file: Mutex::new(Some(file)),
        })
    }
}

impl KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8; 32], secret: &[u8]) {
        let mut line = [0u8; MAX_KEY_LOG_LINE];
        let text = key_log_line(label, client_random, secret, &mut line);
        if let Ok(mut guard) = self.file.lock() {
            if let Some(file) = guard.as_mut() {
                // Best effort, as documented: a failed write loses a line.
                let _ = file.write_all(text.as_bytes());
            }
        }
        zeroize::Zeroize::zeroize(&mut line);
    }
}

/// Opens `path` for appending, creating it readable and writable by its
/// owner only (mode 0600 on Unix): whoever reads it reads the traffic. An
/// existing file keeps its mode.
fn open(path: &std::path::Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
