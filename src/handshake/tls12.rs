//! The TLS 1.2 handshake (RFC 5246 §7, RFC 8422, RFC 7627, RFC 5746), in
//! the same engine as TLS 1.3: ECDHE with the AEAD suites only, the
//! extended master secret, secure renegotiation's empty
//! `renegotiation_info` on the initial handshake.
//!
//! ```text
//! client                                   server
//! ClientHello (both versions) ───────────►
//!           ◄─────────── ServerHello, Certificate, ServerKeyExchange,
//!                        [CertificateRequest], ServerHelloDone
//! [Certificate], ClientKeyExchange, [CertificateVerify],
//! ChangeCipherSpec, Finished ────────────►
//!           ◄─────────── ChangeCipherSpec, Finished
//! ```
//!
//! Each side's flight is handled in one step once it lies whole in the
//! reassembly region (the server's from Certificate to ServerHelloDone,
//! the client's from Certificate or ClientKeyExchange to its Finished),
//! so no certificate is kept: the ServerKeyExchange signature is checked
//! while the end-entity certificate is still in the received view.
//!
//! A ChangeCipherSpec switches the direction it belongs to
//! ([`Records::switch_send`], [`Records::switch_recv`]); each key is
//! derived from the key block when its direction switches, so no key
//! waits unused in the connection. Resumption is RFC 5077's: tickets
//! sealed like TLS 1.3's (the master secret in the PSK's place), offered
//! in session_ticket with a session id, accepted by the echo of that id.
//! Session ids too: a server with a session cache names each session, and
//! a client without a ticket offers that id. Client certificates: TLS
//! 1.2's CertificateVerify signs the whole transcript, not its hash, and
//! *ring* signs and verifies messages, never digests, so the messages
//! are copied into storage the embedder lends (`Keys::transcript_copy`)
//! and signed or verified there; without it a client answers with an
//! empty Certificate and a server with a client verifier speaks TLS 1.3
//! only (docs/security.md).

use rustls_pki_types::{CertificateDer, ServerName};

use super::client::{Common, Keys, Step};
use super::kx::KeyExchange;
use super::messages::{
    for_each_extension, split_message, write_message, ServerHello, HANDSHAKE_HEADER_LEN,
    MAX_CHAIN_LEN,
};
use super::{flight_room, room_sum, Negotiated, Out, Records};
use crate::codec::{DecodeError, Reader, Writer};
use crate::error::{Error, InvalidMessage, Misuse, PeerIncompatible, PeerMisbehaved};
use crate::key_schedule::tls12::{MasterSecret, VERIFY_DATA_LEN};
use crate::key_schedule::Transcript;
use crate::record::protect::RecordKey;
use crate::record::suite::{Auth, Suite};
use crate::record::{HEADER_LEN, TLS12_MAX_RECORD_OVERHEAD};
use crate::wire::{
    ContentType, ExtensionType, HandshakeType, NamedGroup, ProtocolVersion, SignatureScheme,
};

/// curve_type named_curve (RFC 8422 §5.4): the only one we accept.
const NAMED_CURVE: u8 = 3;

/// Longest ECDHE public value of a TLS 1.2 group: an uncompressed P-384
/// point.
const MAX_POINT_LEN: usize = 97;

/// Bytes signed in a ServerKeyExchange at most: both randoms, curve_type,
/// the group, the point's length and the point.
const MAX_SIGNED_PARAMS: usize = 64 + 4 + MAX_POINT_LEN;

fn decode(e: DecodeError) -> Error {
    InvalidMessage::Handshake(e.0).into()
}

/// The groups TLS 1.2 may use: the classical ones (RFC 8422 §5.1.1); a
/// hybrid needs TLS 1.3's key_share.
pub(crate) fn is_tls12_group(group: NamedGroup) -> bool {
    super::kx::is_supported(group) && !super::kx::is_hybrid(group)
}

/// Whether `scheme` can sign for `suite`'s authentication: ECDSA and
/// EdDSA for ECDHE_ECDSA (RFC 8422 §5.1.1), RSA for ECDHE_RSA.
fn scheme_fits_suite(scheme: SignatureScheme, suite: &Suite) -> bool {
    let [_, sig] = scheme.0.to_be_bytes();
    let rsa = scheme.0 >> 8 <= 0x06 && sig == 0x01 || (0x0804..=0x0806).contains(&scheme.0);
    let ec = scheme.0 >> 8 <= 0x06 && sig == 0x03 || matches!(scheme.0, 0x0807 | 0x0808);
    match suite.auth {
        Auth::Ecdsa => ec,
        Auth::Rsa => rsa,
        Auth::Any => false,
    }
}

/// A TLS 1.2 Certificate body (RFC 5246 §7.4.2): the DER chain.
pub(crate) fn parse_chain(
    body: &[u8],
) -> Result<arrayvec::ArrayVec<CertificateDer<'_>, MAX_CHAIN_LEN>, Error> {
    let mut r = Reader::new(body);
    let list = r.vec24("certificate list").map_err(decode)?;
    r.finish("certificate trailing").map_err(decode)?;
    let mut chain = arrayvec::ArrayVec::new();
    let mut l = Reader::new(list);
    while !l.is_empty() {
        let der = l.vec24("certificate").map_err(decode)?;
        if der.is_empty() {
            return Err(InvalidMessage::Handshake("empty certificate").into());
        }
        chain
            .try_push(CertificateDer::from(der))
            .map_err(|_| crate::verify::CertificateError::ChainTooLong)?;
    }
    Ok(chain)
}

/// Encodes a TLS 1.2 Certificate message with `chain`.
pub(crate) fn encode_chain<'c>(
    w: &mut Writer<'_>,
    chain: impl Iterator<Item = &'c [u8]>,
) -> Result<(), crate::codec::Overflow> {
    write_message(w, HandshakeType::CERTIFICATE, |w| {
        w.vec::<3>(|w| {
            chain.into_iter().try_for_each(|der| {
                w.u24(der.len())?;
                w.bytes(der)
            })
        })
    })
}

/// ClientCertificateType rsa_sign (RFC 5246 §7.4.4).
const RSA_SIGN: u8 = 1;
/// ClientCertificateType ecdsa_sign (RFC 8422 §5.5): ECDSA and EdDSA keys.
const ECDSA_SIGN: u8 = 64;

/// The certificate type a key signing with `scheme` has.
fn certificate_type(scheme: SignatureScheme) -> u8 {
    let [hash, sig] = scheme.0.to_be_bytes();
    // PKCS#1 (xx01) and RSA-PSS (0804..0806, 0809..080b) are RSA keys.
    if sig == 1 || (hash == 8 && matches!(sig, 4..=6 | 9..=11)) {
        RSA_SIGN
    } else {
        ECDSA_SIGN
    }
}

/// Whether the server's flight in `region` (whole or not) has a
/// CertificateRequest.
pub(crate) fn asks_certificate(mut region: &[u8]) -> bool {
    while let Some((ty, _, total)) = split_message(region) {
        if ty == HandshakeType::CERTIFICATE_REQUEST {
            return true;
        }
        region = region.get(total..).unwrap_or(&[]);
    }
    false
}

/// A TLS 1.2 CertificateRequest (RFC 5246 §7.4.4), checked for form:
/// the certificate types and schemes the server takes.
struct CertificateRequest<'a> {
    types: &'a [u8],
    schemes: crate::codec::U16List<'a>,
}

impl<'a> CertificateRequest<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let types = r.vec8("certificate types").map_err(decode)?;
        if types.is_empty() {
            return Err(InvalidMessage::Handshake("no certificate types").into());
        }
        let schemes =
            crate::codec::U16List::new(r.vec16("sigalgs").map_err(decode)?, false, "sigalgs")
                .map_err(decode)?;
        // Distinguished names, each a vec16 of its own.
        let mut names = Reader::new(r.vec16("certificate authorities").map_err(decode)?);
        while !names.is_empty() {
            names.vec16("distinguished name").map_err(decode)?;
        }
        r.finish("certificate request trailing").map_err(decode)?;
        Ok(Self { types, schemes })
    }

    /// The scheme `signer` answers with: the first of the server's list
    /// that the key has, TLS 1.2 allows, and whose certificate type the
    /// server asked for.
    fn scheme_for(&self, signer: &dyn crate::sign::Signer) -> Option<SignatureScheme> {
        crate::sign::scheme_for_tls12(
            signer,
            self.schemes
                .iter()
                .map(SignatureScheme)
                .filter(|s| self.types.contains(&certificate_type(*s))),
        )
    }
}

/// A parsed ServerKeyExchange for ECDHE (RFC 8422 §5.4).
struct ServerKeyExchange<'a> {
    group: NamedGroup,
    point: &'a [u8],
    /// The ServerECDHParams as sent: what the signature covers after
    /// the randoms.
    params: &'a [u8],
    scheme: SignatureScheme,
    signature: &'a [u8],
}

impl<'a> ServerKeyExchange<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let curve_type = r.u8("curve type").map_err(decode)?;
        if curve_type != NAMED_CURVE {
            return Err(PeerMisbehaved::IllegalParameter("ECDH curve type").into());
        }
        let group = NamedGroup(r.u16("named curve").map_err(decode)?);
        let point = r.vec8("ECDH point").map_err(decode)?;
        if point.is_empty() {
            return Err(InvalidMessage::Handshake("empty ECDH point").into());
        }
        let params = body.get(..point.len().saturating_add(4)).unwrap_or(&[]);
        let scheme = SignatureScheme(r.u16("signature scheme").map_err(decode)?);
        let signature = r.vec16("signature").map_err(decode)?;
        r.finish("server key exchange trailing").map_err(decode)?;
        Ok(Self {
            group,
            point,
            params,
            scheme,
            signature,
        })
    }
}

/// A ClientKeyExchange body for ECDHE (RFC 8422 §5.7): the client's
/// point, not empty.
fn parse_client_key_exchange(body: &[u8]) -> Result<&[u8], Error> {
    let mut r = Reader::new(body);
    let point = r.vec8("ECDH point").map_err(decode)?;
    r.finish("client key exchange trailing").map_err(decode)?;
    if point.is_empty() {
        return Err(InvalidMessage::Handshake("empty ECDH point").into());
    }
    Ok(point)
}

/// The TLS 1.2 message parsers on their own, for the fuzz targets (feature
/// `test-support`; not a stable API).
#[cfg(feature = "test-support")]
pub mod parsers {
    use super::*;

    /// A ServerKeyExchange body: the group, the point, the signed
    /// parameters (curve type, group, point), the scheme and the
    /// signature.
    #[allow(clippy::type_complexity)]
    pub fn server_key_exchange(
        body: &[u8],
    ) -> Result<(NamedGroup, &[u8], &[u8], SignatureScheme, &[u8]), Error> {
        let s = ServerKeyExchange::parse(body)?;
        Ok((s.group, s.point, s.params, s.scheme, s.signature))
    }

    /// A ClientKeyExchange body: the client's point.
    pub fn client_key_exchange(body: &[u8]) -> Result<&[u8], Error> {
        parse_client_key_exchange(body)
    }

    /// A CertificateRequest body: the certificate types and the schemes.
    pub fn certificate_request(body: &[u8]) -> Result<(&[u8], crate::codec::U16List<'_>), Error> {
        let r = CertificateRequest::parse(body)?;
        Ok((r.types, r.schemes))
    }

    /// A NewSessionTicket body: the lifetime hint and the ticket.
    pub fn new_session_ticket(body: &[u8]) -> Result<(u32, &[u8]), Error> {
        parse_new_session_ticket(body)
    }

    /// A Certificate body: the DER chain.
    pub fn certificate(
        body: &[u8],
    ) -> Result<arrayvec::ArrayVec<CertificateDer<'_>, MAX_CHAIN_LEN>, Error> {
        parse_chain(body)
    }

    /// Writes a Certificate message with `chain` (the encoder the client
    /// and server use).
    pub fn encode_certificate<'c>(
        w: &mut Writer<'_>,
        chain: impl Iterator<Item = &'c [u8]>,
    ) -> Result<(), crate::codec::Overflow> {
        encode_chain(w, chain)
    }
}

/// `client_random || server_random || params` into `buf`: what a
/// ServerKeyExchange signs.
fn signed_params<'b>(
    buf: &'b mut [u8; MAX_SIGNED_PARAMS],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    params: &[u8],
) -> Result<&'b [u8], Error> {
    let mut w = Writer::new(buf);
    w.bytes(client_random)?;
    w.bytes(server_random)?;
    w.bytes(params)
        .map_err(|_| PeerMisbehaved::IllegalParameter("ECDH point length"))?;
    let n = w.len();
    Ok(buf.get(..n).unwrap_or(&[]))
}

/// The TLS 1.2 extensions of a ServerHello, checked against what we
/// offered.
#[derive(Default)]
struct ServerExtensions {
    ems: bool,
    secure_renegotiation: bool,
    alpn_index: Option<u8>,
    record_size_limit: Option<u16>,
    /// An empty session_ticket: a NewSessionTicket comes (RFC 5077 §3.2).
    ticket: bool,
}

