"""Several replicas behind HAProxy, PostgreSQL records and a Chroma server (deploy/cluster.py).

Skipped, with the reason, where PostgreSQL, HAProxy or the chroma command cannot be found."""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from conftest import ROOT
from helpers import CHROMIUM, BROWSER_ARGS, FIXTURE, http

sys.path.insert(0, str(ROOT / "deploy"))
import cluster as deploy  # noqa: E402

pytestmark = pytest.mark.skipif(bool(deploy.missing()), reason="クラスターを起動できません: " + "、".join(deploy.missing()))
ADMIN = "cluster-admin-pass"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = deploy.Cluster(tmp_path_factory.mktemp("cluster"), 2, extra_env={"ASSISTANT_ADMIN_PASSWORD": ADMIN, "ASSISTANT_ASKS_PER_MINUTE": "100000"})
    c.up()
    yield c
    c.down()


def ask(url, question, opener=None, headers=None):
    req = urllib.request.Request(url + "api/v1/ask", data=json.dumps({"question": question}, ensure_ascii=False).encode(),
                                 headers={"Content-Type": "application/json", **(headers or {})}, method="POST")
    with (opener or urllib.request.build_opener()).open(req, timeout=60) as r:
        return json.loads(r.read())


def triage_view(out):
    """The view's outputs as the gradio API returns them (the State left out), found by what they say."""
    texts = [o for o in out if isinstance(o, str)]
    return {"code": texts[0], "question": next((t for t in texts if t.startswith("### ")), ""),
            "result": next((t for t in texts if t.startswith("# 見極め診断の記録")), "")}


def test_a_consultation_started_on_replica_1_is_finished_on_replica_2(cluster):
    from gradio_client import Client

    one = Client(cluster.replica_url(1), verbose=False)
    steps = [(None, None, "架空工業"), ("金属加工", None, None), ("6〜20人", None, None), (None, ["自社製品"], None), (None, [], "顧客図面"), ("はい", None, None)]
    for choice, multi, free in steps:
        view = triage_view(one.predict(choice, multi or [], free or "", api_name="/triage_next"))
    m = re.search(r"相談コード \*\*(\w+)\*\*.*編集用の合言葉: \*\*([\w\\-]+)\*\*", view["code"])
    code, secret = m.group(1), m.group(2).replace("\\", "")
    two = Client(cluster.replica_url(2), verbose=False)
    view = triage_view(two.predict(code, secret, api_name="/triage_resume"))
    assert "法令上の管理対象" in view["question"]  # where replica 1 left it
    for choice, multi, free in [("いいえ", None, None), (None, ["書面"], "事務所の書庫"), ("部署内", None, None), ("いいえ", None, None)]:
        view = triage_view(two.predict(choice, multi or [], free or "", api_name="/triage_next"))
    assert "顧客図面" in view["result"] and "確実に守るべき" in view["result"]
    status, _, body = http("GET", cluster.replica_url(1) + "healthz")
    assert json.loads(body)["records"] == "ok"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian の chromium がありません")
def test_an_admin_upload_on_replica_1_is_answered_by_replica_2_within_10_seconds(cluster):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        pg = b.new_page(locale="ja-JP")
        pg.goto(cluster.replica_url(1))
        pg.wait_for_selector("#question textarea", timeout=60000)
        pg.get_by_role("tab", name="管理").click()
        pg.fill("#admin-password input", ADMIN)
        pg.click("#admin-login")
        pg.wait_for_selector("#admin-add", state="visible", timeout=30000)
        pg.set_input_files("#admin-upload input[type=file]", str(FIXTURE))
        pg.wait_for_timeout(1500)
        pg.click("#admin-add")
        pg.wait_for_selector("#admin-publish", state="visible", timeout=120000)
        pg.click("#admin-publish")
        pg.wait_for_function("() => document.querySelector('#admin-readback textarea')?.value.includes('回答に反映しました')", timeout=120000)
        published = time.time()
        b.close()
    while time.time() - published < 10:
        a = ask(cluster.replica_url(2), "基準Ⅲの第二には何と書いてある？")
        if not a["refused"] and a["citations"][0]["clause_id"] == "基準Ⅲの第二":
            break
        time.sleep(0.5)
    else:
        pytest.fail("replica 2 did not answer from the new document within 10 s")


