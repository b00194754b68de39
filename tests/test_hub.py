"""Live: a real JupyterHub runs the class recipe (deploy/jupyterhub/) for three students at once, on loopback.

The hub is started from deploy/jupyterhub/jupyterhub_config.py unchanged but for the login (JupyterHub's
DummyAuthenticator), free loopback ports and an API token for the test (a service with admin scopes). Through
the Hub's REST API the test creates three students, gets each one a token of their own, and starts their
servers; then, through each student's own Jupyter server API (contents + kernels + the kernel's websocket), it
uploads and runs a small notebook in all three at the same time. The notebook loads MNIST from the read-only
mirror and Tiny Shakespeare from a loopback "origin" (the download tier; it answers slowly, so the three
students race for it) into the one empty shared cache, records a result, and tries to write where it must not.

As root (CI): LocalProcessSpawner with three real unix accounts made here (useradd, in a class group made
here, both removed afterwards), so isolation is the kernel's file permissions, checked from inside each
student's own kernel: no student can write to the mirror, or write or list another student's results.
Not root: SimpleLocalProcessSpawner (every server is you), and the isolation checks are skipped, saying so.

Checked: each result lands in its student's own folder (theirs, mode 0700); the mirror is unchanged; the
origin was asked once and the cache holds one copy that `udl data verify` accepts, with nothing left over; a
student's token does not open another student's server; the hub stops with every server, kernel and the proxy
gone. Every wait is bounded. CI (CI=true) fails instead of skipping when jupyterhub or the proxy is missing.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import numpy as np
import pytest
import requests

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "deploy" / "jupyterhub"
PROXY = RECIPE / "node_modules" / ".bin" / "configurable-http-proxy"
BIN = Path(sys.executable).parent
AS_ROOT = os.geteuid() == 0
STUDENTS = 3
TEXT = "".join(f"Line {i}: to be, or not to be, that is the question of this made-up text.\n" for i in range(200))
ORIGIN_DELAY = 2.0  # seconds the origin waits before answering: the three students ask while the first waits


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, check, timeout: float, every: float = 0.25):
    """Return check()'s first truthy value; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


class Origin:
    """A loopback stand-in for the dataset's origin: serves one text slowly, counting requests."""

    def __init__(self, body: bytes):
        outer = self
        self.body, self.requests = body, 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                outer.requests += 1
                time.sleep(ORIGIN_DELAY)
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/input.txt"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------- the class: accounts and folders
def _run(*command: str):
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stderr.strip()}"


