"""Interview transcripts: TXT/Markdown, WebVTT, SRT, JSON from recorders, and DOCX.

One file is one record: the whole conversation, as speaker turns with roles and offsets.
"""

from __future__ import annotations

import io
import math
import re

import yaml

from valuestory.errors import InputError
from valuestory.records import Record, Turn, assemble_turns

from .base import Connector, ParseOptions, connectors
from .files import SourceFile
from .roles import assign_roles
from .tabular import to_iso_date
from .turns import META_KEYS, TS, merge_consecutive, parse_turn_lines, seconds

EXTENSIONS = (".txt", ".md", ".markdown", ".vtt", ".srt", ".sbv", ".json", ".docx")
SEGMENT_KEYS = ("segment", "persona", "plan", "tier", "customer type")
ACCOUNT_KEYS = ("company", "account", "organization", "organisation", "business")
RESPONDENT_KEYS = ("participant", "respondent", "interviewee", "customer")
COMPANY_KEYS = ("interviewer", "moderator", "researcher")
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
MAX_FRONT_MATTER = 64 * 1024  # characters: a few key: value lines, never a document


class _FrontMatterLoader(yaml.BaseLoader):
    """Every value a string (a date is checked as a date later, not by YAML), and no aliases:
    `key: value` lines never need them, and a few hundred bytes of nested aliases expand
    to gigabytes."""

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201 - PyYAML's own signature
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases (*name) are not allowed in front matter")
        return super().compose_node(parent, index)


def _front_matter(text: str, src: SourceFile) -> tuple[dict[str, str], str]:
    m = FRONT_MATTER.match(text)
    if not m:
        return {}, text
    if len(m.group(1)) > MAX_FRONT_MATTER:
        raise InputError(f"the front matter is over {MAX_FRONT_MATTER // 1024} KiB", path=src.display,
                         line=2, hint="Keep only key: value lines between the --- lines")
    try:
        data = yaml.load(m.group(1), Loader=_FrontMatterLoader) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"the front matter between the --- lines is not valid YAML ({exc})",
                         path=src.display, line=2, hint="Fix the key: value lines at the top") from None
    if not isinstance(data, dict):
        return {}, text
    return {str(k).strip().lower(): str(v).strip() for k, v in data.items() if v is not None}, text[m.end():]


def _text_turns(lines: list[str], meta: dict[str, str]) -> tuple[list[Turn], str]:
    prelude: list[str] = []
    turns = parse_turn_lines(lines, meta, prelude)
    return turns, " ".join(p for p in prelude if p)


NOTE_BLOCK = re.compile(r"^NOTE\b[^\n]*\n(.*?)(?:\n\s*\n|\Z)", re.S | re.M)


def _caption_turns(src: SourceFile, meta: dict[str, str]) -> list[Turn]:
    """Cues from WebVTT/SRT/SBV; WebVTT NOTE blocks may carry `key: value` metadata."""
    import webvtt
    fmt = {".vtt": "vtt", ".srt": "srt", ".sbv": "sbv"}[src.suffix]
    if fmt == "vtt":
        for block in NOTE_BLOCK.findall(src.text):
            for line in block.split("\n"):
                key, sep, value = line.partition(":")
                if sep and key.strip().lower() in META_KEYS and value.strip():
                    meta[key.strip().lower()] = value.strip()
    try:
        captions = webvtt.from_buffer(io.StringIO(src.text), format=fmt)
    except Exception as exc:  # webvtt raises MalformedFileError / MalformedCaptionError
        raise InputError(f"not a valid {fmt.upper()} file ({exc})", path=src.display,
                         hint="Export the captions again from the recorder") from None
    lines_turns: list[Turn] = []
    for cap in captions:
        text = " ".join(cap.text.split())
        if cap.voice:
            lines_turns.append(Turn(speaker=cap.voice.strip(), text=text, time=seconds(cap.start)))
            continue
        found = parse_turn_lines([text])
        if found:
            lines_turns.append(found[0].model_copy(update={"time": seconds(cap.start)}))
        elif lines_turns:  # a cue with no speaker continues the last speaker
            last = lines_turns[-1]
            lines_turns[-1] = last.model_copy(update={"text": f"{last.text} {text}".strip()})
        elif text:
            lines_turns.append(Turn(speaker="Speaker", text=text, time=seconds(cap.start)))
    return merge_consecutive([t for t in lines_turns if t.text])


SPEAKER_KEYS = ("speaker", "speaker_name", "speaker_label", "name", "participant", "user", "role", "author")
TEXT_KEYS = ("text", "content", "transcript", "utterance", "message", "words", "elements")
START_KEYS = ("start", "start_time", "starttime", "timestamp", "begin", "time", "offset")
TIMESTAMP = re.compile(rf"\d+(?:\.\d+)?|{TS}")
LIST_KEYS = ("turns", "utterances", "segments", "transcript", "monologues", "results", "entries", "messages")


def _get(obj: dict, keys: tuple[str, ...]) -> object:
    lowered = {k.lower(): v for k, v in obj.items()}
    return next((lowered[k] for k in keys if lowered.get(k) not in (None, "")), None)


def _words(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):  # word or element lists from recorders
        parts = [_word(p) for p in value]
        return re.sub(r"\s+([,.!?;:])", r"\1", " ".join(p.strip() for p in parts if p.strip()))
    return ""


