//! Owned by the collector work: documents and index templates.