/// `renegotiated`: the renegotiation_info content the server must send
/// (empty on the initial handshake; both verify_data in a renegotiation,
/// RFC 5746 §3.5).
fn server_extensions(
    c: &Common<'_>,
    block: &[u8],
    renegotiated: &[u8],
) -> Result<ServerExtensions, Error> {
    let mut out = ServerExtensions::default();
    let mut bad: Option<Error> = None;
    for_each_extension(block, |ty, body| {
        let mut b = Reader::new(body);
        match ty {
            ExtensionType::EXTENDED_MASTER_SECRET => out.ems = true,
            ExtensionType::RENEGOTIATION_INFO => {
                // RFC 5746 §3.4: empty on the initial handshake; §3.5:
                // both verify_data in a renegotiation, else
                // handshake_failure.
                let got = b.vec8("renegotiation info")?;
                if got == renegotiated {
                    out.secure_renegotiation = true;
                } else if renegotiated.is_empty() {
                    bad = Some(PeerMisbehaved::IllegalParameter("renegotiation_info").into());
                } else {
                    bad = Some(PeerMisbehaved::BadRenegotiationInfo.into());
                }
            }
            ExtensionType::EC_POINT_FORMATS => {
                // RFC 8422 §5.2: uncompressed must be among them.
                if !b.vec8("ec point formats")?.contains(&0) {
                    bad = Some(PeerMisbehaved::IllegalParameter("ec_point_formats").into());
                }
            }
            ExtensionType::ALPN => {
                let list =
                    super::messages::ProtocolNames::parse(body).map_err(|_| DecodeError("alpn"))?;
                let mut names = list.iter();
                let (Some(p), None) = (names.next(), names.next()) else {
                    bad = Some(PeerMisbehaved::IllegalParameter("ALPN: one protocol").into());
                    return Ok(());
                };
                match c.config.alpn.iter().position(|ours| *ours == p) {
                    Some(i) => out.alpn_index = u8::try_from(i).ok(),
                    None => {
                        bad = Some(
                            PeerMisbehaved::IllegalParameter("ALPN protocol not offered").into(),
                        )
                    }
                }
                let _ = b.rest();
            }
            ExtensionType::RECORD_SIZE_LIMIT => {
                let limit = b.u16("record size limit")?;
                if limit < 64 {
                    bad =
                        Some(PeerMisbehaved::IllegalParameter("record_size_limit below 64").into());
                }
                out.record_size_limit = Some(limit);
            }
            // An acknowledgement of our server_name: empty.
            ExtensionType::SERVER_NAME if c.ctx.server_name.is_some() => {}
            // Only to a client that sent session_ticket (it asks for
            // tickets, or offers one), and empty.
            ExtensionType::SESSION_TICKET
                if c.config.ticket_sink.is_some() || super::client::tls12_offer(c).is_some() =>
            {
                if body.is_empty() {
                    out.ticket = true;
                } else {
                    bad = Some(PeerMisbehaved::IllegalParameter("session_ticket").into());
                }
            }
            other => {
                let _ = b.rest();
                bad = Some(PeerMisbehaved::UnsolicitedExtension(other).into());
            }
        }
        b.finish("server hello extension trailing")
    })
    .map_err(super::client::extension_error)?;
    match bad {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// What a TLS 1.2 client keeps between the ServerHello and its
/// ClientKeyExchange, in [`Records::Tls12Client`]: the key exchange of
/// its ClientHello (reused if the server picks its group) and the
/// transcript.
pub(crate) struct ClientPending {
    /// Our ClientHello's, if we sent a key share (TLS 1.3 offered too).
    kx: Option<KeyExchange>,
    /// The classical group sent beside a hybrid with the same key.
    extra_share: Option<NamedGroup>,
    transcript: Transcript,
}

/// A TLS 1.2 session id as the server named the session (up to 32
/// bytes; empty for none).
#[derive(Clone, Copy, Default)]
pub(crate) struct SessionId {
    bytes: [u8; 32],
    len: u8,
}

impl SessionId {
    fn new(id: &[u8]) -> Self {
        let mut s = Self::default();
        if let Some(dst) = s.bytes.get_mut(..id.len()) {
            dst.copy_from_slice(id);
            s.len = u8::try_from(id.len()).unwrap_or(0);
        }
        s
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// Both randoms, which the key block and the signatures use.
#[derive(Clone, Copy)]
pub(crate) struct Randoms {
    client: [u8; 32],
    server: [u8; 32],
}

/// The TLS 1.2 client's states after its ServerHello.
#[allow(clippy::enum_variant_names)]
pub(crate) enum ClientState {
    /// Waits for Certificate, ServerKeyExchange, [CertificateRequest] and
    /// ServerHelloDone, handled together.
    ExpectServerFlight(Hello),
    /// Our flight is out up to the ClientKeyExchange; our signer has
    /// not answered for the CertificateVerify yet.
    AwaitSignature(Finishing, SignatureScheme),
    /// Our flight is out; the server's ChangeCipherSpec comes next.
    ExpectChangeCipherSpec(Finishing),
    /// The server's Finished, under its new key.
    ExpectFinished(Finishing),
    /// A renegotiation (RFC 5746) the server asked for: our ClientHello is
    /// out, under the connection's keys; its ServerHello comes next.
    RenegotiationHello(Renegotiating),
    /// A renegotiation past its ServerHello: the server's flight comes
    /// (the transcript here, the connection's keys in `Records`).
    RenegotiationFlight(Hello, Transcript),
}

/// A client's renegotiation before the ServerHello: the transcript of
/// its ClientHello, its random, and what the last handshake left.
pub(crate) struct Renegotiating {
    transcript: Transcript,
    client_random: [u8; 32],
    secured: Secured,
    /// HelloRequests ignored meanwhile (RFC 5246 §7.4.1.1), bounded.
    ignored: u8,
}

/// Room a renegotiation ClientHello takes: the initial one's bound, each
/// of its records protected.
pub(crate) fn renegotiation_hello_room(c: &Common<'_>, fragment: usize) -> usize {
    let plain = super::client::client_hello_bound_for(c, fragment);
    let records = plain.div_ceil(fragment.max(1)).saturating_add(1);
    room_sum([
        plain,
        records.saturating_mul(TLS12_MAX_RECORD_OVERHEAD.saturating_sub(HEADER_LEN)),
    ])
}

/// Starts a renegotiation the server asked for (its HelloRequest, RFC
/// 5246 §7.4.1.1): a ClientHello for TLS 1.2 and the connection's suite
/// alone, with renegotiation_info carrying our last verify_data (RFC
/// 5746 §3.5), sealed under the connection's current key. It offers no
/// session to resume: a renegotiation is a full handshake.
pub(crate) fn start_renegotiation(
    c: &Common<'_>,
    secured: Secured,
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<ClientState, Error> {
    let suite = keys
        .records
        .send()
        .map(RecordKey::suite)
        .filter(|s| s.is_tls12())
        .ok_or(Error::Internal("renegotiation without a TLS 1.2 key"))?;
    let mut client_random = [0u8; 32];
    c.config
        .rng
        .fill(&mut client_random)
        .map_err(|_| Error::Internal("random number generator failed"))?;
    let record_size_limit = u16::try_from(
        c.config
            .record
            .recv_max_fragment_len
            .min(crate::record::MAX_PLAINTEXT),
    )
    .ok();
    let suites = [suite.id];
    let hello = super::messages::ClientHelloOut {
        random: &client_random,
        session_id: &[],
        suites: &suites,
        server_name: c.ctx.server_name.and_then(super::client::sni),
        groups: c.config.groups,
        key_shares: &[],
        schemes: c.config.verifier.supported_schemes(),
        alpn: c.config.alpn,
        record_size_limit,
        cookie: None,
        want_tickets: false,
        grease: None,
        grease_share: false,
        tls13: false,
        tls12: true,
        // Asking for a ticket of the new session, as the first hello did.
        session_ticket: c.config.ticket_sink.map(|_| &[][..]),
        psk: None,
        early_data: false,
        post_handshake_auth: false,
        renegotiation_info: &secured.client_verify,
    };
    let mut transcript = Transcript::new(suite);
    keys.transcript_copy.start();
    let copy = &mut *keys.transcript_copy;
    out.records(keys.records.send_mut(), ContentType::HANDSHAKE, |w| {
        hello.encode(w)?;
        add(&mut transcript, copy, w.written());
        Ok(())
    })?;
    Ok(ClientState::RenegotiationHello(Renegotiating {
        transcript,
        client_random,
        secured,
        ignored: 0,
    }))
}

/// The ServerHello that answers our renegotiation ClientHello: TLS 1.2
/// and the connection's suite again, renegotiation_info with both
/// verify_data (else handshake_failure, RFC 5746 §3.5), the extended
/// master secret, the ALPN protocol unchanged.
fn renegotiation_server_hello(
    c: &Common<'_>,
    r: Renegotiating,
    sh: &ServerHello<'_>,
    msg: &[u8],
    keys: &mut Keys<'_>,
) -> Result<ClientState, Error> {
    let Renegotiating {
        mut transcript,
        client_random,
        secured,
        ignored: _,
    } = r;
    let suite = keys
        .records
        .send()
        .map(RecordKey::suite)
        .ok_or(Error::Internal("renegotiation without a key"))?;
    if sh.legacy_version != ProtocolVersion::TLS1_2 || sh.selected_version.is_some() {
        return Err(PeerMisbehaved::IllegalParameter("renegotiation to another version").into());
    }
    if sh.suite != suite.id {
        return Err(PeerMisbehaved::IllegalParameter("renegotiation to another suite").into());
    }
    if sh.compression != 0 {
        return Err(PeerMisbehaved::IllegalParameter("legacy_compression_method").into());
    }
    let mut both = [0u8; 2 * VERIFY_DATA_LEN];
    let (a, b) = both.split_at_mut(VERIFY_DATA_LEN);
    a.copy_from_slice(&secured.client_verify);
    b.copy_from_slice(&secured.server_verify);
    let ext = server_extensions(c, sh.extensions, &both)?;
    // This ClientHello asked for a ticket only with a sink to keep it.
    if ext.ticket && c.config.ticket_sink.is_none() {
        return Err(PeerMisbehaved::UnsolicitedExtension(ExtensionType::SESSION_TICKET).into());
    }
    if !ext.secure_renegotiation {
        return Err(PeerMisbehaved::BadRenegotiationInfo.into());
    }
    // The extended master secret binds the new session to this one's
    // handshake: required in a renegotiation whatever the configuration
    // lets a first handshake do (the exporter, made only with it, would
    // otherwise stay the old session's).
    if !ext.ems {
        return Err(PeerIncompatible::NoExtendedMasterSecret.into());
    }
    let n = keys
        .negotiated
        .as_mut()
        .ok_or(Error::Internal("negotiated parameters missing"))?;
    if ext.alpn_index != n.alpn_index {
        return Err(PeerMisbehaved::IllegalParameter("ALPN protocol changed").into());
    }
    // What this ServerHello says holds from now on, its absence too.
    n.peer_record_size_limit = ext.record_size_limit;
    add(&mut transcript, keys.transcript_copy, msg);
    Ok(ClientState::RenegotiationFlight(
        Hello {
            suite,
            randoms: Randoms {
                client: client_random,
                server: *sh.random,
            },
            ems: ext.ems,
            ticket: ext.ticket,
            client_auth: false,
            session: Session::None,
            renegotiations: secured.renegotiations.saturating_add(1),
        },
        transcript,
    ))
}

/// What the ServerHello settled.
pub(crate) struct Hello {
    suite: &'static Suite,
    randoms: Randoms,
    ems: bool,
    /// A NewSessionTicket is part of this handshake (RFC 5077).
    ticket: bool,
    /// Server: a client certificate is to come (after our
    /// CertificateRequest), or, once it came, a CertificateVerify.
    client_auth: bool,
    /// Client: the session id the server named a full handshake's
    /// session with. Server: whether the session goes to the cache.
    session: Session,
    /// Renegotiations of the connection, this handshake's included (the
    /// connection's peer must stay the same in one).
    renegotiations: u8,
}

/// What the end of a full handshake does with a session id.
#[derive(Clone, Copy)]
pub(crate) enum Session {
    /// Nothing.
    None,
    /// Client: the server named the session (the id waits in
    /// `Keys::resumption`); kept if no ticket came.
    Named,
    /// Server: the session goes to the cache under the id derived from
    /// our random.
    Cache,
}

/// After the key exchange: what the Finished messages need.
pub(crate) struct Finishing {
    suite: &'static Suite,
    randoms: Randoms,
    master: MasterSecret,
    transcript: Transcript,
    /// A NewSessionTicket is still to come (client) or to send (server).
    ticket: bool,
    /// An abbreviated handshake (RFC 5077 §3.1): the server's Finished
    /// goes first.
    resumed: bool,
    /// The master secret is the extended one (RFC 7627).
    ems: bool,
    /// As [`Hello::session`].
    session: Session,
    /// Our Finished's verify_data, once sent (RFC 5746 keeps it for a
    /// renegotiation's renegotiation_info).
    ours: [u8; VERIFY_DATA_LEN],
    /// Renegotiations of the connection, this handshake's included.
    renegotiations: u8,
}

/// What a TLS 1.2 connection keeps after each handshake for a secure
/// renegotiation (RFC 5746 §3.1): both Finished messages' verify_data,
/// and the time certificates are checked at.
#[derive(Clone, Copy)]
pub(crate) struct Secured {
    pub client_verify: [u8; VERIFY_DATA_LEN],
    pub server_verify: [u8; VERIFY_DATA_LEN],
    /// Renegotiations of the connection so far.
    pub renegotiations: u8,
    pub now: rustls_pki_types::UnixTime,
    /// A server's HelloRequest is out: 0 none, 1 asked, 2 asked with a
    /// CertificateRequest to come.
    pub asked: u8,
    /// The plaintext pending when this handshake completed (a `write` or
    /// `handshake` call read it) was sent before it: `read` returns it
    /// alone.
    pub fenced: bool,
}

impl Finishing {
    /// A full handshake's state once the ClientKeyExchange is in the
    /// `transcript`: the master secret from the pre-master secret
    /// `pms` (logged), the rest from `hello`.
    fn after_key_exchange(
        hello: Hello,
        pms: &[u8],
        transcript: Transcript,
        key_log: Option<&dyn super::KeyLog>,
    ) -> Result<Self, Error> {
        let master = master_secret(hello.suite, hello.ems, pms, &transcript, &hello.randoms)?;
        log_master(key_log, &hello.randoms, &master);
        Ok(Self {
            suite: hello.suite,
            randoms: hello.randoms,
            master,
            transcript,
            ticket: hello.ticket,
            resumed: false,
            ems: hello.ems,
            session: hello.session,
            ours: [0; VERIFY_DATA_LEN],
            renegotiations: hello.renegotiations,
        })
    }
}

/// Handles a TLS 1.2 ServerHello to a client that offered TLS 1.2.
/// `transcript` holds our ClientHello (of the suite's hash).
#[allow(clippy::too_many_arguments)]
pub(crate) fn client_server_hello(
    c: &Common<'_>,
    kx: Option<KeyExchange>,
    extra_share: Option<NamedGroup>,
    mut transcript: Transcript,
    (client_random, session_id): ([u8; 32], &[u8]),
    sh: &ServerHello<'_>,
    msg: &[u8],
    keys: &mut Keys<'_>,
) -> Result<ClientState, Error> {
    if sh.legacy_version != ProtocolVersion::TLS1_2 {
        return Err(PeerIncompatible::NotTls13.into());
    }
    // RFC 8446 §4.1.3: a server that speaks TLS 1.3 and answers a client
    // offering it with TLS 1.2 marks its random; the mark means someone
    // removed our TLS 1.3 offer.
    let offered_tls13 = c.config.suites.iter().any(|s| !s.is_tls12());
    let tail = sh.random.get(24..).unwrap_or(&[]);
    if offered_tls13
        && (tail == super::messages::DOWNGRADE_TLS12 || tail == super::messages::DOWNGRADE_TLS11)
    {
        return Err(PeerMisbehaved::Downgrade.into());
    }
    if sh.compression != 0 {
        return Err(PeerMisbehaved::IllegalParameter("legacy_compression_method").into());
    }
    let suite = c
        .config
        .suites
        .iter()
        .copied()
        .find(|s| s.id == sh.suite && s.is_tls12())
        .ok_or(PeerMisbehaved::IllegalParameter("cipher_suite not offered"))?;
    let ext = server_extensions(c, sh.extensions, &[])?;
    if !ext.secure_renegotiation {
        return Err(PeerIncompatible::NoSecureRenegotiation.into());
    }
    if !ext.ems && !c.config.allow_no_extended_master_secret {
        return Err(PeerIncompatible::NoExtendedMasterSecret.into());
    }
    // RFC 5077 §3.4: the server accepts our ticket by echoing the session
    // id we sent with it. An echo without a ticket names a session we
    // never had.
    let offer = super::client::tls12_offer(c);
    let echoed = !session_id.is_empty() && sh.session_id == session_id;
    let resumed = match (echoed, offer) {
        (true, Some(t)) => Some(t),
        (true, None) => {
            return Err(PeerMisbehaved::IllegalParameter("session_id echo").into());
        }
        (false, _) => None,
    };
    add(&mut transcript, keys.transcript_copy, msg);
    let randoms = Randoms {
        client: client_random,
        server: *sh.random,
    };
    let mut negotiated = Negotiated {
        version: ProtocolVersion::TLS1_2,
        suite: suite.id,
        group: None,
        signature_scheme: None,
        alpn_index: ext.alpn_index,
        cert_index: None,
        peer_cert_sha256: None,
        peer_identity: None,
        peer_record_size_limit: ext.record_size_limit,
        resumed: false,
        server_name: None,
    };
    let Some(t) = resumed else {
        *keys.records = Records::Tls12Client(ClientPending {
            kx,
            extra_share,
            transcript,
        });
        *keys.negotiated = Some(negotiated);
        return Ok(ClientState::ExpectServerFlight(Hello {
            suite,
            randoms,
            ems: ext.ems,
            ticket: ext.ticket,
            client_auth: false,
            session: if sh.session_id.is_empty() {
                Session::None
            } else {
                let id = SessionId::new(sh.session_id);
                *keys.resumption = crate::conn::AfterHandshake::Tls12SessionId(id.bytes, id.len);
                Session::Named
            },
            renegotiations: 0,
        }));
    };
    // The abbreviated handshake: the ticket's master secret, the new
    // randoms' keys, the server's ChangeCipherSpec and Finished first.
    if t.suite != suite.id {
        return Err(PeerMisbehaved::IllegalParameter("suite differs from the ticket's").into());
    }
    // Tickets are kept only from sessions with the extended master
    // secret: its resumption must have it too (RFC 7627 §5.3).
    if !ext.ems {
        return Err(PeerIncompatible::NoExtendedMasterSecret.into());
    }
    let master = MasterSecret::from_bytes(t.psk).ok_or(Error::Internal("ticket master secret"))?;
    drop(kx);
    // An abbreviated handshake authenticates no one: nothing to copy.
    keys.transcript_copy.stop();
    *keys.records = Records::Empty;
    negotiated.resumed = true;
    negotiated.peer_cert_sha256 = t.peer_cert_sha256;
    // The verifier named the server in the ticket's ALPN context: the
    // name holds only in the same one.
    let chosen = ext
        .alpn_index
        .and_then(|i| c.config.alpn.get(usize::from(i)));
    let here = super::ticket::alpn_context(c.config.alpn, chosen.copied());
    negotiated.peer_identity = Some(t)
        .filter(|t| t.alpn_context == Some(here))
        .and_then(|t| t.peer_identity);
    *keys.negotiated = Some(negotiated);
    log_master(c.config.key_log, &randoms, &master);
    Ok(ClientState::ExpectChangeCipherSpec(Finishing {
        suite,
        randoms,
        master,
        transcript,
        ticket: ext.ticket,
        resumed: true,
        ems: ext.ems,
        session: Session::None,
        ours: [0; VERIFY_DATA_LEN],
        renegotiations: 0,
    }))
}

/// A TLS 1.2 NewSessionTicket body (RFC 5077 §3.3): the lifetime hint and
/// the ticket.
fn parse_new_session_ticket(body: &[u8]) -> Result<(u32, &[u8]), Error> {
    let mut r = Reader::new(body);
    let hint = r.u32("ticket lifetime hint").map_err(decode)?;
    let ticket = r.vec16("ticket").map_err(decode)?;
    r.finish("new session ticket trailing").map_err(decode)?;
    Ok((hint, ticket))
}

/// A lifetime hint of 0 means "unspecified" (RFC 5077 §3.3): we keep such
/// a ticket for 2 hours, within RFC 8446's 7 days for any other hint.
const UNSPECIFIED_TICKET_LIFETIME: u32 = 7200;

/// Hands a TLS 1.2 ticket to the configuration's sink, with the session's
/// master secret as its secret.
fn store_ticket(
    c: &Common<'_>,
    f: &Finishing,
    keys: &Keys<'_>,
    hint: u32,
    ticket: &[u8],
    session_id: bool,
) {
    let Some(sink) = c.config.ticket_sink else {
        return;
    };
    // RFC 5077 §3.3: an empty one is no ticket after all. A session
    // without the extended master secret is never kept (RFC 7627 §5.3's
    // rules then need no record of it).
    if ticket.is_empty() || !f.ems {
        return;
    }
    let n = keys.negotiated.as_ref();
    let policy = c.config.verifier.policy_digest();
    let lifetime = if hint == 0 {
        UNSPECIFIED_TICKET_LIFETIME
    } else {
        hint.min(super::ticket::MAX_TICKET_LIFETIME)
    };
    let chosen = n
        .and_then(|n| n.alpn_index)
        .and_then(|i| c.config.alpn.get(usize::from(i)).copied());
    sink.store(&super::ticket::NewTicket {
        suite: f.suite.id,
        psk: f.master.as_bytes(),
        ticket,
        lifetime,
        age_add: 0,
        server_name: c.ctx.server_name,
        peer_cert_sha256: n.and_then(|n| n.peer_cert_sha256),
        peer_identity: policy.and(n.and_then(|n| n.peer_identity)),
        verifier_policy: policy,
        alpn_context: Some(super::ticket::alpn_context(c.config.alpn, chosen)),
        client_cert_sha256: super::ticket::client_identity(c.config),
        session_id,
        max_early_data: 0,
        connection: keys.tag,
    });
}

/// A flight's messages: type, offset in the region, length.
type Flight = arrayvec::ArrayVec<(HandshakeType, usize, usize), 5>;

/// The messages of a flight at the front of `region`, each whole: `None`
/// until the one `last` ends them has come. Any other type than the
/// ones `allowed` lists at its place is unexpected.
fn whole_flight(region: &[u8], last: HandshakeType) -> Result<Option<Flight>, Error> {
    let mut found = arrayvec::ArrayVec::new();
    let mut at = 0usize;
    loop {
        let rest = region.get(at..).unwrap_or(&[]);
        let Some((ty, _, total)) = split_message(rest) else {
            return Ok(None);
        };
        if found.try_push((ty, at, total)).is_err() {
            return Err(PeerMisbehaved::UnexpectedHandshake(ty).into());
        }
        at = at.saturating_add(total);
        if ty == last {
            return Ok(Some(found));
        }
    }
}

impl ClientState {
    /// Room the next step may write: our flight (a Certificate if asked,
    /// with `chain`, the bytes of our certificates, ClientKeyExchange,
    /// [CertificateVerify], ChangeCipherSpec, Finished).
    pub fn room_needed(&self, fragment: usize, chain: usize) -> usize {
        // Each certificate's 3-byte length is in `chain`.
        let verify = flight_room(4 + 4 + crate::sign::MAX_SIGNATURE_LEN, fragment, HEADER_LEN);
        match self {
            Self::ExpectServerFlight(_) => room_sum([
                flight_room(
                    room_sum([7 + 4 + 1 + MAX_POINT_LEN, chain]),
                    fragment,
                    HEADER_LEN,
                ),
                if chain > 0 { verify } else { 0 },
                finished_room(fragment),
            ]),
            // In a renegotiation every record of ours is sealed.
            Self::AwaitSignature(f, _) if f.renegotiations > 0 => room_sum([
                flight_room(
                    4 + 4 + crate::sign::MAX_SIGNATURE_LEN,
                    fragment,
                    TLS12_MAX_RECORD_OVERHEAD,
                ),
                renegotiation_finished_room(fragment),
            ]),
            Self::AwaitSignature(..) => room_sum([verify, finished_room(fragment)]),
            // Resumed: our ChangeCipherSpec and Finished answer the
            // server's.
            Self::ExpectFinished(f) if f.resumed => finished_room(fragment),
            // A renegotiation's flight: the same, every record protected.
            Self::RenegotiationFlight(..) => room_sum([
                flight_room(
                    room_sum([7 + 4 + 1 + MAX_POINT_LEN, chain]),
                    fragment,
                    TLS12_MAX_RECORD_OVERHEAD,
                ),
                if chain > 0 {
                    flight_room(
                        4 + 4 + crate::sign::MAX_SIGNATURE_LEN,
                        fragment,
                        TLS12_MAX_RECORD_OVERHEAD,
                    )
                } else {
                    0
                },
                renegotiation_finished_room(fragment),
            ]),
            _ => 0,
        }
    }

    /// Whether the server's ChangeCipherSpec is due.
    pub fn expects_change_cipher_spec(&self) -> bool {
        matches!(self, Self::ExpectChangeCipherSpec(_))
    }

    /// The server's ChangeCipherSpec came, its Finished not yet.
    pub fn awaits_finished_after_change(&self) -> bool {
        matches!(self, Self::ExpectFinished(_))
    }

    /// Whether our renegotiation's ClientHello waits for its answer.
    pub fn awaits_renegotiation_answer(&self) -> bool {
        matches!(self, Self::RenegotiationHello(_))
    }

    /// A server refused our renegotiation (a no_renegotiation warning):
    /// what the connection had before it, if it was waiting for the
    /// answer to its ClientHello (at any other time the warning is out
    /// of place).
    pub fn refused(self) -> Option<Secured> {
        match self {
            Self::RenegotiationHello(r) => Some(r.secured),
            _ => None,
        }
    }

    /// Whether the handshake waits for our signer.
    pub fn awaits_signature(&self) -> bool {
        matches!(self, Self::AwaitSignature(..))
    }

    /// The pending signer's request, for `f` (to cancel it, or to
    /// register a waker); `None` unless a signature is pending.
    pub fn pending_signature<R>(
        &self,
        signer: &dyn crate::sign::Signer,
        copy: &dyn crate::conn::KeepTranscript,
        rng: &super::Rng,
        f: impl FnOnce(&dyn crate::sign::Signer, &crate::sign::SignRequest<'_>) -> R,
    ) -> Option<R> {
        let Self::AwaitSignature(_, scheme) = self else {
            return None;
        };
        Some(f(
            signer,
            &crate::sign::SignRequest {
                scheme: *scheme,
                message: copy.bytes()?,
                first: false,
                rng,
            },
        ))
    }

    /// Asks the signer again; with the signature, writes our
    /// CertificateVerify, ChangeCipherSpec and Finished.
    pub fn poll_signature(
        self,
        c: &Common<'_>,
        keys: &mut Keys<'_>,
        out: &mut Out<'_>,
    ) -> Result<super::client::Polled<Self>, Error> {
        let Self::AwaitSignature(mut f, scheme) = self else {
            return Ok(super::client::Polled::Pending(self));
        };
        let auth = c
            .config
            .client_auth
            .as_ref()
            .ok_or(Error::Internal("pending signature without a key"))?;
        let mut sig = [0u8; crate::sign::MAX_SIGNATURE_LEN];
        let signed = sign_transcript(
            &*auth.key,
            scheme,
            &*keys.transcript_copy,
            c.config.rng,
            false,
            &mut sig,
        )?;
        let Some(n) = signed else {
            return Ok(super::client::Polled::Pending(Self::AwaitSignature(
                f, scheme,
            )));
        };
        write_certificate_verify(
            &mut f,
            scheme,
            sig.get(..n).unwrap_or(&[]),
            keys.records,
            out,
        )?;
        write_change_and_finished(&mut f, true, keys, out)?;
        Ok(super::client::Polled::Signed(Some(
            Self::ExpectChangeCipherSpec(f),
        )))
    }

    /// Whether the NewSessionTicket the server promised waits in the
    /// region for its ChangeCipherSpec and Finished (checked whole, and
    /// alone, by [`handle`](Self::handle)).
    pub fn holds_ticket(&self) -> bool {
        matches!(self, Self::ExpectChangeCipherSpec(f) if f.ticket)
    }

    /// The server's ChangeCipherSpec: its key opens what follows.
    pub fn change_cipher_spec(self, records: &mut Records) -> Result<Self, Error> {
        let Self::ExpectChangeCipherSpec(f) = self else {
            return Err(
                PeerMisbehaved::UnexpectedContentType(ContentType::CHANGE_CIPHER_SPEC).into(),
            );
        };
        records.switch_recv(direction_key(f.suite, &f.master, &f.randoms, false)?);
        Ok(Self::ExpectFinished(f))
    }

    /// Handles the messages at the front of `region`.
    pub fn handle(
        self,
        c: &Common<'_>,
        region: &[u8],
        keys: &mut Keys<'_>,
        out: &mut Out<'_>,
    ) -> Result<Step<Self>, Error> {
        match self {
            Self::RenegotiationHello(r) => {
                let Some((ty, _, total)) = split_message(region) else {
                    return Ok(Step {
                        next: Some(Self::RenegotiationHello(r)),
                        consumed: 0,
                    });
                };
                match ty {
                    // RFC 5246 §7.4.1.1: ignored while negotiating, as
                    // many as the records that carry nothing.
                    HandshakeType::HELLO_REQUEST if total == HANDSHAKE_HEADER_LEN => {
                        let mut r = r;
                        r.ignored = r.ignored.saturating_add(1);
                        if r.ignored > crate::conn::MAX_EMPTY_RECORDS {
                            return Err(PeerMisbehaved::TooManyEmptyRecords.into());
                        }
                        Ok(Step {
                            next: Some(Self::RenegotiationHello(r)),
                            consumed: total,
                        })
                    }
                    HandshakeType::SERVER_HELLO => {
                        let msg = region.get(..total).unwrap_or(&[]);
                        let sh = ServerHello::parse(msg.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]))
                            .map_err(super::client::extension_error)?;
                        Ok(Step {
                            next: Some(renegotiation_server_hello(c, r, &sh, msg, keys)?),
                            consumed: total,
                        })
                    }
                    ty => Err(PeerMisbehaved::UnexpectedHandshake(ty).into()),
                }
            }
            Self::RenegotiationFlight(hello, transcript) => {
                let Some(flight) = whole_flight(region, HandshakeType::SERVER_HELLO_DONE)? else {
                    return Ok(Step {
                        next: Some(Self::RenegotiationFlight(hello, transcript)),
                        consumed: 0,
                    });
                };
                let consumed = flight.last().map_or(0, |(_, at, n)| at.saturating_add(*n));
                let pending = ClientPending {
                    kx: None,
                    extra_share: None,
                    transcript,
                };
                let next = server_flight(c, hello, region, &flight, keys, out, pending)?;
                Ok(Step {
                    next: Some(next),
                    consumed,
                })
            }
            Self::ExpectServerFlight(hello) => {
                let Some(flight) = whole_flight(region, HandshakeType::SERVER_HELLO_DONE)? else {
                    return Ok(Step {
                        next: Some(Self::ExpectServerFlight(hello)),
                        consumed: 0,
                    });
                };
                let consumed = flight.last().map_or(0, |(_, at, n)| at.saturating_add(*n));
                let Records::Tls12Client(pending) =
                    core::mem::replace(keys.records, Records::Empty)
                else {
                    return Err(Error::Internal("TLS 1.2 client state missing"));
                };
                let next = server_flight(c, hello, region, &flight, keys, out, pending)?;
                Ok(Step {
                    next: Some(next),
                    consumed,
                })
            }
            Self::ExpectFinished(mut f) => {
                // The NewSessionTicket the server promised waits in the
                // region, whole, for this Finished: it is checked with it,
                // and only then handed to the sink (RFC 5077 §3.3: it
                // must come, possibly empty).
                let (ticket_msg, rest) = if f.ticket {
                    let Some((ty, _, n)) = split_message(region) else {
                        return Ok(Step {
                            next: Some(Self::ExpectFinished(f)),
                            consumed: 0,
                        });
                    };
                    if ty != HandshakeType::NEW_SESSION_TICKET {
                        return Err(PeerMisbehaved::UnexpectedHandshake(ty).into());
                    }
                    (region.get(..n), region.get(n..).unwrap_or(&[]))
                } else {
                    (None, region)
                };
                let Some((ty, _, total)) = split_message(rest) else {
                    return Ok(Step {
                        next: Some(Self::ExpectFinished(f)),
                        consumed: 0,
                    });
                };
                if ty != HandshakeType::FINISHED {
                    return Err(PeerMisbehaved::UnexpectedHandshake(ty).into());
                }
                let ticket = match ticket_msg {
                    Some(m) => {
                        f.transcript.add(m);
                        Some(parse_new_session_ticket(
                            m.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]),
                        )?)
                    }
                    None => None,
                };
                let msg = rest.get(..total).unwrap_or(&[]);
                check_finished(&f, false, msg)?;
                f.transcript.add(msg);
                // Authenticated now: the ticket may be kept; without one,
                // the session id the server named the session with.
                match (ticket, f.session) {
                    (Some((hint, ticket)), _) if !ticket.is_empty() => {
                        store_ticket(c, &f, keys, hint, ticket, false);
                    }
                    (_, Session::Named) if !f.resumed => {
                        if let crate::conn::AfterHandshake::Tls12SessionId(bytes, len) =
                            keys.resumption
                        {
                            let id = SessionId {
                                bytes: *bytes,
                                len: *len,
                            };
                            store_ticket(c, &f, keys, 0, id.as_bytes(), true);
                        }
                    }
                    _ => {}
                }
                if f.resumed {
                    // Our ChangeCipherSpec and Finished close it.
                    write_change_and_finished(&mut f, true, keys, out)?;
                }
                keep_for_exporter(&f, keys)?;
                *keys.post_auth = Some(super::post_auth::PostAuth::Tls12(secured(
                    &f, true, msg, c.ctx.now,
                )));
                let consumed = ticket_msg.map_or(0, <[u8]>::len).saturating_add(total);
                Ok(Step {
                    next: None,
                    consumed,
                })
            }
            // The server waits for our flight: nothing of its may come.
            Self::AwaitSignature(f, scheme) => match split_message(region) {
                None => Ok(Step {
                    next: Some(Self::AwaitSignature(f, scheme)),
                    consumed: 0,
                }),
                Some((ty, _, _)) => Err(PeerMisbehaved::UnexpectedHandshake(ty).into()),
            },
            Self::ExpectChangeCipherSpec(f) => {
                let Some((ty, _, total)) = split_message(region) else {
                    return Ok(Step {
                        next: Some(Self::ExpectChangeCipherSpec(f)),
                        consumed: 0,
                    });
                };
                // The one NewSessionTicket the server's session_ticket
                // promised, before its ChangeCipherSpec: checked for form
                // and left in the region for the Finished.
                if ty != HandshakeType::NEW_SESSION_TICKET || !f.ticket {
                    return Err(PeerMisbehaved::UnexpectedHandshake(ty).into());
                }
                let body = region.get(HANDSHAKE_HEADER_LEN..total).unwrap_or(&[]);
                parse_new_session_ticket(body)?;
                if region.len() > total {
                    // A second message before the ChangeCipherSpec.
                    let ty = split_message(region.get(total..).unwrap_or(&[]))
                        .map_or(HandshakeType(0), |(ty, _, _)| ty);
                    return Err(PeerMisbehaved::UnexpectedHandshake(ty).into());
                }
                Ok(Step {
                    next: Some(Self::ExpectChangeCipherSpec(f)),
                    consumed: 0,
                })
            }
        }
    }
}

/// What the exporter (RFC 5705) needs once the handshake is over: the
/// master secret and both randoms.
fn keep_for_exporter(f: &Finishing, keys: &mut Keys<'_>) -> Result<(), Error> {
    // RFC 7627: without the extended master secret an exporter is not
    // bound to this handshake (two sessions may share it); none then.
    if !f.ems {
        return Ok(());
    }
    *keys.exporter = Some(
        crate::key_schedule::Secret::new(f.master.as_bytes())
            .ok_or(Error::Internal("master secret"))?,
    );
    let mut randoms = [0u8; 64];
    let (c, s) = randoms.split_at_mut(32);
    c.copy_from_slice(&f.randoms.client);
    s.copy_from_slice(&f.randoms.server);
    *keys.resumption = crate::conn::AfterHandshake::Tls12Randoms(randoms);
    Ok(())
}

/// What a completed handshake leaves for a renegotiation: our verify_data
/// and the peer's (its Finished `peer`, checked), on our side `client`.
fn secured(f: &Finishing, client: bool, peer: &[u8], now: rustls_pki_types::UnixTime) -> Secured {
    let mut theirs = [0u8; VERIFY_DATA_LEN];
    crate::codec::copy_prefix(
        &mut theirs,
        peer.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]),
        VERIFY_DATA_LEN,
    );
    let (client_verify, server_verify) = if client {
        (f.ours, theirs)
    } else {
        (theirs, f.ours)
    };
    Secured {
        client_verify,
        server_verify,
        renegotiations: f.renegotiations,
        now,
        asked: 0,
        fenced: false,
    }
}

