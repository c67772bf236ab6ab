"""Start the workbench: ``jjj-talent app [--port N]`` serves ``app/web/page.py`` with Solara on
127.0.0.1 only (a planner's own machine; nothing is exposed to the network).

Solara's JavaScript and CSS come from the ``solara-assets`` package, so the page works offline;
telemetry is switched off.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from app.web.state import SCENARIOS_ENV, scenarios_folder
from model.errors import ScenarioError

HOST = "127.0.0.1"


def server_command(port: int) -> list[str]:
    """The Solara server's command line for ``port``."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "app.web.page",
        "--host",
        HOST,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",  # it asks PyPI for a newer Solara at every start
        "--log-level",
        "warning",
    ]


def server_environment(folder: Path) -> dict[str, str]:
    """This process's environment with telemetry off and the scenarios folder made absolute."""
    return {
        **os.environ,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        SCENARIOS_ENV: str(folder.resolve()),
    }


def serve(port: int) -> int:
    """Check the port and the scenarios folder, say where to open the page, then become the
    server (this process is replaced; Ctrl-C stops it)."""
    if not 1 <= port <= 65535:
        raise ScenarioError(f"command line: --port: value {port}: allowed: 1 to 65535")
    folder = scenarios_folder()
    if not (folder / "baseline.yaml").is_file():
        raise ScenarioError(
            f"command line: app: no {folder / 'baseline.yaml'}; run it from the project folder "
            f"(where scenarios/ is) or set {SCENARIOS_ENV} to the scenarios folder"
        )
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: ignore TIME_WAIT
        try:
            probe.bind((HOST, port))
        except OSError as err:
            raise ScenarioError(
                f"command line: --port: value {port}: {HOST}:{port} is in use ({err.strerror}); give another port"
            ) from None
    print(f"jjj-talent app: open http://{HOST}:{port}/ in a browser (Ctrl-C stops it)", flush=True)
    command = server_command(port)
    os.execve(command[0], command, server_environment(folder))
    return 0  # not reached: the server has replaced this process