def test_fifty_users_across_two_replicas_without_a_failed_request(cluster):
    sys.path.insert(0, str(ROOT / "bench"))
    import load

    for mode in ("rest", "page", "gradio"):
        result = load.run(cluster.url, users=50, questions=1, mode=mode, replicas=2)
        assert result["requests"] == 50 and result["failures"] == 0, result["failure_samples"]


def test_migrations_upgrade_an_old_sqlite_and_an_old_postgresql_database(cluster, tmp_path):
    import sqlite3

    import sqlalchemy as sa

    legacy = ["CREATE TABLE consultations (code TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL, state TEXT NOT NULL, result TEXT, corpus_version TEXT NOT NULL)",
              "CREATE TABLE feedback (id SERIAL PRIMARY KEY, created_at REAL NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, rating TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', citations TEXT NOT NULL DEFAULT '[]', corpus_version TEXT NOT NULL)"]
    rows = [("OLDCODE2", 1.0, 2.0, json.dumps({"firm": {"name": "古い会社"}}, ensure_ascii=False), None, "v1")]
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    for ddl in legacy:
        db.execute(ddl.replace("SERIAL", "INTEGER"))
    db.executemany("INSERT INTO consultations VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    pg_url = cluster.database_url.rsplit("/", 1)[0] + "/legacy"
    subprocess.run(cluster._pg("createdb", "-h", "127.0.0.1", "-p", str(cluster.ports["postgres"]), "-U", "postgres", "-w", "legacy"), check=True,
                   env=cluster.pg_env())
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for ddl in legacy:
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql("INSERT INTO consultations VALUES ('OLDCODE2', 1.0, 2.0, %s, NULL, 'v1')", (rows[0][3],))
    for url in (f"sqlite:///{path}", pg_url):
        env = {"ASSISTANT_DATABASE_URL": url, "ASSISTANT_HOME": str(tmp_path / "h")}
        import os

        p = subprocess.run([sys.executable, "-m", "assistant", "db", "upgrade"], cwd=ROOT, env=dict(os.environ, **env), capture_output=True, text=True)
        assert p.returncode == 0 and "→" in p.stdout, p.stderr
        from assistant.records import Records, SchemaError

        records = Records(url)
        saved = records.load_consultation("OLDCODE2")
        assert saved.state["firm"]["name"] == "古い会社" and not saved.editable  # kept; read-only until the operator acts
        code, secret = records.create_consultation({"firm": {}}, None, "v2")
        assert records.load_consultation(code).editable
        with records.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        with pytest.raises(SchemaError, match="新しく"):
            Records(url)
        p = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=dict(os.environ, **env, ASSISTANT_PORT="7998"), capture_output=True, text=True, timeout=120)
        assert p.returncode == 2 and "新しく" in p.stderr  # the app refuses to start against it


# -- nothing is open to another local user without the secrets (the security review of #19) -----------
def test_postgresql_refuses_a_client_without_the_password(cluster):
    import psycopg

    port = str(cluster.ports["postgres"])
    secrets = json.loads(cluster.secrets_path.read_text(encoding="utf-8"))
    assert secrets["postgres_password"] == cluster.pg_password and len(cluster.pg_password) >= 32
    assert cluster.secrets_path.stat().st_mode & 0o777 == 0o600
    env = {k: v for k, v in cluster.pg_env().items() if k != "PGPASSWORD"}
    # TCP, and the Unix socket (as the postgres user itself, who can reach the socket's folder): no password, no entry.
    for host in ("127.0.0.1", str(cluster.pg_root / "pg")):
        p = subprocess.run(cluster._pg("psql", "-h", host, "-p", port, "-U", "postgres", "-w", "-d", "tics", "-tAc", "SELECT 1"),
                           env=env, capture_output=True, text=True)
        assert p.returncode != 0 and "password" in p.stderr, (host, p.stdout, p.stderr)
    if cluster.as_postgres:
        p = subprocess.run(["runuser", "-u", "nobody", "--", str(deploy.PG_BIN / "psql"), "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-w", "-d", "tics", "-tAc", "SELECT 1"],
                           env=env, capture_output=True, text=True)
        assert p.returncode != 0 and "password" in p.stderr, p.stderr
    for password in ("", "wrong-" + cluster.pg_password):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="tics", password=password, connect_timeout=5)
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="tics", password=cluster.pg_password, connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    pg_hba = (cluster.pg_root / "pg" / "pg_hba.conf").read_text(encoding="utf-8")
    rules = [line.split() for line in pg_hba.splitlines() if line.strip() and not line.startswith("#")]
    assert rules and all(r[-1] == "scram-sha-256" for r in rules), rules


