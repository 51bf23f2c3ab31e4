"""Exports as people have them (issue 20): Outlook's and HubSpot's phone columns tried in
order, a row's number taken from the next when the first is empty; the footer and total lines
of known exports (Salesforce, HubSpot, Excel) told from contacts; Google Contacts' number
marked mobile in its row (`Phone 2 - Type` = `Mobile`) read first."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.lists.contacts import ListOptions, open_contact_list
from campaigns.lists.export_lines import FooterWatch
from campaigns.lists.list_pass import read_list
from campaigns.store.rows import NewRow, RowStatus

PENDING, INVALID = RowStatus.PENDING, RowStatus.INVALID


def rows_of(tmp_path: Path, text: str) -> tuple[list[str], list[NewRow]]:
    path = tmp_path / "export.csv"
    path.write_text(text, "utf-8")
    contacts = open_contact_list(path, ListOptions())
    return [contacts.headers[i] for i in contacts.phone_columns], list(contacts.rows())


def test_outlook_business_and_primary_phone_when_the_mobile_is_empty(tmp_path: Path) -> None:
    order, (ann, bob, cy) = rows_of(
        tmp_path,
        "First Name,Business Fax,Business Phone,Home Phone,Mobile Phone,Pager,Primary Phone\n"
        "Ann,+1 415 555 0199,+1 415 555 0100,,,,\n"
        "Bob,,,,,+1 415 555 0198,+1 415 555 0101\n"
        "Cy,,+1 415 555 0109,,+1 415 555 0102,,+1 415 555 0103\n",
    )
    assert order == ["Mobile Phone", "Business Phone", "Home Phone", "Primary Phone"]
    assert (ann.status, ann.to_number) == (PENDING, "+14155550100")  # not the fax
    assert ann.error == "'Mobile Phone' empty: number from 'Business Phone'"
    assert (bob.status, bob.to_number) == (PENDING, "+14155550101")  # not the pager
    assert bob.error == (
        "'Mobile Phone', 'Business Phone', 'Home Phone' empty: number from 'Primary Phone'"
    )
    assert (cy.to_number, cy.error) == ("+14155550102", "")


def test_hubspot_phone_number_when_the_mobile_phone_number_is_empty(tmp_path: Path) -> None:
    order, (ann, bob, cy) = rows_of(
        tmp_path,
        "Record ID,First Name,Email,Phone Number,Mobile Phone Number\n"
        "1,Ann,a@x.com,+1 415 555 0100,\n"
        "2,Bob,b@x.com,,+1 415 555 0101\n"
        "3,Cy,c@x.com,,\n",
    )
    assert order == ["Mobile Phone Number", "Phone Number"]
    assert (ann.to_number, ann.error) == (
        "+14155550100",
        "'Mobile Phone Number' empty: number from 'Phone Number'",
    )
    assert (bob.to_number, bob.error) == ("+14155550101", "")
    assert (cy.status, cy.error) == (INVALID, "empty")


def test_a_bad_first_number_is_not_swapped_for_the_next_column(tmp_path: Path) -> None:
    _, (ann,) = rows_of(tmp_path, "Name,Mobile Phone Number,Phone Number\nAnn,12,+1 415 555 0100\n")
    assert ann.status == INVALID and ann.to_number == ""


@pytest.mark.parametrize(
    "cells",
    [
        ["Total", "", ""],
        ["Totals:", "", ""],
        ["Grand Total", "", "1,234.50"],
        ["Grand Totals (1,204 records)", "", ""],
        ["Grand Totals (1 record)", "", ""],
        ["Total records: 3", "", ""],
        ["TOTAL", "", "$ 99.00"],
        ["Exported from HubSpot on 2025-03-14", "", ""],
        ["Exported by HubSpot", "", ""],
        ["HubSpot export", "", ""],
    ],
)
def test_total_and_hubspot_footer_lines(cells: list[str]) -> None:
    reason = FooterWatch().reason(cells)
    assert reason.startswith("footer line of the export (") and "not a contact" in reason


@pytest.mark.parametrize(
    "cells",
    [
        ["Total Wine", "+1 415 555 0100", ""],  # a company whose name begins with Total
        ["Total Wine & More", "", ""],
        ["Totally Awesome Inc.", "", ""],
        ["Total", "+1 415 555 0100", "call"],  # a label then not only numbers
        ["Grand Totals", "Ann", ""],
        ["HubSpot", "", ""],
        ["Acme Inc.", "", ""],  # a one-cell row before any footer line is data
    ],
)
def test_rows_that_only_look_like_footers_are_data(cells: list[str]) -> None:
    assert FooterWatch().reason(cells) == ""


def test_one_cell_lines_after_a_footer_line_are_footer_too(tmp_path: Path) -> None:
    _, rows = rows_of(
        tmp_path,
        "Name,Phone,Amount\nAnn,+1 415 555 0100,10\nAcme Inc.,,\n"
        "Grand Totals (1 records),,10\nAcme Inc.,,\n",
    )
    assert [r.status for r in rows] == [PENDING, INVALID, INVALID, INVALID]
    assert rows[1].error == "empty"  # before the footer: a row without a number
    assert "('Grand Totals (1 records)')" in rows[2].error
    assert "('Acme Inc.')" in rows[3].error


GOOGLE = (  # Google Contacts: each number's kind per row; `* Mobile` marks the primary
    "Name,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value\n"
    "Ann,Work,+1 650-253-0000,Mobile,+1 650-253-0001\n"
    "Bob,Home,+1 650-253-0002,* Mobile,+1 650-253-0003\n"
    "Cy,Mobile,+1 650-253-0004,Work,+1 650-253-0005\n"
    "Di,Work,+1 650-253-0006,MOBILE,\n"
    "Ed,Work,+1 650-253-0007,Home,+1 650-253-0008\n"
    "Flo,Work,+1 650-253-0009,mobile,12\n"
)


def test_google_contacts_number_marked_mobile_comes_first_in_its_row(tmp_path: Path) -> None:
    _, (ann, bob, cy, di, ed, flo) = rows_of(tmp_path, GOOGLE)
    assert (ann.to_number, ann.error) == (
        "+16502530001",
        "'Phone 2 - Type' is 'Mobile': the mobile number read first, from 'Phone 2 - Value'",
    )
    assert (bob.to_number, bob.error) == (
        "+16502530003",
        "'Phone 2 - Type' is '* Mobile': the mobile number read first, from 'Phone 2 - Value'",
    )
    assert (cy.to_number, cy.error) == ("+16502530004", "")  # already first: nothing to say
    assert (di.to_number, di.error) == ("+16502530006", "")  # the mobile cell is empty
    assert (ed.to_number, ed.error) == ("+16502530007", "")  # none marked mobile
    # the number marked mobile is the row's answer, even when it cannot be called
    assert flo.status == INVALID and "'Phone 2 - Type' is 'mobile'" in flo.error


def test_google_contacts_newer_label_columns_and_an_empty_first_value(tmp_path: Path) -> None:
    _, (ann, bob) = rows_of(
        tmp_path,
        "Name,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value\n"
        "Ann,Work,+1 650-253-0000,Mobile,+1 650-253-0001\n"
        "Bob,Mobile,,Work,+1 650-253-0002\n",
    )
    assert ann.to_number == "+16502530001" and "'Phone 2 - Label' is 'Mobile'" in ann.error
    assert (bob.to_number, bob.error) == (
        "+16502530002",
        "'Phone 1 - Value' empty: number from 'Phone 2 - Value'",
    )


def test_phone_columns_option_keeps_its_order_over_the_row_kinds(tmp_path: Path) -> None:
    path = tmp_path / "google.csv"
    path.write_text(GOOGLE, "utf-8")
    options = ListOptions(phone_columns=["Phone 1 - Value", "Phone 2 - Value"])
    ann = next(open_contact_list(path, options).rows())
    assert (ann.to_number, ann.error) == ("+16502530000", "")


def test_google_contacts_kinds_read_the_same_on_worker_processes(tmp_path: Path) -> None:
    path = tmp_path / "google.csv"
    path.write_text(GOOGLE, "utf-8")
    contacts = open_contact_list(path, ListOptions())
    many = list(read_list(contacts, workers=2, chunk_rows=2, min_bytes=0))
    assert many == list(contacts.rows())
    assert many[0].to_number == "+16502530001"
