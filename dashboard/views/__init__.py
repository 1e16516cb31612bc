"""One module per page; each reads widgets, calls cached loaders in ``dashboard.data`` and renders."""
