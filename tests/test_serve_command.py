"""`bot serve` (what `make run` runs): prints the URLs, answers `hi`, and Ctrl-C stops every process."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from bot.paths import ROOT
from bot.stack import free_port

pytestmark = pytest.mark.stack  # every test runs `bot serve`


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_serve(tmp_path):
    """`bot serve` on free ports and its own SQLite file: (the process, its ports by variable name)."""
    ports = {name: free_port() for name in ("RASA_PORT", "ACTION_PORT", "WEB_PORT", "CONSOLE_PORT")}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
           "BOT_VAR_DIR": str(tmp_path / "var")}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, ports


def test_serve_prints_urls_answers_and_stops_cleanly_on_ctrl_c(model_path, tmp_path):
    proc, ports = start_serve(tmp_path)
    lines = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        output = "".join(lines)
        assert "Press Ctrl-C" in output, output
        assert f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook" in output
        assert f"http://127.0.0.1:{ports['WEB_PORT']}/" in output
        assert f"http://127.0.0.1:{ports['ACTION_PORT']}/webhook" in output
        r = requests.post(f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook",
                          json={"sender": "serve-test", "message": "hi"}, timeout=60)
        assert r.status_code == 200 and r.json() and "automated assistant" in r.json()[0]["text"]
        assert requests.get(f"http://127.0.0.1:{ports['WEB_PORT']}/", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "stopped." in rest
    for name, port in ports.items():
        assert not port_open(port), f"{name} {port} still listening after Ctrl-C"


@pytest.mark.parametrize("moment", ["as start-up begins", "once the action server listens"])
def test_ctrl_c_while_starting_leaves_nothing_running(model_path, tmp_path, moment):
    proc, ports = start_serve(tmp_path)
    first = ""
    while "[serve] starting" not in first:  # printed just before the first process is started
        line = proc.stdout.readline()
        assert line, first
        first += line
    if moment == "once the action server listens":
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not port_open(ports["ACTION_PORT"]):
            time.sleep(0.2)  # some servers are up, the Rasa server is still loading
        assert port_open(ports["ACTION_PORT"])
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    output = first + output
    assert "Press Ctrl-C" not in output
    assert "[serve] stopped." in output and proc.returncode == 0, output[-2000:]
    for name, port in ports.items():
        assert not port_open(port), f"{name} {port} still listening after Ctrl-C {moment}:\n{output[-2000:]}"


def test_serve_refuses_to_start_with_a_broken_clinic_file(tmp_path):
    broken = tmp_path / "clinic.yml"
    broken.write_text("name: Somewhere\naddress: 1 Road\nphone: '(419) 555-0100'\nemail: not-an-email\nemergency_number: '911'\ncrisis_line: '988'\n")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT,
                            env={**os.environ, "CLINIC_FILE": str(broken)}, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "'email'" in result.stderr + result.stdout
