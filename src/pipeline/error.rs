//! Why an input was not imported, or not all of it. The store's own failures are
//! `StoreError`s and stop the whole import; these stop one input only.

use std::io;
use std::sync::Arc;

use crate::ingest::Format;
use crate::ingest::input::InputError;

/// An input that could not be read, or not to its end. Shared (`Arc`) so that a report
/// holding one can be copied to the screen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Open(Arc<InputError>),
    #[error("{name}: {source}")]
    Read {
        name: String,
        source: Arc<io::Error>,
    },
    #[error("{name}: the compressed data is truncated or corrupt ({source})")]
    Corrupt {
        name: String,
        source: Arc<io::Error>,
    },
    #[error("{name}: not a sends log sendlog knows (tried: {tried}); use --format to force one")]
    UnknownFormat { name: String, tried: String },
    #[error("{name}: reading {format} input is not supported yet")]
    Unsupported { name: String, format: Format },
    #[error("{name}: the parser stopped unexpectedly")]
    ParserStopped { name: String },
    /// A mailbox or folder of bounce emails that could not be opened.
    #[error("{0}")]
    Mailbox(String),
    /// Reading stopped part way: what came before was imported.
    #[error("{error} (after line {line}; the lines before it were imported)")]
    Partly { error: Box<ImportError>, line: u64 },
}

impl ImportError {
    pub(crate) fn read(name: &str, source: io::Error) -> Self {
        ImportError::Read {
            name: name.to_string(),
            source: Arc::new(source),
        }
    }

    /// A read error; in compressed data, the ones a cut or damaged stream gives are said
    /// as such.
    pub(crate) fn reading(name: &str, compressed: bool, source: io::Error) -> Self {
        if compressed
            && matches!(
                source.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::InvalidInput
                    | io::ErrorKind::InvalidData
            )
        {
            ImportError::Corrupt {
                name: name.to_string(),
                source: Arc::new(source),
            }
        } else {
            ImportError::read(name, source)
        }
    }

    pub(crate) fn after_line(self, line: u64) -> Self {
        ImportError::Partly {
            error: Box::new(self),
            line,
        }
    }
}
