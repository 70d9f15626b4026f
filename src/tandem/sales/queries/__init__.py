"""Reads of sales: lists, the board, forecasts, reports (one module per concern)."""
