"""JupyterHub for a class taking the udl course: one read-only data mirror, one shared cache, results per student.

Start it as root on the class machine, from the folder this file is in (README.md beside it says the rest):

    sudo /opt/udl/.venv/bin/jupyterhub -f /opt/udl/deploy/jupyterhub/jupyterhub_config.py

Everything a class decides is read from the environment below (``UDL_HUB_*``), so the same file serves a
class and the live test (tests/test_hub.py), which only swaps the login for a dummy one and picks free ports:

=====================  ==========================================================  ========================
variable               what                                                        default
=====================  ==========================================================  ========================
UDL_HUB_ROOT           the class folder holding the four below                     /srv/udl
UDL_HUB_MIRROR         the data mirror (data/README.md), read-only to students     $UDL_HUB_ROOT/data
UDL_HUB_CACHE          one cache for the class, writable by the class group        $UDL_HUB_ROOT/cache
UDL_HUB_RESULTS        a folder per student inside it, made at their first start   $UDL_HUB_ROOT/results
UDL_HUB_NOTEBOOKS      notebooks copied into a student's home at first start       $UDL_HUB_ROOT/notebooks
UDL_HUB_GROUP          the unix group of the students (may write the cache)        udl-class
UDL_HUB_OFFLINE        1: no downloads (the mirror or built-in samples only)       1
UDL_HUB_PROFILE        quick or full (udl's UDL_PROFILE)                           full
UDL_HUB_PROXY          the configurable-http-proxy program                         deploy/jupyterhub's npm one
=====================  ==========================================================  ========================

Each student's server (and every kernel and terminal it starts) gets UDL_DATA_DIR=the mirror,
UDL_CACHE_DIR=the class cache, UDL_RESULTS_DIR=<results>/<their name> (mode 0700, theirs alone),
UDL_OFFLINE and UDL_PROFILE as above, and a umask of 002 so that what one student's kernel writes into the
shared cache (a dataset, its lock file, the downloads folder) the next one can use. The course site
(`make site`, build/) is served at /services/course/ when $UDL_HUB_ROOT/site exists.
"""

import grp
import os
import pwd
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - JupyterHub provides get_config when it loads this file

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("UDL_HUB_ROOT", "/srv/udl"))
MIRROR = Path(os.environ.get("UDL_HUB_MIRROR", ROOT / "data"))
CACHE = Path(os.environ.get("UDL_HUB_CACHE", ROOT / "cache"))
RESULTS = Path(os.environ.get("UDL_HUB_RESULTS", ROOT / "results"))
NOTEBOOKS = Path(os.environ.get("UDL_HUB_NOTEBOOKS", ROOT / "notebooks"))
SITE = Path(os.environ.get("UDL_HUB_SITE", ROOT / "site"))
GROUP = os.environ.get("UDL_HUB_GROUP", "udl-class")
OFFLINE = os.environ.get("UDL_HUB_OFFLINE", "1")
PROFILE = os.environ.get("UDL_HUB_PROFILE", "full")
AS_ROOT = os.geteuid() == 0
BIN = Path(sys.executable).parent  # the venv the hub runs from holds udl, jupyterlab and the kernel too

# ---------------------------------------------------------------- the hub and its proxy
c.JupyterHub.bind_url = os.environ.get("UDL_HUB_URL", "http://:8000")
c.JupyterHub.data_files_path = sys.prefix + "/share/jupyterhub"
c.JupyterHub.db_url = os.environ.get("UDL_HUB_DB", "sqlite:///" + str(ROOT / "jupyterhub.sqlite"))
c.JupyterHub.cookie_secret_file = os.environ.get("UDL_HUB_COOKIE_SECRET", str(ROOT / "jupyterhub_cookie_secret"))
proxy = os.environ.get("UDL_HUB_PROXY", str(HERE / "node_modules" / ".bin" / "configurable-http-proxy"))
c.ConfigurableHTTPProxy.command = [proxy if Path(proxy).exists() else "configurable-http-proxy"]
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every student's server
c.JupyterHub.cleanup_proxy = True

