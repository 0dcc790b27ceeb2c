"""The billing service: keeps the usage ledger and syncs it to Polar."""
