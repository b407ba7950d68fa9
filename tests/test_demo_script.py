"""`make demo` against a real server process, as a user runs it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _server(env: dict[str, str]) -> Iterator[str]:
    """A server process on a free port; its demo clock starts at real time."""
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
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _demo(env: dict[str, str]) -> str:
    """One run of the demo against a fresh server process; its output."""
    with _server(env) as base_url:
        demo = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "scripts.demo", "--base-url", base_url],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    return demo.stdout


def _assert_first_run(out: str) -> None:
    """The seven stories of a run on a fresh database, step by step."""
    # Cases 1-3: the cap, the street's approval, the bank.
    assert "cap_exceeded" in out
    assert "街道审批 Street approval (R3.5)" in out
    # Case 4: filed with the district and drawn in the month's spot check.
    assert "区备案清单 Filing list" in out
    assert "抽取抽查 Spot-check draw" in out
    assert "本案被抽中 this case was drawn" in out
    assert "抽查合格 Spot check passed" in out
    assert "抽查覆盖 Spot-check coverage" in out
    # Case 5: the advance from the reserve fund, the top-up through the bank.
    assert "设立备用金 Set up reserve fund" in out
    assert "before=20000.00  after=18500.00" in out
    assert "补足 top-up" in out
    assert "approved 4000.00 − advance 1500.00 = 2500.00" in out
    # Case 6: the objection upheld sends the case back, its approval revoked.
    assert "异议成立 Objection upheld" in out
    assert "approved_amount=None" in out
    # Case 7: goods in kind, refused above the cap, delivered, not on the form.
    assert "实物超过上限被拒 In kind above cap" in out
    assert "实物不列入审批单 Not on the form" in out
    assert "登记实物发放 Delivery recorded" in out
    # The street pays its two delegated approvals itself (R3.5); the form
    # holds the two district cash cases and the top-up, the bank pays them.
    assert out.count("街道发放 Street pays (R3.5)") == 2
    assert "街道审批不列入区审批单 Not on the form" in out
    assert "payer=street  voucher=TX-" in out
    assert "payments=3  total=20460.00" in out
    assert "paid_total=20460.00" in out
    assert out.count("paid（已发放）") >= 12  # six outcomes and the summary
    assert "accepted（已受理，待调查核实）  撤销 revoked" in out
    assert "27260.00" in out  # the summary's total approved


def test_the_demo_tells_seven_stories_and_runs_again_on_the_same_database(
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

    first = _demo(env)

    _assert_first_run(first)
    saved = re.search(r"saved: (\S+\.csv)", first)
    assert saved is not None
    csv_file = Path(saved.group(1))
    assert csv_file.read_bytes().startswith("\ufeff序号".encode())

    # A restarted server starts its clock again at real time: the second run
    # finds the reserve fund set up and its case's month already drawn.
    second = _demo(env)

    assert "备用金已设立 Reserve fund exists" in second
    assert re.search(r"Replenish to cap\s+\+1500\.00", second)  # what is missing
    assert "本月已抽取 Already drawn" in second
    assert "已有抽查 Existing draw" in second
    assert "saved: " in second
