"""PII redaction benchmark: our Redactor against Microsoft Presidio and scrubadub.

    python benchmarks/pii.py          (from the repository root)

Measures, for each tool that is installed:
- recall on tests/test_redact.py's CORPUS_PII (every value inside one sentence; caught when the
  fragment that must not survive is gone), overall and per category;
- over-redaction: how many ordinary customer texts (the first BANKING77 and MAMS train texts
  in ../shared/datasets, plus the plain texts of tests/test_redact.py) a tool changes, with examples;
- speed, texts per second, one process.

Our redactor needs only the project's own venv (plus pytest, for the corpus in tests/). The
comparison libraries go in a separate venv, which needs no model download:

    python3 -m venv /tmp/piivenv
    /tmp/piivenv/bin/pip install -e . pytest presidio-analyzer presidio-anonymizer scrubadub spacy
    /tmp/piivenv/bin/python benchmarks/pii.py

Presidio runs on a blank spaCy pipeline (tokenizer only), so its pattern recognizers (email,
phone, card, IBAN, SSN, UK NINO, IP, URL, crypto, dates...) are measured and its name detection
(NER) is not: its spaCy model is not installable from the package registries. A tool that is
missing is reported as "not installed". Prints figures; asserts nothing.
"""

from __future__ import annotations

import csv
import difflib
import ipaddress
import logging
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
TEXTS_PER_DATASET = 2000  # train parts only: the held-out test parts are never read
SENTENCE = "My details: {}. Please update them."
EXAMPLES = 10  # changed ordinary texts shown per tool
WIDTH = 110  # characters of an example text shown
# copied from tests/test_redact.py::test_times_versions_and_plain_words_are_not_personal_data
PLAIN_TEXTS = [
    "we met at 12:30:45 and again at 14:00", "version 2.3 shipped on 2026-03-14", "order PO12 3456 7890 1234 5",
    "the secret of good support is patience", "rated it 9/10, born and raised here",
]
PRESIDIO_NOTE = ("Presidio: pattern recognizers only, on a blank spaCy pipeline. Its name detection (NER: PERSON,"
                 " LOCATION, ORGANIZATION...) was NOT measured: its spaCy model (en_core_web_lg) cannot be installed"
                 " from the package registries.")

Tool = Callable[[str], str]


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


CATEGORIES: list[tuple[str, Callable[[str], bool]]] = [  # the first that fits the value as written; else phone
    ("url secret", re.compile(r"^(?:https?://|www\.)").match),
    ("email", re.compile(r"@").search),
    ("date of birth", re.compile(r"(?i)\b(?:dob|born|birth)\b").search),
    ("secret/token", re.compile(r"(?i)^(?:sk-|AKIA|gh[pousr]_|github_pat_|xox|eyJ|bearer )|pass|token|api_key").search),
    ("national id", re.compile(r"^\d{3}-\d{2}-\d{4}$|^[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]$").match),
    ("iban", re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9 ]{11,}$").match),
    ("ip", _is_ip),
    ("card", re.compile(r"^[3-6][\d .-]{12,22}$").match),
]


def category(value: str) -> str:
    return next((name for name, fits in CATEGORIES if fits(value)), "phone")


# --- the tools ------------------------------------------------------------------------------
def our_redactor() -> Tool:
    from valuestory.config import Config
    from valuestory.ingest.redact import Redactor

    return Redactor(Config().privacy).text


def presidio() -> Tool:
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_anonymizer import AnonymizerEngine

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    # Presidio's email check asks tldextract, which would fetch the public suffix list: use its snapshot
    tldextract.extract = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())

    class BlankSpacy(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}  # tokens, no lemmas, no entities

    nlp = BlankSpacy()
    nlp.load()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    analyzer.registry.remove_recognizer("SpacyRecognizer")  # NER: nothing to find without a model
    try:
        from presidio_analyzer.predefined_recognizers import UkNinoRecognizer
        analyzer.registry.add_recognizer(UkNinoRecognizer())  # shipped, not on by default
    except ImportError:
        pass
    anonymizer = AnonymizerEngine()
    entities = sorted({e for r in analyzer.get_recognizers("en") for e in r.supported_entities})
    print(PRESIDIO_NOTE)
    print(f"  entities: {', '.join(entities)}")
    return lambda text: anonymizer.anonymize(text, analyzer.analyze(text, language="en")).text


def scrubadub_() -> Tool:
    import scrubadub

    scrubber = scrubadub.Scrubber()
    print(f"scrubadub: default detectors: {', '.join(scrubber._detectors)}")
    return scrubber.clean


TOOLS: dict[str, Callable[[], Tool]] = {"ours": our_redactor, "presidio": presidio, "scrubadub": scrubadub_}


def load_tools() -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    for name, make in TOOLS.items():
        start = time.perf_counter()
        try:
            tools[name] = make()
        except ImportError as e:
            print(f"{name}: not installed ({e.name})")
            continue
        print(f"  {name} ready in {time.perf_counter() - start:.1f} s")
    return tools


