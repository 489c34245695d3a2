//! Why a change to the policy cannot be made.

use crate::domain::policy::Source;

/// Why a change cannot be made. Each names the JSON pointer of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("the merge patch must be a JSON object")]
    NotAnObject,
    #[error("{pointer}: unknown field")]
    UnknownField { pointer: String },
    /// `message` says what the field takes, e.g. "must be 1 or 2, not 3".
    #[error("{pointer} {message}")]
    InvalidValue { pointer: String, message: String },
    #[error("{pointer} cannot be removed (null); set a value instead")]
    NotRemovable { pointer: String },
    /// The field's source cannot be written for this tenant (`unavailable` or `inferred`).
    #[error("{pointer} cannot be changed: its source is {origin:?}")]
    SourceUnavailable { pointer: String, origin: Source },
}

impl ChangeError {
    pub fn pointer(&self) -> &str {
        match self {
            ChangeError::NotAnObject => "",
            ChangeError::UnknownField { pointer }
            | ChangeError::InvalidValue { pointer, .. }
            | ChangeError::NotRemovable { pointer }
            | ChangeError::SourceUnavailable { pointer, .. } => pointer,
        }
    }
}
