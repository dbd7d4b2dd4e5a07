"""Reading a source file's bytes and text: binary and empty files, encodings."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from valuestory.errors import InputError

ZIP_FORMATS = {".xlsx", ".docx"}  # binary containers read by their own libraries
ENCODINGS = (("utf-8", "UTF-8"), ("cp1252", "cp1252 (Windows-1252)"))


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
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16"), "UTF-16"
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

    @property
    def text(self) -> str:
        return self.decoded[0].replace("\r\n", "\n").replace("\r", "\n")

    @property
    def encoding(self) -> str:
        if self.suffix in ZIP_FORMATS:
            return "binary (" + self.suffix[1:].upper() + ")"
        return self.decoded[1]
