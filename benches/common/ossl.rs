//! The third stack: OpenSSL over memory BIO pairs, the configuration
//! SSL_write(3) describes. Each `SSL` gets two memory BIOs; the
//! "transport" moves bytes with `BIO_read` from one side's write BIO and
//! `BIO_write` into the other's read BIO, and the application calls
//! `SSL_write` / `SSL_read`.
//!
//! The system's `libssl.so.3` and `libcrypto.so.3` are loaded when the
//! bench runs (`libloading`), so building the benches, the tests and the
//! examples needs no OpenSSL headers; without the libraries the OpenSSL
//! variants are left out ([`Openssl::load`] answers `None`).
//!
//! The same choices as the other stacks: TLS 1.3 only,
//! TLS_AES_128_GCM_SHA256, X25519, the built-in ECDSA P-256 server
//! credential, the client verifying the chain against the test CA and the
//! name `localhost`. Allocations are counted through
//! `CRYPTO_set_mem_functions` ([`count_allocations`]).

#![allow(unsafe_code, non_snake_case)]

use std::ffi::{c_char, c_int, c_long, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use tlspair::test_credentials as creds;

type Ptr = *mut c_void;

const SSL_CTRL_SET_SESS_CACHE_MODE: c_int = 44;
const SSL_CTRL_SET_GROUPS_LIST: c_int = 92;
const SSL_CTRL_SET_MIN_PROTO_VERSION: c_int = 123;
const SSL_CTRL_SET_MAX_PROTO_VERSION: c_int = 124;
const TLS1_3_VERSION: c_long = 0x304;
const TLS1_2_VERSION: c_long = 0x303;
/// SSL_OP_NO_TICKET: no RFC 5077 tickets in TLS 1.2.
const SSL_OP_NO_TICKET: u64 = 1 << 14;
const SSL_VERIFY_PEER: c_int = 1;
const SSL_ERROR_WANT_READ: c_int = 2;
const SSL_ERROR_WANT_WRITE: c_int = 3;

type Malloc = extern "C" fn(usize, *const c_char, c_int) -> Ptr;
type Realloc = extern "C" fn(Ptr, usize, *const c_char, c_int) -> Ptr;
type Free = extern "C" fn(Ptr, *const c_char, c_int);

/// The functions used, looked up once.
struct Api {
    _ssl: libloading::Library,
    _crypto: libloading::Library,
    TLS_method: unsafe extern "C" fn() -> *const c_void,
    SSL_CTX_new: unsafe extern "C" fn(*const c_void) -> Ptr,
    SSL_CTX_ctrl: unsafe extern "C" fn(Ptr, c_int, c_long, Ptr) -> c_long,
    SSL_CTX_set_ciphersuites: unsafe extern "C" fn(Ptr, *const c_char) -> c_int,
    SSL_CTX_set_cipher_list: unsafe extern "C" fn(Ptr, *const c_char) -> c_int,
    SSL_CTX_set_options: unsafe extern "C" fn(Ptr, u64) -> u64,
    SSL_CTX_set_num_tickets: unsafe extern "C" fn(Ptr, usize) -> c_int,
    SSL_CTX_use_certificate_ASN1: unsafe extern "C" fn(Ptr, c_int, *const u8) -> c_int,
    SSL_CTX_use_PrivateKey: unsafe extern "C" fn(Ptr, Ptr) -> c_int,
    SSL_CTX_get_cert_store: unsafe extern "C" fn(Ptr) -> Ptr,
    SSL_CTX_set_verify: unsafe extern "C" fn(Ptr, c_int, *const c_void),
    SSL_new: unsafe extern "C" fn(Ptr) -> Ptr,
    SSL_free: unsafe extern "C" fn(Ptr),
    SSL_set1_host: unsafe extern "C" fn(Ptr, *const c_char) -> c_int,
    SSL_set_bio: unsafe extern "C" fn(Ptr, Ptr, Ptr),
    SSL_set_connect_state: unsafe extern "C" fn(Ptr),
    SSL_set_accept_state: unsafe extern "C" fn(Ptr),
    SSL_do_handshake: unsafe extern "C" fn(Ptr) -> c_int,
    SSL_get_error: unsafe extern "C" fn(Ptr, c_int) -> c_int,
    SSL_read: unsafe extern "C" fn(Ptr, Ptr, c_int) -> c_int,
    SSL_write: unsafe extern "C" fn(Ptr, *const c_void, c_int) -> c_int,
    BIO_s_mem: unsafe extern "C" fn() -> *const c_void,
    BIO_new: unsafe extern "C" fn(*const c_void) -> Ptr,
    BIO_read: unsafe extern "C" fn(Ptr, Ptr, c_int) -> c_int,
    BIO_write: unsafe extern "C" fn(Ptr, *const c_void, c_int) -> c_int,
    d2i_X509: unsafe extern "C" fn(*mut Ptr, *mut *const u8, c_long) -> Ptr,
    X509_free: unsafe extern "C" fn(Ptr),
    X509_STORE_add_cert: unsafe extern "C" fn(Ptr, Ptr) -> c_int,
    d2i_AutoPrivateKey: unsafe extern "C" fn(*mut Ptr, *mut *const u8, c_long) -> Ptr,
    EVP_PKEY_free: unsafe extern "C" fn(Ptr),
    CRYPTO_set_mem_functions: unsafe extern "C" fn(Malloc, Realloc, Free) -> c_int,
}

/// Copies the function `name` out of `lib`.
unsafe fn sym<T: Copy>(lib: &libloading::Library, name: &str) -> Option<T> {
    unsafe { lib.get::<T>(name.as_bytes()).ok().map(|s| *s) }
}

impl Api {
    fn load() -> Option<Self> {
        unsafe {
            let crypto = libloading::Library::new("libcrypto.so.3").ok()?;
            let ssl = libloading::Library::new("libssl.so.3").ok()?;
            Some(Self {
                TLS_method: sym(&ssl, "TLS_method")?,
                SSL_CTX_new: sym(&ssl, "SSL_CTX_new")?,
                SSL_CTX_ctrl: sym(&ssl, "SSL_CTX_ctrl")?,
                SSL_CTX_set_ciphersuites: sym(&ssl, "SSL_CTX_set_ciphersuites")?,
                SSL_CTX_set_cipher_list: sym(&ssl, "SSL_CTX_set_cipher_list")?,
                SSL_CTX_set_options: sym(&ssl, "SSL_CTX_set_options")?,
                SSL_CTX_set_num_tickets: sym(&ssl, "SSL_CTX_set_num_tickets")?,
                SSL_CTX_use_certificate_ASN1: sym(&ssl, "SSL_CTX_use_certificate_ASN1")?,
                SSL_CTX_use_PrivateKey: sym(&ssl, "SSL_CTX_use_PrivateKey")?,
                SSL_CTX_get_cert_store: sym(&ssl, "SSL_CTX_get_cert_store")?,
                SSL_CTX_set_verify: sym(&ssl, "SSL_CTX_set_verify")?,
                SSL_new: sym(&ssl, "SSL_new")?,
                SSL_free: sym(&ssl, "SSL_free")?,
                SSL_set1_host: sym(&ssl, "SSL_set1_host")?,
                SSL_set_bio: sym(&ssl, "SSL_set_bio")?,
                SSL_set_connect_state: sym(&ssl, "SSL_set_connect_state")?,
                SSL_set_accept_state: sym(&ssl, "SSL_set_accept_state")?,
                SSL_do_handshake: sym(&ssl, "SSL_do_handshake")?,
                SSL_get_error: sym(&ssl, "SSL_get_error")?,
                SSL_read: sym(&ssl, "SSL_read")?,
                SSL_write: sym(&ssl, "SSL_write")?,
                BIO_s_mem: sym(&crypto, "BIO_s_mem")?,
                BIO_new: sym(&crypto, "BIO_new")?,
                BIO_read: sym(&crypto, "BIO_read")?,
                BIO_write: sym(&crypto, "BIO_write")?,
                d2i_X509: sym(&crypto, "d2i_X509")?,
                X509_free: sym(&crypto, "X509_free")?,
                X509_STORE_add_cert: sym(&crypto, "X509_STORE_add_cert")?,
                d2i_AutoPrivateKey: sym(&crypto, "d2i_AutoPrivateKey")?,
                EVP_PKEY_free: sym(&crypto, "EVP_PKEY_free")?,
                CRYPTO_set_mem_functions: sym(&crypto, "CRYPTO_set_mem_functions")?,
                _ssl: ssl,
                _crypto: crypto,
            })
        }
    }
}

fn api() -> Option<&'static Api> {
    static API: OnceLock<Option<Api>> = OnceLock::new();
    API.get_or_init(Api::load).as_ref()
}

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