/// Checks the peer's Finished `msg` (RFC 5246 §7.4.9) against the
/// transcript before it, in constant time.
fn check_finished(f: &Finishing, client: bool, msg: &[u8]) -> Result<(), Error> {
    let body = msg.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]);
    if body.len() != VERIFY_DATA_LEN {
        return Err(InvalidMessage::Handshake("finished length").into());
    }
    let expected = f.master.verify_data(
        f.suite.prf_hash(),
        client,
        f.transcript.current().as_bytes(),
    );
    // Constant time: XOR everything, then look once.
    let diff = expected
        .iter()
        .zip(body)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff != 0 {
        return Err(PeerMisbehaved::BadFinished.into());
    }
    Ok(())
}

/// Writes our Finished over the transcript, which then takes it.
fn write_finished(w: &mut Writer<'_>, f: &mut Finishing, client: bool) -> Result<(), Error> {
    let verify_data = f.master.verify_data(
        f.suite.prf_hash(),
        client,
        f.transcript.current().as_bytes(),
    );
    f.ours = verify_data;
    let from = w.len();
    write_message(w, HandshakeType::FINISHED, |w| w.bytes(&verify_data))?;
    f.transcript.add(w.written().get(from..).unwrap_or(&[]));
    Ok(())
}

/// One direction's record key from the key block (RFC 5246 §6.3): the
/// AEAD suites have no MAC keys, so the block is client_write_key,
/// server_write_key, client_write_IV, server_write_IV.
fn direction_key(
    suite: &'static Suite,
    master: &MasterSecret,
    randoms: &Randoms,
    client: bool,
) -> Result<RecordKey, Error> {
    let key_len = suite.key_len();
    let iv_len = if suite.explicit_nonce() { 4 } else { 12 };
    let mut block = zeroize::Zeroizing::new([0u8; 2 * 32 + 2 * 12]);
    // At most 2 × (32 + 12): the block's size.
    let n = key_len.saturating_add(iv_len).saturating_mul(2);
    let block = block.get_mut(..n).ok_or(Error::Internal("key block"))?;
    master.key_block(suite.prf_hash(), &randoms.server, &randoms.client, block);
    let (keys, ivs) = block.split_at(key_len.saturating_mul(2));
    let (client_key, server_key) = keys.split_at(key_len);
    let (client_iv, server_iv) = ivs.split_at(iv_len);
    let (key, iv) = if client {
        (client_key, client_iv)
    } else {
        (server_key, server_iv)
    };
    RecordKey::new_tls12(suite, key, iv).ok_or(Error::Internal("TLS 1.2 key derivation"))
}

