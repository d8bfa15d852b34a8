"""One small module per command group; each exposes ``specs()``."""
