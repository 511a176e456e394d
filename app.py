"""The web app: ``make run`` (or ``python app.py``) serves it on http://127.0.0.1:7860/.

Binds to 127.0.0.1 by default, never creates a share link, sends no analytics.
Settings: ASSISTANT_HOME, ASSISTANT_PORT, ASSISTANT_HOST, ASSISTANT_ADMIN_PASSWORD (管理ページ).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.config import Config  # noqa: E402
from assistant.web import AppContext, launch  # noqa: E402


def main() -> None:
    ctx = AppContext(Config.from_env(), lambda s: print(s, flush=True))
    port = int(os.environ.get("ASSISTANT_PORT", "7860"))
    print(f"TICS Assistant: http://127.0.0.1:{port}/ を開いてください", flush=True)
    launch(ctx, port, os.environ.get("ASSISTANT_HOST", "127.0.0.1"))


if __name__ == "__main__":
    main()