extern "C" {
    fn malloc(n: usize) -> Ptr;
    fn realloc(p: Ptr, n: usize) -> Ptr;
    fn free(p: Ptr);
}

extern "C" fn counting_malloc(n: usize, _: *const c_char, _: c_int) -> Ptr {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    unsafe { malloc(n) }
}

extern "C" fn counting_realloc(p: Ptr, n: usize, _: *const c_char, _: c_int) -> Ptr {
    if p.is_null() {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
    unsafe { realloc(p, n) }
}

extern "C" fn plain_free(p: Ptr, _: *const c_char, _: c_int) {
    unsafe { free(p) }
}

/// Loads OpenSSL and counts every allocation it makes from now on
/// (`malloc`, and a `realloc` of nothing). Must come before OpenSSL
/// allocates anything (the first thing `main` does). `None` without the
/// libraries; `Some(false)` if it came too late.
pub fn count_allocations() -> Option<bool> {
    let api = api()?;
    Some(unsafe {
        (api.CRYPTO_set_mem_functions)(counting_malloc, counting_realloc, plain_free) == 1
    })
}

/// OpenSSL's allocations so far (0 unless [`count_allocations`] ran first).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// One side: its `SSL` and the two memory BIOs it owns.
pub struct End {
    api: &'static Api,
    ssl: Ptr,
    rbio: Ptr,
    wbio: Ptr,
}

impl Drop for End {
    fn drop(&mut self) {
        // Frees both BIOs too.
        unsafe { (self.api.SSL_free)(self.ssl) }
    }
}

impl End {
    fn new(api: &'static Api, ctx: Ptr, client: bool) -> Self {
        unsafe {
            let ssl = (api.SSL_new)(ctx);
            assert!(!ssl.is_null(), "SSL_new");
            if client {
                assert_eq!((api.SSL_set1_host)(ssl, c"localhost".as_ptr()), 1);
            }
            let rbio = (api.BIO_new)((api.BIO_s_mem)());
            let wbio = (api.BIO_new)((api.BIO_s_mem)());
            assert!(!rbio.is_null() && !wbio.is_null());
            (api.SSL_set_bio)(ssl, rbio, wbio);
            if client {
                (api.SSL_set_connect_state)(ssl);
            } else {
                (api.SSL_set_accept_state)(ssl);
            }
            Self {
                api,
                ssl,
                rbio,
                wbio,
            }
        }
    }

    /// One `SSL_do_handshake`: whether the handshake is complete.
    fn step(&mut self) -> bool {
        unsafe {
            let r = (self.api.SSL_do_handshake)(self.ssl);
            if r == 1 {
                return true;
            }
            let e = (self.api.SSL_get_error)(self.ssl, r);
            assert!(
                e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE,
                "SSL_do_handshake: error {e}"
            );
            false
        }
    }

    /// `SSL_write` of all of `data` (memory BIOs take everything).
    pub fn write(&mut self, data: &[u8]) {
        let len = c_int::try_from(data.len()).expect("length");
        let n = unsafe { (self.api.SSL_write)(self.ssl, data.as_ptr().cast(), len) };
        assert_eq!(n, len, "SSL_write");
    }

    /// One `SSL_read` into `buf`: the count, or 0 when it wants more input.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let len = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
        unsafe {
            let n = (self.api.SSL_read)(self.ssl, buf.as_mut_ptr().cast(), len);
            if n > 0 {
                return n as usize;
            }
            let e = (self.api.SSL_get_error)(self.ssl, n);
            assert_eq!(e, SSL_ERROR_WANT_READ, "SSL_read");
            0
        }
    }

    /// Moves everything this side has written into `to`'s read BIO, through
    /// `buf`; the count moved.
    pub fn shuttle(&mut self, to: &mut End, buf: &mut [u8]) -> usize {
        let mut moved = 0;
        let len = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
        loop {
            let n = unsafe { (self.api.BIO_read)(self.wbio, buf.as_mut_ptr().cast(), len) };
            if n <= 0 {
                return moved;
            }
            let w = unsafe { (self.api.BIO_write)(to.rbio, buf.as_ptr().cast(), n) };
            assert_eq!(w, n, "BIO_write");
            moved += n as usize;
        }
    }
}

