//! Handshake messages (RFC 8446 §4): parsed from untrusted bytes into
//! borrowed, bounded views, and encoded into caller-provided slices.
//!
//! Parsed values borrow the message bytes where they lie (in the received
//! view); lists stay as validated byte slices with iterators, so parsing
//! allocates nothing and copies nothing. Every parser consumes its whole
//! input or fails.

use crate::codec::{DecodeError, Overflow, Reader, U16List, Writer};
use crate::wire::{
    CipherSuite, ExtensionType, HandshakeType, NamedGroup, ProtocolVersion, SignatureScheme,
};

/// Bytes in a handshake message header: type (1) and length (3).
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// Longest certificate chain accepted, end-entity certificate included.
pub const MAX_CHAIN_LEN: usize = 8;

/// The special ServerHello.random of a HelloRetryRequest: SHA-256 of
/// "HelloRetryRequest" (RFC 8446 §4.1.3).
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The last eight bytes of a TLS 1.3 server's random when it negotiates
/// TLS 1.2 ("DOWNGRD" 01) or below ("DOWNGRD" 00) (RFC 8446 §4.1.3).
pub const DOWNGRADE_TLS12: [u8; 8] = *b"DOWNGRD\x01";
/// See [`DOWNGRADE_TLS12`].
pub const DOWNGRADE_TLS11: [u8; 8] = *b"DOWNGRD\x00";

/// Splits one handshake message off the front of `bytes`: `Ok(None)` if it
/// is not all there yet, else its type, body and total length.
pub fn split_message(bytes: &[u8]) -> Option<(HandshakeType, usize, usize)> {
    let mut r = Reader::new(bytes);
    let ty = r.u8("").ok()?;
    let len = r.u24("").ok()?;
    let total = HANDSHAKE_HEADER_LEN.checked_add(len)?;
    (bytes.len() >= total).then_some((HandshakeType(ty), len, total))
}

/// The announced length of the message whose header starts `bytes`, if
/// the four header bytes are in.
pub fn announced_len(bytes: &[u8]) -> Option<usize> {
    let mut r = Reader::new(bytes);
    let _ = r.u8("").ok()?;
    r.u24("").ok()
}

/// Writes a handshake message: header, then `body`, length patched.
pub fn write_message(
    w: &mut Writer<'_>,
    ty: HandshakeType,
    body: impl FnOnce(&mut Writer<'_>) -> Result<(), Overflow>,
) -> Result<(), Overflow> {
    w.u8(ty.0)?;
    w.vec::<3>(body)
}

/// A set of 16-bit code points (extension types, groups), without an
/// allocator and linear in the number of entries whatever it is: the
/// first [`SeenTypes::SMALL`] entries are kept in a short array (real
/// blocks have about 20, checked by a short scan), and beyond that one bit
/// per possible value takes over (2^16 bits, 8 KiB of stack, zeroed only
/// when a block is that long).
pub(crate) struct SeenTypes {
    small: [u16; SeenTypes::SMALL],
    len: usize,
    bits: Option<[u64; 1024]>,
}

impl SeenTypes {
    /// Entries kept before the bit set is used.
    const SMALL: usize = 32;

    pub(crate) fn new() -> Self {
        Self {
            small: [0; Self::SMALL],
            len: 0,
            bits: None,
        }
    }

    fn small(&self) -> &[u16] {
        self.small.get(..self.len).unwrap_or(&[])
    }

    /// Whether `ty` is in the set.
    pub(crate) fn contains(&self, ty: u16) -> bool {
        match &self.bits {
            Some(bits) => {
                let bit = 1u64 << (ty & 63);
                bits.get(usize::from(ty >> 6)).is_some_and(|w| w & bit != 0)
            }
            None => self.small().contains(&ty),
        }
    }

    /// Takes `ty` out of the set.
    pub(crate) fn remove(&mut self, ty: u16) {
        match &mut self.bits {
            Some(bits) => {
                if let Some(word) = bits.get_mut(usize::from(ty >> 6)) {
                    *word &= !(1u64 << (ty & 63));
                }
            }
            None => {
                if let Some(i) = self.small().iter().position(|&t| t == ty) {
                    // `i < len <= SMALL`: swap with the last and shorten.
                    let last = self.len.saturating_sub(1);
                    self.small.swap(i, last);
                    self.len = last;
                }
            }
        }
    }

    /// Adds `ty`; false if it was in the set already.
    pub(crate) fn insert(&mut self, ty: u16) -> bool {
        if self.contains(ty) {
            return false;
        }
        if self.bits.is_none() {
            if let Some(slot) = self.small.get_mut(self.len) {
                *slot = ty;
                // Bounded by `small`'s length, checked just above.
                self.len = self.len.saturating_add(1);
                return true;
            }
            // Filled in place: no second 8 KiB array on the stack.
            let bits = self.bits.get_or_insert([0u64; 1024]);
            for &t in &self.small {
                if let Some(word) = bits.get_mut(usize::from(t >> 6)) {
                    *word |= 1u64 << (t & 63);
                }
            }
        }
        if let Some(bits) = &mut self.bits {
            if let Some(word) = bits.get_mut(usize::from(ty >> 6)) {
                *word |= 1u64 << (ty & 63);
            }
        }
        true
    }
}

/// Walks an extension block, refusing duplicates (RFC 8446 §4.2), and
/// hands each (type, body) to `f`. No count limit below what the block's
/// length allows: the walk and the duplicate check are linear.
pub(crate) fn for_each_extension<'a>(
    block: &'a [u8],
    mut f: impl FnMut(ExtensionType, &'a [u8]) -> Result<(), DecodeError>,
) -> Result<(), ExtensionError> {
    let mut seen = SeenTypes::new();
    let mut r = Reader::new(block);
    while !r.is_empty() {
        let ty = r.u16("extension type")?;
        let body = r.vec16("extension body")?;
        if !seen.insert(ty) {
            return Err(ExtensionError::Duplicate(ExtensionType(ty)));
        }
        f(ExtensionType(ty), body)?;
    }
    Ok(())
}

/// Why an extension block was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionError {
    /// Malformed (`decode_error`).
    Decode(DecodeError),
    /// The same type twice (`illegal_parameter`, RFC 8446 §4.2).
    Duplicate(ExtensionType),
}

