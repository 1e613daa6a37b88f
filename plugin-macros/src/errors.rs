//! Collects every error in an interface before reporting, so one compile shows all of them.

use std::fmt::Display;

use quote::ToTokens;

/// The errors found so far, each pointing at the token it is about.
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records an error spanning `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error that was already built (for example by syn while parsing).
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Takes over the errors of `other`; `true` when it had none.
    pub(crate) fn append(&mut self, other: Errors) -> bool {
        match other.combined {
            Some(error) => {
                self.push(error);
                false
            }
            None => true,
        }
    }

    /// Keeps the value of `result`, recording its error instead.
    pub(crate) fn ok<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// `Ok(value)` when nothing was recorded, else every error as one.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.combined {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}
