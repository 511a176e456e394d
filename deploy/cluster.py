#!/usr/bin/env python3
"""The whole layout of a certification body's deployment, on one machine, for trying and testing.

    python deploy/cluster.py up [--dir .cluster] [--replicas 2]   # start; Ctrl-C stops everything
    python deploy/cluster.py up --detach                            # start and leave it running
    python deploy/cluster.py down [--dir .cluster]                  # stop what --detach started

It starts PostgreSQL (initdb in the folder), a Chroma server (``chroma run``), the index job
(``assistant db upgrade`` and ``assistant index``), N app replicas and HAProxy in front of them
with sticky sessions. deploy/README.md explains the same layout on several machines.

Nothing is open to other local users without a secret:
- PostgreSQL asks for a password (scram-sha-256) on TCP and on its socket;
- the Chroma server (which has no authentication of its own) runs, when started as root, in a
  network namespace of its own; the only way in is a small HAProxy front on 127.0.0.1 that
  requires ``Authorization: Bearer <token>`` (or ``X-Chroma-Token``);
- the replicas listen on Unix sockets in a folder of mode 0700, reached only through HAProxy
  (the main front with sticky cookies, and one front per replica for tests and diagnostics).
The password and the token are made afresh (``secrets.token_urlsafe``) and kept in
``secrets.json`` (mode 0600) in the cluster folder.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets as secrets_module
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = next((p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None) if Path("/usr/lib/postgresql").exists() else None
HAPROXY_CFG = """global
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout http-request 30s
    # A check waits this long for /healthz (without it, the 1 s interval): a replica busy answering is slow, not
    # down, and marking it down sends its users' gradio streams to a replica that does not hold their session.
    # A dead replica refuses the connection at once, so this does not slow the failover.
    timeout check 5s
    # A replica that dies: a request it cannot take goes to another one at once (asks are safe to repeat).
    option redispatch 1
    retries 3
    retry-on conn-failure empty-response
frontend tics
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-Proto http
    option forwardfor
    default_backend apps
backend apps
    balance roundrobin
    # gradio's queue streams each event back to the replica that holds the session: keep a browser on one replica.
    cookie TICSSERVER insert indirect nocache httponly
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
{servers}
{direct}"""
# One front per replica (tests, diagnostics): the replica itself listens only on a Unix socket.
DIRECT_CFG = """frontend replica{n}
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-Proto http
    option forwardfor
    default_backend replica{n}
backend replica{n}
    server r{n} unix@{sock} track apps/r{n}
"""
# The only way to the Chroma server, which has no authentication of its own.
CHROMA_FRONT_CFG = """global
    maxconn 1000
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend chroma
    bind 127.0.0.1:{port}
    acl token_ok req.hdr(authorization) -m str "Bearer {token}"
    acl token_ok req.hdr(x-chroma-token) -m str "{token}"
    http-request deny deny_status 401 unless token_ok
    http-request del-header authorization
    http-request del-header x-chroma-token
    default_backend chroma
backend chroma
    server chroma 127.0.0.1:{inner_port}{namespace}