impl From<DecodeError> for ExtensionError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// One `KeyShareEntry`.
#[derive(Clone, Copy, Debug)]
pub struct KeyShare<'a> {
    /// The group.
    pub group: NamedGroup,
    /// The public value.
    pub public: &'a [u8],
}

/// A validated `KeyShareEntry client_shares<0..2^16-1>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyShares<'a>(&'a [u8]);

impl<'a> KeyShares<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let list = r.vec16("key_share list")?;
        r.finish("key_share trailing")?;
        // Every entry parses; an empty key_exchange is left to the
        // handshake, which knows the groups (illegal_parameter for one it
        // implements, RFC 8446 §4.2.8).
        let mut check = Reader::new(list);
        while !check.is_empty() {
            let _ = check.u16("key_share group")?;
            let _ = check.vec16("key_share public")?;
        }
        Ok(Self(list))
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = KeyShare<'a>> + 'a {
        let mut r = Reader::new(self.0);
        core::iter::from_fn(move || {
            let group = NamedGroup(r.u16("").ok()?);
            let public = r.vec16("").ok()?;
            Some(KeyShare { group, public })
        })
    }
}

/// A validated ALPN `ProtocolNameList`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProtocolNames<'a>(&'a [u8]);

impl<'a> ProtocolNames<'a> {
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let list = r.vec16("alpn list")?;
        r.finish("alpn trailing")?;
        if list.is_empty() {
            return Err(DecodeError("empty alpn list"));
        }
        let mut check = Reader::new(list);
        while !check.is_empty() {
            if check.vec8("alpn name")?.is_empty() {
                return Err(DecodeError("empty alpn name"));
            }
        }
        Ok(Self(list))
    }

    /// The names in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut r = Reader::new(self.0);
        core::iter::from_fn(move || r.vec8("").ok())
    }
}

/// The extensions of a ClientHello that this engine acts on.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientExtensions<'a> {
    /// server_name: the host_name, if one was sent.
    pub server_name: Option<&'a [u8]>,
    /// supported_versions.
    pub supported_versions: Option<U16List<'a>>,
    /// supported_groups.
    pub supported_groups: Option<U16List<'a>>,
    /// key_share.
    pub key_shares: Option<KeyShares<'a>>,
    /// signature_algorithms.
    pub signature_algorithms: Option<U16List<'a>>,
    /// signature_algorithms_cert.
    pub signature_algorithms_cert: Option<U16List<'a>>,
    /// application_layer_protocol_negotiation.
    pub alpn: Option<ProtocolNames<'a>>,
    /// record_size_limit.
    pub record_size_limit: Option<u16>,
    /// psk_key_exchange_modes.
    pub psk_modes: Option<&'a [u8]>,
    /// pre_shared_key (raw; must be the last extension).
    pub pre_shared_key: Option<&'a [u8]>,
    /// cookie.
    pub cookie: Option<&'a [u8]>,
    /// early_data was offered.
    pub early_data: bool,
    /// extended_master_secret was offered (TLS 1.2, RFC 7627).
    pub extended_master_secret: bool,
    /// renegotiation_info's renegotiated_connection (TLS 1.2, RFC 5746).
    pub renegotiation_info: Option<&'a [u8]>,
    /// ec_point_formats (TLS 1.2, RFC 8422).
    pub ec_point_formats: Option<&'a [u8]>,
    /// session_ticket (TLS 1.2, RFC 5077): empty, or a ticket.
    pub session_ticket: Option<&'a [u8]>,
    /// post_handshake_auth was offered (RFC 8446 §4.2.6).
    pub post_handshake_auth: bool,
}

/// A parsed ClientHello.
#[derive(Clone, Copy, Debug)]
pub struct ClientHello<'a> {
    /// legacy_version.
    pub legacy_version: ProtocolVersion,
    /// random.
    pub random: &'a [u8; 32],
    /// legacy_session_id (0..32 bytes).
    pub session_id: &'a [u8],
    /// cipher_suites.
    pub cipher_suites: U16List<'a>,
    /// legacy_compression_methods.
    pub compression: &'a [u8],
    /// The extensions acted on.
    pub ext: ClientExtensions<'a>,
    /// The whole extension block, as sent (empty without one).
    pub extensions: &'a [u8],
}

