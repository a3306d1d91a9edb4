"""``dicomify serve``: a capture page, an HTTP API and a watch folder, built on the library.

Needs the ``serve`` extra (``pip install 'dicomify[serve]'``: FastAPI, uvicorn,
python-multipart). The configuration is one TOML file, documented in docs/serve.md.

>>> from dicomify.serve import create_app, load_config
>>> app = create_app(load_config("serve.toml"))  # doctest: +SKIP
"""

from .app import create_app
from .config import Limits, ServeConfig, WatchConfig, load_config
from .passwords import hash_password, verify_password

__all__ = ["Limits", "ServeConfig", "WatchConfig", "create_app", "hash_password", "load_config", "verify_password"]
