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
