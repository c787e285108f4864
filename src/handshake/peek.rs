//! Reading a ClientHello before the server's configuration is chosen: the
//! shape of OpenSSL's client-hello callback and of rustls' `Acceptor`.
//!
//! [`peek_client_hello`] parses the ClientHello where it lies in
//! `bufs.recv` and consumes nothing. The embedder looks at the SNI, ALPN,
//! schemes and so on ([`ClientHelloView`]), takes as long as it likes
//! (across await points: the engine keeps no state for it), then makes
//! the connection with [`Connection::server`](crate::Connection::server)
//! and the configuration it chose, on the same `Buffers`: the connection
//! reads the same bytes, once. A ClientHello the peek refuses is refused
//! by any server as well: make the connection with any configuration to
//! get the alert on the wire.

use crate::buffer::RecvBuf;
use crate::codec::U16List;
use crate::conn::Status;
use crate::error::{Error, PeerMisbehaved};
use crate::handshake::messages::{ClientHello, HANDSHAKE_HEADER_LEN};
use crate::record::{Header, HEADER_LEN};
use crate::wire::{
    AlertDescription, CipherSuite, ContentType, HandshakeType, NamedGroup, ProtocolVersion,
    SignatureScheme,
};

/// The ClientHello at the front of a server connection's received bytes,
/// borrowed where it lies (or from the scratch space, for one that spans
/// records).
#[derive(Clone, Copy, Debug)]
pub struct ClientHelloView<'b> {
    hello: ClientHello<'b>,
}

impl<'b> ClientHelloView<'b> {
    /// The host name the client asked for (SNI), if it sent one that is a
    /// host name (anything else the server refuses with
    /// `unrecognized_name`).
    pub fn server_name(&self) -> Option<&'b str> {
        self.hello
            .ext
            .server_name
            .filter(|n| super::is_host_name(n))
            .and_then(|n| core::str::from_utf8(n).ok())
    }

    /// The ALPN protocols offered, in the client's order (none without
    /// the extension).
    pub fn alpn(&self) -> impl Iterator<Item = &'b [u8]> + 'b {
        self.hello
            .ext
            .alpn
            .into_iter()
            .flat_map(|names| names.iter())
    }

    /// signature_algorithms, in the client's order.
    pub fn signature_schemes(&self) -> impl Iterator<Item = SignatureScheme> + 'b {
        u16s(self.hello.ext.signature_algorithms).map(SignatureScheme)
    }

    /// supported_groups, in the client's order.
    pub fn groups(&self) -> impl Iterator<Item = NamedGroup> + 'b {
        u16s(self.hello.ext.supported_groups).map(NamedGroup)
    }

    /// The groups the client sent key shares for, in its order.
    pub fn key_share_groups(&self) -> impl Iterator<Item = NamedGroup> + 'b {
        self.hello
            .ext
            .key_shares
            .into_iter()
            .flat_map(|shares| shares.iter().map(|s| s.group))
    }

    /// cipher_suites, in the client's order.
    pub fn cipher_suites(&self) -> impl Iterator<Item = CipherSuite> + 'b {
        self.hello.cipher_suites.iter().map(CipherSuite)
    }

    /// supported_versions, in the client's order (none without the
    /// extension: the client speaks only `legacy_version`, not TLS 1.3).
    pub fn versions(&self) -> impl Iterator<Item = ProtocolVersion> + 'b {
        u16s(self.hello.ext.supported_versions).map(ProtocolVersion)
    }

    /// Whether the client offers to resume a session (a pre_shared_key).
    pub fn resumes(&self) -> bool {
        self.hello.ext.pre_shared_key.is_some()
    }

    /// Whether the client offers 0-RTT data: a server that would take it
    /// answers the ClientHello with
    /// [`read_early`](crate::Connection::read_early).
    pub fn offers_early_data(&self) -> bool {
        self.hello.ext.early_data
    }

    /// The client's random.
    pub fn random(&self) -> &'b [u8; 32] {
        self.hello.random
    }

    /// The client's first PSK identity (the only one 0-RTT may use) as
    /// one of `keys` opens it, for a server deciding on early data: how
    /// old the ticket is at `now` and how old the client says it is, and
    /// the allowance sealed in it. `None` without a PSK, for a ticket none
    /// of `keys` opens (a TLS 1.2 one among them), and for one issued
    /// after `now` (clocks apart across a fleet). Nothing else is checked
    /// here (binder, lifetime, server name, client-auth policy, PSK
    /// modes): the handshake does that, and may still decline.
    pub fn first_ticket(
        &self,
        keys: &[crate::handshake::ticket::TicketKey],
        now: rustls_pki_types::UnixTime,
    ) -> Option<TicketAge> {
        let offered = super::messages::OfferedPsks::parse(self.hello.ext.pre_shared_key?).ok()?;
        let (identity, obfuscated) = offered.identities().next()?;
        let state = super::ticket::open(keys, identity)?;
        crate::record::suite::Suite::from_id(state.suite).filter(|s| !s.is_tls12())?;
        Some(TicketAge {
            age_secs: now.as_secs().checked_sub(state.issued_at)?,
            client_age_ms: obfuscated.wrapping_sub(state.age_add),
            session_age_secs: now.as_secs().checked_sub(state.auth_time)?,
            max_early_data: state.max_early_data,
        })
    }

    /// The whole parse, for what the accessors above do not show (the
    /// raw extension block among it).
    pub fn message(&self) -> &ClientHello<'b> {
        &self.hello
    }
}

