"""What the facts add up to: budgets, the fiscal-year split, report figures, replays, history.

Pure functions of folded states and facts; nothing here reads a store.
"""
