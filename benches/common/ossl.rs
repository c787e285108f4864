//! The third stack: OpenSSL (the system's libssl) over memory BIO pairs,
//! the configuration SSL_write(3) describes. Each `SSL` gets two memory
//! BIOs; the "transport" moves bytes with `BIO_read` from one side's
//! write BIO and `BIO_write` into the other's read BIO, and the
//! application calls `SSL_write` / `SSL_read`.
//!
//! The same choices as the other stacks: TLS 1.3 only,
//! TLS_AES_128_GCM_SHA256, X25519, the built-in ECDSA P-256 server
//! credential, the client verifying the chain against the test CA and the
//! name `localhost`. Allocations are counted through
//! `CRYPTO_set_mem_functions` ([`count_allocations`]).

#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};

use foreign_types::ForeignType;
use openssl::pkey::PKey;
use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslMethod, SslSessionCacheMode, SslVerifyMode, SslVersion,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;
use openssl_sys as ffi;
use tlspair::test_credentials as creds;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

extern "C" {
    fn malloc(n: usize) -> *mut c_void;
    fn realloc(p: *mut c_void, n: usize) -> *mut c_void;
    fn free(p: *mut c_void);
    fn CRYPTO_set_mem_functions(
        m: extern "C" fn(usize, *const c_char, c_int) -> *mut c_void,
        r: extern "C" fn(*mut c_void, usize, *const c_char, c_int) -> *mut c_void,
        f: extern "C" fn(*mut c_void, *const c_char, c_int),
    ) -> c_int;
}

extern "C" fn counting_malloc(n: usize, _: *const c_char, _: c_int) -> *mut c_void {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    unsafe { malloc(n) }
}

extern "C" fn counting_realloc(
    p: *mut c_void,
    n: usize,
    _: *const c_char,
    _: c_int,
) -> *mut c_void {
    if p.is_null() {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
    unsafe { realloc(p, n) }
}

extern "C" fn plain_free(p: *mut c_void, _: *const c_char, _: c_int) {
    unsafe { free(p) }
}

/// Counts every allocation OpenSSL makes from now on: `malloc` and a
/// `realloc` of nothing. Must come before OpenSSL allocates anything (the
/// first thing `main` does); `false` if it came too late.
pub fn count_allocations() -> bool {
    unsafe { CRYPTO_set_mem_functions(counting_malloc, counting_realloc, plain_free) == 1 }
}

/// OpenSSL's allocations so far (0 unless [`count_allocations`] ran first).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// One side: its `SSL` and the two memory BIOs it owns.
pub struct End {
    pub ssl: Ssl,
    rbio: *mut ffi::BIO,
    wbio: *mut ffi::BIO,
}

impl End {
    fn new(ctx: &SslContext, client: bool) -> Self {
        let mut ssl = Ssl::new(ctx).expect("SSL_new");
        if client {
            ssl.param_mut().set_host("localhost").expect("host");
            ssl.set_hostname("localhost").expect("SNI");
        }
        unsafe {
            let rbio = ffi::BIO_new(ffi::BIO_s_mem());
            let wbio = ffi::BIO_new(ffi::BIO_s_mem());
            assert!(!rbio.is_null() && !wbio.is_null());
            ffi::SSL_set_bio(ssl.as_ptr(), rbio, wbio);
            if client {
                ffi::SSL_set_connect_state(ssl.as_ptr());
            } else {
                ffi::SSL_set_accept_state(ssl.as_ptr());
            }
            Self { ssl, rbio, wbio }
        }
    }

    /// One `SSL_do_handshake`: whether the handshake is complete.
    fn step(&mut self) -> bool {
        unsafe {
            let r = ffi::SSL_do_handshake(self.ssl.as_ptr());
            if r == 1 {
                return true;
            }
            let e = ffi::SSL_get_error(self.ssl.as_ptr(), r);
            assert!(
                e == ffi::SSL_ERROR_WANT_READ || e == ffi::SSL_ERROR_WANT_WRITE,
                "SSL_do_handshake: {e} {:?}",
                openssl::error::ErrorStack::get()
            );
            false
        }
    }

    /// `SSL_write` of all of `data` (memory BIOs take everything).
    pub fn write(&mut self, data: &[u8]) {
        let n = unsafe {
            ffi::SSL_write(
                self.ssl.as_ptr(),
                data.as_ptr().cast(),
                c_int::try_from(data.len()).expect("length"),
            )
        };
        assert_eq!(usize::try_from(n).ok(), Some(data.len()), "SSL_write");
    }

    /// One `SSL_read` into `buf`: the count, or 0 when it wants more input.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let len = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
        unsafe {
            let n = ffi::SSL_read(self.ssl.as_ptr(), buf.as_mut_ptr().cast(), len);
            if n > 0 {
                return n as usize;
            }
            let e = ffi::SSL_get_error(self.ssl.as_ptr(), n);
            assert_eq!(e, ffi::SSL_ERROR_WANT_READ, "SSL_read");
            0
        }
    }

    /// Moves everything this side has written into `to`'s read BIO, through
    /// `buf`; the count moved.
    pub fn shuttle(&mut self, to: &mut End, buf: &mut [u8]) -> usize {
        let mut moved = 0;
        let len = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
        loop {
            let n = unsafe { ffi::BIO_read(self.wbio, buf.as_mut_ptr().cast(), len) };
            if n <= 0 {
                return moved;
            }
            let w = unsafe { ffi::BIO_write(to.rbio, buf.as_ptr().cast(), n) };
            assert_eq!(w, n, "BIO_write");
            moved += n as usize;
        }
    }
}

/// OpenSSL's configurations.
pub struct Openssl {
    client: SslContext,
    /// No tickets.
    server: SslContext,
    /// Where shuttled bytes pass.
    pub wire: std::cell::RefCell<Vec<u8>>,
}

fn context(server: bool, tickets: usize) -> SslContext {
    let mut b = SslContextBuilder::new(SslMethod::tls()).expect("SSL_CTX_new");
    b.set_min_proto_version(Some(SslVersion::TLS1_3)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_3)).unwrap();
    b.set_ciphersuites("TLS_AES_128_GCM_SHA256").unwrap();
    b.set_groups_list("X25519").unwrap();
    if server {
        let cert = X509::from_der(creds::SERVER_ECDSA_P256.cert).unwrap();
        let key = PKey::private_key_from_pkcs8(creds::SERVER_ECDSA_P256.key).unwrap();
        b.set_certificate(&cert).unwrap();
        b.set_private_key(&key).unwrap();
        b.set_num_tickets(tickets).unwrap();
    } else {
        let mut store = X509StoreBuilder::new().unwrap();
        store
            .add_cert(X509::from_der(creds::CA_CERT).unwrap())
            .unwrap();
        b.set_cert_store(store.build());
        b.set_verify(SslVerifyMode::PEER);
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
    }
    b.build()
}

impl Openssl {
    pub fn new() -> Self {
        Self {
            client: context(false, 0),
            server: context(true, 0),
            wire: std::cell::RefCell::new(vec![0u8; 64 * 1024]),
        }
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

    /// A full handshake, no tickets: (client, server).
    pub fn full(&self) -> (End, End) {
        let mut c = End::new(&self.client, true);
        let mut s = End::new(&self.server, false);
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
