"""`valuestory schedule install|show|remove`: re-run the analysis on a schedule, from cron or a
systemd user timer. `show` prints what `install` would write; nothing is edited silently."""

from __future__ import annotations

import shlex
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from valuestory.errors import ValuestoryError
from valuestory.project import find_project

from .common import ProjectOpt, console, handles_errors

app = typer.Typer(help="Re-run the analysis on a schedule (cron or a systemd user timer).", no_args_is_help=True)
LOG = "schedule.log"
# A scheduled run does not wait for one still going: it exits 2 saying so, and the next one runs.
NO_WAIT = "VALUESTORY_LOCK_WAIT=0"


class Every(str, Enum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"


CRON = {Every.daily: "{m} {h} * * *", Every.weekly: "{m} {h} * * 1", Every.monthly: "{m} {h} 1 * *",
        Every.quarterly: "{m} {h} 1 1,4,7,10 *"}
CALENDAR = {Every.daily: "*-*-* {h:02d}:{m:02d}:00", Every.weekly: "Mon *-*-* {h:02d}:{m:02d}:00",
            Every.monthly: "*-*-01 {h:02d}:{m:02d}:00", Every.quarterly: "*-01,04,07,10-01 {h:02d}:{m:02d}:00"}

EveryOpt = Annotated[Every, typer.Option("--every", help="How often: daily, weekly (Mondays), monthly (the 1st) or "
                                         "quarterly (1 January, April, July, October).")]
AtOpt = Annotated[str, typer.Option("--at", help="Time of day, HH:MM (local time).")]
SystemdOpt = Annotated[bool, typer.Option("--systemd", help="A systemd user timer instead of a crontab entry.")]
CrontabOpt = Annotated[Optional[Path], typer.Option(
    "--crontab", help="Write the entry into this file instead of your crontab (to review it, or for tests).",
    show_default=False)]
UnitDirOpt = Annotated[Optional[Path], typer.Option(
    "--unit-dir", help="Where the systemd units go (default ~/.config/systemd/user).", show_default=False)]
NotifyOpt = Annotated[Optional[str], typer.Option("--notify", help="A command given each run's JSON summary on stdin.",
                                                  show_default=False)]
WebhookOpt = Annotated[Optional[str], typer.Option("--webhook", help="A URL each run's JSON summary is POSTed to.",
                                                   show_default=False)]


def _time(at: str) -> tuple[int, int]:
    try:
        h, m = (int(x) for x in at.split(":"))
        if 0 <= h < 24 and 0 <= m < 60:
            return h, m
    except ValueError:
        pass
    raise ValuestoryError(f"--at {at!r} is not a time of day: give HH:MM, e.g. 06:30")


def command_line(root: Path, notify: str | None, webhook: str | None) -> str:
    """What each scheduled run does: ingest the declared sources, run, compare with the last
    run; its output appended to the project's schedule log."""
    exe = Path(sys.executable).with_name("valuestory")
    args = [str(exe), "run", "--ingest", "--changes", "--json", "-p", str(root)]
    args += ["--notify", notify] if notify else []
    args += ["--webhook", webhook] if webhook else []
    log = root / ".valuestory" / LOG
    return f"cd {shlex.quote(str(root))} && {NO_WAIT} {shlex.join(args)} >> {shlex.quote(str(log))} 2>&1"


def marker(root: Path) -> str:
    return f"# valuestory schedule: {root}"


def cron_entry(root: Path, every: Every, at: str, notify: str | None, webhook: str | None) -> str:
    h, m = _time(at)
    return f"{marker(root)}\n{CRON[every].format(h=h, m=m)} {command_line(root, notify, webhook)}\n"


def units(root: Path, every: Every, at: str, notify: str | None, webhook: str | None) -> dict[str, str]:
    h, m = _time(at)
    name = unit_name(root)
    return {
        f"{name}.service": f"[Unit]\nDescription=valuestory run for {root}\n\n[Service]\nType=oneshot\n"
                           f"ExecStart=/bin/sh -c {shlex.quote(command_line(root, notify, webhook))}\n"
                           "SuccessExitStatus=3\n",
        f"{name}.timer": f"[Unit]\nDescription=valuestory run for {root}, {every.value}\n\n[Timer]\n"
                         f"OnCalendar={CALENDAR[every].format(h=h, m=m)}\nPersistent=true\n\n[Install]\n"
                         "WantedBy=timers.target\n"}


def unit_name(root: Path) -> str:
    import hashlib
    return f"valuestory-{root.name or 'project'}-{hashlib.sha256(str(root).encode()).hexdigest()[:6]}"


def _read_crontab(path: Path | None) -> str:
    if path is not None:
        return path.read_text(encoding="utf-8") if path.exists() else ""
    done = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else ""  # no crontab yet: exit 1


def _write_crontab(path: Path | None, text: str) -> None:
    if path is not None:
        path.write_text(text, encoding="utf-8")
        return
    done = subprocess.run(["crontab", "-"], input=text, capture_output=True, text=True)
    if done.returncode:
        raise ValuestoryError(f"crontab refused the entry: {done.stderr.strip()}; `valuestory schedule show` prints "
                              "it to add by hand, or use --systemd")


def _without(text: str, root: Path) -> str:
    """The crontab without this project's entry (its marker line and the line after it)."""
    lines, out, skip = text.splitlines(keepends=True), [], False
    for line in lines:
        if skip:
            skip = False
            continue
        if line.rstrip("\n") == marker(root):
            skip = True
            continue
        out.append(line)
    return "".join(out)


@app.command()
@handles_errors
def show(every: EveryOpt = Every.weekly, at: AtOpt = "06:00", systemd: SystemdOpt = False,
         notify: NotifyOpt = None, webhook: WebhookOpt = None, project_dir: ProjectOpt = None) -> None:
    """Print what `install` would write, without writing anything."""
    root = find_project(project_dir).require().root
    if systemd:
        for name, text in units(root, every, at, notify, webhook).items():
            console.print(f"[bold]{escape(name)}[/bold]\n{escape(text)}", highlight=False)
    else:
        console.print(escape(cron_entry(root, every, at, notify, webhook)), highlight=False)


@app.command()
@handles_errors
def install(every: EveryOpt = Every.weekly, at: AtOpt = "06:00", systemd: SystemdOpt = False,
            crontab: CrontabOpt = None, unit_dir: UnitDirOpt = None, notify: NotifyOpt = None,
            webhook: WebhookOpt = None, project_dir: ProjectOpt = None) -> None:
    """Write the schedule: a crontab entry (replacing this project's earlier one), or a systemd
    user service and timer. Each run ingests the declared [[sources]], runs, compares with
    the last run and appends its JSON summary to .valuestory/schedule.log. Exit status: 0
    nothing notable, 3 a change flagged, 1 or 2 an error (2 also when a run is still going)."""
    root = find_project(project_dir).require().root
    if systemd:
        folder = unit_dir or Path.home() / ".config" / "systemd" / "user"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in units(root, every, at, notify, webhook).items():
            (folder / name).write_text(text, encoding="utf-8")
            console.print(f"wrote {escape(str(folder / name))}")
        console.print(f"Start it with: systemctl --user daemon-reload && systemctl --user enable --now "
                      f"{unit_name(root)}.timer")
        return
    entry = cron_entry(root, every, at, notify, webhook)
    _write_crontab(crontab, _without(_read_crontab(crontab), root) + entry)
    console.print(f"wrote to {escape(str(crontab) if crontab else 'your crontab')}:\n{escape(entry)}", highlight=False)


@app.command()
@handles_errors
def remove(systemd: SystemdOpt = False, crontab: CrontabOpt = None, unit_dir: UnitDirOpt = None,
           project_dir: ProjectOpt = None) -> None:
    """Remove this project's schedule (its crontab entry, or its systemd units)."""
    root = find_project(project_dir).require().root
    if systemd:
        folder = unit_dir or Path.home() / ".config" / "systemd" / "user"
        for suffix in (".timer", ".service"):
            (folder / f"{unit_name(root)}{suffix}").unlink(missing_ok=True)
        console.print(f"removed {unit_name(root)}.timer and .service; run: systemctl --user daemon-reload")
        return
    before = _read_crontab(crontab)
    after = _without(before, root)
    if after == before:
        console.print("no schedule of this project in the crontab")
        return
    _write_crontab(crontab, after)
    console.print("removed this project's crontab entry")
