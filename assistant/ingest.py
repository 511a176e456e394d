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
from .corpus import CorpusError, Document, Manifest, load_document, sha256_bytes
from .limits import LIMITS, Limits

MAX_FILE_BYTES = 20 * 1024 * 1024  # an official notice is well under 1 MB as PDF
TEXT_FILE = "text.txt"
SUFFIXES = {".pdf": "pdf", ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown"}
_PAGE_NUMBER = re.compile(r"^[-－―ー–—\s]*(?:[0-9０-９]{1,3}|[ivxIVX]{1,5})(?:\s*[/／]\s*[0-9０-９]{1,3})?[-－―ー–—\s]*$|^(?:page|ページ|頁)\s*[0-9０-９]+$", re.IGNORECASE)
# A page number caught inside a sentence where a page break was joined: 「…を防－３－止する」.
_INLINE_PAGE_NUMBER = re.compile(r"(?<=[\u3040-\u30ff\u4e00-\u9fff、])\s*[－―]\s*[0-9０-９]{1,3}\s*[－―]\s*(?=[\u3040-\u30ff\u4e00-\u9fff])")
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


def extract_pdf(data: bytes, limits: Limits = LIMITS) -> str:
    """Text of each page with repeated headers, footers and page numbers removed.

    A PDF can expand a few kilobytes into many megabytes of text: every decompressed stream and
    every page's text is bounded, and so is the whole, so such a file is refused early."""
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PdfReadError

    pages: list[str] = []
    total = 0
    try:
        with apply_configuration(zlib_maximum_output_length=limits.pdf_stream_bytes, lzw_maximum_output_length=limits.pdf_stream_bytes,
                                 run_length_maximum_output_length=limits.pdf_stream_bytes, maximum_declared_stream_length=limits.pdf_stream_bytes):
            reader = PdfReader(io.BytesIO(data))
            for n, page in enumerate(reader.pages, start=1):
                text = page.extract_text() or ""
                if len(text) > limits.extracted_chars_page:
                    raise IngestError(f"{n} ページ目の文字が多すぎます（{len(text):,} 文字、上限 {limits.extracted_chars_page:,}）。公式の告示ファイルか確認してください。")
                total += len(text)
                if total > limits.extracted_chars_total:
                    raise IngestError(f"文書の文字が多すぎます（上限 {limits.extracted_chars_total:,} 文字）。公式の告示ファイルか確認してください。")
                pages.append(text)
    except LimitReachedError as exc:
        raise IngestError("PDF の中身が展開すると大きすぎるため読み込みません（圧縮爆弾の可能性）。公式の告示ファイルか確認してください。") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise IngestError(f"PDF を読めません（{type(exc).__name__}）。壊れていないか、パスワード保護がないか確認してください。") from exc
    return _INLINE_PAGE_NUMBER.sub("", "\n".join(strip_furniture([p.splitlines() for p in pages])))


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
        if len(text) > LIMITS.extracted_chars_total:
            raise IngestError(f"文書の文字が多すぎます（{len(text):,} 文字、上限 {LIMITS.extracted_chars_total:,}）。")
        if kind == "markdown":
            text = re.sub(r"^#{1,6}\s*", "", text, flags=re.MULTILINE)  # headings keep their numbering
        # A text copied from a printed notice keeps its page numbers (「－３－」) on lines of their own.
        text = "\n".join(ln for ln in text.splitlines() if not _PAGE_NUMBER.match(ln.strip()) or not ln.strip())
    return data, _INLINE_PAGE_NUMBER.sub("", text)


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


STAGING = ".tmp"
STALE_STAGING_S = 3600  # a staged folder older than this belongs to an add that died


def reserved_names(cfg: Config) -> set[str]:
    """Short names of the documents the product ships (指針): an upload can never replace them."""
    return {Manifest.read(p).doc for p in cfg.corpus_dir.glob("*/manifest.json")}


def stored_versions(cfg: Config, doc: str) -> list[Document]:
    """The added versions of one document (published ones only)."""
    out = []
    for manifest_path in sorted(cfg.documents_dir.glob("*/manifest.json")) if cfg.documents_dir.exists() else []:
        if manifest_path.parent.name.endswith(STAGING):
            continue
        if Manifest.read(manifest_path).doc == doc:
            out.append(load_document(manifest_path))
    return out


def clean_staging(cfg: Config, max_age_s: float = STALE_STAGING_S) -> list[str]:
    """Remove staged folders left by an add that crashed between staging and publishing."""
    removed = []
    if not cfg.documents_dir.exists():
        return removed
    now = time.time()
    for folder in cfg.documents_dir.glob(f"*{STAGING}"):
        if folder.is_dir() and now - folder.stat().st_mtime > max_age_s:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


@dataclass
class StagedDocument:
    """A checked document waiting to go live, with its read-back and what changed since the live version."""

    readback: ReadBack
    folder: str = ""
    changes: list[str] = field(default_factory=list)  # clause-level diff against the version answers use now
    previous: str | None = None  # that version's name

    @property
    def unchanged(self) -> bool:
        return self.readback.unchanged

    def text(self) -> str:
        lines = [self.readback.text()]
        if self.previous is not None:
            lines.append(f"\n前の版（{self.previous}）からの変更: " + (f"{len(self.changes)} 件" if self.changes else "条項の変更はありません"))
            lines += [f"  {c}" for c in self.changes[:200]]
        return "\n".join(lines)


def clause_changes(old: Document, new: Document) -> list[str]:
    """Added, removed and changed clauses, by clause ID, with the start of the new text."""
    before = {c.id: c.text for c in old.clauses}
    after = {c.id: c.text for c in new.clauses}
    out = [f"＋ 追加 {cid}: {after[cid][:50]}" for cid in after if cid not in before]
    out += [f"－ 削除 {cid}: {before[cid][:50]}" for cid in before if cid not in after]
    out += [f"～ 変更 {cid}: {after[cid][:50]}" for cid in after if cid in before and before[cid] != after[cid]]
    return out


def check_doc_name(cfg: Config, doc: str) -> None:
    if not re.fullmatch(r"\w{1,10}", doc or ""):
        raise IngestError("--doc は条項IDの先頭に付く短い名前です（例: 基準）。文字と数字だけで 10 文字までにしてください（空白・記号・「..」は使えません）。")
    if doc in reserved_names(cfg):
        raise IngestError(f"「{doc}」は同梱の文書の名前なので使えません（同梱の文書は置き換えられません）。別の短縮名（例: 基準）を指定してください。")


def stage_document(
    cfg: Config, path: Path, doc: str, title: str | None = None, kind: str = "official", version: str | None = None
) -> StagedDocument:
    """Read, check and write a document beside the live ones (not yet used by answers).
    Raises IngestError on refusal; nothing that answers use is touched."""
    if kind not in ("official", "advice"):
        raise IngestError("--kind は official か advice を指定してください。")
    check_doc_name(cfg, doc)
    data, text = read_file(path)
    problems = check_text(text)
    if problems:
        raise IngestError("文書の文字が正しく読み取れないため、追加しませんでした。" + " ".join(problems) + " 元のファイル（公式の PDF かテキスト）を確認してください。")
    parsed = parse_document(doc, text)
    numbered = [c for c in parsed.clauses if c.kind != "paragraph"]
    if len(numbered) < 2:
        raise IngestError("条項の番号（Ⅰ、第一、一 など）が見つからず、条文として読み取れません。公式の告示ファイルか確認してください。")
    original_sha = sha256_bytes(data)
    clean_staging(cfg)
    existing = stored_versions(cfg, doc)
    for d in existing:
        if d.manifest.original_sha256 == original_sha:
            rb = read_back(d)
            rb.unchanged = True
            return StagedDocument(rb)
    version = version or time.strftime("%Y%m%d") + "-" + original_sha[:8]
    if any(d.manifest.version == version for d in existing):
        raise IngestError(f"「{doc}」の版 {version} は別の内容ですでに登録されています。--version で別の版名を指定してください。")
    folder = cfg.documents_dir / f"{_slug(doc.encode('unicode_escape').decode())}-{_slug(version)}"
    tmp = folder.with_name(folder.name + STAGING)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    text_bytes = text.encode("utf-8")
    (tmp / TEXT_FILE).write_bytes(text_bytes)
    (tmp / ("original" + path.suffix.lower())).write_bytes(data)
    manifest = Manifest(
        doc=doc, title=title or parsed.title or doc, kind=kind, source=f"運用者が追加したファイル: {path.name}", version=version,
        sha256=sha256_bytes(text_bytes), file=TEXT_FILE, date=time.strftime("%Y-%m-%d"), forms=forms_from_headings(parsed.clauses),
        original=path.name, original_sha256=original_sha, added_at=time.time(),
    )
    (tmp / "manifest.json").write_text(json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    loaded = load_document(tmp / "manifest.json")  # the same loader that will read it later
    rb = read_back(loaded)
    rb.folder = str(folder)
    live = max(existing, key=lambda d: d.manifest.added_at) if existing else None
    return StagedDocument(rb, str(tmp), clause_changes(live, loaded) if live else [], live.manifest.version if live else None)


def publish_staged(cfg: Config, staged_folder: Path) -> str:
    """Make a staged document live: one rename, so it appears whole or not at all. Returns doc@version."""
    staged_folder = Path(staged_folder)
    if not staged_folder.name.endswith(STAGING) or staged_folder.parent.resolve() != cfg.documents_dir.resolve() or not staged_folder.is_dir():
        raise IngestError("公開する文書が見つかりません。もう一度「読み込んで確認する」からやり直してください。")
    manifest = Manifest.read(staged_folder / "manifest.json")
    check_doc_name(cfg, manifest.doc)
    target = staged_folder.with_name(staged_folder.name[: -len(STAGING)])
    if target.exists():
        raise IngestError(f"「{manifest.doc}」の版 {manifest.version} はすでに公開されています。")
    staged_folder.rename(target)
    return f"{manifest.doc}@{manifest.version}"


def add_document(
    cfg: Config, path: Path, doc: str, title: str | None = None, kind: str = "official", version: str | None = None
) -> ReadBack:
    """Check, store and publish a document in one go; returns the read-back report."""
    staged = stage_document(cfg, path, doc, title, kind, version)
    if not staged.unchanged:
        publish_staged(cfg, Path(staged.folder))
    return staged.readback


def remove_document(cfg: Config, doc: str, version: str | None = None) -> list[str]:
    """Remove an added document (all versions, or one). The shipped guideline cannot be removed."""
    removed = []
    for d in stored_versions(cfg, doc):
        if version is None or d.manifest.version == version:
            folder = next(p.parent for p in cfg.documents_dir.glob("*/manifest.json") if Manifest.read(p) == d.manifest)
            shutil.rmtree(folder)
            removed.append(f"{d.doc}@{d.manifest.version}")
    if not removed:
        raise IngestError(f"追加された文書「{doc}」{'の版 ' + version if version else ''}は見つかりません（同梱の指針は削除できません）。")
    return removed
