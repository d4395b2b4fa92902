"""ubo: theory."""
