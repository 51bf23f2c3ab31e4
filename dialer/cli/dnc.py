"""`dialer dnc add|remove|import|list|check`: the do-not-call list kept in the store
(campaigns.store.dnc), which every campaign, run and worker checks at dial time.

Registered on the `dialer` group by dialer.cli. Numbers are read as the contact list's are
(`--region` for numbers without a country code) and kept in E.164.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from campaigns.lists.contacts import open_table
from campaigns.lists.phones import PhoneReader
from campaigns.lists.suppression import suppressed_numbers
from campaigns.store.dnc import DncEntry, clean_reason
from campaigns.store.rows import RowStore
from dialer.clock import SystemClock
from dialer.durations import utc_text
from dialer.errors import InputError
from dialer.settings import Settings

_REGION = click.option(
    "--region", default="US", show_default=True, help="Region for numbers without +CC."
)
_REASON = click.option("--reason", default="", help="Why (shown in reports), e.g. 'opted out'.")


@contextmanager
def _store() -> Iterator[RowStore]:
    from campaigns.backends import open_services

    services = open_services(Settings.from_env(), SystemClock())
    try:
        yield services.store
    finally:
        services.close()


def _numbers(texts: tuple[str, ...], region: str) -> list[str]:
    phones = PhoneReader(region)
    numbers = []
    for text in texts:
        reading = phones.read(text)
        if not reading.is_valid:
            raise InputError(f"{text!r} is not a phone number ({reading.error}): check it.")
        numbers.append(reading.e164)
    return numbers


@click.group(help="The do-not-call list every campaign checks at dial time.")
def dnc() -> None:
    pass


@dnc.command(help="Add NUMBERS to the do-not-call list (they are never called afterwards).")
@click.argument("numbers", nargs=-1, required=True)
@_REASON
@_REGION
def add(numbers: tuple[str, ...], reason: str, region: str) -> None:
    now = SystemClock().now()
    entries = [DncEntry(n, clean_reason(reason), now) for n in _numbers(numbers, region)]
    with _store() as store:
        added = store.dnc_add(entries)
    click.echo(f"{added} added to the do-not-call list ({len(entries) - added} already on it).")


@dnc.command(help="Take NUMBERS off the do-not-call list.")
@click.argument("numbers", nargs=-1, required=True)
@_REGION
def remove(numbers: tuple[str, ...], region: str) -> None:
    with _store() as store:
        removed = store.dnc_remove(_numbers(numbers, region))
    click.echo(f"{removed} removed from the do-not-call list.")


@dnc.command(name="import", help="Add every number of FILE (one per line, or a phone column).")
@click.argument("file", type=click.Path(path_type=Path))
@_REASON
@_REGION
def import_(file: Path, reason: str, region: str) -> None:
    table = open_table(file, "do-not-call file", allow_empty=True)
    numbers = suppressed_numbers(file, (cells for _, cells in table.records()), PhoneReader(region))
    now = SystemClock().now()
    entries = [DncEntry(n, clean_reason(reason), now) for n in sorted(numbers)]
    with _store() as store:
        added = store.dnc_add(entries)
    click.echo(f"{added} added to the do-not-call list from {file} ({len(entries)} numbers read).")


@dnc.command(name="list", help="Print the do-not-call list: number, since when, why.")
def list_() -> None:
    with _store() as store:
        entries = store.dnc_entries()
    for e in entries:
        since = utc_text(e.added_at)
        click.echo(f"{e.number}\t{since}\t{e.reason}")


@dnc.command(help="Say whether NUMBER is on the list (exit 0 if it is, 1 if not).")
@click.argument("number")
@_REGION
def check(number: str, region: str) -> None:
    (e164,) = _numbers((number,), region)
    with _store() as store:
        entry = store.dnc_get(e164)
    if entry is None:
        click.echo(f"{e164} is not on the do-not-call list.")
        raise SystemExit(1)
    click.echo(f"{e164}: {entry.message}")
