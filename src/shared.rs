//! How a connection holds its configuration: [`Shared`], borrowed for the
//! connection's lifetime (no allocator needed), or with feature `alloc`
//! shared through an `Arc`, so that a connection can outlive the scope
//! that built the configuration (`Connection<'static>` for a tokio task
//! or a worker thread) and a server can rotate configurations (new
//! certificates, new ticket keys) for new connections while the old
//! configuration lives exactly as long as its last connection.
//!
//! One engine serves both: the connection keeps a `Shared` and lends
//! `&Config` to each step, so nothing is generic over the holder.

#[cfg(feature = "alloc")]
use alloc::sync::Arc;

/// A value a connection holds: borrowed, or (feature `alloc`) shared.
///
/// `Connection::client(&config, ..)` and `Connection::server(&config, ..)`
/// borrow, as before; pass an `Arc` (`Connection::server(arc.clone(), ..)`)
/// to share.
pub enum Shared<'a, T: ?Sized> {
    /// Borrowed for the connection's lifetime.
    Borrowed(&'a T),
    /// Shared with every connection holding a clone.
    #[cfg(feature = "alloc")]
    Arc(Arc<T>),
}

impl<T: ?Sized> core::ops::Deref for Shared<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Self::Borrowed(t) => t,
            #[cfg(feature = "alloc")]
            Self::Arc(t) => t,
        }
    }
}

impl<T: ?Sized> Clone for Shared<'_, T> {
    fn clone(&self) -> Self {
        match self {
            Self::Borrowed(t) => Self::Borrowed(t),
            #[cfg(feature = "alloc")]
            Self::Arc(t) => Self::Arc(Arc::clone(t)),
        }
    }
}

impl<'a, T: ?Sized> From<&'a T> for Shared<'a, T> {
    fn from(t: &'a T) -> Self {
        Self::Borrowed(t)
    }
}

/// A leaked `&'static mut` (`Box::leak`) lends as a `&'static`.
impl<'a, T: ?Sized> From<&'a mut T> for Shared<'a, T> {
    fn from(t: &'a mut T) -> Self {
        Self::Borrowed(t)
    }
}

#[cfg(feature = "alloc")]
impl<T: ?Sized> From<Arc<T>> for Shared<'_, T> {
    fn from(t: Arc<T>) -> Self {
        Self::Arc(t)
    }
}

impl<T: ?Sized> core::fmt::Debug for Shared<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Borrowed(_) => "Shared::Borrowed",
            #[cfg(feature = "alloc")]
            Self::Arc(_) => "Shared::Arc",
        })
    }
}

/// The name a client connects to (sent as SNI, checked against the
/// certificate): borrowed, or with feature `alloc` owned by the
/// connection (an `Arc<str>` or a `String`), so that a connection to a
/// name known only at run time can be a `Connection<'static>`.
///
/// `Connection::client(&config, Some("example.com"), now)` borrows;
/// `Connection::client(arc_config, host_string, now)` owns; `None` sends
/// no SNI (a verifier that checks no name).
#[derive(Clone)]
pub struct Name<'a>(pub(crate) Option<Shared<'a, str>>);

/// Shows the name: it is sent in the clear (SNI) anyway.
impl core::fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Name").field(&self.as_str()).finish()
    }
}

impl<'a> From<Option<&'a str>> for Name<'a> {
    fn from(name: Option<&'a str>) -> Self {
        Self(name.map(Shared::Borrowed))
    }
}

impl<'a> From<&'a str> for Name<'a> {
    fn from(name: &'a str) -> Self {
        Self(Some(Shared::Borrowed(name)))
    }
}

#[cfg(feature = "alloc")]
impl From<Arc<str>> for Name<'_> {
    fn from(name: Arc<str>) -> Self {
        Self(Some(Shared::Arc(name)))
    }
}

#[cfg(feature = "alloc")]
impl From<alloc::string::String> for Name<'_> {
    fn from(name: alloc::string::String) -> Self {
        Self(Some(Shared::Arc(Arc::from(name))))
    }
}

impl Name<'_> {
    /// The name, if there is one.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// The session ticket a client offers: a borrowed view, or with feature
/// `alloc` a stored ticket the connection shares (`Arc<StoredTicket>`).
#[derive(Clone, Debug)]
pub enum Offer<'a> {
    /// A view borrowed for the connection's lifetime.
    Borrowed(&'a crate::handshake::ticket::ResumptionTicket<'a>),
    /// A stored ticket, shared.
    #[cfg(feature = "alloc")]
    Stored(Arc<crate::handshake::ticket::StoredTicket>),
}

impl<'a> From<&'a crate::handshake::ticket::ResumptionTicket<'a>> for Offer<'a> {
    fn from(t: &'a crate::handshake::ticket::ResumptionTicket<'a>) -> Self {
        Self::Borrowed(t)
    }
}

