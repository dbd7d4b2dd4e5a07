"""Reading a source file's bytes and text: binary and empty files, encodings."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from valuestory.errors import InputError

ZIP_FORMATS = {".xlsx", ".docx"}  # binary containers read by their own libraries
ENCODINGS = (("utf-8", "UTF-8"), ("cp1252", "cp1252 (Windows-1252)"))
MAX_JSON_DEPTH = 64  # exports nest a few levels; thousands is an attack or a broken file
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class SourceFile:
    """A file to ingest, read once; `display` is the path shown to the user."""

    path: Path
    display: str

    @cached_property
    def data(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the file ({exc.strerror})", path=self.display,
                             hint="Check that it exists and that you may read it") from exc

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    def check_not_empty(self) -> None:
        if not self.data.strip():
            raise InputError("the file is empty", path=self.display,
                             hint="Export it again, or leave it out of the ingest")

    @cached_property
    def decoded(self) -> tuple[str, str]:
        """(text, encoding used). UTF-16 with a BOM (Excel's 'Unicode text'), UTF-8 with or
        without a BOM, then cp1252; anything else is refused rather than guessed."""
        self.check_not_empty()
        data = self.data
        wide = _wide_encoding(data)
        if wide:
            codec, label = wide
            try:
                return data.decode(codec), label
            except UnicodeDecodeError as exc:
                raise InputError(f"the file says it is {label} but byte {exc.start} is not ({exc.reason})",
                                 path=self.display, hint="The file may be cut short: export it again, "
                                 "preferably as UTF-8") from None
        if b"\x00" in data[:8192]:
            raise InputError("this looks like a binary file, not text", path=self.display,
                             hint="Export the data as CSV, XLSX, TXT, VTT, SRT, JSON or DOCX")
        if data.startswith(codecs.BOM_UTF8):
            try:
                return data[3:].decode("utf-8"), "UTF-8 with BOM"
            except UnicodeDecodeError:
                pass
        for codec, label in ENCODINGS:
            try:
                return data.decode(codec), label
            except UnicodeDecodeError:
                continue
        raise InputError("the text is neither UTF-8 nor cp1252", path=self.display,
                         hint="Re-save the file as UTF-8 and ingest it again")

    @cached_property
    def json(self) -> object:
        """The file as JSON: an InputError naming the line when it is not, or nests deeper
        than MAX_JSON_DEPTH. Half an emoji (a lone surrogate escape such as \\ud800) becomes
        U+FFFD, the mark for a character that was broken already."""
        too_deep = InputError(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels", path=self.display,
                              hint="Export the data again; no export nests this deep")
        try:
            data = json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", path=self.display, line=exc.lineno,
                             hint="Fix the file or export it again") from None
        except RecursionError:
            raise too_deep from None
        if _depth_over(data, MAX_JSON_DEPTH):
            raise too_deep
        return _mend_surrogates(data)

    @property
    def text(self) -> str:
        return self.decoded[0].replace("\r\n", "\n").replace("\r", "\n")

    @property
    def encoding(self) -> str:
        if self.suffix in ZIP_FORMATS:
            return "binary (" + self.suffix[1:].upper() + ")"
        return self.decoded[1]


WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
             (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
NUL_SHARE = 0.9  # of the zero bytes' expected places: text in UTF-16/32 without a BOM


def _wide_encoding(data: bytes) -> tuple[str, str] | None:
    """(codec, label) for UTF-32 and UTF-16, by their BOM (UTF-32's first: its little-endian
    BOM starts with UTF-16's), or without one by where the zero bytes of Latin text fall."""
    for bom, codec, label in WIDE_BOMS:
        if data.startswith(bom):
            return codec, label
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    n = len(sample)

    def zero_share(positions: range) -> float:
        return sum(sample[i] == 0 for i in positions) / max(1, len(positions))

    for codec, label, width, zeros in (("utf-32-le", "UTF-32 (little-endian, no BOM)", 4, (1, 2, 3)),
                                       ("utf-32-be", "UTF-32 (big-endian, no BOM)", 4, (0, 1, 2)),
                                       ("utf-16-le", "UTF-16 (little-endian, no BOM)", 2, (1,)),
                                       ("utf-16-be", "UTF-16 (big-endian, no BOM)", 2, (0,))):
        if all(zero_share(range(z, n - n % width, width)) >= NUL_SHARE for z in zeros):
            return codec, label
    return None


def _depth_over(data: object, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return False


def _mend_surrogates(data: object) -> object:
    if isinstance(data, str):
        return LONE_SURROGATE.sub("\ufffd", data) if LONE_SURROGATE.search(data) else data
    if isinstance(data, list):
        return [_mend_surrogates(v) for v in data]
    if isinstance(data, dict):
        return {_mend_surrogates(k): _mend_surrogates(v) for k, v in data.items()}
    return data