/// Logs the master secret (SSLKEYLOGFILE's `CLIENT_RANDOM` line).
fn log_master(log: Option<&dyn super::KeyLog>, randoms: &Randoms, master: &MasterSecret) {
    if let Some(log) = log {
        log.log("CLIENT_RANDOM", &randoms.client, master.as_bytes());
    }
}

/// The master secret from the pre-master secret: the extended one over
/// the session hash (the transcript through ClientKeyExchange), or the
/// RFC 5246 one when the peer lacks the extension and we allow it.
fn master_secret(
    suite: &Suite,
    ems: bool,
    pms: &[u8],
    transcript: &Transcript,
    randoms: &Randoms,
) -> Result<MasterSecret, Error> {
    if ems {
        MasterSecret::extended(suite.prf_hash(), pms, transcript.current().as_bytes())
    } else {
        MasterSecret::legacy(suite.prf_hash(), pms, &randoms.client, &randoms.server)
    }
}

/// The server's flight, whole in `region`: checks the chain and the
/// signed key exchange, then writes our flight and switches our
/// sending key.
fn server_flight(
    c: &Common<'_>,
    hello: Hello,
    region: &[u8],
    flight: &[(HandshakeType, usize, usize)],
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
    pending: ClientPending,
) -> Result<ClientState, Error> {
    let ClientPending {
        kx,
        extra_share,
        mut transcript,
    } = pending;
    let msg = |i: usize| -> Result<(HandshakeType, &[u8]), Error> {
        let (ty, at, total) = flight
            .get(i)
            .copied()
            .ok_or(Error::Internal("flight index"))?;
        Ok((ty, region.get(at..at.saturating_add(total)).unwrap_or(&[])))
    };
    let expect = |i: usize, want: HandshakeType| -> Result<&[u8], Error> {
        let (ty, m) = msg(i)?;
        if ty != want {
            return Err(PeerMisbehaved::UnexpectedHandshake(ty).into());
        }
        Ok(m)
    };
    let cert_msg = expect(0, HandshakeType::CERTIFICATE)?;
    let ske_msg = expect(1, HandshakeType::SERVER_KEY_EXCHANGE)?;
    let (cert_request, done_at) = match msg(2)? {
        (HandshakeType::CERTIFICATE_REQUEST, m) => (Some(m), 3),
        _ => (None, 2),
    };
    let done = expect(done_at, HandshakeType::SERVER_HELLO_DONE)?;
    if flight.len() != done_at.saturating_add(1) {
        return Err(Error::Internal("flight shape"));
    }
    if done.len() != HANDSHAKE_HEADER_LEN {
        return Err(InvalidMessage::Handshake("server hello done not empty").into());
    }

    // The chain, as for TLS 1.3.
    let ders = parse_chain(cert_msg.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]))?;
    let Some(end_entity) = ders.first() else {
        return Err(InvalidMessage::Handshake("empty server certificate").into());
    };
    let verifier = c.config.verifier;
    let name = match c.ctx.server_name {
        Some(name) => Some(
            ServerName::try_from(name)
                .map_err(|_| crate::error::Misuse::BadConfig("server name"))?,
        ),
        None => None,
    };
    let n = keys
        .negotiated
        .as_mut()
        .ok_or(Error::Internal("negotiated parameters missing"))?;
    let context = crate::verify::ServerCertContext {
        server_name: name.as_ref(),
        alpn_offered: c.config.alpn,
        alpn: n
            .alpn_index
            .and_then(|i| c.config.alpn.get(usize::from(i)).copied()),
        now: c.ctx.now,
    };
    let identity = verifier.verify_server_cert_in(&ders, &context)?;

    // The signed ECDHE parameters (RFC 8422 §5.4).
    let ske = ServerKeyExchange::parse(ske_msg.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]))?;
    if !c.config.groups.contains(&ske.group) || !is_tls12_group(ske.group) {
        return Err(PeerMisbehaved::IllegalParameter("ECDHE group not offered").into());
    }
    if !scheme_fits_suite(ske.scheme, hello.suite) {
        return Err(
            PeerMisbehaved::IllegalParameter("signature scheme does not fit the suite").into(),
        );
    }
    if !verifier.supported_schemes().contains(&ske.scheme) {
        return Err(PeerMisbehaved::IllegalParameter("signature scheme not offered").into());
    }
    let mut buf = [0u8; MAX_SIGNED_PARAMS];
    let signed = signed_params(
        &mut buf,
        &hello.randoms.client,
        &hello.randoms.server,
        ske.params,
    )?;
    verifier.verify_tls12_signature(end_entity, ske.scheme, signed, ske.signature)?;

    // Our side of the exchange: the ClientHello's key if the server chose
    // its group (or the classical half sent beside a hybrid), else a new
    // one.
    let mut public = [0u8; super::kx::MAX_SHARE_LEN];
    let reused = kx.filter(|k| ske.group == k.group() || Some(ske.group) == extra_share);
    let (public_len, shared) = if let Some(kx) = reused {
        let len = if ske.group == kx.group() {
            kx.write_share(&mut public)
                .ok_or(Error::Internal("key share"))?
        } else {
            let p = kx.public();
            crate::codec::copy_prefix(&mut public, p, p.len());
            p.len()
        };
        (len, kx.complete_for(ske.group, ske.point))
    } else {
        let fresh = KeyExchange::start(ske.group, c.config.rng)
            .ok_or(Error::Internal("random number generator failed"))?;
        let len = fresh
            .write_share(&mut public)
            .ok_or(Error::Internal("key share"))?;
        (len, fresh.complete(ske.point))
    };
    let shared = shared.ok_or(PeerMisbehaved::IllegalParameter("ECDH point"))?;
    let public = public.get(..public_len).unwrap_or(&[]);

    // RFC 5746 makes a renegotiation safe; the server it is with must be
    // the one the connection was with (the triple handshake defence, with
    // the extended master secret): the same certificate.
    let cert_sha256 = super::cert_sha256(end_entity);
    // (Never allowed to change here: the ServerKeyExchange's signature
    // does not cover the transcript, so a server could show another's
    // certificate and signature in a renegotiation it never finishes.)
    if hello.renegotiations > 0 && n.peer_cert_sha256 != Some(cert_sha256) {
        return Err(PeerMisbehaved::PeerCertificateChanged.into());
    }
    n.group = Some(ske.group);
    n.signature_scheme = Some(ske.scheme);
    n.peer_cert_sha256 = Some(cert_sha256);
    n.peer_identity = identity;
    keys.peer_chain.keep(&ders);

    let copy = &mut *keys.transcript_copy;
    for m in [Some(cert_msg), Some(ske_msg), cert_request, Some(done)]
        .into_iter()
        .flatten()
    {
        add(&mut transcript, copy, m);
    }
    // Asked for a certificate, we send ours if a scheme fits and the
    // messages to sign are being copied (else an empty one: the module
    // docs).
    let auth = match cert_request {
        Some(m) => {
            let req = CertificateRequest::parse(m.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]))?;
            c.config
                .client_auth
                .as_ref()
                .filter(|a| !a.chain.is_empty() && copy.is_active())
                .and_then(|a| Some((a, req.scheme_for(&*a.key)?)))
        }
        None => None,
    };
    if let Some((a, _)) = auth {
        // Our Certificate and ClientKeyExchange join the copy before it
        // is signed: it must hold them, which is known before anything
        // of our flight is written.
        let ours = room_sum([
            4 + 3,
            room_sum(a.chain.iter().map(|d| d.len().saturating_add(3))),
            4 + 1,
            public.len(),
        ]);
        if !copy.fits(ours) {
            copy.short_by(ours);
            return Err(Error::Aborted(Misuse::TranscriptStorageTooSmall {
                needed: copy.needed(),
            }));
        }
    }

    // Our flight: [Certificate], ClientKeyExchange in the clear (in a
    // renegotiation, under the connection's current key).
    out.records(keys.records.send_mut(), ContentType::HANDSHAKE, |w| {
        if cert_request.is_some() {
            let from = w.len();
            match auth {
                Some((a, _)) => encode_chain(w, a.chain.iter())?,
                None => encode_chain(w, core::iter::empty())?,
            }
            add(
                &mut transcript,
                copy,
                w.written().get(from..).unwrap_or(&[]),
            );
        }
        let from = w.len();
        write_message(w, HandshakeType::CLIENT_KEY_EXCHANGE, |w| w.vec8(public))?;
        add(
            &mut transcript,
            copy,
            w.written().get(from..).unwrap_or(&[]),
        );
        Ok(())
    })?;
    if auth.is_none() {
        // Nothing of ours signs the copy.
        copy.stop();
    }
    // The session hash ends with the ClientKeyExchange (RFC 7627 §3),
    // before the CertificateVerify.
    let mut f =
        Finishing::after_key_exchange(hello, shared.as_bytes(), transcript, c.config.key_log)?;
    if let Some((a, scheme)) = auth {
        let mut sig = [0u8; crate::sign::MAX_SIGNATURE_LEN];
        let signed = sign_transcript(
            &*a.key,
            scheme,
            &*keys.transcript_copy,
            c.config.rng,
            true,
            &mut sig,
        )?;
        let Some(n) = signed else {
            return Ok(ClientState::AwaitSignature(f, scheme));
        };
        write_certificate_verify(
            &mut f,
            scheme,
            sig.get(..n).unwrap_or(&[]),
            keys.records,
            out,
        )?;
    }
    write_change_and_finished(&mut f, true, keys, out)?;
    Ok(ClientState::ExpectChangeCipherSpec(f))
}