def _grant_search(paths) -> list[tuple[Path, int]]:
    """Give others search (x) permission on the folders above `paths` that lack it; return what to restore.

    The students' servers run the hub's own Python from its venv; where that lies under a folder closed to
    others (pyenv under /root, a clone in a 0700 temporary folder), they could not start it at all.
    """
    changed = []
    for path in paths:
        for folder in [p for p in Path(path).resolve().parents][::-1]:
            mode = folder.stat().st_mode
            if not mode & 0o001:
                changed.append((folder, mode & 0o7777))
                folder.chmod((mode & 0o7777) | 0o001)
    return changed


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_mirror(folder: Path) -> None:
    """A tiny mirror holding MNIST only (data/README.md layout), made read-only (0555 folders, 0444 files)."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    np.savez(folder / "mnist.npz",
             x_train=rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), y_train=np.arange(60, dtype=np.uint8) % 10,
             x_test=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), y_test=np.arange(20, dtype=np.uint8) % 10)
    for path in [*folder.rglob("*"), folder]:
        path.chmod(0o555 if path.is_dir() else 0o444)


@pytest.fixture
def classroom():
    """The class root (0755), three students, a group, a read-only mirror, an empty shared cache; all undone after."""
    if not _importable("jupyterhub"):
        _missing("jupyterhub is not installed (pip install -r requirements.txt)")
    if not PROXY.exists():
        _missing(f"{PROXY} is missing: install configurable-http-proxy with `make hub-proxy` "
                 f"(npm ci --prefix deploy/jupyterhub)")
    if os.environ.get("CI") == "true" and not AS_ROOT:
        pytest.fail("CI=true but not root: the live hub test proves isolation with real unix accounts")
    root = Path(tempfile.mkdtemp(prefix="udl-hub-"))
    root.chmod(0o755)
    tag = uuid.uuid4().hex[:6]
    names = [f"udl{tag}s{i}" for i in range(1, STUDENTS + 1)]
    group = f"udl{tag}class"
    made_users, made_group, restore = [], False, []
    try:
        (root / "homes").mkdir(mode=0o755)
        (root / "results").mkdir(mode=0o755)
        _write_mirror(root / "data")
        (root / "cache").mkdir()
        if AS_ROOT:
            _run("groupadd", group)
            made_group = True
            for name in names:
                home = root / "homes" / name
                _run("useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
                     "--groups", group, name)
                made_users.append(name)
                home.mkdir(mode=0o700)
                account = pwd.getpwnam(name)
                os.chown(home, account.pw_uid, account.pw_gid)
            os.chown(root / "cache", 0, grp.getgrnam(group).gr_gid)
            (root / "cache").chmod(0o2770)
            restore = _grant_search([sys.executable, Path(sys.executable).resolve(), REPO, PROXY.resolve(),
                                     *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]])
        yield {"root": root, "names": names, "group": group}
    finally:
        for name in made_users:
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True, timeout=30)  # only these accounts
            subprocess.run(["userdel", name], capture_output=True, timeout=30)
        if made_group:
            subprocess.run(["groupdel", group], capture_output=True, timeout=30)
        for folder, mode in reversed(restore):
            folder.chmod(mode)
        for path in [root, *root.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# ---------------------------------------------------------------- the hub
class Hub:
    def __init__(self, root: Path, names: list[str], group: str, origin: Origin):
        self.root, self.names, self.token = root, names, secrets.token_hex(32)
        self.port, hub_port, api_port = _free_port(), _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = root / "test_config.py"
        config.write_text(f"""
c = get_config()
load_subconfig({str(RECIPE / 'jupyterhub_config.py')!r})
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = set({names!r})
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.JupyterHub.services = [{{"name": "udl-test", "api_token": {self.token!r}}}]
c.JupyterHub.load_roles = [{{"name": "udl-test", "services": ["udl-test"],
                            "scopes": ["admin:users", "admin:servers", "tokens", "list:users"]}}]
