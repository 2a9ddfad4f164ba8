"""The words of the auditor's PDF report (`pack.pdf`), in Swedish and English."""

from __future__ import annotations

from biv_adapters.pack.labels import Words

WORDS: Words = {
    "title": {"sv": "Revisionsrapport", "en": "Audit report"},
    "basis": {
        "sv": "Budget och uppföljningar per {on}; ur liggaren som den stod {now} (UTC).",
        "en": "Budget and follow-ups on {on}; from the ledger as it stood at {now} (UTC).",
    },
    "parties": {"sv": "Parter", "en": "Parties"},
    "period": {"sv": "Avtalsperiod", "en": "Term"},
    "status": {"sv": "Status {on}", "en": "Status on {on}"},
    "notice": {"sv": "Sista dag för uppsägning", "en": "Last day to give notice"},
    "agreement": {"sv": "Avtalet och dess beslut", "en": "The agreement and its decisions"},
    "decision": {"sv": "Beslut", "en": "Decision"},
    "what": {"sv": "Innebörd", "en": "What"},
    "decided_on": {"sv": "Beslutsdatum", "en": "Decided on"},
    "decided_by": {"sv": "Beslutande organ", "en": "Decided by"},
    "decision_ref": {"sv": "Diarienummer", "en": "Reference"},
    "budget": {"sv": "Budget per budgetår", "en": "Budget by fiscal year"},
    "year": {"sv": "Budgetår", "en": "Fiscal year"},
    "municipality": {"sv": "Kommunen", "en": "Municipality"},
    "partner": {"sv": "Partnern", "en": "Partner"},
    "total": {"sv": "Totalt", "en": "Total"},
    "missing_years": {
        "sv": "Budgetår utan registrerat beslut saknas i underlagen: {years}.",
        "en": "Fiscal years with no recorded decision are not in the documents: {years}.",
    },
    "payments": {"sv": "Utbetalningar mot beslut", "en": "Payments against decisions"},
    "paid_on": {"sv": "Utbetald", "en": "Paid on"},
    "amount": {"sv": "Belopp", "en": "Amount"},
    "covering": {"sv": "Täckande beslut", "en": "Covering decisions"},
    "flag": {"sv": "Anmärkning", "en": "Flag"},
    "no_payments": {"sv": "Inga utbetalningar registrerade.", "en": "No payments recorded."},
    "yearly": {"sv": "Rapport per avtalsår", "en": "Report by year of the agreement"},
    "window": {"sv": "Period", "en": "Window"},
    "groups": {"sv": "Barngrupper", "en": "Children's groups"},
    "sessions": {"sv": "Träffar", "en": "Sessions"},
    "children": {"sv": "Barn", "en": "Children"},
    "parents": {"sv": "Föräldrar", "en": "Parents"},
    "target_children": {"sv": "Mål barn (förv./utfall)", "en": "Target children (exp./actual)"},
    "target_groups": {"sv": "Mål grupper (förv./utfall)", "en": "Target groups (exp./actual)"},
    "met": {"sv": "uppfyllt", "en": "met"},
    "not_assessed": {
        "sv": "ej bedömt: inga uppgifter registrerade",
        "en": "not assessed: nothing recorded",
    },
    "counts_from": {"sv": "räknas från {day}", "en": "counts from {day}"},
    "follow_ups": {"sv": "Uppföljningar", "en": "Follow-ups"},
    "follow_up": {"sv": "Uppföljning", "en": "Follow-up"},
    "due_on": {"sv": "Sista dag", "en": "Due"},
    "submitted_on": {"sv": "Inlämnad", "en": "Submitted"},
    "late": {"sv": "För sent", "en": "Late"},
    "closed_on": {"sv": "Avslutad", "en": "Closed"},
    "no_follow_ups": {"sv": "Inga uppföljningar planerade.", "en": "No follow-ups scheduled."},
    "erasures": {"sv": "Radering av barns personuppgifter", "en": "Erasure of children's data"},
    "erasure_count": {
        "sv": "{n} deltagares personuppgifter har raderats.",
        "en": "The personal data of {n} participants has been erased.",
    },
    "no_erasures": {"sv": "Inga uppgifter har raderats.", "en": "No data has been erased."},
    "reason": {"sv": "Skäl", "en": "Reason"},
    "verification": {"sv": "Kontroll av kedjan", "en": "The chain's verification"},
    "intact": {
        "sv": "Kedjan av {n} händelser är obruten.",
        "en": "The chain of {n} facts holds.",
    },
    "broken": {"sv": "Kedjan bryts: {where}.", "en": "The chain breaks: {where}."},
    "digest": {"sv": "Kontrollsumma", "en": "Digest"},
    "digest_note": {
        "sv": "Spara kontrollsumman utanför systemet: `biv audit verify --digest` visar "
        "senare att historiken fram till den är oförändrad.",
        "en": "Keep the digest outside the system: `biv audit verify --digest` later shows "
        "the history up to it unchanged.",
    },
    "charts": {"sv": "Diagram", "en": "Charts"},
    "funding_alt": {
        "sv": "Finansiering per budgetår och part; tabellen Budget per budgetår har samma siffror.",
        "en": "Funding per fiscal year by party; the table Budget by fiscal year holds them.",
    },
    "participation_alt": {
        "sv": "Deltagande barn och träffar per månad.",
        "en": "Children attending and sessions per month.",
    },
    "page": {"sv": "Sida", "en": "Page"},
    "of": {"sv": "av", "en": "of"},
}