/// Asks `signer` for a TLS 1.2 CertificateVerify signature over the
/// copied handshake messages (RFC 5246 §7.4.8): its length, or `None`
/// while pending. Storage too small for the messages fails the
/// handshake, saying how much they took.
fn sign_transcript(
    signer: &dyn crate::sign::Signer,
    scheme: SignatureScheme,
    copy: &dyn crate::conn::KeepTranscript,
    rng: &super::Rng,
    first: bool,
    sig: &mut [u8; crate::sign::MAX_SIGNATURE_LEN],
) -> Result<Option<usize>, Error> {
    super::sign_message(signer, scheme, copied(copy)?, rng, first, sig)
}

/// Adds `m` to the transcript hash and to the copy of the messages (which
/// takes them only while a TLS 1.2 handshake with client authentication
/// copies): one call, so the two never take different bytes.
fn add(transcript: &mut Transcript, copy: &mut dyn crate::conn::KeepTranscript, m: &[u8]) {
    transcript.add(m);
    copy.add(m);
}

/// The copied messages, or the error that says how many bytes they took
/// when the storage lent for them could not hold them.
fn copied(copy: &dyn crate::conn::KeepTranscript) -> Result<&[u8], Error> {
    copy.bytes()
        .ok_or(Error::Aborted(Misuse::TranscriptStorageTooSmall {
            needed: copy.needed(),
        }))
}

/// Our CertificateVerify with `sig`, in the clear (TLS 1.2's is
/// `scheme` and the signature, RFC 5246 §7.4.8).
fn write_certificate_verify(
    f: &mut Finishing,
    scheme: SignatureScheme,
    sig: &[u8],
    records: &mut Records,
    out: &mut Out<'_>,
) -> Result<(), Error> {
    out.records(records.send_mut(), ContentType::HANDSHAKE, |w| {
        let from = w.len();
        write_message(w, HandshakeType::CERTIFICATE_VERIFY, |w| {
            w.u16(scheme.0)?;
            w.vec16(sig)
        })?;
        f.transcript.add(w.written().get(from..).unwrap_or(&[]));
        Ok(())
    })
}

/// Room for our ChangeCipherSpec and Finished.
fn finished_room(fragment: usize) -> usize {
    room_sum([
        HEADER_LEN + 1,
        flight_room(4 + VERIFY_DATA_LEN, fragment, TLS12_MAX_RECORD_OVERHEAD),
    ])
}

/// Room for our ChangeCipherSpec and Finished in a renegotiation: the
/// ChangeCipherSpec sealed under the connection's key too.
fn renegotiation_finished_room(fragment: usize) -> usize {
    room_sum([
        TLS12_MAX_RECORD_OVERHEAD + 1,
        flight_room(4 + VERIFY_DATA_LEN, fragment, TLS12_MAX_RECORD_OVERHEAD),
    ])
}

/// Our ChangeCipherSpec, then our Finished under the key it switches to.
fn write_change_and_finished(
    f: &mut Finishing,
    client: bool,
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<(), Error> {
    // In a renegotiation, under the connection's current key.
    out.records(
        keys.records.send_mut(),
        ContentType::CHANGE_CIPHER_SPEC,
        |w| Ok(w.u8(1)?),
    )?;
    let mut send = direction_key(f.suite, &f.master, &f.randoms, client)?;
    out.records(Some(&mut send), ContentType::HANDSHAKE, |w| {
        write_finished(w, f, client)
    })?;
    keys.records.switch_send(send);
    Ok(())
}

// ---------------------------------------------------------------------
// The server.

/// What a TLS 1.2 server keeps between its flight and the client's
/// ClientKeyExchange, in [`Records::Tls12Server`]: its ephemeral key and
/// the transcript.
pub(crate) struct ServerPending {
    kx: KeyExchange,
    transcript: Transcript,
}

/// The TLS 1.2 server's states after its first flight.
#[allow(clippy::enum_variant_names)]
pub(crate) enum ServerState {
    /// Our flight is out up to the Certificate; the signer of the
    /// ServerKeyExchange has not answered yet.
    AwaitSignature(Signing),
    /// Waits for the client's Certificate (we asked for it).
    ExpectClientCertificate(Hello),
    /// Waits for the ClientKeyExchange.
    ExpectClientKeyExchange(Hello),
    /// Waits for the client's CertificateVerify (it sent a certificate).
    ExpectCertificateVerify(Finishing),
    /// The client's ChangeCipherSpec comes next.
    ExpectChangeCipherSpec(Finishing),
    /// The client's Finished, under its new key.
    ExpectFinished(Finishing),
    /// A renegotiation: our flight is out under the connection's keys;
    /// the client's Certificate is due (we asked).
    RenegotiationCertificate(Hello, Renegotiated),
    /// A renegotiation: the client's ClientKeyExchange is due.
    RenegotiationKeyExchange(Hello, Renegotiated),
}

/// A ServerKeyExchange waiting for its signature: what the request is
/// rebuilt from on each poll.
pub(crate) struct Signing {
    hello: Hello,
    /// Index of the certificate whose key signs.
    cert: u8,
    scheme: SignatureScheme,
    /// The ServerECDHParams: curve type, group, point.
    params: [u8; 4 + MAX_POINT_LEN],
    params_len: u8,
}

impl Signing {
    fn params(&self) -> &[u8] {
        self.params
            .get(..usize::from(self.params_len))
            .unwrap_or(&[])
    }
}

/// Asks `signer` for the ServerKeyExchange signature over both randoms
/// and `params` into `sig`: its length, or `None` while it is pending.
fn sign_params(
    signer: &dyn crate::sign::Signer,
    scheme: SignatureScheme,
    randoms: &Randoms,
    params: &[u8],
    rng: &super::Rng,
    first: bool,
    sig: &mut [u8; crate::sign::MAX_SIGNATURE_LEN],
) -> Result<Option<usize>, Error> {
    let mut buf = [0u8; MAX_SIGNED_PARAMS];
    let signed = signed_params(&mut buf, &randoms.client, &randoms.server, params)?;
    super::sign_message(signer, scheme, signed, rng, first, sig)
}

/// Writes the ServerKeyExchange with `sig`, a CertificateRequest for
/// `verifier` if there is one, and the ServerHelloDone, adding them to
/// `transcript` and `copy`.
fn write_key_exchange(
    w: &mut Writer<'_>,
    transcript: &mut Transcript,
    copy: &mut dyn crate::conn::KeepTranscript,
    params: &[u8],
    scheme: SignatureScheme,
    sig: &[u8],
    verifier: Option<&dyn crate::verify::ClientCertVerifier>,
) -> Result<(), Error> {
    let from = w.len();
    write_message(w, HandshakeType::SERVER_KEY_EXCHANGE, |w| {
        w.bytes(params)?;
        w.u16(scheme.0)?;
        w.vec16(sig)
    })?;
    if let Some(v) = verifier {
        // RFC 5246 §7.4.4: both certificate types, the verifier's
        // schemes TLS 1.2 allows, no authorities.
        write_message(w, HandshakeType::CERTIFICATE_REQUEST, |w| {
            w.vec8(&[RSA_SIGN, ECDSA_SIGN])?;
            w.vec::<2>(|w| request_schemes(v).try_for_each(|s| w.u16(s.0)))?;
            w.vec16(&[])
        })?;
    }
    write_message(w, HandshakeType::SERVER_HELLO_DONE, |_| Ok(()))?;
    add(transcript, copy, w.written().get(from..).unwrap_or(&[]));
    if verifier.is_some() {
        // The copy must hold our flight before the client's is read.
        copied(copy)?;
    }
    Ok(())
}

/// Whether a TLS 1.2 server can ask for client certificates: storage for
/// the messages is lent, and its verifier lists a scheme TLS 1.2 allows
/// (a CertificateRequest lists at least one).
pub(crate) fn client_auth_possible(
    config: &super::ServerConfig<'_>,
    copy: &dyn crate::conn::KeepTranscript,
) -> bool {
    copy.is_lent()
        && config
            .client_verifier
            .is_some_and(|v| request_schemes(v).next().is_some())
}

/// The schemes a TLS 1.2 CertificateRequest lists for `verifier`.
fn request_schemes(
    verifier: &dyn crate::verify::ClientCertVerifier,
) -> impl Iterator<Item = SignatureScheme> + '_ {
    verifier
        .supported_schemes()
        .iter()
        .copied()
        .filter(|s| crate::sign::tls12_allows(*s))
}

/// Bytes of a TLS 1.2 CertificateRequest for `config`'s verifier.
fn certificate_request_len(config: &super::ServerConfig<'_>) -> usize {
    config.client_verifier.map_or(0, |v| {
        request_schemes(v)
            .count()
            .saturating_mul(2)
            .saturating_add(4 + 3 + 2 + 2)
    })
}

/// A ServerHello's TLS 1.2 part: header and every extension at its
/// largest, the ALPN protocol aside.
const SERVER_HELLO_12: usize = 4 + 2 + 32 + 1 + 32 + 2 + 1 + 2 + 5 + 4 + 6 + 6 + 4 + 2 + 2 + 1 + 4;

/// Room for a TLS 1.2 first flight of `config`: ServerHello,
/// Certificate, ServerKeyExchange, ServerHelloDone, as plaintext records.
pub(crate) fn server_first_flight_room(config: &super::ServerConfig<'_>, fragment: usize) -> usize {
    flight_room(server_first_flight_len(config), fragment, HEADER_LEN)
}

/// Bytes of the messages of our first TLS 1.2 flight, at most.
fn server_first_flight_len(config: &super::ServerConfig<'_>) -> usize {
    let alpn = config.alpn.iter().map(|p| p.len()).max().unwrap_or(0);
    let chain = config
        .certs
        .iter()
        .map(|ck| room_sum(ck.chain.iter().map(|d| d.len().saturating_add(3))))
        .max()
        .unwrap_or(0);
    room_sum([
        SERVER_HELLO_12,
        alpn,
        4 + 3,
        chain,
        4 + 4 + MAX_POINT_LEN + 4,
        crate::sign::MAX_SIGNATURE_LEN,
        certificate_request_len(config),
        4,
    ])
}

/// Whether a ClientHello offers TLS 1.2: in supported_versions, or,
/// without it, by its legacy_version.
pub(crate) fn client_offers_tls12(ch: &super::messages::ClientHello<'_>) -> bool {
    match ch.ext.supported_versions {
        Some(v) => v.contains(ProtocolVersion::TLS1_2.0),
        None => ch.legacy_version.0 >= ProtocolVersion::TLS1_2.0,
    }
}

/// What every TLS 1.2 ClientHello must get right, first or in a
/// renegotiation: the null compression method, the uncompressed point
/// format if it lists formats, and a record_size_limit of 64 at least
/// (RFC 8449 §4, as in TLS 1.3).
fn check_hello_fields(ch: &super::messages::ClientHello<'_>) -> Result<(), Error> {
    if !ch.compression.contains(&0) {
        return Err(PeerMisbehaved::IllegalParameter("legacy_compression_methods").into());
    }
    if ch.ext.ec_point_formats.is_some_and(|f| !f.contains(&0)) {
        return Err(PeerMisbehaved::IllegalParameter("ec_point_formats").into());
    }
    if ch.ext.record_size_limit.is_some_and(|l| l < 64) {
        return Err(PeerMisbehaved::IllegalParameter("record_size_limit below 64").into());
    }
    Ok(())
}

/// The group of our ServerKeyExchange: our first classical one the
/// client lists (RFC 8422 §4: without supported_groups, any).
fn hello_group(
    config: &super::ServerConfig<'_>,
    ch: &super::messages::ClientHello<'_>,
) -> Result<NamedGroup, Error> {
    config
        .groups
        .iter()
        .copied()
        .filter(|g| is_tls12_group(*g))
        .find(|g| ch.ext.supported_groups.is_none_or(|l| l.contains(g.0)))
        .ok_or(PeerIncompatible::NoSharedGroup.into())
}