impl ClientHello<'_> {
    /// A digest of what a second ClientHello must repeat from the first
    /// (RFC 8446 §4.1.2): every field, and every extension but key_share,
    /// early_data, cookie, pre_shared_key and padding, compared by content
    /// whatever their order (the extension digests are combined with XOR;
    /// a block has no duplicates). A conformance check, not a security
    /// boundary: XOR lets a determined client build another hello with the
    /// same digest, and both hellos are in the transcript anyway.
    pub fn retry_digest(&self) -> [u8; 32] {
        use ring::digest::{Context, SHA256};
        let mut fields = Context::new(&SHA256);
        fields.update(&self.legacy_version.0.to_be_bytes());
        fields.update(self.random);
        // Each field length-prefixed, so no two layouts hash alike.
        for field in [
            self.session_id,
            self.cipher_suites.bytes(),
            self.compression,
        ] {
            fields.update(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
            fields.update(field);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(fields.finish().as_ref());
        let mut r = Reader::new(self.extensions);
        while let (Ok(ty), Ok(body)) = (r.u16(""), r.vec16("")) {
            let changes = matches!(
                ExtensionType(ty),
                ExtensionType::KEY_SHARE
                    | ExtensionType::EARLY_DATA
                    | ExtensionType::COOKIE
                    | ExtensionType::PRE_SHARED_KEY
                    | ExtensionType::PADDING
            );
            if changes {
                continue;
            }
            let mut one = Context::new(&SHA256);
            one.update(&ty.to_be_bytes());
            one.update(body);
            for (o, d) in out.iter_mut().zip(one.finish().as_ref()) {
                *o ^= d;
            }
        }
        out
    }
}

impl<'a> ClientHello<'a> {
    /// Parses a ClientHello body.
    pub fn parse(body: &'a [u8]) -> Result<Self, ExtensionError> {
        let mut r = Reader::new(body);
        let legacy_version = ProtocolVersion(r.u16("client version")?);
        let random = r.array::<32>("client random")?;
        let session_id = r.vec8("session id")?;
        if session_id.len() > 32 {
            return Err(DecodeError("session id too long").into());
        }
        let cipher_suites = U16List::new(r.vec16("cipher suites")?, false, "cipher suites")?;
        let compression = r.vec8("compression methods")?;
        if compression.is_empty() {
            return Err(DecodeError("no compression methods").into());
        }
        let mut ext = ClientExtensions::default();
        let mut extensions: &[u8] = &[];
        if !r.is_empty() {
            let block = r.vec16("extensions")?;
            extensions = block;
            r.finish("client hello trailing")?;
            let mut after_psk = false;
            for_each_extension(block, |ty, body| {
                if after_psk {
                    return Err(DecodeError("pre_shared_key not last"));
                }
                let mut b = Reader::new(body);
                match ty {
                    ExtensionType::SERVER_NAME => ext.server_name = parse_server_name(body)?,
                    ExtensionType::SUPPORTED_VERSIONS => {
                        ext.supported_versions =
                            Some(U16List::new(b.vec8("versions")?, false, "versions")?);
                        b.finish("versions trailing")?;
                    }
                    ExtensionType::SUPPORTED_GROUPS => {
                        ext.supported_groups =
                            Some(U16List::new(b.vec16("groups")?, false, "groups")?);
                        b.finish("groups trailing")?;
                    }
                    ExtensionType::KEY_SHARE => ext.key_shares = Some(KeyShares::parse(body)?),
                    ExtensionType::SIGNATURE_ALGORITHMS => {
                        ext.signature_algorithms =
                            Some(U16List::new(b.vec16("sigalgs")?, false, "sigalgs")?);
                        b.finish("sigalgs trailing")?;
                    }
                    ExtensionType::SIGNATURE_ALGORITHMS_CERT => {
                        ext.signature_algorithms_cert = Some(U16List::new(
                            b.vec16("sigalgs cert")?,
                            false,
                            "sigalgs cert",
                        )?);
                        b.finish("sigalgs cert trailing")?;
                    }
                    ExtensionType::ALPN => ext.alpn = Some(ProtocolNames::parse(body)?),
                    ExtensionType::RECORD_SIZE_LIMIT => {
                        ext.record_size_limit = Some(b.u16("record size limit")?);
                        b.finish("record size limit trailing")?;
                    }
                    ExtensionType::PSK_KEY_EXCHANGE_MODES => {
                        ext.psk_modes = Some(b.vec8("psk modes")?);
                        b.finish("psk modes trailing")?;
                    }
                    ExtensionType::PRE_SHARED_KEY => {
                        ext.pre_shared_key = Some(body);
                        after_psk = true;
                    }
                    ExtensionType::COOKIE => {
                        ext.cookie = Some(b.vec16("cookie")?);
                        b.finish("cookie trailing")?;
                    }
                    ExtensionType::EARLY_DATA => {
                        b.finish("early data trailing")?;
                        ext.early_data = true;
                    }
                    ExtensionType::EXTENDED_MASTER_SECRET => {
                        b.finish("extended master secret trailing")?;
                        ext.extended_master_secret = true;
                    }
                    ExtensionType::POST_HANDSHAKE_AUTH => {
                        b.finish("post handshake auth trailing")?;
                        ext.post_handshake_auth = true;
                    }
                    ExtensionType::RENEGOTIATION_INFO => {
                        ext.renegotiation_info = Some(b.vec8("renegotiation info")?);
                        b.finish("renegotiation info trailing")?;
                    }
                    ExtensionType::EC_POINT_FORMATS => {
                        let formats = b.vec8("ec point formats")?;
                        if formats.is_empty() {
                            return Err(DecodeError("empty ec point formats"));
                        }
                        ext.ec_point_formats = Some(formats);
                        b.finish("ec point formats trailing")?;
                    }
                    ExtensionType::SESSION_TICKET => ext.session_ticket = Some(body),
                    // RFC 8446 §4.2: unknown extensions are ignored.
                    _ => {}
                }
                Ok(())
            })?;
        } else {
            r.finish("client hello trailing")?;
        }
        Ok(Self {
            legacy_version,
            random,
            session_id,
            cipher_suites,
            compression,
            ext,
            extensions,
        })
    }
}

/// The host_name of a server_name extension (RFC 6066 §3), if any.
fn parse_server_name(body: &[u8]) -> Result<Option<&[u8]>, DecodeError> {
    let mut r = Reader::new(body);
    let list = r.vec16("server name list")?;
    r.finish("server name trailing")?;
    let mut l = Reader::new(list);
    let mut host = None;
    while !l.is_empty() {
        let ty = l.u8("server name type")?;
        let name = l.vec16("server name")?;
        if ty == 0 {
            if host.is_some() || name.is_empty() {
                return Err(DecodeError("bad host_name"));
            }
            host = Some(name);
        }
    }
    Ok(host)
}

/// What a client puts in its ClientHello.
#[derive(Clone, Copy, Debug)]
pub struct ClientHelloOut<'a> {
    /// random.
    pub random: &'a [u8; 32],
    /// legacy_session_id (32 bytes in middlebox compatibility mode).
    pub session_id: &'a [u8],
    /// Offered suites, in preference order.
    pub suites: &'a [CipherSuite],
    /// SNI host name.
    pub server_name: Option<&'a str>,
    /// Offered groups, in preference order.
    pub groups: &'a [NamedGroup],
    /// The key shares sent.
    pub key_shares: &'a [KeyShare<'a>],
    /// Accepted signature schemes.
    pub schemes: &'a [SignatureScheme],
    /// ALPN protocols, in preference order.
    pub alpn: &'a [&'a [u8]],
    /// record_size_limit to advertise, if any.
    pub record_size_limit: Option<u16>,
    /// cookie echoed after a HelloRetryRequest.
    pub cookie: Option<&'a [u8]>,
    /// Ask for tickets: send psk_key_exchange_modes even without a PSK.
    pub want_tickets: bool,
    /// A PSK to offer; its binder is written as zeros, to be patched (the
    /// binder list is the last `binders_len` bytes of the message).
    pub psk: Option<PskIdentity<'a>>,
    /// GREASE values to send (RFC 8701), if any.
    pub grease: Option<Grease>,
    /// A GREASE key share too (not after a HelloRetryRequest, which asks
    /// for one share).
    pub grease_share: bool,
    /// Offer TLS 1.3 (supported_versions, key_share, the PSK extensions).
    pub tls13: bool,
    /// Offer TLS 1.2 too: 0x0303 in supported_versions, and
    /// extended_master_secret, an empty renegotiation_info and
    /// ec_point_formats (uncompressed only).
    pub tls12: bool,
    /// With `tls12`, session_ticket (RFC 5077): empty to ask for a
    /// ticket, or the TLS 1.2 ticket offered.
    pub session_ticket: Option<&'a [u8]>,
    /// Offer 0-RTT data (an empty early_data, RFC 8446 §4.2.10; with a
    /// PSK only).
    pub early_data: bool,
    /// Offer post_handshake_auth (RFC 8446 §4.2.6; with `tls13`).
    pub post_handshake_auth: bool,
    /// With `tls12`, renegotiation_info's renegotiated_connection (RFC
    /// 5746 §3.5): empty on the initial handshake, our last Finished's
    /// verify_data in a renegotiation.
    pub renegotiation_info: &'a [u8],
}

