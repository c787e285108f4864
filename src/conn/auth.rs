//! Post-handshake client authentication at the connection: a server's
//! requests, queued and written like a KeyUpdate; a client's answer,
//! written by the `read` that meets the request, with the room rules of
//! any flight; a server's check of the answer (`handshake::post_auth`).

use super::{Connection, PeerConfig, Status};
use crate::buffer::{RecvView, SendView};
use crate::error::{Error, Misuse, PeerMisbehaved};
use crate::handshake::messages::HANDSHAKE_HEADER_LEN;
use crate::handshake::post_auth::{Answered, ClientAuth, PostAuth};
use crate::wire::HandshakeType;
use rustls_pki_types::UnixTime;

impl Connection<'_> {
    /// Asks the client for its certificate after the handshake (TLS 1.3
    /// post-handshake authentication, RFC 8446 §4.6.2). The
    /// CertificateRequest is queued: the next `write`, `read` or
    /// `handshake` with room sends it (`wants_write` says so); one still
    /// queued when `shutdown` sends our close_notify is dropped (nothing
    /// follows the close_notify) and no longer counts as pending. The client's answer is checked by the client verifier, at
    /// `now`, in the `read` that completes it; then
    /// [`negotiated`](Self::negotiated) reports the client's
    /// certificate and identity, the verified chain goes to the chain
    /// storage, and [`ServerConfig::auth_hook`](crate::handshake::ServerConfig::auth_hook)
    /// is told ([`PeerAuth`](crate::handshake::post_auth::PeerAuth)). A
    /// client that answers with no certificate is
    /// `certificate_required` when the verifier makes client
    /// authentication mandatory, and otherwise reported as such.
    /// Application data flows both ways meanwhile.
    ///
    /// - `Err(Misuse(NoPostHandshakeAuth))`: not a TLS 1.3 server whose
    ///   handshake completed, with a client verifier, and a client that
    ///   offered post_handshake_auth and has not closed (after its
    ///   close_notify it sends nothing more, no answer either).
    /// - `Err(Misuse(TooManyAuthRequests))`: as many requests are
    ///   unanswered as a connection keeps
    ///   ([`MAX_AUTH_REQUESTS`](crate::handshake::post_auth::MAX_AUTH_REQUESTS)).
    /// - `Err(Misuse(WriteAfterShutdown))`: our close_notify is sent.
    /// - The sticky error of a failed connection.
    ///
    /// Nothing changes on an error.
    pub fn request_client_auth(&mut self, now: UnixTime) -> Result<(), Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.sent_close {
            return Err(Misuse::WriteAfterShutdown.into());
        }
        let (PeerConfig::Server(config), true, false) =
            (&self.peer_config, self.handshake_done, self.recv_close)
        else {
            return Err(Misuse::NoPostHandshakeAuth.into());
        };
        let Some(PostAuth::Server(auth)) = self.hs.post_auth() else {
            return Err(Misuse::NoPostHandshakeAuth.into());
        };
        auth.request(config, now)
    }

    /// Post-handshake certificate requests made and not yet answered
    /// (server; 0 on a client).
    pub fn client_auth_pending(&self) -> u8 {
        self.hs.server_auth().map_or(0, |a| a.outstanding())
    }

    /// Writes a server's queued CertificateRequests, as room allows.
    pub(super) fn flush_auth_requests(
        &mut self,
        tx: &mut SendView<'_>,
    ) -> Result<Status<()>, Error> {
        let fragment = self.send_fragment();
        loop {
            let need = match (&self.peer_config, self.hs.server_auth()) {
                (PeerConfig::Server(config), Some(auth))
                    if auth.queued() && self.handshake_done && !self.sent_close =>
                {
                    auth.room(config, fragment)
                }
                _ => return Ok(Status::Done(())),
            };
            let mut out = match self.out_for(tx, need, fragment)? {
                Ok(out) => out,
                Err(needed) => return Ok(Status::WantWrite { needed }),
            };
            let written = match (
                &self.peer_config,
                self.hs.post_auth(),
                self.records.send_mut(),
            ) {
                (PeerConfig::Server(config), Some(PostAuth::Server(auth)), Some(send)) => {
                    auth.write(config, send, &mut out)
                }
                _ => Err(Error::Internal("post-handshake request without its state")),
            };
            let used = out.used;
            tx.commit(used);
            if let Err(e) = written {
                return Err(self.fail(tx, e));
            }
        }
    }

    /// A client meets a CertificateRequest (`total` bytes) at the front
    /// of the region: writes its answer when the outgoing view has room
    /// for it all (`Done(true)`, the request consumed); until then the
    /// request stays and the call answers `WantWrite` (or
    /// `SignaturePending` while our signer works).
    pub(super) fn answer_auth_request(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        total: usize,
    ) -> Result<Status<bool>, Error> {
        let unexpected = PeerMisbehaved::UnexpectedHandshake(HandshakeType::CERTIFICATE_REQUEST);
        let (Some(config), Some(PostAuth::Client(_))) =
            (self.peer_config.client(), self.hs.post_auth())
        else {
            return Err(self.fail(tx, unexpected.into()));
        };
        // A request we refuse is refused at once, not once there is room.
        {
            let body = rx.unread().get(HANDSHAKE_HEADER_LEN..total).unwrap_or(&[]);
            let checked = match self.hs.post_auth() {
                Some(PostAuth::Client(auth)) => auth.check(config, body),
                _ => Err(unexpected.into()),
            };
            if let Err(e) = checked {
                return Err(self.fail(tx, e));
            }
        }
        if self.sent_close {
            // Nothing may follow our close_notify: the request goes
            // unanswered, and counts as a record that carried nothing.
            self.forget_auth_signature();
            self.consume_handshake(rx, total);
            return self.count_empty(tx).map(|()| Status::Done(true));
        }
        let fragment = self.send_fragment();
        let need = ClientAuth::room(config, fragment);
        let mut out = match self.out_for(tx, need, fragment)? {
            Ok(out) => out,
            Err(needed) => return Ok(Status::WantWrite { needed }),
        };
        let msg = rx.unread().get(..total).unwrap_or(&[]);
        let body = msg.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]);
        let answered = match (
            self.peer_config.client(),
            self.hs.post_auth(),
            self.records.send_mut(),
        ) {
            (Some(config), Some(PostAuth::Client(auth)), Some(send)) => {
                auth.answer(config, msg, body, send, &mut out)
            }
            _ => Err(Error::Internal("post-handshake request without its state")),
        };
        let used = out.used;
        tx.commit(used);
        match answered {
            Ok(Answered::Written) => {
                self.consume_handshake(rx, total);
                Ok(Status::Done(true))
            }
            Ok(Answered::Pending) => Ok(Status::SignaturePending),
            Err(e) => Err(self.fail(tx, e)),
        }
    }

    /// A server meets a Certificate at the front of the region: checks
    /// the answer once it is whole there (`Done(true)`, consumed), or
    /// waits for more (`Done(false)`).
    pub(super) fn check_auth_answer(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
    ) -> Result<Status<bool>, Error> {
        let region = rx.unread().get(..self.hs_len).unwrap_or(&[]);
        let checked = match (&self.peer_config, self.hs.post_auth(), self.records.recv()) {
            (PeerConfig::Server(config), Some(PostAuth::Server(auth)), Some(key)) => auth
                .answer(
                    config,
                    region,
                    key.secret(),
                    &mut self.negotiated,
                    &mut self.peer_chain,
                )
                .map(|a| a.map(|(n, auth)| (n, auth, config.auth_hook))),
            _ => Err(PeerMisbehaved::UnexpectedHandshake(HandshakeType::CERTIFICATE).into()),
        };
        match checked {
            Ok(None) => Ok(Status::Done(false)),
            Ok(Some((consumed, auth, hook))) => {
                self.consume_handshake(rx, consumed);
                if let Some(hook) = hook {
                    hook.authenticated(self.tag, &auth);
                }
                Ok(Status::Done(true))
            }
            Err(e) => Err(self.fail(tx, e)),
        }
    }
}