/// Answers a ClientHello with TLS 1.2 (the caller found that TLS 1.3 is
/// not possible and that both sides speak TLS 1.2): picks the suite,
/// group and certificate, and writes the whole first flight.
pub(crate) fn server_client_hello(
    config: &super::ServerConfig<'_>,
    now: u64,
    ch: &super::messages::ClientHello<'_>,
    msg: &[u8],
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<ServerState, Error> {
    let speaks_tls13 = config.suites.iter().any(|s| !s.is_tls12());
    // RFC 7507: a client that fell back from a version we speak.
    if speaks_tls13
        && ch
            .cipher_suites
            .contains(crate::wire::CipherSuite::FALLBACK_SCSV.0)
    {
        return Err(PeerIncompatible::InappropriateFallback.into());
    }
    check_hello_fields(ch)?;
    // RFC 5746 §3.6: renegotiation_info empty, or the SCSV.
    let secure = match ch.ext.renegotiation_info {
        Some([]) => true,
        Some(_) => {
            return Err(PeerMisbehaved::IllegalParameter("renegotiation_info").into());
        }
        None => ch
            .cipher_suites
            .contains(crate::wire::CipherSuite::EMPTY_RENEGOTIATION_INFO_SCSV.0),
    };
    if !secure {
        return Err(PeerIncompatible::NoSecureRenegotiation.into());
    }
    let ems = ch.ext.extended_master_secret;
    if !ems && !config.allow_no_extended_master_secret {
        return Err(PeerIncompatible::NoExtendedMasterSecret.into());
    }
    let alpn_index = match ch.ext.alpn {
        Some(theirs) if !config.alpn.is_empty() => Some(
            config
                .alpn
                .iter()
                .position(|ours| theirs.iter().any(|t| t == *ours))
                .ok_or(PeerIncompatible::NoSharedProtocol)?,
        ),
        _ => None,
    };
    // A ticket of ours to resume (RFC 5077), or a full handshake.
    // The verifier accepted (and maybe named) a client in the ALPN
    // context of its session: that holds only in the same one (as in
    // TLS 1.3).
    let alpn_digest = alpn_index
        .and_then(|i| config.alpn.get(i))
        .map(|p| super::ticket::digest(p, false));
    if let Some(state) = resumable(config, now, ch, ems, alpn_digest)? {
        return server_resume(config, now, ch, msg, state, alpn_index, keys, out);
    }
    let group = hello_group(config, ch)?;
    // The suite and certificate: our first suite the client offers for
    // which a chain can sign with a scheme the client lists. RFC 5246
    // §7.4.1.4.1's default without signature_algorithms is SHA-1, which
    // we refuse.
    let schemes = ch
        .ext
        .signature_algorithms
        .ok_or(PeerIncompatible::NoSharedSignatureScheme)?;
    let mut shared_suite = false;
    let mut chosen = None;
    for suite in config.suites.iter().copied().filter(|s| s.is_tls12()) {
        if !ch.cipher_suites.contains(suite.id.0) {
            continue;
        }
        shared_suite = true;
        let offered = || {
            schemes
                .iter()
                .map(SignatureScheme)
                .filter(|s| scheme_fits_suite(*s, suite))
        };
        let found =
            super::server::choose_cert_for(&config.certs, ch.ext.server_name, offered, |k, o| {
                crate::sign::scheme_for_tls12(k, o)
            });
        if let Some((index, ck, scheme)) = found {
            chosen = Some((suite, index, ck, scheme));
            break;
        }
    }
    let Some((suite, cert_index, ck, scheme)) = chosen else {
        return Err(if shared_suite {
            PeerIncompatible::NoSharedSignatureScheme
        } else {
            PeerIncompatible::NoSharedSuite
        }
        .into());
    };
    let alpn = alpn_index.and_then(|i| config.alpn.get(i).copied());

    let rng = config.rng;
    let fail_rng = Error::Internal("random number generator failed");
    let randoms = Randoms {
        client: *ch.random,
        server: server_random(config)?,
    };
    let ticket = issues_tickets(config, ch, ems);
    let cache = caches_session(config, ems);
    let session_id = session_id_for(&randoms.server);
    let kx = KeyExchange::start(group, rng).ok_or(fail_rng)?;
    let mut point = [0u8; super::kx::MAX_SHARE_LEN];
    let point_len = kx
        .write_share(&mut point)
        .ok_or(Error::Internal("key share"))?;
    let point = point.get(..point_len).unwrap_or(&[]);

    // The signed parameters.
    let mut params_buf = [0u8; 4 + MAX_POINT_LEN];
    let params_len = {
        let mut w = Writer::new(&mut params_buf);
        w.u8(NAMED_CURVE)?;
        w.u16(group.0)?;
        w.vec8(point)?;
        w.len()
    };
    let params = params_buf.get(..params_len).unwrap_or(&[]);
    let cert = u8::try_from(cert_index).map_err(|_| Error::Internal("certificate index"))?;
    let mut sig = [0u8; crate::sign::MAX_SIGNATURE_LEN];
    let signed = sign_params(&*ck.key, scheme, &randoms, params, rng, true, &mut sig)?;

    let our_limit = u16::try_from(config.record.recv_max_fragment_len).unwrap_or(u16::MAX);
    let mut transcript = Transcript::new(suite);
    transcript.add(msg);
    // A client certificate is asked for when we verify them, which in
    // TLS 1.2 takes the messages' copy (server.rs negotiates TLS 1.2 with
    // a verifier only then).
    // Deferred (`defer_tls12_client_auth`), the client is asked only by
    // a renegotiation (`Connection::renegotiate` with `client_auth`).
    let mut verifier = config
        .client_verifier
        .filter(|_| !config.defer_tls12_client_auth)
        .filter(|_| client_auth_possible(config, &*keys.transcript_copy));
    let copy = &mut *keys.transcript_copy;
    if let Some(v) = verifier {
        copy.start();
        copy.add(msg);
        // An optional verifier does without a certificate rather than
        // fail a legal ClientHello for want of storage: no request goes
        // out when the hello and our flight would not fit (the shortfall
        // is told by `tls12_transcript_needed`). A mandatory one fails.
        let flight = server_first_flight_len(config);
        if !v.client_auth_mandatory() && !copy.fits(flight) {
            copy.short_by(flight);
            copy.stop();
            verifier = None;
        } else {
            copied(copy)?;
        }
    }
    let written = out.records(None, ContentType::HANDSHAKE, |w| {
        let from = w.len();
        write_server_hello(
            w,
            &ServerHelloFields {
                random: &randoms.server,
                session_id: if cache { &session_id[..] } else { &[] },
                suite,
                ems,
                ec_point_formats: ch.ext.ec_point_formats.is_some(),
                alpn,
                record_size_limit: ch.ext.record_size_limit.map(|_| our_limit),
                ticket,
                renegotiated: &[],
            },
        )?;
        encode_chain(w, ck.chain.iter())?;
        add(
            &mut transcript,
            copy,
            w.written().get(from..).unwrap_or(&[]),
        );
        // With the signature, the rest of the flight goes in the same
        // records; without, it waits for the signer.
        if let Some(n) = signed {
            write_key_exchange(
                w,
                &mut transcript,
                copy,
                params,
                scheme,
                sig.get(..n).unwrap_or(&[]),
                verifier,
            )?;
        }
        Ok(())
    });
    if let Err(e) = written {
        if signed.is_none() {
            // The signer was asked and will not be asked again.
            let mut buf = [0u8; MAX_SIGNED_PARAMS];
            if let Ok(message) = signed_params(&mut buf, &randoms.client, &randoms.server, params) {
                ck.key.cancel(&crate::sign::SignRequest {
                    scheme,
                    message,
                    first: false,
                    rng,
                });
            }
        }
        return Err(e);
    }
    *keys.records = Records::Tls12Server(ServerPending { kx, transcript });
    *keys.negotiated = Some(Negotiated {
        version: ProtocolVersion::TLS1_2,
        suite: suite.id,
        group: Some(group),
        signature_scheme: Some(scheme),
        alpn_index: alpn_index.and_then(|i| u8::try_from(i).ok()),
        cert_index: u8::try_from(cert_index).ok(),
        peer_cert_sha256: None,
        peer_identity: None,
        peer_record_size_limit: ch.ext.record_size_limit,
        resumed: false,
        server_name: ch.ext.server_name.and_then(super::HostName::new),
    });
    let hello = Hello {
        suite,
        randoms,
        ems,
        ticket,
        client_auth: verifier.is_some(),
        session: if cache { Session::Cache } else { Session::None },
        renegotiations: 0,
    };
    if signed.is_some() {
        return Ok(ServerState::after_flight(hello));
    }
    Ok(ServerState::AwaitSignature(Signing {
        hello,
        cert,
        scheme,
        params: params_buf,
        params_len: u8::try_from(params_len).map_err(|_| Error::Internal("params length"))?,
    }))
}

// ---------------------------------------------------------------------
// The server's renegotiation (RFC 5746).

/// What a server's renegotiation keeps until the ClientKeyExchange, in
/// its state (the connection's keys stay in `Records`): the private key
/// of its ServerKeyExchange and the transcript.
pub(crate) struct Renegotiated {
    private: ring::agreement::EphemeralPrivateKey,
    transcript: Transcript,
}

/// Room a server's renegotiation flight takes: the first flight's, its
/// renegotiation_info carrying both verify_data, every record sealed.
pub(crate) fn server_renegotiation_room(
    config: &super::ServerConfig<'_>,
    fragment: usize,
) -> usize {
    flight_room(
        room_sum([server_first_flight_len(config), 2 * VERIFY_DATA_LEN]),
        fragment,
        TLS12_MAX_RECORD_OVERHEAD,
    )
}

/// Answers a renegotiation ClientHello (`msg`, whole) on an established
/// TLS 1.2 connection: the same version and suite, renegotiation_info
/// carrying the client's last verify_data and no SCSV (RFC 5746 §3.7,
/// else handshake_failure), the extended master secret, the same
/// certificate and ALPN protocol; a full handshake (no session is
/// resumed, none issued), its flight sealed under the connection's keys,
/// with a CertificateRequest if `client_auth`. The ServerKeyExchange is
/// signed at once: a signer that answers "pending" fails the
/// renegotiation (its state has no room to wait).
pub(crate) fn server_renegotiation(
    config: &super::ServerConfig<'_>,
    secured: Secured,
    client_auth: bool,
    msg: &[u8],
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<ServerState, Error> {
    let body = msg.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]);
    let ch =
        super::messages::ClientHello::parse(body).map_err(super::client::map_extension_error)?;
    let suite = keys
        .records
        .send()
        .map(RecordKey::suite)
        .filter(|s| s.is_tls12())
        .ok_or(Error::Internal("renegotiation without a TLS 1.2 key"))?;
    if ch
        .cipher_suites
        .contains(crate::wire::CipherSuite::EMPTY_RENEGOTIATION_INFO_SCSV.0)
    {
        return Err(PeerMisbehaved::BadRenegotiationInfo.into());
    }
    let carried = ch.ext.renegotiation_info.unwrap_or(&[]);
    let same = carried.len() == VERIFY_DATA_LEN
        && carried
            .iter()
            .zip(&secured.client_verify)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(PeerMisbehaved::BadRenegotiationInfo.into());
    }
    if !client_offers_tls12(&ch) {
        return Err(PeerIncompatible::NotTls13.into());
    }
    if !ch.cipher_suites.contains(suite.id.0) {
        return Err(PeerIncompatible::NoSharedSuite.into());
    }
    check_hello_fields(&ch)?;
    // Required whatever a first handshake may do: it binds the new
    // session to this one's handshake.
    if !ch.ext.extended_master_secret {
        return Err(PeerIncompatible::NoExtendedMasterSecret.into());
    }
    let negotiated = keys
        .negotiated
        .as_ref()
        .ok_or(Error::Internal("negotiated parameters missing"))?;
    // The protocol the connection speaks, offered again, or none.
    let alpn_index = negotiated.alpn_index;
    let alpn = alpn_index.and_then(|i| config.alpn.get(usize::from(i)).copied());
    if let Some(ours) = alpn {
        if !ch.ext.alpn.is_some_and(|l| l.iter().any(|p| p == ours)) {
            return Err(PeerIncompatible::NoSharedProtocol.into());
        }
    }
    let group = hello_group(config, &ch)?;
    // The certificate the connection was made with, and a scheme for it;
    // after a resumption (which showed none), the one a first handshake
    // would choose for the connection's server name (the client checks
    // it is the one its session had).
    let schemes = ch
        .ext
        .signature_algorithms
        .ok_or(PeerIncompatible::NoSharedSignatureScheme)?;
    let offered = || {
        schemes
            .iter()
            .map(SignatureScheme)
            .filter(|s| scheme_fits_suite(*s, suite))
    };
    let (cert_index, ck, scheme) = match negotiated.cert_index {
        Some(i) => {
            let ck = config
                .certs
                .get(usize::from(i))
                .ok_or(Error::Internal("certificate index"))?;
            let scheme = crate::sign::scheme_for_tls12(&*ck.key, offered())
                .ok_or(PeerIncompatible::NoSharedSignatureScheme)?;
            (usize::from(i), ck, scheme)
        }
        // By the name the connection was made for, whatever this hello
        // names.
        None => {
            let name = negotiated
                .server_name
                .as_ref()
                .map(|n| n.as_str().as_bytes());
            super::server::choose_cert_for(&config.certs, name, offered, |k, o| {
                crate::sign::scheme_for_tls12(k, o)
            })
            .ok_or(PeerIncompatible::NoSharedSignatureScheme)?
        }
    };
    let rng = config.rng;
    let fail_rng = Error::Internal("random number generator failed");
    let randoms = Randoms {
        client: *ch.random,
        server: server_random(config)?,
    };
    let kx = KeyExchange::start(group, rng).ok_or(fail_rng)?;
    let mut params_buf = [0u8; 4 + MAX_POINT_LEN];
    let params_len = {
        let mut w = Writer::new(&mut params_buf);
        w.u8(NAMED_CURVE)?;
        w.u16(group.0)?;
        w.vec8(kx.public())?;
        w.len()
    };
    let params = params_buf.get(..params_len).unwrap_or(&[]);
    let mut sig = [0u8; crate::sign::MAX_SIGNATURE_LEN];
    let Some(n) = sign_params(&*ck.key, scheme, &randoms, params, rng, true, &mut sig)? else {
        let mut buf = [0u8; MAX_SIGNED_PARAMS];
        if let Ok(message) = signed_params(&mut buf, &randoms.client, &randoms.server, params) {
            ck.key.cancel(&crate::sign::SignRequest {
                scheme,
                message,
                first: false,
                rng,
            });
        }
        return Err(Error::Internal(
            "a renegotiation needs a signer that answers at once",
        ));
    };
    let sig = sig.get(..n).unwrap_or(&[]);
    let verifier = if client_auth {
        Some(
            config
                .client_verifier
                .filter(|_| client_auth_possible(config, &*keys.transcript_copy))
                .ok_or(Error::Internal("client authentication not possible"))?,
        )
    } else {
        None
    };
    let mut transcript = Transcript::new(suite);
    transcript.add(msg);
    let copy = &mut *keys.transcript_copy;
    if verifier.is_some() {
        copy.start();
        copy.add(msg);
        copied(copy)?;
    }
    let mut both = [0u8; 2 * VERIFY_DATA_LEN];
    let (a, b) = both.split_at_mut(VERIFY_DATA_LEN);
    a.copy_from_slice(&secured.client_verify);
    b.copy_from_slice(&secured.server_verify);
    let our_limit = u16::try_from(config.record.recv_max_fragment_len).unwrap_or(u16::MAX);
    out.records(keys.records.send_mut(), ContentType::HANDSHAKE, |w| {
        let from = w.len();
        write_server_hello(
            w,
            &ServerHelloFields {
                random: &randoms.server,
                session_id: &[],
                suite,
                ems: true,
                ec_point_formats: ch.ext.ec_point_formats.is_some(),
                alpn,
                record_size_limit: ch.ext.record_size_limit.map(|_| our_limit),
                ticket: false,
                renegotiated: &both,
            },
        )?;
        encode_chain(w, ck.chain.iter())?;
        add(
            &mut transcript,
            copy,
            w.written().get(from..).unwrap_or(&[]),
        );
        write_key_exchange(w, &mut transcript, copy, params, scheme, sig, verifier)
    })?;
    if let Some(n) = keys.negotiated.as_mut() {
        n.group = Some(group);
        n.signature_scheme = Some(scheme);
        n.cert_index = u8::try_from(cert_index).ok();
        n.peer_record_size_limit = ch.ext.record_size_limit;
    }
    let hello = Hello {
        suite,
        randoms,
        ems: true,
        ticket: false,
        client_auth: verifier.is_some(),
        session: Session::None,
        renegotiations: secured.renegotiations.saturating_add(1),
    };
    let kept = Renegotiated {
        private: kx
            .into_classical()
            .ok_or(Error::Internal("TLS 1.2 key exchange"))?,
        transcript,
    };
    Ok(if hello.client_auth {
        ServerState::RenegotiationCertificate(hello, kept)
    } else {
        ServerState::RenegotiationKeyExchange(hello, kept)
    })
}

