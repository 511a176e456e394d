"""Adding official documents the operator supplies (the standard 告示): read, check, store.

A file is read (PDF through pypdf, text as UTF-8 or Shift_JIS, Markdown), cleaned of page
furniture, parsed into clauses and checked. Only a document that passes is written, into a
new folder under ``documents/``; nothing that is already stored or indexed is touched
before that, so a refused file loses nothing.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .clauses import Clause, parse_document
from .config import Config
from .corpus import CorpusError, Document, Manifest, load_corpus, load_document, sha256_bytes

MAX_FILE_BYTES = 20 * 1024 * 1024  # an official notice is well under 1 MB as PDF
TEXT_FILE = "text.txt"
SUFFIXES = {".pdf": "pdf", ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown"}
_PAGE_NUMBER = re.compile(r"^[-－―ー–—\s]*(?:[0-9０-９]{1,3}|[ivxIVX]{1,5})(?:\s*[/／]\s*[0-9０-９]{1,3})?[-－―ー–—\s]*$|^(?:page|ページ|頁)\s*[0-9０-９]+$", re.IGNORECASE)
# Bytes of UTF-8 read as Shift_JIS or Latin-1 leave these tell-tale characters behind.
_MOJIBAKE = re.compile(r"[縺繧繝螟譁荳蜿]{2,}|[ÃÂâ][\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|ï¼|ã€")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


class IngestError(CorpusError):
    """The file was refused; the message is Japanese and says what to do. Nothing changed."""


@dataclass
class ReadBack:
    """What the operator sees after an add: the tree, counts and warnings."""

    doc: str
    version: str
    title: str
    counts: dict[str, int]
    tree: list[str]
    warnings: list[str] = field(default_factory=list)
    forms: dict[str, list[str]] = field(default_factory=dict)
    unchanged: bool = False
    folder: str = ""

    def text(self) -> str:
        head = f"「{self.title}」（{self.doc}、版 {self.version}）"
        if self.unchanged:
            return f"{head}は同じ内容ですでに登録されています。変更はありません。"
        lines = [f"{head}を読み込みました。", "条項数: " + "、".join(f"{k} {v}" for k, v in self.counts.items())]
        if self.forms:
            lines.append("態様（見出しから読み取り）: " + "、".join(f"{p}→{'・'.join(f)}" for p, f in self.forms.items()))
        lines.append("条項の木:")
        lines += [f"  {t}" for t in self.tree]
        if self.warnings:
            lines.append("確認してください:")
            lines += [f"  ⚠ {w}" for w in self.warnings]
        return "\n".join(lines)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Shift_JIS (cp932); refuse what is neither."""
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise IngestError("文字コードを判別できません（UTF-8 か Shift_JIS のテキストにしてください）。")


def extract_pdf(data: bytes) -> str:
    """Text of each page with repeated headers, footers and page numbers removed."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "") for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise IngestError(f"PDF を読めません（{type(exc).__name__}）。壊れていないか、パスワード保護がないか確認してください。") from exc
    return "\n".join(strip_furniture([p.splitlines() for p in pages]))


def strip_furniture(pages: list[list[str]]) -> list[str]:
    """Drop page numbers and lines repeated at the top or bottom of most pages."""

    def key(line: str) -> str:
        return re.sub(r"[0-9０-９]+", "#", line.strip())

    edges: Counter[str] = Counter()
    for lines in pages:
        body = [ln for ln in lines if ln.strip()]
        for ln in set(body[:2] + body[-2:]):
            edges[key(ln)] += 1
    repeated = {k for k, n in edges.items() if len(pages) >= 3 and n >= max(3, len(pages) * 0.6)}
    out: list[str] = []
    for lines in pages:
        for ln in lines:
            if not ln.strip() or _PAGE_NUMBER.match(ln.strip()) or key(ln) in repeated:
                continue
            out.append(ln.rstrip())
    return out


def read_file(path: Path) -> tuple[bytes, str]:
    """(original bytes, extracted text) or IngestError."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise IngestError(f"対応していない形式です（{path.suffix or '拡張子なし'}）。PDF、テキスト（.txt）、Markdown（.md）を指定してください。")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"ファイル {path} が見つかりません。") from exc
    if size == 0:
        raise IngestError("ファイルが空です。公式文書の PDF かテキストを指定してください。")
    if size > MAX_FILE_BYTES:
        raise IngestError(f"ファイルが大きすぎます（{size / 1024 / 1024:.1f} MB、上限 {MAX_FILE_BYTES // 1024 // 1024} MB）。")
    data = path.read_bytes()
    if kind == "pdf":
        if not data.startswith(b"%PDF-"):
            raise IngestError("PDF ではないファイルです（先頭に %PDF- がありません）。")
        text = extract_pdf(data)
    else:
        if b"\x00" in data[:4096]:
            raise IngestError("文書ではないバイナリファイルのようです。テキストか PDF を指定してください。")
        text = decode_text(data)
        if kind == "markdown":
            text = re.sub(r"^#{1,6}\s*", "", text, flags=re.MULTILINE)  # headings keep their numbering
    return data, text


def check_text(text: str) -> list[str]:
    """Reasons to refuse a text as garbled; empty when it reads as Japanese."""
    problems = []
    stripped = re.sub(r"\s", "", text)
    if not stripped:
        return ["文字が抽出できませんでした（画像だけの PDF の可能性。テキストを含む PDF かテキストファイルを使ってください）。"]
    bad = stripped.count("\ufffd")
    if bad / len(stripped) > 0.001 or bad >= 5:
        problems.append(f"置換文字（U+FFFD）が {bad} 個あります。")
    moji = len(_MOJIBAKE.findall(stripped))
    if moji >= 3:
        problems.append(f"文字化けのような並びが {moji} か所あります。")
    ja = len(_JAPANESE.findall(stripped))
    if ja / len(stripped) < 0.3:
        problems.append(f"日本語の文字が少なすぎます（{ja / len(stripped):.0%}）。")
    return problems


