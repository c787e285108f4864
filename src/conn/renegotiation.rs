//! TLS 1.2 secure renegotiation (RFC 5746) at the connection: the
//! `renegotiate` call, a client's answer to a HelloRequest, a server's
//! answer to a renegotiation ClientHello, and what the embedder's hook
//! is told. The handshake itself is `handshake::tls12`'s; it runs in the
//! slot the first one used, while the connection's keys go on in
//! `records`.

use rustls_pki_types::UnixTime;

use super::input::client_inputs;
use super::{Connection, EarlyPhase, Handshake, PeerConfig, Role, Slot, Status, NO_CONFIG};
use crate::buffer::{Buffers, RecvView, SendView};
use crate::error::{Error, Misuse};
use crate::handshake::client;
use crate::handshake::post_auth::{PeerAuth, PostAuth};
use crate::handshake::{server, tls12};
use crate::wire::ContentType;

/// [`Secured::asked`](tls12::Secured::asked): a HelloRequest is out.
const ASKED: u8 = 1;
/// A HelloRequest is out, and the renegotiation asks for a certificate.
const ASKED_WITH_CLIENT_AUTH: u8 = 2;

impl<'a> Connection<'a> {
    /// Starts a TLS 1.2 secure renegotiation (RFC 5746) on an established
    /// connection: a full handshake under the connection's keys, after
    /// which the new keys and parameters are in force.
    ///
    /// - A server sends a HelloRequest; the client's ClientHello, when it
    ///   comes, is answered inside the `read` or `write` that meets it.
    ///   With `client_auth` the renegotiation asks for a client
    ///   certificate (the configuration's client verifier checks it, and
    ///   TLS 1.2 transcript storage must be lent,
    ///   [`keep_tls12_transcript`](Self::keep_tls12_transcript)):
    ///   [`negotiated`](Self::negotiated) reports it once the
    ///   renegotiation completes, and
    ///   [`AuthHook::renegotiated`](crate::handshake::post_auth::AuthHook::renegotiated)
    ///   is told. A client that refuses (a no_renegotiation warning)
    ///   leaves the connection as it was, and
    ///   [`AuthHook::renegotiation_refused`](crate::handshake::post_auth::AuthHook::renegotiation_refused)
    ///   is told.
    /// - A client sends its ClientHello at once (`client_auth` must be
    ///   false: a server asks for certificates).
    ///
    /// Certificates are checked at `now`. While it runs,
    /// [`is_renegotiating`](Self::is_renegotiating) is true, `read`
    /// delivers the peer's data as it comes, and `write` goes on sealing
    /// under the connection's key as long as TLS allows (docs/semantics.md
    /// says when it answers `WantRead`).
    ///
    /// - `Done(())`: asked for (a server that has already asked and not
    ///   been answered sends no second HelloRequest; with `client_auth`
    ///   the one renegotiation asks for the certificate, and
    ///   [`renegotiation_asked`](Self::renegotiation_asked) says a request
    ///   is out).
    /// - `WantWrite { needed }`: no room for the HelloRequest or the
    ///   ClientHello; drain and call again (nothing changed).
    /// - `Err(Misuse(NoRenegotiation))`: not an established TLS 1.2
    ///   connection, a renegotiation is running, or the peer has closed.
    /// - `Err(Misuse(BadConfig))`: `client_auth` on a client, or on a
    ///   server without a client verifier or transcript storage.
    /// - `Err(Misuse(WriteAfterShutdown))`: our close_notify is sent.
    /// - The sticky error of a failed connection.
    pub fn renegotiate<R, S>(
        &mut self,
        bufs: &mut Buffers<R, S>,
        now: UnixTime,
        client_auth: bool,
    ) -> Result<Status<()>, Error>
    where
        R: AsRef<[u8]> + AsMut<[u8]>,
        S: AsRef<[u8]> + AsMut<[u8]>,
    {
        let (mut rx, mut tx) = bufs.views();
        self.check(&mut tx)?;
        if self.sent_close {
            return Err(Misuse::WriteAfterShutdown.into());
        }
        let live = self.handshake_done && !self.recv_close;
        let Slot::After(PostAuth::Tls12(secured)) = &mut self.hs else {
            return Err(Misuse::NoRenegotiation.into());
        };
        if !live {
            return Err(Misuse::NoRenegotiation.into());
        }
        match (self.role, &self.peer_config) {
            (Role::Server, PeerConfig::Server(config)) => {
                if client_auth
                    && !config.client_verifier.is_some_and(|_| {
                        tls12::client_auth_possible(config, &self.tls12_transcript)
                    })
                {
                    return Err(Misuse::BadConfig(
                        "renegotiate: client_auth needs a client verifier and transcript storage",
                    )
                    .into());
                }
                // Asked already: no second HelloRequest, but the
                // renegotiation asks for a certificate if either call did.
                if secured.asked != 0 {
                    if client_auth {
                        secured.asked = ASKED_WITH_CLIENT_AUTH;
                    }
                    secured.now = now;
                    return Ok(Status::Done(()));
                }
                // A HelloRequest: an empty handshake message, sealed.
                match self.seal_short(&mut tx, ContentType::HANDSHAKE, &[0, 0, 0, 0])? {
                    Status::Done(()) => {}
                    other => return Ok(other),
                }
                if let Slot::After(PostAuth::Tls12(secured)) = &mut self.hs {
                    secured.asked = if client_auth {
                        ASKED_WITH_CLIENT_AUTH
                    } else {
                        ASKED
                    };
                    secured.now = now;
                }
                Ok(Status::Done(()))
            }
            (Role::Client, PeerConfig::Client(_)) => {
                if client_auth {
                    return Err(Misuse::BadConfig("renegotiate: client_auth is a server's").into());
                }
                secured.now = now;
                self.start_renegotiation(&mut rx, &mut tx, 0)
                    .map(|s| s.map(|_| ()))
            }
            _ => Err(NO_CONFIG),
        }
    }

