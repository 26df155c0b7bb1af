"""Elasticsearch: ``connect()`` for every notebook, and a real local node (or cluster) to run it on.

The local node is the official Elasticsearch distribution, fetched from Maven Central with
``mvn dependency:copy`` (the only channel this project relies on), unpacked once under
``.cache/elasticsearch``. It binds to 127.0.0.1 only, which is why security can stay off.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .config import Settings, cache_dir, scrub

# Newest version of org.elasticsearch.distribution.integ-test-zip on Maven Central (no 9.x there).
ES_VERSION = os.environ.get("ES_VERSION", "8.19.21")
MAVEN_GROUP = "org.elasticsearch.distribution.integ-test-zip"
# 8.x runs on Java 17+; Lucene in 8.19 vectorizes (Panama) up to Java 25.
JAVA_RANGE = (17, 25)
ES_USER = "elasticsearch"


class ElasticsearchUnavailable(RuntimeError):
    """Nothing answered where we looked; the message lists what was tried and the fixes."""


class LocalNodeError(RuntimeError):
    """The local node could not be fetched, started or stopped; the message says why."""


# --------------------------------------------------------------------------- connection


def _display_url(url: str) -> str:
    """A URL with any ``user:password@`` removed, safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def server_info(es: Any) -> dict[str, str]:
    """Version and cluster name of the server behind a client.

    ``GET /`` lives in a module the minimal local distribution lacks, so fall back to the
    nodes API, which every distribution has.
    """
    from elasticsearch import ApiError

    try:
        info = es.info()
        return {"version": info["version"]["number"], "cluster_name": info["cluster_name"]}
    except ApiError as exc:
        if exc.meta.status not in (404, 405):
            raise
    nodes = es.nodes.info(node_id="_local", metric="_none", filter_path="cluster_name,nodes.*.version")
    version = next(iter(nodes["nodes"].values()))["version"]
    return {"version": version, "cluster_name": nodes["cluster_name"]}


def client_kwargs() -> dict[str, Any]:
    """Retry and timeout settings shared by every client this project makes.

    Requests that time out or meet 429/502/503/504 are retried (5 times, with the transport's
    backoff); orjson serializes vectors several times faster than the standard library.
    """
    kwargs: dict[str, Any] = {
        "request_timeout": 60,
        "retry_on_timeout": True,
        "max_retries": 5,
        "retry_on_status": (429, 502, 503, 504),
    }
    try:
        from elasticsearch.serializer import OrjsonSerializer

        kwargs["serializer"] = OrjsonSerializer()
    except ImportError:
        pass
    return kwargs


def connect(url: str | None = None, *, quiet: bool = False) -> Any:
    """Connect to Elasticsearch and print the server's version and cluster name.

    Order: ``ES_CLOUD_ID`` + ``ES_API_KEY``; ``ES_URL`` with ``ES_API_KEY`` or
    ``ES_USERNAME``/``ES_PASSWORD``; otherwise the local node on ``ES_PORT`` (9200).
    No secret is ever printed.

    Notebook: every notebook from 03_index_creation.ipynb on.
    """
    from elasticsearch import AuthenticationException, Elasticsearch
    from elasticsearch import ConnectionError as ESConnectionError

    s = Settings.from_env()
    kwargs = client_kwargs()
    auth: dict[str, Any] = {}
    if s.api_key:
        auth["api_key"] = s.api_key.reveal()
    elif s.username and s.password:
        auth["basic_auth"] = (s.username, s.password.reveal())

    if url:
        where, es = _display_url(url), Elasticsearch(url, **auth, **kwargs)
    elif s.cloud_id and s.api_key:
        where = "Elastic Cloud (ES_CLOUD_ID)"
        es = Elasticsearch(cloud_id=s.cloud_id.reveal(), **auth, **kwargs)
    elif s.url:
        where, es = _display_url(s.url), Elasticsearch(s.url, **auth, **kwargs)
    else:
        local = f"http://127.0.0.1:{s.local_port}"
        where, es = f"{local} (local node)", Elasticsearch(local, **kwargs)

    try:
        info = server_info(es)
    except ESConnectionError as exc:
        raise ElasticsearchUnavailable(
            f"Could not reach Elasticsearch at {where}.\n"
            "Fix it one of two ways:\n"
            "  1. start the local node:  .venv/bin/python -m helpers es start\n"
            "  2. or point at your cluster: copy .env.example to .env and fill in "
            "ES_CLOUD_ID + ES_API_KEY, or ES_URL (+ ES_API_KEY or ES_USERNAME/ES_PASSWORD).\n"
            f"(cause: {scrub(type(exc).__name__, s.secrets)})"
        ) from None
    except AuthenticationException:
        raise ElasticsearchUnavailable(
            f"Elasticsearch at {where} refused the credentials from the environment/.env. "
            "Check ES_API_KEY (or ES_USERNAME/ES_PASSWORD) in .env."
        ) from None
    if not quiet:
        print(f"Connected to Elasticsearch {info['version']} (cluster '{info['cluster_name']}') at {where}")
    return es


