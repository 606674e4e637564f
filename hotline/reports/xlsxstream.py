"""A streaming XLSX writer: rows in, zip bytes out as they are made, in constant memory.

openpyxl's write-only mode keeps memory low but hands over nothing until `save()` has zipped
the whole sheet; a million-row ledger would keep the client waiting for minutes with no byte
sent. Here the worksheet part is deflated into a zip written to a non-seekable sink (zip data
descriptors), and the caller drains the sink after every batch of rows, so the download starts
at once and memory stays flat whatever the number of rows.

The workbook is the minimum Excel, LibreOffice and openpyxl all read: inline strings (no
shared-string table to hold in memory), a bold header row that stays in view, column widths,
an autofilter. A sheet holds at most `MAX_ROWS` rows and under `MAX_SHEET_BYTES` of XML (so
no zip entry needs Zip64); more rows continue on a new sheet 台账(2), 台账(3)...
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

MAX_ROWS = 1_048_576 - 1  # Excel's limit, less the header row
MAX_SHEET_BYTES = 1_900_000_000
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
FLUSH_EVERY = 500  # rows between hand-overs of compressed bytes

# One pass of str.translate escapes markup and drops the characters XML 1.0 does not allow
# (a citizen's text may hold them): cheaper than escape() and a regex on every cell.
_XML_TEXT = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_XML_TEXT.update({c: None for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                                    0xFFFE, 0xFFFF, *range(0xD800, 0xE000)]})
# Most cells need neither: one regex search finds the few that do, faster than translating
# every cell character by character.
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    # Every other .xml part is a worksheet: the number of sheets is not known up front.
    '<Default Extension="xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="等线"/></font>'
    '<font><b/><sz val="11"/><name val="等线"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles></styleSheet>')
_FROZEN_HEADER = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                  'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>')
_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell(value: Any, style: str = "") -> str:
    if value is None or value == "":
        return "<c/>"
    if type(value) is str:
        value = value[:MAX_CELL_CHARS]
        if _NEEDS_ESCAPE.search(value):
            value = value.translate(_XML_TEXT)
        return f'<c{style} t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
    if value is True or value is False:
        value = "是" if value else "否"
    elif isinstance(value, int | float):
        return f"<c{style}><v>{value}</v></c>"
    return _cell(str(value), style)


_TEXT_OPEN = '<c t="inlineStr"><is><t xml:space="preserve">'
_TEXT_CLOSE = "</t></is></c>"


def _add_row(parts: list[str], values: Sequence[Any]) -> None:
    """Add a data row's XML to `parts`, as `_cell` of each value would write it. Plain text
    (nearly every cell of a ledger) goes in as three parts joined with the rest of the batch:
    a string made for each cell, and again for each row, made `_cell` ~60 % of the writer's
    time."""
    add = parts.append
    add("<row>")
    for value in values:
        if type(value) is str and value and len(value) <= MAX_CELL_CHARS \
                and not _NEEDS_ESCAPE.search(value):
            add(_TEXT_OPEN)
            add(value)
            add(_TEXT_CLOSE)
        elif value is None:
            add("<c/>")
        else:
            add(_cell(value))
    add("</row>")


class _Sink:
    """A write-only, non-seekable file for zipfile; the caller takes what was written."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def stream_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
                sheet_name: str = "Sheet", widths: Sequence[float] | None = None,
                max_rows: int = MAX_ROWS) -> Iterator[bytes]:
    """Yield the bytes of an XLSX file with a header row and `rows`, as they are produced."""
    sink = _Sink()
    names: list[str] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        yield sink.take()
        iterator = iter(rows)
        pending: Sequence[Any] | None = next(iterator, None)
        while True:
            names.append(sheet_name if not names else f"{sheet_name}({len(names) + 1})")
            with zf.open(f"xl/worksheets/sheet{len(names)}.xml", "w") as part:
                pending = yield from _sheet(part, sink, headers, widths, pending, iterator,
                                            max_rows)
            yield sink.take()
            if pending is None:
                break
        zf.writestr("xl/workbook.xml", _workbook(names))
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(names)))
    yield sink.take()


def _sheet(part: Any, sink: _Sink, headers: Sequence[str], widths: Sequence[float] | None,
           first: Sequence[Any] | None, rest: Iterator[Sequence[Any]],
           max_rows: int) -> Iterator[bytes]:
    """Write one worksheet; returns the row that did not fit (or None when all are written)."""
    last_col = column_letter(len(headers) - 1)
    head = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}>',
            _FROZEN_HEADER]
    if widths:
        head.append("<cols>" + "".join(
            f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
            for i, w in enumerate(widths, 1)) + "</cols>")
    head.append("<sheetData><row>" + "".join(_cell(h, ' s="1"') for h in headers) + "</row>")
    written = len("".join(head).encode())
    part.write("".join(head).encode())
    count = 0
    row = first
    batch: list[str] = []  # the XML of up to FLUSH_EVERY rows, in parts
    while row is not None and count < max_rows and written < MAX_SHEET_BYTES:
        _add_row(batch, row)
        count += 1
        row = next(rest, None)
        if count % FLUSH_EVERY == 0:
            data = "".join(batch).encode()
            part.write(data)
            written += len(data)
            batch.clear()
            yield sink.take()
    if batch:
        part.write("".join(batch).encode())
    part.write((f'</sheetData><autoFilter ref="A1:{last_col}{count + 1}"/>'
                "</worksheet>").encode())
    return row


def _workbook(names: list[str]) -> str:
    sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
                     for i, name in enumerate(names, 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f"<workbook {_NS}><sheets>{sheets}</sheets></workbook>")


def _workbook_rels(sheets: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, sheets + 1))
    styles = ('<Relationship Id="rIdStyles" '
              'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
              'Target="styles.xml"/>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}{styles}</Relationships>")
