"""newsletter-pdf: a quarterly newsletter from a YAML manifest, Markdown and photos."""

__version__ = "0.1.0"