/// Bytes the TLS 1.2 extensions add to a ClientHello:
/// extended_master_secret (4), renegotiation_info (4 + 1),
/// ec_point_formats (4 + 1 + 1), and a version in supported_versions (2).
pub const TLS12_HELLO_BYTES: usize = 4 + 5 + 6 + 2;

/// Bytes session_ticket adds with `ticket` in it (4 + the ticket).
pub fn session_ticket_bytes(ticket: &[u8]) -> usize {
    ticket.len().saturating_add(4)
}

/// The GREASE values of one ClientHello (RFC 8701): each of the form
/// 0x?A?A, unknown to every peer, which must ignore them.
#[derive(Clone, Copy, Debug)]
pub struct Grease {
    /// A cipher suite, listed first.
    pub suite: u16,
    /// An empty extension, sent first.
    pub first_extension: u16,
    /// An extension with one zero byte, sent last but for pre_shared_key.
    pub last_extension: u16,
    /// A group, listed first (and a key share of one zero byte for it).
    pub group: u16,
    /// A signature scheme, listed first.
    pub scheme: u16,
    /// A version, listed first in supported_versions.
    pub version: u16,
}

impl Grease {
    /// Bytes GREASE adds to a ClientHello: a suite (2), two extensions (4
    /// and 4 + 1), a group (2), a scheme (2), a version (2), and a key
    /// share (2 + 2 + 1).
    pub const HELLO_BYTES: usize = 2 + 4 + 5 + 2 + 2 + 2 + 5;

    /// The values for a connection, from `seed` (the ClientHello's random,
    /// so a retried ClientHello repeats them and a replayed session is the
    /// same bit for bit).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let value = |i: usize| {
            let nibble = u16::from(seed.get(i).copied().unwrap_or(0) & 0x0f);
            0x0a0a | (nibble << 12) | (nibble << 4)
        };
        let first_extension = value(1);
        let mut last_extension = value(2);
        if last_extension == first_extension {
            last_extension ^= 0x1010;
        }
        Self {
            suite: value(0),
            first_extension,
            last_extension,
            group: value(3),
            scheme: value(4),
            version: value(5),
        }
    }
}

/// One offered PSK identity.
#[derive(Clone, Copy, Debug)]
pub struct PskIdentity<'a> {
    /// The ticket.
    pub identity: &'a [u8],
    /// obfuscated_ticket_age.
    pub obfuscated_age: u32,
    /// The binder's length (the PSK's hash length).
    pub binder_len: usize,
}

impl PskIdentity<'_> {
    /// Bytes the binder list takes at the end of the ClientHello.
    pub fn binders_len(&self) -> usize {
        // A binder is at most 255 bytes: this cannot saturate.
        self.binder_len.saturating_add(2 + 1)
    }
}

