"""An account statement as CSV: one table an accountant can open as is.

The first row is the opening balance, then one row per entry with the running balance,
then the closing balance; ``line`` says which. Amounts and balances are integers in minor
units, like everywhere in the API. Text cells that a spreadsheet would run as a formula
are neutralised (`shared.csv_safety`); amounts stay numbers.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from shared import csv_safety

COLUMNS = (
    "line",
    "at",
    "effective_date",
    "transaction_id",
    "kind",
    "description",
    "amount",
    "balance",
)


def statement_csv(statement: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv_safety.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    balance = statement["opening_balance"]
    writer.writerow(["opening", statement["since"].isoformat(), "", "", "", "", "", balance])
    for entry in statement["entries"]:
        balance += entry["amount"]
        writer.writerow(
            [
                "entry",
                entry["inserted_at"].isoformat(),
                entry["effective_date"].isoformat(),
                str(entry["transaction_id"]),
                entry["kind"],
                entry["description"],
                entry["amount"],
                balance,
            ]
        )
    closing = statement["closing_balance"]
    writer.writerow(["closing", statement["until"].isoformat(), "", "", "", "", "", closing])
    return buffer.getvalue()