# ---------------------------------------------------------------- who logs in, and as whom servers run
# As root: LocalProcessSpawner runs each student's server as their own unix account; students log in with
# their unix password (PAM, JupyterHub's default). Replace the authenticator with the university's single
# sign-on (oauthenticator, ltiauthenticator) and keep the rest. Not root (a try-out): every server runs as you.
if AS_ROOT:
    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
    if os.environ.get("UDL_HUB_ALLOW_GROUP", "1") == "1":  # every member of the class group may log in
        c.LocalAuthenticator.allowed_groups = {GROUP}
else:
    c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
    c.SimpleLocalProcessSpawner.home_dir_template = str(ROOT / "homes" / "{username}")

# umask 002 for the server and all it starts: files written into the (setgid, group-owned) cache stay usable
# by the rest of the class. Students' own folders are still private: results/<name> is 0700, homes are theirs.
c.Spawner.cmd = ["/bin/sh", "-c", 'umask 002 && exec "$@"', "udl-singleuser",
                 str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 60
c.Spawner.environment = {
    "UDL_DATA_DIR": str(MIRROR),
    "UDL_CACHE_DIR": str(CACHE),
    "UDL_RESULTS_DIR": lambda spawner: str(RESULTS / spawner.user.name),
    "UDL_OFFLINE": OFFLINE,
    "UDL_PROFILE": PROFILE,
    "TF_CPP_MIN_LOG_LEVEL": "1",
}


def prepare_student(spawner):
    """Before a server starts: the student's results folder (theirs alone) and, the first time, the notebooks."""
    name = spawner.user.name
    folder = RESULTS / name
    folder.mkdir(parents=True, exist_ok=True)
    if AS_ROOT:
        account = pwd.getpwnam(name)
        os.chown(folder, account.pw_uid, account.pw_gid)
        home, uid, gid = Path(account.pw_dir), account.pw_uid, account.pw_gid
    else:
        home, uid, gid = Path(spawner.home_dir_template.format(username=name)), None, None
        home.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    target = home / "udl"
    if NOTEBOOKS.is_dir() and not target.exists():  # never overwrite a student's own copy
        shutil.copytree(NOTEBOOKS, target)
        if uid is not None:
            for path in [target, *target.rglob("*")]:
                os.chown(path, uid, gid, follow_symlinks=False)


c.Spawner.pre_spawn_hook = prepare_student


def check_class_folders():
    """Refuse to start on a layout that would not isolate students: the mirror writable, the cache not shared."""
    if not AS_ROOT:
        return
    problems = []
    if MIRROR.exists() and MIRROR.stat().st_mode & 0o022:
        problems.append(f"the mirror {MIRROR} is writable by group or others (chmod -R go-w)")
    try:
        gid = grp.getgrnam(GROUP).gr_gid
    except KeyError:
        problems.append(f"no unix group {GROUP!r} (groupadd {GROUP}; usermod -aG {GROUP} <student>)")
        gid = None
    if CACHE.exists() and gid is not None:
        info = CACHE.stat()
        if info.st_gid != gid or (info.st_mode & 0o2070) != 0o2070:
            problems.append(f"the cache {CACHE} must be group {GROUP} with mode 2770 "
                            f"(chgrp {GROUP} {CACHE} && chmod 2770 {CACHE})")
    if problems:
        raise SystemExit("udl's jupyterhub_config.py: " + "; ".join(problems))


check_class_folders()

# ---------------------------------------------------------------- the course site and slides, read-only
# `make site` writes build/ (index, pages, slides, student editions) with relative links only; copied to
# $UDL_HUB_ROOT/site it is served by the hub's proxy at /services/course/ (no login needed: it is the
# material you would put on the course web page; leave html/ out if solutions must stay private).
if (SITE / "index.html").is_file():
    port = int(os.environ.get("UDL_HUB_SITE_PORT", "8010"))
    c.JupyterHub.services = [*c.JupyterHub.get("services", []), {
        "name": "course",
        "url": f"http://127.0.0.1:{port}",
        "command": [sys.executable, str(HERE / "static_site.py"), str(SITE), "--port", str(port)],
        "display": True,
    }]