impl ClientHelloOut<'_> {
    /// Encodes the whole message (header included).
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        write_message(w, HandshakeType::CLIENT_HELLO, |w| {
            w.u16(ProtocolVersion::TLS1_2.0)?;
            w.bytes(self.random)?;
            w.vec8(self.session_id)?;
            let grease = self.grease;
            w.vec::<2>(|w| {
                if let Some(g) = grease {
                    w.u16(g.suite)?;
                }
                self.suites.iter().try_for_each(|s| w.u16(s.0))
            })?;
            w.vec8(&[0])?;
            w.vec::<2>(|w| {
                if let Some(g) = grease {
                    ext(w, ExtensionType(g.first_extension), |_| Ok(()))?;
                }
                if let Some(name) = self.server_name {
                    ext(w, ExtensionType::SERVER_NAME, |w| {
                        w.vec::<2>(|w| {
                            w.u8(0)?;
                            w.vec16(name.as_bytes())
                        })
                    })?;
                }
                ext(w, ExtensionType::SUPPORTED_GROUPS, |w| {
                    w.vec::<2>(|w| {
                        if let Some(g) = grease {
                            w.u16(g.group)?;
                        }
                        // A ClientHello that offers TLS 1.2 only lists no
                        // hybrid group: TLS 1.2 has no use for one.
                        self.groups
                            .iter()
                            .filter(|g| self.tls13 || !super::kx::is_hybrid(**g))
                            .try_for_each(|g| w.u16(g.0))
                    })
                })?;
                ext(w, ExtensionType::SIGNATURE_ALGORITHMS, |w| {
                    w.vec::<2>(|w| {
                        if let Some(g) = grease {
                            w.u16(g.scheme)?;
                        }
                        self.schemes.iter().try_for_each(|s| w.u16(s.0))
                    })
                })?;
                if !self.alpn.is_empty() {
                    ext(w, ExtensionType::ALPN, |w| {
                        w.vec::<2>(|w| self.alpn.iter().try_for_each(|p| w.vec8(p)))
                    })?;
                }
                if let Some(limit) = self.record_size_limit {
                    ext(w, ExtensionType::RECORD_SIZE_LIMIT, |w| w.u16(limit))?;
                }
                if let Some(cookie) = self.cookie {
                    ext(w, ExtensionType::COOKIE, |w| w.vec16(cookie))?;
                }
                if self.tls12 {
                    ext(w, ExtensionType::EXTENDED_MASTER_SECRET, |_| Ok(()))?;
                    // RFC 5746 §3.4, §3.5: empty on the initial
                    // handshake, our verify_data in a renegotiation.
                    ext(w, ExtensionType::RENEGOTIATION_INFO, |w| {
                        w.vec8(self.renegotiation_info)
                    })?;
                    // RFC 8422 §5.1.2: uncompressed points only.
                    ext(w, ExtensionType::EC_POINT_FORMATS, |w| w.vec8(&[0]))?;
                    if let Some(ticket) = self.session_ticket {
                        ext(w, ExtensionType::SESSION_TICKET, |w| w.bytes(ticket))?;
                    }
                }
                if !self.tls13 {
                    // A TLS 1.2-only hello: no TLS 1.3 extension.
                    if let Some(g) = grease {
                        ext(w, ExtensionType(g.last_extension), |w| w.u8(0))?;
                    }
                    return Ok(());
                }
                ext(w, ExtensionType::SUPPORTED_VERSIONS, |w| {
                    w.vec::<1>(|w| {
                        if let Some(g) = grease {
                            w.u16(g.version)?;
                        }
                        w.u16(ProtocolVersion::TLS1_3.0)?;
                        if self.tls12 {
                            w.u16(ProtocolVersion::TLS1_2.0)?;
                        }
                        Ok(())
                    })
                })?;
                ext(w, ExtensionType::KEY_SHARE, |w| {
                    w.vec::<2>(|w| {
                        if let Some(g) = grease.filter(|_| self.grease_share) {
                            w.u16(g.group)?;
                            w.vec16(&[0])?;
                        }
                        self.key_shares.iter().try_for_each(|k| {
                            w.u16(k.group.0)?;
                            w.vec16(k.public)
                        })
                    })
                })?;
                // Sent with a PSK, and whenever we want tickets: servers
                // issue none to a client that lists no mode (RFC 8446
                // §4.2.9; OpenSSL follows it).
                if self.psk.is_some() || self.want_tickets {
                    ext(w, ExtensionType::PSK_KEY_EXCHANGE_MODES, |w| {
                        w.vec8(&[PSK_DHE_KE])
                    })?;
                }
                if let Some(g) = grease {
                    ext(w, ExtensionType(g.last_extension), |w| w.u8(0))?;
                }
                if self.early_data && self.psk.is_some() {
                    ext(w, ExtensionType::EARLY_DATA, |_| Ok(()))?;
                }
                if self.post_handshake_auth {
                    ext(w, ExtensionType::POST_HANDSHAKE_AUTH, |_| Ok(()))?;
                }
                if let Some(psk) = self.psk {
                    // RFC 8446 §4.2.11: pre_shared_key comes last.
                    ext(w, ExtensionType::PRE_SHARED_KEY, |w| {
                        w.vec::<2>(|w| {
                            w.vec16(psk.identity)?;
                            w.u32(psk.obfuscated_age)
                        })?;
                        w.vec::<2>(|w| {
                            w.vec::<1>(|w| w.bytes([0u8; 64].get(..psk.binder_len).unwrap_or(&[])))
                        })
                    })?;
                }
                Ok(())
            })
        })
    }
}

/// psk_ke: PSK-only key establishment.
pub const PSK_KE: u8 = 0;
/// psk_dhe_ke: PSK with (EC)DHE.
pub const PSK_DHE_KE: u8 = 1;

/// A parsed pre_shared_key extension of a ClientHello.
#[derive(Clone, Copy, Debug)]
pub struct OfferedPsks<'a> {
    identities: &'a [u8],
    binders: &'a [u8],
    /// Bytes the binder list (with its length) takes at the end of the
    /// ClientHello: the part the binders do not cover.
    pub binders_len: usize,
}

impl<'a> OfferedPsks<'a> {
    /// Parses the extension body.
    pub fn parse(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let identities = r.vec16("psk identities")?;
        let binders = r.vec16("psk binders")?;
        r.finish("pre_shared_key trailing")?;
        let ids = Self {
            identities,
            binders,
            // A vec16 body: at most 65,535 bytes.
            binders_len: binders.len().saturating_add(2),
        };
        let (n_ids, n_binders) = (ids.identities().count(), ids.binders().count());
        if n_ids == 0 || n_ids != n_binders {
            return Err(DecodeError("psk identities and binders differ"));
        }
        // Every entry parsed (the iterators stop at the first bad one).
        let mut check = Reader::new(identities);
        while !check.is_empty() {
            if check.vec16("psk identity")?.is_empty() {
                return Err(DecodeError("empty psk identity"));
            }
            let _ = check.u32("ticket age")?;
        }
        let mut check = Reader::new(binders);
        while !check.is_empty() {
            if check.vec8("psk binder")?.len() < 32 {
                return Err(DecodeError("short psk binder"));
            }
        }
        Ok(ids)
    }

