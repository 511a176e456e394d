"""#11: a small PDF that expands to 67 M characters took 46 s and 836 MB before being refused."""

import subprocess
import sys
import zlib

from helpers import ROOT

def bomb(path, chars: int = 67_000_000) -> None:
    """A valid one-page PDF whose content stream inflates to about ``chars`` characters of text."""
    line = b"BT /F1 12 Tf 72 720 Td (" + b"A" * 200 + b") Tj ET\n"
    content = zlib.compress(line * (chars // 200), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" /Filter /FlateDecode >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode() + b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))


def test_an_expanding_pdf_is_refused_early_with_a_message(tmp_path):
    pdf = tmp_path / "bomb.pdf"
    bomb(pdf)
    assert pdf.stat().st_size < 1_000_000
    code = (f"import sys, resource; sys.path.insert(0, {str(ROOT)!r})\n"
            "from pathlib import Path\nfrom assistant.ingest import read_file, IngestError\n"
            f"try:\n    read_file(Path({str(pdf)!r}))\nexcept IngestError as e:\n    print('REFUSED', e)\n"
            # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's (pytest's) peak.
            "print('RSS_MB', next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) // 1024)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "REFUSED" in p.stdout and ("大きすぎる" in p.stdout or "多すぎます" in p.stdout), p.stdout + p.stderr
    rss = int(p.stdout.split("RSS_MB")[1].strip())
    assert rss < 200, f"{rss} MB"  # the whole text is never held (before: 836 MB)
