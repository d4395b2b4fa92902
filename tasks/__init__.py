"""ubo: tasks."""