#[cfg(feature = "alloc")]
impl From<Arc<crate::handshake::ticket::StoredTicket>> for Offer<'_> {
    fn from(t: Arc<crate::handshake::ticket::StoredTicket>) -> Self {
        Self::Stored(t)
    }
}

impl Offer<'_> {
    /// The ticket as the handshake reads it.
    pub fn view(&self) -> crate::handshake::ticket::ResumptionTicket<'_> {
        match self {
            Self::Borrowed(t) => **t,
            #[cfg(feature = "alloc")]
            Self::Stored(t) => t.resumption(),
        }
    }
}

/// Slices lend as shared slices; so do arrays (`&[key]`), which `Into`
/// would not unsize.
impl<'a, T, const N: usize> From<&'a [T; N]> for Shared<'a, [T]> {
    fn from(t: &'a [T; N]) -> Self {
        Self::Borrowed(t)
    }
}

/// A vector becomes a slice the connections share.
#[cfg(feature = "alloc")]
impl<T> From<alloc::vec::Vec<T>> for Shared<'_, [T]> {
    fn from(t: alloc::vec::Vec<T>) -> Self {
        Self::Arc(Arc::from(t))
    }
}

/// A certificate chain (DER, end entity first): borrowed, or with feature
/// `alloc` owned and shared, so that a rotated certificate is freed with
/// the last configuration and connection that use it.
#[derive(Clone)]
pub enum Chain<'a> {
    /// Borrowed certificates.
    Borrowed(&'a [&'a [u8]]),
    /// Owned certificates, shared.
    #[cfg(feature = "alloc")]
    Owned(Arc<[alloc::vec::Vec<u8>]>),
}

impl<'a> From<&'a [&'a [u8]]> for Chain<'a> {
    fn from(chain: &'a [&'a [u8]]) -> Self {
        Self::Borrowed(chain)
    }
}

#[cfg(feature = "alloc")]
impl From<alloc::vec::Vec<alloc::vec::Vec<u8>>> for Chain<'_> {
    fn from(chain: alloc::vec::Vec<alloc::vec::Vec<u8>>) -> Self {
        Self::Owned(Arc::from(chain))
    }
}

impl<'a> Chain<'a> {
    /// How many certificates.
    pub fn len(&self) -> usize {
        match self {
            Self::Borrowed(c) => c.len(),
            #[cfg(feature = "alloc")]
            Self::Owned(c) => c.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Certificate `i` (0: the end entity).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        match self {
            Self::Borrowed(c) => c.get(i).copied(),
            #[cfg(feature = "alloc")]
            Self::Owned(c) => c.get(i).map(alloc::vec::Vec::as_slice),
        }
    }

    /// The certificates, end entity first.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + Clone + use<'_, 'a> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Host names a certificate serves: borrowed, or with feature `alloc`
/// owned and shared.
#[derive(Clone)]
pub enum Names<'a> {
    /// Borrowed names.
    Borrowed(&'a [&'a str]),
    /// Owned names, shared.
    #[cfg(feature = "alloc")]
    Owned(Arc<[alloc::string::String]>),
}

impl<'a> From<&'a [&'a str]> for Names<'a> {
    fn from(names: &'a [&'a str]) -> Self {
        Self::Borrowed(names)
    }
}

#[cfg(feature = "alloc")]
impl From<alloc::vec::Vec<alloc::string::String>> for Names<'_> {
    fn from(names: alloc::vec::Vec<alloc::string::String>) -> Self {
        Self::Owned(Arc::from(names))
    }
}

impl<'a> Names<'a> {
    /// How many names.
    pub fn len(&self) -> usize {
        match self {
            Self::Borrowed(n) => n.len(),
            #[cfg(feature = "alloc")]
            Self::Owned(n) => n.len(),
        }
    }

    /// Whether there are none (a default certificate).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names.
    pub fn iter(&self) -> impl Iterator<Item = &str> + Clone + use<'_, 'a> {
        (0..self.len()).filter_map(|i| match self {
            Self::Borrowed(n) => n.get(i).copied(),
            #[cfg(feature = "alloc")]
            Self::Owned(n) => n.get(i).map(alloc::string::String::as_str),
        })
    }
}

impl core::fmt::Debug for Names<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A borrowed vector lends as a slice.
#[cfg(feature = "alloc")]
impl<'a, T> From<&'a alloc::vec::Vec<T>> for Shared<'a, [T]> {
    fn from(t: &'a alloc::vec::Vec<T>) -> Self {
        Self::Borrowed(t)
    }
}

/// A leaked array (`Box::leak`) lends as a slice.
impl<'a, T, const N: usize> From<&'a mut [T; N]> for Shared<'a, [T]> {
    fn from(t: &'a mut [T; N]) -> Self {
        Self::Borrowed(t)
    }
}