def _word(item: object) -> str:
    if isinstance(item, dict):
        item = _get(item, ("text", "word", "value", "punctuated_word"))
    return item if isinstance(item, str) else "" if item is None else str(item)


def _start(value: object) -> float | None:
    """Seconds from a start field: 12.5, "12.5", "00:12.5"; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and TIMESTAMP.fullmatch(value.strip()):
        return seconds(value.strip())
    return None


def _json_turns(src: SourceFile, meta: dict[str, str]) -> list[Turn]:
    data = src.json
    items = data
    if isinstance(data, dict):
        for key in ("metadata", "meta", "info"):
            if isinstance(data.get(key), dict):
                meta.update({k.lower(): str(v) for k, v in data[key].items()
                             if k.lower() in META_KEYS and isinstance(v, (str, int, float))})
        meta.update({k.lower(): str(v) for k, v in data.items()
                     if k.lower() in META_KEYS and isinstance(v, (str, int, float))})
        items = next((data[k] for k in LIST_KEYS if isinstance(data.get(k), list)), None)
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise InputError("expected a list of turns with a speaker and a text, or an object "
                         f"holding one under {', '.join(repr(k) for k in LIST_KEYS[:4])}",
                         path=src.display, hint="Export the transcript as JSON with speaker turns, or as VTT")
    turns = []
    for item in items:
        text = _words(_get(item, TEXT_KEYS))
        speaker = _get(item, SPEAKER_KEYS)
        if isinstance(speaker, dict):
            speaker = _get(speaker, ("name", "label", "id"))
        if text:
            turns.append(Turn(speaker=str(speaker).strip() if speaker is not None else "Speaker",
                              text=text, time=_start(_get(item, START_KEYS))))
    if not turns:
        raise InputError("no turn has any text", path=src.display,
                         hint="Each turn needs a 'text' (or 'content', 'transcript') field")
    return merge_consecutive(turns)


def _docx_lines(src: SourceFile) -> list[str]:
    import docx
    src.check_not_empty()
    try:
        document = docx.Document(io.BytesIO(src.data))
    except Exception as exc:  # python-docx raises several kinds for a damaged file
        raise InputError(f"cannot open as a Word document ({type(exc).__name__})", path=src.display,
                         hint="Open and re-save it in Word, or export it as .txt") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:  # some tools export turns as a two-column table
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if len(cells) >= 2 and cells[0] and cells[-1]:
                lines.append(f"{cells[0]}: {cells[-1]}")
    return lines


def _date_from_name(name: str) -> str | None:
    m = re.search(r"(20\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?([0-2]\d|3[01])", name)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


def parse(src: SourceFile, options: ParseOptions) -> list[Record]:
    meta: dict[str, str] = {}
    preamble = ""
    if src.suffix in (".vtt", ".srt", ".sbv"):
        turns = _caption_turns(src, meta)
    elif src.suffix == ".json":
        turns = _json_turns(src, meta)
    elif src.suffix == ".docx":
        turns, preamble = _text_turns(_docx_lines(src), meta)
    else:
        front, body = _front_matter(src.text, src)
        meta.update(front)
        turns, preamble = _text_turns(body.split("\n"), meta)
    if not turns:
        raise InputError("no speaker turns found", path=src.display,
                         hint="Write turns as lines like 'Name: what they said' (or use --kind "
                              "feedback for free text in a table)")
    company = set(options.company_speakers) | {meta[k] for k in COMPANY_KEYS if k in meta}
    customer = {meta[k] for k in RESPONDENT_KEYS if k in meta}
    turns = assign_roles(turns, company, customer)
    words: dict[str, int] = {}
    for t in turns:
        if t.role == "customer":
            words[t.speaker] = words.get(t.speaker, 0) + len(t.text.split())
    respondent = next((meta[k] for k in RESPONDENT_KEYS if k in meta), None)
    respondent = respondent or (max(words, key=words.get) if words else None)
    text, turns = assemble_turns(turns, preamble)
    used = set(SEGMENT_KEYS + ACCOUNT_KEYS + RESPONDENT_KEYS + ("date",))
    date = meta.get("date") or _date_from_name(src.path.stem)
    if date:
        try:
            date = to_iso_date(date)
        except ValueError:
            raise InputError(f"'{date}' is not a date", path=src.display,
                             hint="Write the date as 2026-03-14") from None
    return [Record(
        record_id=f"interview:{src.path.stem}", kind="interview", source=src.display,
        locator="whole file", respondent=respondent,
        account=next((meta[k] for k in ACCOUNT_KEYS if k in meta), None),
        date=date, segment=next((meta[k] for k in SEGMENT_KEYS if k in meta), None),
        text=text, turns=turns, fields={k: v for k, v in meta.items() if k not in used},
    )]


def looks_like_transcript_json(src: SourceFile) -> bool:
    """For kind detection: a JSON list whose items have a speaker and a text."""
    try:
        data = src.json
    except InputError:
        return False
    if isinstance(data, dict):
        data = next((data[k] for k in LIST_KEYS if isinstance(data.get(k), list)), None)
    return (isinstance(data, list) and bool(data) and isinstance(data[0], dict)
            and _get(data[0], SPEAKER_KEYS) is not None and _get(data[0], TEXT_KEYS) is not None)


connectors.register("interview")(Connector(
    kind="interview", describe="interview transcripts: TXT/MD turns, WebVTT, SRT, JSON turn lists, DOCX",
    parse=parse, folder_words=("interview", "interviews", "transcripts", "calls", "recordings"),
))