/// OpenSSL's configurations (contexts made once, never freed: the bench
/// keeps them for its whole run).
pub struct Openssl {
    api: &'static Api,
    client: Ptr,
    /// No tickets.
    server: Ptr,
    /// TLS 1.2 only, ECDHE-ECDSA-AES128-GCM-SHA256: no tickets, no
    /// session cache.
    client12: Ptr,
    server12: Ptr,
    /// Where shuttled bytes pass.
    wire: std::cell::RefCell<Vec<u8>>,
}

fn context(api: &Api, server: bool, tls12: bool) -> Ptr {
    unsafe {
        let ctx = (api.SSL_CTX_new)((api.TLS_method)());
        assert!(!ctx.is_null(), "SSL_CTX_new");
        let ctrl = |cmd, larg, parg: *const c_char| {
            (api.SSL_CTX_ctrl)(ctx, cmd, larg, parg.cast_mut().cast())
        };
        let version = if tls12 {
            TLS1_2_VERSION
        } else {
            TLS1_3_VERSION
        };
        assert_eq!(
            ctrl(SSL_CTRL_SET_MIN_PROTO_VERSION, version, std::ptr::null()),
            1
        );
        assert_eq!(
            ctrl(SSL_CTRL_SET_MAX_PROTO_VERSION, version, std::ptr::null()),
            1
        );
        if tls12 {
            assert_eq!(
                (api.SSL_CTX_set_cipher_list)(ctx, c"ECDHE-ECDSA-AES128-GCM-SHA256".as_ptr()),
                1
            );
            (api.SSL_CTX_set_options)(ctx, SSL_OP_NO_TICKET);
        }
        // TLS 1.2: the client must list the ECDSA certificate's curve
        // too (RFC 8422 §5.1, which OpenSSL enforces); X25519 stays first.
        let groups = if tls12 { c"X25519:P-256" } else { c"X25519" };
        assert_eq!(ctrl(SSL_CTRL_SET_GROUPS_LIST, 0, groups.as_ptr()), 1);
        // No session cache: stateless tickets only, and none here.
        ctrl(SSL_CTRL_SET_SESS_CACHE_MODE, 0, std::ptr::null());
        assert_eq!(
            (api.SSL_CTX_set_ciphersuites)(ctx, c"TLS_AES_128_GCM_SHA256".as_ptr()),
            1
        );
        if server {
            let cert = creds::SERVER_ECDSA_P256.cert;
            let len = c_int::try_from(cert.len()).unwrap();
            assert_eq!(
                (api.SSL_CTX_use_certificate_ASN1)(ctx, len, cert.as_ptr()),
                1
            );
            let key = creds::SERVER_ECDSA_P256.key;
            let mut p = key.as_ptr();
            let pkey = (api.d2i_AutoPrivateKey)(std::ptr::null_mut(), &mut p, key.len() as c_long);
            assert!(!pkey.is_null(), "the PKCS#8 key");
            assert_eq!((api.SSL_CTX_use_PrivateKey)(ctx, pkey), 1);
            (api.EVP_PKEY_free)(pkey);
            assert_eq!((api.SSL_CTX_set_num_tickets)(ctx, 0), 1);
        } else {
            let ca = creds::CA_CERT;
            let mut p = ca.as_ptr();
            let x509 = (api.d2i_X509)(std::ptr::null_mut(), &mut p, ca.len() as c_long);
            assert!(!x509.is_null(), "the CA certificate");
            assert_eq!(
                (api.X509_STORE_add_cert)((api.SSL_CTX_get_cert_store)(ctx), x509),
                1
            );
            (api.X509_free)(x509);
            (api.SSL_CTX_set_verify)(ctx, SSL_VERIFY_PEER, std::ptr::null());
        }
        ctx
    }
}