/// What [`ClientHelloView::first_ticket`] tells of the client's ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TicketAge {
    /// Seconds since the ticket was issued.
    pub age_secs: u64,
    /// The ticket's age as the client reports it, in milliseconds (the
    /// server resumes, and so takes 0-RTT, only within 10 s of
    /// `age_secs`).
    pub client_age_ms: u32,
    /// Seconds since the full handshake the session comes from.
    pub session_age_secs: u64,
    /// Bytes of 0-RTT data the ticket allows.
    pub max_early_data: u32,
}

fn u16s(list: Option<U16List<'_>>) -> impl Iterator<Item = u16> + '_ {
    list.into_iter().flat_map(|l| l.iter())
}

/// Reads the ClientHello at the front of `recv` without consuming it.
///
/// - `Done(view)`: the whole ClientHello is there;
/// - `WantRead`: not yet (add received bytes and peek again);
/// - `Err(Truncated)`: the stream ended first;
/// - `Err(Misuse::RecvBufferTooSmall)`: the view is full and holds no
///   whole ClientHello (nothing is consumed while peeking, so nothing more
///   could arrive).
///
/// A ClientHello in one record (every one up to 16 KiB) is borrowed
/// where it lies and `scratch` is not touched (pass `&mut []`). One split
/// across records is joined in `scratch`, which must hold the whole
/// message (4-byte header included); a longer one is
/// [`PeerMisbehaved::HandshakeTooLarge`], as a server with that
/// `max_handshake_message` would answer.
///
/// # Errors
///
/// The typed error the server would fail with for the same bytes, where
/// the peek can tell: a first record that is not a handshake record or
/// breaks the record rules, a first message that is not a ClientHello, a
/// ClientHello that does not parse.
pub fn peek_client_hello<'b, B: AsRef<[u8]> + AsMut<[u8]>>(
    recv: &'b RecvBuf<B>,
    scratch: &'b mut [u8],
) -> Result<Status<ClientHelloView<'b>>, Error> {
    let bytes = recv.received();
    // The message header, which a client may split across records too.
    let mut head = [0u8; HANDSHAKE_HEADER_LEN];
    if !gather(bytes, &mut head)? {
        return incomplete(recv);
    }
    let ty = HandshakeType(head[0]);
    if ty != HandshakeType::CLIENT_HELLO {
        return Err(PeerMisbehaved::UnexpectedHandshake(ty).into());
    }
    let body_len = usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3]);
    let total = body_len.saturating_add(HANDSHAKE_HEADER_LEN);
    // The first handshake record (past user_canceled alerts, which
    // `gather` has checked).
    let mut first = bytes;
    while let Some(h) = Header::parse(first) {
        if h.content_type != ContentType::ALERT {
            break;
        }
        first = first.get(HEADER_LEN.saturating_add(h.len)..).unwrap_or(&[]);
    }
    let in_first = Header::parse(first)
        .and_then(|h| first.get(HEADER_LEN..).and_then(|b| b.get(..h.len)))
        .and_then(|b| b.get(..total));
    let message: &'b [u8] = match in_first {
        Some(whole) => whole,
        None => {
            let room = scratch.len();
            let Some(out) = scratch.get_mut(..total) else {
                return Err(PeerMisbehaved::HandshakeTooLarge {
                    len: body_len,
                    max: room.saturating_sub(HANDSHAKE_HEADER_LEN),
                }
                .into());
            };
            if !gather(bytes, out)? {
                return incomplete(recv);
            }
            out
        }
    };
    let body = message.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]);
    let hello = ClientHello::parse(body).map_err(super::client::map_extension_error)?;
    Ok(Status::Done(ClientHelloView { hello }))
}

