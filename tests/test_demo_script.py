"""`make demo` against a real server process, as a user runs it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.settings import PROJECT_ROOT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cli(*args: str, env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_the_demo_takes_three_cases_to_paid_and_names_the_bank_file(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "APP_ENV": "demo",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    env.pop("TEST_DATABASE_URL", None)
    _cli("migrate", env=env)
    _cli("seed", "--demo", env=env)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base_url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)

        demo = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "scripts.demo", "--base-url", base_url],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert demo.returncode == 0, demo.stdout + demo.stderr
    out = demo.stdout
    assert "cap_exceeded" in out
    assert "街道审批 Street approval (R3.5)" in out
    assert out.count("paid（已发放）") >= 6  # three outcomes and the summary
    saved = re.search(r"saved: (\S+\.csv)", out)
    assert saved is not None
    csv_file = Path(saved.group(1))
    assert csv_file.read_bytes().startswith("\ufeff序号".encode())
    assert "18760.00" in out