/// The client's chain in the copy of the messages: the last Certificate
/// message's (the server's comes before).
fn client_chain(copy: &[u8]) -> Option<arrayvec::ArrayVec<CertificateDer<'_>, MAX_CHAIN_LEN>> {
    let mut rest = copy;
    let mut last = None;
    while let Some((ty, _, total)) = split_message(rest) {
        let (m, tail) = rest.split_at_checked(total)?;
        if ty == HandshakeType::CERTIFICATE {
            last = Some(m);
        }
        rest = tail;
    }
    let body = last?.get(HANDSHAKE_HEADER_LEN..)?;
    parse_chain(body).ok()
}

/// Our random (RFC 8446 §4.1.3: a TLS 1.3 server that negotiates TLS
/// 1.2 says so in its last 8 bytes).
fn server_random(config: &super::ServerConfig<'_>) -> Result<[u8; 32], Error> {
    let mut random = [0u8; 32];
    config
        .rng
        .fill(&mut random)
        .map_err(|_| Error::Internal("random number generator failed"))?;
    if config.suites.iter().any(|s| !s.is_tls12()) {
        if let Some(tail) = random.get_mut(24..) {
            tail.copy_from_slice(&super::messages::DOWNGRADE_TLS12);
        }
    }
    Ok(random)
}

/// Whether we send this client a ticket: it sent session_ticket, we have
/// ticket keys, issue tickets, with a lifetime, and the session has the
/// extended master secret (a session without it is never resumed, so
/// RFC 7627 §5.3 needs no record of it).
fn issues_tickets(
    config: &super::ServerConfig<'_>,
    ch: &super::messages::ClientHello<'_>,
    ems: bool,
) -> bool {
    ems && ch.ext.session_ticket.is_some()
        && !config.ticket_keys.is_empty()
        && config.tickets > 0
        && super::server::session_lifetime(config) > 0
}

/// What a TLS 1.2 ServerHello of ours carries.
struct ServerHelloFields<'a> {
    random: &'a [u8; 32],
    /// Empty for a full handshake; the client's, echoed, to resume.
    session_id: &'a [u8],
    suite: &'static Suite,
    ems: bool,
    ec_point_formats: bool,
    alpn: Option<&'a [u8]>,
    record_size_limit: Option<u16>,
    /// An empty session_ticket: a NewSessionTicket follows.
    ticket: bool,
    /// renegotiation_info: empty on the initial handshake, both
    /// verify_data in a renegotiation (RFC 5746 §3.6, §3.7).
    renegotiated: &'a [u8],
}

fn write_server_hello(w: &mut Writer<'_>, f: &ServerHelloFields<'_>) -> Result<(), Error> {
    use super::messages::ext;
    write_message(w, HandshakeType::SERVER_HELLO, |w| {
        w.u16(ProtocolVersion::TLS1_2.0)?;
        w.bytes(f.random)?;
        w.vec8(f.session_id)?;
        w.u16(f.suite.id.0)?;
        w.u8(0)?;
        w.vec::<2>(|w| {
            ext(w, ExtensionType::RENEGOTIATION_INFO, |w| {
                w.vec8(f.renegotiated)
            })?;
            if f.ems {
                ext(w, ExtensionType::EXTENDED_MASTER_SECRET, |_| Ok(()))?;
            }
            if f.ec_point_formats {
                ext(w, ExtensionType::EC_POINT_FORMATS, |w| w.vec8(&[0]))?;
            }
            if let Some(p) = f.alpn {
                ext(w, ExtensionType::ALPN, |w| w.vec::<2>(|w| w.vec8(p)))?;
            }
            if let Some(limit) = f.record_size_limit {
                ext(w, ExtensionType::RECORD_SIZE_LIMIT, |w| w.u16(limit))?;
            }
            if f.ticket {
                ext(w, ExtensionType::SESSION_TICKET, |_| Ok(()))?;
            }
            Ok(())
        })
    })?;
    Ok(())
}

/// A ticket of ours the client offers that this configuration may resume
/// with TLS 1.2 (RFC 5077): sealed by one of our keys, of a TLS 1.2
/// suite both sides still offer (a TLS 1.3 ticket never resumes here),
/// within its lifetime and the session's, issued under our client-auth
/// policy and the same server name, and with the extended master secret
/// if the client offers it now (RFC 7627 §5.3: a session without it is
/// not resumed by a client that has it). `None`: a full handshake.
fn resumable(
    config: &super::ServerConfig<'_>,
    now: u64,
    ch: &super::messages::ClientHello<'_>,
    ems: bool,
    alpn: Option<[u8; 32]>,
) -> Result<Option<super::ticket::TicketState>, Error> {
    // Without a session id the client could not tell our acceptance.
    if config.ticket_keys.is_empty() || ch.session_id.is_empty() {
        return Ok(None);
    }
    // A ticket first (RFC 5077 §3.4); else the session id, in our cache.
    let ticket = ch
        .ext
        .session_ticket
        .filter(|t| !t.is_empty())
        .and_then(|t| super::ticket::open(&config.ticket_keys, t));
    let state = match ticket {
        Some(state) => state,
        None => {
            let Some(cache) = config.session_cache else {
                return Ok(None);
            };
            // Ours are 32 bytes: no other length is looked up.
            let Ok(id) = <&[u8; 32]>::try_from(ch.session_id) else {
                return Ok(None);
            };
            let mut entry = zeroize::Zeroizing::new([0u8; super::ticket::SEALED_TICKET_LEN]);
            let Some(n) = cache
                .get(id, &mut entry[..])
                .filter(|n| *n <= super::ticket::SEALED_TICKET_LEN)
            else {
                return Ok(None);
            };
            let Some(state) =
                super::ticket::open(&config.ticket_keys, entry.get(..n).unwrap_or(&[]))
            else {
                return Ok(None);
            };
            state
        }
    };
    // RFC 7627 §5.3: a session with the extended master secret that
    // would resume for a ClientHello without it ends the handshake (one
    // that would not resume anyway is a full handshake).
    let session_ems = state.extended_master_secret;
    let Some(state) = fitting(config, now, ch, session_ems, alpn, state) else {
        return Ok(None);
    };
    if session_ems && !ems {
        return Err(PeerIncompatible::NoExtendedMasterSecret.into());
    }
    Ok((session_ems == ems).then_some(state))
}

/// The checks of [`resumable`] past the ticket's opening.
fn fitting(
    config: &super::ServerConfig<'_>,
    now: u64,
    ch: &super::messages::ClientHello<'_>,
    ems: bool,
    alpn: Option<[u8; 32]>,
    state: super::ticket::TicketState,
) -> Option<super::ticket::TicketState> {
    let suite = Suite::from_id(state.suite).filter(|s| s.is_tls12())?;
    let offered =
        config.suites.iter().any(|s| s.id == suite.id) && ch.cipher_suites.contains(suite.id.0);
    let age = now.checked_sub(state.issued_at)?;
    let session_age = now.checked_sub(state.auth_time)?;
    let fits = offered
        && age < u64::from(state.lifetime)
        && session_age < u64::from(super::server::session_lifetime(config))
        && state.psk.as_bytes().len() == crate::key_schedule::tls12::MASTER_SECRET_LEN
        && state.extended_master_secret == ems
        && super::ticket::meets_client_auth(
            &state,
            config.client_verifier,
            super::ticket::client_auth_policy(config.client_verifier),
        )
        && state.server_name == ch.ext.server_name.map(super::ticket::server_name_digest)
        && (state.client_cert.is_none() && state.client_identity.is_none() || state.alpn == alpn);
    fits.then_some(state)
}

/// A NewSessionTicket (RFC 5077 §3.3) for the session of `master`, whose
/// full handshake was at `auth_time`, sealed with our first ticket key,
/// written and added to `transcript`.
#[allow(clippy::too_many_arguments)]
fn write_ticket(
    config: &super::ServerConfig<'_>,
    now: u64,
    auth_time: u64,
    suite: &'static Suite,
    master: &MasterSecret,
    ems: bool,
    negotiated: Option<&Negotiated>,
    transcript: &mut Transcript,
    w: &mut Writer<'_>,
) -> Result<(), Error> {
    let mut sealed = zeroize::Zeroizing::new([0u8; super::ticket::SEALED_TICKET_LEN]);
    let (n, lifetime) = seal_session(
        config,
        now,
        auth_time,
        suite,
        master,
        ems,
        negotiated,
        &mut sealed,
    )?;
    let from = w.len();
    write_message(w, HandshakeType::NEW_SESSION_TICKET, |w| {
        w.u32(lifetime)?;
        w.vec16(sealed.get(..n).unwrap_or(&[]))
    })?;
    transcript.add(w.written().get(from..).unwrap_or(&[]));
    Ok(())
}

/// Seals the session of `master` (full handshake at `auth_time`) under
/// our first ticket key into `out`, as a ticket or a session-cache entry:
/// its length, and the lifetime left.
#[allow(clippy::too_many_arguments)]
fn seal_session(
    config: &super::ServerConfig<'_>,
    now: u64,
    auth_time: u64,
    suite: &'static Suite,
    master: &MasterSecret,
    ems: bool,
    negotiated: Option<&Negotiated>,
    out: &mut [u8; super::ticket::SEALED_TICKET_LEN],
) -> Result<(usize, u32), Error> {
    let bad = Error::Internal("ticket");
    let key = config.ticket_keys.first().ok_or(bad)?;
    let end = auth_time.saturating_add(u64::from(super::server::session_lifetime(config)));
    let lifetime = u32::try_from(end.saturating_sub(now)).unwrap_or(u32::MAX);
    let state = super::ticket::TicketState {
        suite: suite.id,
        issued_at: now,
        auth_time,
        lifetime,
        age_add: 0,
        client_auth_policy: super::ticket::client_auth_policy(config.client_verifier),
        // The client's certificate and the verifier's name for it, which
        // its resumptions carry.
        client_cert: negotiated.and_then(|n| n.peer_cert_sha256),
        client_identity: negotiated.and_then(|n| n.peer_identity),
        server_name: negotiated
            .and_then(|n| n.server_name.as_ref())
            .map(|n| super::ticket::server_name_digest(n.as_str().as_bytes())),
        alpn: negotiated
            .and_then(|n| n.alpn_index)
            .and_then(|i| config.alpn.get(usize::from(i)))
            .map(|p| super::ticket::digest(p, false)),
        max_early_data: 0,
        psk: crate::key_schedule::Secret::new(master.as_bytes()).ok_or(bad)?,
        extended_master_secret: ems,
    };
    let n = super::ticket::seal(key, &state, config.rng, &mut out[..]).ok_or(bad)?;
    Ok((n, lifetime))
}

/// The session id a full handshake's session is cached under: derived
/// from our random, so nothing more is kept until the handshake ends (it
/// is as public as the ServerHello that carries it).
fn session_id_for(server_random: &[u8; 32]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"tlspair session id");
    ctx.update(server_random);
    let mut id = [0u8; 32];
    id.copy_from_slice(ctx.finish().as_ref());
    id
}

/// Whether a full handshake's session goes to the session cache: there is
/// one, with ticket keys to seal its entries, and the session has the
/// extended master secret.
fn caches_session(config: &super::ServerConfig<'_>, ems: bool) -> bool {
    ems && config.session_cache.is_some()
        && !config.ticket_keys.is_empty()
        && super::server::session_lifetime(config) > 0
}

/// A NewSessionTicket of ours: header 4, lifetime hint 4, ticket 2 + its
/// sealed bytes.
const TICKET_MESSAGE_12: usize = 4 + 4 + 2 + super::ticket::SEALED_TICKET_LEN;

/// The abbreviated handshake (RFC 5077 §3.1): ServerHello echoing the
/// client's session id, a new ticket if the client asks, our
/// ChangeCipherSpec and Finished; the client's follow.
#[allow(clippy::too_many_arguments)]
fn server_resume(
    config: &super::ServerConfig<'_>,
    now: u64,
    ch: &super::messages::ClientHello<'_>,
    msg: &[u8],
    state: super::ticket::TicketState,
    alpn_index: Option<usize>,
    keys: &mut Keys<'_>,
    out: &mut Out<'_>,
) -> Result<ServerState, Error> {
    let suite = Suite::from_id(state.suite).ok_or(Error::Internal("ticket suite"))?;
    let master =
        MasterSecret::from_bytes(state.psk.as_bytes()).ok_or(Error::Internal("ticket master"))?;
    let randoms = Randoms {
        client: *ch.random,
        server: server_random(config)?,
    };
    let alpn = alpn_index.and_then(|i| config.alpn.get(i).copied());
    let ticket = issues_tickets(config, ch, state.extended_master_secret);
    let our_limit = u16::try_from(config.record.recv_max_fragment_len).unwrap_or(u16::MAX);
    *keys.records = Records::Empty;
    *keys.negotiated = Some(Negotiated {
        version: ProtocolVersion::TLS1_2,
        suite: suite.id,
        group: None,
        signature_scheme: None,
        alpn_index: alpn_index.and_then(|i| u8::try_from(i).ok()),
        cert_index: None,
        peer_cert_sha256: state.client_cert,
        peer_identity: state.client_identity,
        peer_record_size_limit: ch.ext.record_size_limit,
        resumed: true,
        server_name: ch.ext.server_name.and_then(super::HostName::new),
    });
    log_master(config.key_log, &randoms, &master);
    let mut f = Finishing {
        suite,
        randoms,
        master,
        transcript: Transcript::new(suite),
        ticket: false,
        resumed: true,
        ems: state.extended_master_secret,
        session: Session::None,
        ours: [0; VERIFY_DATA_LEN],
        renegotiations: 0,
    };
    f.transcript.add(msg);
    let negotiated = *keys.negotiated;
    out.records(None, ContentType::HANDSHAKE, |w| {
        let from = w.len();
        write_server_hello(
            w,
            &ServerHelloFields {
                random: &f.randoms.server,
                session_id: ch.session_id,
                suite,
                ems: state.extended_master_secret,
                ec_point_formats: ch.ext.ec_point_formats.is_some(),
                alpn,
                record_size_limit: ch.ext.record_size_limit.map(|_| our_limit),
                ticket,
                renegotiated: &[],
            },
        )?;
        f.transcript.add(w.written().get(from..).unwrap_or(&[]));
        if ticket {
            write_ticket(
                config,
                now,
                state.auth_time,
                suite,
                &f.master,
                state.extended_master_secret,
                negotiated.as_ref(),
                &mut f.transcript,
                w,
            )?;
        }
        Ok(())
    })?;
    write_change_and_finished(&mut f, false, keys, out)?;
    Ok(ServerState::ExpectChangeCipherSpec(f))
}

