import codecs

import pytest

from valuestory.connectors.files import SourceFile
from valuestory.errors import InputError

from .conftest import parse

TEXT = "Interviewer: What happened?\nMaría: The renewal notice – it wasn’t clear.\n"


@pytest.mark.parametrize("data,encoding", [
    (TEXT.encode("utf-8"), "UTF-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "UTF-8 with BOM"),
    (TEXT.encode("cp1252"), "cp1252 (Windows-1252)"),
    (TEXT.encode("utf-16"), "UTF-16"),
])
def test_encodings_are_decoded_and_named(write, data, encoding):
    path = write("t.txt", data)
    src = SourceFile(path, "t.txt")
    assert src.encoding == encoding
    [r] = parse(path, "interview")
    assert "wasn’t clear" in r.text and "María" in r.text


@pytest.mark.parametrize("data,words", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"caf\xc3 \x81\x8d\x90 nope", "neither UTF-8 nor cp1252"),
])
def test_unreadable_files(write, data, words):
    path = write("bad.txt", data)
    with pytest.raises(InputError) as e:
        SourceFile(path, "bad.txt").decoded  # noqa: B018 (decoding is what fails)
    assert words in str(e.value) and "bad.txt" in str(e.value) and e.value.hint


def test_damaged_xlsx_and_docx(write):
    with pytest.raises(InputError, match="Excel workbook"):
        parse(write("x.xlsx", b"PK\x03\x04 not really a zip"), "nps")
    with pytest.raises(InputError, match="Word document"):
        parse(write("x.docx", b"PK\x03\x04 not really a zip"), "interview")