# --------------------------------------------------------------------------- the distribution


def _java_version(java_home: Path) -> int | None:
    release = java_home / "release"
    if release.is_file():
        m = re.search(r'JAVA_VERSION="(\d+)', release.read_text(errors="replace"))
        if m:
            return int(m.group(1))
    return None


def find_java() -> tuple[Path, int]:
    """The newest JDK on this machine that this Elasticsearch version supports.

    Honours ``ES_JAVA_HOME`` first, then ``JAVA_HOME``, then every JDK under /usr/lib/jvm.
    """
    candidates: list[Path] = []
    for var in ("ES_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(var):
            candidates.append(Path(os.environ[var]))
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        candidates += sorted(p for p in jvm.iterdir() if p.is_dir() and not p.is_symlink())
    java_bin = shutil.which("java")
    if java_bin:
        candidates.append(Path(java_bin).resolve().parents[1])
    found = [(p, v) for p in candidates if (p / "bin" / "java").exists() and (v := _java_version(p))]
    lo, hi = JAVA_RANGE
    if os.environ.get("ES_JAVA_HOME") and found and found[0][0] == Path(os.environ["ES_JAVA_HOME"]):
        return found[0]
    usable = [(p, v) for p, v in found if lo <= v <= hi]
    if not usable:
        seen = ", ".join(f"{p} (Java {v})" for p, v in found) or "none"
        raise LocalNodeError(
            f"Elasticsearch {ES_VERSION} needs Java {lo}–{hi}; JDKs found: {seen}. "
            "Install one, e.g. `apt-get install openjdk-17-jdk-headless`, or set ES_JAVA_HOME."
        )
    return max(usable, key=lambda pv: pv[1])


def es_base_dir() -> Path:
    """Where the distribution and node data live; must be reachable by the node's user."""
    base = Path(os.environ.get("ES_HOME_DIR", cache_dir() / "elasticsearch"))
    if os.geteuid() == 0 and not _world_traversable(base):
        base = Path("/var/tmp/music-search-elasticsearch")
    return base


def _world_traversable(path: Path) -> bool:
    p = path.resolve()
    return all(not parent.exists() or parent.stat().st_mode & 0o001 for parent in [p, *p.parents])


def distribution_home(version: str = ES_VERSION) -> Path:
    """Fetch (once) and unpack (once) the official distribution; return its home directory."""
    base = es_base_dir()
    home = base / f"elasticsearch-{version}"
    if (home / "bin" / "elasticsearch").exists():
        return home
    base.mkdir(parents=True, exist_ok=True)
    archive = base / f"elasticsearch-{version}.zip"
    if not archive.exists():
        mvn = shutil.which("mvn")
        if not mvn:
            raise LocalNodeError("Maven (`mvn`) is needed to fetch Elasticsearch: apt-get install maven")
        artifact = f"{MAVEN_GROUP}:elasticsearch:{version}:zip"
        print(f"Fetching Elasticsearch {version} from Maven Central ({artifact}) ...", flush=True)
        proc = subprocess.run(
            [mvn, "-q", "-B", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={base}"],
            capture_output=True,
            text=True,
            cwd=base,
        )
        if proc.returncode != 0 or not archive.exists():
            raise LocalNodeError(
                f"`mvn dependency:copy` of {artifact} failed (exit {proc.returncode}).\n"
                f"{(proc.stdout + proc.stderr)[-2000:]}\n"
                "Check that Maven can reach Maven Central, or set ES_VERSION to another published version."
            )
    tmp = base / f".unpack-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            extracted = Path(zf.extract(info, tmp))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                extracted.chmod(mode)
    (tmp / f"elasticsearch-{version}").rename(home)
    tmp.rmdir()
    return home


# --------------------------------------------------------------------------- nodes


def _http_json(url: str, timeout: float = 2.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ensure_user() -> tuple[int, int]:
    """Elasticsearch refuses to run as root: running as root, use (or create) a system user."""
    try:
        entry = pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(ES_USER)
    return entry.pw_uid, entry.pw_gid


@dataclass
class LocalNode:
    """One Elasticsearch node on 127.0.0.1, its data and logs under ``.cache/elasticsearch``.

    ``start()`` reuses a node already answering on the port, waits for a healthy cluster and
    writes a pid file; ``stop()`` shuts it down cleanly (SIGTERM, then waits).

    Notebook: README (``python -m helpers es start|stop|status``).
    """

    http_port: int = 9200
    name: str | None = None
    heap: str = os.environ.get("ES_HEAP", "2g")
    cluster_name: str = "music-search"
    transport_port: int | None = None
    seed_ports: tuple[int, ...] = ()
    initial_masters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.name = self.name or f"node-{self.http_port}"
        self.transport_port = self.transport_port or self.http_port + 100

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dir(self) -> Path:
        return es_base_dir() / "nodes" / str(self.name)

    @property
    def pid_file(self) -> Path:
        return self.dir / "run" / "es.pid"

    @property
    def log_file(self) -> Path:
        return self.dir / "logs" / f"{self.cluster_name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def health(self, timeout: float = 2.0) -> dict[str, Any] | None:
        try:
            return _http_json(f"{self.url}/_cluster/health", timeout=timeout)
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def version(self) -> str | None:
        try:
            nodes = _http_json(f"{self.url}/_nodes/_local?filter_path=nodes.*.version")
            return next(iter(nodes["nodes"].values()))["version"]
        except (urllib.error.URLError, OSError, ValueError, KeyError, StopIteration):
            return None

    def status(self) -> dict[str, Any]:
        """``{"url", "version", "status"}``: status is the cluster health, or ``"stopped"``."""
        health = self.health()
        return {
            "url": self.url,
            "version": self.version() if health else None,
            "status": health["status"] if health else "stopped",
            "cluster_name": health["cluster_name"] if health else None,
            "number_of_nodes": health["number_of_nodes"] if health else 0,
            "pid": self.pid(),
        }

    def _config(self, home: Path) -> Path:
        conf = self.dir / "config"
        conf.mkdir(parents=True, exist_ok=True)
        for name in ("jvm.options", "log4j2.properties"):
            shutil.copy2(home / "config" / name, conf / name)
        (conf / "jvm.options.d").mkdir(exist_ok=True)
        (conf / "jvm.options.d" / "heap.options").write_text(f"-Xms{self.heap}\n-Xmx{self.heap}\n")
        settings = {
            "cluster.name": self.cluster_name,
            "node.name": self.name,
            "network.host": "127.0.0.1",
            "http.port": self.http_port,
            "transport.port": self.transport_port,
            "path.data": str(self.dir / "data"),
            "path.logs": str(self.dir / "logs"),
            "xpack.security.enabled": False,
            "action.destructive_requires_name": False,
            "cluster.routing.allocation.disk.threshold_enabled": False,
        }
        if self.seed_ports:
            settings["discovery.seed_hosts"] = [f"127.0.0.1:{p}" for p in self.seed_ports]
            settings["cluster.initial_master_nodes"] = list(self.initial_masters)
        else:
            settings["discovery.type"] = "single-node"
        (conf / "elasticsearch.yml").write_text(
            "# Written by helpers.es.LocalNode: loopback only, security off.\n"
            + "".join(f"{k}: {json.dumps(v)}\n" for k, v in settings.items())
        )
        return conf

    def launch(self) -> None:
        """Start the process and return at once (``start`` also waits for health)."""
        home = distribution_home()
        java_home, _ = find_java()
        conf = self._config(home)
        for sub in ("data", "logs", "run", "tmp"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_API", "ES_PASS", "ES_CLOUD"))}
        env.update(
            ES_JAVA_HOME=str(java_home),
            ES_PATH_CONF=str(conf),
            ES_TMPDIR=str(self.dir / "tmp"),
            ES_JAVA_OPTS="",
        )
        env.pop("JAVA_TOOL_OPTIONS", None)
        user: dict[str, Any] = {}
        if os.geteuid() == 0:
            uid, gid = _ensure_user()
            for path in [self.dir, *self.dir.rglob("*")]:
                os.chown(path, uid, gid)
            user = {"user": uid, "group": gid, "extra_groups": []}
        out = open(self.dir / "logs" / "launcher.out", "ab")  # noqa: SIM115 (handed to the child)
        cmd = [str(home / "bin" / "elasticsearch"), "-d", "-p", str(self.pid_file)]
        proc = subprocess.Popen(cmd, env=env, cwd=self.dir, stdout=out, stderr=out, stdin=subprocess.DEVNULL, **user)
        out.close()
        rc = proc.wait(timeout=180)
        if rc != 0:
            raise LocalNodeError(self._failure(f"the launcher exited with {rc}"))

    def start(self, timeout: float = 120.0, wait_for: str = "yellow") -> dict[str, Any]:
        """Start the node (or reuse a running one) and wait until the cluster is healthy."""
        if self.health() is None:
            self.launch()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.health()
            if health and health.get("status") in (("green",) if wait_for == "green" else ("green", "yellow")):
                return self.status()
            time.sleep(0.25)
        raise LocalNodeError(self._failure(f"not healthy after {timeout:.0f} s"))

    def stop(self, timeout: float = 60.0) -> bool:
        """Shut the node down cleanly. Returns False when it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.2)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """Kill the node at once (SIGKILL), as a crash would: for fault tests."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while _pid_alive(pid):
                time.sleep(0.05)

    def _failure(self, what: str) -> str:
        tail = ""
        for log in (self.dir / "logs" / "launcher.out", self.log_file):
            if log.exists():
                lines = log.read_text(errors="replace").splitlines()
                errors = [ln for ln in lines if "ERROR" in ln or "Exception" in ln][-8:]
                tail += "\n".join(errors or lines[-8:]) + "\n"
        where = f"Elasticsearch node {self.name} on port {self.http_port}"
        return f"{where}: {what}.\nLast log lines:\n{tail}See {self.dir / 'logs'}"


@dataclass
class LocalCluster:
    """Several nodes of the same distribution on loopback ports, forming one cluster.

    Notebook: none (the reliability tests and the scaling notes in README use it).
    """

    size: int = 3
    base_port: int = 9270
    heap: str = "1g"
    cluster_name: str = "music-search-cluster"

    def __post_init__(self) -> None:
        ports = tuple(self.base_port + i for i in range(self.size))
        names = tuple(f"{self.cluster_name}-{i}" for i in range(self.size))
        transports = tuple(p + 100 for p in ports)
        self.nodes = [
            LocalNode(
                http_port=p,
                name=n,
                heap=self.heap,
                cluster_name=self.cluster_name,
                seed_ports=transports,
                initial_masters=names,
            )
            for p, n in zip(ports, names, strict=True)
        ]

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def start(self, timeout: float = 180.0) -> dict[str, Any]:
        for node in self.nodes:
            if node.health() is None:
                node.launch()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.nodes[0].health()
            if health and health.get("number_of_nodes") == self.size and health["status"] in ("green", "yellow"):
                return health
            time.sleep(0.5)
        raise LocalNodeError(self.nodes[0]._failure(f"cluster of {self.size} not formed after {timeout:.0f} s"))

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def wipe(self) -> None:
        """Stop every node and delete its data, so the next start forms a fresh cluster."""
        self.stop()
        for node in self.nodes:
            shutil.rmtree(node.dir, ignore_errors=True)


def local_node() -> LocalNode:
    """The node ``connect()`` falls back to: port ``ES_PORT`` (9200)."""
    return LocalNode(http_port=Settings.from_env().local_port)