impl Openssl {
    /// The configurations, or `None` without OpenSSL's libraries.
    pub fn load() -> Option<Self> {
        let api = api()?;
        Some(Self {
            api,
            client: context(api, false, false),
            server: context(api, true, false),
            client12: context(api, false, true),
            server12: context(api, true, true),
            wire: std::cell::RefCell::new(vec![0u8; 64 * 1024]),
        })
    }

    fn drive(&self, c: &mut End, s: &mut End) {
        let buf = &mut self.wire.borrow_mut()[..];
        let (mut c_done, mut s_done) = (false, false);
        for _ in 0..10 {
            c_done = c_done || c.step();
            c.shuttle(s, buf);
            s_done = s_done || s.step();
            s.shuttle(c, buf);
            if c_done && s_done {
                return;
            }
        }
        panic!("OpenSSL handshake did not finish");
    }

    /// A full TLS 1.2 handshake, no ticket, no session id kept.
    pub fn full_tls12(&self) -> (End, End) {
        let mut c = End::new(self.api, self.client12, true);
        let mut s = End::new(self.api, self.server12, false);
        self.drive(&mut c, &mut s);
        (c, s)
    }

    /// A full handshake, no tickets: (client, server).
    pub fn full(&self) -> (End, End) {
        let mut c = End::new(self.api, self.client, true);
        let mut s = End::new(self.api, self.server, false);
        self.drive(&mut c, &mut s);
        (c, s)
    }
}

