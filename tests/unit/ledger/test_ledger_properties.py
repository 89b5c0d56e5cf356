"""Property tests of the ledger's pure invariants (hypothesis, bounded runs)."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from uuid import UUID

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.ledger.accounts.errors import CreditLimitExceeded, InsufficientFunds
from services.ledger.accounts.rules import AccountType, check_bounds
from services.ledger.currencies.errors import ReconversionTooSmall
from services.ledger.currencies.rules.conversion import check_reserve, issue, reconvert
from services.ledger.currencies.rules.currency import CurrencyKind, CurrencyRules, ReconversionFees
from services.ledger.demurrage.rules import BalanceSpan, balance_spans, demurrage_charge
from services.ledger.errors import LedgerDomainError
from services.ledger.holds.errors import CaptureExceedsHold, HoldExpired, HoldNotAuthorized
from services.ledger.holds.rules import authorize, capture, expire, void
from services.ledger.programmes.errors import InsufficientVoucherCredit
from services.ledger.programmes.rules import CreditLot, consume_lots, sweep_expired
from services.ledger.transactions.rules import (
    MAX_AMOUNT,
    Posting,
    merge_postings,
    net_by_account,
    reversal_of,
    validate_transaction,
)

BOUNDED = settings(max_examples=200, deadline=None)

ACCOUNTS = [UUID(int=n) for n in range(1, 13)]
CURRENCIES = ["ECO", "EUR", "HEURE"]
amounts = st.integers(min_value=1, max_value=10**9)
NOW = datetime(2024, 9, 1, tzinfo=UTC)


@st.composite
def balanced_transactions(draw):
    """Postings over distinct accounts that sum to zero per currency."""
    accounts = draw(st.permutations(ACCOUNTS))
    legs = draw(st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=3, unique=True))
    postings, used = [], 0
    for currency in legs:
        size = draw(st.integers(min_value=2, max_value=max(2, min(4, len(accounts) - used))))
        assume(used + size <= len(accounts))
        parts = draw(st.lists(amounts, min_size=size - 1, max_size=size - 1))
        signs = draw(st.lists(st.sampled_from([-1, 1]), min_size=size - 1, max_size=size - 1))
        values = [s * v for s, v in zip(signs, parts, strict=True)]
        assume(sum(values) != 0)
        values.append(-sum(values))
        for account, value in zip(accounts[used : used + size], values, strict=True):
            postings.append(Posting(account_id=account, currency=currency, amount=value))
        used += size
    return postings


arbitrary_postings = st.lists(
    st.builds(
        Posting,
        account_id=st.sampled_from(ACCOUNTS),
        currency=st.sampled_from(CURRENCIES),
        amount=st.integers(min_value=-1000, max_value=1000).filter(bool),
    ),
    max_size=6,
)


# --- postings ----------------------------------------------------------------------------


@BOUNDED
@given(arbitrary_postings)
def test_any_accepted_transaction_sums_to_zero_per_currency_over_distinct_accounts(postings):
    try:
        result = validate_transaction(postings)
    except LedgerDomainError:
        return
    sums = defaultdict(int)
    for posting in result:
        sums[posting.currency] += posting.amount
    assert set(sums.values()) == {0}
    assert len({p.account_id for p in result}) == len(result) >= 2
    assert sorted(result, key=repr) == sorted(postings, key=repr)


@BOUNDED
@given(balanced_transactions())
def test_every_balanced_transaction_over_distinct_accounts_is_accepted(postings):
    assert len(validate_transaction(postings)) == len(postings)


@BOUNDED
@given(balanced_transactions(), st.randoms())
def test_validation_result_does_not_depend_on_input_order(postings, rng):
    shuffled = list(postings)
    rng.shuffle(shuffled)
    assert validate_transaction(shuffled) == validate_transaction(postings)


@BOUNDED
@given(balanced_transactions())
def test_transaction_plus_its_reversal_nets_every_account_to_zero(postings):
    original = validate_transaction(postings)
    nets = net_by_account([*original, *reversal_of(original)])
    assert set(nets.values()) == {0}
    assert reversal_of(reversal_of(original)) == original


@BOUNDED
@given(arbitrary_postings)
def test_merge_keeps_each_accounts_net_amount(postings):
    merged = net_by_account(merge_postings(postings))
    assert merged == {k: v for k, v in net_by_account(postings).items() if v != 0}


# --- bounds ------------------------------------------------------------------------------


@BOUNDED
@given(
    posted=st.integers(-(10**6), 10**6),
    held=st.integers(0, 10**6),
    delta=st.integers(-(10**6), 10**6),
    lower=st.none() | st.integers(-(10**6), 0),
    upper=st.none() | st.integers(0, 10**6),
)
def test_accepted_movement_never_crosses_a_bound_in_its_direction(
    posted, held, delta, lower, upper
):
    try:
        check_bounds(posted=posted, held=held, delta=delta, lower=lower, upper=upper)
    except LedgerDomainError:
        return
    if delta < 0 and lower is not None:
        assert posted + delta - held >= lower
    if delta > 0 and upper is not None:
        assert posted + delta <= upper


# --- demurrage ---------------------------------------------------------------------------

spans_strategy = st.lists(
    st.builds(BalanceSpan, balance=st.integers(-(10**9), 10**9), days=st.integers(0, 31)),
    max_size=3,
)
rates = st.integers(0, 1_000_000)


@BOUNDED
@given(spans_strategy, rates, st.integers(-(10**9), 10**9))
def test_demurrage_never_takes_more_than_available_nor_a_negative_amount(spans, rate, available):
    charge = demurrage_charge(rate_ppm=rate, period_days=93, spans=spans, available_now=available)
    assert 0 <= charge <= max(available, 0)


@BOUNDED
@given(st.integers(0, 10**9), st.integers(0, 92), rates)
def test_demurrage_never_makes_a_positive_balance_negative(balance, days, rate):
    spans = [BalanceSpan(balance, days)]
    charge = demurrage_charge(rate_ppm=rate, period_days=92, spans=spans, available_now=balance)
    assert balance - charge >= 0


@BOUNDED
@given(spans_strategy, rates, rates, st.integers(0, 10**9))
def test_demurrage_is_monotonic_in_rate(spans, rate_a, rate_b, available):
    low, high = sorted((rate_a, rate_b))
    charges = [
        demurrage_charge(rate_ppm=r, period_days=93, spans=spans, available_now=available)
        for r in (low, high)
    ]
    assert charges[0] <= charges[1]


@BOUNDED
@given(st.integers(-(10**9), 10**9), st.integers(0, 90), st.integers(0, 90), rates)
def test_demurrage_is_monotonic_in_days_held(balance, days_a, days_b, rate):
    fewer, more = sorted((days_a, days_b))
    charges = [
        demurrage_charge(
            rate_ppm=rate, period_days=90, spans=[BalanceSpan(balance, d)], available_now=10**9
        )
        for d in (fewer, more)
    ]
    assert charges[0] <= charges[1]


@BOUNDED
@given(spans_strategy, rates)
def test_demurrage_rounds_toward_the_member(spans, rate):
    exact = Fraction(rate * sum(max(s.balance, 0) * s.days for s in spans), 1_000_000 * 93)
    charge = demurrage_charge(rate_ppm=rate, period_days=93, spans=spans, available_now=10**12)
    assert charge <= exact < charge + 1


@BOUNDED
@given(
    st.integers(-(10**6), 10**6),
    st.lists(st.tuples(st.integers(0, 89), st.integers(-(10**5), 10**5)), max_size=10),
)
def test_balance_spans_cover_the_period_and_end_at_the_closing_balance(opening, moves):
    start = date(2024, 1, 1)
    movements = [(start + timedelta(days=d), amount) for d, amount in moves]
    spans = balance_spans(
        opening_balance=opening, movements=movements, start=start, end=date(2024, 3, 31)
    )
    assert sum(s.days for s in spans) == 90
    assert spans[-1].balance == opening + sum(amount for _, amount in moves)


# --- holds -------------------------------------------------------------------------------


@BOUNDED
@given(amounts, st.integers(-(10**9), 2 * 10**9))
def test_capture_never_exceeds_authorized_and_splits_it_exactly(authorized, requested):
    hold = authorize(
        payer=ACCOUNTS[0],
        payee=ACCOUNTS[1],
        currency="ECO",
        amount=authorized,
        expires_at=NOW + timedelta(hours=1),
        now=NOW,
    )
    try:
        captured = capture(hold, now=NOW, amount=requested)
    except LedgerDomainError:
        assert requested <= 0 or requested > authorized
        return
    assert 0 < captured.captured <= authorized
    assert captured.captured + captured.released == authorized
    assert captured.held == 0


# --- lots --------------------------------------------------------------------------------

lots_strategy = st.lists(
    st.builds(
        CreditLot,
        lot_id=st.integers(1, 10**6).map(lambda n: UUID(int=n)),
        funder=st.sampled_from(ACCOUNTS[:2]),
        remaining=st.integers(0, 10_000),
        expires_at=st.integers(-30, 30).map(lambda d: NOW + timedelta(days=d)),
        categories=st.none() | st.frozensets(st.sampled_from(["books", "sport"]), min_size=1),
    ),
    max_size=6,
    unique_by=lambda lot: lot.lot_id,
)


@BOUNDED
@given(lots_strategy, st.integers(1, 30_000), st.sampled_from(["books", "sport"]))
def test_lot_consumption_never_overspends_nor_touches_unusable_lots(lots, amount, category):
    try:
        result = consume_lots(lots, amount=amount, category=category, now=NOW)
    except InsufficientVoucherCredit:
        usable = [
            x for x in lots if x.expires_at > NOW and x.pays_for(category) and x.remaining > 0
        ]
        assert sum(x.remaining for x in usable) < amount
        return
    assert result.total == amount
    by_id = {lot.lot_id: lot for lot in lots}
    for draw in result.draws:
        source = by_id[draw.lot_id]
        assert 0 < draw.amount <= source.remaining
        assert not source.is_expired(NOW) and source.pays_for(category)
        assert draw.funder == source.funder
    for before, after in zip(lots, result.lots, strict=True):
        assert after.remaining >= 0
        spent = sum(d.amount for d in result.draws if d.lot_id == before.lot_id)
        assert before.remaining - after.remaining == spent
    expiries = [by_id[d.lot_id].expires_at for d in result.draws]
    assert expiries == sorted(expiries)


@BOUNDED
@given(lots_strategy)
def test_sweep_takes_exactly_what_expired_lots_hold(lots):
    swept = sweep_expired(lots, now=NOW)
    expired_total = sum(x.remaining for x in lots if x.is_expired(NOW))
    assert swept.total == expired_total
    assert all(x.remaining == 0 for x in swept.lots if x.is_expired(NOW))
    assert sum(x.remaining for x in swept.lots) == sum(x.remaining for x in lots) - expired_total


# --- conversion --------------------------------------------------------------------------

MEMBER, ISSUER, EXTERNAL, RESERVE, FUND, SHOP = ACCOUNTS[:6]


@BOUNDED
@given(
    bonus_bp=st.integers(0, 10_000),
    fee_bp=st.integers(0, 9_999),
    operations=st.lists(
        st.tuples(st.booleans(), st.integers(1, MAX_AMOUNT // 1000)), min_size=1, max_size=8
    ),
)
def test_conversions_keep_units_in_circulation_equal_to_the_reserve(bonus_bp, fee_bp, operations):
    rules = CurrencyRules(
        code="ECO",
        kind=CurrencyKind.EURO_BACKED,
        convertible=True,
        issuance_bonus_bp=bonus_bp,
        reconversion_fees=ReconversionFees(default_bp=fee_bp),
    )
    balances = defaultdict(int)
    balances[("ECO", FUND)] = MAX_AMOUNT  # a fund rich enough for any bonus, already backed
    balances[("ECO", ISSUER)] = -MAX_AMOUNT
    balances[("EUR", RESERVE)] = MAX_AMOUNT
    balances[("EUR", EXTERNAL)] = -MAX_AMOUNT
    for is_issuance, amount in operations:
        if is_issuance:
            result = issue(
                rules=rules,
                euros=amount,
                account=SHOP,
                issuer=ISSUER,
                euro_external=EXTERNAL,
                euro_reserve=RESERVE,
                bonus_fund=FUND,
            )
            assert result.bonus <= amount
        else:
            amount = min(amount, balances[("ECO", SHOP)])
            if amount <= 0:
                continue
            try:
                result = reconvert(
                    rules=rules,
                    units=amount,
                    account=SHOP,
                    account_type=AccountType.MERCHANT,
                    issuer=ISSUER,
                    euro_reserve=RESERVE,
                    euro_external=EXTERNAL,
                    fee_fund=FUND,
                )
            except ReconversionTooSmall:
                continue
            assert 0 <= result.fee < amount
        assert result.circulation_change == result.reserve_change
        for posting in validate_transaction(result.postings):
            balances[(posting.currency, posting.account_id)] += posting.amount
        check_reserve(
            units_in_circulation=-balances[("ECO", ISSUER)],
            reserve_balance=balances[("EUR", RESERVE)],
        )
        assert balances[("ECO", SHOP)] >= 0


# --- stateful: one account's holds and bounds --------------------------------------------


class AccountWithHolds(RuleBasedStateMachine):
    """Random debits, credits and hold life cycles never cross bounds nor lose money."""

    LOWER = -500

    def __init__(self) -> None:
        super().__init__()
        self.posted = 1000
        self.payee_posted = 0
        self.now = NOW
        self.holds: list = []

    @property
    def held(self) -> int:
        return sum(h.held for h in self.holds)

    @rule(amount=st.integers(1, 2000))
    def debit(self, amount):
        try:
            check_bounds(
                posted=self.posted, held=self.held, delta=-amount, lower=self.LOWER, upper=None
            )
        except (InsufficientFunds, CreditLimitExceeded):
            return
        self.posted -= amount
        self.payee_posted += amount

    @rule(amount=st.integers(1, 2000))
    def credit(self, amount):
        self.posted += amount
        self.payee_posted -= amount

    @rule(amount=st.integers(1, 2000), hours=st.integers(1, 48))
    def authorize(self, amount, hours):
        try:
            check_bounds(
                posted=self.posted, held=self.held, delta=-amount, lower=self.LOWER, upper=None
            )
        except (InsufficientFunds, CreditLimitExceeded):
            return
        self.holds.append(
            authorize(
                payer=ACCOUNTS[0],
                payee=ACCOUNTS[1],
                currency="ECO",
                amount=amount,
                expires_at=self.now + timedelta(hours=hours),
                now=self.now,
            )
        )

    @precondition(lambda self: self.holds)
    @rule(index=st.integers(0, 100), amount=st.integers(1, 2000))
    def capture(self, index, amount):
        position = index % len(self.holds)
        try:
            captured = capture(self.holds[position], now=self.now, amount=amount)
        except (CaptureExceedsHold, HoldExpired, HoldNotAuthorized):
            return
        self.holds[position] = captured
        self.posted -= captured.captured
        self.payee_posted += captured.captured

    @precondition(lambda self: self.holds)
    @rule(index=st.integers(0, 100))
    def void(self, index):
        position = index % len(self.holds)
        try:
            self.holds[position] = void(self.holds[position], now=self.now)
        except (HoldExpired, HoldNotAuthorized):
            return

    @rule(hours=st.integers(1, 24))
    def time_passes_and_sweeper_runs(self, hours):
        self.now += timedelta(hours=hours)
        self.holds = [
            expire(h, now=self.now) if h.held and h.is_past_deadline(self.now) else h
            for h in self.holds
        ]

    @invariant()
    def money_is_conserved(self):
        assert self.posted + self.payee_posted == 1000

    @invariant()
    def available_never_below_lower_bound_through_debits(self):
        # Credits only raise the balance, so only debits and holds could break this.
        assert self.posted - self.held >= self.LOWER

    @invariant()
    def every_hold_is_fully_accounted_for(self):
        for hold in self.holds:
            assert hold.held + hold.captured + hold.released == hold.amount


AccountWithHolds.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None
)
test_account_with_holds = AccountWithHolds.TestCase
