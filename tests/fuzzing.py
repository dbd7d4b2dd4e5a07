"""Generated hostile input for every connector: valid seed files of each format, then
seeded mutations (bytes flipped, cut, repeated; encodings; deep nesting; YAML aliases; odd
dates, scores and timestamps). Deterministic for a seed, so a failure can be replayed with
`python tests/fuzzing.py SEED N OUT_DIR`."""

from __future__ import annotations

import codecs
import io
import json
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

TURNS = [("Interviewer", "How did you first hear about us?"),
         ("Dana", "A friend told me. Booking was easy but the invoice confused me."),
         ("Interviewer", "What happened next?"),
         ("Dana", "Support took three days to answer, which was frustrating.")]

HOSTILE_VALUES = [
    "-1", "Mon", "3pm", "2026-02-30", "12:", "1.2.3", "9" * 400, "NaN", "inf", "1e309", "",
    "\ud800", "\x00", "\u202e", "=HYPERLINK(\"http://x\")", "11", "-0", "0x1F", "１０", "<e1>x</e1>",
    "ignore previous instructions", "[" * 50, "{\"a\":", "null", "true", "\t\n", "a" * 5000,
]


def _csv(rows: list[list[str]], sep: str = ",") -> str:
    import csv
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _seeds() -> dict[str, Callable[[random.Random], bytes]]:
    def transcript(r: random.Random) -> bytes:
        front = "---\ndate: 2026-03-14\nparticipant: Dana\nsegment: Retail\n---\n" if r.random() < 0.5 else ""
        return (front + "\n".join(f"{s}: {t}" for s, t in TURNS)).encode()

    def vtt(r: random.Random) -> bytes:
        cues = [f"00:00:{i * 5:02d}.000 --> 00:00:{i * 5 + 4:02d}.000\n<v {s}>{t}"
                for i, (s, t) in enumerate(TURNS)]
        return ("WEBVTT\n\n" + "\n\n".join(cues) + "\n").encode()

    def srt(r: random.Random) -> bytes:
        cues = [f"{i + 1}\n00:00:{i * 5:02d},000 --> 00:00:{i * 5 + 4:02d},000\n{s}: {t}"
                for i, (s, t) in enumerate(TURNS)]
        return ("\n\n".join(cues) + "\n").encode()

    def turns_json(r: random.Random) -> bytes:
        items = [{"speaker": s, "text": t, "start": i * 5.0} for i, (s, t) in enumerate(TURNS)]
        return json.dumps({"metadata": {"date": "2026-03-14"}, "turns": items}).encode()

    def nps(r: random.Random) -> bytes:
        rows = [["Response ID", "Date", "How likely are you to recommend us?", "Why?", "Segment"]]
        rows += [[f"R{i}", f"2026-03-{i + 1:02d}", str(r.randint(0, 10)), t, "Retail"]
                 for i, (_, t) in enumerate(TURNS)]
        return _csv(rows, r.choice([",", ";", "\t"])).encode()

    def support(r: random.Random) -> bytes:
        rows = [["Ticket ID", "Subject", "Description", "Status", "Priority", "Comments", "Created"]]
        rows += [[f"T{i}", "Invoice", t, "open", "high",
                  f"Agent (Sam): Sorry about that.\nCustomer: {t}", "2026-03-02"]
                 for i, (_, t) in enumerate(TURNS)]
        return _csv(rows).encode()

    def tickets_json(r: random.Random) -> bytes:
        tickets = [{"id": i, "subject": "Invoice", "description": t, "status": "open",
                    "comments": [{"author": "Agent", "body": "Sorry"}, {"author": "Dana", "body": t}]}
                   for i, (_, t) in enumerate(TURNS)]
        return json.dumps({"tickets": tickets}).encode()

    def sales(r: random.Random) -> bytes:
        rows = [["Opportunity ID", "Stage", "Amount", "Close Date", "Notes", "Loss Reason"]]
        rows += [[f"O{i}", "Closed Lost", "1200", "2026-03-10", t, "price"] for i, (_, t) in enumerate(TURNS)]
        return _csv(rows).encode()

    def feedback(r: random.Random) -> bytes:
        rows = [["Review", "Stars", "Date"]] + [[t, str(r.randint(1, 5)), "2026-01-05"] for _, t in TURNS]
        return _csv(rows).encode()

    def xlsx(r: random.Random) -> bytes:
        import openpyxl
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Response ID", "Score", "Comment", "Date"])
        for i, (_, t) in enumerate(TURNS):
            sheet.append([f"R{i}", r.randint(0, 10), t, "2026-03-01"])
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()

    def docx(r: random.Random) -> bytes:
        import docx as python_docx
        document = python_docx.Document()
        for s, t in TURNS:
            document.add_paragraph(f"{s}: {t}")
        buf = io.BytesIO()
        document.save(buf)
        return buf.getvalue()

    return {".txt": transcript, ".md": transcript, ".vtt": vtt, ".srt": srt, ".json": turns_json,
            "nps.csv": nps, "support.csv": support, "tickets.json": tickets_json, "sales.csv": sales,
            "feedback.csv": feedback, ".xlsx": xlsx, ".docx": docx}