/// Bulk client→server transfer: `SSL_write`, the BIO shuttle (the
/// copying transport), `SSL_read` into a buffer.
pub struct OpensslTransfer {
    client: End,
    server: End,
    wire: Vec<u8>,
    dst: Vec<u8>,
}

impl OpensslTransfer {
    pub fn new(o: &Openssl) -> Self {
        let (client, server) = o.full();
        let mut t = Self {
            client,
            server,
            wire: vec![0u8; super::TRANSFER_BUF],
            dst: vec![0u8; super::TRANSFER_BUF],
        };
        t.run(&[0u8; 16 * 1024], 4 * super::TRANSFER_BUF);
        t
    }

    /// Same rounds as the other stacks: a window of about
    /// `TRANSFER_BUF` bytes written, moved, read.
    pub fn run(&mut self, chunk: &[u8], total: usize) -> usize {
        let per_round = (super::TRANSFER_BUF / chunk.len()).max(1);
        let mut sent = 0;
        let mut received = 0;
        while received < total {
            for _ in 0..per_round {
                if sent == total {
                    break;
                }
                self.client.write(chunk);
                sent += chunk.len();
            }
            self.client.shuttle(&mut self.server, &mut self.wire);
            loop {
                let n = self.server.read(&mut self.dst);
                if n == 0 {
                    break;
                }
                received += n;
            }
        }
        received
    }
}
