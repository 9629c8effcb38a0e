//! UPDATE round trips: hex → struct → bytes, with per-field byte comments.