    /// (identity, obfuscated_ticket_age) pairs in order.
    pub fn identities(&self) -> impl Iterator<Item = (&'a [u8], u32)> + 'a {
        let mut r = Reader::new(self.identities);
        core::iter::from_fn(move || Some((r.vec16("").ok()?, r.u32("").ok()?)))
    }

    /// The binders in order.
    pub fn binders(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut r = Reader::new(self.binders);
        core::iter::from_fn(move || r.vec8("").ok())
    }
}

/// Encodes a NewSessionTicket.
pub fn encode_new_session_ticket(
    w: &mut Writer<'_>,
    lifetime: u32,
    age_add: u32,
    nonce: &[u8],
    ticket: &[u8],
    max_early_data: Option<u32>,
) -> Result<(), Overflow> {
    write_message(w, HandshakeType::NEW_SESSION_TICKET, |w| {
        w.u32(lifetime)?;
        w.u32(age_add)?;
        w.vec8(nonce)?;
        w.vec16(ticket)?;
        w.vec::<2>(|w| match max_early_data {
            Some(n) => ext(w, ExtensionType::EARLY_DATA, |w| w.u32(n)),
            None => Ok(()),
        })
    })
}

/// Writes one extension.
pub fn ext(
    w: &mut Writer<'_>,
    ty: ExtensionType,
    body: impl FnOnce(&mut Writer<'_>) -> Result<(), Overflow>,
) -> Result<(), Overflow> {
    w.u16(ty.0)?;
    w.vec::<2>(body)
}

/// A parsed ServerHello or HelloRetryRequest.
#[derive(Clone, Copy, Debug)]
pub struct ServerHello<'a> {
    /// legacy_version.
    pub legacy_version: ProtocolVersion,
    /// random ([`HRR_RANDOM`] for a HelloRetryRequest).
    pub random: &'a [u8; 32],
    /// legacy_session_id_echo.
    pub session_id: &'a [u8],
    /// cipher_suite.
    pub suite: CipherSuite,
    /// legacy_compression_method.
    pub compression: u8,
    /// supported_versions' selected_version.
    pub selected_version: Option<ProtocolVersion>,
    /// key_share: the server's share (ServerHello).
    pub key_share: Option<KeyShare<'a>>,
    /// key_share: selected_group (HelloRetryRequest).
    pub hrr_group: Option<NamedGroup>,
    /// cookie (HelloRetryRequest).
    pub cookie: Option<&'a [u8]>,
    /// pre_shared_key: selected_identity.
    pub selected_psk: Option<u16>,
    /// Any other extension present (the client refuses these).
    pub unexpected: Option<ExtensionType>,
    /// The whole extension block, as sent (a TLS 1.2 ServerHello's
    /// extensions are read from it).
    pub extensions: &'a [u8],
}

impl<'a> ServerHello<'a> {
    /// Whether this is a HelloRetryRequest.
    pub fn is_retry(&self) -> bool {
        *self.random == HRR_RANDOM
    }

    /// Parses a ServerHello body.
    pub fn parse(body: &'a [u8]) -> Result<Self, ExtensionError> {
        let mut r = Reader::new(body);
        let legacy_version = ProtocolVersion(r.u16("server version")?);
        let random = r.array::<32>("server random")?;
        let session_id = r.vec8("session id echo")?;
        if session_id.len() > 32 {
            return Err(DecodeError("session id too long").into());
        }
        let suite = CipherSuite(r.u16("cipher suite")?);
        let compression = r.u8("compression")?;
        let mut sh = Self {
            legacy_version,
            random,
            session_id,
            suite,
            compression,
            selected_version: None,
            key_share: None,
            hrr_group: None,
            cookie: None,
            selected_psk: None,
            unexpected: None,
            extensions: &[],
        };
        // A TLS 1.2 ServerHello may end here; a 1.3 one always has
        // extensions.
        if r.is_empty() {
            return Ok(sh);
        }
        let block = r.vec16("extensions")?;
        r.finish("server hello trailing")?;
        sh.extensions = block;
        let retry = sh.is_retry();
        for_each_extension(block, |ty, body| {
            let mut b = Reader::new(body);
            match ty {
                ExtensionType::SUPPORTED_VERSIONS => {
                    sh.selected_version = Some(ProtocolVersion(b.u16("selected version")?));
                }
                ExtensionType::KEY_SHARE if retry => {
                    sh.hrr_group = Some(NamedGroup(b.u16("selected group")?))
                }
                ExtensionType::KEY_SHARE => {
                    let group = NamedGroup(b.u16("key share group")?);
                    let public = b.vec16("key share")?;
                    sh.key_share = Some(KeyShare { group, public });
                }
                ExtensionType::COOKIE if retry => sh.cookie = Some(b.vec16("cookie")?),
                ExtensionType::PRE_SHARED_KEY if !retry => {
                    sh.selected_psk = Some(b.u16("selected psk")?)
                }
                other => {
                    let _ = b.rest();
                    if sh.unexpected.is_none() {
                        sh.unexpected = Some(other);
                    }
                }
            }
            b.finish("server hello extension trailing")
        })?;
        Ok(sh)
    }
}

/// What a server puts in its ServerHello.
#[derive(Clone, Copy, Debug)]
pub struct ServerHelloOut<'a> {
    /// random.
    pub random: &'a [u8; 32],
    /// Echo of the client's legacy_session_id.
    pub session_id: &'a [u8],
    /// The chosen suite.
    pub suite: CipherSuite,
    /// The server's key share (none for PSK-only resumption).
    pub key_share: Option<KeyShare<'a>>,
    /// The PSK identity accepted, if resuming.
    pub selected_psk: Option<u16>,
}

impl ServerHelloOut<'_> {
    /// Encodes the whole message.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        write_message(w, HandshakeType::SERVER_HELLO, |w| {
            w.u16(ProtocolVersion::TLS1_2.0)?;
            w.bytes(self.random)?;
            w.vec8(self.session_id)?;
            w.u16(self.suite.0)?;
            w.u8(0)?;
            // key_share before supported_versions, as RFC 8448 and
            // OpenSSL order them.
            w.vec::<2>(|w| {
                if let Some(share) = self.key_share {
                    ext(w, ExtensionType::KEY_SHARE, |w| {
                        w.u16(share.group.0)?;
                        w.vec16(share.public)
                    })?;
                }
                ext(w, ExtensionType::SUPPORTED_VERSIONS, |w| {
                    w.u16(ProtocolVersion::TLS1_3.0)
                })?;
                if let Some(index) = self.selected_psk {
                    ext(w, ExtensionType::PRE_SHARED_KEY, |w| w.u16(index))?;
                }
                Ok(())
            })
        })
    }
}

/// What a server puts in a HelloRetryRequest: a ServerHello with the
/// special random, asking for a share of `group`.
#[derive(Clone, Copy, Debug)]
pub struct HelloRetryRequestOut<'a> {
    /// Echo of the client's legacy_session_id.
    pub session_id: &'a [u8],
    /// The chosen suite.
    pub suite: CipherSuite,
    /// The group the client is to send a share for.
    pub group: NamedGroup,
}

impl HelloRetryRequestOut<'_> {
    /// Encodes the whole message.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        write_message(w, HandshakeType::SERVER_HELLO, |w| {
            w.u16(ProtocolVersion::TLS1_2.0)?;
            w.bytes(&HRR_RANDOM)?;
            w.vec8(self.session_id)?;
            w.u16(self.suite.0)?;
            w.u8(0)?;
            w.vec::<2>(|w| {
                ext(w, ExtensionType::KEY_SHARE, |w| w.u16(self.group.0))?;
                ext(w, ExtensionType::SUPPORTED_VERSIONS, |w| {
                    w.u16(ProtocolVersion::TLS1_3.0)
                })
            })
        })
    }
}

