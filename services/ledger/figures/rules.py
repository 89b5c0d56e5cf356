"""Dashboard figures of a currency over a window: the formulas, with no I/O.

Definitions (amounts in minor units; the window is ``[now − window_days, now)`` on the
transactions' insertion time, like balances at an instant):

- **circulation** at an instant: the sum of the *positive* posted balances of member and
  merchant accounts (what holders could spend; negative mutual-credit balances are debts,
  not money in hand, and issuer/reserve/fund/programme accounts are the operator's side).
- **transfers**: transactions of kind ``transfer``, ``hold_capture`` (card payments) or
  ``programme_purchase`` (voucher spending, card purchases included); **volume** = the sum
  of their positive postings in the currency (a two-legged transfer of 10 counts 10, not
  20), **count** = how many.
- **velocity** = volume / average circulation, where the average circulation is the mean
  of the circulation at the start and at the end of the window (trapezoid rule). It is the
  number of times the average unit changed hands during the window; null when the average
  circulation is zero.
- **issued** = units credited to member and merchant accounts by ``issuance`` transactions
  (bonus included); **reconverted** = units taken from member and merchant accounts by
  ``reconversion`` transactions (fee included).
- **leakage** = reconverted / issued over the window (the share of new money that left for
  euros; null when nothing was issued); **leakage_share_of_volume** = reconverted / volume
  (units leaving per unit spent; null when there was no volume).
"""

from __future__ import annotations

from dataclasses import dataclass

HOLDER_TYPES = ("member", "merchant")
TRANSFER_KINDS = ("transfer", "hold_capture", "programme_purchase")
PRECISION = 6


@dataclass(frozen=True)
class WindowFlows:
    transfer_count: int
    transfer_volume: int
    issued: int
    reconverted: int


def ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, PRECISION)


def average_circulation(at_start: int, at_end: int) -> float:
    return (at_start + at_end) / 2


def figures(*, at_start: int, at_end: int, flows: WindowFlows) -> dict[str, float | int | None]:
    average = average_circulation(at_start, at_end)
    return {
        "circulation": at_end,
        "circulation_at_start": at_start,
        "average_circulation": average,
        "transfer_count": flows.transfer_count,
        "transfer_volume": flows.transfer_volume,
        "velocity": ratio(flows.transfer_volume, average),
        "issued": flows.issued,
        "reconverted": flows.reconverted,
        "leakage": ratio(flows.reconverted, flows.issued),
        "leakage_share_of_volume": ratio(flows.reconverted, flows.transfer_volume),
    }