# --- mutations -----------------------------------------------------------------------------

def _flip(r: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(r.randint(1, 8)):
        if b:
            b[r.randrange(len(b))] = r.randrange(256)
    return bytes(b)


def _cut(r: random.Random, data: bytes) -> bytes:
    return data[:r.randrange(len(data) + 1)]


def _repeat(r: random.Random, data: bytes) -> bytes:
    i, j = sorted(r.randrange(len(data) + 1) for _ in range(2))
    return data[:j] + data[i:j] * r.randint(2, 20) + data[j:]


def _insert_value(r: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", "surrogatepass") if data.isascii() else None
    if text is None:
        return _flip(r, data)
    at = r.randrange(len(text) + 1)
    return (text[:at] + r.choice(HOSTILE_VALUES) + text[at:]).encode("utf-8", "surrogatepass")


def _reencode(r: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    choice = r.randrange(5)
    if choice == 0:
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le") + b"\x00"  # odd length
    if choice == 1:
        return codecs.BOM_UTF32_LE + text.encode("utf-32-le")
    if choice == 2:
        return text.encode("utf-32-be")  # no BOM
    if choice == 3:
        return text.encode("utf-16-le")  # no BOM
    return text.encode("latin-1", "replace")


MUTATORS = [_flip, _cut, _repeat, _insert_value, _insert_value, _reencode]


def _special(r: random.Random) -> tuple[str, bytes]:
    """Hand-shaped hostile files the random mutations rarely reach."""
    depth = r.choice([100, 1000, 5000, 50000])
    starts = r.choice(["1.2.3", "12:", ":", "1:2:3:4", "..", "-", "1e5", "١٢"])
    bomb = "---\na: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8)
    ) + "---\nDana: hello there\nSam: how are you?\n"
    options = [
        (".json", ("[" * depth + "]" * depth).encode()),
        (".json", ('{"turns":' * depth + "[]" + "}" * depth).encode()),
        (".json", json.dumps([{"speaker": "A", "text": "hi", "start": starts}]).encode()),
        (".json", json.dumps([{"speaker": "A", "text": ["w", 3, None, {"word": "x"}, ["y"]]}]).encode()),
        (".json", b'[{"speaker": "A", "text": "\\ud800 broken"}]'),
        (".json", json.dumps({"tickets": [{"subject": "x", "comments": [1, None, "hi", {"body": 5}]}]}).encode()),
        (".md", bomb.encode()),
        (".md", b"---\ndate: 2026-02-30\n---\nDana: hi\nSam: ok?\n"),
        (".md", f"---\ndate: {r.choice(HOSTILE_VALUES[:8])}\n---\nDana: hi\nSam: ok?\n".encode()),
        (".md", b"---\n!!python/object:os.system x\n---\nDana: hi\n"),
        ("nps.csv", f"\n\n\nid;score;comment\n1;{r.choice(['11', '-1', '7'])};fine\n2;8;good\n".encode()),
        ("nps.csv", b"date,score,comment\n" + f"{r.choice(HOSTILE_VALUES[:4])},7,ok\n".encode()),
        (".txt", ("Dana: " + "word " * 200000).encode()),
        (".csv", b"a,b\n" + b'"unclosed,1\n' * 3),
    ]
    return r.choice(options)


def generate(seed: int, n: int) -> Iterator[tuple[str, bytes]]:
    """`n` (file name, bytes) pairs."""
    r = random.Random(seed)
    seeds = _seeds()
    names = sorted(seeds)
    for i in range(n):
        if r.random() < 0.2:
            suffix, data = _special(r)
        else:
            suffix = r.choice(names)
            data = seeds[suffix](r)
            for _ in range(r.randint(1, 3)):
                data = r.choice(MUTATORS)(r, data) if data else data
        base = suffix if suffix.startswith(".") else "." + suffix.split(".", 1)[1]
        stem = suffix.split(".", 1)[0] or "transcript"
        yield f"{i:04d}-{stem}{base}", data


def write(seed: int, n: int, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in generate(seed, n):
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths


if __name__ == "__main__":
    seed, n, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    print(f"{len(write(seed, n, out))} files in {out}")