/// The client's Certificate (its body; the transcript has taken the
/// message), checked by the verifier. An empty one ends client
/// authentication if the verifier allows it. In a first handshake the
/// identity and chain are kept now (no one reads them before the
/// handshake completes); in a renegotiation, where `negotiated()` is
/// read meanwhile, only once the CertificateVerify proves the key, and a
/// client that had a certificate must send it again.
fn take_client_certificate(
    config: &super::ServerConfig<'_>,
    now: u64,
    mut hello: Hello,
    body: &[u8],
    keys: &mut Keys<'_>,
) -> Result<Hello, Error> {
    let verifier = config
        .client_verifier
        .ok_or(Error::Internal("no client verifier"))?;
    let ders = parse_chain(body)?;
    let renegotiating = hello.renegotiations > 0;
    if ders.is_empty() {
        if verifier.client_auth_mandatory() {
            return Err(PeerIncompatible::NoClientCertificate.into());
        }
        if renegotiating
            && !config.allow_peer_certificate_change
            && keys
                .negotiated
                .as_ref()
                .is_some_and(|n| n.peer_cert_sha256.is_some())
        {
            return Err(PeerMisbehaved::PeerCertificateChanged.into());
        }
        if renegotiating {
            // Allowed to go anonymous: what named the client goes too.
            if let Some(n) = keys.negotiated.as_mut() {
                n.peer_cert_sha256 = None;
                n.peer_identity = None;
            }
            keys.peer_chain.keep(&[]);
        }
        // Unauthenticated: no CertificateVerify comes.
        hello.client_auth = false;
        keys.transcript_copy.stop();
        return Ok(hello);
    }
    // A CertificateVerify will sign the copy: it must hold this much
    // already (before the chain is checked).
    copied(&*keys.transcript_copy)?;
    let context = super::server::client_cert_context(
        config,
        keys.negotiated.as_ref(),
        rustls_pki_types::UnixTime::since_unix_epoch(core::time::Duration::from_secs(now)),
    );
    let identity = verifier.verify_client_cert_in(&ders, &context)?;
    if !renegotiating {
        // The verifier's name goes with the parameters, which no one
        // reads before the handshake completes: the CertificateVerify
        // must still prove the key.
        if let Some(n) = keys.negotiated.as_mut() {
            n.peer_identity = identity;
        }
        keys.peer_chain.keep(&ders);
    }
    Ok(hello)
}

/// The ClientKeyExchange `msg` gave `shared`: the master secret, and the
/// client's CertificateVerify next if it sent a certificate, else its
/// ChangeCipherSpec.
fn after_client_key_exchange(
    config: &super::ServerConfig<'_>,
    hello: Hello,
    shared: &[u8],
    mut transcript: Transcript,
    msg: &[u8],
    keys: &mut Keys<'_>,
) -> Result<ServerState, Error> {
    add(&mut transcript, keys.transcript_copy, msg);
    if hello.client_auth {
        copied(&*keys.transcript_copy)?;
    }
    let client_auth = hello.client_auth;
    let f = Finishing::after_key_exchange(hello, shared, transcript, config.key_log)?;
    // A client that sent a certificate proves its key.
    Ok(if client_auth {
        ServerState::ExpectCertificateVerify(f)
    } else {
        ServerState::ExpectChangeCipherSpec(f)
    })
}

impl ServerState {
    /// Once our flight is out: the client's Certificate if we asked for
    /// one, else its ClientKeyExchange.
    fn after_flight(hello: Hello) -> Self {
        if hello.client_auth {
            Self::ExpectClientCertificate(hello)
        } else {
            Self::ExpectClientKeyExchange(hello)
        }
    }

    /// Whether the handshake waits for our signer.
    pub fn awaits_signature(&self) -> bool {
        matches!(self, Self::AwaitSignature(_))
    }

    /// The pending signer and its request, for `f` (to cancel it, or to
    /// register a waker); `None` unless a signature is pending.
    pub fn pending_signature<R>(
        &self,
        config: &super::ServerConfig<'_>,
        f: impl FnOnce(&dyn crate::sign::Signer, &crate::sign::SignRequest<'_>) -> R,
    ) -> Option<R> {
        let Self::AwaitSignature(s) = self else {
            return None;
        };
        let cert = config.certs.get(usize::from(s.cert))?;
        let mut buf = [0u8; MAX_SIGNED_PARAMS];
        let r = &s.hello.randoms;
        let message = signed_params(&mut buf, &r.client, &r.server, s.params()).ok()?;
        Some(f(
            &*cert.key,
            &crate::sign::SignRequest {
                scheme: s.scheme,
                message,
                first: false,
                rng: config.rng,
            },
        ))
    }

    /// Asks the signer again; with the signature, writes the
    /// ServerKeyExchange and the ServerHelloDone.
    pub fn poll_signature(
        self,
        config: &super::ServerConfig<'_>,
        keys: &mut Keys<'_>,
        out: &mut Out<'_>,
    ) -> Result<super::client::Polled<Self>, Error> {
        let Self::AwaitSignature(s) = self else {
            return Ok(super::client::Polled::Pending(self));
        };
        let cert = config
            .certs
            .get(usize::from(s.cert))
            .ok_or(Error::Internal("pending certificate index"))?;
        let mut sig = [0u8; crate::sign::MAX_SIGNATURE_LEN];
        let Some(n) = sign_params(
            &*cert.key,
            s.scheme,
            &s.hello.randoms,
            s.params(),
            config.rng,
            false,
            &mut sig,
        )?
        else {
            return Ok(super::client::Polled::Pending(Self::AwaitSignature(s)));
        };
        let Records::Tls12Server(pending) = keys.records else {
            return Err(Error::Internal("TLS 1.2 server state missing"));
        };
        let sig = sig.get(..n).unwrap_or(&[]);
        let verifier = config.client_verifier.filter(|_| s.hello.client_auth);
        let copy = &mut *keys.transcript_copy;
        out.records(None, ContentType::HANDSHAKE, |w| {
            write_key_exchange(
                w,
                &mut pending.transcript,
                copy,
                s.params(),
                s.scheme,
                sig,
                verifier,
            )
        })?;
        Ok(super::client::Polled::Signed(Some(Self::after_flight(
            s.hello,
        ))))
    }

    /// Room the next step may write: our ChangeCipherSpec and Finished;
    /// after a pending signature, the ServerKeyExchange and
    /// ServerHelloDone.
    pub fn room_needed(&self, config: &super::ServerConfig<'_>, fragment: usize) -> usize {
        match self {
            Self::AwaitSignature(_) => flight_room(
                room_sum([
                    4 + 4 + MAX_POINT_LEN + 4,
                    crate::sign::MAX_SIGNATURE_LEN,
                    certificate_request_len(config),
                    4,
                ]),
                fragment,
                HEADER_LEN,
            ),
            // Resumed, we have sent ours; else [NewSessionTicket],
            // ChangeCipherSpec and Finished.
            Self::ExpectFinished(f) if f.resumed => 0,
            // A renegotiation issues no ticket, and seals its
            // ChangeCipherSpec.
            Self::ExpectFinished(f) if f.renegotiations > 0 => {
                renegotiation_finished_room(fragment)
            }
            Self::ExpectFinished(f) => room_sum([
                if f.ticket {
                    flight_room(TICKET_MESSAGE_12, fragment, HEADER_LEN)
                } else {
                    0
                },
                finished_room(fragment),
            ]),
            _ => 0,
        }
    }

    /// The client's ChangeCipherSpec came, its Finished not yet.
    pub fn awaits_finished_after_change(&self) -> bool {
        matches!(self, Self::ExpectFinished(_))
    }

    /// Whether the client's ChangeCipherSpec is due.
    pub fn expects_change_cipher_spec(&self) -> bool {
        matches!(self, Self::ExpectChangeCipherSpec(_))
    }

    /// The client's ChangeCipherSpec: its key opens what follows.
    pub fn change_cipher_spec(self, records: &mut Records) -> Result<Self, Error> {
        let Self::ExpectChangeCipherSpec(f) = self else {
            return Err(
                PeerMisbehaved::UnexpectedContentType(ContentType::CHANGE_CIPHER_SPEC).into(),
            );
        };
        records.switch_recv(direction_key(f.suite, &f.master, &f.randoms, true)?);
        Ok(Self::ExpectFinished(f))
    }

    /// Handles the message at the front of `region` (`now`: the
    /// connection's time, for the tickets it issues).
    pub fn handle(
        self,
        config: &super::ServerConfig<'_>,
        now: u64,
        region: &[u8],
        keys: &mut Keys<'_>,
        out: &mut Out<'_>,
    ) -> Result<Step<Self>, Error> {
        let Some((ty, _, total)) = split_message(region) else {
            return Ok(Step {
                next: Some(self),
                consumed: 0,
            });
        };
        let msg = region.get(..total).unwrap_or(&[]);
        let body = msg.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]);
        match (self, ty) {
            (Self::ExpectClientCertificate(hello), HandshakeType::CERTIFICATE) => {
                let Records::Tls12Server(pending) = &mut *keys.records else {
                    return Err(Error::Internal("TLS 1.2 server state missing"));
                };
                add(&mut pending.transcript, keys.transcript_copy, msg);
                let hello = take_client_certificate(config, now, hello, body, keys)?;
                Ok(Step {
                    next: Some(Self::ExpectClientKeyExchange(hello)),
                    consumed: total,
                })
            }
            (Self::RenegotiationCertificate(hello, mut r), HandshakeType::CERTIFICATE) => {
                add(&mut r.transcript, keys.transcript_copy, msg);
                let hello = take_client_certificate(config, now, hello, body, keys)?;
                Ok(Step {
                    next: Some(Self::RenegotiationKeyExchange(hello, r)),
                    consumed: total,
                })
            }
            (Self::ExpectCertificateVerify(mut f), HandshakeType::CERTIFICATE_VERIFY) => {
                let verifier = config
                    .client_verifier
                    .ok_or(Error::Internal("no client verifier"))?;
                let mut r = Reader::new(body);
                let scheme = SignatureScheme(r.u16("signature scheme").map_err(decode)?);
                let sig = r.vec16("signature").map_err(decode)?;
                r.finish("certificate verify trailing").map_err(decode)?;
                if !request_schemes(verifier).any(|s| s == scheme) {
                    return Err(
                        PeerMisbehaved::IllegalParameter("signature scheme not offered").into(),
                    );
                }
                let signed = copied(&*keys.transcript_copy)?;
                let chain =
                    client_chain(signed).ok_or(Error::Internal("client certificate copy"))?;
                let end_entity = chain
                    .first()
                    .ok_or(Error::Internal("client certificate copy"))?;
                verifier.verify_tls12_signature(end_entity, scheme, signed, sig)?;
                let sha = super::cert_sha256(end_entity);
                if f.renegotiations > 0 {
                    // The key is proven: the certificate, checked again for
                    // its identity, becomes the connection's only now (the
                    // one it had, if any, must be the same).
                    let before = keys.negotiated.as_ref().and_then(|n| n.peer_cert_sha256);
                    if before.is_some_and(|b| b != sha) && !config.allow_peer_certificate_change {
                        return Err(PeerMisbehaved::PeerCertificateChanged.into());
                    }
                    let context = super::server::client_cert_context(
                        config,
                        keys.negotiated.as_ref(),
                        rustls_pki_types::UnixTime::since_unix_epoch(
                            core::time::Duration::from_secs(now),
                        ),
                    );
                    let identity = verifier.verify_client_cert_in(&chain, &context)?;
                    if let Some(n) = keys.negotiated.as_mut() {
                        n.peer_identity = identity;
                    }
                    keys.peer_chain.keep(&chain);
                }
                if let Some(n) = keys.negotiated.as_mut() {
                    n.peer_cert_sha256 = Some(sha);
                }
                f.transcript.add(msg);
                Ok(Step {
                    next: Some(Self::ExpectChangeCipherSpec(f)),
                    consumed: total,
                })
            }
            // The first handshake's key waits in `Records`, a
            // renegotiation's in its state.
            (
                state @ (Self::ExpectClientKeyExchange(_) | Self::RenegotiationKeyExchange(..)),
                HandshakeType::CLIENT_KEY_EXCHANGE,
            ) => {
                let point = parse_client_key_exchange(body)?;
                let bad_point = PeerMisbehaved::IllegalParameter("ECDH point");
                let (hello, shared, transcript) = match state {
                    Self::RenegotiationKeyExchange(hello, r) => {
                        let shared =
                            super::kx::agree_classical(r.private, point).ok_or(bad_point)?;
                        (hello, shared, r.transcript)
                    }
                    Self::ExpectClientKeyExchange(hello) => {
                        let Records::Tls12Server(pending) =
                            core::mem::replace(keys.records, Records::Empty)
                        else {
                            return Err(Error::Internal("TLS 1.2 server state missing"));
                        };
                        let shared = pending.kx.complete(point).ok_or(bad_point)?;
                        (hello, shared, pending.transcript)
                    }
                    _ => return Err(Error::Internal("client key exchange state")),
                };
                Ok(Step {
                    next: Some(after_client_key_exchange(
                        config,
                        hello,
                        shared.as_bytes(),
                        transcript,
                        msg,
                        keys,
                    )?),
                    consumed: total,
                })
            }
            (Self::ExpectFinished(mut f), HandshakeType::FINISHED) => {
                check_finished(&f, true, msg)?;
                f.transcript.add(msg);
                if !f.resumed {
                    if f.ticket {
                        // RFC 5077 §3.3: before our ChangeCipherSpec, in
                        // the clear; the session's full handshake is now.
                        let negotiated = *keys.negotiated;
                        let ems = f.ems;
                        out.records(None, ContentType::HANDSHAKE, |w| {
                            write_ticket(
                                config,
                                now,
                                now,
                                f.suite,
                                &f.master,
                                ems,
                                negotiated.as_ref(),
                                &mut f.transcript,
                                w,
                            )
                        })?;
                    }
                    write_change_and_finished(&mut f, false, keys, out)?;
                    if let (Session::Cache, Some(cache)) = (f.session, config.session_cache) {
                        let mut sealed =
                            zeroize::Zeroizing::new([0u8; super::ticket::SEALED_TICKET_LEN]);
                        let negotiated = *keys.negotiated;
                        let (n, _) = seal_session(
                            config,
                            now,
                            now,
                            f.suite,
                            &f.master,
                            f.ems,
                            negotiated.as_ref(),
                            &mut sealed,
                        )?;
                        cache.put(
                            &session_id_for(&f.randoms.server),
                            sealed.get(..n).unwrap_or(&[]),
                        );
                    }
                }
                keep_for_exporter(&f, keys)?;
                *keys.post_auth = Some(super::post_auth::PostAuth::Tls12(secured(
                    &f,
                    false,
                    msg,
                    rustls_pki_types::UnixTime::since_unix_epoch(core::time::Duration::from_secs(
                        now,
                    )),
                )));
                Ok(Step {
                    next: None,
                    consumed: total,
                })
            }
            (_, ty) => Err(PeerMisbehaved::UnexpectedHandshake(ty).into()),
        }
    }
}