FORM_WORDS = ["電子データ", "電磁的記録", "電子媒体", "書面", "紙媒体", "紙", "物品", "製品", "試作品", "金型", "媒体"]


def forms_from_headings(clauses: list[Clause]) -> dict[str, list[str]]:
    """Which top-level part covers which form (態様), where its own heading says so."""
    out: dict[str, list[str]] = {}
    for c in clauses:
        if c.parent is not None:
            continue
        heading = c.title or (c.text if c.kind == "heading" else "")
        found = [w for w in FORM_WORDS if w in heading]
        # Prefer the longest words: 紙媒体 rather than 紙 and 媒体.
        found = [w for w in found if not any(w != o and w in o for o in found)]
        if found:
            out[c.label] = found
    return out


def part_forms(doc: Document) -> dict[str, list[str]]:
    """Forms per part: the manifest's explicit setting wins over what headings say."""
    return dict(doc.manifest.forms) or forms_from_headings(doc.clauses)


def read_back(doc: Document) -> ReadBack:
    counts = Counter("見出し・部" if c.parent is None else ("項目" if c.kind == "item" else "段落") for c in doc.clauses)
    warnings = list(doc.warnings)
    for c in doc.clauses:
        if c.kind != "heading" and len(c.text) < 8:
            warnings.append(f"短すぎる条項: {c.id}「{c.text}」")
        if len(c.text) > 1500:
            warnings.append(f"長すぎる条項（{len(c.text)} 文字。見出しや番号の読み落としの可能性）: {c.id}")
    tree = [("  " * (len(c.heading_path))) + f"{c.id}  {c.text[:40]}{'…' if len(c.text) > 40 else ''}" for c in doc.clauses]
    return ReadBack(doc.doc, doc.manifest.version, doc.title, dict(counts), tree, warnings, part_forms(doc))


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "-", text).strip("-") or "v"


def add_document(
    cfg: Config, path: Path, doc: str, title: str | None = None, kind: str = "official", version: str | None = None
) -> ReadBack:
    """Check and store a document; returns the read-back report. Raises IngestError on refusal."""
    if kind not in ("official", "advice"):
        raise IngestError("--kind は official か advice を指定してください。")
    if not re.fullmatch(r"[^\s/\\]{1,10}", doc):
        raise IngestError("--doc は条項IDの先頭に付く短い名前です（例: 基準）。空白や / を含めないでください。")
    data, text = read_file(path)
    problems = check_text(text)
    if problems:
        raise IngestError("文書の文字が正しく読み取れないため、追加しませんでした。" + " ".join(problems) + " 元のファイル（公式の PDF かテキスト）を確認してください。")
    parsed = parse_document(doc, text)
    numbered = [c for c in parsed.clauses if c.kind != "paragraph"]
    if len(numbered) < 2:
        raise IngestError("条項の番号（Ⅰ、第一、一 など）が見つからず、条文として読み取れません。公式の告示ファイルか確認してください。")
    original_sha = sha256_bytes(data)
    existing = load_corpus([cfg.documents_dir]).versions(doc) if _has_documents(cfg) else []
    for d in existing:
        if d.manifest.original_sha256 == original_sha:
            rb = read_back(d)
            rb.unchanged = True
            return rb
    version = version or time.strftime("%Y%m%d") + "-" + original_sha[:8]
    if any(d.manifest.version == version for d in existing):
        raise IngestError(f"「{doc}」の版 {version} は別の内容ですでに登録されています。--version で別の版名を指定してください。")
    folder = cfg.documents_dir / f"{_slug(doc.encode('unicode_escape').decode())}-{_slug(version)}"
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    text_bytes = text.encode("utf-8")
    (tmp / TEXT_FILE).write_bytes(text_bytes)
    (tmp / ("original" + path.suffix.lower())).write_bytes(data)
    manifest = Manifest(
        doc=doc,
        title=title or parsed.title or doc,
        kind=kind,
        source=f"運用者が追加したファイル: {path.name}",
        version=version,
        sha256=sha256_bytes(text_bytes),
        file=TEXT_FILE,
        date=time.strftime("%Y-%m-%d"),
        forms=forms_from_headings(parsed.clauses),
        original=path.name,
        original_sha256=original_sha,
        added_at=time.time(),
    )
    (tmp / "manifest.json").write_text(json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    loaded = load_document(tmp / "manifest.json")  # the same loader that will read it later
    tmp.rename(folder)  # appears whole or not at all
    rb = read_back(loaded)
    rb.folder = str(folder)
    return rb


def _has_documents(cfg: Config) -> bool:
    return cfg.documents_dir.exists() and any(cfg.documents_dir.glob("*/manifest.json"))


def remove_document(cfg: Config, doc: str, version: str | None = None) -> list[str]:
    """Remove an added document (all versions, or one). The shipped guideline cannot be removed."""
    removed = []
    for manifest_path in sorted(cfg.documents_dir.glob("*/manifest.json")) if cfg.documents_dir.exists() else []:
        m = Manifest.read(manifest_path)
        if m.doc == doc and (version is None or m.version == version):
            shutil.rmtree(manifest_path.parent)
            removed.append(f"{m.doc}@{m.version}")
    if not removed:
        raise IngestError(f"追加された文書「{doc}」{'の版 ' + version if version else ''}は見つかりません（同梱の指針は削除できません）。")
    return removed
