#!/usr/bin/env python3
"""The whole layout of a certification body's deployment, on one machine, for trying and testing.

    python deploy/cluster.py up [--dir .cluster] [--replicas 2]   # start; Ctrl-C stops everything
    python deploy/cluster.py up --detach                            # start and leave it running
    python deploy/cluster.py down [--dir .cluster]                  # stop what --detach started

It starts PostgreSQL (initdb in the folder), a Chroma server (``chroma run``), the index job
(``assistant db upgrade`` and ``assistant index``), N app replicas and HAProxy in front of them
with sticky sessions. Every process listens on 127.0.0.1 only. deploy/README.md explains the
same layout on several machines.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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
"""


class ClusterError(RuntimeError):
    pass


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
            subprocess.run(self._pg("initdb", "-D", str(data), "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", "postgres"),
                           check=True, capture_output=True)
        port = self.ports.setdefault("postgres", free_port())
        log = self.pg_root / "postgres.log"
        log.touch()
        if self.as_postgres:
            shutil.chown(log, "postgres", "postgres")
        subprocess.run(self._pg("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-o", f"-p {port} -k {data} -h 127.0.0.1", "start"),
                       check=True, capture_output=True)
        for _ in range(50):
            probe = subprocess.run(self._pg("psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-tAc", "SELECT 1 FROM pg_database WHERE datname='tics'"),
                                   capture_output=True, text=True)
            if probe.returncode == 0:
                if probe.stdout.strip() != "1":
                    subprocess.run(self._pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "tics"), check=True, capture_output=True)
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
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.ports['postgres']}/tics"

    @property
    def chroma_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['chroma']}"

    def env(self, home: Path) -> dict:
        return dict(os.environ, ASSISTANT_HOME=str(home), ASSISTANT_SHARED_DIR=str(self.root / "shared"), ASSISTANT_DATABASE_URL=self.database_url,
                    ASSISTANT_CHROMA_URL=self.chroma_url, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", **self.extra_env)

    def _spawn(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env or dict(os.environ), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_chroma(self) -> None:
        port = self.ports.setdefault("chroma", free_port())
        self._spawn("chroma", [str(Path(self.python).parent / "chroma"), "run", "--path", str(self.root / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
                    dict(os.environ, ANONYMIZED_TELEMETRY="False"))
        self._wait(f"http://127.0.0.1:{port}/api/v2/heartbeat", "chroma", 60)

    def run_index_job(self) -> None:
        env = self.env(self.root / "indexer")
        for args in (["db", "upgrade"], ["index"]):
            p = subprocess.run([self.python, "-m", "assistant", *args], cwd=ROOT, env=env, capture_output=True, text=True)
            if p.returncode != 0:
                raise ClusterError(f"assistant {' '.join(args)} に失敗しました: {p.stderr[-500:]}")

    def start_replica(self, n: int) -> str:
        port = self.ports.setdefault(f"replica{n}", free_port())
        env = self.env(self.root / f"replica{n}")
        env.update(ASSISTANT_PORT=str(port), ASSISTANT_HOST="127.0.0.1", ASSISTANT_BEHIND_PROXY="1")
        self._spawn(f"replica{n}", [self.python, str(ROOT / "app.py")], env)
        return f"http://127.0.0.1:{port}/"

    def wait_replica(self, n: int, timeout_s: float = 240) -> None:
        self._wait(f"http://127.0.0.1:{self.ports[f'replica{n}']}/healthz", f"replica{n}", timeout_s)

    def start_proxy(self) -> None:
        port = self.ports.setdefault("proxy", free_port())
        servers = "\n".join(f"    server r{n} 127.0.0.1:{self.ports[f'replica{n}']} check inter 1s fall 2 rise 1 cookie r{n}" for n in range(1, self.replicas + 1))
        cfg = self.root / "haproxy.cfg"
        cfg.write_text(HAPROXY_CFG.format(port=port, servers=servers), encoding="utf-8")
        self._spawn("haproxy", ["haproxy", "-f", str(cfg), "-db"])
        self._wait(f"http://127.0.0.1:{port}/healthz", "haproxy", 60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['proxy']}/"

    def replica_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[f'replica{n}']}/"

    def _wait(self, url: str, name: str, timeout_s: float) -> None:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise ClusterError(f"{name} が終了しました（{self.root / (name + '.log')} を確認してください）")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
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
        (self.root / "cluster.json").write_text(json.dumps({"ports": self.ports, "pids": {k: p.pid for k, p in self.procs.items()}, "pg_root": str(self.pg_root)}, indent=1), encoding="utf-8")
        return self

    def kill(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def down(self) -> None:
        for name in ["haproxy", *sorted((k for k in self.procs if k.startswith("replica")), reverse=True), "chroma"]:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=30)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(name)
        self.stop_postgres()

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
    c.stop_postgres()


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
    print(f"起動しました: {cluster.url}（HAProxy） ← アプリ {', '.join(cluster.replica_url(n) for n in range(1, args.replicas + 1))}")
    print(f"PostgreSQL: {cluster.database_url}  Chroma: {cluster.chroma_url}  ログ: {args.dir}/*.log")
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