    /// Whether our HelloRequest is out and the client has neither started
    /// the renegotiation (then [`is_renegotiating`](Self::is_renegotiating))
    /// nor refused it (a server; false on a client).
    pub fn renegotiation_asked(&self) -> bool {
        matches!(&self.hs, Slot::After(PostAuth::Tls12(s)) if s.asked != 0)
    }

    /// Whether a server's HelloRequest now starts a renegotiation: a
    /// client configured for more than it has done, neither side closed.
    pub(super) fn may_renegotiate(&self) -> bool {
        let Slot::After(PostAuth::Tls12(s)) = &self.hs else {
            return false;
        };
        self.role == Role::Client
            && !self.sent_close
            && !self.recv_close
            && self
                .peer_config
                .client()
                .is_some_and(|c| c.renegotiations > s.renegotiations)
    }

    /// Whether a client's ClientHello now starts a renegotiation: one we
    /// asked for, or one more than the configuration allows, neither side
    /// closed.
    pub(super) fn accepts_renegotiation(&self) -> bool {
        let (Slot::After(PostAuth::Tls12(s)), PeerConfig::Server(config)) =
            (&self.hs, &self.peer_config)
        else {
            return false;
        };
        !self.sent_close
            && !self.recv_close
            && (s.asked != 0 || config.renegotiations > s.renegotiations)
    }

    /// Starts a client's renegotiation: the one a server's HelloRequest
    /// (`total` bytes at the front of the region) asks for, or (`total`
    /// 0) our own, once the outgoing view has room for our ClientHello
    /// (until then `WantWrite`, the request kept).
    pub(super) fn start_renegotiation(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        total: usize,
    ) -> Result<Status<bool>, Error> {
        let Slot::After(PostAuth::Tls12(secured)) = self.hs else {
            return Err(Error::Internal("renegotiation without its state"));
        };
        let fragment = self.send_fragment();
        let Some(inputs) = client_inputs(
            &self.peer_config,
            &self.server_name,
            &self.resume,
            EarlyPhase::None,
        ) else {
            return Err(self.abort(tx, NO_CONFIG));
        };
        let need = client::State::renegotiation_room(secured.now, inputs, fragment);
        let mut out = match self.out_for(tx, need, fragment)? {
            Ok(out) => out,
            Err(needed) => return Ok(Status::WantWrite { needed }),
        };
        let mut post_auth = None;
        let mut keys = step_keys!(self, &mut post_auth);
        let inputs = client_inputs(
            &self.peer_config,
            &self.server_name,
            &self.resume,
            EarlyPhase::None,
        );
        let started = match inputs {
            Some(inputs) => client::State::renegotiate(inputs, secured, &mut keys, &mut out),
            None => Err(NO_CONFIG),
        };
        let used = out.used;
        tx.commit(used);
        match started {
            Ok(state) => {
                self.hs = Slot::Running(Handshake::Client(state));
                if total > 0 {
                    self.consume_handshake(rx, total);
                }
                Ok(Status::Done(true))
            }
            Err(e) => Err(self.abort(tx, e)),
        }
    }

