"""TPP's pages and JSON endpoints, one module per area; found by ``config.scan``."""
