"""Socket.IO event handlers (placeholder: filled by the live layer)."""
