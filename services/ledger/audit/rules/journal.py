"""Journal lines as exported: the French FEC (article A47 A-1 of the LPF) and plain CSV.

FEC choices (each one a choice the text leaves to the producer, or a mapping we own):

- Separator: tab; no quoting, so tabs and line breaks inside labels become spaces.
  Encoding ISO-8859-15 (the text's list: ASCII, ISO 8859-15 or EBCDIC); characters outside
  it become ``?``. Lines end with CRLF.
- Formula cells: the two free-text labels (``EcritureLib``, ``CompAuxLib``) get the CSV
  export's single-quote prefix when they start with ``=``, ``+``, ``-`` or ``@``
  (`shared.csv_safety`), since a FEC is often opened in a spreadsheet; see `_label`.
- One journal per currency: ``JournalCode`` is the currency code. ``EcritureNum`` is the
  transaction's position in the currency's audit chain: continuous, in validation order.
  Only sealed (chained) transactions are exported: sealing is the validation that makes an
  entry irreversible, and ``ValidDate`` is the day it was sealed (Europe/Paris).
- ``EcritureDate`` and ``PieceDate``: the transaction's effective date; ``PieceRef``: the
  transaction id; ``EcritureLib``: its description, or its kind when it has none.
- Sign: the ledger books from the operator's side, where a holder's balance is owed to
  them; a posting that raises an account's balance (positive amount) is a **Credit**, one
  that lowers it (negative amount) a **Debit**. Each transaction balances per currency, so
  the file's debits equal its credits.
- Amounts: absolute value in the currency's units with the currency's scale and a comma
  (``1234`` at scale 2 → ``12,34``); the other column carries zero (``0,00``). For a
  currency other than the euro itself (kind ``eur``), ``Montantdevise``/``Idevise`` repeat
  the amount with the currency code, since a local unit is not a euro in law even at par.
- Plan of accounts (PCG-style ``CompteNum`` by account type, see `PLAN`): members and
  merchants are auxiliary accounts (``CompAuxNum`` = account id, ``CompAuxLib`` = its
  name) under collective accounts 4671 and 4672.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.csv_safety import neutralise

PARIS = ZoneInfo("Europe/Paris")

FEC_COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
FEC_ENCODING = "iso-8859-15"

CSV_COLUMNS = (
    "position",
    "transaction_id",
    "effective_date",
    "kind",
    "description",
    "account_id",
    "account_type",
    "account_name",
    "amount",
    "amount_decimal",
    "sealed_at",
)

# account type → (CompteNum, CompteLib, auxiliary?)
PLAN: dict[str, tuple[str, str, bool]] = {
    "member": ("4671", "Adhérents - comptes en monnaie locale", True),
    "merchant": ("4672", "Prestataires - comptes en monnaie locale", True),
    "issuer": ("4678", "Monnaie émise - contrepartie des unités en circulation", False),
    "fund": ("4679", "Fonds de la monnaie - bonus, frais, fonte", False),
    "programme": ("4419", "Programmes - crédits affectés à distribuer", False),
    "reserve": ("5121", "Fonds de garantie - compte bancaire", False),
}
SUSPENSE = ("471", "Compte d'attente", False)


@dataclass(frozen=True)
class JournalLine:
    """One posting of a sealed transaction, with what the exports need around it."""

    currency: str
    currency_kind: str
    scale: int
    position: int
    transaction_id: UUID
    kind: str
    description: str
    effective_date: date
    sealed_at: datetime
    account_id: UUID
    account_type: str
    account_name: str
    amount: int


def decimal_text(minor: int, scale: int, *, separator: str = ",") -> str:
    """``minor`` units written with ``scale`` decimals: (-1234, 2) → ``-12,34``."""
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(scale + 1, "0")
    if scale == 0:
        return sign + digits
    return f"{sign}{digits[:-scale]}{separator}{digits[-scale:]}"


def _clean(value: str) -> str:
    return " ".join(value.replace("\t", " ").split())


def _label(value: str) -> str:
    """A free-text FEC label: one line, no tab, and not a spreadsheet formula.

    Why only here: the FEC format has no quoting, and its other fields have a form the
    text fixes (dates ``AAAAMMJJ``, unsigned amounts with a comma, our account numbers and
    codes, ids), none of which can start with a formula character; a quote there would
    break the file. A label is free text in the spec, so a leading quote keeps the file
    valid while a spreadsheet shows the label instead of running it. ``_clean`` already
    removed the leading tab or carriage return OWASP also lists.
    """
    return str(neutralise(_clean(value)))


def _ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


def fec_fields(line: JournalLine) -> list[str]:
    number, label, auxiliary = PLAN.get(line.account_type, SUSPENSE)
    magnitude = decimal_text(abs(line.amount), line.scale)
    zero = decimal_text(0, line.scale)
    debit, credit = (magnitude, zero) if line.amount < 0 else (zero, magnitude)
    foreign = line.currency_kind != "eur"
    return [
        line.currency,
        f"Journal {line.currency}",
        str(line.position),
        _ymd(line.effective_date),
        number,
        label,
        str(line.account_id) if auxiliary else "",
        _label(line.account_name) if auxiliary else "",
        str(line.transaction_id),
        _ymd(line.effective_date),
        _label(line.description) or line.kind,
        debit,
        credit,
        "",
        "",
        _ymd(line.sealed_at.astimezone(PARIS).date()),
        magnitude if foreign else "",
        line.currency if foreign else "",
    ]


def fec_line(line: JournalLine) -> str:
    return "\t".join(fec_fields(line)) + "\r\n"


def fec_header() -> str:
    return "\t".join(FEC_COLUMNS) + "\r\n"


def csv_row(line: JournalLine) -> list[str]:
    return [
        str(line.position),
        str(line.transaction_id),
        line.effective_date.isoformat(),
        line.kind,
        line.description,
        str(line.account_id),
        line.account_type,
        line.account_name,
        str(line.amount),
        decimal_text(line.amount, line.scale, separator="."),
        line.sealed_at.isoformat(),
    ]
