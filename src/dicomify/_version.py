"""The package version, in one place (read by the CLI without importing the library)."""

__version__ = "0.1.0"
