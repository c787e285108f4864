//! Input: driving the handshake, reading records, reassembling handshake
//! messages in place, and the post-handshake messages a `read` meets.
//!
//! See the module docs of `conn` for the layout of the received view
//! (`hs_len`, `hs_gap`, `plain_left`, `plain_tail`).

use super::{
    AfterHandshake, Connection, Handshake, PeerConfig, Role, Slot, Status, MAX_EMPTY_RECORDS,
    NO_CONFIG,
};
use crate::buffer::{RecvView, SendView};
use crate::codec::Reader;
use crate::error::{Error, InvalidMessage, Misuse, PeerMisbehaved};
use crate::handshake::client::{self, Polled};
use crate::handshake::messages::{
    announced_len, split_message, NewSessionTicket, HANDSHAKE_HEADER_LEN,
};
use crate::handshake::ticket::NewTicket;
use crate::handshake::Out;
use crate::record::protect::RecordKey;
use crate::record::{Header, HEADER_LEN, MAX_PLAINTEXT};
use crate::shared::{Name, Offer};
use crate::wire::{AlertDescription, ContentType, HandshakeType};

impl<'a> Connection<'a> {
    /// Runs the handshake as far as the buffers allow.
    pub(super) fn drive(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<Status<()>, Error> {
        self.drive_until(rx, tx, false)
    }

    /// [`drive`](Self::drive); with `at_data`, a renegotiation stops at
    /// the first data it reads (a `read` delivers it before the handshake
    /// goes on, so that it never returns data from both sides of a step).
    fn drive_until(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        at_data: bool,
    ) -> Result<Status<()>, Error> {
        loop {
            let Some(hs) = self.hs.take() else {
                return Ok(Status::Done(()));
            };
            // The peer's record_size_limit binds every flight once known.
            let fragment = match self.peer_fragment_limit() {
                Some(limit) => self.send_fragment().min(limit),
                None => self.send_fragment(),
            };
            // A pending signature first: the peer waits for the flight it
            // completes.
            let hs = match hs {
                Handshake::Client(ref s) if s.awaits_signature() => {
                    match self.poll_signature(hs, tx, fragment)? {
                        Some(status) => return Ok(status),
                        None => continue,
                    }
                }
                Handshake::Server(ref s) if s.awaits_signature() => {
                    match self.poll_signature(hs, tx, fragment)? {
                        Some(status) => return Ok(status),
                        None => continue,
                    }
                }
                other => other,
            };
            // The client speaks first.
            let hs = match hs {
                Handshake::Client(state) if state.has_output() => {
                    let Some(inputs) = client_inputs(
                        &self.peer_config,
                        &self.server_name,
                        &self.resume,
                        self.early,
                    ) else {
                        return Err(self.abort(tx, NO_CONFIG));
                    };
                    let need = state.room_needed(inputs, fragment, &[]);
                    let room = match self.room_for(tx, need) {
                        Ok(Ok(room)) => room,
                        Ok(Err(needed)) => {
                            self.hs = Slot::Running(Handshake::Client(state));
                            return Ok(Status::WantWrite { needed });
                        }
                        Err(e) => {
                            self.hs = Slot::Running(Handshake::Client(state));
                            return Err(e);
                        }
                    };
                    let mut out = Out {
                        room,
                        used: 0,
                        fragment,
                        closed: self.sent_close,
                    };
                    let next = match client_inputs(
                        &self.peer_config,
                        &self.server_name,
                        &self.resume,
                        self.early,
                    ) {
                        Some(inputs) => state.write_client_hello(
                            inputs,
                            &mut out,
                            &mut self.records,
                            &mut self.tls12_transcript,
                            (&mut self.resumption, &mut self.early, &mut self.exporter),
                        ),
                        None => Err(NO_CONFIG),
                    };
                    let used = out.used;
                    tx.commit(used);
                    match next {
                        Ok(next) => self.hs = Slot::Running(Handshake::Client(next)),
                        Err(e) => return Err(self.abort(tx, e)),
                    }
                    continue;
                }
                other => other,
            };
            // A whole message at the front of the region?
            let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
            if let Some(len) = announced_len(region) {
                if len > self.max_handshake_message() {
                    let e = PeerMisbehaved::HandshakeTooLarge {
                        len,
                        max: self.max_handshake_message(),
                    };
                    return Err(self.fail(tx, e.into()));
                }
            }
            if split_message(region).is_some() {
                let need = room_needed(self, &hs, fragment, region);
                let room = match self.room_for(tx, need) {
                    Ok(Ok(room)) => room,
                    Ok(Err(needed)) => {
                        self.hs = Slot::Running(hs);
                        return Ok(Status::WantWrite { needed });
                    }
                    Err(e) => {
                        self.hs = Slot::Running(hs);
                        return Err(e);
                    }
                };
                let mut out = Out {
                    room,
                    used: 0,
                    fragment,
                    closed: self.sent_close,
                };
                // A step that installs a receiving key installs it at
                // sequence 0, over no key or one that has opened the record
                // the step's message came in: comparing sequence numbers
                // tells a key change without comparing secrets.
                let recv_before = self.records.recv().map(RecordKey::sequence);
                let early = self.early;
                let mut post_auth = None;
                let mut keys = step_keys!(self, &mut post_auth);
                let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
                let inputs =
                    client_inputs(&self.peer_config, &self.server_name, &self.resume, early);
                let stepped = match (hs, &self.peer_config, inputs) {
                    (Handshake::Client(s), _, Some(inputs)) => s
                        .handle(inputs, region, &mut keys, &mut out)
                        .map(|st| (st.next.map(Handshake::Client), st.consumed)),
                    (Handshake::Server(s), PeerConfig::Server(config), _) => s
                        .handle(config, region, &mut keys, &mut out)
                        .map(|st| (st.next.map(Handshake::Server), st.consumed)),
                    _ => Err(NO_CONFIG),
                };
                let used = out.used;
                tx.commit(used);
                let (next, consumed) = match stepped {
                    Ok(x) => x,
                    Err(e) => return Err(self.abort(tx, e)),
                };
                let done = next.is_none();
                // The signer was just asked: it said "pending".
                let signing = match &next {
                    Some(Handshake::Client(s)) => s.awaits_signature(),
                    Some(Handshake::Server(s)) => s.awaits_signature(),
                    None => false,
                };
                self.hs = Slot::after_step(next, post_auth);
                if consumed > 0 {
                    self.consume_handshake(rx, consumed);
                    let rekeyed = recv_before != self.records.recv().map(RecordKey::sequence);
                    // RFC 8446 §5.1: no message may straddle a key change.
                    if rekeyed && self.hs_len > 0 {
                        return Err(self.fail(tx, PeerMisbehaved::HandshakeFragmentation.into()));
                    }
                }
                if done {
                    self.established();
                    // A renegotiation completes without a word: the
                    // connection was established all along.
                    if core::mem::replace(&mut self.handshake_done, true) {
                        self.renegotiated();
                        return Ok(Status::Done(()));
                    }
                    return Ok(Status::Established);
                }
                if consumed > 0 {
                    if signing {
                        return Ok(Status::SignaturePending);
                    }
                    continue;
                }
            } else {
                self.hs = Slot::Running(hs);
            }
            if self.hs.is_none() {
                continue;
            }
            // 0-RTT plaintext at the front is `read_early`'s to take.
            // Application data a peer sent during a renegotiation stays
            // for `read`, and the records behind it are read meanwhile.
            if self.plain_left > 0 && !self.handshake_done {
                return Err(Misuse::EarlyDataUnread.into());
            }
            if at_data && self.plain_left > 0 {
                return Ok(Status::Done(()));
            }
            match self.read_record(rx, tx)? {
                Status::Done(_) => {}
                Status::WantRead => return Ok(Status::WantRead),
                Status::WantWrite { needed } => return Ok(Status::WantWrite { needed }),
                Status::SignaturePending => return Ok(Status::SignaturePending),
                Status::Established => return Ok(Status::Established),
                // The peer closed during a renegotiation: it ends there, and
                // the connection closes as it was.
                Status::Closed if self.handshake_done => {
                    self.drop_handshake();
                    return Ok(Status::Closed);
                }
                Status::Closed => {
                    return Err(self.fail(tx, Error::AlertReceived(AlertDescription::CLOSE_NOTIFY)))
                }
            }
        }
    }

    /// Asks a pending signer again: `Some(status)` to return (still
    /// pending, or no room for the rest of the flight), `None` when the
    /// flight is complete and the handshake goes on.
    fn poll_signature(
        &mut self,
        hs: Handshake,
        tx: &mut SendView<'_>,
        fragment: usize,
    ) -> Result<Option<Status<()>>, Error> {
        let need = room_needed(self, &hs, fragment, &[]);
        let room = match self.room_for(tx, need) {
            Ok(Ok(room)) => room,
            Ok(Err(needed)) => {
                self.hs = Slot::Running(hs);
                return Ok(Some(Status::WantWrite { needed }));
            }
            Err(e) => {
                self.hs = Slot::Running(hs);
                return Err(e);
            }
        };
        let mut out = Out {
            room,
            used: 0,
            fragment,
            closed: self.sent_close,
        };
        let early = self.early;
        let mut post_auth = None;
        let mut keys = step_keys!(self, &mut post_auth);
        let inputs = client_inputs(&self.peer_config, &self.server_name, &self.resume, early);
        let polled = match (hs, &self.peer_config, inputs) {
            (Handshake::Client(s), _, Some(inputs)) => s
                .poll_signature(inputs, &mut keys, &mut out)
                .map(|p| match p {
                    Polled::Pending(s) => Polled::Pending(Handshake::Client(s)),
                    Polled::Signed(s) => Polled::Signed(s.map(Handshake::Client)),
                }),
            (Handshake::Server(s), PeerConfig::Server(config), _) => s
                .poll_signature(config, &mut keys, &mut out)
                .map(|p| match p {
                    Polled::Pending(s) => Polled::Pending(Handshake::Server(s)),
                    Polled::Signed(s) => Polled::Signed(s.map(Handshake::Server)),
                }),
            _ => Err(NO_CONFIG),
        };
        let used = out.used;
        tx.commit(used);
        match polled {
            Ok(Polled::Pending(hs)) => {
                self.hs = Slot::Running(hs);
                Ok(Some(Status::SignaturePending))
            }
            Ok(Polled::Signed(next)) => {
                self.hs = Slot::after_step(next, post_auth);
                if self.hs.is_some() {
                    return Ok(None);
                }
                self.established();
                if core::mem::replace(&mut self.handshake_done, true) {
                    self.renegotiated();
                    return Ok(Some(Status::Done(())));
                }
                Ok(Some(Status::Established))
            }
            Err(e) => Err(self.abort(tx, e)),
        }
    }

    /// The content a protected record from the peer may carry. Our
    /// `recv_max_fragment_len` binds only a peer that answered our
    /// record_size_limit (or, to our server, sent its own, which ours
    /// answers): any other peer never heard of it and may send 2^14
    /// (RFC 8449 §4), which is legal, and a view too small for it is
    /// the caller's to grow (`Misuse::RecvBufferTooSmall`). Keys
    /// negotiated elsewhere come with limits agreed elsewhere: the
    /// setting binds.
    fn recv_limit(&self) -> usize {
        let agreed = matches!(self.peer_config, super::PeerConfig::None)
            || self
                .negotiated
                .as_ref()
                .is_some_and(|n| n.peer_record_size_limit.is_some());
        if !agreed {
            MAX_PLAINTEXT
        } else if self.is_tls12() {
            // What we announced binds, and TLS 1.2 reads it as content:
            // a client that offered TLS 1.3 too announced TLS 1.3's
            // limit, one more; everyone else the limit itself.
            let announced_tls13 = self
                .peer_config
                .client()
                .is_some_and(|c| c.suites.iter().any(|s| !s.is_tls12()));
            if announced_tls13 {
                self.config.tls12_recv_limit()
            } else {
                self.config.recv_max_fragment_len
            }
        } else {
            self.config.recv_max_fragment_len
        }
    }

    /// The content the peer's record_size_limit lets a record of ours
    /// carry, once known: TLS 1.3's counts the inner content type byte,
    /// TLS 1.2's the content alone (RFC 8449 §4).
    pub(super) fn peer_fragment_limit(&self) -> Option<usize> {
        let n = self.negotiated.as_ref()?;
        let limit = usize::from(n.peer_record_size_limit?);
        let content = if n.version == crate::wire::ProtocolVersion::TLS1_2 {
            limit
        } else {
            limit.saturating_sub(1)
        };
        Some(content.clamp(1, MAX_PLAINTEXT))
    }

    /// Applies what the handshake settled on.
    fn established(&mut self) {
        self.tls12_transcript.finish();
        if let Some(peer) = self.peer_fragment_limit() {
            let fragment = self.send_fragment().min(peer);
            // At most the configured fragment, which fits.
            self.send_fragment = u16::try_from(fragment).unwrap_or(u16::MAX);
        }
    }

    /// `need` bytes of contiguous outgoing room (all of it, to write a
    /// flight into), or `Err(needed)`: the room a drain must make first,
    /// never more than the capacity. A flight larger than the whole view
    /// is `SendBufferTooSmall`, answered only once the view is empty, so
    /// the misuse never follows output: what is pending (a
    /// HelloRetryRequest this call wrote, or records not yet drained)
    /// goes out first, and the error changes nothing.
    pub(super) fn room_for<'t>(
        &mut self,
        tx: &'t mut SendView<'_>,
        need: usize,
    ) -> Result<Result<&'t mut [u8], usize>, Error> {
        let capacity = tx.capacity();
        if need > capacity {
            if !tx.is_empty() {
                return Ok(Err(capacity));
            }
            return Err(Misuse::SendBufferTooSmall { needed: need }.into());
        }
        Ok(tx.room_at_least(need).ok_or(need))
    }

    /// [`room_for`](Self::room_for) as the `Out` a flight after the
    /// handshake is written through.
    pub(super) fn out_for<'t>(
        &mut self,
        tx: &'t mut SendView<'_>,
        need: usize,
        fragment: usize,
    ) -> Result<Result<Out<'t>, usize>, Error> {
        Ok(self.room_for(tx, need)?.map(|room| Out {
            room,
            used: 0,
            fragment,
            closed: false,
        }))
    }

    /// An opened application-data record at `off` (`total` bytes, its
    /// `len` bytes of content at `at`): its plaintext at the front of the
    /// view, or an empty one dropped and counted.
    fn take_application_data(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        (off, at, total, len): (usize, usize, usize, usize),
    ) -> Result<Status<()>, Error> {
        if len == 0 {
            self.drop_record(rx, off, total);
            self.count_empty(tx)?;
            return Ok(Status::Done(()));
        }
        self.empty_records = 0;
        // During a renegotiation, data read behind unread plaintext joins
        // it: the content moves down to its end, the header and tail join
        // its dead bytes.
        if self.plain_left > 0 {
            let end = self.plain_offset().saturating_add(self.plain_len());
            let from = off.saturating_add(at);
            move_down(rx, end, from, len);
            self.plain_left = self.plain_left.saturating_add(to_u16(len));
            self.plain_tail = self
                .plain_tail
                .saturating_add(to_u16(total.saturating_sub(len)));
            return Ok(Status::Done(()));
        }
        // The plaintext lies after the region and its gap, if any (a
        // request whose answer waits for room): the header joins the gap.
        if off == 0 {
            rx.advance(at);
        } else {
            self.hs_gap = self.hs_gap.saturating_add(at);
        }
        // The content of a record within the checked limit (2^14).
        self.plain_left = to_u16(len);
        // Type, padding and tag of a record within the checked limit: less
        // than 2^14 + 256.
        self.plain_tail = to_u16(total.saturating_sub(at).saturating_sub(len));
        Ok(Status::Done(()))
    }

    pub(super) fn consume_handshake(&mut self, rx: &mut RecvView<'_>, n: usize) {
        rx.advance(n);
        // A step consumes only messages within the region.
        self.hs_len = self.hs_len.saturating_sub(n);
        if self.hs_len == 0 {
            rx.advance(core::mem::take(&mut self.hs_gap));
        }
    }

    /// Makes plaintext available at the front of the received view,
    /// driving the handshake first and handling post-handshake messages.
    ///
    /// With `delivered` (the call already copied plaintext out), an
    /// answer to our post-handshake certificate request at the front of
    /// the region ends the call (`WantRead`) before it is handled: one
    /// `read` never returns data from both sides of it (after it,
    /// `negotiated()` may name another peer).
    pub(super) fn next_plaintext(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        delivered: bool,
    ) -> Result<Status<()>, Error> {
        loop {
            // One read returns data from one side of a renegotiation's
            // steps only (the step that completes it may name another
            // client): having delivered some, it stops before the next.
            if delivered && self.handshake_done && self.hs.is_some() {
                return Ok(Status::WantRead);
            }
            // Nor data from both sides of one that a write completed.
            if self.fence_reached() && delivered {
                return Ok(Status::WantRead);
            }
            // Plaintext a renegotiation left unread goes first: the
            // handshake goes on behind it in the next call.
            let unread = self.handshake_done && self.plain_left > 0;
            if self.hs.is_some() && !unread {
                match self.drive_until(rx, tx, true) {
                    Ok(Status::Done(())) => {}
                    // Data the renegotiation's records came with: the
                    // handshake waits for more (or for room behind it),
                    // the data is read now.
                    Ok(_) | Err(Error::Misuse(Misuse::PlaintextUnread { .. }))
                        if self.handshake_done && self.plain_left > 0 => {}
                    Ok(other) => return Ok(other),
                    Err(e) => return Err(e),
                }
            }
            // A reply to the peer's KeyUpdate goes before anything else; if
            // it finds no room it waits, and reading goes on.
            // A queued record larger than the whole outgoing view (a
            // CertificateRequest) is the embedder's to fix, and `write`
            // and `handshake` say so; reading goes on.
            match self.flush_key_update(tx) {
                Ok(_) | Err(Error::Misuse(Misuse::SendBufferTooSmall { .. })) => {}
                Err(e) => return Err(e),
            }
            if self.plain_left > 0 {
                return Ok(Status::Done(()));
            }
            if self.recv_close {
                // RFC 8446 §6.1: anything after close_notify is ignored.
                return Ok(Status::Closed);
            }
            if delivered && self.answer_waits(rx) {
                return Ok(Status::WantRead);
            }
            if self.hs_len > 0
                && split_message(rx.unread().get(..self.hs_len).unwrap_or(&[])).is_some()
            {
                match self.post_handshake(rx, tx)? {
                    Status::Done(true) => continue,
                    // An answer to our certificate request waits for
                    // the rest of its messages.
                    Status::Done(false) => {}
                    // Our answer to a certificate request waits for room
                    // or for our signer: the data behind the request is
                    // read meanwhile, and nothing else (a KeyUpdate
                    // behind it must not be overtaken by the records it
                    // rekeys, so reading stops once more than the request
                    // is in the region).
                    blocked if self.answer_blocked(rx) => match self.read_record(rx, tx)? {
                        Status::Done(()) if self.plain_left > 0 => return Ok(Status::Done(())),
                        Status::Done(()) if self.answer_blocked(rx) => continue,
                        Status::Done(()) | Status::WantRead => return Ok(blocked.map(|_| ())),
                        other => return Ok(other),
                    },
                    other => return Ok(other.map(|_| ())),
                }
            }
            match self.read_record(rx, tx)? {
                Status::Done(()) => {}
                other => return Ok(other),
            }
        }
    }

    /// Derives a ticket's PSK (RFC 8446 §4.6.1) and hands it on.
    fn new_ticket(&self, nst: &NewSessionTicket<'_>) -> Result<(), Error> {
        let config = self.peer_config.client();
        let (Some(sink), Some(res), Some(suite)) = (
            config.and_then(|c| c.ticket_sink),
            match &self.resumption {
                super::AfterHandshake::Resumption(r) => Some(r),
                _ => None,
            },
            self.records.send().map(RecordKey::suite),
        ) else {
            return Ok(());
        };
        let psk = res.expand(suite, b"resumption", nst.nonce)?;
        let policy = config.and_then(|c| c.verifier.policy_digest());
        sink.store(&NewTicket {
            suite: suite.id,
            psk: psk.as_bytes(),
            ticket: nst.ticket,
            lifetime: nst
                .lifetime
                .min(crate::handshake::ticket::MAX_TICKET_LIFETIME),
            age_add: nst.age_add,
            server_name: self.server_name.as_str(),
            peer_cert_sha256: self.negotiated.as_ref().and_then(|n| n.peer_cert_sha256),
            // An identity means something only to the verifier that gave
            // it: carried only with that verifier's digest.
            peer_identity: policy.and(self.negotiated.as_ref().and_then(|n| n.peer_identity)),
            verifier_policy: policy,
            alpn_context: Some(crate::handshake::ticket::alpn_context(
                self.peer_config.alpn(),
                self.negotiated
                    .as_ref()
                    .and_then(|n| n.alpn_index)
                    .and_then(|i| self.peer_config.alpn().get(usize::from(i)).copied()),
            )),
            client_cert_sha256: config.and_then(crate::handshake::ticket::client_identity),
            session_id: false,
            max_early_data: nst.max_early_data.unwrap_or(0),
            connection: self.tag,
        });
        Ok(())
    }

    /// Whether the region holds a server's post-handshake certificate
    /// request alone, whole (a client's): one whose answer waits for room
    /// or for our signer, since any other is answered as it comes.
    pub(super) fn answer_blocked(&self, rx: &RecvView<'_>) -> bool {
        let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
        self.role == Role::Client
            && self.hs.is_none()
            && matches!(split_message(region), Some((HandshakeType::CERTIFICATE_REQUEST, _, n)) if n == self.hs_len)
    }

    /// Whether a client's answer to our post-handshake certificate
    /// request starts at the front of the region (a server's).
    fn answer_waits(&self, rx: &RecvView<'_>) -> bool {
        self.role == Role::Server
            && self.hs_len > 0
            && rx.unread().first() == Some(&HandshakeType::CERTIFICATE.0)
    }

    /// Handles one post-handshake message at the front of the region:
    /// `Done(true)` once consumed, `Done(false)` when it waits for more
    /// messages, `WantWrite` / `SignaturePending` while the flight that
    /// answers it cannot be written yet.
    fn post_handshake(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<Status<bool>, Error> {
        let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
        let Some((ty, len, total)) = split_message(region) else {
            return Ok(Status::Done(false));
        };
        if len > self.max_handshake_message().max(MAX_PLAINTEXT) {
            let e = PeerMisbehaved::HandshakeTooLarge {
                len,
                max: self.max_handshake_message(),
            };
            return Err(self.fail(tx, e.into()));
        }
        let body = region.get(HANDSHAKE_HEADER_LEN..total).unwrap_or(&[]);
        if self.is_tls12() {
            // A server's HelloRequest our configuration lets us answer: a
            // renegotiation (RFC 5746), performed inside this call and
            // the ones after it.
            if ty == HandshakeType::HELLO_REQUEST && body.is_empty() && self.may_renegotiate() {
                return self.start_renegotiation(rx, tx, total);
            }
            // A client's renegotiation we asked for or allow.
            if ty == HandshakeType::CLIENT_HELLO && self.accepts_renegotiation() {
                return self.answer_renegotiation(rx, tx, total);
            }
            // TLS 1.2 after its handshake: a renegotiation asked for (a
            // server's HelloRequest) or started (a client's ClientHello)
            // is refused with a no_renegotiation warning (RFC 5246
            // §7.2.2, RFC 5746 §4.2) and the connection goes on; nothing
            // else may come.
            let refused = matches!(
                (ty, self.role),
                (HandshakeType::HELLO_REQUEST, Role::Client)
                    | (HandshakeType::CLIENT_HELLO, Role::Server)
            );
            if !refused {
                return Err(self.fail(tx, PeerMisbehaved::UnexpectedHandshake(ty).into()));
            }
            if ty == HandshakeType::HELLO_REQUEST && !body.is_empty() {
                return Err(self.fail(tx, InvalidMessage::Handshake("hello request").into()));
            }
            self.consume_handshake(rx, total);
            if !self.sent_close && self.alert_pending.is_none() {
                self.alert_pending = Some(AlertDescription::NO_RENEGOTIATION);
                self.flush_alert(tx);
            }
            return self.count_empty(tx).map(|()| Status::Done(true));
        }
        match ty {
            // RFC 8446 §4.6.2: post-handshake authentication.
            HandshakeType::CERTIFICATE_REQUEST if self.role == Role::Client => {
                return self.answer_auth_request(rx, tx, total);
            }
            HandshakeType::CERTIFICATE if self.role == Role::Server => {
                return self.check_auth_answer(rx, tx);
            }
            _ => {}
        }
        let result = match ty {
            // A client hands tickets to its sink; a server never gets one.
            HandshakeType::NEW_SESSION_TICKET if self.role == Role::Client => {
                NewSessionTicket::parse(body)
                    .map_err(client::map_extension_error)
                    .and_then(|nst| match nst.misplaced {
                        Some(ty) => Err(PeerMisbehaved::MisplacedExtension(ty).into()),
                        None => self.new_ticket(&nst),
                    })
            }
            HandshakeType::KEY_UPDATE => {
                let mut r = Reader::new(body);
                match (r.u8("key update"), r.finish("key update trailing")) {
                    (Ok(0), Ok(())) => Ok(false),
                    (Ok(1), Ok(())) => Ok(true),
                    (Ok(_), Ok(())) => {
                        Err(PeerMisbehaved::IllegalParameter("KeyUpdateRequest").into())
                    }
                    _ => Err(InvalidMessage::Handshake("key update").into()),
                }
                .and_then(|requested| {
                    let next = self
                        .records
                        .recv()
                        .ok_or(Error::Internal("no receiving key"))?
                        .next()?;
                    self.records.set_recv(next)?;
                    if requested && self.key_update.is_none() && !self.sent_close {
                        self.key_update = Some(false);
                    }
                    Ok(())
                })
            }
            other => Err(PeerMisbehaved::UnexpectedHandshake(other).into()),
        };
        if let Err(e) = result {
            return Err(self.fail(tx, e));
        }
        self.consume_handshake(rx, total);
        if ty == HandshakeType::KEY_UPDATE && self.hs_len > 0 {
            return Err(self.fail(tx, PeerMisbehaved::HandshakeFragmentation.into()));
        }
        self.count_empty(tx).map(|()| Status::Done(true))
    }

    /// Reads the next record after the handshake region: its handshake
    /// bytes join the region, application data becomes `plain_left`,
    /// alerts and CCS are handled. `Done(())` when a record was consumed.
    fn read_record(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<Status<()>, Error> {
        // Plaintext is pending here only during a renegotiation, whose
        // records are read behind it: the dead bytes of the one before go
        // first, so that those after it are one record's at most.
        if self.plain_left > 0 && self.plain_tail > 0 {
            rx.remove(
                self.plain_offset().saturating_add(self.plain_len()),
                self.plain_tail_len(),
            );
            self.plain_tail = 0;
        }
        // At most the view's length.
        let off = self.record_offset();
        let unread = rx.unread().get(off..).unwrap_or(&[]);
        let Some(header) = Header::parse(unread) else {
            return self.incomplete(rx, tx, None, self.recv_limit());
        };
        let handshaking = self.hs.is_some();
        let ccs = header.content_type == ContentType::CHANGE_CIPHER_SPEC;
        // While the handshake runs, a peer that fails before it has our
        // keys in place (OpenSSL does) sends its alert in the clear: read
        // it as the alert it is rather than as an unexpected record.
        // (Not once a TLS 1.2 peer's ChangeCipherSpec has switched its
        // key: its alerts then carry their own type outside, protected.)
        let plain_alert = handshaking
            && header.content_type == ContentType::ALERT
            && !self.records.recv().is_some_and(RecordKey::is_tls12);
        // In a renegotiation every record is protected, a ChangeCipherSpec
        // too (under the connection's key, RFC 5246 §7.1).
        let renegotiating = handshaking && self.handshake_done;
        let protected = self.records.recv().is_some() && (!ccs || renegotiating) && !plain_alert;
        // A server that declined 0-RTT and asked for another ClientHello
        // has no key yet, and skips the client's early records in the
        // clear (RFC 8446 §4.2.10), within the same bound.
        if handshaking
            && self.records.recv().is_none()
            && header.content_type == ContentType::APPLICATION_DATA
            && self.skip_early_data > 0
        {
            // A protected record's limits apply to it, and nothing may
            // come between the pieces of a handshake message (§5.1).
            let checked = if self.hs_len > 0 {
                Err(PeerMisbehaved::HandshakeFragmentation.into())
            } else {
                // The client sent them before it knew our limit.
                header.check_protected(MAX_PLAINTEXT)
            };
            if let Err(e) = checked {
                return Err(self.fail(tx, e));
            }
            let total = match header.record_len() {
                Ok(total) => total,
                Err(e) => return Err(self.fail(tx, e)),
            };
            let Some(left) = self.skip_early_data.checked_sub(skip_cost(total)) else {
                return Err(self.fail(
                    tx,
                    PeerMisbehaved::UnexpectedContentType(header.content_type).into(),
                ));
            };
            if unread.len() < total {
                return self.incomplete(rx, tx, Some(total), MAX_PLAINTEXT);
            }
            self.skip_early_data = left;
            self.drop_record(rx, off, total);
            return Ok(Status::Done(()));
        }
        // Early records a server skips were sent before the client could
        // know our limit: up to 2^14 (what opens is held to the limit
        // below).
        let skipping = handshaking && self.skip_early_data > 0;
        // Early data a server took was sent before its limit was known too.
        let early = handshaking && self.early_receiving();
        let limit = if skipping || early {
            MAX_PLAINTEXT
        } else {
            self.recv_limit()
        };
        let checked = if let Some(key) = self.records.recv().filter(|_| protected) {
            key.check_header(&header, limit)
        } else {
            check_plaintext(&header, handshaking)
        };
        if let Err(e) = checked {
            return Err(self.fail(tx, e));
        }
        let total = match header.record_len() {
            Ok(total) => total,
            Err(e) => return Err(self.fail(tx, e)),
        };
        if unread.len() < total {
            return self.incomplete(rx, tx, Some(total), limit);
        }
        // Behind unread plaintext, a record whose content could take it
        // past what the bookkeeping counts waits for a read (it is not
        // opened: nothing is consumed).
        if self.plain_left > 0
            && self
                .plain_len()
                .saturating_add(total.saturating_sub(HEADER_LEN))
                > usize::from(u16::MAX)
        {
            return Err(Misuse::PlaintextUnread {
                pending: self.plain_len(),
            }
            .into());
        }
        // From here `off + total` lies within the view, and `len` (the
        // content) within `total - HEADER_LEN`: the offsets below saturate
        // under that.
        let record = off
            .checked_add(total)
            .and_then(|end| rx.unread_mut().get_mut(off..end));
        let Some(record) = record else {
            return Err(self.fail(tx, Error::Internal("deframe length")));
        };
        // Where the content starts: after the header (and the explicit
        // nonce of a TLS 1.2 AES-GCM record).
        let at = match self.records.recv() {
            Some(key) if protected => key.content_offset(),
            _ => HEADER_LEN,
        };
        let (ty, len) = if protected {
            let Some(key) = self.records.recv_mut() else {
                return Err(self.fail(tx, Error::Internal("no receiving key")));
            };
            match key.open(record) {
                Ok(opened) => {
                    // Early data ends where records open again, and the
                    // record that opens was sent knowing our limit: its
                    // header is checked against it now, so its padding
                    // counts too.
                    self.skip_early_data = 0;
                    if skipping {
                        let limit = self.recv_limit();
                        let checked = self
                            .records
                            .recv()
                            .map_or(Ok(()), |key| key.check_header(&header, limit));
                        if let Err(e) = checked {
                            return Err(self.fail(tx, e));
                        }
                    }
                    opened
                }
                // A server rejecting 0-RTT skips what it cannot read
                // (RFC 8446 §4.2.10), within a bound.
                Err(_) if handshaking && skip_cost(total) <= self.skip_early_data => {
                    // The guard checked the cost against what is left.
                    self.skip_early_data = self.skip_early_data.saturating_sub(skip_cost(total));
                    self.drop_record(rx, off, total);
                    return Ok(Status::Done(()));
                }
                Err(e) => return Err(self.fail(tx, e)),
            }
        } else {
            (header.content_type, header.len)
        };
        let first = record.get(at).copied().unwrap_or(0);
        let level = first;
        let alert = AlertDescription(record.get(at.saturating_add(1)).copied().unwrap_or(0));
        // A TLS 1.2 NewSessionTicket waits, whole, in the region for the
        // Finished that authenticates it (it is handed to the sink only
        // then): the ChangeCipherSpec between them is no fragmentation.
        let whole_ticket_waits = ty == ContentType::CHANGE_CIPHER_SPEC
            && self.hs.as_ref().is_some_and(Handshake::holds_ticket)
            && whole_messages(rx.unread().get(..self.hs_len).unwrap_or(&[]));
        // TLS 1.2 lets records of other types come between handshake
        // messages and their fragments (RFC 5246 §6.2.1): application data
        // during a renegotiation is read as it comes.
        let interleaved = renegotiating && ty == ContentType::APPLICATION_DATA;
        if ty != ContentType::HANDSHAKE
            && ty != ContentType::ALERT
            && self.hs_len > 0
            && !whole_ticket_waits
            && !self.answer_blocked(rx)
            && !interleaved
        {
            // RFC 8446 §5.1: no other record between a message's fragments.
            return Err(self.fail(tx, PeerMisbehaved::HandshakeFragmentation.into()));
        }
        match (ty, len) {
            (ContentType::HANDSHAKE, 0) => {
                Err(self.fail(tx, PeerMisbehaved::EmptyRecord(ty).into()))
            }
            (ContentType::HANDSHAKE, _) => {
                // Move the fragment down to join the region: over the dead
                // bytes, or past the gap and the unread plaintext of a
                // renegotiation, which move up behind it.
                let from = off.saturating_add(at);
                if self.plain_left > 0 {
                    move_down(rx, self.hs_len, from, len);
                } else {
                    rx.unread_mut()
                        .copy_within(from..from.saturating_add(len), self.hs_len);
                }
                self.hs_len = self.hs_len.saturating_add(len);
                let dead = total.saturating_sub(len);
                if self.plain_left > 0 {
                    self.plain_tail = self.plain_tail.saturating_add(to_u16(dead));
                } else {
                    self.hs_gap = self.hs_gap.saturating_add(dead);
                }
                let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
                if let Some(announced) = announced_len(region) {
                    if announced > self.max_handshake_message() {
                        let e = PeerMisbehaved::HandshakeTooLarge {
                            len: announced,
                            max: self.max_handshake_message(),
                        };
                        return Err(self.fail(tx, e.into()));
                    }
                }
                Ok(Status::Done(()))
            }
            // 0-RTT data a server took (it opened under the early key):
            // plaintext for `read_early`, within the allowance (RFC 8446
            // §4.2.10).
            (ContentType::APPLICATION_DATA, _)
                if handshaking && protected && self.early_receiving() =>
            {
                let within = match &mut self.resumption {
                    AfterHandshake::EarlyAccepted(_, left) => u32::try_from(len)
                        .ok()
                        .and_then(|n| left.checked_sub(n))
                        .map(|rest| *left = rest)
                        .is_some(),
                    _ => false,
                };
                if !within {
                    return Err(self.fail(tx, PeerMisbehaved::TooMuchEarlyData.into()));
                }
                self.take_application_data(rx, tx, (off, at, total, len))
            }
            // Between the peer's ChangeCipherSpec and its Finished nothing
            // else may come.
            (ContentType::APPLICATION_DATA, _)
                if renegotiating
                    && !self
                        .hs
                        .as_ref()
                        .is_some_and(Handshake::awaits_finished_after_change) =>
            {
                self.take_application_data(rx, tx, (off, at, total, len))
            }
            (ContentType::APPLICATION_DATA, _) if handshaking => {
                Err(self.fail(tx, PeerMisbehaved::UnexpectedContentType(ty).into()))
            }
            (ContentType::APPLICATION_DATA, _) => {
                self.take_application_data(rx, tx, (off, at, total, len))
            }
            (ContentType::ALERT, 2) => {
                self.drop_record(rx, off, total);
                // Before the version is known, TLS 1.2's rules for a
                // client that offered it (a warning unrecognized_name
                // may come before the ServerHello).
                let tls12 = self.is_tls12() || self.may_speak_tls12();
                match alert {
                    // RFC 5246 §7.2.1: a TLS 1.2 peer's close_notify closes
                    // both directions; ours answers it.
                    AlertDescription::CLOSE_NOTIFY if tls12 => {
                        self.recv_close = true;
                        // It takes the place of a warning still queued
                        // (a no_renegotiation): the close says more.
                        let warning =
                            self.alert_pending == Some(AlertDescription::NO_RENEGOTIATION);
                        if !self.sent_close && (self.alert_pending.is_none() || warning) {
                            self.alert_pending = Some(AlertDescription::CLOSE_NOTIFY);
                            self.flush_alert(tx);
                        }
                        Ok(Status::Closed)
                    }
                    AlertDescription::CLOSE_NOTIFY => {
                        self.recv_close = true;
                        Ok(Status::Closed)
                    }
                    // RFC 5246 §7.2: a warning is not fatal (no_renegotiation,
                    // user_canceled, and any we do not know), within the
                    // bound on records that carry nothing; one the RFCs
                    // call always fatal is, whatever its level.
                    _ if tls12
                        && level == crate::wire::AlertLevel::WARNING.0
                        && !alert.is_always_fatal() =>
                    {
                        // A server that refuses the renegotiation it asked
                        // for: it ends, the connection goes on as it was.
                        if alert == AlertDescription::NO_RENEGOTIATION
                            && handshaking
                            && self.handshake_done
                            && !self.renegotiation_declined()
                        {
                            return Err(self.fail(tx, Error::AlertReceived(alert)));
                        }
                        // A client that refuses the renegotiation we asked
                        // for.
                        if alert == AlertDescription::NO_RENEGOTIATION {
                            self.renegotiation_refused();
                        }
                        self.count_empty(tx)?;
                        Ok(Status::Done(()))
                    }
                    // RFC 8446 §6.1: user_canceled is not fatal; a
                    // close_notify is to follow it. (In TLS 1.2 the level
                    // says: a fatal one is fatal, RFC 5246 §7.2.)
                    AlertDescription::USER_CANCELED if !tls12 => {
                        self.count_empty(tx)?;
                        Ok(Status::Done(()))
                    }
                    // RFC 8446 §6: every other alert is fatal, whatever its
                    // level says. No alert is sent back.
                    _ => Err(self.fail(tx, Error::AlertReceived(alert))),
                }
            }
            // RFC 8446 §5.1: an alert record carries one alert; an empty
            // one, protected or not, padded or not, is unexpected.
            (ContentType::ALERT, 0) => Err(self.fail(tx, PeerMisbehaved::EmptyRecord(ty).into())),
            (ContentType::ALERT, _) => Err(self.fail(tx, InvalidMessage::BadAlert.into())),
            (ContentType::CHANGE_CIPHER_SPEC, _)
                if self
                    .hs
                    .as_ref()
                    .is_some_and(Handshake::expects_change_cipher_spec) =>
            {
                // TLS 1.2: the peer's ChangeCipherSpec switches its
                // direction to the new key (RFC 5246 §7.1). No message
                // may straddle it (checked above for a pending fragment).
                if (protected && !renegotiating) || len != 1 || first != 1 {
                    return Err(self.fail(tx, InvalidMessage::BadChangeCipherSpec.into()));
                }
                self.drop_record(rx, off, total);
                let switched = match self.hs.take() {
                    Some(hs) => hs.change_cipher_spec(&mut self.records),
                    None => Err(Error::Internal("handshake state missing")),
                };
                match switched {
                    Ok(hs) => self.hs = Slot::Running(hs),
                    Err(e) => return Err(self.fail(tx, e)),
                }
                Ok(Status::Done(()))
            }
            (ContentType::CHANGE_CIPHER_SPEC, _) if self.is_tls12() => {
                Err(self.fail(tx, PeerMisbehaved::UnexpectedContentType(ty).into()))
            }
            (ContentType::CHANGE_CIPHER_SPEC, _) => {
                // RFC 8446 §5: a single byte 1, unprotected, between the
                // first ClientHello and the peer's Finished, dropped. One
                // at most, as OpenSSL and BoringSSL accept; a protected
                // one, one before the ClientHello or a second one is
                // unexpected_message.
                let allowed = handshaking
                    && !protected
                    && !self.ccs_seen
                    && !matches!(self.hs.as_ref(), Some(Handshake::Server(s)) if s.awaits_client_hello());
                if !allowed {
                    return Err(self.fail(tx, PeerMisbehaved::UnexpectedContentType(ty).into()));
                }
                if len != 1 || first != 1 {
                    let e: Error = if handshaking {
                        InvalidMessage::BadChangeCipherSpec.into()
                    } else {
                        PeerMisbehaved::UnexpectedContentType(ty).into()
                    };
                    return Err(self.fail(tx, e));
                }
                self.ccs_seen = true;
                self.drop_record(rx, off, total);
                self.count_empty(tx)?;
                Ok(Status::Done(()))
            }
            _ => Err(self.fail(tx, PeerMisbehaved::UnexpectedContentType(ty).into())),
        }
    }

    /// Drops a record that sits after the region.
    fn drop_record(&mut self, rx: &mut RecvView<'_>, off: usize, total: usize) {
        if off == 0 {
            rx.advance(total);
        } else if self.plain_left > 0 {
            // Behind a renegotiation's unread plaintext.
            self.plain_tail = self.plain_tail.saturating_add(to_u16(total));
        } else {
            // The record lies in the view after the gap.
            self.hs_gap = self.hs_gap.saturating_add(total);
        }
    }

    /// A record that carried nothing for the caller: count it against
    /// [`MAX_EMPTY_RECORDS`].
    pub(super) fn count_empty(&mut self, tx: &mut SendView<'_>) -> Result<(), Error> {
        self.empty_records = self.empty_records.saturating_add(1);
        if self.empty_records > MAX_EMPTY_RECORDS {
            return Err(self.fail(tx, PeerMisbehaved::TooManyEmptyRecords.into()));
        }
        Ok(())
    }

    /// No whole record after the region.
    fn incomplete(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        total: Option<usize>,
        limit: usize,
    ) -> Result<Status<()>, Error> {
        // Reclaim the dead bytes between the handshake region and the next
        // record before waiting: with them in place a full buffer could
        // wait forever for bytes it has no room for.
        if self.hs_gap > 0 {
            rx.remove(self.hs_len, self.hs_gap);
            self.hs_gap = 0;
        }
        if self.plain_tail > 0 && self.plain_left > 0 {
            rx.remove(
                self.hs_len.saturating_add(self.plain_len()),
                self.plain_tail_len(),
            );
            self.plain_tail = 0;
        }
        // A saturated sum is still more than any capacity.
        let needed = self
            .hs_len
            .saturating_add(self.plain_len())
            .saturating_add(total.unwrap_or(HEADER_LEN));
        if needed > rx.capacity() && self.plain_left > 0 {
            // A renegotiation's record behind plaintext the caller has not
            // read: reading it makes the room.
            return Err(Misuse::PlaintextUnread {
                pending: self.plain_len(),
            }
            .into());
        }
        if needed > rx.capacity() {
            // A record larger than a view of the size our configuration
            // asks for: the peer's doing (RFC 8449 §4's answer).
            if let (0, Some(len)) = (self.hs_len, total) {
                if rx.capacity() >= crate::record::max_record_len_any(limit) {
                    let e = InvalidMessage::RecordTooLarge {
                        len: len.saturating_sub(HEADER_LEN),
                        max: rx.capacity().saturating_sub(HEADER_LEN),
                    };
                    return Err(self.fail(tx, e.into()));
                }
            }
            if self.hs_len > 0 {
                // A handshake message in pieces whose next piece does not
                // fit beside the ones before: this buffer cannot
                // reassemble it (its size is the caller's, the limit ours).
                let e = PeerMisbehaved::HandshakeTooLarge {
                    len: needed,
                    max: rx.capacity(),
                };
                return Err(self.fail(tx, e.into()));
            }
            return Err(Misuse::RecvBufferTooSmall { needed }.into());
        }
        rx.make_room_for(needed);
        if rx.eof {
            return Err(self.fail(tx, Error::Truncated));
        }
        Ok(Status::WantRead)
    }

    /// Where the pending plaintext starts in the received view: after
    /// the handshake region and its gap (both empty but while a request
    /// whose answer waits for room stays in the region).
    pub(super) fn plain_offset(&self) -> usize {
        self.hs_len.saturating_add(self.hs_gap)
    }

    /// The pending plaintext's length.
    pub(super) fn plain_len(&self) -> usize {
        usize::from(self.plain_left)
    }

    fn plain_tail_len(&self) -> usize {
        usize::from(self.plain_tail)
    }

    /// Where the next record starts: after the region, its gap, the
    /// pending plaintext and its dead bytes.
    fn record_offset(&self) -> usize {
        self.plain_offset()
            .saturating_add(self.plain_len())
            .saturating_add(self.plain_tail_len())
    }

    pub(super) fn consume_plain(&mut self, rx: &mut RecvView<'_>, n: usize) {
        // Callers clamp `n` to `plain_left`.
        self.plain_left = self.plain_left.saturating_sub(to_u16(n));
        let tail = if self.plain_left == 0 {
            let tail = self.plain_tail_len();
            self.plain_tail = 0;
            tail
        } else {
            0
        };
        if self.plain_offset() == 0 {
            rx.advance(n.saturating_add(tail));
        } else {
            // Behind a waiting region, what is read joins its gap.
            self.hs_gap = self.hs_gap.saturating_add(n).saturating_add(tail);
        }
    }
}

/// A length the bookkeeping keeps in two bytes (callers check it fits).
fn to_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Moves the `len` bytes at `from` down to `to` (`to <= from`), and the
/// bytes between up behind them, in place: a record's content joins the
/// region or the plaintext before it, and what lay between keeps its
/// order.
fn move_down(rx: &mut RecvView<'_>, to: usize, from: usize, len: usize) {
    if let Some(span) = rx
        .unread_mut()
        .get_mut(to..from.saturating_add(len))
        .filter(|span| span.len() >= len)
    {
        span.rotate_right(len);
    }
}

/// What a skipped early record of `total` bytes costs the skip budget:
/// the content it can carry (less the header, the inner type and the
/// tag, the least a record adds), and 1 at least, so that the number of
/// records is bounded too. The client's allowance counts content, not
/// the overhead of however many records it cut it into.
fn skip_cost(total: usize) -> u32 {
    let content = total.saturating_sub(HEADER_LEN + 1 + crate::record::TAG_LEN);
    u32::try_from(content.max(1)).unwrap_or(u32::MAX)
}

/// Whether `region` is whole handshake messages, end to end.
fn whole_messages(mut region: &[u8]) -> bool {
    while !region.is_empty() {
        let Some((_, _, total)) = split_message(region) else {
            return false;
        };
        region = region.get(total..).unwrap_or(&[]);
    }
    true
}

/// Checks the header of an unprotected record: a handshake, alert or CCS
/// record, at most 2^14 bytes, with a 0x03xx version.
pub(crate) fn check_plaintext(header: &Header, handshaking: bool) -> Result<(), Error> {
    let ty = header.content_type;
    let allowed = ty == ContentType::HANDSHAKE
        || ty == ContentType::ALERT
        || (ty == ContentType::CHANGE_CIPHER_SPEC && handshaking);
    if !allowed {
        return Err(PeerMisbehaved::UnexpectedContentType(ty).into());
    }
    if header.len > MAX_PLAINTEXT {
        return Err(InvalidMessage::RecordTooLarge {
            len: header.len,
            max: MAX_PLAINTEXT,
        }
        .into());
    }
    // RFC 8446 §5.1: legacy_record_version is ignored, but anything not
    // 0x03xx is not TLS at all.
    if header.version.0 >> 8 != 3 {
        return Err(InvalidMessage::BadRecordVersion(header.version.0).into());
    }
    Ok(())
}

/// Room the handshake's next step may need in the outgoing view.
/// Room the step that handles `message` (empty: a pending signature) may
/// write.
fn room_needed(conn: &Connection<'_>, hs: &Handshake, fragment: usize, message: &[u8]) -> usize {
    let inputs = client_inputs(
        &conn.peer_config,
        &conn.server_name,
        &conn.resume,
        conn.early,
    );
    match (hs, &conn.peer_config, inputs) {
        (Handshake::Client(s), _, Some(inputs)) => s.room_needed(inputs, fragment, message),
        (Handshake::Server(s), PeerConfig::Server(c), _) => s.room_needed(c, fragment, message),
        // The step fails for want of its configuration.
        _ => 0,
    }
}

/// What a client connection lends its handshake's steps: the
/// configuration, the server name and the ticket it holds.
pub(super) fn client_inputs<'c>(
    config: &'c PeerConfig<'_>,
    server_name: &'c Name<'_>,
    resume: &'c Option<Offer<'_>>,
    early: super::EarlyPhase,
) -> Option<client::Inputs<'c>> {
    use super::EarlyPhase as E;
    Some(client::Inputs {
        config: config.client()?,
        server_name: server_name.as_str(),
        resume: resume.as_ref().map(Offer::view),
        early: matches!(early, E::Requested | E::Offered | E::Accepted),
    })
}