/// A parsed EncryptedExtensions.
#[derive(Clone, Copy, Debug, Default)]
pub struct EncryptedExtensions<'a> {
    /// The selected ALPN protocol.
    pub alpn: Option<&'a [u8]>,
    /// The server's record_size_limit.
    pub record_size_limit: Option<u16>,
    /// The server acknowledged our server_name.
    pub server_name_ack: bool,
    /// The server accepted early data.
    pub early_data: bool,
    /// The first extension that has no place here: one TLS 1.3 defines for
    /// EncryptedExtensions but that answers nothing a client of ours ever
    /// asks (max_fragment_length, use_srtp, heartbeat, the certificate
    /// types), or any other.
    pub forbidden: Option<ExtensionType>,
}

impl<'a> EncryptedExtensions<'a> {
    /// Parses an EncryptedExtensions body.
    pub fn parse(body: &'a [u8]) -> Result<Self, ExtensionError> {
        let mut r = Reader::new(body);
        let block = r.vec16("extensions")?;
        r.finish("encrypted extensions trailing")?;
        let mut ee = Self::default();
        for_each_extension(block, |ty, body| {
            let mut b = Reader::new(body);
            match ty {
                ExtensionType::SERVER_NAME => ee.server_name_ack = true,
                ExtensionType::ALPN => {
                    let names = ProtocolNames::parse(body)?;
                    let mut it = names.iter();
                    ee.alpn = it.next();
                    if it.next().is_some() {
                        return Err(DecodeError("several alpn protocols selected"));
                    }
                    let _ = b.rest();
                }
                ExtensionType::RECORD_SIZE_LIMIT => {
                    ee.record_size_limit = Some(b.u16("record size limit")?)
                }
                ExtensionType::EARLY_DATA => ee.early_data = true,
                // The server's preference, informational (RFC 8446 §4.2.7).
                ExtensionType::SUPPORTED_GROUPS => {
                    let _ = b.rest();
                }
                other => {
                    let _ = b.rest();
                    if ee.forbidden.is_none() {
                        ee.forbidden = Some(other);
                    }
                }
            }
            if ty == ExtensionType::SERVER_NAME || ty == ExtensionType::EARLY_DATA {
                b.finish("empty extension expected")?;
            }
            b.finish("extension trailing")
        })?;
        Ok(ee)
    }
}

/// What a server puts in its EncryptedExtensions.
#[derive(Clone, Copy, Debug, Default)]
pub struct EncryptedExtensionsOut<'a> {
    /// The selected ALPN protocol.
    pub alpn: Option<&'a [u8]>,
    /// Our record_size_limit, if the client sent one.
    pub record_size_limit: Option<u16>,
    /// Acknowledge the client's server_name.
    pub server_name_ack: bool,
    /// Accept the client's 0-RTT data (an empty early_data).
    pub early_data: bool,
}

impl EncryptedExtensionsOut<'_> {
    /// Encodes the whole message.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        write_message(w, HandshakeType::ENCRYPTED_EXTENSIONS, |w| {
            w.vec::<2>(|w| {
                if self.server_name_ack {
                    ext(w, ExtensionType::SERVER_NAME, |_| Ok(()))?;
                }
                if let Some(p) = self.alpn {
                    ext(w, ExtensionType::ALPN, |w| w.vec::<2>(|w| w.vec8(p)))?;
                }
                if let Some(limit) = self.record_size_limit {
                    ext(w, ExtensionType::RECORD_SIZE_LIMIT, |w| w.u16(limit))?;
                }
                if self.early_data {
                    ext(w, ExtensionType::EARLY_DATA, |_| Ok(()))?;
                }
                Ok(())
            })
        })
    }
}

/// A parsed Certificate message: the chain as borrowed DER.
#[derive(Clone, Copy, Debug)]
pub struct CertificateChain<'a> {
    /// certificate_request_context.
    pub context: &'a [u8],
    certs: [&'a [u8]; MAX_CHAIN_LEN],
    len: usize,
    /// The first CertificateEntry extension, if any: we request none
    /// (no status_request, no signed_certificate_timestamp), so the
    /// handshake refuses any (`unsupported_extension`, RFC 8446 §4.4.2).
    pub entry_extension: Option<ExtensionType>,
}

/// Why a Certificate message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateMessageError {
    /// Malformed.
    Decode(DecodeError),
    /// More than [`MAX_CHAIN_LEN`] certificates.
    TooLong,
}

impl From<DecodeError> for CertificateMessageError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl<'a> CertificateChain<'a> {
    /// Parses a Certificate body.
    pub fn parse(body: &'a [u8]) -> Result<Self, CertificateMessageError> {
        let mut r = Reader::new(body);
        let context = r.vec8("certificate context")?;
        let list = r.vec24("certificate list")?;
        r.finish("certificate trailing")?;
        let mut chain = Self {
            context,
            certs: [&[]; MAX_CHAIN_LEN],
            len: 0,
            entry_extension: None,
        };
        let mut l = Reader::new(list);
        while !l.is_empty() {
            let der = l.vec24("certificate")?;
            let extensions = l.vec16("certificate extensions")?;
            // Well formed, without duplicates; we ask for none, so any is
            // refused by the handshake.
            for_each_extension(extensions, |ty, _| {
                if chain.entry_extension.is_none() {
                    chain.entry_extension = Some(ty);
                }
                Ok(())
            })
            .or_else(|e| match e {
                ExtensionError::Decode(d) => Err(CertificateMessageError::Decode(d)),
                // Refused anyway, as the first extension seen.
                ExtensionError::Duplicate(_) => Ok(()),
            })?;
            if der.is_empty() {
                return Err(DecodeError("empty certificate").into());
            }
            let slot = chain
                .certs
                .get_mut(chain.len)
                .ok_or(CertificateMessageError::TooLong)?;
            *slot = der;
            // Bounded by `certs`' length, checked just above.
            chain.len = chain.len.saturating_add(1);
        }
        Ok(chain)
    }

    /// The certificates, end entity first.
    pub fn certs(&self) -> &[&'a [u8]] {
        self.certs.get(..self.len).unwrap_or(&[])
    }

