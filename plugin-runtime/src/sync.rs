//! What every layer's std mutexes share.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A lock that a panic elsewhere does not make unusable: the data behind the runtime's std
/// mutexes is plain, and stays consistent whoever panicked holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