    /// Answers a client's renegotiation ClientHello (`total` bytes at
    /// the front of the region) with our flight, once the outgoing view
    /// has room for it all (until then `WantWrite`, the hello kept).
    pub(super) fn answer_renegotiation(
        &mut self,
        rx: &mut RecvView<'_>,
        tx: &mut SendView<'_>,
        total: usize,
    ) -> Result<Status<bool>, Error> {
        let (Slot::After(PostAuth::Tls12(secured)), PeerConfig::Server(config)) =
            (&self.hs, &self.peer_config)
        else {
            return Err(Error::Internal("renegotiation without its state"));
        };
        let secured = *secured;
        let fragment = match self.peer_fragment_limit() {
            Some(limit) => self.send_fragment().min(limit),
            None => self.send_fragment(),
        };
        let need = tls12::server_renegotiation_room(config, fragment);
        let mut out = match self.out_for(tx, need, fragment)? {
            Ok(out) => out,
            Err(needed) => return Ok(Status::WantWrite { needed }),
        };
        let mut post_auth = None;
        let mut keys = step_keys!(self, &mut post_auth);
        let msg = rx.unread().get(..total).unwrap_or(&[]);
        let client_auth = secured.asked == ASKED_WITH_CLIENT_AUTH;
        let answered = match &self.peer_config {
            PeerConfig::Server(config) => {
                tls12::server_renegotiation(config, secured, client_auth, msg, &mut keys, &mut out)
            }
            _ => Err(NO_CONFIG),
        };
        let used = out.used;
        tx.commit(used);
        match answered {
            Ok(state) => {
                self.hs = Slot::Running(Handshake::Server(server::State::renegotiation(
                    secured.now,
                    state,
                )));
                self.consume_handshake(rx, total);
                Ok(Status::Done(true))
            }
            Err(e) => Err(self.abort(tx, e)),
        }
    }

    /// The hook of either side's configuration.
    fn hook(&self) -> Option<&'a dyn crate::handshake::post_auth::AuthHook> {
        match &self.peer_config {
            PeerConfig::Server(config) => config.auth_hook,
            PeerConfig::Client(config) => config.auth_hook,
            _ => None,
        }
    }

    /// A renegotiation just completed: the hook is told what is now in
    /// force (the peer's certificate).
    pub(super) fn renegotiated(&mut self) {
        let pending = self.plain_left > 0;
        let Slot::After(PostAuth::Tls12(s)) = &mut self.hs else {
            return;
        };
        // Data still unread was sent before it: a read returns it alone.
        s.fenced = pending;
        let request = u16::from(s.renegotiations);
        if let Some(hook) = self.hook() {
            let n = self.negotiated.as_ref();
            hook.renegotiated(
                self.tag,
                &PeerAuth {
                    request,
                    peer_cert_sha256: n.and_then(|n| n.peer_cert_sha256),
                    peer_identity: n.and_then(|n| n.peer_identity),
                },
            );
        }
    }

    /// Whether the plaintext just read to its end was sent before a
    /// renegotiation that completed meanwhile (the fence goes with it).
    pub(super) fn fence_reached(&mut self) -> bool {
        match &mut self.hs {
            Slot::After(PostAuth::Tls12(s)) if self.plain_left == 0 => {
                core::mem::take(&mut s.fenced)
            }
            _ => false,
        }
    }

    /// A no_renegotiation warning came while our renegotiation runs:
    /// false unless it waits for the answer to its ClientHello, which
    /// this is (the connection goes back to what it had).
    pub(super) fn renegotiation_declined(&mut self) -> bool {
        // Anywhere else the state stays, for the error's clean-up (a
        // signer waiting for it is told).
        if !matches!(self.hs.as_ref(), Some(Handshake::Client(s)) if s.awaits_renegotiation_answer())
        {
            return false;
        }
        let Some(Handshake::Client(s)) = self.hs.take() else {
            return false;
        };
        let Some(secured) = s.refused_renegotiation() else {
            return false;
        };
        self.tls12_transcript.finish();
        self.hs = Slot::After(PostAuth::Tls12(secured));
        if let Some(hook) = self.hook() {
            hook.renegotiation_refused(self.tag);
        }
        true
    }

    /// A no_renegotiation warning came: on a server that asked, the
    /// request is over (a ClientHello after it is the client's own) and
    /// the hook is told.
    pub(super) fn renegotiation_refused(&mut self) {
        let (PeerConfig::Server(config), Slot::After(PostAuth::Tls12(s))) =
            (&self.peer_config, &mut self.hs)
        else {
            return;
        };
        if core::mem::take(&mut s.asked) != 0 {
            if let Some(hook) = config.auth_hook {
                hook.renegotiation_refused(self.tag);
            }
        }
    }
}