"""
CHROMA_INNER_PORT = 8000  # inside chroma's own network namespace (when there is one)


class ClusterError(RuntimeError):
    pass


class UnixHTTPConnection(HTTPConnection):
    """HTTP over a Unix socket (the replicas' readiness, checked from here)."""

    def __init__(self, path: str, timeout: float = 2):
        super().__init__("127.0.0.1", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def write_private(path: Path, text: str) -> None:
    """A file only its owner may read: mode 0600 from its creation on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing() -> list[str]:
    """What this machine lacks to start the cluster (empty when all is there)."""
    out = []
    if PG_BIN is None or not (PG_BIN / "initdb").exists():
        out.append("PostgreSQL（Debian の postgresql）")
    if shutil.which("haproxy") is None:
        out.append("HAProxy（Debian の haproxy）")
    if not (Path(sys.executable).parent / "chroma").exists():
        out.append("chroma（chromadb の chroma コマンド）")
    return out


class Cluster:
    def __init__(self, root: Path, replicas: int = 2, python: str = sys.executable, extra_env: dict | None = None):
        self.root = root.resolve()
        self.replicas = replicas
        self.python = python
        self.extra_env = extra_env or {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root: PostgreSQL runs as the postgres user
        # …which must reach its folder: when run as root it lives in a folder of its own that it can reach.
        self.pg_root = Path(tempfile.mkdtemp(prefix="tics-pg-")) if self.as_postgres else self.root
        # As root, chroma gets a network namespace of its own: its port is unreachable from this one.
        self.chroma_netns = f"tics-chroma-{secrets_module.token_hex(4)}" if os.geteuid() == 0 and shutil.which("ip") else None
        self.socket_dir: Path | None = None
        self.pg_password = ""
        self.chroma_token = ""

    # -- the secrets ---------------------------------------------------------------------------
    @property
    def secrets_path(self) -> Path:
        return self.root / "secrets.json"

    def make_secrets(self) -> None:
        """The PostgreSQL password and the Chroma token: made once, kept in secrets.json (0600)."""
        if self.secrets_path.exists():
            saved = json.loads(self.secrets_path.read_text(encoding="utf-8"))
            self.pg_password, self.chroma_token = saved["postgres_password"], saved["chroma_token"]
            os.chmod(self.secrets_path, 0o600)
            return
        self.pg_password, self.chroma_token = secrets_module.token_urlsafe(32), secrets_module.token_urlsafe(32)
        write_private(self.secrets_path, json.dumps({"postgres_password": self.pg_password, "chroma_token": self.chroma_token}, indent=1))

    def pg_env(self) -> dict:
        """The environment for PostgreSQL's own tools (psql, createdb): the password, never on a command line."""
        return dict(os.environ, PGPASSWORD=self.pg_password)

    # -- the parts -----------------------------------------------------------------------------
    def _pg(self, *args: str) -> list[str]:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        return ["runuser", "-u", "postgres", "--", *cmd] if self.as_postgres else cmd

    def start_postgres(self) -> None:
        data = self.pg_root / "pg"
        if self.as_postgres:
            os.chmod(self.pg_root, 0o711)
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            if self.as_postgres:
                shutil.chown(data, "postgres", "postgres")
                os.chmod(data, 0o700)
            pwfile = self.pg_root / "initdb-password"  # initdb reads the password from a file; removed right after
            write_private(pwfile, self.pg_password + "\n")
            if self.as_postgres:
                shutil.chown(pwfile, "postgres", "postgres")
            try:
                subprocess.run(self._pg("initdb", "-D", str(data), "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C.UTF-8",
                                        "-U", "postgres"), check=True, capture_output=True)
            finally:
                pwfile.unlink(missing_ok=True)
        port = self.ports.setdefault("postgres", free_port())
        log = self.pg_root / "postgres.log"
        log.touch()
        if self.as_postgres:
            shutil.chown(log, "postgres", "postgres")
        subprocess.run(self._pg("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-o", f"-p {port} -k {data} -h 127.0.0.1", "start"),
                       check=True, capture_output=True)
        for _ in range(50):
            probe = subprocess.run(self._pg("psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-w", "-tAc", "SELECT 1 FROM pg_database WHERE datname='tics'"),
                                   capture_output=True, text=True, env=self.pg_env())
            if probe.returncode == 0:
                if probe.stdout.strip() != "1":
                    subprocess.run(self._pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-w", "tics"), check=True, capture_output=True,
                                   env=self.pg_env())
                return
            time.sleep(0.2)
        raise ClusterError(f"PostgreSQL が起動しません（{self.pg_root / 'postgres.log'} を確認してください）")

    def stop_postgres(self) -> None:
        data = self.pg_root / "pg"
        if (data / "postmaster.pid").exists():
            subprocess.run(self._pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"), capture_output=True)
        if self.as_postgres:
            shutil.rmtree(self.pg_root, ignore_errors=True)

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres:{self.pg_password}@127.0.0.1:{self.ports['postgres']}/tics"

    @property
    def database_url_masked(self) -> str:
        return self.database_url.replace(f":{self.pg_password}@", ":***@")

    @property
    def chroma_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['chroma']}"

    def env(self, home: Path) -> dict:
        return dict(os.environ, ASSISTANT_HOME=str(home), ASSISTANT_SHARED_DIR=str(self.root / "shared"), ASSISTANT_DATABASE_URL=self.database_url,
                    ASSISTANT_CHROMA_URL=self.chroma_url, ASSISTANT_CHROMA_TOKEN=self.chroma_token, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1",
                    **self.extra_env)

    def _spawn(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env or dict(os.environ), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_chroma(self) -> None:
        chroma = str(Path(self.python).parent / "chroma")
        env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
        if self.chroma_netns:
            made = subprocess.run(["ip", "netns", "add", self.chroma_netns], capture_output=True, text=True)
            if made.returncode != 0:  # e.g. a container without CAP_SYS_ADMIN
                print(f"警告: chroma 用のネットワーク名前空間を作れません（{made.stderr.strip()}）。chroma のポートは 127.0.0.1 に残ります。", file=sys.stderr)
                self.chroma_netns = None
        if self.chroma_netns:
            subprocess.run(["ip", "-n", self.chroma_netns, "link", "set", "lo", "up"], check=True, capture_output=True)
            inner = self.ports.setdefault("chroma_inner", CHROMA_INNER_PORT)
            self._spawn("chroma", ["ip", "netns", "exec", self.chroma_netns, chroma, "run", "--path", str(self.root / "chroma"), "--host", "127.0.0.1",
                                   "--port", str(inner)], env)
            namespace = f" namespace {self.chroma_netns}"
        else:  # not root: no namespace of its own, its raw port is on loopback (deploy/README.md)
            inner = self.ports.setdefault("chroma_inner", free_port())
            self._spawn("chroma", [chroma, "run", "--path", str(self.root / "chroma"), "--host", "127.0.0.1", "--port", str(inner)], env)
            namespace = ""
        port = self.ports.setdefault("chroma", free_port())
        cfg = self.root / "chroma-proxy.cfg"
        write_private(cfg, CHROMA_FRONT_CFG.format(port=port, token=self.chroma_token, inner_port=inner, namespace=namespace))
        self._spawn("chroma-proxy", ["haproxy", "-f", str(cfg), "-db"])
        self._wait(f"{self.chroma_url}/api/v2/heartbeat", "chroma", 60, {"Authorization": f"Bearer {self.chroma_token}"})

    def stop_chroma_netns(self) -> None:
        if self.chroma_netns:
            subprocess.run(["ip", "netns", "delete", self.chroma_netns], capture_output=True)

    def run_index_job(self) -> None:
        env = self.env(self.root / "indexer")
        for args in (["db", "upgrade"], ["index"]):
            p = subprocess.run([self.python, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True, text=True)
            if p.returncode != 0:
                raise ClusterError(f"assistant {' '.join(args)} に失敗しました: {p.stderr[-500:]}")

    def _socket_dir(self) -> Path:
        """The replicas' sockets: a folder of mode 0700 (a socket path must stay under 108 bytes)."""
        if self.socket_dir is None:
            wanted = self.root / "sockets"
            if len(str(wanted / "r999.sock")) < 100:
                wanted.mkdir(mode=0o700, exist_ok=True)
                self.socket_dir = wanted
            else:
                self.socket_dir = Path(tempfile.mkdtemp(prefix="tics-sock-"))
            os.chmod(self.socket_dir, 0o700)
        return self.socket_dir

    def replica_socket(self, n: int) -> Path:
        return self._socket_dir() / f"r{n}.sock"

    def start_replica(self, n: int) -> str:
        env = self.env(self.root / f"replica{n}")
        # Only HAProxy reaches the socket: the peer of a Unix-socket connection is the trusted proxy.
        env.update(ASSISTANT_UDS=str(self.replica_socket(n)), ASSISTANT_HOST="127.0.0.1", ASSISTANT_BEHIND_PROXY="1", ASSISTANT_TRUSTED_PROXIES="unix")
        env.pop("ASSISTANT_PORT", None)
        self._spawn(f"replica{n}", [self.python, str(ROOT / "app.py")], env)
        return str(self.replica_socket(n))

    def wait_replica(self, n: int, timeout_s: float = 240) -> None:
        name, sock = f"replica{n}", str(self.replica_socket(n))
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise ClusterError(f"{name} が終了しました（{self.root / (name + '.log')} を確認してください）")
            try:
                conn = UnixHTTPConnection(sock)
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.5)
        raise ClusterError(f"{name} が {timeout_s:.0f} 秒以内に準備できませんでした")

    def start_proxy(self) -> None:
        port = self.ports.setdefault("proxy", free_port())
        servers = "\n".join(f"    server r{n} unix@{self.replica_socket(n)} check inter 1s fall 2 rise 1 cookie r{n}" for n in range(1, self.replicas + 1))
        direct = "".join(DIRECT_CFG.format(n=n, port=self.ports.setdefault(f"replica{n}", free_port()), sock=self.replica_socket(n))
                         for n in range(1, self.replicas + 1))
        cfg = self.root / "haproxy.cfg"
        write_private(cfg, HAPROXY_CFG.format(port=port, servers=servers, direct=direct))
        self._spawn("haproxy", ["haproxy", "-f", str(cfg), "-db"])
        self._wait(f"http://127.0.0.1:{port}/healthz", "haproxy", 60)
        for n in range(1, self.replicas + 1):
            self._wait(f"{self.replica_url(n)}healthz", "haproxy", 60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['proxy']}/"

    def replica_url(self, n: int) -> str:
        """Replica n alone, through HAProxy (the replica itself has no TCP port)."""
        return f"http://127.0.0.1:{self.ports[f'replica{n}']}/"

    def _wait(self, url: str, name: str, timeout_s: float, headers: dict | None = None) -> None:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise ClusterError(f"{name} が終了しました（{self.root / (name + '.log')} を確認してください）")
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise ClusterError(f"{name} が {timeout_s:.0f} 秒以内に準備できませんでした")

    # -- the whole ---------------------------------------------------------------------------------
    def up(self) -> "Cluster":
        lacking = missing()
        if lacking:
            raise ClusterError("次が見つかりません: " + "、".join(lacking) + "。Debian では apt-get install postgresql haproxy で入ります。")
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            os.chmod(self.root, 0o755)  # the postgres user must reach its data folder
        try:
            self.make_secrets()
            self.start_postgres()
            self.start_chroma()
            self.run_index_job()
            for n in range(1, self.replicas + 1):
                self.start_replica(n)
            for n in range(1, self.replicas + 1):
                self.wait_replica(n)
            self.start_proxy()
        except BaseException:
            self.down()
            raise
        (self.root / "cluster.json").write_text(json.dumps({"ports": self.ports, "pids": {k: p.pid for k, p in self.procs.items()}, "pg_root": str(self.pg_root),
                                                            "chroma_netns": self.chroma_netns, "socket_dir": str(self.socket_dir)}, indent=1), encoding="utf-8")
        return self

    def kill(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def down(self) -> None:
        for name in ["haproxy", *sorted((k for k in self.procs if k.startswith("replica")), reverse=True), "chroma-proxy", "chroma"]:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=30)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(name)
        self.stop_chroma_netns()
        self.stop_postgres()
        if self.socket_dir is not None and self.socket_dir.parent != self.root:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def __enter__(self) -> "Cluster":
        return self.up()

    def __exit__(self, *exc) -> None:
        self.down()


def down_detached(root: Path) -> None:
    info = json.loads((root / "cluster.json").read_text(encoding="utf-8"))
    for name, pid in info["pids"].items():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    c = Cluster(root)
    c.pg_root = Path(info["pg_root"])
    c.chroma_netns = info.get("chroma_netns")
    time.sleep(1)
    c.stop_chroma_netns()
    c.stop_postgres()
    sockets = Path(info.get("socket_dir") or root / "sockets")
    if sockets.parent != root.resolve():
        shutil.rmtree(sockets, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="PostgreSQL・Chroma サーバー・索引ジョブ・複数のアプリ・HAProxy を 1 台で起動します")
    ap.add_argument("action", choices=["up", "down"])
    ap.add_argument("--dir", type=Path, default=ROOT / ".cluster")
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--detach", action="store_true", help="起動したまま終了する（止めるときは down）")
    args = ap.parse_args(argv)
    if args.action == "down":
        down_detached(args.dir)
        print("停止しました。")
        return 0
    cluster = Cluster(args.dir, args.replicas)
    try:
        cluster.up()
    except ClusterError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 2
    print(f"起動しました: {cluster.url}（HAProxy） ← アプリ {', '.join(cluster.replica_url(n) for n in range(1, args.replicas + 1))}（HAProxy 経由で各アプリへ）")
    print(f"PostgreSQL: {cluster.database_url_masked}  Chroma: {cluster.chroma_url}  ログ: {args.dir}/*.log  パスワードとトークン: {cluster.secrets_path}")
    if args.detach:
        return 0
    print("Ctrl-C で停止します。")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.down()
        print("停止しました。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
