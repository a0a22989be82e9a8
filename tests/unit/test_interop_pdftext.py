"""A small PDF reader for the tests (no poppler or pypdf here): page count and the text
of each page, from WeasyPrint's PDFs (object streams, Flate, Type0 fonts with ToUnicode
maps). Also tested on its own below so a broken reader cannot hide a broken report."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from weasyprint import HTML  # type: ignore[import-untyped]

OBJ = re.compile(rb"(\d+)\s+0\s+obj(.*?)endobj", re.S)
REF = re.compile(rb"(\d+)\s+0\s+R")


@dataclass
class Obj:
    head: bytes
    stream: bytes | None


def _decode(head: bytes, raw: bytes) -> bytes:
    if b"/FlateDecode" in head:
        return zlib.decompress(raw)
    return raw


def _objects(data: bytes) -> dict[int, Obj]:
    out: dict[int, Obj] = {}
    for num, body in OBJ.findall(data):
        if b"stream" in body:
            head, _, rest = body.partition(b"stream")
            raw = rest.lstrip(b"\r\n").rsplit(b"endstream", 1)[0].rstrip(b"\r\n")
            length = re.search(rb"/Length (\d+)", head)
            if length:
                raw = rest.lstrip(b"\r\n")[: int(length.group(1))]
            out[int(num)] = Obj(head, _decode(head, raw))
        else:
            out[int(num)] = Obj(body, None)
    for obj in list(out.values()):
        if b"/ObjStm" in obj.head and obj.stream is not None:
            first = int(re.search(rb"/First (\d+)", obj.head).group(1))  # type: ignore[union-attr]
            n = int(re.search(rb"/N (\d+)", obj.head).group(1))  # type: ignore[union-attr]
            pairs = obj.stream[:first].split()
            offsets = [(int(pairs[2 * i]), int(pairs[2 * i + 1])) for i in range(n)]
            for i, (onum, off) in enumerate(offsets):
                end = offsets[i + 1][1] if i + 1 < n else len(obj.stream) - first
                out[onum] = Obj(obj.stream[first + off : first + end], None)
    return out


def _cmap(stream: bytes) -> dict[int, str]:
    out: dict[int, str] = {}

    def text(hexa: bytes) -> str:
        raw = bytes.fromhex(hexa.decode())
        return raw.decode("utf-16-be", errors="replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = text(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            base = text(dst)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = base[:-1] + chr(ord(base[-1]) + i)
    return out


def _dict_refs(head: bytes, key: bytes, objs: dict[int, Obj]) -> dict[bytes, int]:
    """/Key << /Name N 0 R ... >> (inline or by reference)."""
    m = re.search(re.escape(key) + rb"\s*(<<.*?>>|\d+\s+0\s+R)", head, re.S)
    if not m:
        return {}
    body = m.group(1)
    ref = REF.fullmatch(body.strip())
    if ref:
        body = objs[int(ref.group(1))].head
    return {name: int(num) for name, num in re.findall(rb"/([\w.+-]+)\s+(\d+)\s+0\s+R", body)}


def _resources(head: bytes, objs: dict[int, Obj]) -> bytes:
    m = re.search(rb"/Resources\s*(\d+)\s+0\s+R", head)
    return objs[int(m.group(1))].head if m else head


def _text(content: bytes, res: bytes, objs: dict[int, Obj], depth: int = 0) -> list[str]:
    fonts = {}
    for name, num in _dict_refs(res, b"/Font", objs).items():
        font = objs[num].head
        tu = re.search(rb"/ToUnicode\s+(\d+)\s+0\s+R", font)
        wide = b"/Type0" in font
        fonts[name] = (_cmap(objs[int(tu.group(1))].stream or b"") if tu else {}, wide)
    xobjects = _dict_refs(res, b"/XObject", objs)
    lines: list[str] = []
    current: tuple[dict[int, str], bool] = ({}, True)
    line = ""
    for token in re.finditer(
        rb"/([\w.+-]+)\s+[\d.]+\s+Tf|\[(.*?)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj|/([\w.+-]+)\s+Do|\bET\b",
        content,
        re.S,
    ):
        font, array, single, xobject = token.groups()
        if font is not None:
            current = fonts.get(font, ({}, True))
        elif array is not None or single is not None:
            parts = re.findall(
                rb"<([0-9A-Fa-f]*)>|(-?[\d.]+)", array if array else b"<" + single + b">"
            )
            cmap, wide = current
            for hexa, shift in parts:
                if shift:
                    if float(shift) < -200:
                        line += " "
                    continue
                raw = bytes.fromhex(hexa.decode())
                step = 2 if wide else 1
                for i in range(0, len(raw), step):
                    code = int.from_bytes(raw[i : i + step], "big")
                    line += cmap.get(code, "")
        elif xobject is not None and depth < 3 and xobject in xobjects:
            sub = objs[xobjects[xobject]]
            if sub.stream is not None and b"/Form" in sub.head:
                lines += _text(
                    sub.stream,
                    _resources(sub.head, objs) if b"/Resources" in sub.head else res,
                    objs,
                    depth + 1,
                )
        else:
            if line:
                lines.append(line)
            line = ""
    if line:
        lines.append(line)
    return lines


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, in order."""
    assert data.startswith(b"%PDF-"), "not a PDF"
    objs = _objects(data)
    root_pages = next(o for o in objs.values() if re.search(rb"/Type\s*/Pages\b", o.head))
    kids = [
        int(n)
        for n in REF.findall(re.search(rb"/Kids\s*\[(.*?)\]", root_pages.head, re.S).group(1))
    ]  # type: ignore[union-attr]
    pages = []
    for num in kids:
        head = objs[num].head
        contents = re.search(rb"/Contents\s*(\[.*?\]|\d+\s+0\s+R)", head, re.S)
        refs = [int(n) for n in REF.findall(contents.group(1))] if contents else []
        stream = b"\n".join(objs[r].stream or b"" for r in refs)
        pages.append("\n".join(_text(stream, _resources(head, objs), objs)))
    return pages


def test_the_reader_reads_back_what_weasyprint_wrote() -> None:
    html = "<p>First page: Ünïcode &lt;b&gt; 60 mg</p><p style='break-before: page'>Second page</p>"
    pages = pdf_pages(HTML(string=html).write_pdf())
    assert len(pages) == 2
    assert "First page: Ünïcode <b> 60 mg" in pages[0]
    assert "Second page" in pages[1] and "First" not in pages[1]
