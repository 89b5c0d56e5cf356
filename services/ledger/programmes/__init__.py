"""Voucher programmes: rules, credit grants, purchases, expiry sweeps, reimbursements in
euros, and the per-funder report."""
