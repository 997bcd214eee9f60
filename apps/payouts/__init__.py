"""Vendor money: commissions, the vendor ledger, holdback, payouts and statements."""