# --- the data -------------------------------------------------------------------------------
def pii_corpus() -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT))
    from tests.test_redact import CORPUS_PII

    return CORPUS_PII


def ordinary_texts() -> list[tuple[str, str]]:
    """(source, text): the first train texts of BANKING77 and MAMS, and the tests' plain texts."""
    texts = []
    banking = DATASETS / "banking77" / "train.csv"
    if banking.exists():
        with banking.open(encoding="utf-8", newline="") as f:
            texts += [("banking77", row["text"]) for row in csv.DictReader(f)][:TEXTS_PER_DATASET]
    mams = DATASETS / "mams-acsa" / "train.xml"
    if mams.exists():
        texts += [("mams", e.text or "") for e in ET.parse(mams).getroot().iter("text")][:TEXTS_PER_DATASET]
    return texts + [("tests", t) for t in PLAIN_TEXTS]


# --- the measures ---------------------------------------------------------------------------
def recall(tools: dict[str, Tool], corpus: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Prints recall per tool, overall and per category; returns each tool's missed values."""
    missed: dict[str, list[str]] = {name: [] for name in tools}
    totals: dict[str, int] = defaultdict(int)
    caught: dict[tuple[str, str], int] = defaultdict(int)
    for written, fragment in corpus:
        kind = category(written)
        totals[kind] += 1
        for name, tool in tools.items():
            if fragment in tool(SENTENCE.format(written)):
                missed[name].append(written)
            else:
                caught[name, kind] += 1
    print(f"\n## Recall on CORPUS_PII ({len(corpus)} values, each in {SENTENCE!r})\n")
    print(f"{'category':<15}{'n':>4}" + "".join(f"{name:>12}" for name in tools))
    for kind in sorted(totals):
        print(f"{kind:<15}{totals[kind]:>4}" + "".join(f"{caught[name, kind]:>12}" for name in tools))
    overall = "".join(f"{1 - len(missed[name]) / len(corpus):>12.1%}" for name in tools)
    print(f"{'overall':<15}{len(corpus):>4}{overall}")
    for name in tools:
        print(f"\n{name} misses {len(missed[name])}: {missed[name]}")
    return missed


def changes(before: str, after: str) -> str:
    """What a tool replaced, word by word: 'old' -> 'new'."""
    a, b = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return "; ".join(f"{''.join(a[i1:i2])!r} -> {''.join(b[j1:j2])!r}" for op, i1, i2, j1, j2 in ops if op != "equal")


def over_redaction(tools: dict[str, Tool], texts: list[tuple[str, str]]) -> None:
    """Prints changed texts per 1,000 (per source and overall), examples, and texts per second."""
    sources = sorted({source for source, _ in texts})
    counts = {source: sum(s == source for s, _ in texts) for source in sources}
    print(f"\n## Ordinary texts changed, per 1,000 ({', '.join(f'{s} {n}' for s, n in counts.items())})\n")
    print(f"{'tool':<12}" + "".join(f"{s:>12}" for s in sources) + f"{'all':>10}{'texts/s':>10}")
    examples: dict[str, list[tuple[str, str]]] = {}
    for name, tool in tools.items():
        start = time.perf_counter()
        outputs = [tool(text) for _, text in texts]
        speed = len(texts) / (time.perf_counter() - start)
        changed = [(s, t, out) for (s, t), out in zip(texts, outputs, strict=True) if out != t]
        per_source = "".join(f"{1000 * sum(s == source for s, _, _ in changed) / counts[source]:>12.1f}"
                             for source in sources)
        print(f"{name:<12}{per_source}{1000 * len(changed) / len(texts):>10.1f}{speed:>10.0f}")
        step = max(1, len(changed) / EXAMPLES)
        examples[name] = [changed[int(i * step)][1:] for i in range(min(EXAMPLES, len(changed)))]
    for name, shown in examples.items():
        print(f"\n{name}: {len(shown)} example changes")
        for before, after in shown:
            print(f"  {before[:WIDTH]!r}\n      {changes(before, after)}")


def main() -> None:
    tools = load_tools()
    if not tools:
        return
    try:
        corpus = pii_corpus()
    except ImportError as e:  # tests/test_redact.py imports pytest
        print(f"no PII corpus: tests/test_redact.py needs {e.name} (pip install pytest)")
        corpus = []
    missed = recall(tools, corpus) if corpus else {name: [] for name in tools}
    for name in tools if corpus else []:
        if name != "ours":
            found = [value for value in missed["ours"] if value not in missed[name]]
            print(f"ours misses, {name} catches ({len(found)}): {found}")
    texts = ordinary_texts()
    if len(texts) == len(PLAIN_TEXTS):
        print(f"\n(no datasets under {DATASETS}: ordinary texts are the tests' plain texts only)")
    over_redaction(tools, texts)


if __name__ == "__main__":
    main()
