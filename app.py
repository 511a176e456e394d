"""The web app: ``make run`` (or ``python app.py``) serves it on http://127.0.0.1:7860/.

Binds to 127.0.0.1 by default, never creates a share link, sends no analytics, keeps no run
history in the browser. Settings are read once here (README: 設定).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.umask(0o077)  # everything the app writes (records, index, exports) is private to its user

from assistant.config import Config, ConfigError  # noqa: E402
from assistant.server import serve  # noqa: E402


def main() -> None:
    try:
        cfg = Config.from_env()
        serve(cfg, lambda s: print(s, flush=True))
    except ConfigError as exc:
        print(f"エラー: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
