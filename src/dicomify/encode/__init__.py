"""Pixel encodings: JPEG passthrough, native, lossless compression."""