/// Fills `out` with the first handshake bytes of the records in `bytes`,
/// checking each record as the server would: `Ok(false)` while they are
/// not all there yet.
fn gather(bytes: &[u8], out: &mut [u8]) -> Result<bool, Error> {
    let mut filled = 0;
    let mut rest = bytes;
    while filled < out.len() {
        let Some(h) = Header::parse(rest) else {
            return Ok(false);
        };
        crate::conn::check_plaintext(&h, filled > 0)?;
        if h.len == 0 {
            return Err(PeerMisbehaved::EmptyRecord(h.content_type).into());
        }
        if h.content_type == ContentType::ALERT {
            // As the connection reads alerts: one alert per record;
            // user_canceled is skipped (a close_notify is to follow), any
            // other ends it, before or between the fragments.
            let Some(body) = rest.get(HEADER_LEN..).and_then(|r| r.get(..h.len)) else {
                return Ok(false);
            };
            let [_, d] = *body else {
                return Err(crate::error::InvalidMessage::BadAlert.into());
            };
            if AlertDescription(d) != AlertDescription::USER_CANCELED {
                return Err(Error::AlertReceived(AlertDescription(d)));
            }
            rest = rest.get(HEADER_LEN.saturating_add(h.len)..).unwrap_or(&[]);
            continue;
        }
        if h.content_type != ContentType::HANDSHAKE {
            // A ClientHello comes first (RFC 8446 §4.1.2), and nothing
            // between a message's fragments (§5.1).
            return Err(if filled == 0 {
                PeerMisbehaved::UnexpectedContentType(h.content_type)
            } else {
                PeerMisbehaved::HandshakeFragmentation
            }
            .into());
        }
        let Some(fragment) = rest.get(HEADER_LEN..).and_then(|r| r.get(..h.len)) else {
            return Ok(false);
        };
        let take = fragment.len().min(out.len().saturating_sub(filled));
        let (Some(dst), Some(src)) = (
            out.get_mut(filled..filled.saturating_add(take)),
            fragment.get(..take),
        ) else {
            return Err(Error::Internal("ClientHello reassembly"));
        };
        dst.copy_from_slice(src);
        filled = filled.saturating_add(take);
        rest = rest.get(HEADER_LEN.saturating_add(h.len)..).unwrap_or(&[]);
    }
    Ok(true)
}

fn incomplete<B: AsRef<[u8]> + AsMut<[u8]>, T>(recv: &RecvBuf<B>) -> Result<Status<T>, Error> {
    if recv.is_eof() {
        Err(Error::Truncated)
    } else if recv.len() >= recv.capacity() {
        // Nothing is consumed while peeking: a full view can never hold
        // more, so waiting would be for ever.
        Err(crate::error::Misuse::RecvBufferTooSmall {
            needed: recv.capacity().saturating_add(1),
        }
        .into())
    } else {
        Ok(Status::WantRead)
    }
}
