"""ubo: algorithms."""