    /// The certificates as the verifiers take them, borrowed.
    pub fn ders(&self) -> arrayvec::ArrayVec<rustls_pki_types::CertificateDer<'a>, MAX_CHAIN_LEN> {
        self.certs()
            .iter()
            .map(|d| rustls_pki_types::CertificateDer::from(*d))
            .collect()
    }
}

/// Encodes a Certificate message with an empty context and no
/// per-certificate extensions.
pub fn encode_certificate<D: AsRef<[u8]>>(
    w: &mut Writer<'_>,
    context: &[u8],
    chain: impl IntoIterator<Item = D>,
) -> Result<(), Overflow> {
    write_message(w, HandshakeType::CERTIFICATE, |w| {
        w.vec8(context)?;
        w.vec::<3>(|w| {
            chain.into_iter().try_for_each(|der| {
                w.vec::<3>(|w| w.bytes(der.as_ref()))?;
                w.vec16(&[])
            })
        })
    })
}

/// Encodes a TLS 1.3 CertificateRequest (RFC 8446 §4.3.2) with
/// `context` (empty within the handshake) and signature_algorithms
/// alone.
pub fn encode_certificate_request(
    w: &mut Writer<'_>,
    context: &[u8],
    schemes: &[SignatureScheme],
) -> Result<(), Overflow> {
    write_message(w, HandshakeType::CERTIFICATE_REQUEST, |w| {
        w.vec8(context)?;
        w.vec::<2>(|w| {
            ext(w, ExtensionType::SIGNATURE_ALGORITHMS, |w| {
                w.vec::<2>(|w| schemes.iter().try_for_each(|s| w.u16(s.0)))
            })
        })
    })
}

/// A parsed CertificateVerify.
#[derive(Clone, Copy, Debug)]
pub struct CertificateVerify<'a> {
    /// The signature scheme.
    pub scheme: SignatureScheme,
    /// The signature.
    pub signature: &'a [u8],
}

impl<'a> CertificateVerify<'a> {
    /// Parses a CertificateVerify body.
    pub fn parse(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let scheme = SignatureScheme(r.u16("signature scheme")?);
        let signature = r.vec16("signature")?;
        r.finish("certificate verify trailing")?;
        Ok(Self { scheme, signature })
    }
}

/// A parsed CertificateRequest: only its context and signature_algorithms
/// matter to a client.
#[derive(Clone, Copy, Debug)]
pub struct CertificateRequest<'a> {
    /// certificate_request_context.
    pub context: &'a [u8],
    /// signature_algorithms (mandatory).
    pub signature_algorithms: U16List<'a>,
}

impl<'a> CertificateRequest<'a> {
    /// Parses a CertificateRequest body.
    pub fn parse(body: &'a [u8]) -> Result<Self, ExtensionError> {
        let mut r = Reader::new(body);
        let context = r.vec8("request context")?;
        let block = r.vec16("extensions")?;
        r.finish("certificate request trailing")?;
        let mut schemes = None;
        for_each_extension(block, |ty, body| {
            if ty == ExtensionType::SIGNATURE_ALGORITHMS {
                let mut b = Reader::new(body);
                schemes = Some(U16List::new(b.vec16("sigalgs")?, false, "sigalgs")?);
                b.finish("sigalgs trailing")?;
            }
            Ok(())
        })?;
        let signature_algorithms = schemes.ok_or(ExtensionError::Decode(DecodeError(
            "missing signature_algorithms",
        )))?;
        Ok(Self {
            context,
            signature_algorithms,
        })
    }
}

/// A parsed NewSessionTicket.
#[derive(Clone, Copy, Debug)]
pub struct NewSessionTicket<'a> {
    /// ticket_lifetime in seconds.
    pub lifetime: u32,
    /// ticket_age_add.
    pub age_add: u32,
    /// ticket_nonce.
    pub nonce: &'a [u8],
    /// ticket.
    pub ticket: &'a [u8],
    /// max_early_data_size from the early_data extension, if present.
    pub max_early_data: Option<u32>,
    /// The first extension TLS 1.3 defines for another message, if any
    /// (`illegal_parameter`, RFC 8446 §4.2).
    pub misplaced: Option<ExtensionType>,
}

impl<'a> NewSessionTicket<'a> {
    /// Parses a NewSessionTicket body.
    pub fn parse(body: &'a [u8]) -> Result<Self, ExtensionError> {
        let mut r = Reader::new(body);
        let lifetime = r.u32("ticket lifetime")?;
        let age_add = r.u32("ticket age add")?;
        let nonce = r.vec8("ticket nonce")?;
        let ticket = r.vec16("ticket")?;
        if ticket.is_empty() {
            return Err(DecodeError("empty ticket").into());
        }
        let block = r.vec16("extensions")?;
        r.finish("new session ticket trailing")?;
        let mut max_early_data = None;
        let mut misplaced = None;
        for_each_extension(block, |ty, body| {
            if ty == ExtensionType::EARLY_DATA {
                let mut b = Reader::new(body);
                max_early_data = Some(b.u32("max early data")?);
                b.finish("early data trailing")?;
            } else if ty.is_tls13_defined() && misplaced.is_none() {
                misplaced = Some(ty);
            }
            // Unknown extensions are ignored (RFC 8446 §4.6.1).
            Ok(())
        })?;
        Ok(Self {
            lifetime,
            age_add,
            nonce,
            ticket,
            max_early_data,
            misplaced,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SeenTypes;

    #[test]
    fn seen_types_is_a_set_below_and_above_its_short_array() {
        for n in [0u16, 1, 31, 32, 33, 5000] {
            let mut set = SeenTypes::new();
            for i in 0..n {
                assert!(set.insert(i.wrapping_mul(7919)), "{n}: insert {i}");
            }
            for i in 0..n {
                let v = i.wrapping_mul(7919);
                assert!(set.contains(v));
                assert!(!set.insert(v), "{n}: duplicate {i}");
            }
            assert!(!set.contains(0xfffe) || n > 0);
            // Removed values are gone, the others stay.
            for i in (0..n).step_by(2) {
                set.remove(i.wrapping_mul(7919));
            }
            for i in 0..n {
                assert_eq!(set.contains(i.wrapping_mul(7919)), i % 2 == 1, "{n}: {i}");
            }
        }
    }
}