def test_the_chroma_server_refuses_a_client_without_the_token(cluster):
    import chromadb
    from chromadb.config import Settings

    host, port = "127.0.0.1", cluster.ports["chroma"]
    settings = Settings(anonymized_telemetry=False)
    owner = chromadb.HttpClient(host=host, port=port, headers={"Authorization": f"Bearer {cluster.chroma_token}"}, settings=settings)
    names = [c.name for c in owner.list_collections()]
    assert any(n.startswith("tics-") for n in names)  # the index job wrote through the same front with the token
    for headers in (None, {"Authorization": "Bearer wrong"}, {"X-Chroma-Token": "wrong"}):
        with pytest.raises(Exception):
            chromadb.HttpClient(host=host, port=port, headers=headers, settings=settings).list_collections()
        with pytest.raises(Exception):
            chromadb.HttpClient(host=host, port=port, headers=headers, settings=settings).delete_collection(names[0])
    req = urllib.request.Request(f"{cluster.chroma_url}/api/v2/tenants/default_tenant/databases/default_database/collections/{names[0]}", method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=10)
    assert refused.value.code == 401
    assert [c.name for c in owner.list_collections()] == names  # nothing was deleted
    if cluster.chroma_netns:  # chroma itself is in a network namespace of its own: its port is not on this loopback
        chroma_pid = cluster.procs["chroma"].pid
        assert os.readlink(f"/proc/{chroma_pid}/ns/net") != os.readlink("/proc/self/ns/net")
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", cluster.ports["chroma_inner"]), timeout=2).close()


def _listening_tcp_inodes() -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    return inodes


def test_replicas_are_reached_only_through_haproxy(cluster):
    listening = _listening_tcp_inodes()
    for n in range(1, cluster.replicas + 1):
        pid = cluster.procs[f"replica{n}"].pid
        sockets = {os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1] for fd in os.listdir(f"/proc/{pid}/fd")
                   if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:[")}
        assert sockets and not sockets & listening, f"replica{n} listens on a TCP port"
        sock = cluster.replica_socket(n)
        assert sock.is_socket()
        folder = sock.parent.stat()
        assert folder.st_mode & 0o777 == 0o700 and folder.st_uid == os.geteuid()
        status, _, body = http("GET", cluster.replica_url(n) + "healthz")  # through HAProxy
        assert status == 200 and json.loads(body)["status"] == "ready"
        if os.geteuid() == 0:  # another local user cannot open the socket
            probe = "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])"
            p = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable, "-c", probe, str(sock)], capture_output=True, text=True)
            assert p.returncode != 0 and "PermissionError" in p.stderr, p.stderr


def test_no_log_line_holds_a_secret(cluster):
    time.sleep(1)
    logs = [*cluster.root.glob("*.log"), cluster.pg_root / "postgres.log"]
    assert any(p.name.startswith("replica") for p in logs)
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in (cluster.pg_password, cluster.chroma_token):
            assert secret not in text, f"{path.name} holds a secret"
    for name in ("haproxy.cfg", "chroma-proxy.cfg", "secrets.json"):
        assert (cluster.root / name).stat().st_mode & 0o077 == 0


def test_killing_replica_1_fails_only_its_requests_in_flight(cluster):
    results: list[tuple[str, float, bool]] = []
    stop = threading.Event()
    killed_at: list[float] = []

    def user(n: int) -> None:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        pinned = f"r{n % 2 + 1}"
        while not stop.is_set():
            try:
                ask(cluster.url, "保険や準備金は必要？", opener, {"Cookie": f"TICSSERVER={pinned}"})
                ok = True
            except Exception:
                ok = False
            results.append((pinned, time.time(), ok))

    threads = [threading.Thread(target=user, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(3)
    killed_at.append(time.time())
    cluster.kill("replica1")
    time.sleep(8)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    on_two = [r for r in results if r[0] == "r2"]
    assert on_two and all(ok for _, _, ok in on_two)  # users on replica 2 saw no error
    failed = [r for r in results if not r[2]]
    assert len(failed) <= 4  # at most the requests in flight on replica 1 (4 users were on it)
    assert all(abs(t - killed_at[0]) < 3 for _, t, _ in failed)
    later = [r for r in results if r[0] == "r1" and r[1] > killed_at[0] + 3]
    assert later and all(ok for _, _, ok in later)  # replica 1's users moved to replica 2