""")
        env = {**os.environ, "UDL_HUB_ROOT": str(root), "UDL_HUB_URL": self.url, "UDL_HUB_GROUP": group,
               "UDL_HUB_OFFLINE": "0", "UDL_HUB_PROFILE": "quick", "UDL_HUB_ALLOW_GROUP": "0",
               "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.log = open(root / "jupyterhub.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(config)], cwd=root, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {self.token}"

    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {token}"} if token else {}
        return self.session.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=30, **kwargs)

    def log_tail(self) -> str:
        self.log.flush()
        return (self.root / "jupyterhub.log").read_text(errors="replace")[-4000:]

    def stop(self, timeout: float = 45) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
                raise AssertionError(f"the hub did not stop within {timeout:g} s of SIGTERM") from None
        self.log.close()


def _processes_of(uids: set[int], pgid: int) -> list[str]:
    """The processes still running as one of `uids` or in process group `pgid` (the hub's, with the proxy)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        uid = int(next(l for l in status.splitlines() if l.startswith("Uid:")).split()[1])
        if fields[0] != "Z" and (uid in uids or int(fields[2]) == pgid):
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")[:120]
            found.append(f"{entry.name} uid={uid} {command!r}")
    return found


# ---------------------------------------------------------------- a notebook in a student's kernel
def _notebook(origin: Origin, names: list[str], me: str) -> nbformat.NotebookNode:
    others = [n for n in names if n != me]
    cells = [
        "import json, os\nfrom pathlib import Path\nfrom udl import data, results, settings\n"
        "print('ENV ' + json.dumps({k: os.environ.get(k) for k in ('UDL_DATA_DIR', 'UDL_CACHE_DIR', "
        "'UDL_RESULTS_DIR', 'UDL_OFFLINE', 'UDL_PROFILE')}))\nprint('UMASK ' + json.dumps(oct(os.umask(0o002))))",
        # the download tier points at the test's loopback origin (and its text's hash) instead of GitHub
        f"data.URLS['shakespeare'] = {origin.url!r}\ndata.SHAKESPEARE_SHA = {hashlib.sha256(origin.body).hexdigest()!r}",
        "mnist = data.load('mnist')\ntext = data.load('shakespeare')\n"
        "results.record('hub_check', train_images=len(mnist.x_train), characters=len(text.text))\n"
        "print('SOURCES ' + json.dumps(data.loaded()))",
        "probes = {}\n"
        "def attempt(label, action):\n"
        "    try:\n        action()\n        probes[label] = 'WROTE'\n"
        "    except PermissionError:\n        probes[label] = 'denied'\n"
        "    except OSError as exc:\n        probes[label] = type(exc).__name__\n"
        "mirror, mine = settings.data_dir(), settings.results_dir()\n"
        "attempt('new file in the mirror', lambda: (mirror / 'mine.txt').write_text('x'))\n"
        "attempt('change a mirror file', lambda: open(mirror / 'mnist.npz', 'r+b').close())\n"
        f"for other in {others!r}:\n"
        "    attempt(f'write into results of {other}', lambda: (mine.parent / other / 'x.json').write_text('{}'))\n"
        "    attempt(f'list results of {other}', lambda: os.listdir(mine.parent / other))\n"
        "print('PROBES ' + json.dumps(probes))",
    ]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def _execute(hub: Hub, name: str, token: str, notebook: nbformat.NotebookNode, timeout: float = 90) -> str:
    """Save `notebook` in the student's home and run it cell by cell in a new kernel; return all it printed."""
    import websocket

    base = f"{hub.url}/user/{name}/api"
    headers = {"Authorization": f"token {token}"}
    saved = requests.put(f"{base}/contents/hub_check.ipynb", headers=headers, timeout=30,
                         json={"type": "notebook", "format": "json", "content": notebook})
    assert saved.status_code in (200, 201), f"{name}: saving the notebook: {saved.status_code} {saved.text[:300]}"
    kernel = requests.post(f"{base}/kernels", headers=headers, json={"name": "python3"}, timeout=30)
    assert kernel.status_code == 201, f"{name}: starting a kernel: {kernel.status_code} {kernel.text[:300]}"
    kernel_id = kernel.json()["id"]
    ws = websocket.create_connection(f"ws://127.0.0.1:{hub.port}/user/{name}/api/kernels/{kernel_id}/channels",
                                     header=[f"Authorization: token {token}"], timeout=timeout)
    out, session, deadline = [], uuid.uuid4().hex, time.monotonic() + timeout
    try:
        for cell in notebook.cells:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session, "username": name,
                           "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ")},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": cell.source, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            replied = idle = False
            while not (replied and idle):  # the reply (shell) may come before the last output (iopub)
                ws.settimeout(max(1.0, deadline - time.monotonic()))
                message = json.loads(ws.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "stream" and content["name"] == "stdout":  # not stderr: a progress bar has no newline
                    out.append(content["text"])
                elif kind == "error":
                    raise AssertionError(f"{name}: a cell failed: {content['ename']}: {content['evalue']}\n"
                                         f"{''.join(out)}\n{cell.source}")
                elif kind == "execute_reply":
                    assert content["status"] == "ok", f"{name}: {content}"
                    replied = True
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
    finally:
        ws.close()
        requests.delete(f"{base}/kernels/{kernel_id}", headers=headers, timeout=30)
    return "".join(out)


def _line(output: str, tag: str):
    lines = [l for l in output.splitlines() if l.startswith(tag + " ")]
    assert lines, f"the notebook printed no {tag} line:\n{output}"
    return json.loads(lines[-1][len(tag) + 1:])


# ---------------------------------------------------------------- the test
def test_three_students_share_one_mirror_and_cache_on_a_live_hub(classroom):
    started = time.monotonic()
    root, names, group = classroom["root"], classroom["names"], classroom["group"]
    mirror_before = _tree(root / "data")
    origin = Origin(TEXT.encode())
    hub = Hub(root, names, group, origin)
    uids = {pwd.getpwnam(n).pw_uid for n in names} if AS_ROOT else set()
    try:
        _wait("the hub's API", lambda: hub.process.poll() is not None or _answers(hub), 60)
        assert hub.process.poll() is None, f"the hub exited ({hub.process.returncode}):\n{hub.log_tail()}"

        # Log the students in through the REST API: create each, give each a token of their own, start servers.
        tokens = {}
        for name in names:
            assert hub.api("POST", f"/users/{name}").status_code in (201, 409), hub.log_tail()
            made = hub.api("POST", f"/users/{name}/tokens", json={"note": "udl hub test", "expires_in": 900})
            assert made.status_code in (200, 201), f"{made.status_code} {made.text}"
            tokens[name] = made.json()["token"]
        for name in names:
            spawn = hub.api("POST", f"/users/{name}/server", token=tokens[name])
            assert spawn.status_code in (201, 202), f"{name}: {spawn.status_code} {spawn.text}\n{hub.log_tail()}"
        for name in names:
            _wait(f"{name}'s server", lambda n=name: (hub.api("GET", f"/users/{n}").json()
                                                      .get("servers", {}).get("", {}).get("ready")), 120)
        ready = time.monotonic() - started

        # One student's token does not open another's server.
        other = requests.get(f"{hub.url}/user/{names[1]}/api/status", allow_redirects=False, timeout=30,
                             headers={"Authorization": f"token {tokens[names[0]]}"})
        assert other.status_code in (302, 403), f"{names[0]}'s token opened {names[1]}'s server: {other.status_code}"
        assert requests.get(f"{hub.url}/user/{names[0]}/api/status", timeout=30,
                            headers={"Authorization": f"token {tokens[names[0]]}"}).status_code == 200

        # The notebook, in all three at once.
        outputs, errors = {}, []

        def run(name):
            try:
                outputs[name] = _execute(hub, name, tokens[name], _notebook(origin, names, name))
            except BaseException as exc:  # noqa: BLE001 - reported below with the others
                errors.append(f"{name}: {exc}")

        threads = [threading.Thread(target=run, args=(n,)) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
        assert not [t for t in threads if t.is_alive()], "a notebook did not finish within 150 s"
        assert not errors, "\n".join(errors) + "\n" + hub.log_tail()
        ran = time.monotonic() - started

        for name in names:
            env, sources = _line(outputs[name], "ENV"), _line(outputs[name], "SOURCES")
            assert env == {"UDL_DATA_DIR": str(root / "data"), "UDL_CACHE_DIR": str(root / "cache"),
                           "UDL_RESULTS_DIR": str(root / "results" / name), "UDL_OFFLINE": "0",
                           "UDL_PROFILE": "quick"}, env
            assert _line(outputs[name], "UMASK") == "0o2", "the servers run with umask 002 (a shared cache)"
            assert sources["mnist"] == "mirror", sources
            result = root / "results" / name / "hub_check.json"
            assert result.is_file(), f"{name}'s result is not in their folder: {sorted((root / 'results').rglob('*'))}"
            recorded = json.loads(result.read_text())
            assert recorded["metrics"] == {"train_images": 60, "characters": len(TEXT)}
            if AS_ROOT:
                assert result.parent.stat().st_uid == pwd.getpwnam(name).pw_uid
                assert result.parent.stat().st_mode & 0o777 == 0o700
                probes = _line(outputs[name], "PROBES")
                assert probes and set(probes.values()) == {"denied"}, f"{name} could write or look: {probes}"
        assert sorted(p.name for p in (root / "results").iterdir()) == sorted(names)
        assert all(sorted(os.listdir(root / "results" / n)) == ["hub_check.json"] for n in names)

        # One download, shared: one student fetched, the others waited and read it from the cache.
        shakespeare = sorted(_line(outputs[n], "SOURCES")["shakespeare"] for n in names)
        assert shakespeare == ["cache", "cache", "download"], shakespeare
        assert origin.requests == 1, f"the origin was asked {origin.requests} times"
        assert _tree(root / "data") == mirror_before and not (root / "data" / "mine.txt").exists()
        files = sorted(p.relative_to(root / "cache").as_posix() for p in (root / "cache").rglob("*") if p.is_file())
        data_files = [f for f in files if ".locks/" not in "/" + f]  # the inter-process lock files stay
        assert data_files == ["shakespeare.manifest.json", "shakespeare/input.txt"], files  # no leftover .part
        assert (root / "cache" / "shakespeare" / "input.txt").read_text() == TEXT
        verdict = subprocess.run([str(BIN / "udl"), "data", "verify", "shakespeare"], capture_output=True, text=True,
                                 timeout=60, env={**os.environ, "UDL_CACHE_DIR": str(root / "cache")})
        assert verdict.returncode == 0 and "shakespeare: ok" in verdict.stdout, verdict.stdout + verdict.stderr
        if AS_ROOT:
            class_gid = grp.getgrnam(group).gr_gid
            assert {p.stat().st_gid for p in (root / "cache").rglob("*")} == {class_gid}
    finally:
        try:
            hub.stop()
        finally:
            origin.close()
    # A clean stop: no server, kernel or proxy left running, as a student or in the hub's process group.
    deadline = time.monotonic() + 20
    while _processes_of(uids, hub.process.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = _processes_of(uids, hub.process.pid)
    assert not left, "still running 20 s after the hub stopped:\n" + "\n".join(left)
    print(f"\nhub test: servers ready after {ready:.1f} s, notebooks done after {ran:.1f} s, "
          f"stopped after {time.monotonic() - started:.1f} s")


def _answers(hub: Hub) -> bool:
    try:
        return hub.api("GET", "/").status_code == 200
    except requests.RequestException:
        return False


# ---------------------------------------------------------------- the recipe's own checks (no hub started)
def _load_recipe(monkeypatch, root: Path, **env):
    from traitlets.config.loader import PyFileConfigLoader

    for key, value in {"UDL_HUB_ROOT": str(root), **env}.items():
        monkeypatch.setenv(key, value)
    return PyFileConfigLoader("jupyterhub_config.py", path=str(RECIPE)).load_config()


def test_the_recipe_gives_each_student_the_class_folders_and_a_results_folder_of_their_own(monkeypatch, tmp_path):
    group = grp.getgrgid(os.getegid()).gr_name
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache").chmod(0o2770)
    (tmp_path / "data").mkdir(mode=0o755)
    config = _load_recipe(monkeypatch, tmp_path, UDL_HUB_GROUP=group, UDL_HUB_OFFLINE="1")
    env = config.Spawner.environment
    student = type("Spawner", (), {"user": type("User", (), {"name": "alice"})()})()
    assert env["UDL_DATA_DIR"] == str(tmp_path / "data") and env["UDL_CACHE_DIR"] == str(tmp_path / "cache")
    assert env["UDL_RESULTS_DIR"](student) == str(tmp_path / "results" / "alice") and env["UDL_OFFLINE"] == "1"
    assert config.Spawner.cmd[:3] == ["/bin/sh", "-c", 'umask 002 && exec "$@"']
    assert config.JupyterHub.spawner_class.endswith("LocalProcessSpawner")


@pytest.mark.skipif(not AS_ROOT, reason="the recipe checks the class folders when it runs as root (a real class)")
def test_the_recipe_refuses_a_writable_mirror_or_a_cache_the_class_cannot_share(monkeypatch, tmp_path):
    group = grp.getgrgid(0).gr_name
    (tmp_path / "data").mkdir(mode=0o777)
    (tmp_path / "data").chmod(0o777)
    (tmp_path / "cache").mkdir(mode=0o755)
    with pytest.raises(SystemExit, match="mirror .* is writable by group or others") as refused:
        _load_recipe(monkeypatch, tmp_path, UDL_HUB_GROUP=group)
    assert "must be group root with mode 2770" in str(refused.value)
    with pytest.raises(SystemExit, match="no unix group 'udl-no-such-group'"):
        _load_recipe(monkeypatch, tmp_path, UDL_HUB_GROUP="udl-no-such-group")
