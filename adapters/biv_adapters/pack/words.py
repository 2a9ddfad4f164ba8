"""The ledger's values in the auditor's words: statuses, parties, sources, flags, yes and no.

The pack's CSV files keep the ledger's own values (a script matches them with
`biv … --json`); what is made for reading (the PDF report, the workbook's
printed sheets) says them in Swedish by default, English with `--lang en`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from biv_adapters.pack.labels import Lang
from biv_domain.model.money import Money

VALUES_SV: dict[str, str] = {
    # an agreement's status
    "not_started": "ej påbörjat",
    "in_force": "gäller",
    "under_notice": "uppsagt",
    "ended": "upphört",
    # a follow-up's status
    "scheduled": "planerad",
    "due": "ska lämnas",
    "overdue": "försenad",
    "submitted": "inlämnad",
    "closed": "avslutad",
    # parties
    "municipality": "kommunen",
    "partner": "partnern",
    # sources of funding
    "committee_budget": "nämndens budget",
    "state_grant_parenting_support": "statsbidrag för föräldraskapsstöd",
    "own_funds": "egna medel",
    "volunteer_hours": "ideella timmar",
    # payments
    "paid": "utbetald",
    "retracted": "återtagen",
    "no funding decision covers this payment": "inget finansieringsbeslut täcker utbetalningen",
    "paid before the decision that covers it": "utbetald före beslutet som täcker den",
    # targets
    "children_per_year": "barn per år",
    "groups_per_year": "grupper per år",
    # decisions
    "concluded": "ingått",
    "extension": "förlängning",
    "funding": "finansiering",
    "target": "mål",
}

BOOLEANS: dict[Lang, tuple[str, str]] = {"sv": ("ja", "nej"), "en": ("yes", "no")}


def value_text(lang: Lang, value: object) -> str:
    """A value as a reader reads it: a boolean as ja/nej, a known word in Swedish, an
    amount in kronor with thousands separators, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        yes, no = BOOLEANS[lang]
        return yes if value else no
    if isinstance(value, Money):
        return money_text(lang, Decimal(value.ore) / 100)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return VALUES_SV.get(text, text) if lang == "sv" else text.replace("_", " ")


def money_text(lang: Lang, amount: Decimal) -> str:
    """Kronor with two decimals and thousands separators: "300 500,00 kr" (no-break spaces,
    so that an amount never wraps) or "300,500.00 kr"."""
    grouped = f"{amount:,.2f}"
    if lang == "sv":
        grouped = grouped.replace(",", "\N{NO-BREAK SPACE}").replace(".", ",")
        grouped = grouped.replace("-", "\N{MINUS SIGN}")
    return f"{grouped}\N{NO-BREAK SPACE}kr"


CHECKS_SV = {
    "digest": "kontrollsumma",
    "intact": "kedjan obruten",
    "facts": "antal händelser",
    "head": "kedjans huvud",
    "first_break": "första brott",
}


def check_word(lang: Lang, key: str) -> str:
    """A line of the chain's check (Kontrollsumma) named in the reader's words."""
    return CHECKS_SV.get(key, key) if lang == "sv" else key.replace("_", " ")
